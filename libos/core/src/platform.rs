//! The line between the libOS and what it runs on.
//!
//! `libos-hosted` implements [`Platform`] with host syscalls inside one Linux process;
//! `libos-metal` with page tables and devices. Everything above this trait is shared.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::abi::{Rlimit, Timespec, Utsname};
use crate::cpuset::CpuSet;
use crate::file::File;
use crate::futex::FutexOp;
use crate::mm::Prot;
use crate::rusage::{Rusage, RusageWho};
use crate::thread::{ThreadShared, ThreadStart};
use crate::time::ClockId;
use crate::{Errno, SysResult};

/// A platform's handle for a shareable memory object ([`Platform::shm_create`]).
pub type ShmId = u64;

/// An I/O object of the platform that a file stands for (hosted: a host fd), which
/// waits can include ([`Platform::wait_io`], [`Platform::ioset_ctl`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoHandle(pub u64);

/// One handle of a [`Platform::wait_io`]: the poll events waited for and, after the
/// wait, those that are ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoWait {
    pub handle: IoHandle,
    pub events: u16,
    pub revents: u16,
}

/// A platform's set of handles with their interest, waited on as a whole (hosted: a
/// host epoll instance): the platform half of an epoll instance
/// ([`Platform::ioset_create`]).
pub type IoSetId = u64;

/// What [`Platform::ioset_ctl`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoSetOp {
    Add,
    Modify,
    Remove,
}

/// One ready handle reported by [`Platform::ioset_wait`]: the key it was added with
/// and its epoll events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IoEvent {
    pub key: u64,
    pub events: u32,
}

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

/// A mapping in the guest's address space that the platform placed and the libOS's
/// memory map does not hold: the host's vDSO and its data pages lent to the guest, the
/// legacy vsyscall page. `/proc/self/maps` lists these after the map's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignMapping {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    /// What `/proc/self/maps` calls it: `[vdso]`, `[vvar]`, `[vsyscall]`.
    pub name: Vec<u8>,
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

    /// Makes a shareable memory object of `len` bytes (a multiple of the page size),
    /// zero-filled: the pages of a file while it is mapped (see [`crate::mm::filemap`]).
    /// The libOS reads and writes it with [`Platform::shm_read`]/[`Platform::shm_write`]
    /// and maps it into the guest with [`Platform::shm_map`]; every shared mapping of
    /// one object sees the same bytes. Default: ENODEV (file mappings unsupported).
    fn shm_create(&self, _len: u64) -> Result<ShmId, Errno> {
        Err(Errno::ENODEV)
    }
    /// Changes the object's size: pages past the new end are dropped (a guest access to
    /// them through a mapping faults with SIGBUS, as past the end of a mapped file on
    /// Linux); new pages read as zeros.
    fn shm_resize(&self, _id: ShmId, _len: u64) -> Result<(), Errno> {
        Err(Errno::ENODEV)
    }
    /// Copies `buf.len()` bytes at `offset` of the object into `buf`.
    fn shm_read(&self, _id: ShmId, _offset: u64, _buf: &mut [u8]) -> Result<(), Errno> {
        Err(Errno::ENODEV)
    }
    /// Copies `data` into the object at `offset` (inside its size).
    fn shm_write(&self, _id: ShmId, _offset: u64, _data: &[u8]) -> Result<(), Errno> {
        Err(Errno::ENODEV)
    }
    /// Maps `[offset, offset+len)` of the object at guest `addr` (page-aligned) with
    /// `prot`, replacing what was there: `shared` so that writes reach the object and
    /// every other shared mapping of it; otherwise a private copy-on-write view of its
    /// current contents.
    fn shm_map(
        &self,
        _id: ShmId,
        _offset: u64,
        _addr: u64,
        _len: u64,
        _prot: Prot,
        _shared: bool,
    ) -> Result<(), Errno> {
        Err(Errno::ENODEV)
    }
    /// Lets go of the object; mappings made from it stay valid (and keep their pages).
    fn shm_release(&self, _id: ShmId) {}

    /// The current time on `clock`.
    fn now(&self, clock: ClockId) -> Timespec;
    /// The resolution of `clock`.
    fn resolution(&self, clock: ClockId) -> Timespec;
    /// Sleeps for `ns` nanoseconds (measured on the monotonic clock). EINTR when the
    /// calling thread is told to take a signal ([`Platform::interrupted`]) first.
    fn sleep(&self, ns: u64) -> Result<(), Errno>;

    /// Blocks the calling thread while `*word == expected`, until [`Platform::wake_all`]
    /// is called on the same word, `timeout_ns` passes, or for no reason at all (callers
    /// re-check what they wait for). A word in libOS memory, not the guest's: this is
    /// how libOS wait queues ([`crate::wait::WaitQueue`]) sleep.
    ///
    /// Default: a plain sleep for the timeout (10 ms without one), for a platform whose
    /// threads cannot wake each other; the waiter then finds out by re-checking.
    fn wait_on(&self, word: &AtomicU32, expected: u32, timeout_ns: Option<u64>) {
        if word.load(Ordering::Acquire) == expected {
            let _ = self.sleep(timeout_ns.unwrap_or(10_000_000));
        }
    }
    /// Whether the calling thread has been told to take a signal
    /// ([`ThreadShared::hinted`]): waits end early when it has. Default: never (a
    /// platform that cannot interrupt waits).
    fn interrupted(&self) -> bool {
        false
    }
    /// Wakes every thread blocked in [`Platform::wait_on`] on `word`. Default: nothing
    /// (the default `wait_on` never blocks for long).
    fn wake_all(&self, _word: &AtomicU32) {}

    /// Blocks the calling thread until `*word` moves from `expected` (a
    /// [`Platform::wake_all`] on it), one of `io` is ready (its `revents` set: every
    /// handle's are filled in), `timeout_ns` passes, or a signal arrives for the thread
    /// (EINTR, see [`Platform::interrupted`]). With a timeout of 0 it only fills in the
    /// `revents`. May return early for no reason: callers look again.
    ///
    /// Default (a platform without handles; `io` is then empty): [`Platform::wait_on`].
    fn wait_io(
        &self,
        word: &AtomicU32,
        expected: u32,
        io: &mut [IoWait],
        timeout_ns: Option<u64>,
    ) -> Result<(), Errno> {
        let _ = io;
        if timeout_ns != Some(0) {
            self.wait_on(word, expected, timeout_ns);
        }
        if self.interrupted() {
            return Err(Errno::EINTR);
        }
        Ok(())
    }
    /// Brings the readiness of the platform's own files up to date before a readiness
    /// check (`epoll_wait`, `poll`, `select`): the VM kernel polls its network stack here
    /// when frames came in or data waits to go out (it defers both while the guest
    /// works). Default: nothing (readiness is pushed as it changes).
    fn settle_io(&self) {}

    /// Makes an empty set of handles. A [`Platform::wake_all`] on `wake` ends a
    /// [`Platform::ioset_wait`] on it (the word must stay where it is until
    /// [`Platform::ioset_destroy`]). Default: ENOSYS (no platform handles exist).
    fn ioset_create(&self, _wake: &AtomicU32) -> Result<IoSetId, Errno> {
        Err(Errno::ENOSYS)
    }
    /// Adds, changes or removes `handle` in the set with epoll `events` (EPOLLET,
    /// EPOLLONESHOT and EPOLLEXCLUSIVE included); `key` comes back in its events.
    fn ioset_ctl(&self, _set: IoSetId, _op: IoSetOp, _handle: IoHandle, _events: u32, _key: u64) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }
    /// Waits up to `timeout_ns` (`None`: no limit; 0: only looks) for ready handles of
    /// the set and reports them in `out`; returns how many (0 when the wake word's
    /// wake-up or the timeout ended it). EINTR when a signal arrives for the thread.
    fn ioset_wait(&self, _set: IoSetId, _out: &mut [IoEvent], _timeout_ns: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::ENOSYS)
    }
    /// The set itself as a handle (readable while one of its handles is ready), for
    /// waits on an epoll instance from outside.
    fn ioset_handle(&self, _set: IoSetId) -> Option<IoHandle> {
        None
    }
    /// Frees the set.
    fn ioset_destroy(&self, _set: IoSetId) {}

    /// A new socket of `domain` (`AF_INET`, `AF_INET6`), `ty` (`SOCK_STREAM`,
    /// `SOCK_DGRAM`, without the flag bits) and `protocol`, served by the platform's
    /// network (hosted: a host socket). Default: EAFNOSUPPORT.
    fn socket(&self, _domain: i32, _ty: i32, _protocol: i32) -> Result<Arc<dyn File>, Errno> {
        Err(Errno::EAFNOSUPPORT)
    }

    /// The earliest timer deadline may have moved (a timer was armed, or re-armed when
    /// its signal was taken): from now on, call [`crate::Kernel::run_timers`] when the
    /// time it last returned has passed, from some context that is not a guest thread
    /// in the middle of a syscall (a host thread, an interrupt). Cheap and callable from
    /// any thread with no libOS lock held. Default: nothing, and timers never fire (a
    /// platform without a timer source).
    fn timers_changed(&self) {}

    /// Fills `buf` with cryptographically secure random bytes.
    fn fill_random(&self, buf: &mut [u8]);

    /// The three console files the guest starts with as fds 0, 1 and 2.
    fn console(&self) -> [Arc<dyn File>; 3];
    /// CPUs the guest may run on, as a bit mask (bit N = CPU N).
    fn cpu_mask(&self) -> u64;
    /// Identity and machine description.
    fn host_info(&self) -> HostInfo;

    /// The guest's controlling terminal, what `/dev/tty` opens. Default: none, and
    /// opening `/dev/tty` is ENXIO as for a Linux process without one.
    fn controlling_tty(&self) -> Option<Arc<dyn File>> {
        None
    }
    /// What `/proc/self/fd/N` shows for a console file the guest started with as fd
    /// `fd` (0–2), wherever it is now. Default: none, and procfs names it from its
    /// `stat` (a terminal's `/dev` path, `pipe:[ino]`).
    fn console_name(&self, _fd: u32) -> Option<Vec<u8>> {
        None
    }
    /// The guest CPU's answer to `CPUID` with `leaf` and `subleaf`: eax, ebx, ecx, edx
    /// (`/proc/cpuinfo`). Default: none, and `/proc/cpuinfo` lists the CPUs without
    /// describing them.
    fn cpuid(&self, _leaf: u32, _subleaf: u32) -> Option<[u32; 4]> {
        None
    }
    /// The DNS servers the guest should ask, as text addresses (`/etc/resolv.conf`).
    /// Default: none, and resolvers fall back to their own default (127.0.0.1).
    fn nameservers(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
    /// The mappings the platform placed in the guest's view outside the memory map.
    fn foreign_mappings(&self) -> Vec<ForeignMapping> {
        Vec::new()
    }

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
    /// hold the expected value), ETIMEDOUT, ERESTARTSYS or ERESTARTNOHAND (a wait
    /// without or with a timeout interrupted by a signal for this thread), EFAULT,
    /// ENOSYS (an unknown `FUTEX_WAKE_OP` operation or comparison). A platform without
    /// a host kernel's futexes uses [`crate::futex_table::FutexTable`].
    fn futex(&self, op: &FutexOp) -> SysResult;
    /// `thread` has a signal to take ([`ThreadShared::hinted`] is set): make it look
    /// soon. A thread blocked in a platform wait ([`Platform::wait_on`], a futex wait,
    /// a sleep, console input) returns from it; a thread running guest code is stopped
    /// at once and takes the signal (the platform calls the shim's delivery). Nothing
    /// to do when `thread` is the caller, which looks on its way back to the guest.
    /// Default: nothing (a single-threaded platform looks at every return).
    fn interrupt_thread(&self, _thread: &ThreadShared) {}
    /// The calling guest thread's shared record (for file objects whose behaviour
    /// depends on the thread using them: a signalfd reads the reader's signals).
    /// Default: none.
    fn current_thread(&self) -> Option<Arc<ThreadShared>> {
        None
    }
    /// The calling guest thread's registers at the syscall it is making now (RIP just
    /// past it), for `rt_sigreturn`. `None` on a platform that cannot say.
    fn syscall_context(&self) -> Option<crate::context::GuestContext> {
        None
    }
    /// Resume the calling guest thread with `ctx` (every register, the FPU state) when
    /// the syscall being served returns, instead of where it was made: `rt_sigreturn`.
    fn resume_with(&self, _ctx: &crate::context::GuestContext) {}
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
