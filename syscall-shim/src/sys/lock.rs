//! File locks: `fcntl`'s record-lock commands (POSIX and open-file-description) and
//! `flock`. The rules live in [`libos::locks`]; this file decodes `struct flock` the
//! way Linux's `flock64_to_posix_lock` does and checks in Linux's order.

use alloc::sync::Arc;

use libos::file::OpenFile;
use libos::locks::{self, Flock, LockKind, F_RDLCK, F_UNLCK, F_WRLCK, OFFSET_MAX};
use libos::vfs::oflags::O_PATH;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user::UserPtr;

const F_GETLK: i32 = 5;
const F_SETLKW: i32 = 7;
const F_OFD_GETLK: i32 = 36;
const F_OFD_SETLK: i32 = 37;
const F_OFD_SETLKW: i32 = 38;

const SEEK_SET: i16 = 0;
const SEEK_CUR: i16 = 1;
const SEEK_END: i16 = 2;

/// The inclusive byte range `fl` names on `open` (Linux's `flock64_to_posix_lock`):
/// EINVAL for a bad whence or a range starting before 0, EOVERFLOW past `OFFSET_MAX`.
fn range(open: &OpenFile, fl: &Flock) -> Result<(u64, u64), Errno> {
    let base: i64 = match fl.l_whence {
        SEEK_SET => 0,
        // A file without a position (a pipe) is at 0.
        SEEK_CUR => open.file.seek(0, SEEK_CUR as u32).unwrap_or(0) as i64,
        SEEK_END => open.file.stat()?.st_size,
        _ => return Err(Errno::EINVAL),
    };
    let max = OFFSET_MAX as i64;
    if fl.l_start > max - base {
        return Err(Errno::EOVERFLOW);
    }
    let start = base + fl.l_start;
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    match fl.l_len {
        0 => Ok((start as u64, OFFSET_MAX)),
        len if len > 0 => {
            if len - 1 > max - start {
                return Err(Errno::EOVERFLOW);
            }
            Ok((start as u64, (start + len - 1) as u64))
        }
        len => {
            if start + len < 0 {
                return Err(Errno::EINVAL);
            }
            Ok(((start + len) as u64, (start - 1) as u64))
        }
    }
}

fn kind_of(l_type: i16) -> Result<Option<LockKind>, Errno> {
    match l_type {
        F_RDLCK => Ok(Some(LockKind::Read)),
        F_WRLCK => Ok(Some(LockKind::Write)),
        F_UNLCK => Ok(None),
        _ => Err(Errno::EINVAL),
    }
}

/// `fcntl(fd, F_{,OFD_}{GETLK,SETLK,SETLKW}, &flock)`.
pub fn fcntl_lock(ctx: &Ctx, open: &Arc<OpenFile>, cmd: i32, ptr: UserPtr<Flock>) -> SysResult {
    let mut fl = ptr.read()?;
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    if matches!(cmd, F_GETLK | F_OFD_GETLK) {
        let kind = match kind_of(fl.l_type)? {
            Some(k) => k,
            None => return Err(Errno::EINVAL),
        };
        let (start, end) = range(open, &fl)?;
        if ofd && fl.l_pid != 0 {
            return Err(Errno::EINVAL);
        }
        let key = locks::key_of(open)?;
        match locks::test_range(open, key, ofd, kind, start, end) {
            None => fl.l_type = F_UNLCK,
            Some(l) => {
                fl.l_type = if l.kind == LockKind::Write { F_WRLCK } else { F_RDLCK };
                fl.l_whence = SEEK_SET;
                fl.l_start = l.start as i64;
                fl.l_len = if l.end == OFFSET_MAX { 0 } else { (l.end - l.start + 1) as i64 };
                fl.l_pid = match l.owner {
                    locks::Owner::Process => ctx.kernel.identity.pid as i32,
                    locks::Owner::Description(_) => -1,
                };
            }
        }
        ptr.write(fl)?;
        return Ok(0);
    }
    let (start, end) = range(open, &fl)?;
    let kind = kind_of(fl.l_type)?;
    match kind {
        Some(LockKind::Read) if !open.readable() => return Err(Errno::EBADF),
        Some(LockKind::Write) if !open.writable() => return Err(Errno::EBADF),
        _ => {}
    }
    if ofd && fl.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    let key = locks::key_of(open)?;
    let wait = matches!(cmd, F_SETLKW | F_OFD_SETLKW);
    locks::set_range(open, key, ofd, kind, start, end, wait).map(|()| 0)
}

const LOCK_SH: u32 = 1;
const LOCK_EX: u32 = 2;
const LOCK_NB: u32 = 4;
const LOCK_UN: u32 = 8;
const LOCK_MAND: u32 = 32;

/// `flock(fd, op)`. `LOCK_MAND` requests are ignored (success) as Linux now does;
/// a bad operation is EINVAL before the fd is looked at.
pub fn flock(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (fd, op) = (a.fd(0), a.uint(1));
    if op & LOCK_MAND != 0 {
        return Ok(0);
    }
    let kind = match op & !LOCK_NB {
        LOCK_SH => Some(LockKind::Read),
        LOCK_EX => Some(LockKind::Write),
        LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let open = ctx.kernel.fds.lock().get(fd)?;
    if open.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let key = locks::key_of(&open)?;
    locks::flock(&open, key, kind, op & LOCK_NB == 0).map(|()| 0)
}
