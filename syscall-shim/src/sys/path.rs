//! What every path syscall decodes first: the path string and the directory it is
//! relative to.

use alloc::sync::Arc;
use alloc::vec::Vec;

use libos::file::OpenFile;
use libos::vfs::{At, Dentry, PATH_MAX};
use libos::Errno;

use crate::table::Ctx;
use crate::user;

pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_REMOVEDIR: u32 = 0x200;
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
pub const AT_EMPTY_PATH: u32 = 0x1000;
/// `faccessat2`: check with the effective ids (the guest is one user: no difference).
pub const AT_EACCESS: u32 = 0x200;

/// Reads a NUL-terminated path: EFAULT for a bad pointer, ENAMETOOLONG when no NUL
/// comes within `PATH_MAX` bytes.
pub fn read_path(addr: u64) -> Result<Vec<u8>, Errno> {
    user::read_cstr(addr, PATH_MAX - 1)
}

/// The open file behind `fd`.
pub fn open_file(ctx: &Ctx, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    ctx.kernel.fds.lock().get(fd)
}

/// The dentry of the file behind `fd` (EBADF if closed; ENOTDIR for a file outside
/// the tree, such as a pipe or the console, when a path is to be walked from it).
pub fn fd_dentry(ctx: &Ctx, fd: i32) -> Result<Arc<Dentry>, Errno> {
    open_file(ctx, fd)?.file.dentry().ok_or(Errno::ENOTDIR)
}

/// What an empty path with `AT_EMPTY_PATH` names: the fd itself, or the working
/// directory for `AT_FDCWD`.
pub fn empty_path_target(ctx: &Ctx, dirfd: i32) -> Result<Arc<Dentry>, Errno> {
    if dirfd == AT_FDCWD {
        Ok(ctx.kernel.vfs.cwd())
    } else {
        fd_dentry(ctx, dirfd)
    }
}

/// Where `path` starts: Linux ignores `dirfd` (even a bad one) for an absolute path.
pub fn at(ctx: &Ctx, dirfd: i32, path: &[u8]) -> Result<At, Errno> {
    if path.first() == Some(&b'/') || dirfd == AT_FDCWD {
        return Ok(At::Cwd);
    }
    fd_dentry(ctx, dirfd).map(At::Dir)
}

/// EINVAL for flag bits outside `allowed`.
pub fn check_flags(flags: u32, allowed: u32) -> Result<(), Errno> {
    if flags & !allowed != 0 {
        Err(Errno::EINVAL)
    } else {
        Ok(())
    }
}
