//! `memfd_create` and the seal fcntls (`F_ADD_SEALS`, `F_GET_SEALS`).

use alloc::sync::Arc;

use libos::file::{oflags, OpenFile};
use libos::memfd::{self, flags::MFD_CLOEXEC, seals};
use libos::mm::VmaKind;
use libos::time::ClockId;
use libos::vfs::Inode;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user;

/// `memfd_create(name, flags)`: flags are checked before the name; a name longer than
/// 249 bytes is EINVAL, an unreadable one EFAULT. The fd is open for reading and
/// writing.
pub fn memfd_create(ctx: &mut Ctx, a: &Args) -> SysResult {
    let flags = a.uint(1);
    if flags & !memfd::flags::ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let name = user::read_cstr(a.raw(0), memfd::NAME_MAX).map_err(|e| match e {
        Errno::ENAMETOOLONG => Errno::EINVAL,
        e => e,
    })?;
    let platform = ctx.kernel.platform;
    let clock: libos::vfs::Clock = Arc::new(move || platform.now(ClockId::Realtime));
    let file = memfd::create(&clock, &name, flags)?;
    let open = OpenFile::new(file, oflags::O_RDWR | oflags::O_LARGEFILE);
    ctx.kernel.fds.lock().insert(open, flags & MFD_CLOEXEC != 0).map(|fd| fd as usize)
}

fn inode_of(open: &OpenFile) -> Option<Arc<dyn Inode>> {
    open.file.dentry().map(|d| d.inode().clone())
}

/// `F_GET_SEALS`: EINVAL for a file that is not in memory.
pub fn get_seals(open: &Arc<OpenFile>) -> SysResult {
    let inode = inode_of(open).ok_or(Errno::EINVAL)?;
    memfd::seals_of(&inode).map(|s| s as usize).ok_or(Errno::EINVAL)
}

/// `F_ADD_SEALS`: EPERM on a description not open for writing, then EINVAL for unknown
/// bits or a file without seals, then the rules of [`memfd::add_seals`]. A shared
/// mapping of the file that may write (even one mapped read-only through a writable
/// description) makes `F_SEAL_WRITE` EBUSY.
pub fn add_seals(ctx: &Ctx, open: &Arc<OpenFile>, add: u32) -> SysResult {
    if !open.writable() {
        return Err(Errno::EPERM);
    }
    if add & !seals::ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let inode = inode_of(open).ok_or(Errno::EINVAL)?;
    let writably_mapped = || {
        ctx.kernel.mm.read().vmas().any(|v| match &v.kind {
            VmaKind::File(f) => v.shared && f.may_write() && libos::vfs::inode::same_node(f.dentry().inode(), &inode),
            _ => false,
        })
    };
    memfd::add_seals(&inode, add, writably_mapped).map(|()| 0)
}
