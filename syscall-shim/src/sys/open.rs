//! Opening and closing: open, openat, creat, close_range.

use libos::file::OpenFile;
use libos::vfs::oflags::{self, status_flags};
use libos::{Errno, SysResult};

use super::path::{at, read_path};
use crate::args::Args;
use crate::table::Ctx;

/// The flags `open` knows; Linux ignores unknown bits in `open`/`openat`.
const VALID_OPEN_FLAGS: u32 = oflags::O_ACCMODE
    | oflags::O_CREAT
    | oflags::O_EXCL
    | oflags::O_NOCTTY
    | oflags::O_TRUNC
    | oflags::O_APPEND
    | oflags::O_NONBLOCK
    | oflags::O_DSYNC
    | oflags::O_ASYNC
    | oflags::O_DIRECT
    | oflags::O_LARGEFILE
    | oflags::O_DIRECTORY
    | oflags::O_NOFOLLOW
    | oflags::O_NOATIME
    | oflags::O_CLOEXEC
    | oflags::O_SYNC
    | oflags::O_PATH
    | oflags::O_TMPFILE;

fn open_common(ctx: &Ctx, dirfd: i32, path_addr: u64, flags: u32, mode: u32) -> SysResult {
    let flags = flags & VALID_OPEN_FLAGS;
    let path = read_path(path_addr)?;
    let start = at(ctx, dirfd, &path)?;
    let file = ctx.kernel.vfs.open(&start, &path, flags, mode)?;
    let open = OpenFile::new(file, status_flags(flags));
    let fd = ctx.kernel.fds.lock().insert(open, flags & oflags::O_CLOEXEC != 0)?;
    Ok(fd as usize)
}

pub fn open(ctx: &mut Ctx, a: &Args) -> SysResult {
    open_common(ctx, super::path::AT_FDCWD, a.raw(0), a.uint(1), a.uint(2))
}

pub fn openat(ctx: &mut Ctx, a: &Args) -> SysResult {
    open_common(ctx, a.fd(0), a.raw(1), a.uint(2), a.uint(3))
}

pub fn creat(ctx: &mut Ctx, a: &Args) -> SysResult {
    let flags = oflags::O_CREAT | oflags::O_WRONLY | oflags::O_TRUNC;
    open_common(ctx, super::path::AT_FDCWD, a.raw(0), flags, a.uint(1))
}

const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

/// `close_range(first, last, flags)`: closes (or marks close-on-exec) every open fd
/// in `first..=last`. There is one fd table per process, so `CLOSE_RANGE_UNSHARE`
/// has nothing to unshare.
pub fn close_range(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (first, last, flags) = (a.uint(0), a.uint(1), a.uint(2));
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let mut fds = ctx.kernel.fds.lock();
    let in_range: alloc::vec::Vec<i32> = fds.open_fds().filter(|&fd| (first..=last).contains(&(fd as u32))).collect();
    let mut closed = alloc::vec::Vec::new();
    for fd in in_range {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            fds.set_cloexec(fd, true)?;
        } else {
            closed.push(fds.remove(fd)?);
        }
    }
    drop(fds);
    drop(closed);
    Ok(0)
}
