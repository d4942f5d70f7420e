//! Guest sockets as host sockets (AF_INET, AF_INET6): the libOS's socket interface
//! over host fds.
//!
//! The host socket is always non-blocking; the guest's blocking mode (the
//! description's `O_NONBLOCK`, `MSG_DONTWAIT`) is the libOS's. A blocking call tries
//! the host call, and on EAGAIN waits for the fd with `ppoll` through
//! [`signals::interruptible`] — so a signal for the thread ends it (ERESTARTSYS, or
//! EINTR with a timeout set, as Linux's `sock_intr_errno`) — then tries again.
//! `SO_RCVTIMEO`/`SO_SNDTIMEO` bound those waits (EAGAIN; EINPROGRESS for `connect`).
//! Errors are the host kernel's, so they are Linux's. Every host call is a raw syscall
//! (no TLS, no errno); sends always carry `MSG_NOSIGNAL` (the host must not signal
//! unify: the syscall layer raises the guest's SIGPIPE). Addresses pass through
//! [`ports`] for `-p`.

mod opts;
pub mod ports;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use libos::abi::Stat;
use libos::file::File;
use libos::net::consts::*;
use libos::net::{timed_out, timeout_bytes, timeout_value, Received, SendMsg, SockAddr, Socket, SOCKADDR_MAX};
use libos::platform::IoHandle;
use libos::readiness::Readiness;
use libos::{Errno, SysResult};

use crate::host::{raw_syscall4, raw_syscall6};
use crate::signals;

/// "No timeout" in the timeout fields.
const NONE: u64 = u64::MAX;

/// A guest socket backed by a host socket.
pub struct HostSocket {
    fd: i32,
    /// `SOCK_DGRAM` (UDP: which `-p` mappings apply), else a stream.
    udp: bool,
    stream: bool,
    rcvtimeo: AtomicU64,
    sndtimeo: AtomicU64,
}

fn errno(r: isize) -> Errno {
    Errno::from_number(-r as i32).unwrap_or(Errno::EIO)
}

fn check(r: isize) -> Result<usize, Errno> {
    if r < 0 {
        Err(errno(r))
    } else {
        Ok(r as usize)
    }
}

/// A host socket call, made again if the host interrupted it for another reason than
/// a signal for this thread (raw calls are not restarted by the host).
fn call(mut f: impl FnMut() -> isize) -> isize {
    loop {
        let r = f();
        if r != -(libc::EINTR as isize) {
            return r;
        }
    }
}

fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a live out-pointer; CLOCK_MONOTONIC never fails.
    unsafe { raw_syscall4(libc::SYS_clock_gettime, libc::CLOCK_MONOTONIC as u64, &mut ts as *mut _ as u64, 0, 0) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl HostSocket {
    /// A new host socket (non-blocking, close-on-exec on the host).
    pub fn open(domain: i32, ty: i32, protocol: i32) -> Result<Arc<HostSocket>, Errno> {
        let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: socket takes integers only.
        let fd =
            check(unsafe { raw_syscall4(libc::SYS_socket, domain as u64, (ty | flags) as u64, protocol as u64, 0) })?;
        Ok(HostSocket::from_fd(fd as i32, ty))
    }

    fn from_fd(fd: i32, ty: i32) -> Arc<HostSocket> {
        Arc::new(HostSocket {
            fd,
            udp: ty == SOCK_DGRAM,
            stream: ty == SOCK_STREAM,
            rcvtimeo: AtomicU64::new(NONE),
            sndtimeo: AtomicU64::new(NONE),
        })
    }

    fn timeout(field: &AtomicU64) -> Option<u64> {
        Some(field.load(Ordering::Relaxed)).filter(|&t| t != NONE)
    }

    /// Waits until the fd has one of `events` or `deadline` (monotonic ns) passes:
    /// ERESTARTSYS for a signal, ETIMEDOUT at the deadline.
    fn wait(&self, events: i16, deadline: Option<u64>) -> Result<(), Errno> {
        let mut pfd = libc::pollfd { fd: self.fd, events, revents: 0 };
        let left = deadline.map(|d| d.saturating_sub(now_ns()));
        if left == Some(0) {
            return Err(Errno::ETIMEDOUT);
        }
        let ts =
            left.map(|ns| libc::timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 });
        let ts_ptr = ts.as_ref().map_or(0, |t| t as *const libc::timespec as u64);
        // `pfd` and `ts` live across the call.
        let r = signals::interruptible(libc::SYS_ppoll, [&mut pfd as *mut _ as u64, 1, ts_ptr, 0, 8, 0]);
        match r {
            0 => Err(Errno::ETIMEDOUT),
            r if r == -(libc::EINTR as i64) && signals::interrupted() => Err(Errno::ERESTARTSYS),
            _ => Ok(()),
        }
    }

    /// Runs the non-blocking host call `op` until it does not say EAGAIN, waiting for
    /// `events` in between unless `nonblock`.
    fn blocking(&self, nonblock: bool, events: i16, timeout: Option<u64>, mut op: impl FnMut() -> isize) -> SysResult {
        let deadline = timeout.map(|t| now_ns().saturating_add(t));
        loop {
            let r = call(&mut op);
            if r != -(libc::EAGAIN as isize) || nonblock {
                return check(r);
            }
            self.wait(events, deadline).map_err(|e| timed_out(e, timeout))?;
        }
    }

    fn sockopt_int(&self, level: i32, name: i32) -> Result<i32, Errno> {
        let mut v = 0i32;
        let mut len = 4u32;
        // SAFETY: live value and length buffers of the sizes given.
        check(unsafe {
            raw_syscall6(
                libc::SYS_getsockopt,
                self.fd as u64,
                level as u64,
                name as u64,
                &mut v as *mut i32 as u64,
                &mut len as *mut u32 as u64,
                0,
            )
        })?;
        Ok(v)
    }

    /// A name the host reports (getsockname, getpeername).
    fn name(&self, nr: i64, local: bool) -> Result<SockAddr, Errno> {
        let mut buf = [0u8; SOCKADDR_MAX];
        let mut len = SOCKADDR_MAX as u32;
        // SAFETY: live address and length buffers of the sizes given.
        check(unsafe { raw_syscall4(nr, self.fd as u64, buf.as_mut_ptr() as u64, &mut len as *mut u32 as u64, 0) })?;
        let len = (len as usize).min(SOCKADDR_MAX);
        if local {
            ports::local_to_guest(&mut buf[..len], self.udp);
        } else {
            ports::peer_to_guest(&mut buf[..len], self.udp);
        }
        Ok(SockAddr::new(&buf[..len]))
    }

    fn recv_once(
        &self,
        iov: &mut Iovecs,
        name: &mut [u8; SOCKADDR_MAX],
        control: &mut [u8],
        flags: u32,
    ) -> (isize, libc::msghdr) {
        // SAFETY: an all-zero msghdr is valid; its pointers are set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = name.as_mut_ptr().cast();
        msg.msg_namelen = SOCKADDR_MAX as u32;
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        if !control.is_empty() {
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = control.len();
        }
        let host_flags = (flags | MSG_DONTWAIT) & !MSG_WAITFORONE;
        // SAFETY: `msg` points at live buffers of the lengths it gives: checked guest
        // memory for the data, libOS buffers for the name and control data.
        let r = call(|| unsafe {
            raw_syscall4(libc::SYS_recvmsg, self.fd as u64, &mut msg as *mut _ as u64, host_flags as u64, 0)
        });
        (r, msg)
    }
}

impl Drop for HostSocket {
    fn drop(&mut self) {
        // SAFETY: closes the fd this socket owns.
        unsafe { raw_syscall4(libc::SYS_close, self.fd as u64, 0, 0, 0) };
    }
}

/// Host iovecs, on the stack for the usual few buffers (no allocation per call).
struct Iovecs {
    inline: [libc::iovec; INLINE_IOV],
    len: usize,
    heap: Vec<libc::iovec>,
}

const INLINE_IOV: usize = 8;

impl Iovecs {
    fn new(count: usize) -> Iovecs {
        let empty = libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 };
        let heap = if count > INLINE_IOV { Vec::with_capacity(count) } else { Vec::new() };
        Iovecs { inline: [empty; INLINE_IOV], len: 0, heap }
    }

    fn push(&mut self, v: libc::iovec) {
        if self.heap.capacity() > 0 {
            self.heap.push(v);
        } else {
            self.inline[self.len] = v;
        }
        self.len += 1;
    }

    fn as_mut_ptr(&mut self) -> *mut libc::iovec {
        if self.heap.capacity() > 0 {
            self.heap.as_mut_ptr()
        } else {
            self.inline.as_mut_ptr()
        }
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// The iovecs of `bufs` from byte `skip` on.
fn iovecs_from(bufs: &[&[u8]], mut skip: usize) -> Iovecs {
    let mut out = Iovecs::new(bufs.len());
    for b in bufs {
        if skip >= b.len() {
            skip -= b.len();
            continue;
        }
        out.push(libc::iovec { iov_base: b[skip..].as_ptr() as *mut _, iov_len: b.len() - skip });
        skip = 0;
    }
    out
}

fn iovecs_mut_from(bufs: &mut [&mut [u8]], mut skip: usize) -> Iovecs {
    let mut out = Iovecs::new(bufs.len());
    for b in bufs.iter_mut() {
        if skip >= b.len() {
            skip -= b.len();
            continue;
        }
        let rest = &mut b[skip..];
        out.push(libc::iovec { iov_base: rest.as_mut_ptr().cast(), iov_len: rest.len() });
        skip = 0;
    }
    out
}

impl Socket for HostSocket {
    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        let mut a = SockAddr::new(addr);
        ports::bind_to_host(&mut a.bytes[..a.len], self.udp);
        // SAFETY: a live address buffer of the length given.
        check(unsafe { raw_syscall4(libc::SYS_bind, self.fd as u64, a.bytes.as_ptr() as u64, a.len as u64, 0) })
            .map(|_| ())
    }

    fn listen(&self, backlog: i32) -> Result<(), Errno> {
        // SAFETY: listen takes integers only.
        check(unsafe { raw_syscall4(libc::SYS_listen, self.fd as u64, backlog as u64, 0, 0) }).map(|_| ())
    }

    fn accept(&self, nonblock: bool) -> Result<(Arc<dyn File>, SockAddr), Errno> {
        let mut buf = [0u8; SOCKADDR_MAX];
        let mut len = SOCKADDR_MAX as u32;
        let flags = (libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) as u64;
        let timeout = Self::timeout(&self.rcvtimeo);
        let fd = self.blocking(nonblock, libc::POLLIN, timeout, || {
            len = SOCKADDR_MAX as u32;
            // SAFETY: live address and length buffers of the sizes given.
            unsafe {
                raw_syscall4(
                    libc::SYS_accept4,
                    self.fd as u64,
                    buf.as_mut_ptr() as u64,
                    &mut len as *mut u32 as u64,
                    flags,
                )
            }
        })?;
        let len = (len as usize).min(SOCKADDR_MAX);
        ports::peer_to_guest(&mut buf[..len], self.udp);
        let ty = if self.stream { SOCK_STREAM } else { SOCK_SEQPACKET };
        Ok((HostSocket::from_fd(fd as i32, ty), SockAddr::new(&buf[..len])))
    }

    fn connect(&self, addr: &[u8], nonblock: bool) -> Result<(), Errno> {
        let mut a = SockAddr::new(addr);
        ports::dest_to_host(&mut a.bytes[..a.len], self.udp);
        // SAFETY: a live address buffer of the length given.
        let r = call(|| unsafe {
            raw_syscall4(libc::SYS_connect, self.fd as u64, a.bytes.as_ptr() as u64, a.len as u64, 0)
        });
        if r >= 0 {
            return Ok(());
        }
        let e = errno(r);
        // A connection on its way: a blocking caller waits for it (a restarted
        // connect finds it on its way: EALREADY, and waits again, as Linux does).
        if nonblock || !matches!(e, Errno::EINPROGRESS | Errno::EALREADY) {
            return Err(e);
        }
        let timeout = Self::timeout(&self.sndtimeo);
        let deadline = timeout.map(|t| now_ns().saturating_add(t));
        match self.wait(libc::POLLOUT, deadline) {
            Err(Errno::ETIMEDOUT) => return Err(Errno::EINPROGRESS),
            Err(e) => return Err(timed_out(e, timeout)),
            Ok(()) => {}
        }
        match self.sockopt_int(libc::SOL_SOCKET, libc::SO_ERROR)? {
            0 => {
                // The host socket still counts as connecting until connect is called
                // again (Linux moves it to connected there): do that now, so a later
                // connect of the guest's is EISCONN as after a blocking connect.
                // SAFETY: as above.
                call(|| unsafe {
                    raw_syscall4(libc::SYS_connect, self.fd as u64, a.bytes.as_ptr() as u64, a.len as u64, 0)
                });
                Ok(())
            }
            n => Err(Errno::from_number(n).unwrap_or(Errno::EIO)),
        }
    }

    fn shutdown(&self, how: i32) -> Result<(), Errno> {
        // SAFETY: shutdown takes integers only.
        check(unsafe { raw_syscall4(libc::SYS_shutdown, self.fd as u64, how as u64, 0, 0) }).map(|_| ())
    }

    fn sockname(&self) -> Result<SockAddr, Errno> {
        self.name(libc::SYS_getsockname, true)
    }

    fn peername(&self) -> Result<SockAddr, Errno> {
        self.name(libc::SYS_getpeername, false)
    }

    fn sendmsg(&self, msg: &SendMsg<'_>, nonblock: bool) -> SysResult {
        let mut name = SockAddr::new(msg.addr.unwrap_or(&[]));
        ports::dest_to_host(&mut name.bytes[..name.len], self.udp);
        let total = msg.len();
        let nonblock = nonblock || msg.flags & MSG_DONTWAIT != 0;
        let host_flags = (msg.flags | MSG_DONTWAIT | MSG_NOSIGNAL) as u64;
        let timeout = Self::timeout(&self.sndtimeo);
        let deadline = timeout.map(|t| now_ns().saturating_add(t));
        let mut sent = 0;
        loop {
            let mut iov = iovecs_from(msg.bufs, sent);
            // SAFETY: an all-zero msghdr is valid; its pointers are set below.
            let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
            if msg.addr.is_some() {
                hdr.msg_name = name.bytes.as_mut_ptr().cast();
                hdr.msg_namelen = name.len as u32;
            }
            hdr.msg_iov = iov.as_mut_ptr();
            hdr.msg_iovlen = iov.len();
            if !msg.control.is_empty() {
                hdr.msg_control = msg.control.as_ptr() as *mut _;
                hdr.msg_controllen = msg.control.len();
            }
            // SAFETY: `hdr` points at live buffers of the lengths it gives (checked
            // guest memory for the data, libOS copies of the name and control data).
            let r = call(|| unsafe {
                raw_syscall4(libc::SYS_sendmsg, self.fd as u64, &hdr as *const _ as u64, host_flags, 0)
            });
            if r >= 0 {
                sent += r as usize;
                // A stream moves everything before a blocking send returns.
                if sent >= total || !self.stream || nonblock {
                    return Ok(sent);
                }
                continue;
            }
            let e = errno(r);
            if e != Errno::EAGAIN || nonblock {
                return if sent > 0 { Ok(sent) } else { Err(e) };
            }
            if let Err(e) = self.wait(libc::POLLOUT, deadline) {
                return if sent > 0 { Ok(sent) } else { Err(timed_out(e, timeout)) };
            }
        }
    }

    fn recvmsg(
        &self,
        bufs: &mut [&mut [u8]],
        control: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> Result<Received, Errno> {
        let nonblock = nonblock || flags & MSG_DONTWAIT != 0;
        let want: usize = bufs.iter().map(|b| b.len()).sum();
        let waitall = flags & MSG_WAITALL != 0 && self.stream && flags & MSG_PEEK == 0 && !nonblock;
        let timeout = Self::timeout(&self.rcvtimeo);
        let deadline = timeout.map(|t| now_ns().saturating_add(t));
        let mut name = [0u8; SOCKADDR_MAX];
        let mut got = 0;
        loop {
            let mut iov = iovecs_mut_from(bufs, got);
            let (r, msg) = self.recv_once(&mut iov, &mut name, control, flags);
            if r >= 0 {
                got += r as usize;
                if waitall && r > 0 && got < want {
                    continue;
                }
                let name_len = (msg.msg_namelen as usize).min(SOCKADDR_MAX);
                let addr = (name_len > 0).then(|| {
                    ports::peer_to_guest(&mut name[..name_len], self.udp);
                    SockAddr::new(&name[..name_len])
                });
                let len = if self.stream { got } else { r as usize };
                return Ok(Received {
                    len,
                    addr,
                    control_len: msg.msg_controllen,
                    flags: msg.msg_flags as u32,
                    scm: None,
                });
            }
            let e = errno(r);
            if e != Errno::EAGAIN || nonblock {
                return if got > 0 { Ok(Received::data(got, 0)) } else { Err(e) };
            }
            if let Err(e) = self.wait(libc::POLLIN, deadline) {
                return if got > 0 { Ok(Received::data(got, 0)) } else { Err(timed_out(e, timeout)) };
            }
        }
    }

    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        if level == SOL_SOCKET && (opts::SO_RCVTIMEO.contains(&name) || opts::SO_SNDTIMEO.contains(&name)) {
            let t = timeout_value(value)?.unwrap_or(NONE);
            let field = if opts::SO_RCVTIMEO.contains(&name) { &self.rcvtimeo } else { &self.sndtimeo };
            field.store(t, Ordering::Relaxed);
            return Ok(());
        }
        if !opts::allowed(level, name) {
            opts::refuse(level, name);
            return Err(Errno::ENOPROTOOPT);
        }
        // SAFETY: `value` is a libOS copy of the guest's value, of the length given.
        check(unsafe {
            raw_syscall6(
                libc::SYS_setsockopt,
                self.fd as u64,
                level as u64,
                name as u64,
                value.as_ptr() as u64,
                value.len() as u64,
                0,
            )
        })
        .map(|_| ())
    }

    fn getsockopt(&self, level: i32, name: i32, value: &mut [u8]) -> Result<usize, Errno> {
        if level == SOL_SOCKET && (opts::SO_RCVTIMEO.contains(&name) || opts::SO_SNDTIMEO.contains(&name)) {
            let field = if opts::SO_RCVTIMEO.contains(&name) { &self.rcvtimeo } else { &self.sndtimeo };
            return Ok(libos::net::put_value(value, &timeout_bytes(Self::timeout(field))));
        }
        if !opts::allowed(level, name) {
            opts::refuse(level, name);
            return Err(Errno::ENOPROTOOPT);
        }
        let mut len = value.len() as u32;
        // SAFETY: `value` is a libOS buffer of `len` bytes; `len` is live.
        check(unsafe {
            raw_syscall6(
                libc::SYS_getsockopt,
                self.fd as u64,
                level as u64,
                name as u64,
                value.as_mut_ptr() as u64,
                &mut len as *mut u32 as u64,
                0,
            )
        })?;
        Ok((len as usize).min(value.len()))
    }
}

impl File for HostSocket {
    fn read(&self, buf: &mut [u8], nonblock: bool) -> SysResult {
        libos::net::read_as_recvmsg(self, buf, nonblock)
    }

    fn write(&self, buf: &[u8], nonblock: bool) -> SysResult {
        libos::net::write_as_sendmsg(self, buf, nonblock)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        crate::entry::ensure_host_tls();
        crate::host::fstat(self.fd)
    }

    fn ioctl(&self, request: u32, _arg: u64, data: &mut [u8]) -> SysResult {
        const SIOCINQ: u32 = 0x541b;
        const SIOCOUTQ: u32 = 0x5411;
        const SIOCATMARK: u32 = 0x8905;
        if !matches!(request, SIOCINQ | SIOCOUTQ | SIOCATMARK) || data.len() < 4 {
            return Err(Errno::ENOTTY);
        }
        // SAFETY: `data` is a libOS buffer of at least the 4 bytes these requests write.
        check(unsafe { raw_syscall4(libc::SYS_ioctl, self.fd as u64, request as u64, data.as_mut_ptr() as u64, 0) })
    }

    fn poll(&self, events: u16) -> u16 {
        let mut pfd = libc::pollfd { fd: self.fd, events: events as i16, revents: 0 };
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: one live pollfd and a live zero timeout.
        let r = unsafe { raw_syscall4(libc::SYS_ppoll, &mut pfd as *mut _ as u64, 1, &zero as *const _ as u64, 0) };
        if r <= 0 {
            return 0;
        }
        pfd.revents as u16
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Platform(IoHandle(self.fd as u32 as u64))
    }

    fn as_socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }

    fn anon_name(&self) -> Option<Vec<u8>> {
        let ino = self.stat().map(|s| s.st_ino).unwrap_or(0);
        Some(format!("socket:[{ino}]").into_bytes())
    }
}
