//! Changing a node: truncate/ftruncate, fallocate, utimensat, chmod and chown families,
//! and writing back (fsync, fdatasync, sync, syncfs).

use alloc::sync::Arc;

use libos::abi::Timespec;
use libos::file::OpenFile;
use libos::vfs::{At, Dentry, FileKind};
use libos::{Errno, SysResult};

use super::path::*;
use crate::args::Args;
use crate::table::Ctx;

/// The dentry of an fd that must be a real open (not `O_PATH`) file in the tree.
fn dentry_of_open(open: &OpenFile) -> Result<Arc<Dentry>, Errno> {
    if open.flags() & libos::vfs::oflags::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    open.file.dentry().ok_or(Errno::EINVAL)
}

pub fn truncate(ctx: &mut Ctx, a: &Args) -> SysResult {
    let path = read_path(a.raw(0))?;
    ctx.kernel.vfs.truncate(&At::Cwd, &path, a.long(1)).map(|()| 0)
}

/// `ftruncate`: EINVAL for a negative length or an fd not open for writing, or one
/// that is not a regular file.
pub fn ftruncate(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = open_file(ctx, a.fd(0))?;
    let len = u64::try_from(a.long(1)).map_err(|_| Errno::EINVAL)?;
    let d = dentry_of_open(&open)?;
    if !open.writable() || d.kind() != FileKind::Regular {
        return Err(Errno::EINVAL);
    }
    ctx.kernel.vfs.truncate_dentry(&d, len).map(|()| 0)
}

/// `fallocate` with mode 0: makes sure `offset..offset+len` is backed, growing the
/// file. The other modes (punching holes, keeping the size) are EOPNOTSUPP.
pub fn fallocate(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (mode, offset, len) = (a.int(1), a.long(2), a.long(3));
    let open = open_file(ctx, a.fd(0))?;
    if offset < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if !open.writable() {
        return Err(Errno::EBADF);
    }
    let d = open.file.dentry().ok_or(Errno::ESPIPE)?;
    match d.kind() {
        FileKind::Regular => {}
        FileKind::Directory => return Err(Errno::EISDIR),
        FileKind::Fifo => return Err(Errno::ESPIPE),
        _ => return Err(Errno::ENODEV),
    }
    if mode != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let end = offset.checked_add(len).filter(|&e| e >= 0).ok_or(Errno::EFBIG)? as u64;
    if end > d.inode().metadata()?.size {
        ctx.kernel.vfs.truncate_dentry(&d, end)?;
    }
    Ok(0)
}

/// `utimensat(dirfd, path, times, flags)`; a NULL path sets the times of `dirfd`
/// itself (`futimens`).
pub fn utimensat(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (dirfd, path_addr, flags) = (a.fd(0), a.raw(1), a.uint(3));
    check_flags(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    let times = a.ptr::<[Timespec; 2]>(2).read_opt()?;
    if path_addr == 0 {
        if dirfd == AT_FDCWD {
            return Err(Errno::EFAULT);
        }
        let d = fd_dentry(ctx, dirfd).map_err(|e| if e == Errno::ENOTDIR { Errno::EBADF } else { e })?;
        return ctx.kernel.vfs.utimens_dentry(&d, times).map(|()| 0);
    }
    let path = read_path(path_addr)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        let d = empty_path_target(ctx, dirfd)?;
        return ctx.kernel.vfs.utimens_dentry(&d, times).map(|()| 0);
    }
    let start = at(ctx, dirfd, &path)?;
    ctx.kernel.vfs.utimens(&start, &path, times, flags & AT_SYMLINK_NOFOLLOW == 0).map(|()| 0)
}

fn chmod_common(ctx: &Ctx, dirfd: i32, path_addr: u64, mode: u32, flags: u32) -> SysResult {
    check_flags(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    let path = read_path(path_addr)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        let d = empty_path_target(ctx, dirfd)?;
        return ctx.kernel.vfs.chmod_dentry(&d, mode).map(|()| 0);
    }
    let start = at(ctx, dirfd, &path)?;
    ctx.kernel.vfs.chmod(&start, &path, mode, flags & AT_SYMLINK_NOFOLLOW == 0).map(|()| 0)
}

pub fn chmod(ctx: &mut Ctx, a: &Args) -> SysResult {
    chmod_common(ctx, AT_FDCWD, a.raw(0), a.uint(1), 0)
}

pub fn fchmodat(ctx: &mut Ctx, a: &Args) -> SysResult {
    chmod_common(ctx, a.fd(0), a.raw(1), a.uint(2), 0)
}

pub fn fchmodat2(ctx: &mut Ctx, a: &Args) -> SysResult {
    chmod_common(ctx, a.fd(0), a.raw(1), a.uint(2), a.uint(3))
}

pub fn fchmod(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = open_file(ctx, a.fd(0))?;
    let d = dentry_of_open(&open)?;
    ctx.kernel.vfs.chmod_dentry(&d, a.uint(1)).map(|()| 0)
}

fn chown_common(ctx: &Ctx, dirfd: i32, path_addr: u64, uid: u32, gid: u32, flags: u32) -> SysResult {
    check_flags(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    let path = read_path(path_addr)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        let d = empty_path_target(ctx, dirfd)?;
        return ctx.kernel.vfs.chown_dentry(&d, uid, gid).map(|()| 0);
    }
    let start = at(ctx, dirfd, &path)?;
    ctx.kernel.vfs.chown(&start, &path, uid, gid, flags & AT_SYMLINK_NOFOLLOW == 0).map(|()| 0)
}

pub fn chown(ctx: &mut Ctx, a: &Args) -> SysResult {
    chown_common(ctx, AT_FDCWD, a.raw(0), a.uint(1), a.uint(2), 0)
}

pub fn lchown(ctx: &mut Ctx, a: &Args) -> SysResult {
    chown_common(ctx, AT_FDCWD, a.raw(0), a.uint(1), a.uint(2), AT_SYMLINK_NOFOLLOW)
}

pub fn fchownat(ctx: &mut Ctx, a: &Args) -> SysResult {
    chown_common(ctx, a.fd(0), a.raw(1), a.uint(2), a.uint(3), a.uint(4))
}

pub fn fchown(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = open_file(ctx, a.fd(0))?;
    let d = dentry_of_open(&open)?;
    ctx.kernel.vfs.chown_dentry(&d, a.uint(1), a.uint(2)).map(|()| 0)
}

/// `fsync`/`fdatasync`: EINVAL for a file with no storage behind it (pipe, console).
/// What the file's shared mappings changed is written back first.
pub fn fsync(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = open_file(ctx, a.fd(0))?;
    let d = dentry_of_open(&open)?;
    libos::mm::filemap::write_back(d.inode())?;
    d.inode().sync().map(|()| 0)
}

pub fn sync(ctx: &mut Ctx, _a: &Args) -> SysResult {
    // sync(2) cannot fail; a filesystem's write-back error shows at its next fsync.
    let _ = ctx.kernel.vfs.sync_all();
    Ok(0)
}

pub fn syncfs(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = open_file(ctx, a.fd(0))?;
    match open.file.dentry() {
        Some(d) => ctx.kernel.vfs.sync_fs(&d).map(|()| 0),
        None => Ok(0),
    }
}
