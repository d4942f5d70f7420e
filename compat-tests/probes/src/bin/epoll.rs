//! epoll: creation and epoll_ctl's errnos (EBADF, EINVAL, EPERM, EEXIST, ENOENT,
//! ELOOP, EFAULT, the EPOLLEXCLUSIVE rules), level-triggered, edge-triggered and
//! one-shot reporting over pipes, eventfds and a loopback TCP connection, maxevents
//! and the order of level-triggered events, nested instances, what closing an fd
//! does to its entry (and the dup gotcha), epoll_wait's errnos, epoll_pwait's mask,
//! epoll_pwait2's timespec, and a signal ending a wait (EINTR, even with SA_RESTART).
//! Every wait that should find nothing uses a zero timeout; those that wait are
//! bounded.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use probes::fsutil::{must, o, section, v};
use probes::net::*;
use probes::{sig, Timespec};

const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;
const ET: u32 = libc::EPOLLET as u32;
const ONESHOT: u32 = libc::EPOLLONESHOT as u32;
const EXCLUSIVE: u32 = libc::EPOLLEXCLUSIVE as u32;
const RDHUP: u32 = libc::EPOLLRDHUP as u32;
const ADD: i32 = libc::EPOLL_CTL_ADD;
const MOD: i32 = libc::EPOLL_CTL_MOD;
const DEL: i32 = libc::EPOLL_CTL_DEL;

static HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_usr1(_: i32, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    HANDLED.fetch_add(1, SeqCst);
}

fn pipe() -> (i32, i32) {
    let (r, p) = probes::sys::pipe2(libc::O_NONBLOCK);
    must("pipe2", r);
    (p[0], p[1])
}

fn w(ep: i32, max: usize) -> String {
    let (r, evs) = epoll_wait(ep, max, 0);
    wait_result(r, &evs)
}

/// Waits up to a second for something to be ready.
fn w_block(ep: i32, max: usize) -> String {
    let (r, evs) = epoll_wait(ep, max, 1000);
    wait_result(r, &evs)
}

fn drain(fd: i32) {
    let mut buf = [0u8; 4096];
    while read(fd, &mut buf) > 0 {}
}

fn create() {
    section("create");
    println!("epoll_create(0): {}", v(epoll_create(0)));
    println!("epoll_create(-1): {}", v(epoll_create(-1)));
    println!("epoll_create(1): {}", o(epoll_create(1)));
    println!("epoll_create1(1): {}", v(epoll_create1(1)));
    let ep = must("epoll_create1", epoll_create1(libc::EPOLL_CLOEXEC));
    println!("EPOLL_CLOEXEC: F_GETFD {}", v(fcntl(ep, libc::F_GETFD, 0)));
    println!("F_GETFL: {:#o}", fcntl(ep, libc::F_GETFL, 0));
    println!("link: {:?}", probes::sys::readlink(&format!("/proc/self/fd/{ep}")));
    let (_, st) = probes::sys::fstat(ep);
    println!("fstat mode: {:#o}", st.st_mode);
    close(ep);
}

fn ctl_errors() {
    section("epoll_ctl errors");
    let ep = must("epoll_create1", epoll_create1(0));
    let (r, wfd) = pipe();
    let file = must("open", probes::sys::open("/proc/self/exe", libc::O_RDONLY, 0));
    let null = must("open", probes::sys::open("/dev/null", libc::O_RDWR, 0));
    println!("bad epfd: {}", v(epoll_ctl(999, ADD, r, IN, 0)));
    println!("bad fd: {}", v(epoll_ctl(ep, ADD, 999, IN, 0)));
    println!("epfd not an epoll: {}", v(epoll_ctl(r, ADD, wfd, IN, 0)));
    println!("epoll on itself: {}", v(epoll_ctl(ep, ADD, ep, IN, 0)));
    println!("regular file: {}", v(epoll_ctl(ep, ADD, file, IN, 0)));
    println!("/dev/null: {}", v(epoll_ctl(ep, ADD, null, IN, 0)));
    println!("regular file, epfd not an epoll: {}", v(epoll_ctl(r, ADD, file, IN, 0)));
    println!("ADD: {}", v(epoll_ctl(ep, ADD, r, IN, 1)));
    println!("ADD again: {}", v(epoll_ctl(ep, ADD, r, IN, 1)));
    println!("MOD not added: {}", v(epoll_ctl(ep, MOD, wfd, OUT, 2)));
    println!("DEL not added: {}", v(epoll_ctl(ep, DEL, wfd, 0, 0)));
    println!("bad op: {}", v(epoll_ctl(ep, 99, r, IN, 0)));
    println!("ADD with a null event: {}", v(epoll_ctl_raw(ep, ADD, wfd, 0)));
    println!("bad op with a null event: {}", v(epoll_ctl_raw(ep, 99, wfd, 0)));
    println!("DEL with a null event: {}", v(epoll_ctl_raw(ep, DEL, r, 0)));
    println!("EPOLLEXCLUSIVE with MOD: {}", v(epoll_ctl(ep, MOD, r, IN | EXCLUSIVE, 0)));
    println!("EPOLLEXCLUSIVE|EPOLLONESHOT: {}", v(epoll_ctl(ep, ADD, r, IN | EXCLUSIVE | ONESHOT, 0)));
    println!("EPOLLEXCLUSIVE|EPOLLRDHUP: {}", v(epoll_ctl(ep, ADD, r, IN | EXCLUSIVE | RDHUP, 0)));
    println!("EPOLLEXCLUSIVE|EPOLLET: {}", v(epoll_ctl(ep, ADD, r, IN | EXCLUSIVE | ET, 0)));
    println!("MOD an exclusive entry: {}", v(epoll_ctl(ep, MOD, r, IN, 0)));
    println!("DEL it: {}", v(epoll_ctl(ep, DEL, r, 0, 0)));
    let inner = must("epoll_create1", epoll_create1(0));
    println!("EPOLLEXCLUSIVE on an epoll fd: {}", v(epoll_ctl(ep, ADD, inner, IN | EXCLUSIVE, 0)));
    println!("nest: {}", v(epoll_ctl(ep, ADD, inner, IN, 0)));
    println!("loop: {}", v(epoll_ctl(inner, ADD, ep, IN, 0)));
    println!("EPOLLWAKEUP accepted: {}", v(epoll_ctl(ep, ADD, wfd, OUT | libc::EPOLLWAKEUP as u32, 5)));
    for fd in [ep, r, wfd, file, null, inner] {
        close(fd);
    }
}

fn level_triggered() {
    section("level-triggered");
    let ep = must("epoll_create1", epoll_create1(0));
    let (r, wfd) = pipe();
    must("ADD", epoll_ctl(ep, ADD, r, IN, 1));
    println!("empty pipe: {}", w(ep, 8));
    println!("write: {}", v(write(wfd, b"abc")));
    println!("readable: {}", w(ep, 8));
    println!("still readable: {}", w(ep, 8));
    must("ADD", epoll_ctl(ep, ADD, wfd, OUT, 2));
    println!("both: {}", w(ep, 8));
    println!("maxevents 1, three times: {} / {} / {}", w(ep, 1), w(ep, 1), w(ep, 1));
    drain(r);
    println!("drained: {}", w(ep, 8));
    println!("MOD the write end to IN: {}", v(epoll_ctl(ep, MOD, wfd, IN, 3)));
    println!("nothing: {}", w(ep, 8));
    println!("close the write end: {}", v(close(wfd)));
    println!("read end after the writer left: {}", w(ep, 8));
    close(r);
    close(ep);
}

fn edge_triggered() {
    section("edge-triggered");
    let ep = must("epoll_create1", epoll_create1(0));
    let (r, wfd) = pipe();
    must("ADD", epoll_ctl(ep, ADD, r, IN | ET, 1));
    println!("empty: {}", w(ep, 8));
    write(wfd, b"one");
    println!("after a write: {}", w(ep, 8));
    println!("again: {}", w(ep, 8));
    write(wfd, b"two");
    println!("after another write: {}", w(ep, 8));
    let mut b = [0u8; 2];
    read(r, &mut b);
    println!("after a partial read: {}", w(ep, 8));
    must("ADD", epoll_ctl(ep, ADD, wfd, OUT | ET, 2));
    println!("write end added: {}", w(ep, 8));
    println!("again: {}", w(ep, 8));
    read(r, &mut b);
    println!("after a read from a pipe that was not full: {}", w(ep, 8));
    let chunk = [7u8; 4096];
    while write(wfd, &chunk) > 0 {}
    println!("filled: {}", w(ep, 8));
    let mut page = [0u8; 4096];
    read(r, &mut page);
    println!("after a read from a full pipe: {}", w(ep, 8));
    drain(r);
    println!("MOD the read end (still ET): {}", v(epoll_ctl(ep, MOD, r, IN | ET, 1)));
    println!("nothing: {}", w(ep, 8));
    close(r);
    close(wfd);
    close(ep);

    let ep = must("epoll_create1", epoll_create1(0));
    let efd = must("eventfd2", eventfd2(0, libc::O_NONBLOCK));
    must("ADD", epoll_ctl(ep, ADD, efd, IN | ET, 7));
    write(efd, &1u64.to_ne_bytes());
    println!("eventfd written: {}", w(ep, 8));
    println!("again: {}", w(ep, 8));
    write(efd, &1u64.to_ne_bytes());
    println!("written again, still readable: {}", w(ep, 8));
    close(efd);
    close(ep);
}

fn oneshot() {
    section("one-shot");
    let ep = must("epoll_create1", epoll_create1(0));
    let (r, wfd) = pipe();
    must("ADD", epoll_ctl(ep, ADD, r, IN | ONESHOT, 1));
    write(wfd, b"x");
    println!("first: {}", w(ep, 8));
    println!("disabled: {}", w(ep, 8));
    write(wfd, b"y");
    println!("still disabled after a write: {}", w(ep, 8));
    println!("MOD rearms: {} then {}", v(epoll_ctl(ep, MOD, r, IN | ONESHOT, 2)), w(ep, 8));
    println!("ADD again: {}", v(epoll_ctl(ep, ADD, r, IN, 1)));
    println!("DEL: {}", v(epoll_ctl(ep, DEL, r, 0, 0)));
    close(r);
    close(wfd);
    close(ep);
}

fn nested() {
    section("nested");
    let outer = must("epoll_create1", epoll_create1(0));
    let inner = must("epoll_create1", epoll_create1(0));
    let (r, wfd) = pipe();
    must("ADD", epoll_ctl(inner, ADD, r, IN, 1));
    must("ADD", epoll_ctl(outer, ADD, inner, IN, 9));
    println!("nothing: {}", w(outer, 8));
    let mut p = [libc::pollfd { fd: inner, events: libc::POLLIN, revents: 0 }];
    println!("poll the inner: {} {}", v(poll(&mut p, 0)), events(p[0].revents as u32));
    write(wfd, b"x");
    println!("outer: {}", w(outer, 8));
    let mut p = [libc::pollfd { fd: inner, events: libc::POLLIN | libc::POLLOUT, revents: 0 }];
    println!("poll the inner: {} {}", v(poll(&mut p, 0)), events(p[0].revents as u32));
    println!("inner: {}", w(inner, 8));
    drain(r);
    println!("drained, outer: {}", w(outer, 8));
    let writer = std::thread::spawn(move || {
        nap(30);
        write(wfd, b"later")
    });
    println!("outer, blocking until another thread writes: {}", w_block(outer, 8));
    writer.join().unwrap();
    close(r);
    close(wfd);
    close(inner);
    close(outer);
}

fn closing() {
    section("closing");
    let ep = must("epoll_create1", epoll_create1(0));
    let (r, wfd) = pipe();
    must("ADD", epoll_ctl(ep, ADD, r, IN, 1));
    write(wfd, b"x");
    close(r);
    println!("the only fd closed: {}", w(ep, 8));
    let (r, wfd2) = pipe();
    must("ADD", epoll_ctl(ep, ADD, r, IN, 2));
    let d = must("dup", probes::sys::dup(r));
    close(r);
    write(wfd2, b"x");
    println!("closed, a dup still open: {}", w(ep, 8));
    println!("DEL through the closed fd: {}", v(epoll_ctl(ep, DEL, r, 0, 0)));
    println!("DEL through the dup: {}", v(epoll_ctl(ep, DEL, d, 0, 0)));
    println!("ADD the dup: {} then {}", v(epoll_ctl(ep, ADD, d, IN, 3)), w(ep, 8));
    for fd in [d, wfd, wfd2, ep] {
        close(fd);
    }
}

fn wait_errors() {
    section("epoll_wait errors");
    let ep = must("epoll_create1", epoll_create1(0));
    let (r, wfd) = pipe();
    println!("maxevents 0: {}", v(epoll_wait(ep, 0, 0).0));
    // SAFETY: maxevents is checked before the buffer is used.
    let neg = unsafe { probes::syscall6(libc::SYS_epoll_wait as usize, ep as usize, 0, usize::MAX, 0, 0, 0) };
    println!("maxevents -1: {}", v(neg));
    println!("not an epoll: {}", v(epoll_wait(r, 1, 0).0));
    println!("bad fd: {}", v(epoll_wait(999, 1, 0).0));
    must("ADD", epoll_ctl(ep, ADD, wfd, OUT, 1));
    // SAFETY: a null events pointer: the kernel reports EFAULT.
    let null = unsafe { probes::syscall6(libc::SYS_epoll_wait as usize, ep as usize, 0, 1, 0, 0, 0) };
    println!("ready, events pointer null: {}", v(null));
    let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
    println!(
        "epoll_pwait2, zero timespec: {}",
        wait_result(epoll_pwait2(ep, 8, Some(&zero)).0, &epoll_pwait2(ep, 8, Some(&zero)).1)
    );
    let bad = Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 };
    println!("epoll_pwait2, bad timespec: {}", v(epoll_pwait2(ep, 8, Some(&bad)).0));
    let neg = Timespec { tv_sec: -1, tv_nsec: 0 };
    println!("epoll_pwait2, negative timespec: {}", v(epoll_pwait2(ep, 8, Some(&neg)).0));
    // SAFETY: a sigset size other than 8 is refused before anything is read.
    let badsize = unsafe {
        let m = 0u64;
        probes::syscall6(libc::SYS_epoll_pwait as usize, ep as usize, 0, 1, 0, &m as *const u64 as usize, 4)
    };
    println!("epoll_pwait, sigset size 4: {}", v(badsize));
    close(r);
    close(wfd);
    close(ep);
}

fn signals() {
    section("signals");
    let ep = must("epoll_create1", epoll_create1(0));
    let (r, wfd) = pipe();
    must("ADD", epoll_ctl(ep, ADD, r, IN, 1));
    sig::install(libc::SIGUSR1, on_usr1, libc::SA_SIGINFO | libc::SA_RESTART, 0);
    static DONE: AtomicBool = AtomicBool::new(false);
    let pester = sig::pester(sig::gettid(), libc::SIGUSR1, Duration::from_millis(20), &DONE);
    let (res, _) = epoll_wait(ep, 8, 5000);
    DONE.store(true, SeqCst);
    pester.join().unwrap();
    println!("blocking wait, SA_RESTART handler: {} (handler ran: {})", v(res), HANDLED.load(SeqCst) > 0);

    let usr1 = 1u64 << (libc::SIGUSR1 - 1);
    sig::block(usr1);
    HANDLED.store(0, SeqCst);
    let _ = sig::tgkill(sig::getpid(), sig::gettid(), libc::SIGUSR1);
    let (res, _) = epoll_pwait(ep, 8, 1000, Some(0));
    println!("epoll_pwait unblocking a pending signal: {} (handler ran: {})", v(res), HANDLED.load(SeqCst));
    println!("mask after: SIGUSR1 blocked {}", sig::current_mask() & usr1 != 0);
    let (res, _) = epoll_pwait(ep, 8, 0, Some(usr1));
    println!("epoll_pwait keeping it blocked: {}", v(res));
    write(wfd, b"x");
    let (res, evs) = epoll_pwait(ep, 8, 0, Some(0));
    println!("epoll_pwait, ready fd and no signal pending: {}", wait_result(res, &evs));
    sig::unblock(usr1);
    close(r);
    close(wfd);
    close(ep);
}

fn tcp() {
    section("TCP over loopback");
    let ep = must("epoll_create1", epoll_create1(0));
    let (l, addr) = listener4();
    must("ADD", epoll_ctl(ep, ADD, l, IN, 1));
    println!("listener, nobody connecting: {}", w(ep, 8));
    let c = must("socket", socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0));
    println!("non-blocking connect: {}", v(connect(c, &addr)));
    must("ADD", epoll_ctl(ep, ADD, c, OUT | ET, 2));
    println!("wait: {}", w_block(ep, 8));
    println!("connected: {}", v(connect(c, &addr)));
    let s = must("accept4", accept4(l, None, libc::SOCK_NONBLOCK));
    must("DEL", epoll_ctl(ep, DEL, l, 0, 0));
    must("ADD", epoll_ctl(ep, ADD, s, IN | RDHUP | ET, 3));
    println!("accepted, nothing sent: {}", w(ep, 8));
    send(c, b"hello", 0);
    println!("data: {}", w_block(ep, 8));
    println!("again (edge-triggered): {}", w(ep, 8));
    send(c, b"more", 0);
    println!("more data: {}", w_block(ep, 8));
    let mut buf = [0u8; 64];
    println!("read: {}", v(recv(s, &mut buf, 0)));
    shutdown(c, libc::SHUT_WR);
    println!("peer shut down writing: {}", w_block(ep, 8));
    println!("read: {}", v(recv(s, &mut buf, 0)));
    must("MOD", epoll_ctl(ep, MOD, s, IN | OUT | RDHUP, 3));
    println!("level-triggered IN|OUT|RDHUP: {}", w(ep, 8));
    close(c);
    close(s);
    close(l);
    close(ep);
}

fn main() {
    create();
    ctl_errors();
    level_triggered();
    edge_triggered();
    oneshot();
    nested();
    closing();
    wait_errors();
    signals();
    tcp();
}
