//! Wait queues: how a libOS operation that must block — a read from an empty pipe, a
//! lock another description holds, a FIFO open waiting for its partner — sleeps until
//! another thread changes what it waits for.
//!
//! A [`WaitQueue`] is a sequence number. A waiter reads the number, tries its operation,
//! and only if that must wait sleeps on the number through the platform
//! ([`Platform::wait_on`]: a futex on the hosted platform). Whoever changes the state
//! bumps the number and wakes the sleepers ([`WaitQueue::notify`]). A change between the
//! attempt and the sleep has moved the number, so the sleep returns at once: no wake-up
//! is lost. Sleeps are also bounded (a back-off from 50 µs to 10 ms, as `poll` does), so
//! on a platform without cross-thread wake-ups (the default `wait_on`) a waiter still
//! notices the change, a little later.
//!
//! The queues reach the platform through [`install`] (done by [`crate::Kernel::install`]):
//! file objects are called without a kernel at hand. Before that — in unit tests — a
//! waiter spins.
//!
//! With a single guest thread, a wait that only the guest itself could end (a read from
//! an empty pipe whose write end it holds) never ends, exactly as on Linux.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::platform::Platform;
use crate::Errno;

const MIN_BACKOFF_NS: u64 = 50_000;
const MAX_BACKOFF_NS: u64 = 10_000_000;

static PLATFORM: spin::Once<&'static dyn Platform> = spin::Once::new();

/// Lets wait queues sleep and wake through `platform` (once per process).
pub fn install(platform: &'static dyn Platform) {
    PLATFORM.call_once(|| platform);
}

/// Something threads wait on. See the module docs.
#[derive(Debug, Default)]
pub struct WaitQueue {
    seq: AtomicU32,
    /// Threads between their first attempt and their wake-up: `notify` makes no
    /// platform call when there are none (the common case of a pipe nobody waits on).
    waiters: AtomicU32,
}

impl WaitQueue {
    pub const fn new() -> WaitQueue {
        WaitQueue { seq: AtomicU32::new(0), waiters: AtomicU32::new(0) }
    }

    /// Tells the waiters that the state they wait on changed (call after the change,
    /// with the state's lock released).
    pub fn notify(&self) {
        self.seq.fetch_add(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            if let Some(p) = PLATFORM.get() {
                p.wake_all(&self.seq);
            }
        }
    }

    /// Counts the caller as a waiter until the guard drops: from now on every
    /// [`WaitQueue::notify`] reaches the platform, for waits that sleep through
    /// [`Platform::wait_io`] or [`Platform::ioset_wait`] rather than
    /// [`WaitQueue::sleep_since`].
    pub fn enter(&self) -> Waiting<'_> {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        Waiting(&self.waiters)
    }

    /// The word the queue's number lives in (what the platform sleeps on).
    pub fn word(&self) -> &AtomicU32 {
        &self.seq
    }

    /// The current sequence number, for [`WaitQueue::sleep_since`].
    pub fn seq(&self) -> u32 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Sleeps on `platform` for at most `timeout_ns`, returning early once the queue is
    /// notified after [`WaitQueue::seq`] returned `seq` (at once if that already
    /// happened). For waits with a deadline, such as `poll`'s.
    pub fn sleep_since(&self, platform: &dyn Platform, seq: u32, timeout_ns: u64) {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let _leave = Leave(&self.waiters);
        platform.wait_on(&self.seq, seq, Some(timeout_ns));
    }

    /// Runs `attempt` until it returns `Some`, sleeping between tries until a
    /// [`WaitQueue::notify`] (or a bounded back-off) says the state may have changed.
    /// A signal for the calling thread ends the wait with ERESTARTSYS (restarted or
    /// EINTR, as the signal's action says) — checked before each sleep, so a signal
    /// that is already there ends it at once, as on Linux.
    pub fn wait_until<T>(&self, attempt: impl FnMut() -> Option<T>) -> Result<T, Errno> {
        self.wait_until_for(None, attempt)
    }

    /// [`WaitQueue::wait_until`] for at most `timeout_ns` (`None`: no limit):
    /// ETIMEDOUT once it has passed (a socket's `SO_RCVTIMEO`, for one).
    pub fn wait_until_for<T>(
        &self,
        timeout_ns: Option<u64>,
        mut attempt: impl FnMut() -> Option<T>,
    ) -> Result<T, Errno> {
        let seq = self.seq.load(Ordering::SeqCst);
        if let Some(v) = attempt() {
            return Ok(v);
        }
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let _leave = Leave(&self.waiters);
        let now = || PLATFORM.get().map_or(0, |p| p.now(crate::time::ClockId::Monotonic).to_nanos().unwrap_or(0));
        let deadline = timeout_ns.map(|t| now().saturating_add(t));
        let mut seq = seq;
        let mut backoff = MIN_BACKOFF_NS;
        loop {
            let slice = match deadline {
                Some(d) => match d.checked_sub(now()) {
                    Some(left) if left > 0 => backoff.min(left),
                    _ => return Err(Errno::ETIMEDOUT),
                },
                None => backoff,
            };
            match PLATFORM.get() {
                Some(p) if p.interrupted() => return Err(Errno::ERESTARTSYS),
                Some(p) => p.wait_on(&self.seq, seq, Some(slice)),
                None => core::hint::spin_loop(),
            }
            backoff = (backoff * 2).min(MAX_BACKOFF_NS);
            seq = self.seq.load(Ordering::SeqCst);
            if let Some(v) = attempt() {
                return Ok(v);
            }
        }
    }
}

/// A waiter counted in by [`WaitQueue::enter`].
pub struct Waiting<'a>(&'a AtomicU32);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a waiter out however its wait ends.
struct Leave<'a>(&'a AtomicU32);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
