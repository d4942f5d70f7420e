//! Asking about a node: stat, lstat, newfstatat, statx, access/faccessat/faccessat2,
//! statfs/fstatfs. (`fstat` is in `io`.)

use libos::abi::Stat;
use libos::statx::{mask, Statx, AT_STATX_SYNC_TYPE};
use libos::vfs::Statfs;
use libos::{Errno, SysResult};

use super::path::*;
use crate::args::Args;
use crate::table::Ctx;

/// The `stat` of what `dirfd` + `path` name; an empty path with `AT_EMPTY_PATH` is the
/// fd itself (or the working directory for `AT_FDCWD`). Returns the stat and the
/// mount id it was found on.
fn stat_at(ctx: &Ctx, dirfd: i32, path_addr: u64, flags: u32) -> Result<(Stat, u64), Errno> {
    let path = read_path(path_addr)?;
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            let cwd = ctx.kernel.vfs.cwd();
            return Ok((cwd.inode().metadata()?.to_stat(), u64::from(cwd.mount().id())));
        }
        let open = open_file(ctx, dirfd)?;
        let mnt = open.file.dentry().map_or(0, |d| u64::from(d.mount().id()));
        return Ok((open.file.stat()?, mnt));
    }
    let start = at(ctx, dirfd, &path)?;
    let d = ctx.kernel.vfs.lookup(&start, &path, follow)?;
    Ok((d.inode().metadata()?.to_stat(), u64::from(d.mount().id())))
}

pub fn stat(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (st, _) = stat_at(ctx, AT_FDCWD, a.raw(0), 0)?;
    a.ptr::<Stat>(1).write(st).map(|()| 0)
}

pub fn lstat(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (st, _) = stat_at(ctx, AT_FDCWD, a.raw(0), AT_SYMLINK_NOFOLLOW)?;
    a.ptr::<Stat>(1).write(st).map(|()| 0)
}

pub fn newfstatat(ctx: &mut Ctx, a: &Args) -> SysResult {
    let flags = a.uint(3);
    check_flags(flags, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)?;
    let (st, _) = stat_at(ctx, a.fd(0), a.raw(1), flags)?;
    a.ptr::<Stat>(2).write(st).map(|()| 0)
}

pub fn statx(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (flags, want) = (a.uint(2), a.uint(3));
    check_flags(flags, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)?;
    if flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE || want & mask::STATX_RESERVED != 0 {
        return Err(Errno::EINVAL);
    }
    let (st, mnt_id) = stat_at(ctx, a.fd(0), a.raw(1), flags)?;
    a.ptr::<Statx>(4).write(Statx::from_stat(&st, mnt_id)).map(|()| 0)
}

fn access_common(ctx: &Ctx, dirfd: i32, path_addr: u64, mode: u32, flags: u32) -> SysResult {
    check_flags(flags, AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    let path = read_path(path_addr)?;
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        let d = empty_path_target(ctx, dirfd)?;
        return ctx.kernel.vfs.access_dentry(&d, mode).map(|()| 0);
    }
    let start = at(ctx, dirfd, &path)?;
    ctx.kernel.vfs.access(&start, &path, mode, follow).map(|()| 0)
}

pub fn access(ctx: &mut Ctx, a: &Args) -> SysResult {
    access_common(ctx, AT_FDCWD, a.raw(0), a.uint(1), 0)
}

pub fn faccessat(ctx: &mut Ctx, a: &Args) -> SysResult {
    access_common(ctx, a.fd(0), a.raw(1), a.uint(2), 0)
}

pub fn faccessat2(ctx: &mut Ctx, a: &Args) -> SysResult {
    access_common(ctx, a.fd(0), a.raw(1), a.uint(2), a.uint(3))
}

pub fn statfs(ctx: &mut Ctx, a: &Args) -> SysResult {
    let path = read_path(a.raw(0))?;
    let st = ctx.kernel.vfs.statfs(&libos::vfs::At::Cwd, &path)?;
    a.ptr::<Statfs>(1).write(st).map(|()| 0)
}

pub fn fstatfs(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = open_file(ctx, a.fd(0))?;
    let st = match open.file.dentry() {
        Some(d) => ctx.kernel.vfs.statfs_dentry(&d)?,
        None => open.file.statfs()?,
    };
    a.ptr::<Statfs>(1).write(st).map(|()| 0)
}
