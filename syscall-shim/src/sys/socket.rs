//! Sockets, all but the data calls: socket, socketpair, bind, listen, accept,
//! accept4, connect, shutdown, getsockname, getpeername, setsockopt, getsockopt.
//!
//! Addresses and option values are copied between the guest and libOS buffers here
//! (Linux's `move_addr_to_kernel`/`move_addr_to_user`), so sockets never see guest
//! pointers. AF_INET and AF_INET6 sockets come from the platform; AF_UNIX exists as
//! `socketpair` only.

use alloc::sync::Arc;
use alloc::vec;

use libos::file::{oflags, File, OpenFile};
use libos::net::consts::*;
use libos::net::{unix, SockAddr, Socket, SOCKADDR_MAX};
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user::{self, UserPtr};

/// Linux's `NPROTO` (`AF_MAX`): families past it are EAFNOSUPPORT at once.
const NPROTO: i32 = 46;
/// Linux's `SOCK_MAX`.
const SOCK_MAX: i32 = 11;
/// The largest option value passed through (TCP_INFO and friends fit).
const OPTVAL_MAX: usize = 4096;

/// The description behind `fd`, which must be a socket (EBADF, ENOTSOCK).
pub(crate) fn socket_file(ctx: &Ctx, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    let open = ctx.kernel.fds.lock().get(fd)?;
    if open.file.as_socket().is_none() {
        return Err(Errno::ENOTSOCK);
    }
    Ok(open)
}

/// The socket interface of a description [`socket_file`] returned.
pub(crate) fn sock(open: &OpenFile) -> &dyn Socket {
    match open.file.as_socket() {
        Some(s) => s,
        None => unreachable!("socket_file checked it"),
    }
}

/// Copies an address in (`move_addr_to_kernel`): EINVAL for a length below 0 or past
/// `sockaddr_storage`.
pub(crate) fn read_addr(addr: u64, len: i32) -> Result<SockAddr, Errno> {
    if len < 0 || len as usize > SOCKADDR_MAX {
        return Err(Errno::EINVAL);
    }
    Ok(SockAddr::new(user::slice(addr, len as usize)?))
}

/// Copies an address out (`move_addr_to_user`): as much as the guest's length allows,
/// and the full length back into `*len_ptr`. Nothing when `addr` is null.
pub(crate) fn write_addr(addr: u64, len_ptr: u64, a: &SockAddr) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    let lp = UserPtr::<i32>::new(len_ptr);
    let len = lp.read()?;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let n = (len as usize).min(a.len);
    if n > 0 {
        user::slice_mut(addr, n)?.copy_from_slice(&a.bytes[..n]);
    }
    lp.write(a.len as i32)
}

/// Splits `type` into the socket type and the `SOCK_NONBLOCK`/`SOCK_CLOEXEC` flags
/// (EINVAL for other flag bits).
fn type_and_flags(ty: i32) -> Result<(i32, u32), Errno> {
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok((ty & SOCK_TYPE_MASK, flags as u32))
}

fn install(ctx: &Ctx, file: Arc<dyn File>, flags: u32) -> Result<i32, Errno> {
    let open = OpenFile::new(file, oflags::O_RDWR | (flags & oflags::O_NONBLOCK));
    ctx.kernel.fds.lock().insert(open, flags & oflags::O_CLOEXEC != 0)
}

/// Says once that AF_UNIX sockets with names do not exist yet.
fn warn_unix_names(ctx: &Ctx) {
    use core::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        ctx.kernel.platform.log(
            "unify: AF_UNIX sockets with addresses are not supported yet (socketpair is); socket(AF_UNIX) gives EAFNOSUPPORT",
        );
    }
}

pub fn socket(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (family, protocol) = (a.int(0), a.int(2));
    let (ty, flags) = type_and_flags(a.int(1))?;
    if !(0..NPROTO).contains(&family) {
        return Err(Errno::EAFNOSUPPORT);
    }
    if !(0..SOCK_MAX).contains(&ty) {
        return Err(Errno::EINVAL);
    }
    let file = match family {
        AF_INET | AF_INET6 => ctx.kernel.platform.socket(family, ty, protocol)?,
        AF_UNIX => {
            warn_unix_names(ctx);
            return Err(Errno::EAFNOSUPPORT);
        }
        _ => return Err(Errno::EAFNOSUPPORT),
    };
    install(ctx, file, flags).map(|fd| fd as usize)
}

/// `socketpair(domain, type, protocol, sv)`: AF_UNIX stream, datagram (SOCK_RAW is
/// taken as datagram, as Linux does) and seqpacket pairs; other families cannot make
/// pairs (EOPNOTSUPP, or EAFNOSUPPORT for families that do not exist).
pub fn socketpair(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (family, protocol) = (a.int(0), a.int(2));
    let (ty, flags) = type_and_flags(a.int(1))?;
    if !(0..NPROTO).contains(&family) {
        return Err(Errno::EAFNOSUPPORT);
    }
    if !(0..SOCK_MAX).contains(&ty) {
        return Err(Errno::EINVAL);
    }
    match family {
        AF_UNIX => {}
        AF_INET | AF_INET6 => {
            // Linux makes the sockets, then finds that inet cannot pair them.
            ctx.kernel.platform.socket(family, ty, protocol)?;
            return Err(Errno::EOPNOTSUPP);
        }
        _ => return Err(Errno::EAFNOSUPPORT),
    }
    if protocol != 0 && protocol != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let kind = match ty {
        SOCK_RAW => unix::Kind::Dgram,
        other => unix::Kind::from_type(other).ok_or(Errno::ESOCKTNOSUPPORT)?,
    };
    let k = ctx.kernel;
    let (s1, s2) = unix::pair(kind, k.identity.pid, k.identity.uid, k.identity.gid);
    let fd1 = install(ctx, s1, flags)?;
    let fd2 = match install(ctx, s2, flags) {
        Ok(fd) => fd,
        Err(e) => {
            let closed = k.fds.lock().remove(fd1);
            drop(closed);
            return Err(e);
        }
    };
    if UserPtr::<[i32; 2]>::new(a.raw(3)).write([fd1, fd2]).is_err() {
        let mut fds = k.fds.lock();
        let closed = (fds.remove(fd1), fds.remove(fd2));
        drop(fds);
        drop(closed);
        return Err(Errno::EFAULT);
    }
    Ok(0)
}

pub fn bind(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = socket_file(ctx, a.fd(0))?;
    let addr = read_addr(a.raw(1), a.int(2))?;
    sock(&open).bind(addr.as_bytes()).map(|()| 0)
}

pub fn listen(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = socket_file(ctx, a.fd(0))?;
    sock(&open).listen(a.int(1)).map(|()| 0)
}

pub fn accept(ctx: &mut Ctx, a: &Args) -> SysResult {
    accept_common(ctx, a.fd(0), a.raw(1), a.raw(2), 0)
}

pub fn accept4(ctx: &mut Ctx, a: &Args) -> SysResult {
    let flags = a.int(3);
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    accept_common(ctx, a.fd(0), a.raw(1), a.raw(2), flags as u32)
}

fn accept_common(ctx: &mut Ctx, fd: i32, addr: u64, len_ptr: u64, flags: u32) -> SysResult {
    let open = socket_file(ctx, fd)?;
    let (file, peer) = sock(&open).accept(open.nonblocking())?;
    // The connection is taken even if the address cannot be stored (Linux: EFAULT,
    // and the connection is lost).
    write_addr(addr, len_ptr, &peer)?;
    install(ctx, file, flags).map(|fd| fd as usize)
}

pub fn connect(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = ctx.kernel.fds.lock().get(a.fd(0))?;
    let addr = read_addr(a.raw(1), a.int(2))?;
    let s = open.file.as_socket().ok_or(Errno::ENOTSOCK)?;
    s.connect(addr.as_bytes(), open.nonblocking()).map(|()| 0)
}

pub fn shutdown(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = socket_file(ctx, a.fd(0))?;
    sock(&open).shutdown(a.int(1)).map(|()| 0)
}

pub fn getsockname(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = socket_file(ctx, a.fd(0))?;
    let addr = sock(&open).sockname()?;
    write_addr(a.raw(1), a.raw(2), &addr).map(|()| 0)
}

pub fn getpeername(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = socket_file(ctx, a.fd(0))?;
    let addr = sock(&open).peername()?;
    write_addr(a.raw(1), a.raw(2), &addr).map(|()| 0)
}

/// `setsockopt(fd, level, name, value, len)`: the value is copied into a libOS buffer.
pub fn setsockopt(ctx: &mut Ctx, a: &Args) -> SysResult {
    let len = a.int(4);
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let open = socket_file(ctx, a.fd(0))?;
    let value = user::slice(a.raw(3), (len as usize).min(OPTVAL_MAX))?;
    let value = value.to_vec();
    sock(&open).setsockopt(a.int(1), a.int(2), &value).map(|()| 0)
}

/// `getsockopt(fd, level, name, value, len)`: the socket fills a libOS buffer of the
/// guest's length; what it wrote is copied out and its length stored in `*len`.
pub fn getsockopt(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = socket_file(ctx, a.fd(0))?;
    let lp = UserPtr::<i32>::new(a.raw(4));
    let len = lp.read()?;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let mut buf = vec![0u8; (len as usize).min(OPTVAL_MAX)];
    let n = sock(&open).getsockopt(a.int(1), a.int(2), &mut buf)?;
    if n > 0 {
        user::slice_mut(a.raw(3), n)?.copy_from_slice(&buf[..n]);
    }
    lp.write(n as i32)?;
    Ok(0)
}
