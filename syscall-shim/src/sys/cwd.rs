//! The working directory and the umask: chdir, fchdir, getcwd, umask.

use libos::vfs::At;
use libos::{Errno, SysResult};

use super::path::{fd_dentry, read_path};
use crate::args::Args;
use crate::table::Ctx;
use crate::user;

pub fn chdir(ctx: &mut Ctx, a: &Args) -> SysResult {
    let path = read_path(a.raw(0))?;
    ctx.kernel.vfs.chdir(&At::Cwd, &path).map(|()| 0)
}

pub fn fchdir(ctx: &mut Ctx, a: &Args) -> SysResult {
    let d = fd_dentry(ctx, a.fd(0))?;
    ctx.kernel.vfs.fchdir(&d).map(|()| 0)
}

/// `getcwd(buf, size)`: the path and its NUL; ERANGE if they do not fit, ENOENT if
/// the directory was removed.
pub fn getcwd(ctx: &mut Ctx, a: &Args) -> SysResult {
    let cwd = ctx.kernel.vfs.getcwd()?;
    let needed = cwd.len() + 1;
    if a.usize(1) < needed {
        return Err(Errno::ERANGE);
    }
    let out = user::slice_mut(a.raw(0), needed)?;
    out[..cwd.len()].copy_from_slice(&cwd);
    out[cwd.len()] = 0;
    Ok(needed)
}

pub fn umask(ctx: &mut Ctx, a: &Args) -> SysResult {
    Ok(ctx.kernel.vfs.set_umask(a.uint(0)) as usize)
}
