//! Sockets: the interface the syscall layer drives ([`Socket`]), Linux's constants,
//! and AF_UNIX socket pairs ([`unix`]). Internet sockets belong to the platform
//! ([`crate::Platform::socket`]: host sockets when hosted), behind the same interface.
//!
//! The syscall layer copies addresses and option values between the guest and libOS
//! buffers, so a socket only ever sees libOS memory; data buffers are checked guest
//! memory.

pub mod scm;
pub mod unix;

use alloc::sync::Arc;

use crate::file::File;
use crate::{Errno, SysResult};

/// Address families, socket types and flags, message flags, `shutdown` modes, option
/// levels and names (x86-64 Linux values).
pub mod consts {
    pub const AF_UNSPEC: i32 = 0;
    pub const AF_UNIX: i32 = 1;
    pub const AF_INET: i32 = 2;
    pub const AF_INET6: i32 = 10;

    pub const SOCK_STREAM: i32 = 1;
    pub const SOCK_DGRAM: i32 = 2;
    pub const SOCK_RAW: i32 = 3;
    pub const SOCK_SEQPACKET: i32 = 5;
    pub const SOCK_TYPE_MASK: i32 = 0xf;
    pub const SOCK_NONBLOCK: i32 = 0o4000;
    pub const SOCK_CLOEXEC: i32 = 0o2000000;

    pub const MSG_OOB: u32 = 0x1;
    pub const MSG_PEEK: u32 = 0x2;
    pub const MSG_DONTROUTE: u32 = 0x4;
    pub const MSG_CTRUNC: u32 = 0x8;
    pub const MSG_TRUNC: u32 = 0x20;
    pub const MSG_DONTWAIT: u32 = 0x40;
    pub const MSG_EOR: u32 = 0x80;
    pub const MSG_WAITALL: u32 = 0x100;
    pub const MSG_NOSIGNAL: u32 = 0x4000;
    pub const MSG_MORE: u32 = 0x8000;
    pub const MSG_WAITFORONE: u32 = 0x10000;
    pub const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;

    pub const SHUT_RD: i32 = 0;
    pub const SHUT_WR: i32 = 1;
    pub const SHUT_RDWR: i32 = 2;

    pub const SOL_SOCKET: i32 = 1;
    pub const SO_DEBUG: i32 = 1;
    pub const SO_REUSEADDR: i32 = 2;
    pub const SO_TYPE: i32 = 3;
    pub const SO_ERROR: i32 = 4;
    pub const SO_DONTROUTE: i32 = 5;
    pub const SO_BROADCAST: i32 = 6;
    pub const SO_SNDBUF: i32 = 7;
    pub const SO_RCVBUF: i32 = 8;
    pub const SO_KEEPALIVE: i32 = 9;
    pub const SO_OOBINLINE: i32 = 10;
    pub const SO_PRIORITY: i32 = 12;
    pub const SO_LINGER: i32 = 13;
    pub const SO_REUSEPORT: i32 = 15;
    pub const SO_PASSCRED: i32 = 16;
    pub const SO_PEERCRED: i32 = 17;
    pub const SO_RCVLOWAT: i32 = 18;
    pub const SO_SNDLOWAT: i32 = 19;
    pub const SO_RCVTIMEO: i32 = 20;
    pub const SO_SNDTIMEO: i32 = 21;
    pub const SO_ACCEPTCONN: i32 = 30;
    pub const SO_PROTOCOL: i32 = 38;
    pub const SO_DOMAIN: i32 = 39;
}

/// `sizeof(struct sockaddr_storage)`: the largest address a call takes.
pub const SOCKADDR_MAX: usize = 128;

/// A socket address in the guest's layout.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SockAddr {
    pub bytes: [u8; SOCKADDR_MAX],
    pub len: usize,
}

impl SockAddr {
    /// The address made of `bytes` (at most [`SOCKADDR_MAX`]).
    pub fn new(bytes: &[u8]) -> SockAddr {
        let mut a = SockAddr { bytes: [0; SOCKADDR_MAX], len: bytes.len().min(SOCKADDR_MAX) };
        a.bytes[..a.len].copy_from_slice(&bytes[..a.len]);
        a
    }

    /// An unnamed AF_UNIX address: the family alone.
    pub fn unix_unnamed() -> SockAddr {
        SockAddr::new(&(consts::AF_UNIX as u16).to_ne_bytes())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The address family (`sa_family`), if the address holds one.
    pub fn family(&self) -> Option<i32> {
        (self.len >= 2).then(|| i32::from(u16::from_ne_bytes([self.bytes[0], self.bytes[1]])))
    }
}

impl core::fmt::Debug for SockAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SockAddr({:?})", self.as_bytes())
    }
}

/// What a `sendmsg` hands the socket.
pub struct SendMsg<'a> {
    /// The data, in pieces (the guest's iovecs).
    pub bufs: &'a [&'a [u8]],
    /// The destination (`msg_name`), if given.
    pub addr: Option<&'a [u8]>,
    /// Ancillary data (`msg_control`), copied: what a platform socket gets.
    pub control: &'a [u8],
    /// The ancillary data of an AF_UNIX socket, which the syscall layer parses
    /// ([`scm::parse`]) instead of handing over `control`.
    pub scm: Option<&'a scm::Scm>,
    /// `MSG_*` flags.
    pub flags: u32,
}

impl SendMsg<'_> {
    pub fn len(&self) -> usize {
        self.bufs.iter().map(|b| b.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a `recvmsg` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The count the call returns (a datagram's full length with `MSG_TRUNC`).
    pub len: usize,
    /// The sender's address (`None`: none, `msg_namelen` 0).
    pub addr: Option<SockAddr>,
    /// Bytes of ancillary data written to the control buffer.
    pub control_len: usize,
    /// `msg_flags`: `MSG_TRUNC`, `MSG_CTRUNC`, `MSG_EOR`, ...
    pub flags: u32,
    /// An AF_UNIX socket's ancillary data, for the syscall layer to put in the control
    /// buffer ([`scm::deliver`]; dropping it closes the files, as a receive without a
    /// control buffer does).
    pub scm: Option<scm::Scm>,
}

impl Received {
    /// Data alone: `len` bytes, `flags`, no address or ancillary data.
    pub fn data(len: usize, flags: u32) -> Received {
        Received { len, addr: None, control_len: 0, flags, scm: None }
    }
}

/// A socket, as the syscall layer drives it. `nonblock` is the description's
/// `O_NONBLOCK`; `MSG_DONTWAIT` comes in the flags. Blocking calls end with
/// ERESTARTSYS when a signal arrives (EINTR when a timeout is set, as Linux's
/// `sock_intr_errno`).
pub trait Socket: Send + Sync {
    fn bind(&self, addr: &[u8]) -> Result<(), Errno>;
    fn listen(&self, backlog: i32) -> Result<(), Errno>;
    /// A connection from the queue: the new socket (to be opened `O_RDWR`) and its
    /// peer's address.
    fn accept(&self, nonblock: bool) -> Result<(Arc<dyn File>, SockAddr), Errno>;
    fn connect(&self, addr: &[u8], nonblock: bool) -> Result<(), Errno>;
    fn shutdown(&self, how: i32) -> Result<(), Errno>;
    fn sockname(&self) -> Result<SockAddr, Errno>;
    fn peername(&self) -> Result<SockAddr, Errno>;
    /// Sends; EPIPE for a stream that can no longer send (the caller raises SIGPIPE
    /// unless `MSG_NOSIGNAL`).
    fn sendmsg(&self, msg: &SendMsg<'_>, nonblock: bool) -> SysResult;
    /// Receives into `bufs` (and ancillary data into `control`).
    fn recvmsg(
        &self,
        bufs: &mut [&mut [u8]],
        control: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> Result<Received, Errno>;
    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno>;
    /// Writes the option's value into `value` (truncated to its length, as Linux
    /// does) and returns the length written.
    fn getsockopt(&self, level: i32, name: i32, value: &mut [u8]) -> Result<usize, Errno>;
}

/// `read(2)` on a socket: `recvmsg` into the one buffer, without flags (a read of
/// nothing returns 0 at once, as Linux's does).
pub fn read_as_recvmsg(sock: &dyn Socket, buf: &mut [u8], nonblock: bool) -> SysResult {
    if buf.is_empty() {
        return Ok(0);
    }
    sock.recvmsg(&mut [buf], &mut [], 0, nonblock).map(|r| r.len)
}

/// `write(2)` on a socket: `sendmsg` of the one buffer, without flags or address.
pub fn write_as_sendmsg(sock: &dyn Socket, buf: &[u8], nonblock: bool) -> SysResult {
    sock.sendmsg(&SendMsg { bufs: &[buf], addr: None, control: &[], scm: None, flags: 0 }, nonblock)
}

/// An `int` option value (EINVAL if shorter than an `int`, as Linux's setsockopt).
pub fn int_value(value: &[u8]) -> Result<i32, Errno> {
    let b: [u8; 4] = value.get(..4).and_then(|b| b.try_into().ok()).ok_or(Errno::EINVAL)?;
    Ok(i32::from_ne_bytes(b))
}

/// Copies `v` into `out` as far as it fits; returns the length copied.
pub fn put_value(out: &mut [u8], v: &[u8]) -> usize {
    let n = out.len().min(v.len());
    out[..n].copy_from_slice(&v[..n]);
    n
}

/// A socket timeout (`SO_RCVTIMEO`/`SO_SNDTIMEO`, a `struct timeval`) as Linux's
/// `sock_set_timeout` reads it: `None` for no timeout (zero), EDOM for microseconds
/// out of range, a negative time as an immediate timeout.
pub fn timeout_value(value: &[u8]) -> Result<Option<u64>, Errno> {
    let b: [u8; 16] = value.get(..16).and_then(|b| b.try_into().ok()).ok_or(Errno::EINVAL)?;
    let sec = i64::from_ne_bytes(b[..8].try_into().map_err(|_| Errno::EINVAL)?);
    let usec = i64::from_ne_bytes(b[8..].try_into().map_err(|_| Errno::EINVAL)?);
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    if sec < 0 {
        return Ok(Some(0));
    }
    if sec == 0 && usec == 0 {
        return Ok(None);
    }
    Ok(Some((sec as u64).saturating_mul(1_000_000_000).saturating_add(usec as u64 * 1000)))
}

/// A timeout as the `struct timeval` `getsockopt` returns.
pub fn timeout_bytes(ns: Option<u64>) -> [u8; 16] {
    let ns = ns.unwrap_or(0);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_ne_bytes());
    out[8..].copy_from_slice(&(((ns % 1_000_000_000) / 1000) as i64).to_ne_bytes());
    out
}

/// A wait with a socket timeout: ETIMEDOUT becomes EAGAIN, and an interrupted wait
/// with a timeout is EINTR rather than restarted (Linux's `sock_intr_errno`).
pub fn timed_out(e: Errno, timeout: Option<u64>) -> Errno {
    match e {
        Errno::ETIMEDOUT => Errno::EAGAIN,
        Errno::ERESTARTSYS if timeout.is_some() => Errno::EINTR,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_follow_sock_set_timeout() {
        let tv = |s: i64, us: i64| {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&s.to_ne_bytes());
            b[8..].copy_from_slice(&us.to_ne_bytes());
            b
        };
        assert_eq!(timeout_value(&tv(0, 0)), Ok(None));
        assert_eq!(timeout_value(&tv(1, 500_000)), Ok(Some(1_500_000_000)));
        assert_eq!(timeout_value(&tv(1, 1_000_000)), Err(Errno::EDOM));
        assert_eq!(timeout_value(&tv(-3, 0)), Ok(Some(0)));
        assert_eq!(timeout_value(&[0u8; 8]), Err(Errno::EINVAL));
        assert_eq!(timeout_bytes(Some(1_500_000_000)), tv(1, 500_000));
        assert_eq!(timeout_bytes(None), tv(0, 0));
    }

    #[test]
    fn option_values() {
        assert_eq!(int_value(&7i32.to_ne_bytes()), Ok(7));
        assert_eq!(int_value(&[1, 0]), Err(Errno::EINVAL));
        let mut out = [0u8; 2];
        assert_eq!(put_value(&mut out, &5i32.to_ne_bytes()), 2);
        assert_eq!(out, [5, 0]);
        assert_eq!(SockAddr::unix_unnamed().family(), Some(consts::AF_UNIX));
    }
}
