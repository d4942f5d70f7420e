//! `clone` and `clone3`: the arguments Linux takes, validated in Linux's order, and what
//! unify does with them — new threads of this process. A new process (`fork`, `vfork`,
//! `posix_spawn`'s `CLONE_VM|CLONE_VFORK`) is not offered yet: ENOSYS.

use crate::Errno;

/// `clone` flags, with Linux's values.
pub mod flags {
    /// The low byte of the legacy `clone` flags: the signal sent to the parent on exit.
    pub const CSIGNAL: u64 = 0xff;
    /// `CLONE_NEWTIME` lives in the `CSIGNAL` bits (clone3 only).
    pub const CLONE_NEWTIME: u64 = 0x80;
    pub const CLONE_VM: u64 = 0x100;
    pub const CLONE_FS: u64 = 0x200;
    pub const CLONE_FILES: u64 = 0x400;
    pub const CLONE_SIGHAND: u64 = 0x800;
    pub const CLONE_PIDFD: u64 = 0x1000;
    pub const CLONE_PTRACE: u64 = 0x2000;
    pub const CLONE_VFORK: u64 = 0x4000;
    pub const CLONE_PARENT: u64 = 0x8000;
    pub const CLONE_THREAD: u64 = 0x10000;
    pub const CLONE_NEWNS: u64 = 0x20000;
    pub const CLONE_SYSVSEM: u64 = 0x40000;
    pub const CLONE_SETTLS: u64 = 0x80000;
    pub const CLONE_PARENT_SETTID: u64 = 0x10_0000;
    pub const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
    pub const CLONE_DETACHED: u64 = 0x40_0000;
    pub const CLONE_UNTRACED: u64 = 0x80_0000;
    pub const CLONE_CHILD_SETTID: u64 = 0x100_0000;
    pub const CLONE_NEWCGROUP: u64 = 0x200_0000;
    pub const CLONE_NEWUTS: u64 = 0x400_0000;
    pub const CLONE_NEWIPC: u64 = 0x800_0000;
    pub const CLONE_NEWUSER: u64 = 0x1000_0000;
    pub const CLONE_NEWPID: u64 = 0x2000_0000;
    pub const CLONE_NEWNET: u64 = 0x4000_0000;
    pub const CLONE_IO: u64 = 0x8000_0000;
    pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
    pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    /// Every flag the legacy call has room for.
    pub const CLONE_LEGACY_FLAGS: u64 = 0xffff_ffff;

    /// What a new thread shares with its creator; unify's threads always share all of
    /// it, so a thread clone must ask for all of it.
    pub const THREAD_SHARES: u64 = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
    /// The further flags a thread clone may carry. `CLONE_SYSVSEM` (shared semaphore
    /// undo lists: unify has no System V semaphores), `CLONE_DETACHED` (ignored by
    /// Linux), `CLONE_UNTRACED` and `CLONE_IO` (no tracer, one I/O context) change
    /// nothing unify could show differently; `CLONE_PARENT` names the same parent.
    pub const THREAD_OPTIONS: u64 = CLONE_SYSVSEM
        | CLONE_SETTLS
        | CLONE_PARENT_SETTID
        | CLONE_CHILD_SETTID
        | CLONE_CHILD_CLEARTID
        | CLONE_DETACHED
        | CLONE_UNTRACED
        | CLONE_IO
        | CLONE_PARENT;
}

use flags::*;

/// `struct clone_args` of `clone3` (all fields `u64`), and the legacy call's arguments
/// put in the same shape, as Linux's `kernel_clone_args`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    /// The lowest address of the new stack (clone3), or the new stack pointer (legacy
    /// clone, where `stack_size` is 0). 0: the child shares the parent's stack pointer.
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

/// `sizeof(struct clone_args)` in its first version (Linux 5.3), the smallest `clone3`
/// accepts; later versions added `set_tid`/`set_tid_size` (5.5) and `cgroup` (5.7).
pub const CLONE_ARGS_SIZE_VER0: usize = 64;
pub const CLONE_ARGS_SIZE_VER2: usize = 88;
/// The largest `clone_args` unify knows (`CLONE_ARGS_SIZE_VER2`).
pub const CLONE_ARGS_SIZE: usize = CLONE_ARGS_SIZE_VER2;
/// `MAX_PID_NS_LEVEL`: the longest `set_tid` array.
const MAX_PID_NS_LEVEL: u64 = 32;
/// The end of the canonical lower half: a TLS base at or beyond it is refused (EPERM).
pub const USER_ADDR_MAX: u64 = 0x0000_7fff_ffff_f000;

impl CloneArgs {
    /// The arguments of the legacy `clone(flags, stack, parent_tid, child_tid, tls)`.
    pub fn legacy(raw_flags: u64, stack: u64, parent_tid: u64, child_tid: u64, tls: u64) -> CloneArgs {
        // The legacy call's flags are an `unsigned long` of which Linux reads 32 bits.
        let raw_flags = raw_flags & CLONE_LEGACY_FLAGS;
        CloneArgs {
            flags: raw_flags & !CSIGNAL,
            // CLONE_PIDFD returns the pidfd through parent_tid in the legacy call.
            pidfd: parent_tid,
            child_tid,
            parent_tid,
            exit_signal: raw_flags & CSIGNAL,
            stack,
            tls,
            ..CloneArgs::default()
        }
    }

    /// `clone3`'s `struct clone_args` from its words (`size` bytes were given; missing
    /// trailing fields are zero). The caller has already checked that the bytes beyond
    /// the known fields are zero (E2BIG otherwise) and that `size` is in range.
    pub fn from_words(words: &[u64; CLONE_ARGS_SIZE / 8]) -> CloneArgs {
        let [flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup] =
            *words;
        CloneArgs {
            flags,
            pidfd,
            child_tid,
            parent_tid,
            exit_signal,
            stack,
            stack_size,
            tls,
            set_tid,
            set_tid_size,
            cgroup,
        }
    }

    /// `clone3`'s own checks (`copy_clone_args_from_user` and `clone3_args_valid`), for
    /// a structure of `size` bytes. Afterwards the stack is given as its top, as for the
    /// legacy call.
    pub fn check_clone3(&mut self, size: usize) -> Result<(), Errno> {
        if self.set_tid_size > MAX_PID_NS_LEVEL
            || (self.set_tid == 0 && self.set_tid_size > 0)
            || (self.set_tid != 0 && self.set_tid_size == 0)
        {
            return Err(Errno::EINVAL);
        }
        if self.exit_signal & !CSIGNAL != 0 || self.exit_signal > 64 {
            return Err(Errno::EINVAL);
        }
        if self.flags & CLONE_INTO_CGROUP != 0 && (self.cgroup > i32::MAX as u64 || size < CLONE_ARGS_SIZE_VER2) {
            return Err(Errno::EINVAL);
        }
        if self.flags & !(CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0
            || self.flags & (CLONE_DETACHED | (CSIGNAL & !CLONE_NEWTIME)) != 0
            || self.flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND) == CLONE_SIGHAND | CLONE_CLEAR_SIGHAND
            || (self.flags & (CLONE_THREAD | CLONE_PARENT) != 0 && self.exit_signal != 0)
        {
            return Err(Errno::EINVAL);
        }
        if self.stack == 0 {
            if self.stack_size != 0 {
                return Err(Errno::EINVAL);
            }
        } else {
            let top = self.stack.checked_add(self.stack_size).filter(|&t| t <= USER_ADDR_MAX);
            match top {
                Some(top) if self.stack_size != 0 => {
                    self.stack = top;
                    self.stack_size = 0;
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        Ok(())
    }
}

/// A thread to start, as the guest asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadSpec {
    /// The child's stack pointer; `None`: the parent's.
    pub stack: Option<u64>,
    /// The child's FS base (`CLONE_SETTLS`); `None`: the parent's.
    pub tls: Option<u64>,
    /// `CLONE_PARENT_SETTID`: where the new tid is stored before either thread runs on.
    pub parent_tid: Option<u64>,
    /// `CLONE_CHILD_SETTID`: where the new tid is stored for the child.
    pub child_settid: Option<u64>,
    /// `CLONE_CHILD_CLEARTID`: zeroed and futex-woken when the child exits.
    pub child_cleartid: Option<u64>,
}

/// What is asked for, when it is not a thread unify can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// A new process (no `CLONE_VM`/`CLONE_THREAD`): not offered yet.
    Process,
    /// A thread that does not share everything, or with flags unify does not model.
    ThreadFlags(u64),
}

/// Why a clone fails: an errno Linux would give too, or something unify does not offer
/// (the caller reports it and returns ENOSYS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloneError {
    Errno(Errno),
    Unsupported(Unsupported),
}

impl From<Errno> for CloneError {
    fn from(e: Errno) -> Self {
        CloneError::Errno(e)
    }
}

/// Validates `args` with Linux's rules (`kernel_clone` and `copy_process`, in their
/// order) and, for a thread, says how to start it.
pub fn thread_spec(args: &CloneArgs) -> Result<ThreadSpec, CloneError> {
    let f = args.flags;
    let has = |bits: u64| f & bits == bits;
    if has(CLONE_PIDFD | CLONE_PARENT_SETTID) && args.pidfd == args.parent_tid {
        return Err(Errno::EINVAL.into());
    }
    if has(CLONE_NEWNS | CLONE_FS) || has(CLONE_NEWUSER | CLONE_FS) {
        return Err(Errno::EINVAL.into());
    }
    if f & CLONE_THREAD != 0 && f & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL.into());
    }
    if f & CLONE_SIGHAND != 0 && f & CLONE_VM == 0 {
        return Err(Errno::EINVAL.into());
    }
    if f & CLONE_THREAD != 0 && f & (CLONE_NEWUSER | CLONE_NEWPID) != 0 {
        return Err(Errno::EINVAL.into());
    }
    if f & CLONE_PIDFD != 0 && f & CLONE_DETACHED != 0 {
        return Err(Errno::EINVAL.into());
    }
    if f & CLONE_THREAD == 0 {
        return Err(CloneError::Unsupported(Unsupported::Process));
    }
    let extra = f & !(THREAD_SHARES | THREAD_OPTIONS);
    if !has(THREAD_SHARES) || extra != 0 {
        return Err(CloneError::Unsupported(Unsupported::ThreadFlags(f)));
    }
    let tls = if f & CLONE_SETTLS != 0 {
        if args.tls >= USER_ADDR_MAX {
            return Err(Errno::EPERM.into());
        }
        Some(args.tls)
    } else {
        None
    };
    let opt = |bit: u64, addr: u64| (f & bit != 0).then_some(addr);
    Ok(ThreadSpec {
        stack: (args.stack != 0).then_some(args.stack),
        tls,
        parent_tid: opt(CLONE_PARENT_SETTID, args.parent_tid),
        child_settid: opt(CLONE_CHILD_SETTID, args.child_tid),
        child_cleartid: opt(CLONE_CHILD_CLEARTID, args.child_tid),
    })
}

#[cfg(test)]
#[path = "clone_tests.rs"]
mod tests;
