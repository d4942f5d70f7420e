//! Socket data: sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg.
//!
//! Data moves straight between checked guest buffers and the socket; addresses and
//! ancillary data go through libOS buffers. EPIPE from a send raises SIGPIPE unless
//! `MSG_NOSIGNAL` is given (Linux sends it from the protocol, for every send that finds
//! the stream closed).
//!
//! Ancillary data: a platform socket gets the control bytes as they are (the host
//! checks them); for an AF_UNIX socket they are parsed here into files and credentials
//! (`libos::net::scm::parse`), and what a receive brings back is put into the guest's
//! control buffer (`scm::deliver`: new fds, `MSG_CTRUNC` when it is short).

use alloc::vec;
use alloc::vec::Vec;

use libos::abi::{Iovec, Mmsghdr, Msghdr, Timespec};
use libos::file::OpenFile;
use libos::net::consts::*;
use libos::net::scm::{self, ControlOut};
use libos::net::unix::UnixSocket;
use libos::net::{Received, SendMsg, SockAddr, SOCKADDR_MAX};
use libos::time::ClockId;
use libos::{Errno, Kernel, SysResult};

use super::socket::{read_addr, sock, socket_file, write_addr};
use crate::args::Args;
use crate::table::Ctx;
use crate::user::{self, UserPtr};

/// Linux's `UIO_MAXIOV`: the most iovecs a message has, and the most messages an
/// `*mmsg` call handles.
const UIO_MAXIOV: u64 = 1024;
/// The most ancillary data a call copies (Linux's `optmem_max` limit: ENOBUFS past it).
const CONTROL_MAX: u64 = 131_072;
/// `MSG_CMSG_COMPAT`: never valid from a 64-bit caller of recvmmsg.
const MSG_CMSG_COMPAT: u32 = 0x8000_0000;

/// A send's EPIPE raises SIGPIPE unless the flags say `MSG_NOSIGNAL`.
fn sigpipe(ctx: &Ctx, flags: u32, r: SysResult) -> SysResult {
    match r {
        Err(Errno::EPIPE) if flags & MSG_NOSIGNAL == 0 => Err(super::io::broken_pipe(ctx, Errno::EPIPE)),
        other => other,
    }
}

pub fn sendto(ctx: &mut Ctx, a: &Args) -> SysResult {
    let len = a.usize(2).min(i32::MAX as usize);
    let data = user::slice(a.raw(1), len)?;
    let flags = a.uint(3);
    let open = socket_file(ctx, a.fd(0))?;
    let addr = if a.raw(4) != 0 { Some(read_addr(a.raw(4), a.int(5))?) } else { None };
    let msg = SendMsg { bufs: &[data], addr: addr.as_ref().map(|a| a.as_bytes()), control: &[], scm: None, flags };
    let r = sock(&open).sendmsg(&msg, open.nonblocking());
    sigpipe(ctx, flags, r)
}

pub fn recvfrom(ctx: &mut Ctx, a: &Args) -> SysResult {
    let len = a.usize(2).min(i32::MAX as usize);
    let buf = user::slice_mut(a.raw(1), len)?;
    let open = socket_file(ctx, a.fd(0))?;
    let r = sock(&open).recvmsg(&mut [buf], &mut [], a.uint(3), open.nonblocking())?;
    if a.raw(4) != 0 {
        let from = r.addr.unwrap_or(SockAddr::new(&[]));
        write_addr(a.raw(4), a.raw(5), &from)?;
    }
    Ok(r.len)
}

pub fn sendmsg(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = socket_file(ctx, a.fd(0))?;
    let flags = a.uint(2);
    let r = send_one(ctx.kernel, &open, a.ptr(1), flags);
    sigpipe(ctx, flags, r)
}

pub fn recvmsg(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = socket_file(ctx, a.fd(0))?;
    recv_one(ctx.kernel, &open, a.ptr(1), a.uint(2))
}

/// `sendmmsg(fd, msgvec, vlen, flags)`: sends in turn until one fails; the count sent,
/// or the first message's error.
pub fn sendmmsg(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = socket_file(ctx, a.fd(0))?;
    let vlen = u64::from(a.uint(2)).min(UIO_MAXIOV) as usize;
    let flags = a.uint(3);
    let base = UserPtr::<Mmsghdr>::new(a.raw(1));
    let mut sent = 0;
    while sent < vlen {
        let entry = base.offset(sent)?;
        let r = sigpipe(ctx, flags, send_one(ctx.kernel, &open, UserPtr::new(entry.addr()), flags));
        let n = match r {
            Ok(n) => n,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        };
        if UserPtr::<u32>::new(entry.addr() + 56).write(n as u32).is_err() {
            break;
        }
        sent += 1;
    }
    Ok(sent)
}

/// `recvmmsg(fd, msgvec, vlen, flags, timeout)`: receives in turn; `MSG_WAITFORONE`
/// stops waiting after the first; the timeout is looked at after each message (as
/// Linux does: it never shortens a wait) and what is left of it written back.
pub fn recvmmsg(ctx: &mut Ctx, a: &Args) -> SysResult {
    let mut flags = a.uint(3);
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let tsp = a.ptr::<Timespec>(4);
    let timeout = match tsp.read_opt()? {
        Some(ts) => Some(ts.to_nanos().ok_or(Errno::EINVAL)?),
        None => None,
    };
    let now = || ctx.kernel.platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0);
    let end = timeout.map(|t| now().saturating_add(t));
    let open = socket_file(ctx, a.fd(0))?;
    let vlen = u64::from(a.uint(2)).min(UIO_MAXIOV) as usize;
    let base = UserPtr::<Mmsghdr>::new(a.raw(1));
    let mut got = 0;
    let mut left = timeout;
    while got < vlen {
        let entry = base.offset(got)?;
        let n = match recv_one(ctx.kernel, &open, UserPtr::new(entry.addr()), flags & !MSG_WAITFORONE) {
            Ok(n) => n,
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        };
        if UserPtr::<u32>::new(entry.addr() + 56).write(n as u32).is_err() {
            break;
        }
        got += 1;
        if flags & MSG_WAITFORONE != 0 {
            flags |= MSG_DONTWAIT;
        }
        if let Some(end) = end {
            let rest = end.saturating_sub(now());
            left = Some(rest);
            if rest == 0 {
                break;
            }
        }
    }
    if let Some(rest) = left.filter(|_| got > 0 && timeout.is_some()) {
        tsp.write(Timespec::from_nanos(rest))?;
    }
    Ok(got)
}

/// `readv` on a socket: one receive into all the buffers.
pub(crate) fn readv(open: &OpenFile, iov: &[Iovec]) -> SysResult {
    if iov.iter().all(|v| v.len == 0) {
        return Ok(0);
    }
    recv_into(open, iov, &mut [], 0).map(|r| r.len)
}

/// `writev` on a socket: one send of all the buffers.
pub(crate) fn writev(open: &OpenFile, iov: &[Iovec]) -> SysResult {
    let mut bufs = Vec::with_capacity(iov.len());
    for v in iov {
        bufs.push(user::slice(v.base, v.len as usize)?);
    }
    sock(open).sendmsg(&SendMsg { bufs: &bufs, addr: None, control: &[], scm: None, flags: 0 }, open.nonblocking())
}

/// Reads a message's iovecs: EMSGSIZE past `UIO_MAXIOV`, EINVAL for a total past
/// `ssize_t`.
fn msg_iovecs(hdr: &Msghdr) -> Result<Vec<Iovec>, Errno> {
    if hdr.iovlen > UIO_MAXIOV {
        return Err(Errno::EMSGSIZE);
    }
    let iov = user::read_array(UserPtr::<Iovec>::new(hdr.iov), hdr.iovlen as usize)?;
    let mut total: u64 = 0;
    for v in &iov {
        total = total.checked_add(v.len).filter(|t| *t <= isize::MAX as u64).ok_or(Errno::EINVAL)?;
    }
    Ok(iov)
}

/// The name of a message: none for a null pointer, at most `sockaddr_storage` (Linux
/// cuts a longer length down), EINVAL for a negative length.
fn msg_name(hdr: &Msghdr) -> Result<Option<SockAddr>, Errno> {
    if hdr.name == 0 {
        return Ok(None);
    }
    let len = hdr.namelen as i32;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    read_addr(hdr.name, len.min(SOCKADDR_MAX as i32)).map(Some)
}

fn is_unix(open: &OpenFile) -> bool {
    (*open.file).as_any().is::<UnixSocket>()
}

fn send_one(kernel: &Kernel, open: &OpenFile, hdr_ptr: UserPtr<Msghdr>, flags: u32) -> SysResult {
    let hdr = hdr_ptr.read()?;
    let name = msg_name(&hdr)?;
    let iov = msg_iovecs(&hdr)?;
    if hdr.controllen > CONTROL_MAX {
        return Err(Errno::ENOBUFS);
    }
    let control = user::slice(hdr.control, hdr.controllen as usize)?.to_vec();
    // Linux's `scm_send` comes before the protocol looks at the data.
    let parsed = if is_unix(open) { Some(scm::parse(kernel, &control)?) } else { None };
    let mut bufs = Vec::with_capacity(iov.len());
    for v in &iov {
        bufs.push(user::slice(v.base, v.len as usize)?);
    }
    let msg = SendMsg {
        bufs: &bufs,
        addr: name.as_ref().map(|a| a.as_bytes()),
        control: if parsed.is_some() { &[] } else { &control },
        scm: parsed.as_ref(),
        flags,
    };
    sock(open).sendmsg(&msg, open.nonblocking())
}

fn recv_one(kernel: &Kernel, open: &OpenFile, hdr_ptr: UserPtr<Msghdr>, flags: u32) -> SysResult {
    let hdr = hdr_ptr.read()?;
    if (hdr.namelen as i32) < 0 && hdr.name != 0 {
        return Err(Errno::EINVAL);
    }
    let iov = msg_iovecs(&hdr)?;
    let room = if hdr.control == 0 { 0 } else { hdr.controllen.min(CONTROL_MAX) as usize };
    let mut control = vec![0u8; room];
    let mut r = recv_into(open, &iov, &mut control, flags)?;
    let mut out_flags = r.flags | (flags & MSG_CMSG_CLOEXEC);
    let mut control_len = r.control_len;
    if let Some(ancillary) = r.scm.take() {
        // Linux writes the control buffer piece by piece and loses what it cannot
        // write; here it is filled in libOS memory and copied if the guest can take it.
        let writable = user::slice_mut(hdr.control, room).is_ok();
        let mut out = ControlOut::new(&mut control, writable);
        scm::deliver(kernel, ancillary, &mut out, flags & MSG_CMSG_CLOEXEC != 0);
        out_flags |= out.flags;
        control_len = out.len();
    }
    if hdr.name != 0 {
        let from = r.addr.unwrap_or(SockAddr::new(&[]));
        let name_len_ptr = hdr_ptr.addr() + 8;
        write_addr(hdr.name, name_len_ptr, &from)?;
    }
    if control_len > 0 {
        user::slice_mut(hdr.control, control_len)?.copy_from_slice(&control[..control_len]);
    }
    UserPtr::<u64>::new(hdr_ptr.addr() + 40).write(control_len as u64)?;
    UserPtr::<i32>::new(hdr_ptr.addr() + 48).write(out_flags as i32)?;
    Ok(r.len)
}

/// Receives into the guest's buffers: straight into them, or through a libOS buffer
/// scattered afterwards when they overlap (two live `&mut` views of the same bytes
/// would not be sound).
fn recv_into(open: &OpenFile, iov: &[Iovec], control: &mut [u8], flags: u32) -> Result<Received, Errno> {
    let mut ranges: Vec<(u64, u64)> = iov.iter().filter(|v| v.len > 0).map(|v| (v.base, v.len)).collect();
    ranges.sort_unstable();
    let overlap = ranges.windows(2).any(|w| w[0].0 + w[0].1 > w[1].0);
    let s = sock(open);
    if !overlap {
        let mut bufs = Vec::with_capacity(iov.len());
        for v in iov {
            bufs.push(user::slice_mut(v.base, v.len as usize)?);
        }
        return s.recvmsg(&mut bufs, control, flags, open.nonblocking());
    }
    let total: u64 = iov.iter().map(|v| v.len).sum();
    let mut bounce = vec![0u8; total.min(1 << 26) as usize];
    let r = s.recvmsg(&mut [&mut bounce[..]], control, flags, open.nonblocking())?;
    let mut done = 0;
    let copied = r.len.min(bounce.len());
    for v in iov {
        let k = (v.len as usize).min(copied - done);
        user::slice_mut(v.base, k)?.copy_from_slice(&bounce[done..done + k]);
        done += k;
    }
    Ok(r)
}
