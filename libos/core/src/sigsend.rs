//! Sending signals and taking them: where a new signal is kept (the process's pending
//! set or one thread's), which thread is told, and what a thread does with the next
//! signal it may take — run a guest handler, or carry out the default action here.
//!
//! This follows Linux's `send_signal`/`complete_signal` and `get_signal`:
//!
//! * A signal whose action ignores it (`SIG_IGN`, or `SIG_DFL` for SIGCHLD, SIGURG,
//!   SIGWINCH, SIGCONT) is dropped when sent unless the receiver blocks it.
//! * A signal for the process goes to the first thread that does not block it, the
//!   first thread preferred; a signal for a thread goes to that thread. The chosen
//!   thread is told ([`ThreadShared::set_hint`]) and the platform interrupts it: a
//!   blocking wait ends, guest code is stopped to take the signal.
//! * A signal whose default action ends the process, sent to a receiver that does not
//!   block it and has no handler, ends the process at once, from the sender (Linux's
//!   "group exit" in `complete_signal`).
//! * A thread takes its own signals before the process's, the fault signals first.

use alloc::sync::Arc;

use crate::abi::KernelSigaction;
use crate::kernel::Kernel;
use crate::siginfo::{default_action, DefaultAction, SigInfo};
use crate::signal::{SIG_DFL, SIG_IGN};
use crate::thread::{Thread, ThreadShared};
use crate::Errno;

/// `RLIMIT_SIGPENDING`: queued real-time signals allowed per process.
const RLIMIT_SIGPENDING: usize = 11;

static STOP_WARNED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Who a signal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalTarget {
    /// The process: any thread that does not block it (`kill`, timers, the terminal).
    Process,
    /// One thread, by tid (`tgkill`, `SIGEV_THREAD_ID` timers).
    Thread(u32),
}

const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// Whether `action` throws `sig` away (Linux's `sig_handler_ignored`).
pub fn ignores(action: &KernelSigaction, sig: u32) -> bool {
    match action.handler {
        SIG_IGN => true,
        SIG_DFL => matches!(default_action(sig), DefaultAction::Ignore | DefaultAction::Continue),
        _ => false,
    }
}

/// Whether `action` for `sig` ends the process (no handler, a killing default).
fn kills(action: &KernelSigaction, sig: u32) -> bool {
    action.handler == SIG_DFL && matches!(default_action(sig), DefaultAction::Terminate | DefaultAction::Core)
}

impl Kernel {
    fn action(&self, sig: u32) -> KernelSigaction {
        self.signals.lock().get(sig as i32).copied().unwrap_or_default()
    }

    pub(crate) fn sigpending_limit(&self) -> usize {
        self.limits.lock().get(RLIMIT_SIGPENDING).rlim_cur.min(usize::MAX as u64) as usize
    }

    /// Sends `info` to `target`. ESRCH for a thread that does not exist, EAGAIN when a
    /// real-time signal finds the queue full. May end the process (see the module docs).
    pub fn send_signal(&self, target: SignalTarget, info: SigInfo) -> Result<(), Errno> {
        self.post_signal(target, info, false).map(|_| ())
    }

    /// Sends a POSIX timer's signal (Linux's `send_sigqueue`): as [`Kernel::send_signal`],
    /// but the timer's entry is queued even when the same standard signal is pending
    /// already, and never fails for a full queue. `Ok(false)` when the signal was thrown
    /// away because it is ignored; ESRCH when the target thread is gone.
    pub fn send_timer_signal(&self, target: SignalTarget, info: SigInfo) -> Result<bool, Errno> {
        self.post_signal(target, info, true)
    }

    /// Makes `info` pending for `target`: `Ok(true)` if queued.
    fn post_signal(&self, target: SignalTarget, info: SigInfo, preallocated: bool) -> Result<bool, Errno> {
        let sig = info.signo();
        let receiver = match target {
            SignalTarget::Thread(tid) => Some(self.threads.get(tid).ok_or(Errno::ESRCH)?),
            SignalTarget::Process => None,
        };
        let action = self.action(sig);
        // Linux judges "blocked" for a process-wide signal by the thread it was aimed
        // at: the first thread for kill().
        let judged_by = receiver.clone().or_else(|| self.threads.get(self.identity.pid));
        let blocked_by_receiver = judged_by.as_ref().is_some_and(|t| t.blocked() & bit(sig) != 0);
        if ignores(&action, sig) && !blocked_by_receiver {
            return Ok(false);
        }
        let limit = self.sigpending_limit();
        let push = |pending: &mut crate::sigqueue::PendingSignals| {
            if preallocated {
                pending.push_preallocated(info);
                Ok(true)
            } else {
                pending.push(info, limit)
            }
        };
        let queued = match receiver {
            Some(thread) => {
                let queued = push(&mut thread.pending.lock())?;
                if thread.wants(sig) {
                    self.wake_for_signal(&thread, sig, &action);
                }
                queued
            }
            None => {
                let queued = push(&mut self.sigpending.lock())?;
                if let Some(thread) = self.choose_receiver(sig) {
                    self.wake_for_signal(&thread, sig, &action);
                }
                queued
            }
        };
        // Blocked signals wake nobody, but signalfd readers and pollers look for them.
        crate::signalfd::SIGNAL_SENT.notify();
        crate::poll::readiness_changed();
        Ok(queued)
    }

    /// The thread that should take a process-wide `sig`: the first thread if it wants it
    /// (does not block it, or waits for it), else the first that does; none if all
    /// block it.
    fn choose_receiver(&self, sig: u32) -> Option<Arc<ThreadShared>> {
        if let Some(leader) = self.threads.get(self.identity.pid) {
            if leader.wants(sig) {
                return Some(leader);
            }
        }
        self.threads.find(|t| t.wants(sig))
    }

    fn wake_for_signal(&self, thread: &ThreadShared, sig: u32, action: &KernelSigaction) {
        // Not while it waits for the signal in rt_sigtimedwait, which takes it instead.
        if kills(action, sig) && thread.blocked() & bit(sig) == 0 {
            self.platform.exit_by_signal(sig);
        }
        thread.set_hint();
        self.platform.interrupt_thread(thread);
    }

    /// The calling thread's mask went from `old` to its current value: signals it no
    /// longer blocks that are pending become its to take; process-wide signals it now
    /// blocks go to another thread that does not (Linux's `retarget_shared_pending`).
    pub fn mask_changed(&self, thread: &Thread, old: u64) {
        let new = thread.sigmask();
        let unblocked = old & !new;
        if unblocked != 0 {
            let own = thread.shared.pending.lock().mask();
            let shared = self.sigpending.lock().mask();
            if (own | shared) & unblocked != 0 {
                thread.shared.set_hint();
            }
        }
        let newly_blocked = new & !old;
        if newly_blocked != 0 {
            let shared = self.sigpending.lock().mask() & newly_blocked;
            let mut rest = shared;
            while rest != 0 {
                let sig = rest.trailing_zeros() + 1;
                rest &= rest - 1;
                if let Some(other) = self.choose_receiver(sig) {
                    other.set_hint();
                    self.platform.interrupt_thread(&other);
                }
            }
        }
    }

    /// Whether the calling thread has a signal it could take now (for waits that end
    /// early when one arrives).
    pub fn signal_deliverable(&self, thread: &Thread) -> bool {
        let ready = !thread.sigmask();
        thread.shared.pending.lock().mask() & ready != 0 || self.sigpending.lock().mask() & ready != 0
    }

    /// Takes the next signal the calling thread must run a guest handler for, carrying
    /// out on the way the default actions of the signals before it: ignored ones are
    /// dropped, killing ones end the process here, stops are reported and ignored (the
    /// guest has no job control). `None` when nothing is left to take.
    pub fn next_signal(&self, thread: &mut Thread) -> Option<(SigInfo, KernelSigaction)> {
        loop {
            // Cleared before looking: a signal sent after this sets it again.
            thread.shared.hint.store(0, core::sync::atomic::Ordering::SeqCst);
            let blocked = thread.sigmask();
            let own = thread.shared.pending.lock().take_next(blocked);
            let info = match own {
                Some(info) => info,
                None => self.sigpending.lock().take_next(blocked)?,
            };
            // A timer's signal from an arming since replaced is dropped here.
            let Some(info) = self.signal_taken(info) else { continue };
            let sig = info.signo();
            let action = self.action(sig);
            if action.handler == SIG_IGN {
                continue;
            }
            if action.handler != SIG_DFL {
                return Some((info, action));
            }
            match default_action(sig) {
                DefaultAction::Ignore | DefaultAction::Continue => continue,
                DefaultAction::Stop => {
                    if !STOP_WARNED.swap(true, core::sync::atomic::Ordering::Relaxed) {
                        self.platform
                            .log("unify: a stop signal's default action is ignored (the guest has no job control)");
                    }
                    continue;
                }
                DefaultAction::Terminate | DefaultAction::Core => self.platform.exit_by_signal(sig),
            }
        }
    }

    /// Takes a pending signal in `set` for `thread` (`rt_sigtimedwait`, a signalfd
    /// read): the thread's own first.
    pub fn take_signal_in(&self, thread: &ThreadShared, set: u64) -> Option<SigInfo> {
        let others = !set;
        loop {
            let own = thread.pending.lock().take_next(others);
            let info = match own {
                Some(info) => info,
                None => self.sigpending.lock().take_next(others)?,
            };
            if let Some(info) = self.signal_taken(info) {
                return Some(info);
            }
        }
    }

    /// The signals pending for the calling thread (its own and the process's), for
    /// `rt_sigpending`.
    pub fn pending_for(&self, thread: &Thread) -> u64 {
        self.pending_for_shared(&thread.shared)
    }

    /// [`Kernel::pending_for`] from the thread's shared record.
    pub fn pending_for_shared(&self, thread: &ThreadShared) -> u64 {
        thread.pending.lock().mask() | self.sigpending.lock().mask()
    }
}

#[cfg(test)]
#[path = "sigsend_tests.rs"]
mod tests;
