//! AF_INET and AF_INET6 sockets over loopback: socket's errnos, bind (port 0 picks,
//! EADDRINUSE, SO_REUSEPORT, bad lengths and families), listen and accept (EINVAL,
//! EAGAIN, accept4's flags, the peer's address and its truncation), connect (refused,
//! blocking and non-blocking, EINPROGRESS, EALREADY, EISCONN), data (send/recv,
//! MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, sendmsg/recvmsg, readv/writev, FIONREAD),
//! shutdown, a reset by close with unread data, EPIPE with MSG_NOSIGNAL, socket
//! options (an int, SO_LINGER, TCP_NODELAY, IPV6_V6ONLY, SO_RCVTIMEO honoured), FIONBIO,
//! blocking accept and recv ended by signals (restarted with SA_RESTART), IPv6, and
//! UDP (sendto/recvfrom, MSG_TRUNC, connected UDP, EDESTADDRREQ, ECONNREFUSED from
//! an ICMP error, sendmmsg/recvmmsg). Ports are never printed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use probes::fsutil::{must, section, v};
use probes::net::*;
use probes::sig;

static HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_usr1(_: i32, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    HANDLED.fetch_add(1, SeqCst);
}

const AF_INET: i32 = libc::AF_INET;
const AF_INET6: i32 = libc::AF_INET6;
const STREAM: i32 = libc::SOCK_STREAM;
const DGRAM: i32 = libc::SOCK_DGRAM;
const NOSIG: i32 = libc::MSG_NOSIGNAL;

fn tcp() -> i32 {
    must("socket", socket(AF_INET, STREAM, 0))
}

fn rd(fd: i32, n: usize, flags: i32) -> String {
    let mut buf = vec![0u8; n];
    let r = recv(fd, &mut buf, flags);
    if r < 0 {
        return v(r);
    }
    format!("{} {:?}", v(r), String::from_utf8_lossy(&buf[..(r as usize).min(n)]))
}

fn name(fd: i32) -> String {
    let mut n = NameBuf::new();
    let r = getsockname(fd, &mut n);
    if r < 0 {
        v(r)
    } else {
        n.describe()
    }
}

fn peer(fd: i32) -> String {
    let mut n = NameBuf::new();
    let r = getpeername(fd, &mut n);
    if r < 0 {
        v(r)
    } else {
        n.describe()
    }
}

/// Waits (up to 5 s) until `fd` has `events`.
fn wait_for(fd: i32, events: i16) -> String {
    let mut p = [libc::pollfd { fd, events, revents: 0 }];
    let r = poll(&mut p, 5000);
    format!("{} {}", v(r), probes::net::events(p[0].revents as u16 as u32))
}

fn create() {
    section("socket");
    println!("family 99: {}", v(socket(99, STREAM, 0)));
    println!("family 46: {}", v(socket(46, STREAM, 0)));
    println!("type 99: {}", v(socket(AF_INET, 99, 0)));
    println!("type 7: {}", v(socket(AF_INET, 7, 0)));
    println!("bad flag: {}", v(socket(AF_INET, STREAM | 0x1000, 0)));
    println!("stream with IPPROTO_UDP: {}", v(socket(AF_INET, STREAM, libc::IPPROTO_UDP)));
    println!("datagram with IPPROTO_TCP: {}", v(socket(AF_INET, DGRAM, libc::IPPROTO_TCP)));
    let s = must("socket", socket(AF_INET, STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, libc::IPPROTO_TCP));
    println!(
        "SOCK_NONBLOCK|SOCK_CLOEXEC: F_GETFL {:#o} F_GETFD {}",
        fcntl(s, libc::F_GETFL, 0),
        v(fcntl(s, libc::F_GETFD, 0))
    );
    let (_, st) = probes::sys::fstat(s);
    println!("fstat: {}", probes::fsutil::ftype(st.st_mode));
    println!("unbound name: {}", name(s));
    println!("peer: {}", peer(s));
    close(s);
    let s6 = must("socket", socket(AF_INET6, DGRAM, 0));
    println!("AF_INET6 datagram name: {}", name(s6));
    close(s6);
}

fn binding() {
    section("bind");
    let a = tcp();
    println!("bind 127.0.0.1:0: {} {}", v(bind(a, &Addr::lo4(0))), name(a));
    println!("bind again: {}", v(bind(a, &Addr::lo4(0))));
    let mut n = NameBuf::new();
    getsockname(a, &mut n);
    let port = n.port();
    let b = tcp();
    println!("same port: {}", v(bind(b, &Addr::lo4(port))));
    println!("listen: {}", v(listen(a, 4)));
    println!(
        "same port with SO_REUSEADDR, first listening: {} {}",
        v(setsockopt_int(b, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)),
        v(bind(b, &Addr::lo4(port)))
    );
    close(b);
    let b = tcp();
    let lo = Addr::lo4(0);
    println!("short length: {}", v(bind_raw(b, lo.ptr(), 8)));
    println!("length 200: {}", v(bind_raw(b, lo.ptr(), 200)));
    println!("length -1: {}", v(bind_raw(b, lo.ptr(), usize::MAX)));
    println!("null address: {}", v(bind_raw(b, 0, 16)));
    let six = Addr::lo6(0);
    println!("an AF_INET6 address: {}", v(bind_raw(b, six.ptr(), 16)));
    println!("unassigned address 192.0.2.1: {}", {
        let mut a4 = Addr::lo4(0);
        if let Addr::V4(ref mut s) = a4 {
            s.sin_addr.s_addr = u32::from_be_bytes([192, 0, 2, 1]).to_be();
        }
        v(bind(b, &a4))
    });
    close(b);
    let r1 = tcp();
    let r2 = tcp();
    for s in [r1, r2] {
        must("SO_REUSEPORT", setsockopt_int(s, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1));
    }
    must("bind", bind(r1, &Addr::lo4(0)));
    getsockname(r1, &mut n);
    println!("SO_REUSEPORT on both: {}", v(bind(r2, &Addr::lo4(n.port()))));
    for s in [a, r1, r2] {
        close(s);
    }
}

fn connecting() {
    section("connect and accept");
    let (l, addr) = listener4();
    let free = {
        let t = tcp();
        must("bind", bind(t, &Addr::lo4(0)));
        let mut n = NameBuf::new();
        getsockname(t, &mut n);
        close(t);
        n.port()
    };
    let c = tcp();
    println!("refused: {}", v(connect(c, &Addr::lo4(free))));
    println!("SO_ERROR after: {}", getsockopt_int(c, libc::SOL_SOCKET, libc::SO_ERROR).1);
    close(c);
    let c = must("socket", socket(AF_INET, STREAM | libc::SOCK_NONBLOCK, 0));
    println!("non-blocking, refused: {}", v(connect(c, &Addr::lo4(free))));
    println!("wait: {}", wait_for(c, libc::POLLOUT));
    let (r, e, _) = getsockopt_int(c, libc::SOL_SOCKET, libc::SO_ERROR);
    println!("SO_ERROR: {} {}", v(r), probes::errno_name(e));
    close(c);
    println!("accept on a socket not listening: {}", {
        let t = tcp();
        let r = v(accept(t));
        close(t);
        r
    });
    must("F_SETFL", fcntl(l, libc::F_SETFL, libc::O_NONBLOCK as usize));
    println!("accept, nobody there: {}", v(accept(l)));
    println!("accept4 bad flags: {}", v(accept4(l, None, 0x10)));
    let c = tcp();
    println!("connect: {}", v(connect(c, &addr)));
    println!("connect again: {}", v(connect(c, &addr)));
    println!("client name: {}", name(c));
    println!("client peer: {}", peer(c));
    println!("listener readable: {}", wait_for(l, libc::POLLIN));
    let mut pn = NameBuf::new();
    pn.len = 4;
    let s = must("accept4", accept4(l, Some(&mut pn), libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC));
    println!("accept4 with a 4-byte name buffer: len {} family {}", pn.len, pn.family());
    println!("accepted: F_GETFL {:#o} F_GETFD {}", fcntl(s, libc::F_GETFL, 0), v(fcntl(s, libc::F_GETFD, 0)));
    println!("accepted name: {} peer: {}", name(s), peer(s));
    let c2 = must("socket", socket(AF_INET, STREAM | libc::SOCK_NONBLOCK, 0));
    println!("non-blocking connect: {}", v(connect(c2, &addr)));
    let second = v(connect(c2, &addr));
    println!("again at once: {}", second == "Err(EALREADY)" || second == "Ok(0)" || second == "Err(EISCONN)");
    println!("wait: {}", wait_for(c2, libc::POLLOUT));
    let third = v(connect(c2, &addr));
    println!("again after: {}", third == "Ok(0)" || third == "Err(EISCONN)");
    println!("and again: {}", v(connect(c2, &addr)));
    let s2 = must("accept", accept4(l, None, 0));
    println!("accept: F_GETFL {:#o}", fcntl(s2, libc::F_GETFL, 0));
    for fd in [c2, s2] {
        close(fd);
    }
    data(c, s);
    close(l);
}

fn data(c: i32, s: i32) {
    section("data");
    must("F_SETFL", fcntl(s, libc::F_SETFL, 0));
    println!("send: {}", v(send(c, b"hello world", 0)));
    println!("wait: {}", wait_for(s, libc::POLLIN));
    let (r, n) = ioctl_int(s, libc::FIONREAD);
    println!("FIONREAD: {} {n}", v(r));
    println!("peek 5: {}", rd(s, 5, libc::MSG_PEEK));
    let mut x = [0u8; 3];
    let mut y = [0u8; 20];
    let (r, flags, _) = recvmsg(s, &mut [&mut x[..], &mut y[..]], 0, None);
    println!(
        "recvmsg 3+20: {} flags {flags} {:?}",
        v(r),
        String::from_utf8_lossy(&[&x[..], &y[..(r.max(3) as usize - 3)]].concat())
    );
    println!("empty, MSG_DONTWAIT: {}", rd(s, 8, libc::MSG_DONTWAIT));
    println!("sendmsg 3 parts: {}", v(sendmsg(c, &[b"ab", b"", b"cde"], 0)));
    println!("writev: {}", v(probes::sys::writev(c, &[b"fg", b"h"])));
    let t = std::thread::spawn(move || {
        nap(20);
        send(c, b"ij", 0);
        nap(20);
        send(c, b"klmn", 0)
    });
    println!("MSG_WAITALL for 14: {}", rd(s, 14, libc::MSG_WAITALL));
    t.join().unwrap();
    println!("FIONBIO on: {}", v(ioctl_set_int(s, libc::FIONBIO, 1)));
    println!("F_GETFL: {:#o}", fcntl(s, libc::F_GETFL, 0));
    println!("recv: {}", rd(s, 8, 0));
    ioctl_set_int(s, libc::FIONBIO, 0);
    let tv = |sec: i64, usec: i64| {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&sec.to_ne_bytes());
        b[8..].copy_from_slice(&usec.to_ne_bytes());
        b
    };
    setsockopt_bytes(s, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv(0, 50_000));
    let start = Instant::now();
    println!("SO_RCVTIMEO 50 ms: {} waited {}", rd(s, 8, 0), start.elapsed() >= Duration::from_millis(40));
    setsockopt_bytes(s, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv(0, 0));

    section("signals");
    sig::install(libc::SIGUSR1, on_usr1, libc::SA_SIGINFO, 0);
    static DONE: AtomicBool = AtomicBool::new(false);
    let pester = sig::pester(sig::gettid(), libc::SIGUSR1, Duration::from_millis(20), &DONE);
    println!("blocking recv, signal without SA_RESTART: {}", rd(s, 8, 0));
    DONE.store(true, SeqCst);
    pester.join().unwrap();
    sig::install(libc::SIGUSR1, on_usr1, libc::SA_SIGINFO | libc::SA_RESTART, 0);
    let (pid, me) = (sig::getpid(), sig::gettid());
    let t = std::thread::spawn(move || {
        nap(30);
        let _ = sig::tgkill(pid, me, libc::SIGUSR1);
        nap(30);
        send(c, b"after", 0)
    });
    HANDLED.store(0, SeqCst);
    println!("blocking recv, SA_RESTART: {} handler ran {}", rd(s, 8, 0), HANDLED.load(SeqCst));
    t.join().unwrap();
    let (l, addr) = listener4();
    let t = std::thread::spawn(move || {
        nap(30);
        let _ = sig::tgkill(pid, me, libc::SIGUSR1);
        nap(30);
        let c = tcp();
        let r = connect(c, &addr);
        nap(30);
        close(c);
        r
    });
    HANDLED.store(0, SeqCst);
    let a = accept(l);
    println!("blocking accept, SA_RESTART: {} handler ran {}", probes::outcome(a), HANDLED.load(SeqCst));
    println!("connector: {}", v(t.join().unwrap()));
    if a >= 0 {
        close(a as i32);
    }
    sig::install(libc::SIGUSR1, on_usr1, libc::SA_SIGINFO, 0);
    DONE.store(false, SeqCst);
    let pester = sig::pester(sig::gettid(), libc::SIGUSR1, Duration::from_millis(20), &DONE);
    println!("blocking accept, no SA_RESTART: {}", v(accept(l)));
    DONE.store(true, SeqCst);
    pester.join().unwrap();
    close(l);

    section("shutdown and close");
    println!("bad how: {}", v(shutdown(c, 5)));
    println!("shutdown c SHUT_WR: {}", v(shutdown(c, libc::SHUT_WR)));
    println!("send after: {}", v(send(c, b"x", NOSIG)));
    println!("s reads: {}", rd(s, 8, 0));
    println!("s sends back: {} and c reads {}", v(send(s, b"back", 0)), rd(c, 8, 0));
    println!("shutdown unconnected: {}", {
        let t = tcp();
        let r = v(shutdown(t, libc::SHUT_RDWR));
        close(t);
        r
    });
    println!("send unconnected: {}", {
        let t = tcp();
        let r = v(send(t, b"x", NOSIG));
        close(t);
        r
    });
    println!("recv unconnected: {}", {
        let t = tcp();
        let r = rd(t, 4, 0);
        close(t);
        r
    });
    send(s, b"unread", 0);
    nap(20);
    close(c);
    println!("closed with unread data, s waits: {}", wait_for(s, libc::POLLIN));
    println!("s reads: {}", rd(s, 8, 0));
    println!("s sends: {}", v(send(s, b"x", NOSIG)));
    close(s);
}

fn options() {
    section("options");
    let (l, _) = listener4();
    let ints = [
        ("SO_TYPE", libc::SOL_SOCKET, libc::SO_TYPE),
        ("SO_DOMAIN", libc::SOL_SOCKET, libc::SO_DOMAIN),
        ("SO_PROTOCOL", libc::SOL_SOCKET, libc::SO_PROTOCOL),
        ("SO_ACCEPTCONN", libc::SOL_SOCKET, libc::SO_ACCEPTCONN),
        ("SO_ERROR", libc::SOL_SOCKET, libc::SO_ERROR),
        ("SO_REUSEADDR", libc::SOL_SOCKET, libc::SO_REUSEADDR),
        ("SO_KEEPALIVE", libc::SOL_SOCKET, libc::SO_KEEPALIVE),
        ("TCP_NODELAY", libc::IPPROTO_TCP, libc::TCP_NODELAY),
    ];
    for (n, level, opt) in ints {
        let (r, val, len) = getsockopt_int(l, level, opt);
        println!("{n}: {} {val} len {len}", v(r));
    }
    for (n, level, opt) in [
        ("SO_REUSEADDR", libc::SOL_SOCKET, libc::SO_REUSEADDR),
        ("SO_KEEPALIVE", libc::SOL_SOCKET, libc::SO_KEEPALIVE),
        ("TCP_NODELAY", libc::IPPROTO_TCP, libc::TCP_NODELAY),
    ] {
        println!("set {n}: {} now {}", v(setsockopt_int(l, level, opt, 1)), getsockopt_int(l, level, opt).1);
    }
    let (_, rcv, _) = getsockopt_int(l, libc::SOL_SOCKET, libc::SO_RCVBUF);
    println!(
        "SO_RCVBUF set 65536: {} doubled {}",
        v(setsockopt_int(l, libc::SOL_SOCKET, libc::SO_RCVBUF, 65536)),
        getsockopt_int(l, libc::SOL_SOCKET, libc::SO_RCVBUF).1 == 131072 || rcv == 0
    );
    let linger = [1i32.to_ne_bytes(), 5i32.to_ne_bytes()].concat();
    println!("SO_LINGER set: {}", v(setsockopt_bytes(l, libc::SOL_SOCKET, libc::SO_LINGER, &linger)));
    let mut got = [0u8; 8];
    let (r, len) = getsockopt_bytes(l, libc::SOL_SOCKET, libc::SO_LINGER, &mut got);
    println!("SO_LINGER: {} len {len} {:?}", v(r), got == linger.as_slice());
    println!("SO_LINGER short: {}", v(setsockopt_bytes(l, libc::SOL_SOCKET, libc::SO_LINGER, &[1, 0, 0, 0])));
    println!("int option, 2 bytes: {}", v(setsockopt_bytes(l, libc::SOL_SOCKET, libc::SO_KEEPALIVE, &[1, 0])));
    let mut short = [0u8; 2];
    let (r, len) = getsockopt_bytes(l, libc::SOL_SOCKET, libc::SO_TYPE, &mut short);
    println!("get into 2 bytes: {} len {len}", v(r));
    println!("unknown SOL_SOCKET option: {}", v(getsockopt_int(l, libc::SOL_SOCKET, 9999).0));
    println!("IPV6_V6ONLY on AF_INET: {}", v(getsockopt_int(l, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY).0));
    let s6 = must("socket", socket(AF_INET6, STREAM, 0));
    println!(
        "IPV6_V6ONLY set: {} now {}",
        v(setsockopt_int(s6, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)),
        getsockopt_int(s6, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY).1
    );
    close(s6);
    close(l);
}

fn ipv6() {
    section("IPv6");
    let l = must("socket", socket(AF_INET6, STREAM, 0));
    println!("bind [::1]:0: {} {}", v(bind(l, &Addr::lo6(0))), name(l));
    must("listen", listen(l, 4));
    let mut n = NameBuf::new();
    getsockname(l, &mut n);
    let c = must("socket", socket(AF_INET6, STREAM, 0));
    println!("connect: {}", v(connect(c, &Addr::lo6(n.port()))));
    let mut pn = NameBuf::new();
    let s = must("accept", accept4(l, Some(&mut pn), 0));
    println!("peer: {}", pn.describe());
    println!("exchange: {} {}", v(send(c, b"six", 0)), rd(s, 8, 0));
    for fd in [c, s, l] {
        close(fd);
    }
}

fn udp() {
    section("UDP");
    let a = must("socket", socket(AF_INET, DGRAM, 0));
    let b = must("socket", socket(AF_INET, DGRAM, 0));
    must("bind", bind(a, &Addr::lo4(0)));
    must("bind", bind(b, &Addr::lo4(0)));
    let mut n = NameBuf::new();
    getsockname(b, &mut n);
    let baddr = Addr::lo4(n.port());
    getsockname(a, &mut n);
    let aaddr = Addr::lo4(n.port());
    println!("send without an address: {}", v(send(a, b"x", 0)));
    println!("sendto: {} {}", v(sendto(a, b"first", 0, &baddr)), v(sendto(a, b"second datagram", 0, &baddr)));
    println!("wait: {}", wait_for(b, libc::POLLIN));
    let (r, n0) = ioctl_int(b, libc::FIONREAD);
    println!("FIONREAD: {} {n0}", v(r));
    let mut from = NameBuf::new();
    let mut buf = [0u8; 64];
    let r = recvfrom(b, &mut buf, 0, &mut from);
    println!("recvfrom: {} from {} is a: {}", v(r), from.describe(), from.port() == aaddr.port());
    println!("wait: {}", wait_for(b, libc::POLLIN));
    println!("peek 3 with MSG_TRUNC: {}", rd(b, 3, libc::MSG_PEEK | libc::MSG_TRUNC));
    let mut small = [0u8; 6];
    let (r, flags, namelen) = recvmsg(b, &mut [&mut small[..]], 0, Some(&mut from));
    println!("recvmsg into 6: {} MSG_TRUNC {} namelen {namelen}", v(r), flags & libc::MSG_TRUNC != 0);
    println!("empty, MSG_DONTWAIT: {}", rd(b, 8, libc::MSG_DONTWAIT));
    println!("connect b to a: {}", v(connect(b, &aaddr)));
    println!("peer: {}", peer(b));
    println!("send: {} then a reads {}", v(send(b, b"connected", 0)), {
        wait_for(a, libc::POLLIN);
        rd(a, 16, 0)
    });
    println!("zero-length datagram: {} then {}", v(send(b, b"", 0)), {
        wait_for(a, libc::POLLIN);
        rd(a, 16, 0)
    });
    let big = vec![0u8; 70_000];
    println!("70000 bytes: {}", v(send(b, &big, 0)));
    let gone = must("socket", socket(AF_INET, DGRAM, 0));
    must("bind", bind(gone, &Addr::lo4(0)));
    getsockname(gone, &mut n);
    let gone_addr = Addr::lo4(n.port());
    close(gone);
    println!("connect to a closed port: {}", v(connect(b, &gone_addr)));
    println!("send: {}", v(send(b, b"anyone?", 0)));
    println!("wait: {}", wait_for(b, libc::POLLERR));
    println!("recv: {}", rd(b, 8, libc::MSG_DONTWAIT));
    println!("AF_UNSPEC disconnects: {}", {
        let un = [0u8; 16];
        // SAFETY: a 16-byte AF_UNSPEC address on this stack.
        v(unsafe { probes::syscall6(libc::SYS_connect as usize, b as usize, un.as_ptr() as usize, 16, 0, 0, 0) })
    });
    println!("peer after: {}", peer(b));

    section("mmsg");
    let mut hdrs: Vec<libc::mmsghdr> = Vec::new();
    let parts: [&[u8]; 3] = [b"one", b"two two", b"three three three"];
    let iovs: Vec<libc::iovec> =
        parts.iter().map(|p| libc::iovec { iov_base: p.as_ptr() as *mut _, iov_len: p.len() }).collect();
    for iov in &iovs {
        // SAFETY: all-zero is a valid mmsghdr.
        let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
        h.msg_hdr.msg_iov = iov as *const _ as *mut _;
        h.msg_hdr.msg_iovlen = 1;
        h.msg_hdr.msg_name = baddr.ptr() as *mut _;
        h.msg_hdr.msg_namelen = baddr.len() as u32;
        hdrs.push(h);
    }
    // SAFETY: three mmsghdrs pointing at live buffers and addresses.
    let r =
        unsafe { probes::syscall6(libc::SYS_sendmmsg as usize, a as usize, hdrs.as_mut_ptr() as usize, 3, 0, 0, 0) };
    println!("sendmmsg 3: {} lens {:?}", v(r), hdrs.iter().map(|h| h.msg_len).collect::<Vec<_>>());
    let c = must("socket", socket(AF_INET, DGRAM, 0));
    must("bind", bind(c, &Addr::lo4(0)));
    getsockname(c, &mut n);
    let caddr = Addr::lo4(n.port());
    for p in parts {
        sendto(a, p, 0, &caddr);
    }
    wait_for(c, libc::POLLIN);
    nap(20);
    let mut bufs = [[0u8; 8]; 4];
    let mut riov: Vec<libc::iovec> =
        bufs.iter_mut().map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: 8 }).collect();
    let mut rh: Vec<libc::mmsghdr> = riov
        .iter_mut()
        .map(|iov| {
            // SAFETY: all-zero is a valid mmsghdr.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    // SAFETY: four mmsghdrs pointing at live 8-byte buffers.
    let r = unsafe {
        probes::syscall6(
            libc::SYS_recvmmsg as usize,
            c as usize,
            rh.as_mut_ptr() as usize,
            4,
            libc::MSG_WAITFORONE as usize,
            0,
            0,
        )
    };
    println!(
        "recvmmsg 4, MSG_WAITFORONE: {} lens {:?} truncated {:?}",
        v(r),
        rh.iter().take(r.max(0) as usize).map(|h| h.msg_len).collect::<Vec<_>>(),
        rh.iter().take(r.max(0) as usize).map(|h| h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0).collect::<Vec<_>>()
    );
    // SAFETY: as above; nothing more is queued.
    let r = unsafe {
        probes::syscall6(
            libc::SYS_recvmmsg as usize,
            c as usize,
            rh.as_mut_ptr() as usize,
            4,
            libc::MSG_DONTWAIT as usize,
            0,
            0,
        )
    };
    println!("recvmmsg, nothing there: {}", v(r));
    for fd in [a, b, c] {
        close(fd);
    }
}

fn main() {
    sig::set_disposition(libc::SIGPIPE, sig::SIG_IGN);
    create();
    binding();
    connecting();
    options();
    ipv6();
    udp();
}
