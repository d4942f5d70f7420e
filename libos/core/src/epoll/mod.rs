//! epoll instances (Linux's `fs/eventpoll.c`).
//!
//! An instance keeps its interest list — one [`Entry`] per (fd, open file description)
//! added — and reports events the way Linux does:
//!
//! - **libOS files** (pipes, eventfds, AF_UNIX sockets, other epoll instances) are
//!   observed through their [`Pollee`]: a notification whose events meet the entry's
//!   interest puts the entry on the instance's ready list (once) and wakes the
//!   waiters, as Linux's `ep_poll_callback`. `epoll_wait` takes the list, asks each
//!   file what is ready now (`ep_send_events`) and reports what meets the interest;
//!   a level-triggered entry goes back on the list (so it is asked again next time), an
//!   edge-triggered one only comes back with the file's next notification, an
//!   `EPOLLONESHOT` one is disabled until `EPOLL_CTL_MOD`.
//! - **platform files** (hosted: host sockets, the console) go into the instance's
//!   platform set ([`Platform::ioset_create`]; hosted: a host epoll instance) with the
//!   same flags, so the platform's own epoll does the edge and one-shot logic. Its wake
//!   word is the instance's queue: a libOS notification ends a wait in the platform set
//!   at once, so one blocking `epoll_wait` sleeps on both kinds together.
//! - files that announce nothing ([`Readiness::Unannounced`], e.g. a signalfd) are
//!   observed through [`crate::readiness::ANYTHING`]; files that never change
//!   ([`Readiness::Static`]) are asked when added and on every level-triggered round.
//!
//! An entry lives while its description does: closing the last fd of a file removes
//! it (Linux's `eventpoll_release`); an entry whose description is gone is dropped when
//! next met. An instance is itself pollable (readable while an entry is ready), so
//! instances nest, up to Linux's depth of 4 with loops refused (ELOOP).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::abi::{EpollEvent as RawEvent, Stat};
use crate::file::events::{POLLIN, POLLRDNORM};
use crate::file::{File, OpenFile};
use crate::platform::{IoEvent, IoHandle, IoSetId, IoSetOp, IoWait, Platform};
use crate::readiness::{Observer, ObserverId, Pollee, Readiness, ANYTHING};
use crate::sync::Mutex;
use crate::time::ClockId;
use crate::wait::WaitQueue;
use crate::{Errno, SysResult};

/// epoll event bits and `epoll_ctl` operations.
pub mod flags {
    pub const EPOLLIN: u32 = 0x001;
    pub const EPOLLPRI: u32 = 0x002;
    pub const EPOLLOUT: u32 = 0x004;
    pub const EPOLLERR: u32 = 0x008;
    pub const EPOLLHUP: u32 = 0x010;
    pub const EPOLLRDNORM: u32 = 0x040;
    pub const EPOLLRDBAND: u32 = 0x080;
    pub const EPOLLWRNORM: u32 = 0x100;
    pub const EPOLLWRBAND: u32 = 0x200;
    pub const EPOLLMSG: u32 = 0x400;
    pub const EPOLLRDHUP: u32 = 0x2000;
    pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
    pub const EPOLLWAKEUP: u32 = 1 << 29;
    pub const EPOLLONESHOT: u32 = 1 << 30;
    pub const EPOLLET: u32 = 1 << 31;
    /// The bits that are not events (Linux's `EP_PRIVATE_BITS`).
    pub const PRIVATE: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
    /// What may accompany `EPOLLEXCLUSIVE` (Linux's `EPOLLEXCLUSIVE_OK_BITS`).
    pub const EXCLUSIVE_OK: u32 = EPOLLIN
        | EPOLLOUT
        | EPOLLRDNORM
        | EPOLLRDBAND
        | EPOLLWRNORM
        | EPOLLWRBAND
        | EPOLLERR
        | EPOLLHUP
        | EPOLLWAKEUP
        | EPOLLET
        | EPOLLEXCLUSIVE;

    pub const EPOLL_CTL_ADD: i32 = 1;
    pub const EPOLL_CTL_DEL: i32 = 2;
    pub const EPOLL_CTL_MOD: i32 = 3;
    /// `EPOLL_CLOEXEC`, the only flag of `epoll_create1`.
    pub const EPOLL_CLOEXEC: u32 = 0o2000000;
}

use flags::*;

/// Linux's `EP_MAX_NESTS`: how deep instances may watch instances.
const MAX_NESTS: usize = 4;
/// Host events asked for per platform wait (more come in the next call).
const PLATFORM_BATCH: usize = 64;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Held while an instance is added to an instance (see [`Epoll::ctl`]).
static NESTING: Mutex<()> = Mutex::new(());
static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// An `epoll_ctl` request with an event (ADD or MOD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

/// An epoll instance: the file an epoll fd refers to.
pub struct Epoll {
    inner: Arc<Inner>,
    ino: u64,
}

struct Inner {
    platform: &'static dyn Platform,
    /// The interest list by (fd, description).
    interest: Mutex<BTreeMap<(i32, usize), Arc<Entry>>>,
    /// Entries in the platform set, by the key they were added with.
    by_key: Mutex<BTreeMap<u64, Arc<Entry>>>,
    /// Entries that may be ready.
    ready: Mutex<VecDeque<Arc<Entry>>>,
    /// `epoll_wait` callers sleep here (and the platform set wakes on its word).
    queue: WaitQueue,
    /// Pollers of the instance itself (nested instances, `poll`).
    pollee: Pollee,
    /// The instances that watch this one (for the nesting depth).
    watchers: Mutex<Vec<Weak<Inner>>>,
    /// The platform half, where the platform has one.
    ioset: Option<IoSetId>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(set) = self.ioset {
            self.platform.ioset_destroy(set);
        }
    }
}

struct Entry {
    id: u64,
    file: Weak<OpenFile>,
    /// The interest, with the private bits.
    events: AtomicU32,
    data: AtomicU64,
    /// On the ready list.
    queued: AtomicBool,
    /// Taken out of the interest list.
    removed: AtomicBool,
    /// In the platform set under this handle.
    handle: Option<IoHandle>,
    /// The file is only a platform object: the platform's events are its events.
    platform_only: bool,
    /// Its registration on a pollee (the file's or [`ANYTHING`]).
    observer: Mutex<Option<(ObserverId, bool)>>,
    epoll: Weak<Inner>,
    me: Weak<Entry>,
}

impl Entry {
    fn enabled(&self) -> bool {
        self.events.load(Ordering::SeqCst) & !PRIVATE != 0
    }

    /// Puts the entry on its instance's ready list (once) and wakes the waiters.
    fn queue(&self) {
        let (Some(ep), Some(me)) = (self.epoll.upgrade(), self.me.upgrade()) else { return };
        if !self.queued.swap(true, Ordering::SeqCst) {
            ep.ready.lock().push_back(me);
        }
        ep.queue.notify();
        ep.pollee.notify(POLLIN | POLLRDNORM);
    }

    /// The events the platform set watches the entry's handle for: the interest for a
    /// platform file; for an instance with a platform half, edge-triggered (its handle
    /// only says "look again": its own pollee reports the rest, and a level-triggered
    /// handle would stay ready until that instance's own waiter resets it).
    fn platform_events(&self, events: u32) -> u32 {
        if self.platform_only {
            events
        } else {
            events | EPOLLET
        }
    }

    /// What is ready now, of the interest (0 for a description that is gone).
    fn ready_now(&self) -> u32 {
        let Some(open) = self.file.upgrade() else { return 0 };
        let interest = self.events.load(Ordering::SeqCst);
        u32::from(open.file.poll(interest as u16)) & interest
    }

    fn unregister(&self) {
        let Some((id, anything)) = self.observer.lock().take() else { return };
        if anything {
            ANYTHING.unregister(id);
        } else if let Some(open) = self.file.upgrade() {
            if let Some(p) = crate::readiness::pollee_of(open.file.readiness()) {
                p.unregister(id);
            }
        }
    }
}

impl Observer for Entry {
    fn on_events(&self, events: u16) {
        if self.removed.load(Ordering::SeqCst) || !self.enabled() {
            return;
        }
        if u32::from(events) & self.events.load(Ordering::SeqCst) == 0 {
            return;
        }
        self.queue();
    }
}

impl Epoll {
    /// A new instance; its platform half is made if the platform has one.
    pub fn new(platform: &'static dyn Platform) -> Result<Arc<Epoll>, Errno> {
        let mut inner = Arc::new(Inner {
            platform,
            interest: Mutex::new(BTreeMap::new()),
            by_key: Mutex::new(BTreeMap::new()),
            ready: Mutex::new(VecDeque::new()),
            queue: WaitQueue::new(),
            pollee: Pollee::new(),
            watchers: Mutex::new(Vec::new()),
            ioset: None,
        });
        let set = match platform.ioset_create(inner.queue.word()) {
            Ok(set) => Some(set),
            Err(Errno::ENOSYS) => None,
            Err(e) => return Err(e),
        };
        // The word the platform set wakes on lives in `inner`, which does not move.
        if let Some(i) = Arc::get_mut(&mut inner) {
            i.ioset = set;
        }
        Ok(Arc::new(Epoll { inner, ino: NEXT_INO.fetch_add(1, Ordering::Relaxed) }))
    }

    fn same(&self, other: &Epoll) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The epoll instance behind a description, if it is one.
    pub fn of(open: &OpenFile) -> Option<&Epoll> {
        (*open.file).as_any().downcast_ref::<Epoll>()
    }

    /// How many levels of instances lie below `target` (0: it watches none), or `None`
    /// when this instance is among them (a loop). Linux's `ep_loop_check_proc`.
    fn height(&self, target: &Epoll, depth: usize) -> Option<usize> {
        if self.same(target) {
            return None;
        }
        if depth > MAX_NESTS {
            return Some(MAX_NESTS + 1);
        }
        let nested: Vec<Arc<OpenFile>> =
            target.inner.interest.lock().values().filter_map(|e| e.file.upgrade()).collect();
        let mut h = 0;
        for f in &nested {
            if let Some(t) = Epoll::of(f) {
                h = h.max(self.height(t, depth + 1)? + 1);
            }
        }
        Some(h)
    }

    /// How many levels of instances watch `inner` (0: none).
    fn upward(inner: &Inner, depth: usize) -> usize {
        if depth > MAX_NESTS {
            return depth;
        }
        let watchers: Vec<Arc<Inner>> = inner.watchers.lock().iter().filter_map(Weak::upgrade).collect();
        watchers.iter().map(|w| Epoll::upward(w, depth + 1) + 1).max().unwrap_or(0)
    }

    /// Whether the interest list holds a live entry for `key`.
    fn has(&self, key: &(i32, usize)) -> bool {
        self.inner.interest.lock().get(key).is_some_and(|e| e.file.strong_count() > 0)
    }

    /// Whether adding `target` (an instance) would close a loop or nest deeper than
    /// Linux's `EP_MAX_NESTS` counting the levels below it and above this instance
    /// (Linux's `ep_loop_check`).
    fn would_loop(&self, target: &Epoll) -> bool {
        match self.height(target, 0) {
            None => true,
            Some(h) => h + 1 + Epoll::upward(&self.inner, 0) > MAX_NESTS,
        }
    }

    /// `EPOLL_CTL_ADD`, `EPOLL_CTL_MOD`, `EPOLL_CTL_DEL` for `fd`, which refers to
    /// `open` (the caller checked the fds, EPERM and the EPOLLEXCLUSIVE rules).
    pub fn ctl(&self, op: i32, fd: i32, open: &Arc<OpenFile>, event: Option<EpollEvent>) -> Result<(), Errno> {
        let key = (fd, Arc::as_ptr(open) as *const () as usize);
        let target = Epoll::of(open);
        // Adding an instance to an instance is serialised (Linux's epnested_mutex), and
        // its check walks other interest lists before this one is locked: two
        // instances added to each other at once can neither deadlock nor both succeed.
        let _nesting = (op == EPOLL_CTL_ADD && target.is_some()).then(|| NESTING.lock());
        if op == EPOLL_CTL_ADD && target.is_some_and(|t| self.would_loop(t)) && !self.has(&key) {
            return Err(Errno::ELOOP);
        }
        let mut interest = self.inner.interest.lock();
        if interest.get(&key).is_some_and(|e| e.file.strong_count() == 0) {
            if let Some(e) = interest.remove(&key) {
                self.forget(&e);
            }
        }
        match op {
            EPOLL_CTL_ADD => {
                if interest.contains_key(&key) {
                    return Err(Errno::EEXIST);
                }
                let ev = event.ok_or(Errno::EFAULT)?;
                let entry = self.insert(open, ev)?;
                if let Some(t) = target {
                    t.inner.watchers.lock().push(Arc::downgrade(&self.inner));
                }
                interest.insert(key, entry.clone());
                drop(interest);
                // The platform set reports platform files itself.
                if !entry.platform_only && entry.ready_now() != 0 {
                    entry.queue();
                }
                Ok(())
            }
            EPOLL_CTL_MOD => {
                let entry = interest.get(&key).cloned().ok_or(Errno::ENOENT)?;
                drop(interest);
                if entry.events.load(Ordering::SeqCst) & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                let ev = event.ok_or(Errno::EFAULT)?;
                let events = ev.events | EPOLLERR | EPOLLHUP;
                if let (Some(set), Some(h)) = (self.inner.ioset, entry.handle) {
                    self.inner.platform.ioset_ctl(set, IoSetOp::Modify, h, entry.platform_events(events), entry.id)?;
                }
                entry.data.store(ev.data, Ordering::SeqCst);
                entry.events.store(events, Ordering::SeqCst);
                if !entry.platform_only && entry.ready_now() != 0 {
                    entry.queue();
                }
                Ok(())
            }
            EPOLL_CTL_DEL => {
                let entry = interest.remove(&key).ok_or(Errno::ENOENT)?;
                drop(interest);
                self.forget(&entry);
                if let Some(t) = Epoll::of(open) {
                    t.inner.watchers.lock().retain(|w| !core::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.inner)));
                }
                Ok(())
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// Makes the entry for `open` and registers it where its changes are announced.
    fn insert(&self, open: &Arc<OpenFile>, ev: EpollEvent) -> Result<Arc<Entry>, Errno> {
        let events = ev.events | EPOLLERR | EPOLLHUP;
        let readiness = open.file.readiness();
        let handle = match readiness {
            Readiness::Platform(h) | Readiness::Both(_, h) => Some(h),
            _ => None,
        };
        let entry = Arc::new_cyclic(|me| Entry {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            file: Arc::downgrade(open),
            events: AtomicU32::new(events),
            data: AtomicU64::new(ev.data),
            queued: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            handle,
            platform_only: matches!(readiness, Readiness::Platform(_)),
            observer: Mutex::new(None),
            epoll: Arc::downgrade(&self.inner),
            me: me.clone(),
        });
        if let Some(h) = handle {
            let set = self.inner.ioset.ok_or(Errno::EPERM)?;
            self.inner.platform.ioset_ctl(set, IoSetOp::Add, h, entry.platform_events(events), entry.id)?;
            self.inner.by_key.lock().insert(entry.id, entry.clone());
        }
        let observer: Weak<dyn Observer> = Arc::downgrade(&(entry.clone() as Arc<dyn Observer>));
        let registration = match readiness {
            Readiness::Pollee(p) | Readiness::Both(p, _) => Some((p.register(observer, 0), false)),
            Readiness::Unannounced => Some((ANYTHING.register(observer, 0), true)),
            _ => None,
        };
        *entry.observer.lock() = registration;
        Ok(entry)
    }

    /// Takes `entry` out everywhere (it is already out of the interest list).
    fn forget(&self, entry: &Arc<Entry>) {
        entry.removed.store(true, Ordering::SeqCst);
        entry.unregister();
        if let (Some(set), Some(h)) = (self.inner.ioset, entry.handle) {
            if entry.file.strong_count() > 0 {
                let _ = self.inner.platform.ioset_ctl(set, IoSetOp::Remove, h, 0, entry.id);
            }
            self.inner.by_key.lock().remove(&entry.id);
        }
    }

    /// Drops an entry whose description is gone.
    fn drop_dead(&self, entry: &Arc<Entry>) {
        let mut interest = self.inner.interest.lock();
        interest.retain(|_, e| !Arc::ptr_eq(e, entry));
        drop(interest);
        self.forget(entry);
    }

    /// `epoll_wait`: up to `max` events into `out` (in the guest's layout), waiting up to `timeout_ns` (`None`:
    /// no limit) while there are none. ERESTARTNOHAND when a signal ends the wait.
    pub fn wait(&self, out: &mut Vec<RawEvent>, max: usize, timeout_ns: Option<u64>) -> SysResult {
        let platform = self.inner.platform;
        let now = || platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0);
        let deadline = timeout_ns.map(|t| now().saturating_add(t));
        let _waiting = self.inner.queue.enter();
        loop {
            platform.settle_io();
            let seq = self.inner.queue.seq();
            self.take_local(out, max);
            let local = out.len();
            let remaining = match deadline {
                Some(d) => d.saturating_sub(now()),
                None => u64::MAX,
            };
            if let Some(set) = self.inner.ioset {
                let block = out.is_empty() && remaining > 0;
                if block && platform.interrupted() {
                    return Err(Errno::ERESTARTNOHAND);
                }
                let timeout = if !block {
                    Some(0)
                } else if deadline.is_some() {
                    Some(remaining)
                } else {
                    None
                };
                match self.take_platform(set, out, local, max, timeout) {
                    Err(Errno::EINTR) if out.is_empty() => return Err(Errno::ERESTARTNOHAND),
                    Err(Errno::EINTR) => {}
                    Err(e) => return Err(e),
                    Ok(()) => {}
                }
                if !out.is_empty() || !block {
                    return Ok(out.len());
                }
                continue;
            }
            if !out.is_empty() || remaining == 0 {
                return Ok(out.len());
            }
            if platform.interrupted() {
                return Err(Errno::ERESTARTNOHAND);
            }
            let timeout = deadline.map(|_| remaining);
            if platform.wait_io(self.inner.queue.word(), seq, &mut [], timeout) == Err(Errno::EINTR) {
                return Err(Errno::ERESTARTNOHAND);
            }
        }
    }

    /// Reports ready libOS entries from the ready list (Linux's `ep_send_events`).
    fn take_local(&self, out: &mut Vec<RawEvent>, max: usize) {
        let mut batch = core::mem::take(&mut *self.inner.ready.lock());
        let mut again = Vec::new();
        while out.len() < max {
            let Some(entry) = batch.pop_front() else { break };
            entry.queued.store(false, Ordering::SeqCst);
            if entry.removed.load(Ordering::SeqCst) {
                continue;
            }
            if entry.file.strong_count() == 0 {
                self.drop_dead(&entry);
                continue;
            }
            let interest = entry.events.load(Ordering::SeqCst);
            if interest & !PRIVATE == 0 {
                continue;
            }
            let revents = entry.ready_now();
            if revents == 0 {
                continue;
            }
            out.push(RawEvent { events: revents, data: entry.data.load(Ordering::SeqCst) });
            if interest & EPOLLONESHOT != 0 {
                entry.events.fetch_and(PRIVATE, Ordering::SeqCst);
            } else if interest & EPOLLET == 0 {
                again.push(entry);
            }
        }
        if batch.is_empty() && again.is_empty() {
            return;
        }
        let mut ready = self.inner.ready.lock();
        // What was not looked at goes back in front, in order; level-triggered
        // entries that were reported go to the back.
        while let Some(e) = batch.pop_back() {
            ready.push_front(e);
        }
        for e in again {
            if !e.queued.swap(true, Ordering::SeqCst) {
                ready.push_back(e);
            }
        }
    }

    /// Reports ready platform entries, waiting up to `timeout`. The first `local`
    /// events of `out` came from the ready list: an instance with a platform half
    /// reported there is not reported again.
    fn take_platform(
        &self,
        set: IoSetId,
        out: &mut Vec<RawEvent>,
        local: usize,
        max: usize,
        timeout: Option<u64>,
    ) -> Result<(), Errno> {
        let room = max.saturating_sub(out.len()).min(PLATFORM_BATCH);
        if room == 0 {
            return Ok(());
        }
        let mut buf = [IoEvent::default(); PLATFORM_BATCH];
        let n = self.inner.platform.ioset_wait(set, &mut buf[..room], timeout)?;
        // Platform files report what the platform saw; the rest (an instance with a
        // platform half, a description that is gone) are looked at after the lock.
        let mut later: Vec<(Arc<Entry>, u32)> = Vec::new();
        let by_key = self.inner.by_key.lock();
        for ev in &buf[..n] {
            let Some(entry) = by_key.get(&ev.key) else { continue };
            if entry.removed.load(Ordering::SeqCst) {
                continue;
            }
            if entry.platform_only && entry.file.strong_count() > 0 {
                let revents = ev.events & entry.events.load(Ordering::SeqCst);
                if revents != 0 {
                    out.push(RawEvent { events: revents, data: entry.data.load(Ordering::SeqCst) });
                }
            } else {
                later.push((entry.clone(), ev.events));
            }
        }
        drop(by_key);
        for (entry, _) in later {
            if entry.file.strong_count() == 0 {
                self.drop_dead(&entry);
                continue;
            }
            let data = entry.data.load(Ordering::SeqCst);
            if out[..local].iter().any(|e| ({ e.data }) == data) {
                continue;
            }
            let revents = entry.ready_now();
            if revents != 0 {
                out.push(RawEvent { events: revents, data });
            }
        }
        Ok(())
    }

    /// Whether some entry is ready now, leaving the ready list as Linux's
    /// `ep_eventpoll_poll` does (entries found not ready are dropped from it).
    fn any_ready(&self) -> bool {
        let batch = core::mem::take(&mut *self.inner.ready.lock());
        let mut keep = VecDeque::new();
        let mut found = false;
        for entry in batch {
            if !entry.removed.load(Ordering::SeqCst) && entry.ready_now() != 0 {
                found = true;
                keep.push_back(entry);
            } else {
                entry.queued.store(false, Ordering::SeqCst);
            }
        }
        if !keep.is_empty() {
            let mut ready = self.inner.ready.lock();
            while let Some(e) = keep.pop_back() {
                ready.push_front(e);
            }
        }
        if found {
            return true;
        }
        let Some(handle) = self.inner.ioset.and_then(|s| self.inner.platform.ioset_handle(s)) else { return false };
        let mut io = [IoWait { handle, events: POLLIN, revents: 0 }];
        let word = self.inner.queue.word();
        let _ = self.inner.platform.wait_io(word, word.load(Ordering::SeqCst), &mut io, Some(0));
        io[0].revents & POLLIN != 0
    }
}

impl File for Epoll {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_ino: self.ino, st_nlink: 1, st_mode: 0o600, st_blksize: 4096, ..Stat::default() })
    }

    fn poll(&self, events: u16) -> u16 {
        if events & (POLLIN | POLLRDNORM) == 0 {
            return 0;
        }
        if self.any_ready() {
            events & (POLLIN | POLLRDNORM)
        } else {
            0
        }
    }

    fn readiness(&self) -> Readiness<'_> {
        match self.inner.ioset.and_then(|s| self.inner.platform.ioset_handle(s)) {
            Some(h) => Readiness::Both(&self.inner.pollee, h),
            None => Readiness::Pollee(&self.inner.pollee),
        }
    }

    fn anon_name(&self) -> Option<Vec<u8>> {
        Some(b"anon_inode:[eventpoll]".to_vec())
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
