//! Path-based file syscalls that programs make at start-up, before the filesystem
//! exists: `newfstatat` on an fd (`AT_EMPTY_PATH`, glibc's `fstat`) and `readlink` of
//! `/proc/self/exe`. Paths in general come with the VFS; until then they give ENOSYS
//! with a one-time notice.

use core::sync::atomic::AtomicBool;

use libos::abi::Stat;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::{user, warn};

/// `PATH_MAX`, counting the NUL.
const PATH_MAX: usize = 4096;
const AT_FDCWD: i32 = -100;
const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
const AT_NO_AUTOMOUNT: u32 = 0x800;
const AT_EMPTY_PATH: u32 = 0x1000;

static PATHS_WARNED: AtomicBool = AtomicBool::new(false);

fn no_filesystem(ctx: &Ctx, call: &str) -> Errno {
    warn::once(
        ctx.kernel,
        &PATHS_WARNED,
        format_args!("{call} on a path: there is no filesystem yet; returning ENOSYS"),
    );
    Errno::ENOSYS
}

fn read_path(addr: u64) -> Result<alloc::vec::Vec<u8>, Errno> {
    user::read_cstr(addr, PATH_MAX - 1)
}

pub fn newfstatat(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (dirfd, flags) = (a.fd(0), a.uint(3));
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(a.raw(1))?;
    if !path.is_empty() {
        return Err(no_filesystem(ctx, "newfstatat"));
    }
    if flags & AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    if dirfd == AT_FDCWD {
        return Err(no_filesystem(ctx, "newfstatat"));
    }
    let open = ctx.kernel.fds.lock().get(dirfd)?;
    let st = open.file.stat()?;
    a.ptr::<Stat>(2).write(st)?;
    Ok(0)
}

/// Whether `path` names this process's executable link.
fn is_self_exe(ctx: &Ctx, path: &[u8]) -> bool {
    let Some(rest) = path.strip_prefix(b"/proc/") else {
        return false;
    };
    let Some(who) = rest.strip_suffix(b"/exe") else {
        return false;
    };
    if who == b"self" || who == b"thread-self" {
        return true;
    }
    let mut pid = alloc::string::String::new();
    let _ = core::fmt::write(&mut pid, format_args!("{}", ctx.kernel.identity.pid));
    who == pid.as_bytes()
}

fn readlink_common(ctx: &Ctx, path_addr: u64, buf: u64, size: i32) -> SysResult {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(path_addr)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if !is_self_exe(ctx, &path) {
        return Err(no_filesystem(ctx, "readlink"));
    }
    let target = &ctx.kernel.exe_path;
    let n = target.len().min(size as usize);
    user::slice_mut(buf, n)?.copy_from_slice(&target[..n]);
    Ok(n)
}

pub fn readlink(ctx: &mut Ctx, a: &Args) -> SysResult {
    readlink_common(ctx, a.raw(0), a.raw(1), a.int(2))
}

pub fn readlinkat(ctx: &mut Ctx, a: &Args) -> SysResult {
    readlink_common(ctx, a.raw(1), a.raw(2), a.int(3))
}

pub fn getcwd(ctx: &mut Ctx, a: &Args) -> SysResult {
    let cwd = ctx.kernel.cwd.lock().clone();
    let needed = cwd.len() + 1;
    if a.usize(1) < needed {
        return Err(Errno::ERANGE);
    }
    let out = user::slice_mut(a.raw(0), needed)?;
    out[..cwd.len()].copy_from_slice(&cwd);
    out[cwd.len()] = 0;
    Ok(needed)
}
