//! Raw wrappers for the socket, epoll, eventfd and select probes: each issues exactly
//! the named syscall and returns the kernel's raw result (`-errno` on failure), plus
//! address builders and event-name formatting. Every pointer handed to the kernel is a
//! live Rust buffer of the size the call expects.

use std::time::Duration;

use libc::{c_long, sockaddr_in, sockaddr_in6};

fn call(n: c_long, args: [usize; 6]) -> isize {
    // SAFETY: only the wrappers below call this, each with pointers to live buffers of
    // the size the kernel reads or writes for that syscall (or with no pointer).
    unsafe { crate::syscall6(n as usize, args[0], args[1], args[2], args[3], args[4], args[5]) }
}

fn p<T>(x: &T) -> usize {
    x as *const T as usize
}

fn pm<T>(x: &mut T) -> usize {
    x as *mut T as usize
}

/// An IPv4 or IPv6 socket address as the kernel takes it.
#[derive(Clone, Copy)]
pub enum Addr {
    V4(sockaddr_in),
    V6(sockaddr_in6),
}

impl Addr {
    /// 127.0.0.1:`port`.
    pub fn lo4(port: u16) -> Addr {
        // SAFETY: all-zero is a valid sockaddr_in.
        let mut a: sockaddr_in = unsafe { std::mem::zeroed() };
        a.sin_family = libc::AF_INET as u16;
        a.sin_port = port.to_be();
        a.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
        Addr::V4(a)
    }

    /// 0.0.0.0:`port`.
    pub fn any4(port: u16) -> Addr {
        let mut a = Addr::lo4(port);
        if let Addr::V4(ref mut s) = a {
            s.sin_addr.s_addr = 0;
        }
        a
    }

    /// [::1]:`port`.
    pub fn lo6(port: u16) -> Addr {
        // SAFETY: all-zero is a valid sockaddr_in6.
        let mut a: sockaddr_in6 = unsafe { std::mem::zeroed() };
        a.sin6_family = libc::AF_INET6 as u16;
        a.sin6_port = port.to_be();
        a.sin6_addr.s6_addr[15] = 1;
        Addr::V6(a)
    }

    pub fn ptr(&self) -> usize {
        match self {
            Addr::V4(a) => p(a),
            Addr::V6(a) => p(a),
        }
    }

    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        match self {
            Addr::V4(_) => std::mem::size_of::<sockaddr_in>(),
            Addr::V6(_) => std::mem::size_of::<sockaddr_in6>(),
        }
    }

    pub fn port(&self) -> u16 {
        match self {
            Addr::V4(a) => u16::from_be(a.sin_port),
            Addr::V6(a) => u16::from_be(a.sin6_port),
        }
    }

    pub fn with_port(mut self, port: u16) -> Addr {
        match &mut self {
            Addr::V4(a) => a.sin_port = port.to_be(),
            Addr::V6(a) => a.sin6_port = port.to_be(),
        }
        self
    }
}

/// A `sockaddr_storage`-sized buffer for addresses the kernel returns.
pub struct NameBuf {
    pub buf: [u8; 128],
    pub len: u32,
}

impl NameBuf {
    pub fn new() -> NameBuf {
        NameBuf { buf: [0; 128], len: 128 }
    }

    /// The family, the port and the address bytes, as text without the port (ports
    /// differ from run to run; print `port != 0` instead).
    pub fn family(&self) -> u16 {
        u16::from_ne_bytes([self.buf[0], self.buf[1]])
    }

    pub fn port(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    pub fn ip(&self) -> String {
        match self.family() as i32 {
            libc::AF_INET => format!("{}.{}.{}.{}", self.buf[4], self.buf[5], self.buf[6], self.buf[7]),
            libc::AF_INET6 => {
                let mut s = String::new();
                for i in 0..8 {
                    if i > 0 {
                        s.push(':');
                    }
                    s.push_str(&format!("{:x}", u16::from_be_bytes([self.buf[8 + 2 * i], self.buf[9 + 2 * i]])));
                }
                s
            }
            libc::AF_UNIX => "unix".to_string(),
            f => format!("family {f}"),
        }
    }

    /// "AF_INET 127.0.0.1 len 16 port set".
    pub fn describe(&self) -> String {
        let fam = match self.family() as i32 {
            libc::AF_INET => "AF_INET",
            libc::AF_INET6 => "AF_INET6",
            libc::AF_UNIX => "AF_UNIX",
            _ => "AF_?",
        };
        let port = if matches!(self.family() as i32, libc::AF_INET | libc::AF_INET6) {
            if self.port() != 0 {
                " port set"
            } else {
                " port 0"
            }
        } else {
            ""
        };
        format!("{fam} {} len {}{port}", self.ip(), self.len)
    }
}

impl Default for NameBuf {
    fn default() -> Self {
        NameBuf::new()
    }
}

pub fn socket(domain: i32, ty: i32, proto: i32) -> isize {
    call(libc::SYS_socket, [domain as usize, ty as usize, proto as usize, 0, 0, 0])
}

pub fn socketpair(domain: i32, ty: i32, proto: i32) -> (isize, [i32; 2]) {
    let mut sv = [-1i32; 2];
    let r = call(libc::SYS_socketpair, [domain as usize, ty as usize, proto as usize, pm(&mut sv), 0, 0]);
    (r, sv)
}

pub fn bind(fd: i32, a: &Addr) -> isize {
    call(libc::SYS_bind, [fd as usize, a.ptr(), a.len(), 0, 0, 0])
}

pub fn bind_raw(fd: i32, ptr: usize, len: usize) -> isize {
    call(libc::SYS_bind, [fd as usize, ptr, len, 0, 0, 0])
}

pub fn listen(fd: i32, backlog: i32) -> isize {
    call(libc::SYS_listen, [fd as usize, backlog as usize, 0, 0, 0, 0])
}

pub fn connect(fd: i32, a: &Addr) -> isize {
    call(libc::SYS_connect, [fd as usize, a.ptr(), a.len(), 0, 0, 0])
}

pub fn accept4(fd: i32, name: Option<&mut NameBuf>, flags: i32) -> isize {
    match name {
        Some(n) => call(libc::SYS_accept4, [fd as usize, pm(&mut n.buf), pm(&mut n.len), flags as usize, 0, 0]),
        None => call(libc::SYS_accept4, [fd as usize, 0, 0, flags as usize, 0, 0]),
    }
}

pub fn accept(fd: i32) -> isize {
    call(libc::SYS_accept, [fd as usize, 0, 0, 0, 0, 0])
}

pub fn getsockname(fd: i32, n: &mut NameBuf) -> isize {
    n.len = 128;
    call(libc::SYS_getsockname, [fd as usize, pm(&mut n.buf), pm(&mut n.len), 0, 0, 0])
}

pub fn getpeername(fd: i32, n: &mut NameBuf) -> isize {
    n.len = 128;
    call(libc::SYS_getpeername, [fd as usize, pm(&mut n.buf), pm(&mut n.len), 0, 0, 0])
}

pub fn send(fd: i32, data: &[u8], flags: i32) -> isize {
    call(libc::SYS_sendto, [fd as usize, data.as_ptr() as usize, data.len(), flags as usize, 0, 0])
}

pub fn sendto(fd: i32, data: &[u8], flags: i32, a: &Addr) -> isize {
    call(libc::SYS_sendto, [fd as usize, data.as_ptr() as usize, data.len(), flags as usize, a.ptr(), a.len()])
}

pub fn recv(fd: i32, buf: &mut [u8], flags: i32) -> isize {
    call(libc::SYS_recvfrom, [fd as usize, buf.as_mut_ptr() as usize, buf.len(), flags as usize, 0, 0])
}

pub fn recvfrom(fd: i32, buf: &mut [u8], flags: i32, n: &mut NameBuf) -> isize {
    n.len = 128;
    call(
        libc::SYS_recvfrom,
        [fd as usize, buf.as_mut_ptr() as usize, buf.len(), flags as usize, pm(&mut n.buf), pm(&mut n.len)],
    )
}

/// `sendmsg` of `parts` (one iovec each); returns the result.
pub fn sendmsg(fd: i32, parts: &[&[u8]], flags: i32) -> isize {
    let iov: Vec<libc::iovec> =
        parts.iter().map(|b| libc::iovec { iov_base: b.as_ptr() as *mut _, iov_len: b.len() }).collect();
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_ptr() as *mut _;
    msg.msg_iovlen = iov.len();
    call(libc::SYS_sendmsg, [fd as usize, p(&msg), flags as usize, 0, 0, 0])
}

/// `recvmsg` into `bufs`; returns (result, msg_flags, msg_namelen).
pub fn recvmsg(fd: i32, bufs: &mut [&mut [u8]], flags: i32, name: Option<&mut NameBuf>) -> (isize, i32, u32) {
    let mut iov: Vec<libc::iovec> =
        bufs.iter_mut().map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() }).collect();
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = iov.len();
    let has_name = name.is_some();
    if let Some(n) = name {
        msg.msg_name = n.buf.as_mut_ptr().cast();
        msg.msg_namelen = 128;
    }
    let r = call(libc::SYS_recvmsg, [fd as usize, pm(&mut msg), flags as usize, 0, 0, 0]);
    (r, msg.msg_flags, if has_name { msg.msg_namelen } else { 0 })
}

pub fn shutdown(fd: i32, how: i32) -> isize {
    call(libc::SYS_shutdown, [fd as usize, how as usize, 0, 0, 0, 0])
}

pub fn setsockopt_int(fd: i32, level: i32, name: i32, v: i32) -> isize {
    call(libc::SYS_setsockopt, [fd as usize, level as usize, name as usize, p(&v), 4, 0])
}

pub fn setsockopt_bytes(fd: i32, level: i32, name: i32, v: &[u8]) -> isize {
    call(libc::SYS_setsockopt, [fd as usize, level as usize, name as usize, v.as_ptr() as usize, v.len(), 0])
}

/// `getsockopt` of an int: (result, value, returned length).
pub fn getsockopt_int(fd: i32, level: i32, name: i32) -> (isize, i32, u32) {
    let mut v = 0i32;
    let mut len = 4u32;
    let r = call(libc::SYS_getsockopt, [fd as usize, level as usize, name as usize, pm(&mut v), pm(&mut len), 0]);
    (r, v, len)
}

/// `getsockopt` into `buf`: (result, returned length).
pub fn getsockopt_bytes(fd: i32, level: i32, name: i32, buf: &mut [u8]) -> (isize, u32) {
    let mut len = buf.len() as u32;
    let r = call(
        libc::SYS_getsockopt,
        [fd as usize, level as usize, name as usize, buf.as_mut_ptr() as usize, pm(&mut len), 0],
    );
    (r, len)
}

pub fn close(fd: i32) -> isize {
    call(libc::SYS_close, [fd as usize, 0, 0, 0, 0, 0])
}

pub fn read(fd: i32, buf: &mut [u8]) -> isize {
    call(libc::SYS_read, [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0])
}

pub fn write(fd: i32, buf: &[u8]) -> isize {
    call(libc::SYS_write, [fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0])
}

pub fn fcntl(fd: i32, cmd: i32, arg: usize) -> isize {
    call(libc::SYS_fcntl, [fd as usize, cmd as usize, arg, 0, 0, 0])
}

pub fn ioctl_int(fd: i32, req: u64) -> (isize, i32) {
    let mut v = 0i32;
    let r = call(libc::SYS_ioctl, [fd as usize, req as usize, pm(&mut v), 0, 0, 0]);
    (r, v)
}

pub fn ioctl_set_int(fd: i32, req: u64, v: i32) -> isize {
    call(libc::SYS_ioctl, [fd as usize, req as usize, p(&v), 0, 0, 0])
}

pub fn eventfd2(init: u32, flags: i32) -> isize {
    call(libc::SYS_eventfd2, [init as usize, flags as usize, 0, 0, 0, 0])
}

pub fn eventfd(init: u32) -> isize {
    call(libc::SYS_eventfd, [init as usize, 0, 0, 0, 0, 0])
}

pub fn epoll_create1(flags: i32) -> isize {
    call(libc::SYS_epoll_create1, [flags as usize, 0, 0, 0, 0, 0])
}

pub fn epoll_create(size: i32) -> isize {
    call(libc::SYS_epoll_create, [size as usize, 0, 0, 0, 0, 0])
}

pub fn epoll_ctl(ep: i32, op: i32, fd: i32, events: u32, data: u64) -> isize {
    let ev = libc::epoll_event { events, u64: data };
    call(libc::SYS_epoll_ctl, [ep as usize, op as usize, fd as usize, p(&ev), 0, 0])
}

pub fn epoll_ctl_raw(ep: i32, op: i32, fd: i32, ev: usize) -> isize {
    call(libc::SYS_epoll_ctl, [ep as usize, op as usize, fd as usize, ev, 0, 0])
}

/// `epoll_wait` for up to `max` events: the result and the events, as (events, data).
pub fn epoll_wait(ep: i32, max: usize, timeout_ms: i32) -> (isize, Vec<(u32, u64)>) {
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; max.max(1)];
    let r = call(libc::SYS_epoll_wait, [ep as usize, evs.as_mut_ptr() as usize, max, timeout_ms as usize, 0, 0]);
    let n = if r > 0 { r as usize } else { 0 };
    (r, evs[..n].iter().map(|e| (e.events, e.u64)).collect())
}

/// `epoll_pwait` with `mask` (a kernel sigset) during the wait.
pub fn epoll_pwait(ep: i32, max: usize, timeout_ms: i32, mask: Option<u64>) -> (isize, Vec<(u32, u64)>) {
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; max.max(1)];
    let m = mask.unwrap_or(0);
    let mp = if mask.is_some() { p(&m) } else { 0 };
    let r = call(libc::SYS_epoll_pwait, [ep as usize, evs.as_mut_ptr() as usize, max, timeout_ms as usize, mp, 8]);
    let n = if r > 0 { r as usize } else { 0 };
    (r, evs[..n].iter().map(|e| (e.events, e.u64)).collect())
}

/// `epoll_pwait2` with a timespec timeout (`None`: no timeout).
pub fn epoll_pwait2(ep: i32, max: usize, timeout: Option<&crate::Timespec>) -> (isize, Vec<(u32, u64)>) {
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; max.max(1)];
    let tp = timeout.map_or(0, p);
    let r = call(libc::SYS_epoll_pwait2, [ep as usize, evs.as_mut_ptr() as usize, max, tp, 0, 8]);
    let n = if r > 0 { r as usize } else { 0 };
    (r, evs[..n].iter().map(|e| (e.events, e.u64)).collect())
}

pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> isize {
    call(libc::SYS_poll, [fds.as_mut_ptr() as usize, fds.len(), timeout_ms as usize, 0, 0, 0])
}

/// `ppoll` with an optional timeout and signal mask; the timeout is updated in place.
pub fn ppoll(fds: &mut [libc::pollfd], timeout: Option<&mut crate::Timespec>, mask: Option<u64>) -> isize {
    let tp = timeout.map_or(0, pm);
    let m = mask.unwrap_or(0);
    let mp = if mask.is_some() { p(&m) } else { 0 };
    call(libc::SYS_ppoll, [fds.as_mut_ptr() as usize, fds.len(), tp, mp, 8, 0])
}

/// `select` over 1024-bit sets (any may be absent); the timeval is updated in place.
pub fn select(
    nfds: i32,
    r: Option<&mut [u64; 16]>,
    w: Option<&mut [u64; 16]>,
    e: Option<&mut [u64; 16]>,
    tv: Option<&mut libc::timeval>,
) -> isize {
    let ptr = |s: Option<&mut [u64; 16]>| s.map_or(0, |s| s.as_mut_ptr() as usize);
    let (r, w, e) = (ptr(r), ptr(w), ptr(e));
    let tv = tv.map_or(0, pm);
    call(libc::SYS_select, [nfds as usize, r, w, e, tv, 0])
}

/// `pselect6` with an optional signal mask.
pub fn pselect6(nfds: i32, r: Option<&mut [u64; 16]>, ts: Option<&mut crate::Timespec>, mask: Option<u64>) -> isize {
    let rp = r.map_or(0, |s| s.as_mut_ptr() as usize);
    let tp = ts.map_or(0, pm);
    let m = mask.unwrap_or(0);
    let pack: [usize; 2] = [if mask.is_some() { p(&m) } else { 0 }, 8];
    let packp = if mask.is_some() { p(&pack) } else { 0 };
    call(libc::SYS_pselect6, [nfds as usize, rp, 0, 0, tp, packp])
}

/// An fd_set with `fds` set.
pub fn fdset(fds: &[i32]) -> [u64; 16] {
    let mut s = [0u64; 16];
    for &fd in fds {
        s[fd as usize / 64] |= 1 << (fd % 64);
    }
    s
}

/// The fds set in `s`.
pub fn fdset_members(s: &[u64; 16]) -> Vec<i32> {
    (0..1024).filter(|&fd| s[fd / 64] & (1 << (fd % 64)) != 0).map(|fd| fd as i32).collect()
}

/// epoll/poll event bits by name: "IN|OUT|HUP".
pub fn events(ev: u32) -> String {
    let names = [
        (libc::EPOLLIN as u32, "IN"),
        (libc::EPOLLPRI as u32, "PRI"),
        (libc::EPOLLOUT as u32, "OUT"),
        (libc::EPOLLERR as u32, "ERR"),
        (libc::EPOLLHUP as u32, "HUP"),
        (libc::EPOLLRDNORM as u32, "RDNORM"),
        (libc::EPOLLRDBAND as u32, "RDBAND"),
        (libc::EPOLLWRNORM as u32, "WRNORM"),
        (libc::EPOLLWRBAND as u32, "WRBAND"),
        (libc::EPOLLRDHUP as u32, "RDHUP"),
    ];
    let mut out: Vec<&str> = names.iter().filter(|(b, _)| ev & b != 0).map(|(_, n)| *n).collect();
    let known: u32 = names.iter().map(|(b, _)| b).sum();
    let rest = ev & !known;
    let extra;
    if rest != 0 {
        extra = format!("{rest:#x}");
        out.push(&extra);
    }
    if out.is_empty() {
        "-".to_string()
    } else {
        out.join("|")
    }
}

/// epoll_wait's result as "n: [data events, ...]", sorted by data.
pub fn wait_result(r: isize, evs: &[(u32, u64)]) -> String {
    if r < 0 {
        return crate::outcome(r);
    }
    let mut evs = evs.to_vec();
    evs.sort_by_key(|e| e.1);
    let list: Vec<String> = evs.iter().map(|(e, d)| format!("{d}:{}", events(*e))).collect();
    format!("{r} [{}]", list.join(", "))
}

/// A listening TCP socket on 127.0.0.1 at a free port, and its address.
pub fn listener4() -> (i32, Addr) {
    let fd = crate::fsutil::must("socket", socket(libc::AF_INET, libc::SOCK_STREAM, 0));
    crate::fsutil::must("bind", bind(fd, &Addr::lo4(0)));
    crate::fsutil::must("listen", listen(fd, 16));
    let mut n = NameBuf::new();
    crate::fsutil::must("getsockname", getsockname(fd, &mut n));
    (fd, Addr::lo4(n.port()))
}

/// A connected TCP pair over loopback: (client, server side).
pub fn tcp_pair() -> (i32, i32) {
    let (l, addr) = listener4();
    let c = crate::fsutil::must("socket", socket(libc::AF_INET, libc::SOCK_STREAM, 0));
    crate::fsutil::must("connect", connect(c, &addr));
    let s = crate::fsutil::must("accept", accept4(l, None, 0));
    close(l);
    (c, s)
}

/// Sleeps a little (lets another thread get to its blocking call).
pub fn nap(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}
