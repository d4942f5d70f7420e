//! Making and removing names: mkdir, mknod, rmdir, unlink, rename, link, symlink,
//! readlink and their `*at` forms.

use libos::vfs::rename_flags::{RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT};
use libos::{Errno, SysResult};

use super::path::*;
use crate::args::Args;
use crate::table::Ctx;
use crate::user;

fn mkdir_common(ctx: &Ctx, dirfd: i32, path_addr: u64, mode: u32) -> SysResult {
    let path = read_path(path_addr)?;
    let start = at(ctx, dirfd, &path)?;
    ctx.kernel.vfs.mkdir(&start, &path, mode).map(|()| 0)
}

pub fn mkdir(ctx: &mut Ctx, a: &Args) -> SysResult {
    mkdir_common(ctx, AT_FDCWD, a.raw(0), a.uint(1))
}

pub fn mkdirat(ctx: &mut Ctx, a: &Args) -> SysResult {
    mkdir_common(ctx, a.fd(0), a.raw(1), a.uint(2))
}

fn mknod_common(ctx: &Ctx, dirfd: i32, path_addr: u64, mode: u32, dev: u64) -> SysResult {
    let path = read_path(path_addr)?;
    let start = at(ctx, dirfd, &path)?;
    ctx.kernel.vfs.mknod(&start, &path, mode, dev).map(|()| 0)
}

pub fn mknod(ctx: &mut Ctx, a: &Args) -> SysResult {
    mknod_common(ctx, AT_FDCWD, a.raw(0), a.uint(1), a.raw(2))
}

pub fn mknodat(ctx: &mut Ctx, a: &Args) -> SysResult {
    mknod_common(ctx, a.fd(0), a.raw(1), a.uint(2), a.raw(3))
}

pub fn rmdir(ctx: &mut Ctx, a: &Args) -> SysResult {
    let path = read_path(a.raw(0))?;
    ctx.kernel.vfs.rmdir(&libos::vfs::At::Cwd, &path).map(|()| 0)
}

pub fn unlink(ctx: &mut Ctx, a: &Args) -> SysResult {
    let path = read_path(a.raw(0))?;
    ctx.kernel.vfs.unlink(&libos::vfs::At::Cwd, &path).map(|()| 0)
}

pub fn unlinkat(ctx: &mut Ctx, a: &Args) -> SysResult {
    let flags = a.uint(2);
    check_flags(flags, AT_REMOVEDIR)?;
    let path = read_path(a.raw(1))?;
    let start = at(ctx, a.fd(0), &path)?;
    if flags & AT_REMOVEDIR != 0 {
        ctx.kernel.vfs.rmdir(&start, &path).map(|()| 0)
    } else {
        ctx.kernel.vfs.unlink(&start, &path).map(|()| 0)
    }
}

fn rename_common(ctx: &Ctx, olddirfd: i32, old_addr: u64, newdirfd: i32, new_addr: u64, flags: u32) -> SysResult {
    check_flags(flags, RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)?;
    if flags & RENAME_EXCHANGE != 0 && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = read_path(old_addr)?;
    let new = read_path(new_addr)?;
    let old_at = at(ctx, olddirfd, &old)?;
    let new_at = at(ctx, newdirfd, &new)?;
    ctx.kernel.vfs.rename(&old_at, &old, &new_at, &new, flags).map(|()| 0)
}

pub fn rename(ctx: &mut Ctx, a: &Args) -> SysResult {
    rename_common(ctx, AT_FDCWD, a.raw(0), AT_FDCWD, a.raw(1), 0)
}

pub fn renameat(ctx: &mut Ctx, a: &Args) -> SysResult {
    rename_common(ctx, a.fd(0), a.raw(1), a.fd(2), a.raw(3), 0)
}

pub fn renameat2(ctx: &mut Ctx, a: &Args) -> SysResult {
    rename_common(ctx, a.fd(0), a.raw(1), a.fd(2), a.raw(3), a.uint(4))
}

fn link_common(ctx: &Ctx, olddirfd: i32, old_addr: u64, newdirfd: i32, new_addr: u64, flags: u32) -> SysResult {
    check_flags(flags, AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)?;
    let old = read_path(old_addr)?;
    let new = read_path(new_addr)?;
    let target = if old.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if olddirfd == AT_FDCWD {
            return Err(Errno::ENOENT);
        }
        fd_dentry(ctx, olddirfd).map_err(|e| if e == Errno::ENOTDIR { Errno::ENOENT } else { e })?
    } else {
        let old_at = at(ctx, olddirfd, &old)?;
        ctx.kernel.vfs.lookup(&old_at, &old, flags & AT_SYMLINK_FOLLOW != 0)?
    };
    let new_at = at(ctx, newdirfd, &new)?;
    ctx.kernel.vfs.link(&target, &new_at, &new).map(|()| 0)
}

pub fn link(ctx: &mut Ctx, a: &Args) -> SysResult {
    link_common(ctx, AT_FDCWD, a.raw(0), AT_FDCWD, a.raw(1), 0)
}

pub fn linkat(ctx: &mut Ctx, a: &Args) -> SysResult {
    link_common(ctx, a.fd(0), a.raw(1), a.fd(2), a.raw(3), a.uint(4))
}

fn symlink_common(ctx: &Ctx, target_addr: u64, newdirfd: i32, new_addr: u64) -> SysResult {
    let target = read_path(target_addr)?;
    let new = read_path(new_addr)?;
    let new_at = at(ctx, newdirfd, &new)?;
    ctx.kernel.vfs.symlink(&target, &new_at, &new).map(|()| 0)
}

pub fn symlink(ctx: &mut Ctx, a: &Args) -> SysResult {
    symlink_common(ctx, a.raw(0), AT_FDCWD, a.raw(1))
}

pub fn symlinkat(ctx: &mut Ctx, a: &Args) -> SysResult {
    symlink_common(ctx, a.raw(0), a.fd(1), a.raw(2))
}

fn readlink_common(ctx: &Ctx, dirfd: i32, path_addr: u64, buf: u64, size: i32) -> SysResult {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(path_addr)?;
    let target = if path.is_empty() {
        // An empty path reads the link an `O_PATH | O_NOFOLLOW` fd names.
        if dirfd == AT_FDCWD {
            return Err(Errno::ENOENT);
        }
        let d = fd_dentry(ctx, dirfd).map_err(|e| if e == Errno::ENOTDIR { Errno::ENOENT } else { e })?;
        if d.kind() != libos::vfs::FileKind::Symlink {
            return Err(Errno::ENOENT);
        }
        d.inode().readlink()?
    } else {
        let start = at(ctx, dirfd, &path)?;
        ctx.kernel.vfs.readlink(&start, &path)?
    };
    let n = target.len().min(size as usize);
    user::slice_mut(buf, n)?.copy_from_slice(&target[..n]);
    Ok(n)
}

pub fn readlink(ctx: &mut Ctx, a: &Args) -> SysResult {
    readlink_common(ctx, AT_FDCWD, a.raw(0), a.raw(1), a.int(2))
}

pub fn readlinkat(ctx: &mut Ctx, a: &Args) -> SysResult {
    readlink_common(ctx, a.fd(0), a.raw(1), a.raw(2), a.int(3))
}
