//! Guest threads: the libOS's record of each one ([`Thread`], owned by the thread
//! itself) and the process's set of them ([`ThreadGroup`]: tids, who is alive, how the
//! process ends when the last one exits).
//!
//! **Tids are the libOS's.** The first thread's tid is the process id, as on Linux; the
//! others are handed out here, counting up from the pid and wrapping below Linux's
//! default `pid_max`, skipping live tids, the pid and the parent's pid. They do not
//! depend on the platform: a VM has no host tids, and on the hosted platform the tid is
//! known before the host thread exists, so `CLONE_PARENT_SETTID` is written before
//! either thread runs on without waiting for the new one. The platform's own handle for
//! a thread (the host tid when hosted) is kept next to it, for calls aimed at another
//! thread (`sched_setaffinity(tid, ...)`).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::abi::StackT;
use crate::clone::ThreadSpec;
use crate::file::events::{POLLHUP, POLLIN, POLLRDNORM};
use crate::readiness::Pollee;
use crate::signal::SS_DISABLE;
use crate::sigqueue::PendingSignals;
use crate::sync::Mutex;
use crate::Errno;

/// The part of a thread other threads may look at.
#[derive(Debug)]
pub struct ThreadShared {
    pub tid: u32,
    /// The platform's handle for the thread; 0 until the platform has set it.
    platform_id: AtomicU64,
    /// The `set_robust_list` head (for `get_robust_list` from another thread).
    robust_head: AtomicU64,
    /// Signals sent to this thread (`tgkill`, faults, `SIGEV_THREAD_ID` timers).
    pub pending: Mutex<PendingSignals>,
    /// The thread's blocked set as senders see it: [`Thread::set_sigmask`] keeps it equal
    /// to the thread's own mask.
    blocked: AtomicU64,
    /// Blocked signals the thread waits for in `rt_sigtimedwait`: a sender wakes it for
    /// them as for unblocked ones, but they never take their default action (Linux's
    /// `real_blocked`).
    waiting_for: AtomicU64,
    /// Nonzero when the thread may have a signal to take: set by whoever makes one
    /// pending for it (and by the platform for its own work at the next return to the
    /// guest); cleared by the thread itself when it looks ([`crate::Kernel::next_signal`]).
    /// Waits in the libOS end early when it is set.
    pub hint: AtomicU32,
    /// Set when the thread has ended ([`ThreadGroup::exit`]); the record lives on in
    /// whoever still holds it (a pidfd naming the thread).
    exited: AtomicBool,
    /// Told (POLLIN | POLLHUP) when the thread ends: pidfds naming it become readable.
    pub exit_pollee: Pollee,
}

impl ThreadShared {
    fn new(tid: u32) -> Arc<ThreadShared> {
        Arc::new(ThreadShared {
            tid,
            platform_id: AtomicU64::new(0),
            robust_head: AtomicU64::new(0),
            pending: Mutex::new(PendingSignals::default()),
            blocked: AtomicU64::new(0),
            waiting_for: AtomicU64::new(0),
            hint: AtomicU32::new(0),
            exited: AtomicBool::new(false),
            exit_pollee: Pollee::new(),
        })
    }

    /// Whether the thread has ended.
    pub fn exited(&self) -> bool {
        self.exited.load(Ordering::SeqCst)
    }

    /// Marks the thread ended and tells those who watch for it.
    fn mark_exited(&self) {
        self.exited.store(true, Ordering::SeqCst);
        self.exit_pollee.notify(POLLIN | POLLRDNORM | POLLHUP);
    }

    /// The signals the thread blocks, as a sender must judge them.
    pub fn blocked(&self) -> u64 {
        self.blocked.load(Ordering::SeqCst)
    }

    /// Publishes a blocked set (see [`ThreadShared::blocked`]).
    pub fn publish_blocked(&self, mask: u64) {
        self.blocked.store(mask, Ordering::SeqCst);
    }

    /// Whether a signal `sig` should wake the thread: it does not block it, or waits
    /// for it.
    pub fn wants(&self, sig: u32) -> bool {
        let bit = 1u64 << (sig - 1);
        self.blocked() & bit == 0 || self.waiting_for.load(Ordering::SeqCst) & bit != 0
    }

    /// Sets the signals the thread waits for in `rt_sigtimedwait` (0 when it stops).
    pub fn set_waiting_for(&self, set: u64) {
        self.waiting_for.store(set, Ordering::SeqCst);
    }

    /// Tells the thread to look at its signals.
    pub fn set_hint(&self) {
        self.hint.store(1, Ordering::SeqCst);
    }

    /// Whether the thread has been told to look at its signals.
    pub fn hinted(&self) -> bool {
        self.hint.load(Ordering::SeqCst) != 0
    }

    /// The platform's handle for the thread, once it has recorded one.
    pub fn platform_id(&self) -> Option<u64> {
        match self.platform_id.load(Ordering::Acquire) {
            0 => None,
            id => Some(id),
        }
    }

    /// Records the platform's handle (nonzero), done by the platform as the thread starts.
    pub fn set_platform_id(&self, id: u64) {
        self.platform_id.store(id, Ordering::Release);
    }

    pub fn robust_head(&self) -> u64 {
        self.robust_head.load(Ordering::Relaxed)
    }
}

/// One guest thread, as the thread itself sees it (the syscall handlers get `&mut`).
#[derive(Debug, Clone)]
pub struct Thread {
    pub tid: u32,
    /// `set_tid_address` / `CLONE_CHILD_CLEARTID`: zeroed and futex-woken on exit.
    pub clear_child_tid: u64,
    /// Blocked signals (bit N-1 = signal N); changed only through
    /// [`Thread::set_sigmask`], which tells senders.
    sigmask: u64,
    /// The mask to go back to once a signal has been delivered, while `rt_sigsuspend`
    /// (or `ppoll`, `pselect6`, `epoll_pwait`) runs with a temporary one: the delivered
    /// frame records this one, as Linux's `saved_sigmask` does.
    pub saved_sigmask: Option<u64>,
    pub altstack: StackT,
    /// `set_robust_list` head and length.
    pub robust_list: (u64, u64),
    /// The guest's FS base (its TLS pointer), set by `arch_prctl(ARCH_SET_FS)`.
    pub fs_base: u64,
    /// The guest's GS base.
    pub gs_base: u64,
    pub shared: Arc<ThreadShared>,
}

const NO_ALTSTACK: StackT = StackT { ss_sp: 0, ss_flags: SS_DISABLE, pad: 0, ss_size: 0 };

impl Thread {
    fn new(shared: Arc<ThreadShared>) -> Thread {
        Thread {
            tid: shared.tid,
            clear_child_tid: 0,
            sigmask: 0,
            saved_sigmask: None,
            altstack: NO_ALTSTACK,
            robust_list: (0, 0),
            fs_base: 0,
            gs_base: 0,
            shared,
        }
    }

    /// The record of a thread this one starts as `spec` says: it inherits the signal
    /// mask and, without `CLONE_SETTLS`, the TLS; it starts with no alternate signal
    /// stack and no robust list, as on Linux.
    pub fn child(&self, shared: Arc<ThreadShared>, spec: &ThreadSpec) -> Thread {
        shared.publish_blocked(self.sigmask);
        Thread {
            clear_child_tid: spec.child_cleartid.unwrap_or(0),
            sigmask: self.sigmask,
            fs_base: spec.tls.unwrap_or(self.fs_base),
            gs_base: self.gs_base,
            ..Thread::new(shared)
        }
    }

    /// Blocked signals (bit N-1 = signal N).
    pub fn sigmask(&self) -> u64 {
        self.sigmask
    }

    /// Changes the blocked set (SIGKILL and SIGSTOP are never in it) and tells senders;
    /// see [`crate::Kernel::mask_changed`] for what a change does to pending signals.
    pub fn set_sigmask(&mut self, kernel: &crate::Kernel, mask: u64) {
        let old = self.sigmask;
        self.sigmask = mask & !crate::signal::UNBLOCKABLE;
        self.shared.publish_blocked(self.sigmask);
        kernel.mask_changed(self, old);
    }

    /// `set_robust_list`.
    pub fn set_robust_list(&mut self, head: u64, len: u64) {
        self.robust_list = (head, len);
        self.shared.robust_head.store(head, Ordering::Relaxed);
    }
}

/// A thread for the platform to start ([`crate::Platform::spawn_thread`]).
#[derive(Debug)]
pub struct ThreadStart {
    /// Its libOS record.
    pub thread: Thread,
    /// Its stack pointer at the instruction after `clone`; `None`: the creator's.
    pub stack: Option<u64>,
}

/// Linux's default `pid_max` on 64-bit machines with systemd: tids stay below it.
const PID_MAX: u32 = 4_194_304;
/// Linux's `RESERVED_PIDS`: where tid allocation starts again after wrapping.
const RESERVED_PIDS: u32 = 300;

struct Members {
    live: BTreeMap<u32, Arc<ThreadShared>>,
    last_tid: u32,
}

/// The process's threads.
pub struct ThreadGroup {
    pid: u32,
    ppid: u32,
    members: Mutex<Members>,
    /// Threads started over the process's life, the first included.
    started: AtomicU64,
    /// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED` was done (a per-process state).
    membarrier_private: AtomicBool,
}

/// What the end of a thread means for the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadExit {
    /// Other threads go on.
    Others,
    /// It was the last one: the process ends with this status.
    Last(i32),
}

impl ThreadGroup {
    /// The group of a process `pid` (child of `ppid`), with its first thread alive.
    pub fn new(pid: u32, ppid: u32) -> ThreadGroup {
        let mut live = BTreeMap::new();
        live.insert(pid, ThreadShared::new(pid));
        ThreadGroup {
            pid,
            ppid,
            members: Mutex::new(Members { live, last_tid: pid }),
            started: AtomicU64::new(1),
            membarrier_private: AtomicBool::new(false),
        }
    }

    /// The record of the first thread (tid = pid), for the platform to start it with.
    pub fn leader(&self) -> Thread {
        let shared = self.get(self.pid).expect("the first thread is registered at creation");
        Thread::new(shared)
    }

    /// Reserves a tid for a new thread and registers it (EAGAIN when every tid below
    /// `pid_max` is taken).
    pub fn add(&self) -> Result<Arc<ThreadShared>, Errno> {
        let mut m = self.members.lock();
        let mut tid = m.last_tid;
        for _ in 0..PID_MAX {
            tid = if tid + 1 >= PID_MAX { RESERVED_PIDS } else { tid + 1 };
            if tid != self.pid && tid != self.ppid && !m.live.contains_key(&tid) {
                let shared = ThreadShared::new(tid);
                m.live.insert(tid, shared.clone());
                m.last_tid = tid;
                self.started.fetch_add(1, Ordering::Relaxed);
                return Ok(shared);
            }
        }
        Err(Errno::EAGAIN)
    }

    /// Forgets a thread [`ThreadGroup::add`] registered but the platform could not start.
    pub fn abandon(&self, tid: u32) {
        let gone = self.members.lock().live.remove(&tid);
        self.started.fetch_sub(1, Ordering::Relaxed);
        if let Some(t) = gone {
            t.mark_exited();
        }
    }

    /// Thread `tid` ends with `status` (its `exit`). Says whether it was the last; the
    /// process then ends with that status (Linux reports the last thread's `exit`
    /// status when every thread ended with `exit`, the first one included).
    pub fn exit(&self, tid: u32, status: i32) -> ThreadExit {
        let (gone, last) = {
            let mut m = self.members.lock();
            let gone = m.live.remove(&tid);
            (gone, m.live.is_empty())
        };
        if let Some(t) = gone {
            t.mark_exited();
        }
        if last {
            ThreadExit::Last(status)
        } else {
            ThreadExit::Others
        }
    }

    /// The live thread `tid`.
    pub fn get(&self, tid: u32) -> Option<Arc<ThreadShared>> {
        self.members.lock().live.get(&tid).cloned()
    }

    /// The live threads' tids, in order (`/proc/self/task`).
    pub fn tids(&self) -> Vec<u32> {
        self.members.lock().live.keys().copied().collect()
    }

    /// The first live thread, in tid order, for which `pred` holds.
    pub fn find(&self, mut pred: impl FnMut(&ThreadShared) -> bool) -> Option<Arc<ThreadShared>> {
        self.members.lock().live.values().find(|t| pred(t)).cloned()
    }

    /// How many threads are alive.
    pub fn live(&self) -> usize {
        self.members.lock().live.len()
    }

    /// How many threads were started over the process's life, the first included.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED`.
    pub fn register_membarrier_private(&self) {
        self.membarrier_private.store(true, Ordering::Release);
    }

    /// Whether `MEMBARRIER_CMD_PRIVATE_EXPEDITED` is allowed (EPERM before registering).
    pub fn membarrier_private_registered(&self) -> bool {
        self.membarrier_private.load(Ordering::Acquire)
    }
}

#[cfg(test)]
#[path = "thread_tests.rs"]
mod tests;
