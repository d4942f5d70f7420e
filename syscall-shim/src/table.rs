//! The syscall table: every syscall unify knows, once — number, name, handler, how
//! completely it is supported, and how to print its arguments. Dispatch, the trace,
//! `unify syscalls` and docs/syscalls.md are all generated from [`SYSCALLS`].
//!
//! A number that is not listed is unimplemented: it returns ENOSYS and is reported once.

use libos::{Errno, Kernel, SysResult, Thread};

use crate::args::Args;
use crate::names::SYSCALL_COUNT;
use crate::sys::{fs, futex, ident, io, kill, mm, process, random, signal, time};

/// The state a handler works on.
pub struct Ctx<'a> {
    pub kernel: &'static Kernel,
    pub thread: &'a mut Thread,
}

/// A syscall implementation.
pub type Handler = fn(&mut Ctx, &Args) -> SysResult;

/// How much of a syscall unify implements.
#[derive(Clone, Copy)]
pub enum Support {
    /// As Linux does it.
    Full(Handler),
    /// Implemented, but with the stated part missing.
    Partial(Handler, &'static str),
    /// Deliberately answers this errno, for the stated reason (e.g. ENOSYS for `rseq`,
    /// which libc handles by falling back).
    Errno(Errno, &'static str),
}

/// How the trace prints an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgFmt {
    /// Signed decimal (`int`, `long`).
    Int,
    /// Unsigned decimal.
    UInt,
    /// Hexadecimal (flags, masks, addresses).
    Hex,
    /// A NUL-terminated string (a path).
    Str,
    /// A buffer the guest passes in; its length is argument N.
    InBuf(u8),
    /// A buffer the kernel fills; the syscall's result is its length.
    OutBuf,
}

/// One row of the table.
pub struct SyscallDef {
    pub nr: u16,
    pub name: &'static str,
    pub support: Support,
    pub args: &'static [ArgFmt],
}

use ArgFmt::{Hex, InBuf, Int, OutBuf, Str, UInt};
use Support::{Errno as Fails, Full, Partial};

macro_rules! syscall_table {
    ($( $nr:literal $name:ident ( $($arg:expr),* ) => $support:expr; )*) => {
        /// Every syscall unify implements (or deliberately refuses), by number.
        pub const SYSCALLS: &[SyscallDef] = &[
            $( SyscallDef { nr: $nr, name: stringify!($name), support: $support, args: &[$($arg),*] }, )*
        ];
    };
}

syscall_table! {
    0 read(Int, OutBuf, UInt) => Full(io::read);
    1 write(Int, InBuf(2), UInt) => Full(io::write);
    3 close(Int) => Full(io::close);
    5 fstat(Int, Hex) => Full(io::fstat);
    7 poll(Hex, UInt, Int) => Partial(io::poll, "blocking waits re-check readiness with a back-off of at most 10 ms");
    8 lseek(Int, Int, UInt) => Full(io::lseek);
    9 mmap(Hex, UInt, Hex, Hex, Int, Hex) => Partial(mm::mmap, "anonymous memory only; file mappings come with the filesystem");
    10 mprotect(Hex, UInt, Hex) => Full(mm::mprotect);
    11 munmap(Hex, UInt) => Full(mm::munmap);
    12 brk(Hex) => Full(mm::brk);
    13 rt_sigaction(Int, Hex, Hex, UInt) => Partial(signal::rt_sigaction, "actions are recorded; delivery comes with threads and faults");
    14 rt_sigprocmask(Int, Hex, Hex, UInt) => Full(signal::rt_sigprocmask);
    16 ioctl(Int, Hex, Hex) => Partial(io::ioctl, "FIONBIO, FIOCLEX, FIONCLEX and what each file supports (TCGETS, TIOCGWINSZ, ... on the console)");
    17 pread64(Int, OutBuf, UInt, Int) => Full(io::pread64);
    18 pwrite64(Int, InBuf(2), UInt, Int) => Full(io::pwrite64);
    19 readv(Int, Hex, Int) => Full(io::readv);
    20 writev(Int, Hex, Int) => Full(io::writev);
    24 sched_yield() => Full(ident::sched_yield);
    25 mremap(Hex, UInt, UInt, Hex, Hex) => Partial(mm::mremap, "MREMAP_DONTUNMAP gives EINVAL");
    27 mincore(Hex, UInt, Hex) => Full(mm::mincore);
    28 madvise(Hex, UInt, Int) => Full(mm::madvise);
    32 dup(Int) => Full(io::dup);
    33 dup2(Int, Int) => Full(io::dup2);
    35 nanosleep(Hex, Hex) => Partial(time::nanosleep, "never interrupted (no signal delivery yet)");
    39 getpid() => Full(ident::getpid);
    60 exit(Int) => Partial(process::exit, "single-threaded: ends the process");
    62 kill(Int, Int) => Partial(kill::kill, "to this process only; default actions and SIG_IGN, no delivery to handlers yet");
    63 uname(Hex) => Full(ident::uname);
    72 fcntl(Int, Int, Hex) => Partial(io::fcntl, "F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL; locks come with the filesystem");
    79 getcwd(OutBuf, UInt) => Partial(fs::getcwd, "always / until the filesystem exists");
    89 readlink(Str, OutBuf, Int) => Partial(fs::readlink, "only /proc/self/exe until the filesystem exists");
    96 gettimeofday(Hex, Hex) => Full(time::gettimeofday);
    97 getrlimit(UInt, Hex) => Full(ident::getrlimit);
    99 sysinfo(Hex) => Full(ident::sysinfo);
    102 getuid() => Full(ident::getuid);
    104 getgid() => Full(ident::getgid);
    107 geteuid() => Full(ident::getuid);
    108 getegid() => Full(ident::getgid);
    110 getppid() => Full(ident::getppid);
    111 getpgrp() => Full(ident::getpid);
    121 getpgid(Int) => Full(ident::getpgid);
    124 getsid(Int) => Full(ident::getpgid);
    131 sigaltstack(Hex, Hex) => Full(signal::sigaltstack);
    157 prctl(Int, Hex, Hex, Hex, Hex) => Partial(ident::prctl, "PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_SET_DUMPABLE; others EINVAL");
    158 arch_prctl(Hex, Hex) => Partial(process::arch_prctl, "ARCH_SET_FS, ARCH_GET_FS, ARCH_GET_GS");
    160 setrlimit(UInt, Hex) => Full(ident::setrlimit);
    186 gettid() => Full(ident::gettid);
    200 tkill(Int, Int) => Partial(kill::tkill, "to this thread only; default actions and SIG_IGN, no delivery to handlers yet");
    201 time(Hex) => Full(time::time);
    202 futex(Hex, Int, UInt, Hex, Hex, UInt) => Partial(futex::futex, "one thread: wakes find no waiter, matching waits sleep to their timeout; PI operations ENOSYS");
    204 sched_getaffinity(Int, UInt, Hex) => Full(ident::sched_getaffinity);
    218 set_tid_address(Hex) => Full(process::set_tid_address);
    228 clock_gettime(Int, Hex) => Full(time::clock_gettime);
    229 clock_getres(Int, Hex) => Full(time::clock_getres);
    230 clock_nanosleep(Int, Int, Hex, Hex) => Partial(time::clock_nanosleep, "never interrupted (no signal delivery yet)");
    231 exit_group(Int) => Full(process::exit_group);
    234 tgkill(Int, Int, Int) => Partial(kill::tgkill, "to this thread only; default actions and SIG_IGN, no delivery to handlers yet");
    262 newfstatat(Int, Str, Hex, Hex) => Partial(fs::newfstatat, "on an fd (AT_EMPTY_PATH) only until the filesystem exists");
    267 readlinkat(Int, Str, OutBuf, Int) => Partial(fs::readlinkat, "only /proc/self/exe until the filesystem exists");
    271 ppoll(Hex, UInt, Hex, Hex, UInt) => Partial(io::ppoll, "the signal mask is not applied during the wait");
    273 set_robust_list(Hex, UInt) => Full(process::set_robust_list);
    274 get_robust_list(Int, Hex, Hex) => Full(process::get_robust_list);
    292 dup3(Int, Int, Hex) => Full(io::dup3);
    295 preadv(Int, Hex, Int, Int) => Full(io::preadv);
    296 pwritev(Int, Hex, Int, Int) => Full(io::pwritev);
    302 prlimit64(Int, UInt, Hex, Hex) => Full(ident::prlimit64);
    318 getrandom(OutBuf, UInt, Hex) => Full(random::getrandom);
    334 rseq(Hex, UInt, Hex, Hex) => Fails(Errno::ENOSYS, "restartable sequences are not offered; glibc and tcmalloc fall back");
}

/// `INDEX[nr]` is the position of syscall `nr` in [`SYSCALLS`], or `u16::MAX`.
static INDEX: [u16; SYSCALL_COUNT] = build_index();

const fn build_index() -> [u16; SYSCALL_COUNT] {
    let mut index = [u16::MAX; SYSCALL_COUNT];
    let mut i = 0;
    while i < SYSCALLS.len() {
        let nr = SYSCALLS[i].nr as usize;
        assert!(nr < SYSCALL_COUNT, "syscall number beyond the name table");
        assert!(index[nr] == u16::MAX, "a syscall is listed twice");
        assert!(i == 0 || SYSCALLS[i - 1].nr < SYSCALLS[i].nr, "the table is kept in syscall-number order");
        index[nr] = i as u16;
        i += 1;
    }
    index
}

/// The table row for `nr`.
#[inline]
pub fn lookup(nr: u64) -> Option<&'static SyscallDef> {
    let slot = *INDEX.get(usize::try_from(nr).ok()?)?;
    SYSCALLS.get(slot as usize)
}

/// Runs the handler of `def`.
#[inline]
pub fn call(def: &SyscallDef, ctx: &mut Ctx, args: &Args) -> SysResult {
    match def.support {
        Support::Full(h) | Support::Partial(h, _) => h(ctx, args),
        Support::Errno(e, _) => Err(e),
    }
}
