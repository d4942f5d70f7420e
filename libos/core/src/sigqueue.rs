//! Pending signals: which are waiting, with their `siginfo`, and which comes next.
//!
//! Linux keeps one set per thread (signals aimed at it) and one per process (aimed at
//! any thread). A standard signal (1–31) is pending at most once: sending it again
//! while pending changes nothing. A real-time signal (32–64) queues every instance,
//! up to `RLIMIT_SIGPENDING` for the process, after which the sender gets EAGAIN.
//! Delivery takes the synchronous fault signals first (SIGSEGV, SIGBUS, SIGILL,
//! SIGTRAP, SIGFPE), then the lowest-numbered unblocked signal, instances of one
//! real-time signal in the order sent.

use alloc::collections::VecDeque;

use crate::siginfo::SigInfo;
use crate::Errno;

/// The fault signals, which Linux delivers before any other.
const SYNCHRONOUS: u64 = bit(4) | bit(5) | bit(7) | bit(8) | bit(11);

const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// The lowest real-time signal.
pub const SIGRTMIN: u32 = 32;

/// One set of pending signals.
#[derive(Debug, Default, Clone)]
pub struct PendingSignals {
    mask: u64,
    queue: VecDeque<SigInfo>,
}

impl PendingSignals {
    /// Bit N-1 set if signal N is pending.
    pub fn mask(&self) -> u64 {
        self.mask
    }

    /// How many instances are queued (what counts against `RLIMIT_SIGPENDING`).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Makes `info` pending. Returns `Ok(false)` when a standard signal was already
    /// pending (nothing changes), EAGAIN when a real-time signal finds `limit`
    /// instances already queued.
    pub fn push(&mut self, info: SigInfo, limit: usize) -> Result<bool, Errno> {
        let sig = info.signo();
        if sig < SIGRTMIN {
            if self.mask & bit(sig) != 0 {
                return Ok(false);
            }
        } else if self.queue.len() >= limit {
            return Err(Errno::EAGAIN);
        }
        self.mask |= bit(sig);
        self.queue.push_back(info);
        Ok(true)
    }

    /// Makes a timer's signal pending whatever is already there: Linux queues a POSIX
    /// timer's preallocated `sigqueue` entry even for a standard signal that is pending
    /// already, and it does not count against `RLIMIT_SIGPENDING` (the timer did when it
    /// was created).
    pub fn push_preallocated(&mut self, info: SigInfo) {
        self.mask |= bit(info.signo());
        self.queue.push_back(info);
    }

    /// The signal to deliver next among those not in `blocked`, if any.
    pub fn next(&self, blocked: u64) -> Option<u32> {
        let ready = self.mask & !blocked;
        if ready == 0 {
            return None;
        }
        let pick = if ready & SYNCHRONOUS != 0 { ready & SYNCHRONOUS } else { ready };
        Some(pick.trailing_zeros() + 1)
    }

    /// Removes and returns the first queued instance of `sig`.
    pub fn take(&mut self, sig: u32) -> Option<SigInfo> {
        let idx = self.queue.iter().position(|i| i.signo() == sig)?;
        let info = self.queue.remove(idx)?;
        if !self.queue.iter().any(|i| i.signo() == sig) {
            self.mask &= !bit(sig);
        }
        Some(info)
    }

    /// Takes the next deliverable signal (see [`PendingSignals::next`]).
    pub fn take_next(&mut self, blocked: u64) -> Option<SigInfo> {
        let sig = self.next(blocked)?;
        self.take(sig)
    }

    /// Drops every pending instance of `sig` (its action became "ignore").
    pub fn discard(&mut self, sig: u32) {
        self.queue.retain(|i| i.signo() != sig);
        self.mask &= !bit(sig);
    }
}

#[cfg(test)]
#[path = "sigqueue_tests.rs"]
mod tests;
