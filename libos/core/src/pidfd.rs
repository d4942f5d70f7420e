//! pidfds: file descriptors that name a process or one of its threads, and the calls
//! that take them — `pidfd_open` and `pidfd_getfd` (Linux's `kernel/pid.c`),
//! `pidfd_send_signal` (`kernel/signal.c`), the file itself (`fs/pidfs.c`).
//!
//! The libOS runs one process, so a pidfd names that process (its pid) or, with
//! `PIDFD_THREAD`, one of its threads (a tid). Linux's rules for that world:
//!
//! - `pidfd_open(pid, flags)`: EINVAL for flags other than `PIDFD_NONBLOCK` and
//!   `PIDFD_THREAD` and for `pid <= 0`; ESRCH for a pid nobody has; ENOENT for a
//!   thread's tid without `PIDFD_THREAD` (it leads no thread group). The fd is always
//!   close-on-exec; `PIDFD_THREAD` is `O_EXCL` and stays in the description's flags,
//!   where `F_GETFL` shows it.
//! - The file: reads and writes EINVAL; `poll` reports nothing while the task runs and
//!   POLLIN | POLLHUP once a thread it names has ended (the process's own pidfd never
//!   becomes ready: the process ends with its observer). `fstat` shows mode 0700 with
//!   no file type, the same inode number for every pidfd of one task; `fstatfs` the
//!   pidfs magic; `/proc/self/fd/N` reads `anon_inode:[pidfd]`; fdinfo adds `Pid:` and
//!   `NSpid:` (`-1` once the task is gone).
//! - `pidfd_send_signal(pidfd, sig, info, flags)`: the scope is the pidfd's (thread or
//!   process) unless one `PIDFD_SIGNAL_*` flag overrides it; `PIDFD_SELF_THREAD` and
//!   `PIDFD_SELF_THREAD_GROUP` stand for the caller's thread and process; a `/proc/<pid>`
//!   directory fd names its process too; any other fd is EBADF. A caller-made `siginfo`
//!   must carry `sig`, and may carry a kernel's `si_code` only when a thread signals
//!   itself. A task that is gone is ESRCH; signal 0 checks the target only.
//! - `pidfd_getfd(pidfd, fd, 0)`: a new close-on-exec fd for the same open file
//!   description.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::abi::Stat;
use crate::file::events::{POLLHUP, POLLIN, POLLRDNORM};
use crate::file::{oflags, File, OpenFile};
use crate::kernel::Kernel;
use crate::readiness::Readiness;
use crate::siginfo::{code, SigInfo};
use crate::signal::check_signal;
use crate::sigsend::SignalTarget;
use crate::thread::ThreadShared;
use crate::vfs::inode::magic::PIDFS_MAGIC;
use crate::vfs::Statfs;
use crate::Errno;

/// `PIDFD_NONBLOCK`: the description is non-blocking (`O_NONBLOCK`).
pub const PIDFD_NONBLOCK: u32 = oflags::O_NONBLOCK;
/// `PIDFD_THREAD`: the pidfd names a thread, not its process (`O_EXCL`).
pub const PIDFD_THREAD: u32 = 0o200;
/// `pidfd_send_signal`'s stand-in for the calling thread.
pub const PIDFD_SELF_THREAD: i32 = -10000;
/// `pidfd_send_signal`'s stand-in for the calling thread's process.
pub const PIDFD_SELF_THREAD_GROUP: i32 = -10001;

/// `pidfd_send_signal` flags: at most one, choosing the scope.
pub mod send_flags {
    pub const PIDFD_SIGNAL_THREAD: u32 = 1;
    pub const PIDFD_SIGNAL_THREAD_GROUP: u32 = 2;
    pub const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 4;
    pub const ALL: u32 = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP;
}

/// Inode numbers of pidfds: one per task, above those of other anonymous files.
const INO_BASE: u64 = 1 << 32;

/// A task a pidfd names: the process (its pid, alive as long as anyone can look) or a
/// thread other than the first (its record, which says when it has ended).
#[derive(Clone)]
pub struct PidRef {
    /// The pid or tid.
    pub pid: u32,
    /// The thread's record, for a tid that is not the pid.
    thread: Option<Arc<ThreadShared>>,
}

impl PidRef {
    /// The process.
    pub fn process(kernel: &Kernel) -> PidRef {
        PidRef { pid: kernel.identity.pid, thread: None }
    }

    /// The task `pid` names: the process for its pid, a live thread for its tid; ESRCH
    /// for anything else.
    pub fn find(kernel: &Kernel, pid: u32) -> Result<PidRef, Errno> {
        if pid == kernel.identity.pid {
            return Ok(PidRef::process(kernel));
        }
        let thread = kernel.threads.get(pid).ok_or(Errno::ESRCH)?;
        Ok(PidRef { pid, thread: Some(thread) })
    }

    /// Whether the task still exists.
    pub fn alive(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| !t.exited())
    }

    /// Whether this is the process's pid (the first thread's tid), which leads the
    /// thread group.
    pub fn leads_group(&self) -> bool {
        self.thread.is_none()
    }
}

/// The file behind a pidfd.
pub struct PidFd {
    target: PidRef,
}

impl PidFd {
    /// The pidfd behind a description, if it is one.
    pub fn of(open: &OpenFile) -> Option<&PidFd> {
        (*open.file).as_any().downcast_ref::<PidFd>()
    }

    /// The task it names.
    pub fn target(&self) -> &PidRef {
        &self.target
    }
}

impl File for PidFd {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            st_ino: INO_BASE + u64::from(self.target.pid),
            st_nlink: 1,
            st_mode: 0o700,
            st_blksize: 4096,
            ..Stat::default()
        })
    }

    fn poll(&self, events: u16) -> u16 {
        if self.target.alive() {
            0
        } else {
            events & (POLLIN | POLLRDNORM | POLLHUP)
        }
    }

    fn readiness(&self) -> Readiness<'_> {
        match &self.target.thread {
            Some(t) => Readiness::Pollee(&t.exit_pollee),
            None => Readiness::Static,
        }
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(Statfs { f_type: PIDFS_MAGIC, f_bsize: 4096, f_namelen: 255, f_frsize: 4096, ..Default::default() })
    }

    fn anon_name(&self) -> Option<Vec<u8>> {
        Some(b"anon_inode:[pidfd]".to_vec())
    }

    fn fdinfo(&self) -> Vec<u8> {
        let pid = if self.target.alive() { self.target.pid as i64 } else { -1 };
        format!("Pid:\t{pid}\nNSpid:\t{pid}\n").into_bytes()
    }
}

/// `pidfd_open(pid, flags)`: the description of a new pidfd, for the caller to install
/// close-on-exec.
pub fn open(kernel: &Kernel, pid: i32, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    if flags & !(PIDFD_NONBLOCK | PIDFD_THREAD) != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    let target = PidRef::find(kernel, pid as u32)?;
    if flags & PIDFD_THREAD == 0 && !target.leads_group() {
        return Err(Errno::ENOENT);
    }
    Ok(OpenFile::new(Arc::new(PidFd { target }), oflags::O_RDWR | flags))
}

/// Who a signal sent through a pidfd reaches (Linux's pid types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The thread the pid names (`PIDTYPE_PID`).
    Thread,
    /// Its process (`PIDTYPE_TGID`).
    Process,
    /// The process group the pid leads (`PIDTYPE_PGID`).
    ProcessGroup,
}

/// The scope `pidfd_send_signal`'s `flags` choose (`None`: the pidfd's own); EINVAL for
/// unknown bits or more than one.
pub fn scope_of_flags(flags: u32) -> Result<Option<Scope>, Errno> {
    use send_flags::*;
    match flags {
        0 => Ok(None),
        PIDFD_SIGNAL_THREAD => Ok(Some(Scope::Thread)),
        PIDFD_SIGNAL_THREAD_GROUP => Ok(Some(Scope::Process)),
        PIDFD_SIGNAL_PROCESS_GROUP => Ok(Some(Scope::ProcessGroup)),
        _ => Err(Errno::EINVAL),
    }
}

/// Whether `open` is the `/proc/<pid>` directory of this process, which
/// `pidfd_send_signal` takes as a pidfd (Linux's `tgid_pidfd_to_pid`).
fn is_proc_pid_dir(kernel: &Kernel, open: &OpenFile) -> bool {
    let Some(d) = open.file.dentry() else { return false };
    d.is_dir()
        && d.mount().fs().fs_type() == "proc"
        && d.parent().is_some_and(|p| p.parent().is_none())
        && d.name() == format!("{}", kernel.identity.pid).as_bytes()
}

/// The task and scope the `pidfd` argument of `pidfd_send_signal` names, for a call
/// from thread `caller` (EBADF for an fd that names no task).
pub fn signal_target(kernel: &Kernel, caller: &Arc<ThreadShared>, pidfd: i32) -> Result<(PidRef, Scope), Errno> {
    match pidfd {
        PIDFD_SELF_THREAD => {
            let thread = (caller.tid != kernel.identity.pid).then(|| caller.clone());
            Ok((PidRef { pid: caller.tid, thread }, Scope::Thread))
        }
        PIDFD_SELF_THREAD_GROUP => Ok((PidRef::process(kernel), Scope::Process)),
        fd => {
            let open = kernel.fds.lock().get(fd)?;
            if let Some(p) = PidFd::of(&open) {
                let scope = if open.flags() & PIDFD_THREAD != 0 { Scope::Thread } else { Scope::Process };
                Ok((p.target.clone(), scope))
            } else if is_proc_pid_dir(kernel, &open) {
                Ok((PidRef::process(kernel), Scope::Process))
            } else {
                Err(Errno::EBADF)
            }
        }
    }
}

/// The `siginfo` of `pidfd_send_signal`: the caller's own (`given`), which must carry
/// `sig` (EINVAL) and may carry `si_code` values only the kernel sends (positive,
/// SI_TKILL) only when the calling thread `caller_tid` signals itself (EPERM); or, with
/// none given, what `kill` (SI_USER) or `tgkill` (SI_TKILL, thread scope) sends.
pub fn signal_info(
    kernel: &Kernel,
    caller_tid: u32,
    target: &PidRef,
    scope: Scope,
    sig: i32,
    given: Option<SigInfo>,
) -> Result<SigInfo, Errno> {
    let Some(info) = given else {
        let code = if scope == Scope::Thread { code::SI_TKILL } else { code::SI_USER };
        return Ok(SigInfo::sent(sig as u32, code, kernel.identity.pid, kernel.identity.uid));
    };
    if info.si_signo != sig {
        return Err(Errno::EINVAL);
    }
    let to_self = caller_tid == target.pid && scope != Scope::ProcessGroup;
    if !to_self && (info.si_code >= 0 || info.si_code == code::SI_TKILL) {
        return Err(Errno::EPERM);
    }
    Ok(info)
}

/// Sends `info` (signal `sig`; 0 only checks) to `target` in `scope`: ESRCH when the
/// task is gone (or, for a process group, when the pid leads none: a thread's tid),
/// EINVAL for a signal number out of range.
pub fn send_signal(kernel: &Kernel, target: &PidRef, scope: Scope, sig: i32, info: SigInfo) -> Result<(), Errno> {
    if !target.alive() || (scope == Scope::ProcessGroup && !target.leads_group()) {
        return Err(Errno::ESRCH);
    }
    if sig == 0 {
        return Ok(());
    }
    check_signal(sig)?;
    let to = match scope {
        Scope::Thread => SignalTarget::Thread(target.pid),
        Scope::Process | Scope::ProcessGroup => SignalTarget::Process,
    };
    kernel.send_signal(to, info)
}

/// `pidfd_getfd(pidfd, fd, flags)`: the description `fd` of the task `pidfd` names
/// refers to, for the caller to install close-on-exec.
pub fn getfd(kernel: &Kernel, pidfd: i32, fd: i32, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let open = kernel.fds.lock().get(pidfd)?;
    let target = PidFd::of(&open).ok_or(Errno::EBADF)?.target.clone();
    if !target.alive() {
        return Err(Errno::ESRCH);
    }
    kernel.fds.lock().get(fd)
}

/// The task a pidfd names, for `waitid(P_PIDFD, ...)`, with its description's flags:
/// EBADF for an fd that is not a pidfd.
pub fn pidfd_pid(kernel: &Kernel, pidfd: i32) -> Result<(PidRef, u32), Errno> {
    let open = kernel.fds.lock().get(pidfd)?;
    let p = PidFd::of(&open).ok_or(Errno::EBADF)?;
    Ok((p.target.clone(), open.flags()))
}

#[cfg(test)]
#[path = "pidfd_tests.rs"]
mod tests;
