//! pidfds: pidfd_open (flags, the own pid, a thread's tid with and without
//! PIDFD_THREAD, errnos), the file (F_GETFL/F_GETFD, fstat, fstatfs, /proc/self/fd and
//! fdinfo, read/write/lseek/ioctl, poll and epoll while the process runs, a thread pidfd
//! becoming readable when its thread ends and a blocking poll woken by it),
//! pidfd_send_signal (scopes, flags, PIDFD_SELF_*, a /proc/self directory fd, caller
//! siginfo rules, errnos), pidfd_getfd (a pipe end used through the copy), and
//! waitid(P_PIDFD) / wait4 in a process without children.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering::SeqCst};
use std::sync::mpsc;
use std::time::Duration;

use probes::fsutil::{must, section, v};
use probes::net::*;
use probes::{sig, syscall};

const PIDFD_THREAD: u32 = libc::O_EXCL as u32;
const PIDFD_NONBLOCK: u32 = libc::O_NONBLOCK as u32;
const PIDFD_SELF_THREAD: i32 = -10000;
const PIDFD_SELF_THREAD_GROUP: i32 = -10001;
const PIDFD_SIGNAL_THREAD: u32 = 1;
const PIDFD_SIGNAL_THREAD_GROUP: u32 = 2;
const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 4;
const P_ALL: usize = 0;
const P_PID: usize = 1;
const P_PGID: usize = 2;
const P_PIDFD: usize = 3;
const PIDFS_MAGIC: i64 = 0x5049_4446;

fn pidfd_open(pid: i32, flags: u32) -> isize {
    // SAFETY: no pointers.
    unsafe { syscall!(libc::SYS_pidfd_open as usize, pid as isize, flags) }
}

fn send(pidfd: i32, sig: i32, info: usize, flags: u32) -> isize {
    // SAFETY: `info` is NULL, a 128-byte siginfo, or an address the kernel must refuse.
    unsafe { syscall!(libc::SYS_pidfd_send_signal as usize, pidfd as isize, sig as isize, info, flags) }
}

fn getfd(pidfd: i32, fd: i32, flags: u32) -> isize {
    // SAFETY: no pointers.
    unsafe { syscall!(libc::SYS_pidfd_getfd as usize, pidfd as isize, fd as isize, flags) }
}

fn waitid(which: usize, id: i32, info: usize, options: i32) -> isize {
    // SAFETY: `info` is NULL, a 128-byte buffer, or an address the kernel must refuse.
    unsafe { syscall!(libc::SYS_waitid as usize, which, id as isize, info, options as isize, 0) }
}

fn wait4(pid: i32, options: i32) -> isize {
    // SAFETY: no status or rusage pointers.
    unsafe { syscall!(libc::SYS_wait4 as usize, pid as isize, 0, options as isize, 0) }
}

fn pollev(fd: i32, timeout_ms: i32) -> String {
    let mut p = [libc::pollfd { fd, events: libc::POLLIN | libc::POLLOUT | libc::POLLPRI, revents: 0 }];
    let r = poll(&mut p, timeout_ms);
    format!("{} {}", v(r), events(p[0].revents as u32))
}

fn epoll_once(fd: i32) -> String {
    let ep = must("epoll_create1", epoll_create1(0));
    let add = epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, (libc::EPOLLIN | libc::EPOLLOUT) as u32, 7);
    let (r, evs) = epoll_wait(ep, 4, 0);
    close(ep);
    format!("add {} wait {}", v(add), wait_result(r, &evs))
}

fn fd_flags(fd: i32) -> String {
    format!("F_GETFL {:#o} F_GETFD {}", fcntl(fd, libc::F_GETFL, 0), fcntl(fd, libc::F_GETFD, 0))
}

/// What a handler saw: the si_code, the receiving tid and si_pid / si_value.
static GOT_CODE: AtomicI32 = AtomicI32::new(i32::MIN);
static GOT_TID: AtomicI32 = AtomicI32::new(0);
static GOT_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_usr1(_: i32, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a readable siginfo to an SA_SIGINFO handler.
    let i = unsafe { sig::Info::read(info) };
    GOT_PID.store(i.pid, SeqCst);
    GOT_TID.store(sig::gettid(), SeqCst);
    GOT_CODE.store(i.code, SeqCst);
}

/// Runs `f` (which sends SIGUSR1 somewhere) and says what the handler saw, waiting a
/// little for a signal aimed at another thread.
fn delivery(tids: &[(i32, &str)], f: impl FnOnce() -> isize) -> String {
    GOT_CODE.store(i32::MIN, SeqCst);
    let r = f();
    if r < 0 {
        return v(r);
    }
    if !sig::wait_until(Duration::from_secs(5), || GOT_CODE.load(SeqCst) != i32::MIN) {
        return format!("{} not delivered", v(r));
    }
    let tid = GOT_TID.load(SeqCst);
    let who = tids.iter().find(|(t, _)| *t == tid).map_or("another thread", |(_, n)| n);
    let from_me = GOT_PID.load(SeqCst) == sig::getpid();
    format!("{} {} to {who} si_pid=mine:{from_me}", v(r), sig::si_code_name(GOT_CODE.load(SeqCst)))
}

/// A thread that runs until told to end: its tid, the switch, the handle.
struct Worker {
    tid: i32,
    stop: &'static AtomicBool,
    handle: std::thread::JoinHandle<()>,
}

fn worker() -> Worker {
    let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        tx.send(sig::gettid()).unwrap();
        while !stop.load(SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    Worker { tid: rx.recv().unwrap(), stop, handle }
}

fn open_section(pid: i32) -> i32 {
    section("pidfd_open");
    println!("flags 1: {}", v(pidfd_open(pid, 1)));
    println!("flags O_CLOEXEC: {}", v(pidfd_open(pid, libc::O_CLOEXEC as u32)));
    println!("pid 0: {}", v(pidfd_open(0, 0)));
    println!("pid -1: {}", v(pidfd_open(-1, 0)));
    println!("pid 0, flags 1: {}", v(pidfd_open(0, 1)));
    println!("no such pid: {}", v(pidfd_open(i32::MAX, 0)));
    println!("no such pid, flags 1: {}", v(pidfd_open(i32::MAX, 1)));
    let fd = must("pidfd_open", pidfd_open(pid, 0));
    println!("own pid: {}", fd_flags(fd));
    let nb = must("pidfd_open", pidfd_open(pid, PIDFD_NONBLOCK));
    println!("PIDFD_NONBLOCK: {}", fd_flags(nb));
    let th = must("pidfd_open", pidfd_open(pid, PIDFD_THREAD));
    println!("PIDFD_THREAD on the pid: {}", fd_flags(th));
    println!("both: {}", probes::outcome(pidfd_open(pid, PIDFD_THREAD | PIDFD_NONBLOCK)));
    close(nb);
    close(th);
    fd
}

fn file_section(fd: i32, pid: i32) {
    section("the file");
    let (_, st) = probes::sys::fstat(fd);
    println!(
        "fstat: mode {:#o} nlink {} size {} blksize {} rdev {}",
        st.st_mode, st.st_nlink, st.st_size, st.st_blksize, st.st_rdev
    );
    let again = must("pidfd_open", pidfd_open(pid, 0));
    let (_, st2) = probes::sys::fstat(again);
    println!("a second pidfd has the same inode: {}", st.st_ino == st2.st_ino && st.st_dev == st2.st_dev);
    close(again);
    // SAFETY: the kernel writes one `struct statfs`.
    let mut sfs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `sfs` is a `struct statfs`.
    let r = unsafe { libc::fstatfs(fd, &mut sfs) };
    println!("fstatfs: {r} pidfs: {}", sfs.f_type == PIDFS_MAGIC);
    println!("link: {:?}", probes::sys::readlink(&format!("/proc/self/fd/{fd}")));
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
    let keys: Vec<&str> = info.lines().filter_map(|l| l.split(':').next()).collect();
    println!("fdinfo keys: {}", keys.join(" "));
    let field = |k: &str| info.lines().find_map(|l| l.strip_prefix(k)).map(|s| s.trim().to_string());
    println!("fdinfo flags: {:?}", field("flags:"));
    let mine = Some(pid.to_string());
    println!("fdinfo Pid, NSpid are mine: {} {}", field("Pid:") == mine, field("NSpid:") == mine);
    let mut b = [0u8; 8];
    println!("read: {} write: {}", v(read(fd, &mut b)), v(write(fd, &b)));
    println!("lseek: {}", v(probes::sys::lseek(fd, 0, libc::SEEK_SET)));
    println!("ioctl FIONREAD: {}", v(ioctl_int(fd, libc::FIONREAD).0));
    println!("poll: {}", pollev(fd, 0));
    println!("epoll: {}", epoll_once(fd));
}

fn thread_section(pid: i32) {
    section("threads");
    let w = worker();
    println!("a thread's tid: {}", v(pidfd_open(w.tid, 0)));
    println!("a thread's tid, flags 1: {}", v(pidfd_open(w.tid, 1)));
    let tfd = must("pidfd_open", pidfd_open(w.tid, PIDFD_THREAD));
    println!("PIDFD_THREAD: {}", fd_flags(tfd));
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{tfd}")).unwrap_or_default();
    println!("fdinfo Pid is its tid: {}", info.contains(&format!("Pid:\t{}\n", w.tid)));
    println!("poll while it runs: {}", pollev(tfd, 0));
    println!("epoll while it runs: {}", epoll_once(tfd));
    let tfd2 = must("pidfd_open", pidfd_open(w.tid, PIDFD_THREAD));

    // A poll that blocks until the thread ends.
    let stop = w.stop;
    let ender = std::thread::spawn(move || {
        nap(30);
        stop.store(true, SeqCst);
    });
    println!("blocking poll until it ends: {}", pollev(tfd, 10_000));
    ender.join().unwrap();
    w.handle.join().unwrap();
    println!("poll after it ended: {}", pollev(tfd2, 0));
    println!("epoll after it ended: {}", epoll_once(tfd2));
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{tfd}")).unwrap_or_default();
    let pid_line = info.lines().find(|l| l.starts_with("Pid:")).unwrap_or("none").to_string();
    println!("fdinfo after it ended: {pid_line:?}");
    println!("send 0 after it ended: {}", v(send(tfd, 0, 0, 0)));
    println!("getfd after it ended: {}", v(getfd(tfd, 0, 0)));
    println!("open its tid again: {}", v(pidfd_open(w.tid, PIDFD_THREAD)));
    println!("waitid on it: {}", v(waitid(P_PIDFD, tfd, 0, libc::WEXITED)));
    close(tfd);
    close(tfd2);
    let _ = pid;
}

fn signal_section(fd: i32, pid: i32) {
    section("pidfd_send_signal");
    sig::install(sig::SIGUSR1, on_usr1, sig::SA_SIGINFO, 0);
    let main_tid = sig::gettid();
    let w = worker();
    let tids = [(main_tid, "main"), (w.tid, "worker")];
    let tfd = must("pidfd_open", pidfd_open(w.tid, PIDFD_THREAD));
    let mfd = must("pidfd_open", pidfd_open(pid, PIDFD_THREAD));

    println!("signal 0: {}", v(send(fd, 0, 0, 0)));
    println!("SIGUSR1: {}", delivery(&tids, || send(fd, sig::SIGUSR1, 0, 0)));
    println!("SIGUSR1 through the leader's thread pidfd: {}", delivery(&tids, || send(mfd, sig::SIGUSR1, 0, 0)));
    println!("SIGUSR1 through the worker's pidfd: {}", delivery(&tids, || send(tfd, sig::SIGUSR1, 0, 0)));
    for (name, flags) in [
        ("PIDFD_SIGNAL_THREAD", PIDFD_SIGNAL_THREAD),
        ("PIDFD_SIGNAL_THREAD_GROUP", PIDFD_SIGNAL_THREAD_GROUP),
        ("PIDFD_SIGNAL_PROCESS_GROUP", PIDFD_SIGNAL_PROCESS_GROUP),
    ] {
        println!("process pidfd, {name}: {}", delivery(&tids, || send(fd, sig::SIGUSR1, 0, flags)));
        println!("thread pidfd, {name}, signal 0: {}", v(send(tfd, 0, 0, flags)));
    }
    println!("PIDFD_SELF_THREAD: {}", delivery(&tids, || send(PIDFD_SELF_THREAD, sig::SIGUSR1, 0, 0)));
    println!("PIDFD_SELF_THREAD_GROUP: {}", delivery(&tids, || send(PIDFD_SELF_THREAD_GROUP, sig::SIGUSR1, 0, 0)));
    println!("-20000: {}", v(send(-20000, 0, 0, 0)));
    let dir = must("open /proc/self", probes::sys::open("/proc/self", libc::O_RDONLY | libc::O_DIRECTORY, 0));
    println!("a /proc/self directory fd: {}", delivery(&tids, || send(dir, sig::SIGUSR1, 0, 0)));
    println!("getfd through it: {}", v(getfd(dir, 0, 0)));
    println!("waitid through it: {}", v(waitid(P_PIDFD, dir, 0, libc::WEXITED)));
    close(dir);

    println!("flags 8: {}", v(send(fd, 0, 0, 8)));
    println!("flags 3: {}", v(send(fd, 0, 0, 3)));
    println!("flags 8 on a bad fd: {}", v(send(999, 0, 0, 8)));
    println!("signal 65: {}", v(send(fd, 65, 0, 0)));
    println!("signal -1: {}", v(send(fd, -1, 0, 0)));
    println!("a closed fd: {}", v(send(999, 0, 0, 0)));
    println!("stdin: {}", v(send(0, 0, 0, 0)));
    let (r, p) = probes::sys::pipe();
    must("pipe", r);
    println!("a pipe: {}", v(send(p[0], 0, 0, 0)));
    println!("an unmapped siginfo: {}", v(send(fd, sig::SIGUSR1, probes::unmapped_page(), 0)));
    println!("an unmapped siginfo on a bad fd: {}", v(send(999, sig::SIGUSR1, probes::unmapped_page(), 0)));

    let mut info = sig::Info::queue_bytes(sig::SIGUSR1, 77);
    println!("SI_QUEUE: {}", delivery(&tids, || send(fd, sig::SIGUSR1, info.as_ptr() as usize, 0)));
    println!("signo differs: {}", v(send(fd, sig::SIGUSR2, info.as_ptr() as usize, 0)));
    println!("SI_QUEUE to the worker: {}", delivery(&tids, || send(tfd, sig::SIGUSR1, info.as_ptr() as usize, 0)));
    info[1] = sig::SI_USER as u32 as u64;
    println!("SI_USER to itself: {}", delivery(&tids, || send(fd, sig::SIGUSR1, info.as_ptr() as usize, 0)));
    println!("SI_USER to the worker: {}", v(send(tfd, sig::SIGUSR1, info.as_ptr() as usize, 0)));
    println!(
        "SI_USER, PIDFD_SIGNAL_PROCESS_GROUP: {}",
        v(send(fd, sig::SIGUSR1, info.as_ptr() as usize, PIDFD_SIGNAL_PROCESS_GROUP))
    );
    info[1] = sig::SI_TKILL as u32 as u64;
    println!("SI_TKILL to itself: {}", delivery(&tids, || send(mfd, sig::SIGUSR1, info.as_ptr() as usize, 0)));
    info[1] = sig::SI_KERNEL as u32 as u64;
    println!("SI_KERNEL to the worker: {}", v(send(tfd, sig::SIGUSR1, info.as_ptr() as usize, 0)));
    info[0] = 0;
    println!("signal 0 with a siginfo for 0: {}", v(send(fd, 0, info.as_ptr() as usize, 0)));

    w.stop.store(true, SeqCst);
    w.handle.join().unwrap();
    close(tfd);
    close(mfd);
    close(p[0]);
    close(p[1]);
}

fn getfd_section(fd: i32) {
    section("pidfd_getfd");
    let (r, p) = probes::sys::pipe();
    must("pipe", r);
    let copy = must("pidfd_getfd", getfd(fd, p[1], 0));
    println!("copy of the write end: {}", fd_flags(copy));
    println!("write through it: {}", v(write(copy, b"hi")));
    let mut b = [0u8; 4];
    let n = read(p[0], &mut b);
    println!("read at the other end: {} {:?}", v(n), String::from_utf8_lossy(&b[..n.max(0) as usize]));
    close(copy);
    let self_copy = must("pidfd_getfd", getfd(fd, fd, 0));
    println!("a copy of the pidfd itself: {}", fd_flags(self_copy));
    close(self_copy);
    println!("flags 1: {}", v(getfd(fd, p[1], 1)));
    println!("flags 1 on a bad fd: {}", v(getfd(999, 0, 1)));
    println!("a closed target: {}", v(getfd(fd, 999, 0)));
    println!("a negative target: {}", v(getfd(fd, -1, 0)));
    println!("a closed pidfd: {}", v(getfd(999, 0, 0)));
    println!("a pipe as pidfd: {}", v(getfd(p[0], 0, 0)));
    close(p[0]);
    close(p[1]);
}

fn wait_section(fd: i32, pid: i32) {
    section("waitid and wait4");
    let mut buf = [0xffu8; 128];
    let r = waitid(P_PIDFD, fd, buf.as_mut_ptr() as usize, libc::WEXITED);
    let word = |o: usize| u32::from_ne_bytes(buf[o..o + 4].try_into().unwrap());
    let words: Vec<String> = (0..8).map(|i| format!("{:#x}", word(i * 4))).collect();
    println!("P_PIDFD: {} siginfo words {}", v(r), words.join(" "));
    println!("P_PIDFD, WNOHANG: {}", v(waitid(P_PIDFD, fd, 0, libc::WEXITED | libc::WNOHANG)));
    println!("P_PIDFD, unmapped siginfo: {}", v(waitid(P_PIDFD, fd, probes::unmapped_page(), libc::WEXITED)));
    println!("P_PIDFD, a pipe: {}", v(waitid(P_PIDFD, 1, 0, libc::WEXITED)));
    println!("P_PIDFD, a closed fd: {}", v(waitid(P_PIDFD, 999, 0, libc::WEXITED)));
    println!("P_PIDFD, -1: {}", v(waitid(P_PIDFD, -1, 0, libc::WEXITED)));
    println!("no WEXITED/WSTOPPED/WCONTINUED: {}", v(waitid(P_PIDFD, fd, 0, libc::WNOHANG)));
    println!("unknown option: {}", v(waitid(P_PIDFD, fd, 0, libc::WEXITED | 0x100)));
    println!("idtype 9: {}", v(waitid(9, fd, 0, libc::WEXITED)));
    println!("P_ALL: {}", v(waitid(P_ALL, 0, 0, libc::WEXITED)));
    println!("P_PID, own pid: {}", v(waitid(P_PID, pid, 0, libc::WEXITED)));
    println!("P_PID, 0: {}", v(waitid(P_PID, 0, 0, libc::WEXITED)));
    println!("P_PGID, 0: {}", v(waitid(P_PGID, 0, 0, libc::WEXITED | libc::WSTOPPED)));
    println!("P_PGID, -1: {}", v(waitid(P_PGID, -1, 0, libc::WEXITED)));
    println!("wait4(-1): {}", v(wait4(-1, 0)));
    println!("wait4(-1, WNOHANG): {}", v(wait4(-1, libc::WNOHANG)));
    println!("wait4(INT_MIN): {}", v(wait4(i32::MIN, 0)));
    println!("wait4(-1, WEXITED): {}", v(wait4(-1, libc::WEXITED)));
    println!("wait4 unknown option on INT_MIN: {}", v(wait4(i32::MIN, 0x100)));
}

fn main() {
    let pid = sig::getpid();
    let fd = open_section(pid);
    file_section(fd, pid);
    thread_section(pid);
    signal_section(fd, pid);
    getfd_section(fd);
    wait_section(fd, pid);
    println!("close: {}", v(close(fd)));
}
