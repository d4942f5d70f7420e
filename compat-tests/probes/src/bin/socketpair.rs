//! socketpair(AF_UNIX): the argument errnos, stream, datagram and seqpacket pairs
//! (data both ways, scattered reads, MSG_PEEK, MSG_DONTWAIT, MSG_TRUNC, FIONREAD),
//! shutdown in each direction and what the peer sees, closing an end (EOF, EPIPE with
//! SIGPIPE ignored and caught, MSG_NOSIGNAL, ECONNRESET for unread data, ECONNREFUSED
//! then ENOTCONN for datagrams), names, options (SO_TYPE, SO_DOMAIN, SO_ERROR,
//! SO_PEERCRED, SO_RCVTIMEO), fstat, poll readiness, a blocking read woken by another
//! thread, and a signal ending one (EINTR; restarted with SA_RESTART).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use probes::fsutil::{ftype, must, section, v};
use probes::net::*;
use probes::sig;

static PIPES: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_sig(sig: i32, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    if sig == libc::SIGPIPE {
        PIPES.fetch_add(1, SeqCst);
    }
}

fn pair(ty: i32) -> (i32, i32) {
    let (r, sv) = socketpair(libc::AF_UNIX, ty, 0);
    must("socketpair", r);
    (sv[0], sv[1])
}

fn rd(fd: i32, n: usize, flags: i32) -> String {
    let mut buf = vec![0u8; n];
    let r = recv(fd, &mut buf, flags);
    if r < 0 {
        return v(r);
    }
    format!("{} {:?}", v(r), String::from_utf8_lossy(&buf[..(r as usize).min(n)]))
}

fn pollev(fd: i32) -> String {
    let want = libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP | libc::POLLPRI;
    let mut p = [libc::pollfd { fd, events: want, revents: 0 }];
    let r = poll(&mut p, 0);
    format!("{} {}", v(r), events(p[0].revents as u32))
}

fn inq(fd: i32) -> String {
    let (r, n) = ioctl_int(fd, libc::FIONREAD);
    if r < 0 {
        v(r)
    } else {
        n.to_string()
    }
}

fn args() {
    section("arguments");
    println!("AF_INET: {}", v(socketpair(libc::AF_INET, libc::SOCK_STREAM, 0).0));
    println!("family 99: {}", v(socketpair(99, libc::SOCK_STREAM, 0).0));
    println!("family -1: {}", v(socketpair(-1, libc::SOCK_STREAM, 0).0));
    println!("type 0: {}", v(socketpair(libc::AF_UNIX, 0, 0).0));
    println!("type 4 (SOCK_RDM): {}", v(socketpair(libc::AF_UNIX, 4, 0).0));
    println!("type 11: {}", v(socketpair(libc::AF_UNIX, 11, 0).0));
    println!("bad flag: {}", v(socketpair(libc::AF_UNIX, libc::SOCK_STREAM | 0x100, 0).0));
    println!("protocol 1: {}", v(socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 1).0));
    println!("protocol 2: {}", v(socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 2).0));
    // SAFETY: a null sv: the kernel reports EFAULT.
    let r = unsafe { probes::syscall6(libc::SYS_socketpair as usize, 1, 1, 0, 0, 0, 0) };
    println!("null sv: {}", v(r));
    let (r, sv) = socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0);
    println!(
        "SOCK_NONBLOCK|SOCK_CLOEXEC: {} F_GETFL {:#o} F_GETFD {}",
        probes::outcome(r),
        fcntl(sv[0], libc::F_GETFL, 0),
        v(fcntl(sv[1], libc::F_GETFD, 0))
    );
    let (_, st) = probes::sys::fstat(sv[0]);
    println!("fstat: {} {:#o}", ftype(st.st_mode), st.st_mode & 0o7777);
    let link = probes::sys::readlink(&format!("/proc/self/fd/{}", sv[0])).unwrap_or_default();
    println!("link starts with socket:[ {}", link.starts_with("socket:["));
    println!("socket(AF_UNIX) is refused or works: {}", {
        let r = socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
        if r >= 0 {
            close(r as i32);
        }
        r >= 0 || r == -(libc::EAFNOSUPPORT as isize)
    });
    close(sv[0]);
    close(sv[1]);
}

fn stream() {
    section("stream");
    let (a, b) = pair(libc::SOCK_STREAM);
    println!("poll a, idle: {}", pollev(a));
    println!("send: {} {}", v(send(a, b"hello ", 0)), v(write(a, b"world")));
    println!("poll b: {}", pollev(b));
    println!("FIONREAD b: {}", inq(b));
    println!("peek 3: {}", rd(b, 3, libc::MSG_PEEK));
    let mut x = [0u8; 2];
    let mut y = [0u8; 20];
    let (r, flags, _) = recvmsg(b, &mut [&mut x[..], &mut y[..]], 0, None);
    println!(
        "recvmsg into 2+20: {} flags {flags} {:?}{:?}",
        v(r),
        String::from_utf8_lossy(&x),
        String::from_utf8_lossy(&y[..(r.max(2) as usize - 2)])
    );
    println!("empty, MSG_DONTWAIT: {}", rd(b, 8, libc::MSG_DONTWAIT));
    println!("sendmsg of 3 parts: {}", v(sendmsg(b, &[b"ab", b"", b"cd"], 0)));
    println!("read a: {}", rd(a, 16, 0));
    println!("MSG_WAITALL with data there: {} {}", v(send(a, b"0123456789", 0)), rd(b, 10, libc::MSG_WAITALL));
    let mut nb = NameBuf::new();
    println!("getsockname: {} {}", v(getsockname(a, &mut nb)), nb.describe());
    println!("getpeername: {} {}", v(getpeername(a, &mut nb)), nb.describe());
    send(a, b"q", 0);
    let r = recvfrom(b, &mut [0u8; 4], 0, &mut nb);
    println!("recvfrom: {} address length {}", v(r), nb.len);
    println!("listen: {}", v(listen(a, 1)));
    println!("accept: {}", v(accept(a)));
    println!("connect to an AF_INET address: {}", v(connect(a, &Addr::lo4(1))));
    println!("sendto with an address: {}", v(sendto(a, b"x", 0, &Addr::lo4(1))));

    section("stream shutdown");
    println!("bad how: {}", v(shutdown(a, 3)));
    send(a, b"last", 0);
    println!("shutdown a SHUT_WR: {}", v(shutdown(a, libc::SHUT_WR)));
    println!("send on a: {}", v(send(a, b"x", libc::MSG_NOSIGNAL)));
    println!("poll a: {}", pollev(a));
    println!("poll b: {}", pollev(b));
    println!("read b: {} / {}", rd(b, 16, 0), rd(b, 16, 0));
    println!("b sends to a: {} {}", v(send(b, b"reply", 0)), rd(a, 16, 0));
    println!("shutdown b SHUT_RD: {}", v(shutdown(b, libc::SHUT_RD)));
    println!("poll a: {}", pollev(a));
    println!("poll b: {}", pollev(b));
    println!("a sends to b: {}", v(send(a, b"x", libc::MSG_NOSIGNAL)));
    println!("b reads: {}", rd(b, 16, libc::MSG_DONTWAIT));
    close(a);
    close(b);

    section("stream close");
    let (a, b) = pair(libc::SOCK_STREAM);
    send(b, b"unread by b", 0);
    send(a, b"for b", 0);
    close(a);
    println!("poll b: {}", pollev(b));
    let (r, e, l) = getsockopt_int(b, libc::SOL_SOCKET, libc::SO_ERROR);
    println!("SO_ERROR b: {} {} len {}", v(r), probes::errno_name(e), l);
    println!("b reads: {} / {} / {}", rd(b, 16, 0), rd(b, 16, 0), rd(b, 16, 0));
    let (a, c) = pair(libc::SOCK_STREAM);
    send(c, b"unread", 0);
    close(a);
    println!("peer closed with data unread: poll {}", pollev(c));
    println!("reads: {} / {}", rd(c, 16, 0), rd(c, 16, 0));
    println!("send, MSG_NOSIGNAL: {}", v(send(c, b"x", libc::MSG_NOSIGNAL)));
    println!("send, SIGPIPE ignored: {}", v(send(c, b"x", 0)));
    sig::install(libc::SIGPIPE, on_sig, libc::SA_SIGINFO, 0);
    println!("send, SIGPIPE caught: {} (handler ran {})", v(send(c, b"x", 0)), PIPES.load(SeqCst));
    println!("write, SIGPIPE caught: {} (handler ran {})", v(write(c, b"x")), PIPES.load(SeqCst));
    println!("empty send: {}", v(send(c, b"", libc::MSG_NOSIGNAL)));
    sig::set_disposition(libc::SIGPIPE, sig::SIG_IGN);
    close(b);
    close(c);
}

fn dgram(ty: i32, name: &str) {
    section(name);
    let (a, b) = pair(ty);
    println!("send 3: {} {} {}", v(send(a, b"first", 0)), v(send(a, b"", 0)), v(send(a, b"third one", 0)));
    println!("FIONREAD b: {}", inq(b));
    println!("poll b: {}", pollev(b));
    println!("read 64: {}", rd(b, 64, 0));
    println!("empty datagram: {}", rd(b, 64, 0));
    println!("peek 3 with MSG_TRUNC: {}", rd(b, 3, libc::MSG_PEEK | libc::MSG_TRUNC));
    let mut small = [0u8; 3];
    let (r, flags, _) = recvmsg(b, &mut [&mut small[..]], 0, None);
    println!(
        "recvmsg into 3: {} MSG_TRUNC {} MSG_EOR {}",
        v(r),
        flags & libc::MSG_TRUNC != 0,
        flags & libc::MSG_EOR != 0
    );
    println!("the rest is gone: {}", rd(b, 64, libc::MSG_DONTWAIT));
    let big = vec![1u8; 300_000];
    println!("300000 bytes: {}", v(send(a, &big, libc::MSG_DONTWAIT)));
    println!("shutdown b SHUT_RD, a sends: {} {}", v(shutdown(b, libc::SHUT_RD)), v(send(a, b"x", libc::MSG_NOSIGNAL)));
    println!("b reads, MSG_DONTWAIT: {}", rd(b, 8, libc::MSG_DONTWAIT));
    println!("b reads, blocking: {}", rd(b, 8, 0));
    close(b);
    println!("peer closed, send: {}", v(send(a, b"x", libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)));
    println!("again: {}", v(send(a, b"x", libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)));
    println!("poll a: {}", pollev(a));
    close(a);
}

fn options() {
    section("options");
    let (a, b) = pair(libc::SOCK_DGRAM);
    for (name, opt) in [
        ("SO_TYPE", libc::SO_TYPE),
        ("SO_DOMAIN", libc::SO_DOMAIN),
        ("SO_PROTOCOL", libc::SO_PROTOCOL),
        ("SO_ACCEPTCONN", libc::SO_ACCEPTCONN),
        ("SO_ERROR", libc::SO_ERROR),
    ] {
        let (r, val, len) = getsockopt_int(a, libc::SOL_SOCKET, opt);
        println!("{name}: {} {val} len {len}", v(r));
    }
    let mut cred = [0u8; 12];
    let (r, len) = getsockopt_bytes(a, libc::SOL_SOCKET, libc::SO_PEERCRED, &mut cred);
    let pid = i32::from_ne_bytes(cred[..4].try_into().unwrap());
    let uid = u32::from_ne_bytes(cred[4..8].try_into().unwrap());
    println!(
        "SO_PEERCRED: {} len {len} pid is ours {} uid is ours {}",
        v(r),
        pid == sig::getpid(),
        uid == sig::getuid()
    );
    let mut short = [0u8; 2];
    let (r, len) = getsockopt_bytes(a, libc::SOL_SOCKET, libc::SO_TYPE, &mut short);
    println!("SO_TYPE into 2 bytes: {} len {len}", v(r));
    println!("SO_SNDBUF set 100000: {}", v(setsockopt_int(a, libc::SOL_SOCKET, libc::SO_SNDBUF, 100_000)));
    println!("SO_SNDBUF: {}", getsockopt_int(a, libc::SOL_SOCKET, libc::SO_SNDBUF).1);
    println!("SO_RCVBUF set 1: {}", v(setsockopt_int(a, libc::SOL_SOCKET, libc::SO_RCVBUF, 1)));
    println!("SO_RCVBUF: {}", getsockopt_int(a, libc::SOL_SOCKET, libc::SO_RCVBUF).1);
    println!("short value: {}", v(setsockopt_bytes(a, libc::SOL_SOCKET, libc::SO_SNDBUF, &[1, 0])));
    // SAFETY: a negative length is refused before the value is read.
    let neg = unsafe { probes::syscall6(libc::SYS_setsockopt as usize, a as usize, 1, 7, 0, usize::MAX, 0) };
    println!("negative length: {}", v(neg));
    println!("TCP_NODELAY on AF_UNIX: {}", v(setsockopt_int(a, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)));
    println!("TCP_NODELAY get on AF_UNIX: {}", v(getsockopt_int(a, libc::IPPROTO_TCP, libc::TCP_NODELAY).0));
    let tv = |s: i64, us: i64| {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&s.to_ne_bytes());
        b[8..].copy_from_slice(&us.to_ne_bytes());
        b
    };
    println!("SO_RCVTIMEO 0.05 s: {}", v(setsockopt_bytes(b, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv(0, 50_000))));
    println!(
        "SO_RCVTIMEO bad usec: {}",
        v(setsockopt_bytes(b, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv(0, 1_000_000)))
    );
    println!("SO_RCVTIMEO short: {}", v(setsockopt_bytes(b, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &[0; 8])));
    let mut got = [0u8; 16];
    let (r, len) = getsockopt_bytes(b, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &mut got);
    println!("SO_RCVTIMEO: {} len {len} {:?}", v(r), got == tv(0, 50_000) || got == tv(0, 52_000));
    let start = std::time::Instant::now();
    println!("blocking read with a timeout: {} (waited {})", rd(b, 8, 0), start.elapsed() >= Duration::from_millis(40));
    println!(
        "SO_KEEPALIVE: {} {}",
        v(setsockopt_int(a, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)),
        getsockopt_int(a, libc::SOL_SOCKET, libc::SO_KEEPALIVE).1
    );
    close(a);
    close(b);
}

fn blocking() {
    section("blocking");
    let (a, b) = pair(libc::SOCK_STREAM);
    let t = std::thread::spawn(move || {
        nap(30);
        send(a, b"wake up", 0)
    });
    println!("blocking read woken by another thread: {}", rd(b, 16, 0));
    t.join().unwrap();
    static DONE: AtomicBool = AtomicBool::new(false);
    sig::install(libc::SIGUSR1, on_sig, libc::SA_SIGINFO, 0);
    let pester = sig::pester(sig::gettid(), libc::SIGUSR1, Duration::from_millis(20), &DONE);
    println!("blocking read, signal without SA_RESTART: {}", rd(b, 16, 0));
    DONE.store(true, SeqCst);
    pester.join().unwrap();
    sig::install(libc::SIGUSR1, on_sig, libc::SA_SIGINFO | libc::SA_RESTART, 0);
    let (pid, me) = (sig::getpid(), sig::gettid());
    let t = std::thread::spawn(move || {
        nap(30);
        let _ = sig::tgkill(pid, me, libc::SIGUSR1);
        nap(30);
        send(a, b"after", 0)
    });
    println!("blocking read, SA_RESTART, then data: {}", rd(b, 16, 0));
    t.join().unwrap();
    let big = vec![0u8; 1 << 20];
    let t = std::thread::spawn(move || {
        nap(30);
        let mut sink = vec![0u8; 1 << 16];
        let mut total = 0;
        while total < (1 << 20) {
            let r = recv(b, &mut sink, 0);
            if r <= 0 {
                break;
            }
            total += r as usize;
        }
        total
    });
    println!("blocking send of 1 MiB: {}", v(send(a, &big, 0)));
    println!("the reader got: {}", t.join().unwrap());
    close(a);
    close(b);
}

fn main() {
    sig::set_disposition(libc::SIGPIPE, sig::SIG_IGN);
    args();
    stream();
    dgram(libc::SOCK_DGRAM, "datagram");
    dgram(libc::SOCK_SEQPACKET, "seqpacket");
    options();
    blocking();
}
