//! Readiness: how a file tells waiters that the answer of its `poll` may have changed,
//! and how one wait covers files of every kind.
//!
//! A file answers "which events are ready now" ([`crate::file::File::poll`]); this
//! module is about *when to ask again*. Each file says how it announces changes
//! ([`crate::file::File::readiness`]):
//!
//! - [`Readiness::Pollee`]: a libOS object (pipe, eventfd, AF_UNIX socket, epoll) that
//!   calls [`Pollee::notify`] with the events a change concerns, as Linux's wake-ups of a
//!   file's wait queue carry a key. Observers registered on the pollee ([`Observer`])
//!   hear it: an epoll entry queues itself on its instance's ready list, a `poll` call
//!   wakes up.
//! - [`Readiness::Platform`]: an object of the platform (hosted: a host socket or the
//!   console, a host fd) whose readiness the platform watches; waits hand its
//!   [`IoHandle`] to [`crate::Platform::wait_io`] or put it in an epoll instance's
//!   platform set ([`crate::Platform::ioset_create`]).
//! - [`Readiness::Both`]: an epoll instance that holds platform handles.
//! - [`Readiness::Static`]: the answer never changes (regular files, /proc).
//! - [`Readiness::Unannounced`]: the file changes without notice; waits re-check it with
//!   a bounded back-off. Files that call [`readiness_changed`] (which notifies
//!   [`ANYTHING`]) are heard at once by waits that include such a file.
//!
//! So a wait never spins: it sleeps on one word ([`crate::wait::WaitQueue`]) that
//! pollee notifications move, plus the platform handles, plus the thread's signals.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::platform::IoHandle;
use crate::sync::Mutex;
use crate::wait::WaitQueue;

/// Someone who wants to hear about a pollee's changes.
pub trait Observer: Send + Sync {
    /// `events` (poll bits) may have changed on the observed file. Called with the
    /// pollee's observer list locked: take only locks that are never held while
    /// registering on a pollee.
    fn on_events(&self, events: u16);
}

/// How waiters learn that a file's readiness may have changed.
#[derive(Clone, Copy)]
pub enum Readiness<'a> {
    /// Notified through this pollee.
    Pollee(&'a Pollee),
    /// Watched by the platform.
    Platform(IoHandle),
    /// Both: an epoll instance whose platform set holds platform handles.
    Both(&'a Pollee, IoHandle),
    /// Never changes while nobody acts on the file.
    Static,
    /// Changes without notice (re-checked with a back-off).
    Unannounced,
}

/// The identity of one registration, for [`Pollee::unregister`].
pub type ObserverId = u64;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One registration: its id, the events it wants (0: all) and the observer.
type Slot = (ObserverId, u16, Weak<dyn Observer>);

/// A file's list of observers.
#[derive(Default)]
pub struct Pollee {
    observers: Mutex<Vec<Slot>>,
}

impl core::fmt::Debug for Pollee {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pollee").finish_non_exhaustive()
    }
}

impl Pollee {
    pub const fn new() -> Pollee {
        Pollee { observers: Mutex::new(Vec::new()) }
    }

    /// Tells the observers interested in any of `events` (an observer registered with
    /// mask 0 hears everything). Call after the change, with the file's own locks
    /// released.
    pub fn notify(&self, events: u16) {
        let list = self.observers.lock();
        for (_, mask, obs) in list.iter() {
            if *mask == 0 || mask & events != 0 {
                if let Some(o) = obs.upgrade() {
                    o.on_events(events);
                }
            }
        }
    }

    /// Adds `observer` for the events in `mask` (0: all); it stays until
    /// [`Pollee::unregister`] or until it is dropped.
    pub fn register(&self, observer: Weak<dyn Observer>, mask: u16) -> ObserverId {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let mut list = self.observers.lock();
        list.retain(|(_, _, o)| o.strong_count() > 0);
        list.push((id, mask, observer));
        id
    }

    /// Removes a registration (nothing if it is gone already).
    pub fn unregister(&self, id: ObserverId) {
        self.observers.lock().retain(|(i, _, _)| *i != id);
    }

    /// Whether anyone observes this pollee (tests).
    pub fn observed(&self) -> bool {
        self.observers.lock().iter().any(|(_, _, o)| o.strong_count() > 0)
    }
}

/// Notified by [`readiness_changed`]: the pollee of every file that changes without a
/// pollee of its own.
pub static ANYTHING: Pollee = Pollee::new();

/// Tells waits that include files which announce no changes of their own
/// ([`Readiness::Unannounced`]) to look again.
pub fn readiness_changed() {
    ANYTHING.notify(u16::MAX);
}

/// A one-shot waiter: an observer that moves its queue's number, so a wait on that
/// queue ends when any pollee it is registered with changes.
pub struct Waker {
    pub queue: WaitQueue,
}

impl Waker {
    pub fn new() -> Arc<Waker> {
        Arc::new(Waker { queue: WaitQueue::new() })
    }
}

impl Observer for Waker {
    fn on_events(&self, _events: u16) {
        self.queue.notify();
    }
}

/// Where a registration was made: a file's pollee, or a pollee of its own.
enum Registered {
    File(Arc<crate::file::OpenFile>),
    Static(&'static Pollee),
}

impl Registered {
    fn pollee(&self) -> Option<&Pollee> {
        match self {
            Registered::File(f) => pollee_of(f.file.readiness()),
            Registered::Static(p) => Some(p),
        }
    }
}

/// The pollee a [`Readiness`] names, if any.
pub fn pollee_of(r: Readiness<'_>) -> Option<&Pollee> {
    match r {
        Readiness::Pollee(p) | Readiness::Both(p, _) => Some(p),
        _ => None,
    }
}

/// The registrations of one wait, undone when it ends.
#[derive(Default)]
pub struct Registrations {
    list: Vec<(Registered, ObserverId)>,
}

impl Registrations {
    pub fn new() -> Registrations {
        Registrations { list: Vec::new() }
    }

    /// Registers `observer` on the pollee of `file`, if it has one (once per file).
    pub fn add_file(&mut self, file: &Arc<crate::file::OpenFile>, observer: Weak<dyn Observer>) {
        if self.list.iter().any(|(r, _)| matches!(r, Registered::File(f) if Arc::ptr_eq(f, file))) {
            return;
        }
        if let Some(p) = pollee_of(file.file.readiness()) {
            let id = p.register(observer, 0);
            self.list.push((Registered::File(file.clone()), id));
        }
    }

    /// Registers `observer` on a static pollee such as [`ANYTHING`] (once).
    pub fn add_static(&mut self, pollee: &'static Pollee, observer: Weak<dyn Observer>) {
        if self.list.iter().any(|(r, _)| matches!(r, Registered::Static(p) if core::ptr::eq(*p, pollee))) {
            return;
        }
        let id = pollee.register(observer, 0);
        self.list.push((Registered::Static(pollee), id));
    }
}

impl Drop for Registrations {
    fn drop(&mut self) {
        for (r, id) in self.list.drain(..) {
            if let Some(p) = r.pollee() {
                p.unregister(id);
            }
        }
    }
}

#[cfg(test)]
#[path = "readiness_tests.rs"]
mod tests;
