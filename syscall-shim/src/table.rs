//! The syscall table: every syscall unify knows, once — number, name, handler, how
//! completely it is supported, and how to print its arguments. Dispatch, the trace,
//! `unify syscalls` and docs/syscalls.md are all generated from [`SYSCALLS`].
//!
//! A number that is not listed is unimplemented: it returns ENOSYS and is reported once.

use libos::{Errno, Kernel, SysResult, Thread};

use crate::args::Args;
use crate::names::SYSCALL_COUNT;
use crate::sys::{
    attrs, children, clone, copy, cwd, dirops, epoll, eventfd, futex, ident, io, kill, lock, memfd, mm, mmap_file,
    open, pidfd, pipe, poll, process, random, rusage, sched, signal, socket, sockmsg, splice, stat, time, timer,
    timerfd,
};

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
    2 open(Str, Hex, Hex) => Full(open::open);
    3 close(Int) => Full(io::close);
    4 stat(Str, Hex) => Full(stat::stat);
    5 fstat(Int, Hex) => Full(io::fstat);
    6 lstat(Str, Hex) => Full(stat::lstat);
    7 poll(Hex, UInt, Int) => Full(poll::poll);
    8 lseek(Int, Int, UInt) => Full(io::lseek);
    9 mmap(Hex, UInt, Hex, Hex, Int, Hex) => Partial(mm::mmap, "regular files and memfds; a private file mapping is a snapshot (Linux shows later file changes in pages not yet written); the file's node catches up with shared mappings on msync(MS_SYNC), fsync, the last munmap and exit (reads through fds see the mappings at once)");
    10 mprotect(Hex, UInt, Hex) => Full(mm::mprotect);
    11 munmap(Hex, UInt) => Full(mm::munmap);
    12 brk(Hex) => Full(mm::brk);
    13 rt_sigaction(Int, Hex, Hex, UInt) => Full(signal::rt_sigaction);
    14 rt_sigprocmask(Int, Hex, Hex, UInt) => Full(signal::rt_sigprocmask);
    15 rt_sigreturn() => Full(signal::rt_sigreturn);
    16 ioctl(Int, Hex, Hex) => Partial(io::ioctl, "FIONBIO, FIOCLEX, FIONCLEX and what each file supports (FIONREAD on files and pipes; TCGETS, TIOCGWINSZ, ... on the console; TFD_IOC_SET_TICKS on timerfds)");
    17 pread64(Int, OutBuf, UInt, Int) => Full(io::pread64);
    18 pwrite64(Int, InBuf(2), UInt, Int) => Full(io::pwrite64);
    19 readv(Int, Hex, Int) => Full(io::readv);
    20 writev(Int, Hex, Int) => Full(io::writev);
    21 access(Str, Hex) => Full(stat::access);
    22 pipe(Hex) => Full(pipe::pipe);
    23 select(Int, Hex, Hex, Hex, Hex) => Full(poll::select);
    24 sched_yield() => Full(sched::sched_yield);
    25 mremap(Hex, UInt, UInt, Hex, Hex) => Partial(mm::mremap, "MREMAP_DONTUNMAP gives EINVAL");
    26 msync(Hex, UInt, Hex) => Full(mmap_file::msync);
    27 mincore(Hex, UInt, Hex) => Full(mm::mincore);
    28 madvise(Hex, UInt, Int) => Full(mm::madvise);
    32 dup(Int) => Full(io::dup);
    33 dup2(Int, Int) => Full(io::dup2);
    34 pause() => Full(signal::pause);
    35 nanosleep(Hex, Hex) => Partial(time::nanosleep, "a signal without a handler that interrupts it makes it sleep its whole time again (Linux sleeps what is left)");
    36 getitimer(Int, Hex) => Partial(timer::getitimer, "ITIMER_VIRTUAL and ITIMER_PROF run on the host process's CPU time, which includes the libOS's own work (ITIMER_VIRTUAL: its user time), checked at most every 4 ms tick");
    37 alarm(UInt) => Full(timer::alarm);
    38 setitimer(Int, Hex, Hex) => Partial(timer::setitimer, "ITIMER_VIRTUAL and ITIMER_PROF run on the host process's CPU time, which includes the libOS's own work (ITIMER_VIRTUAL: its user time), checked at most every 4 ms tick");
    39 getpid() => Full(ident::getpid);
    40 sendfile(Int, Int, Hex, UInt) => Partial(copy::sendfile, "the source must be a regular file (Linux also reads terminals and sockets)");
    41 socket(Int, Int, Int) => Partial(socket::socket, "AF_INET and AF_INET6 are the platform's (hosted: host sockets); AF_UNIX sockets with addresses are not supported yet (EAFNOSUPPORT; socketpair works); other families EAFNOSUPPORT");
    42 connect(Int, Hex, Int) => Partial(socket::connect, "AF_UNIX names are not supported (ENOSYS after Linux's address checks), so AF_UNIX sockets connect only as socketpair makes them");
    43 accept(Int, Hex, Hex) => Full(socket::accept);
    44 sendto(Int, InBuf(2), UInt, Hex, Hex, Int) => Partial(sockmsg::sendto, "a destination address on an AF_UNIX datagram pair gives ENOSYS (no AF_UNIX names)");
    45 recvfrom(Int, OutBuf, UInt, Hex, Hex, Hex) => Full(sockmsg::recvfrom);
    46 sendmsg(Int, Hex, Hex) => Partial(sockmsg::sendmsg, "ancillary data: SCM_RIGHTS and SCM_CREDENTIALS on AF_UNIX pairs; passed through to host sockets; ignored by the VM's sockets");
    47 recvmsg(Int, Hex, Hex) => Full(sockmsg::recvmsg);
    48 shutdown(Int, Int) => Full(socket::shutdown);
    49 bind(Int, Hex, Int) => Partial(socket::bind, "AF_UNIX names (paths, abstract names) give ENOSYS");
    50 listen(Int, Int) => Full(socket::listen);
    51 getsockname(Int, Hex, Hex) => Full(socket::getsockname);
    52 getpeername(Int, Hex, Hex) => Full(socket::getpeername);
    53 socketpair(Int, Int, Int, Hex) => Partial(socket::socketpair, "AF_UNIX stream, datagram and seqpacket pairs, with SCM_RIGHTS and SCM_CREDENTIALS, without out-of-band data or SCM_PIDFD");
    54 setsockopt(Int, Int, Int, Hex, Int) => Partial(socket::setsockopt, "host sockets: the options on unify's allow-list (SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP basics), others ENOPROTOOPT; AF_UNIX pairs: SO_SNDBUF, SO_RCVBUF, SO_RCVTIMEO, SO_SNDTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_PASSCRED");
    55 getsockopt(Int, Int, Int, Hex, Hex) => Partial(socket::getsockopt, "as setsockopt, plus SO_TYPE, SO_ERROR, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN and SO_PEERCRED");
    56 clone(Hex, Hex, Hex, Hex, Hex) => Partial(clone::clone, "threads as glibc and musl create them (sharing VM, FS, FILES, SIGHAND); new processes ENOSYS");
    60 exit(Int) => Full(process::exit);
    61 wait4(Int, Hex, Hex, Hex) => Partial(children::wait4, "the guest never has children (new processes are ENOSYS): ECHILD after Linux's argument checks");
    62 kill(Int, Int) => Partial(kill::kill, "reaches this process only (the guest is the only process)");
    63 uname(Hex) => Full(ident::uname);
    72 fcntl(Int, Int, Hex) => Partial(io::fcntl, "F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL, F_GETLK/SETLK/SETLKW and the OFD forms, F_GETPIPE_SZ/SETPIPE_SZ, F_ADD_SEALS/GET_SEALS; the others (owners, leases, notify) EINVAL");
    73 flock(Int, Int) => Full(lock::flock);
    74 fsync(Int) => Full(attrs::fsync);
    75 fdatasync(Int) => Full(attrs::fsync);
    76 truncate(Str, Int) => Full(attrs::truncate);
    77 ftruncate(Int, Int) => Full(attrs::ftruncate);
    78 getdents(Int, Hex, UInt) => Full(io::getdents);
    79 getcwd(OutBuf, UInt) => Full(cwd::getcwd);
    80 chdir(Str) => Full(cwd::chdir);
    81 fchdir(Int) => Full(cwd::fchdir);
    82 rename(Str, Str) => Full(dirops::rename);
    83 mkdir(Str, Hex) => Full(dirops::mkdir);
    84 rmdir(Str) => Full(dirops::rmdir);
    85 creat(Str, Hex) => Full(open::creat);
    86 link(Str, Str) => Full(dirops::link);
    87 unlink(Str) => Full(dirops::unlink);
    88 symlink(Str, Str) => Full(dirops::symlink);
    89 readlink(Str, OutBuf, Int) => Full(dirops::readlink);
    90 chmod(Str, Hex) => Full(attrs::chmod);
    91 fchmod(Int, Hex) => Full(attrs::fchmod);
    92 chown(Str, Int, Int) => Full(attrs::chown);
    93 fchown(Int, Int, Int) => Full(attrs::fchown);
    94 lchown(Str, Int, Int) => Full(attrs::lchown);
    95 umask(Hex) => Full(cwd::umask);
    96 gettimeofday(Hex, Hex) => Full(time::gettimeofday);
    97 getrlimit(UInt, Hex) => Full(ident::getrlimit);
    98 getrusage(Int, Hex) => Full(rusage::getrusage);
    99 sysinfo(Hex) => Full(ident::sysinfo);
    102 getuid() => Full(ident::getuid);
    104 getgid() => Full(ident::getgid);
    107 geteuid() => Full(ident::getuid);
    108 getegid() => Full(ident::getgid);
    110 getppid() => Full(ident::getppid);
    111 getpgrp() => Full(ident::getpid);
    121 getpgid(Int) => Full(ident::getpgid);
    124 getsid(Int) => Full(ident::getpgid);
    127 rt_sigpending(Hex, UInt) => Full(signal::rt_sigpending);
    128 rt_sigtimedwait(Hex, Hex, Hex, UInt) => Full(signal::rt_sigtimedwait);
    129 rt_sigqueueinfo(Int, Int, Hex) => Partial(kill::rt_sigqueueinfo, "reaches this process only");
    130 rt_sigsuspend(Hex, UInt) => Full(signal::rt_sigsuspend);
    131 sigaltstack(Hex, Hex) => Full(signal::sigaltstack);
    133 mknod(Str, Hex, Hex) => Full(dirops::mknod);
    137 statfs(Str, Hex) => Full(stat::statfs);
    138 fstatfs(Int, Hex) => Full(stat::fstatfs);
    143 sched_getparam(Int, Hex) => Full(sched::sched_getparam);
    145 sched_getscheduler(Int) => Full(sched::sched_getscheduler);
    157 prctl(Int, Hex, Hex, Hex, Hex) => Partial(ident::prctl, "PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_SET_DUMPABLE; others EINVAL");
    158 arch_prctl(Hex, Hex) => Partial(process::arch_prctl, "ARCH_SET_FS, ARCH_GET_FS, ARCH_GET_GS");
    160 setrlimit(UInt, Hex) => Full(ident::setrlimit);
    162 sync() => Full(attrs::sync);
    186 gettid() => Full(ident::gettid);
    200 tkill(Int, Int) => Full(kill::tkill);
    201 time(Hex) => Full(time::time);
    202 futex(Hex, Int, UInt, Hex, Hex, UInt) => Partial(futex::futex, "priority-inheritance operations ENOSYS");
    203 sched_setaffinity(Int, UInt, Hex) => Full(sched::sched_setaffinity);
    204 sched_getaffinity(Int, UInt, Hex) => Full(sched::sched_getaffinity);
    213 epoll_create(Int) => Full(epoll::epoll_create);
    217 getdents64(Int, Hex, UInt) => Full(io::getdents64);
    218 set_tid_address(Hex) => Full(process::set_tid_address);
    222 timer_create(Int, Hex, Hex) => Partial(timer::timer_create, "CLOCK_REALTIME, MONOTONIC, BOOTTIME, TAI and the process's CPU clock; thread CPU clocks and the alarm clocks give EOPNOTSUPP, other processes' CPU clocks EINVAL; a periodic timer whose signal is ignored is tried again every 10 ms at most (Linux waits until the signal's action changes)");
    223 timer_settime(Int, Hex, Hex, Hex) => Partial(timer::timer_settime, "deadlines are waited for as time to go on the monotonic clock: a change of the host's CLOCK_REALTIME is seen at the next wake-up; CPU-time deadlines are checked at most every 4 ms tick");
    224 timer_gettime(Int, Hex) => Full(timer::timer_gettime);
    225 timer_getoverrun(Int) => Full(timer::timer_getoverrun);
    226 timer_delete(Int) => Full(timer::timer_delete);
    228 clock_gettime(Int, Hex) => Full(time::clock_gettime);
    229 clock_getres(Int, Hex) => Full(time::clock_getres);
    230 clock_nanosleep(Int, Int, Hex, Hex) => Partial(time::clock_nanosleep, "a relative sleep interrupted by a signal without a handler sleeps its whole time again");
    231 exit_group(Int) => Full(process::exit_group);
    232 epoll_wait(Int, Hex, Int, Int) => Full(epoll::epoll_wait);
    233 epoll_ctl(Int, Int, Int, Hex) => Full(epoll::epoll_ctl);
    234 tgkill(Int, Int, Int) => Full(kill::tgkill);
    247 waitid(Int, Int, Hex, Hex, Hex) => Partial(children::waitid, "the guest never has children (new processes are ENOSYS): ECHILD after Linux's argument checks (P_PIDFD takes a pidfd)");
    257 openat(Int, Str, Hex, Hex) => Full(open::openat);
    258 mkdirat(Int, Str, Hex) => Full(dirops::mkdirat);
    259 mknodat(Int, Str, Hex, Hex) => Full(dirops::mknodat);
    260 fchownat(Int, Str, Int, Int, Hex) => Full(attrs::fchownat);
    262 newfstatat(Int, Str, Hex, Hex) => Full(stat::newfstatat);
    263 unlinkat(Int, Str, Hex) => Full(dirops::unlinkat);
    264 renameat(Int, Str, Int, Str) => Full(dirops::renameat);
    265 linkat(Int, Str, Int, Str, Hex) => Full(dirops::linkat);
    266 symlinkat(Str, Int, Str) => Full(dirops::symlinkat);
    267 readlinkat(Int, Str, OutBuf, Int) => Full(dirops::readlinkat);
    268 fchmodat(Int, Str, Hex) => Full(attrs::fchmodat);
    269 faccessat(Int, Str, Hex) => Full(stat::faccessat);
    270 pselect6(Int, Hex, Hex, Hex, Hex, Hex) => Full(poll::pselect6);
    271 ppoll(Hex, UInt, Hex, Hex, UInt) => Full(poll::ppoll);
    273 set_robust_list(Hex, UInt) => Full(process::set_robust_list);
    274 get_robust_list(Int, Hex, Hex) => Full(process::get_robust_list);
    275 splice(Int, Hex, Int, Hex, UInt, Hex) => Partial(splice::splice, "data is copied, not moved page by page; a file end must be a regular file");
    276 tee(Int, Int, UInt, Hex) => Partial(splice::tee, "data is copied, not shared page by page");
    280 utimensat(Int, Str, Hex, Hex) => Full(attrs::utimensat);
    281 epoll_pwait(Int, Hex, Int, Int, Hex, UInt) => Full(epoll::epoll_pwait);
    282 signalfd(Int, Hex, UInt) => Full(signal::signalfd);
    283 timerfd_create(Int, Hex) => Full(timerfd::timerfd_create);
    284 eventfd(UInt) => Full(eventfd::eventfd);
    285 fallocate(Int, Hex, Int, Int) => Partial(attrs::fallocate, "mode 0 only; hole punching and FALLOC_FL_KEEP_SIZE give EOPNOTSUPP");
    286 timerfd_settime(Int, Hex, Hex, Hex) => Partial(timerfd::timerfd_settime, "TFD_TIMER_CANCEL_ON_SET is accepted but never cancels: the guest cannot set the clock, and a change of the host's realtime clock is not watched");
    287 timerfd_gettime(Int, Hex) => Full(timerfd::timerfd_gettime);
    288 accept4(Int, Hex, Hex, Hex) => Full(socket::accept4);
    289 signalfd4(Int, Hex, UInt, Hex) => Full(signal::signalfd4);
    290 eventfd2(UInt, Hex) => Full(eventfd::eventfd2);
    291 epoll_create1(Hex) => Full(epoll::epoll_create1);
    292 dup3(Int, Int, Hex) => Full(io::dup3);
    293 pipe2(Hex, Hex) => Partial(pipe::pipe2, "O_NOTIFICATION_PIPE gives ENOPKG (no watch queues)");
    295 preadv(Int, Hex, Int, Int) => Full(io::preadv);
    296 pwritev(Int, Hex, Int, Int) => Full(io::pwritev);
    297 rt_tgsigqueueinfo(Int, Int, Int, Hex) => Full(kill::rt_tgsigqueueinfo);
    299 recvmmsg(Int, Hex, UInt, Hex, Hex) => Full(sockmsg::recvmmsg);
    302 prlimit64(Int, UInt, Hex, Hex) => Full(ident::prlimit64);
    306 syncfs(Int) => Full(attrs::syncfs);
    307 sendmmsg(Int, Hex, UInt, Hex) => Full(sockmsg::sendmmsg);
    309 getcpu(Hex, Hex, Hex) => Full(sched::getcpu);
    316 renameat2(Int, Str, Int, Str, Hex) => Partial(dirops::renameat2, "RENAME_EXCHANGE and RENAME_WHITEOUT give EINVAL where the filesystem cannot do them (vfat, tmpfs here)");
    318 getrandom(OutBuf, UInt, Hex) => Full(random::getrandom);
    319 memfd_create(Str, Hex) => Partial(memfd::memfd_create, "MFD_HUGETLB gives EINVAL (no huge pages)");
    324 membarrier(Int, Hex, Int) => Partial(sched::membarrier, "QUERY, GLOBAL, PRIVATE_EXPEDITED and its registration; other commands EINVAL, as on a kernel without them");
    326 copy_file_range(Int, Hex, Int, Hex, UInt, Hex) => Full(copy::copy_file_range);
    332 statx(Int, Str, Hex, Hex, Hex) => Partial(stat::statx, "no birth time (STATX_BTIME never set)");
    334 rseq(Hex, UInt, Hex, Hex) => Fails(Errno::ENOSYS, "restartable sequences are not offered; glibc and tcmalloc fall back");
    424 pidfd_send_signal(Int, Int, Hex, Hex) => Full(pidfd::pidfd_send_signal);
    434 pidfd_open(Int, Hex) => Partial(pidfd::pidfd_open, "the guest's own pid and (PIDFD_THREAD) its threads' tids: the only tasks it has");
    435 clone3(Hex, UInt) => Partial(clone::clone3, "as clone: threads only");
    436 close_range(UInt, UInt, Hex) => Full(open::close_range);
    437 openat2(Int, Str, Hex, UInt) => Fails(Errno::ENOSYS, "libcs fall back to openat");
    438 pidfd_getfd(Int, Int, Hex) => Full(pidfd::pidfd_getfd);
    439 faccessat2(Int, Str, Hex, Hex) => Full(stat::faccessat2);
    441 epoll_pwait2(Int, Hex, Int, Hex, Hex, UInt) => Full(epoll::epoll_pwait2);
    452 fchmodat2(Int, Str, Hex, Hex) => Full(attrs::fchmodat2);
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
