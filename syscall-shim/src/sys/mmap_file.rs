//! `mmap` of a file and `msync`. The access rules are checked here, in Linux's
//! order (`do_mmap`); how the pages are backed and kept coherent with the file is
//! [`libos::mm::filemap`].

use libos::memfd::{self, seals};
use libos::mm::{FileSource, MapFlags};
use libos::vfs::oflags::O_PATH;
use libos::vfs::FileKind;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

const PROT_WRITE: u32 = 2;

/// `mmap(addr, len, prot, flags, fd, offset)` without `MAP_ANONYMOUS` (the offset is
/// already known to be page-aligned).
///
/// EBADF for a closed or `O_PATH` fd; EINVAL for `MAP_HUGETLB`, a zero length, an
/// unknown mapping type or `MAP_GROWSDOWN`; EOPNOTSUPP for flags `MAP_SHARED_VALIDATE`
/// does not know (`MAP_SYNC` too: no DAX here); EACCES for a shared writable mapping of
/// a description not open for writing, or any mapping of one not open for reading;
/// EPERM for a shared writable mapping of a write-sealed memfd; ENODEV for files that
/// cannot be mapped (pipes, directories, terminals).
pub fn mmap(ctx: &mut Ctx, addr: u64, len: u64, prot: u32, flags: MapFlags, fd: i32, offset: u64) -> SysResult {
    let k = ctx.kernel;
    let open = k.fds.lock().get(fd)?;
    if open.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    if flags.0 & MapFlags::HUGETLB != 0 || len == 0 {
        return Err(Errno::EINVAL);
    }
    let map_type = flags.0 & MapFlags::TYPE_MASK;
    let shared = match map_type {
        MapFlags::SHARED => true,
        MapFlags::SHARED_VALIDATE => {
            if flags.0 & !MapFlags::VALIDATED != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            true
        }
        MapFlags::PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    let mut may_write = true;
    if shared {
        if prot & PROT_WRITE != 0 && !open.writable() {
            return Err(Errno::EACCES);
        }
        may_write = open.writable();
    }
    if !open.readable() {
        return Err(Errno::EACCES);
    }
    let dentry = match open.file.dentry() {
        Some(d) if d.kind() == FileKind::Regular => d,
        Some(d) if is_dev_zero(&d) => {
            // /dev/zero maps as anonymous memory (shared or private), as on Linux.
            let anon = MapFlags(flags.0 | MapFlags::ANONYMOUS);
            return k.mm.write().mmap_anonymous(k.platform, addr, len, prot, anon).map(|a| a as usize);
        }
        _ => return Err(Errno::ENODEV),
    };
    if flags.0 & MapFlags::GROWSDOWN != 0 {
        return Err(Errno::EINVAL);
    }
    if shared && memfd::seals_of(dentry.inode()).is_some_and(|s| s & seals::ANY_WRITE != 0) {
        if prot & PROT_WRITE != 0 {
            return Err(Errno::EPERM);
        }
        may_write = false;
    }
    let src = FileSource { dentry, offset, may_write };
    k.mm.write().mmap_file(k.platform, addr, len, prot, flags, src).map(|a| a as usize)
}

/// Whether `d` is the zero device (character device 1:5), wherever it is named.
fn is_dev_zero(d: &libos::vfs::Dentry) -> bool {
    d.kind() == FileKind::CharDevice && d.inode().metadata().is_ok_and(|m| m.rdev == libos::vfs::makedev(1, 5))
}

/// `msync(addr, len, flags)`.
pub fn msync(ctx: &mut Ctx, a: &Args) -> SysResult {
    ctx.kernel.mm.read().msync(a.raw(0), a.raw(1), a.uint(2)).map(|()| 0)
}
