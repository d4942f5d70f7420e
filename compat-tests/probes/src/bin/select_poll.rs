//! poll, ppoll, select and pselect6 over pipes, eventfds, TCP sockets and stdin: the
//! errnos (EINVAL, EBADF, EFAULT), what each set and event means (POLLHUP, POLLERR,
//! POLLNVAL, the exception set for urgent data), timeouts and what select and ppoll
//! write back, waits ended by another thread, the temporary signal masks of ppoll and
//! pselect6, and signals ending waits (EINTR even with SA_RESTART). Nothing prints a
//! time; every wait is bounded.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use probes::fsutil::{must, section, v};
use probes::net::*;
use probes::{sig, Timespec};

static HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_usr1(_: i32, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    HANDLED.fetch_add(1, SeqCst);
}

fn pipe() -> (i32, i32) {
    let (r, p) = probes::sys::pipe2(libc::O_NONBLOCK);
    must("pipe2", r);
    (p[0], p[1])
}

fn pfd(fd: i32, events: i16) -> libc::pollfd {
    libc::pollfd { fd, events, revents: 0 }
}

fn show(r: isize, fds: &[libc::pollfd]) -> String {
    let ev: Vec<String> = fds.iter().map(|p| events(p.revents as u16 as u32)).collect();
    format!("{} [{}]", v(r), ev.join(", "))
}

fn polls() {
    section("poll");
    let (r, w) = pipe();
    let mut fds = [pfd(r, libc::POLLIN), pfd(w, libc::POLLOUT), pfd(-1, libc::POLLIN), pfd(999, libc::POLLIN)];
    println!("pipe, negative fd, closed fd: {}", show(poll(&mut fds, 0), &fds));
    write(w, b"x");
    let mut fds = [pfd(r, libc::POLLIN | libc::POLLOUT), pfd(r, 0)];
    println!("read end with data, and asking nothing: {}", show(poll(&mut fds, 0), &fds));
    close(w);
    let mut fds = [pfd(r, libc::POLLIN), pfd(r, 0)];
    println!("writer gone: {}", show(poll(&mut fds, 0), &fds));
    close(r);
    let (r, w) = pipe();
    close(r);
    let mut fds = [pfd(w, libc::POLLOUT), pfd(w, 0)];
    println!("reader gone: {}", show(poll(&mut fds, 0), &fds));
    close(w);
    let lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    let _ = lim;
    // SAFETY: a huge nfds is refused before the array is read.
    let r = unsafe { probes::syscall6(libc::SYS_poll as usize, 0, 1 << 30, 0, 0, 0, 0) };
    println!("nfds past RLIMIT_NOFILE: {}", v(r));
    // SAFETY: an unmapped array: EFAULT.
    let r = unsafe { probes::syscall6(libc::SYS_poll as usize, 8, 1, 0, 0, 0, 0) };
    println!("bad array: {}", v(r));
    let start = Instant::now();
    println!("no fds, 30 ms: {} (waited {})", v(poll(&mut [], 30)), start.elapsed() >= Duration::from_millis(25));

    let e = must("eventfd2", eventfd2(0, libc::O_NONBLOCK));
    let mut fds = [pfd(e, libc::POLLIN | libc::POLLOUT)];
    println!("eventfd at 0: {}", show(poll(&mut fds, 0), &fds));
    let t = std::thread::spawn(move || {
        nap(30);
        write(e, &1u64.to_ne_bytes())
    });
    let mut fds = [pfd(e, libc::POLLIN)];
    println!("eventfd, woken by a write: {}", show(poll(&mut fds, 5000), &fds));
    t.join().unwrap();
    close(e);

    let mut fds = [pfd(0, libc::POLLIN)];
    println!("stdin, closed by the runner: {}", show(poll(&mut fds, 5000), &fds));
}

fn ppolls() {
    section("ppoll");
    let (r, w) = pipe();
    let mut t = Timespec { tv_sec: 0, tv_nsec: 20_000_000 };
    let mut fds = [pfd(r, libc::POLLIN)];
    let res = ppoll(&mut fds, Some(&mut t), None);
    println!("timeout: {} left {}", show(res, &fds), t.tv_sec == 0 && t.tv_nsec < 20_000_000);
    let mut t = Timespec { tv_sec: 5, tv_nsec: 0 };
    write(w, b"x");
    let res = ppoll(&mut fds, Some(&mut t), None);
    println!("ready at once: {} left some {}", show(res, &fds), t.tv_sec <= 5 && (t.tv_sec > 0 || t.tv_nsec > 0));
    let mut bad = Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 };
    println!("bad timespec: {}", v(ppoll(&mut fds, Some(&mut bad), None)));
    let mut neg = Timespec { tv_sec: -1, tv_nsec: 0 };
    println!("negative timespec: {}", v(ppoll(&mut fds, Some(&mut neg), None)));
    // SAFETY: a sigset size other than 8 is refused.
    let r5 = unsafe {
        let m = 0u64;
        probes::syscall6(libc::SYS_ppoll as usize, 0, 0, 0, &m as *const u64 as usize, 4, 0)
    };
    println!("sigset size 4: {}", v(r5));

    let usr1 = 1u64 << (libc::SIGUSR1 - 1);
    sig::install(libc::SIGUSR1, on_usr1, libc::SA_SIGINFO | libc::SA_RESTART, 0);
    sig::block(usr1);
    HANDLED.store(0, SeqCst);
    let _ = sig::tgkill(sig::getpid(), sig::gettid(), libc::SIGUSR1);
    let mut fds = [pfd(w, 0)];
    let mut t = Timespec { tv_sec: 5, tv_nsec: 0 };
    let res = ppoll(&mut fds, Some(&mut t), Some(0));
    println!("ppoll unblocking a pending signal: {} handler ran {}", v(res), HANDLED.load(SeqCst));
    println!("mask after: SIGUSR1 blocked {}", sig::current_mask() & usr1 != 0);
    let mut fds = [pfd(r, libc::POLLIN)];
    println!("ppoll keeping it blocked: {}", show(ppoll(&mut fds, None, Some(usr1)), &fds));
    println!("pending after: {}", sig::pending() & usr1 != 0);
    sig::unblock(usr1);
    println!("taken once unblocked: {}", HANDLED.load(SeqCst));

    drain_fd(r);
    static DONE: AtomicBool = AtomicBool::new(false);
    DONE.store(false, SeqCst);
    let pester = sig::pester(sig::gettid(), libc::SIGUSR1, Duration::from_millis(20), &DONE);
    let mut fds = [pfd(r, libc::POLLIN)];
    let res = poll(&mut fds, 5000);
    DONE.store(true, SeqCst);
    pester.join().unwrap();
    println!("poll, SA_RESTART handler: {}", v(res));
    close(r);
    close(w);
}

fn drain_fd(fd: i32) {
    let mut b = [0u8; 256];
    while read(fd, &mut b) > 0 {}
}

fn selects() {
    section("select");
    let (r, w) = pipe();
    let mut rs = fdset(&[r]);
    let mut ws = fdset(&[w]);
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let res = select(w + 1, Some(&mut rs), Some(&mut ws), None, Some(&mut tv));
    println!("empty pipe: {} read {:?} write {}", v(res), fdset_members(&rs), fdset_members(&ws) == [w]);
    write(w, b"x");
    let mut rs = fdset(&[r, w]);
    let mut ws = fdset(&[r, w]);
    let mut es = fdset(&[r, w]);
    let res = select(w + 1, Some(&mut rs), Some(&mut ws), Some(&mut es), None);
    println!(
        "both ends in every set: {} read {} write {} except {:?}",
        v(res),
        fdset_members(&rs) == [r],
        fdset_members(&ws) == [w],
        fdset_members(&es)
    );
    let mut rs = fdset(&[r]);
    println!(
        "nfds below the fd: {} {:?}",
        v(select(r, Some(&mut rs), None, None, Some(&mut libc::timeval { tv_sec: 0, tv_usec: 0 }))),
        fdset_members(&rs)
    );
    println!("nfds -1: {}", v(select(-1, None, None, None, None)));
    let mut rs = fdset(&[r, 900]);
    println!("a closed fd: {}", v(select(901, Some(&mut rs), None, None, None)));
    let mut rs = fdset(&[1000]);
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    println!("a closed fd past the table: {}", v(select(1001, Some(&mut rs), None, None, Some(&mut tv))));
    let mut tv = libc::timeval { tv_sec: -1, tv_usec: 0 };
    println!("negative timeout: {}", v(select(0, None, None, None, Some(&mut tv))));
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: -1 };
    println!("negative usec: {}", v(select(0, None, None, None, Some(&mut tv))));
    drain_fd(r);
    let mut rs = fdset(&[r]);
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 1_020_000 };
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        nap(40);
        write(w, b"y")
    });
    let res = select(r + 1, Some(&mut rs), None, None, Some(&mut tv));
    t.join().unwrap();
    println!(
        "usec past a second, woken by a write: {} {:?} left {} waited {}",
        v(res),
        fdset_members(&rs) == [r],
        tv.tv_sec == 0 && tv.tv_usec > 0 && tv.tv_usec < 1_000_000,
        start.elapsed() >= Duration::from_millis(30)
    );
    let mut rs = fdset(&[r]);
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 20_000 };
    drain_fd(r);
    let res = select(r + 1, Some(&mut rs), None, None, Some(&mut tv));
    println!(
        "timeout: {} sets cleared {} timeval zero {}",
        v(res),
        fdset_members(&rs).is_empty(),
        tv.tv_sec == 0 && tv.tv_usec == 0
    );
    // SAFETY: an unreadable set: EFAULT.
    let bad = unsafe { probes::syscall6(libc::SYS_select as usize, 1, 8, 0, 0, 0, 0) };
    println!("bad set pointer: {}", v(bad));

    section("pselect6");
    let usr1 = 1u64 << (libc::SIGUSR1 - 1);
    sig::block(usr1);
    HANDLED.store(0, SeqCst);
    let _ = sig::tgkill(sig::getpid(), sig::gettid(), libc::SIGUSR1);
    let mut rs = fdset(&[r]);
    let mut ts = Timespec { tv_sec: 5, tv_nsec: 0 };
    let res = pselect6(r + 1, Some(&mut rs), Some(&mut ts), Some(0));
    println!("pselect6 unblocking a pending signal: {} handler ran {}", v(res), HANDLED.load(SeqCst));
    println!("mask after: SIGUSR1 blocked {}", sig::current_mask() & usr1 != 0);
    write(w, b"z");
    let mut rs = fdset(&[r]);
    let mut ts = Timespec { tv_sec: 1, tv_nsec: 0 };
    let res = pselect6(r + 1, Some(&mut rs), Some(&mut ts), Some(usr1));
    println!("pselect6 keeping it blocked, data there: {} {:?}", v(res), fdset_members(&rs) == [r]);
    let mut bad = Timespec { tv_sec: 0, tv_nsec: -1 };
    println!("pselect6 bad timespec: {}", v(pselect6(0, None, Some(&mut bad), None)));
    sig::unblock(usr1);
    close(r);
    close(w);
}

fn sockets() {
    section("sockets");
    let (c, s) = tcp_pair();
    let mut fds = [pfd(c, libc::POLLIN | libc::POLLOUT), pfd(s, libc::POLLIN | libc::POLLPRI)];
    println!("connected pair: {}", show(poll(&mut fds, 0), &fds));
    send(c, b"data", 0);
    let mut fds = [pfd(s, libc::POLLIN)];
    println!("data sent: {}", show(poll(&mut fds, 5000), &fds));
    send(c, b"!", libc::MSG_OOB);
    let mut es = fdset(&[s]);
    let mut tv = libc::timeval { tv_sec: 5, tv_usec: 0 };
    println!(
        "urgent data, exception set: {} {}",
        v(select(s + 1, None, None, Some(&mut es), Some(&mut tv))),
        fdset_members(&es) == [s]
    );
    let mut fds = [pfd(s, libc::POLLPRI)];
    println!("urgent data, POLLPRI: {}", show(poll(&mut fds, 0), &fds));
    let mut buf = [0u8; 16];
    println!("read: {}", v(recv(s, &mut buf, 0)));
    shutdown(c, libc::SHUT_WR);
    let mut fds = [pfd(s, libc::POLLIN | libc::POLLRDHUP)];
    println!("peer shut down: {}", show(poll(&mut fds, 5000), &fds));
    close(c);
    let t = std::thread::spawn(|| {
        let (l, addr) = listener4();
        let c = must("socket", socket(libc::AF_INET, libc::SOCK_STREAM, 0));
        let t2 = std::thread::spawn(move || {
            nap(30);
            let r = connect(c, &addr);
            (r, c)
        });
        let mut fds = [pfd(l, libc::POLLIN)];
        let res = poll(&mut fds, 5000);
        let (rc, c) = t2.join().unwrap();
        close(c);
        close(l);
        format!("{} connect {}", show(res, &fds), v(rc))
    });
    println!("listener, woken by a connection: {}", t.join().unwrap());
    close(s);
}

fn main() {
    polls();
    ppolls();
    selects();
    sockets();
}
