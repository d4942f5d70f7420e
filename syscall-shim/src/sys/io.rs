//! Reading, writing and controlling fds: read/write and their vector and positioned
//! forms, lseek, close, dup*, fcntl, ioctl, fstat.

use alloc::sync::Arc;
use alloc::vec::Vec;

use libos::abi::{Iovec, Stat};
use libos::file::{oflags, OpenFile};
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user::{self, UserPtr};

/// Linux's `UIO_MAXIOV`.
const UIO_MAXIOV: i32 = 1024;
/// Linux's `MAX_RW_COUNT`: one transfer moves at most this many bytes.
const MAX_RW_COUNT: usize = 0x7fff_f000;

fn file(ctx: &Ctx, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    ctx.kernel.fds.lock().get(fd)
}

pub fn read(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    let buf = user::slice_mut(a.raw(1), a.usize(2).min(MAX_RW_COUNT))?;
    open.read(buf)
}

pub fn write(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    let buf = user::slice(a.raw(1), a.usize(2).min(MAX_RW_COUNT))?;
    sigpipe(ctx, open.write(buf))
}

/// Applies SIGPIPE's action to a write that found the pipe's reader gone.
fn sigpipe(ctx: &Ctx, result: SysResult) -> SysResult {
    result.map_err(|e| broken_pipe(ctx, e))
}

/// The errno of a failed write, after SIGPIPE's action for EPIPE.
pub(crate) fn broken_pipe(ctx: &Ctx, e: Errno) -> Errno {
    match e {
        Errno::EPIPE => libos::signal::broken_pipe(ctx.kernel, ctx.thread),
        other => other,
    }
}

pub fn pread64(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    if !open.readable() {
        return Err(Errno::EBADF);
    }
    let offset = u64::try_from(a.long(3)).map_err(|_| Errno::EINVAL)?;
    let buf = user::slice_mut(a.raw(1), a.usize(2).min(MAX_RW_COUNT))?;
    open.file.pread(buf, offset)
}

pub fn pwrite64(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    if !open.writable() {
        return Err(Errno::EBADF);
    }
    let offset = u64::try_from(a.long(3)).map_err(|_| Errno::EINVAL)?;
    let buf = user::slice(a.raw(1), a.usize(2).min(MAX_RW_COUNT))?;
    sigpipe(ctx, positioned_write(&open, buf, offset))
}

/// `pwrite` at `offset`, except on a description opened with `O_APPEND`, where Linux
/// appends whatever the offset says (and, being a positioned write, leaves the file
/// position alone).
fn positioned_write(open: &OpenFile, buf: &[u8], offset: u64) -> SysResult {
    if open.flags() & oflags::O_APPEND != 0 {
        if let Some(d) = open.file.dentry().filter(|d| d.kind() == libos::vfs::FileKind::Regular) {
            return libos::mm::filemap::append(d.inode(), buf).map(|(n, _)| n);
        }
    }
    open.file.pwrite(buf, offset)
}

/// Reads and validates an iovec array the way Linux does (EINVAL for a bad count or a
/// total beyond `ssize_t`).
fn iovecs(ptr: UserPtr<Iovec>, count: i32) -> Result<Vec<Iovec>, Errno> {
    if !(0..=UIO_MAXIOV).contains(&count) {
        return Err(Errno::EINVAL);
    }
    let iov = user::read_array(ptr, count as usize)?;
    let mut total: u64 = 0;
    for v in &iov {
        total = total.checked_add(v.len).filter(|t| *t <= isize::MAX as u64).ok_or(Errno::EINVAL)?;
    }
    Ok(iov)
}

/// Runs `op` over each buffer until one comes back short; returns the total, or the
/// first error if nothing was transferred.
fn vectored(iov: &[Iovec], mut op: impl FnMut(&Iovec, u64) -> SysResult) -> SysResult {
    let mut done: usize = 0;
    for v in iov {
        if v.len == 0 {
            continue;
        }
        match op(v, done as u64) {
            Ok(n) => {
                done += n;
                if (n as u64) < v.len {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

pub fn readv(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    let iov = iovecs(a.ptr(1), a.int(2))?;
    if open.file.as_socket().is_some() {
        // One receive into all the buffers, as sock_read_iter does.
        return super::sockmsg::readv(&open, &iov);
    }
    if let Some(pipe) = pipe_of(&open) {
        // One read across all the buffers, as Linux does (a packet fills them in turn).
        let total: u64 = iov.iter().map(|v| v.len).sum();
        let mut buf = alloc::vec![0u8; total.min(pipe.pipe().capacity() as u64) as usize];
        let n = open.read(&mut buf)?;
        let mut done = 0;
        for v in &iov {
            let k = (v.len as usize).min(n - done);
            user::slice_mut(v.base, k)?.copy_from_slice(&buf[done..done + k]);
            done += k;
        }
        return Ok(n);
    }
    vectored(&iov, |v, _| open.read(user::slice_mut(v.base, v.len as usize)?))
}

pub fn writev(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    let iov = iovecs(a.ptr(1), a.int(2))?;
    if open.file.as_socket().is_some() {
        // One send of all the buffers, as sock_write_iter does (one segment, one
        // datagram).
        return sigpipe(ctx, super::sockmsg::writev(&open, &iov));
    }
    let total: u64 = iov.iter().map(|v| v.len).sum();
    if pipe_of(&open).is_some() && total <= PIPE_GATHER_MAX {
        // One write, as Linux does: atomic up to PIPE_BUF, one packet per page.
        let mut data = Vec::with_capacity(total as usize);
        for v in &iov {
            data.extend_from_slice(user::slice(v.base, v.len as usize)?);
        }
        return sigpipe(ctx, open.write(&data));
    }
    let result = vectored(&iov, |v, _| open.write(user::slice(v.base, v.len as usize)?));
    sigpipe(ctx, result)
}

/// The largest `writev` to a pipe gathered into one write (larger ones go buffer by
/// buffer: past `PIPE_BUF` Linux promises no atomicity anyway).
const PIPE_GATHER_MAX: u64 = 1 << 20;

fn pipe_of(open: &OpenFile) -> Option<&libos::pipe::PipeEnd> {
    (*open.file).as_any().downcast_ref::<libos::pipe::PipeEnd>()
}

pub fn preadv(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    if !open.readable() {
        return Err(Errno::EBADF);
    }
    let iov = iovecs(a.ptr(1), a.int(2))?;
    let base = u64::try_from(a.long(3)).map_err(|_| Errno::EINVAL)?;
    vectored(&iov, |v, done| open.file.pread(user::slice_mut(v.base, v.len as usize)?, base + done))
}

pub fn pwritev(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    if !open.writable() {
        return Err(Errno::EBADF);
    }
    let iov = iovecs(a.ptr(1), a.int(2))?;
    let base = u64::try_from(a.long(3)).map_err(|_| Errno::EINVAL)?;
    let result = vectored(&iov, |v, done| positioned_write(&open, user::slice(v.base, v.len as usize)?, base + done));
    sigpipe(ctx, result)
}

pub fn lseek(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    let whence = a.uint(2);
    if whence > 4 {
        return Err(Errno::EINVAL);
    }
    open.file.seek(a.long(1), whence).map(|p| p as usize)
}

pub fn close(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = ctx.kernel.fds.lock().remove(a.fd(0))?;
    drop(open);
    Ok(0)
}

/// `getdents64(fd, buf, count)`: directory entries from the fd's position.
pub fn getdents64(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    if open.flags() & libos::vfs::oflags::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let buf = user::slice_mut(a.raw(1), a.usize(2).min(MAX_RW_COUNT))?;
    open.file.getdents64(buf)
}

/// `getdents(fd, buf, count)`, the old `linux_dirent` form: the same records as
/// `getdents64` with the type moved from before the name to the record's last byte.
/// Both layouts give a name of `n` bytes a record of `align8(20 + n)` bytes, so the
/// records are converted where they lie.
pub fn getdents(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    if open.flags() & libos::vfs::oflags::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let buf = user::slice_mut(a.raw(1), a.usize(2).min(MAX_RW_COUNT))?;
    let n = open.file.getdents64(buf)?;
    let mut at = 0;
    while at < n {
        let reclen = usize::from(u16::from_le_bytes([buf[at + 16], buf[at + 17]]));
        let rec = &mut buf[at..at + reclen];
        let d_type = rec[18];
        let name_len = rec[19..].iter().position(|&b| b == 0).unwrap_or(reclen - 20);
        rec.copy_within(19..19 + name_len, 18);
        rec[18 + name_len..reclen].fill(0);
        rec[reclen - 1] = d_type;
        at += reclen;
    }
    Ok(n)
}

pub fn fstat(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = file(ctx, a.fd(0))?;
    let st = open.file.stat()?;
    a.ptr::<Stat>(1).write(st)?;
    Ok(0)
}

pub fn dup(ctx: &mut Ctx, a: &Args) -> SysResult {
    let mut fds = ctx.kernel.fds.lock();
    let open = fds.get(a.fd(0))?;
    fds.insert(open, false).map(|fd| fd as usize)
}

pub fn dup2(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (old, new) = (a.fd(0), a.fd(1));
    let mut fds = ctx.kernel.fds.lock();
    let open = fds.get(old)?;
    if old == new {
        return Ok(new as usize);
    }
    let replaced = fds.insert_at(new, open, false)?;
    drop(fds);
    drop(replaced);
    Ok(new as usize)
}

pub fn dup3(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (old, new, flags) = (a.fd(0), a.fd(1), a.uint(2));
    if flags & !oflags::O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    let mut fds = ctx.kernel.fds.lock();
    let open = fds.get(old)?;
    let replaced = fds.insert_at(new, open, flags & oflags::O_CLOEXEC != 0)?;
    drop(fds);
    drop(replaced);
    Ok(new as usize)
}

mod fcntl_cmd {
    pub const F_DUPFD: i32 = 0;
    pub const F_GETFD: i32 = 1;
    pub const F_SETFD: i32 = 2;
    pub const F_GETFL: i32 = 3;
    pub const F_SETFL: i32 = 4;
    pub const F_GETLK: i32 = 5;
    pub const F_SETLK: i32 = 6;
    pub const F_SETLKW: i32 = 7;
    pub const F_OFD_GETLK: i32 = 36;
    pub const F_OFD_SETLK: i32 = 37;
    pub const F_OFD_SETLKW: i32 = 38;
    pub const F_DUPFD_CLOEXEC: i32 = 1030;
    pub const F_SETPIPE_SZ: i32 = 1031;
    pub const F_GETPIPE_SZ: i32 = 1032;
    pub const F_ADD_SEALS: i32 = 1033;
    pub const F_GET_SEALS: i32 = 1034;
    pub const FD_CLOEXEC: u64 = 1;
}

pub fn fcntl(ctx: &mut Ctx, a: &Args) -> SysResult {
    use fcntl_cmd::*;
    let (fd, cmd, arg) = (a.fd(0), a.int(1), a.raw(2));
    let mut fds = ctx.kernel.fds.lock();
    let open = fds.get(fd)?;
    // An O_PATH fd only names a file: Linux allows it these commands alone.
    if open.flags() & libos::vfs::oflags::O_PATH != 0
        && !matches!(cmd, F_DUPFD | F_DUPFD_CLOEXEC | F_GETFD | F_SETFD | F_GETFL)
    {
        return Err(Errno::EBADF);
    }
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let min = usize::try_from(arg as u32 as i32).map_err(|_| Errno::EINVAL)?;
            fds.insert_from(min, open, cmd == F_DUPFD_CLOEXEC).map(|fd| fd as usize)
        }
        F_GETFD => Ok(if fds.cloexec(fd)? { FD_CLOEXEC as usize } else { 0 }),
        F_SETFD => fds.set_cloexec(fd, arg & FD_CLOEXEC != 0).map(|()| 0),
        F_GETFL => Ok(open.flags() as usize),
        F_SETFL => {
            drop(fds);
            open.set_flags(arg as u32).map(|()| 0)
        }
        F_GETLK | F_SETLK | F_SETLKW | F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW => {
            drop(fds);
            super::lock::fcntl_lock(ctx, &open, cmd, a.ptr(2))
        }
        F_GETPIPE_SZ => super::pipe::get_size(&open),
        F_SETPIPE_SZ => {
            drop(fds);
            super::pipe::set_size(ctx, &open, arg)
        }
        F_ADD_SEALS => {
            drop(fds);
            super::memfd::add_seals(ctx, &open, arg as u32)
        }
        F_GET_SEALS => super::memfd::get_seals(&open),
        _ => {
            warn_once_fcntl(ctx, cmd);
            Err(Errno::EINVAL)
        }
    }
}

fn warn_once_fcntl(ctx: &Ctx, cmd: i32) {
    use core::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        let mut line = alloc::string::String::new();
        let _ = core::fmt::write(
            &mut line,
            format_args!("unify: fcntl command {cmd} is not supported yet; returning EINVAL"),
        );
        ctx.kernel.platform.log(&line);
    }
}

/// ioctl requests and the size and direction of their argument.
mod ioctl_req {
    pub const TCGETS: u32 = 0x5401;
    pub const TCSETS: u32 = 0x5402;
    pub const TCSETSW: u32 = 0x5403;
    pub const TCSETSF: u32 = 0x5404;
    pub const TIOCOUTQ: u32 = 0x5411;
    pub const TIOCGPGRP: u32 = 0x540f;
    pub const TIOCSPGRP: u32 = 0x5410;
    pub const TIOCGWINSZ: u32 = 0x5413;
    pub const TIOCSWINSZ: u32 = 0x5414;
    pub const FIONREAD: u32 = 0x541b;
    pub const FIONBIO: u32 = 0x5421;
    pub const FIONCLEX: u32 = 0x5450;
    pub const FIOCLEX: u32 = 0x5451;
    pub const SIOCATMARK: u32 = 0x8905;
    pub const TFD_IOC_SET_TICKS: u32 = libos::timerfd::TFD_IOC_SET_TICKS;

    /// (argument size, copied in, copied out) for the requests whose layout is known.
    pub fn layout(req: u32) -> Option<(usize, bool, bool)> {
        Some(match req {
            TCGETS => (36, false, true),
            TCSETS | TCSETSW | TCSETSF => (36, true, false),
            TIOCGWINSZ => (8, false, true),
            TIOCSWINSZ => (8, true, false),
            TIOCGPGRP | FIONREAD | TIOCOUTQ | SIOCATMARK => (4, false, true),
            TIOCSPGRP => (4, true, false),
            TFD_IOC_SET_TICKS => (8, true, false),
            _ => return None,
        })
    }
}

pub fn ioctl(ctx: &mut Ctx, a: &Args) -> SysResult {
    use ioctl_req::*;
    let (fd, req, arg) = (a.fd(0), a.uint(1), a.raw(2));
    let open = file(ctx, fd)?;
    match req {
        FIONBIO => {
            let on = a.ptr::<i32>(2).read()? != 0;
            let flags = open.flags();
            let new = if on { flags | oflags::O_NONBLOCK } else { flags & !oflags::O_NONBLOCK };
            return open.set_flags(new).map(|()| 0);
        }
        FIOCLEX | FIONCLEX => return ctx.kernel.fds.lock().set_cloexec(fd, req == FIOCLEX).map(|()| 0),
        _ => {}
    }
    let Some((size, copy_in, copy_out)) = layout(req) else {
        return open.file.ioctl(req, arg, &mut []);
    };
    let mut data = [0u8; 64];
    let data = &mut data[..size];
    if copy_in {
        data.copy_from_slice(user::slice(arg, size)?);
    }
    let result = open.file.ioctl(req, arg, data)?;
    if copy_out {
        user::slice_mut(arg, size)?.copy_from_slice(data);
    }
    Ok(result)
}
