//! The line between the libOS and what it runs on.
//!
//! `libos-hosted` implements [`Platform`] with host syscalls inside one Linux process;
//! `libos-metal` with page tables and devices. Everything above this trait is shared.

use alloc::sync::Arc;

use crate::abi::{Rlimit, Timespec, Utsname};
use crate::cpuset::CpuSet;
use crate::file::File;
use crate::futex::FutexOp;
use crate::mm::Prot;
use crate::rusage::{Rusage, RusageWho};
use crate::thread::ThreadStart;
use crate::time::ClockId;
use crate::{Errno, SysResult};

/// What the platform knows about the machine and the identity the guest runs with.
#[derive(Debug, Clone)]
pub struct HostInfo {
    pub uts: Utsname,
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    pub total_ram: u64,
    pub free_ram: u64,
    /// Initial resource limits, indexed by `RLIMIT_*`.
    pub rlimits: [Rlimit; crate::limits::RLIMIT_NLIMITS],
}

/// Services the libOS needs from the platform.
///
/// Memory operations act on page-aligned ranges of the guest address space that the
/// libOS's [`crate::mm::MemoryMap`] has already validated; the platform only makes the
/// hardware (or the host) agree with the bookkeeping.
pub trait Platform: Send + Sync {
    /// Backs `[addr, addr+len)` with fresh zero-filled memory of protection `prot`,
    /// replacing whatever was there.
    fn map_anonymous(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno>;
    /// Releases `[addr, addr+len)`; later accesses fault.
    fn unmap(&self, addr: u64, len: u64) -> Result<(), Errno>;
    /// Changes the protection of `[addr, addr+len)`.
    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno>;
    /// Moves the pages of `[old, old+len)` to `[new, new+len)`, leaving `old` unmapped.
    fn move_pages(&self, old: u64, new: u64, len: u64) -> Result<(), Errno>;
    /// Drops the contents of a private anonymous range: it reads as zeros afterwards.
    fn discard(&self, addr: u64, len: u64) -> Result<(), Errno>;
    /// `mincore`: sets `out[i]` to 1 if page `i` of `[addr, addr+len)` is resident.
    fn residency(&self, addr: u64, len: u64, out: &mut [u8]) -> Result<(), Errno>;

    /// The current time on `clock`.
    fn now(&self, clock: ClockId) -> Timespec;
    /// The resolution of `clock`.
    fn resolution(&self, clock: ClockId) -> Timespec;
    /// Sleeps for `ns` nanoseconds (measured on the monotonic clock).
    fn sleep(&self, ns: u64);

    /// Fills `buf` with cryptographically secure random bytes.
    fn fill_random(&self, buf: &mut [u8]);

    /// The three console files the guest starts with as fds 0, 1 and 2.
    fn console(&self) -> [Arc<dyn File>; 3];
    /// CPUs the guest may run on, as a bit mask (bit N = CPU N).
    fn cpu_mask(&self) -> u64;
    /// Identity and machine description.
    fn host_info(&self) -> HostInfo;

    /// Writes one diagnostic line from the libOS itself (warnings, trace) to the user.
    fn log(&self, line: &str);
    /// Ends the whole guest with `status` (the low 8 bits reach the user).
    fn exit_process(&self, status: i32) -> !;
    /// Ends the whole guest as if killed by signal `sig` (a default action of
    /// "terminate" or "core"): the user sees the status a shell shows, 128 + `sig`.
    fn exit_by_signal(&self, sig: u32) -> !;

    /// Starts a new guest thread. It resumes the guest where the calling thread's
    /// `clone` was made, as if that syscall had returned 0 to it, with every register
    /// the caller had then except the stack pointer (`start.stack`, or the caller's) and
    /// the FS base (`start.thread.fs_base`); `start.thread` becomes its libOS record.
    /// The platform records its own handle for it in `start.thread.shared` as it starts.
    /// EAGAIN when the platform cannot start another thread.
    fn spawn_thread(&self, start: ThreadStart) -> Result<(), Errno>;
    /// Ends the calling guest thread, not the process: the libOS has done what Linux
    /// does at thread exit (robust futexes, `clear_child_tid`) and knows other threads
    /// go on. The platform frees what it holds for the thread; `status` is the
    /// thread's exit status (the process's, if it is the first thread and the last to
    /// end is reported by the libOS).
    fn exit_thread(&self, status: i32) -> !;
    /// Carries out a validated futex operation on guest memory (see
    /// [`crate::futex`]). The words are 4-byte aligned and inside the guest's address
    /// window; whether they are mapped the platform finds out as Linux does, when it
    /// touches them (EFAULT; a private wake touches nothing). Results as Linux gives
    /// them: the number of waiters woken (and requeued), or EAGAIN (the word did not
    /// hold the expected value), ETIMEDOUT, EINTR (a wait interrupted by a signal for
    /// this thread), EFAULT, ENOSYS (an unknown `FUTEX_WAKE_OP` operation).
    fn futex(&self, op: &FutexOp) -> SysResult;
    /// Lets another thread run (`sched_yield`).
    fn yield_now(&self);
    /// The CPUs a thread may run on; `thread` is the platform's handle for another
    /// thread ([`crate::thread::ThreadShared::platform_id`]), `None` for the caller.
    fn affinity(&self, thread: Option<u64>) -> Result<CpuSet, Errno>;
    /// Restricts a thread to the CPUs in `set` (EINVAL if none of them is usable).
    fn set_affinity(&self, thread: Option<u64>, set: &CpuSet) -> Result<(), Errno>;
    /// The CPU and NUMA node the caller runs on (`getcpu`).
    fn current_cpu(&self) -> (u32, u32);
    /// A full memory barrier on every CPU that runs a thread of this process
    /// (`global == false`) or any thread at all (`global`), before this returns.
    fn membarrier(&self, global: bool) -> Result<(), Errno>;
    /// Resource usage of the process, the calling thread or the waited-for children.
    fn rusage(&self, who: RusageWho) -> Rusage;
}
