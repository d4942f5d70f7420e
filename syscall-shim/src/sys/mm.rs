//! Memory: mmap, munmap, mprotect, mremap, madvise, brk. (File mappings and msync are
//! in `mmap_file`.)

use libos::mm::{MapFlags, MremapFlags};
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

pub fn mmap(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (addr, len, prot, flags, fd, offset) = (a.raw(0), a.raw(1), a.uint(2), MapFlags(a.uint(3)), a.fd(4), a.raw(5));
    if offset & 0xfff != 0 {
        return Err(Errno::EINVAL);
    }
    let k = ctx.kernel;
    if flags.0 & MapFlags::ANONYMOUS == 0 {
        return super::mmap_file::mmap(ctx, addr, len, prot, flags, fd, offset);
    }
    k.mm.write().mmap_anonymous(k.platform, addr, len, prot, flags).map(|a| a as usize)
}

pub fn munmap(ctx: &mut Ctx, a: &Args) -> SysResult {
    let k = ctx.kernel;
    k.mm.write().munmap(k.platform, a.raw(0), a.raw(1)).map(|()| 0)
}

pub fn mprotect(ctx: &mut Ctx, a: &Args) -> SysResult {
    let k = ctx.kernel;
    k.mm.write().mprotect(k.platform, a.raw(0), a.raw(1), a.uint(2)).map(|()| 0)
}

pub fn mremap(ctx: &mut Ctx, a: &Args) -> SysResult {
    let k = ctx.kernel;
    k.mm.write()
        .mremap(k.platform, a.raw(0), a.raw(1), a.raw(2), MremapFlags(a.uint(3)), a.raw(4))
        .map(|addr| addr as usize)
}

pub fn madvise(ctx: &mut Ctx, a: &Args) -> SysResult {
    let k = ctx.kernel;
    k.mm.write().madvise(k.platform, a.raw(0), a.raw(1), a.int(2)).map(|()| 0)
}

pub fn brk(ctx: &mut Ctx, a: &Args) -> SysResult {
    let k = ctx.kernel;
    Ok(k.mm.write().brk(k.platform, a.raw(0)) as usize)
}

pub fn mincore(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (addr, len, vec) = (a.raw(0), a.raw(1), a.raw(2));
    if !addr.is_multiple_of(libos::mm::PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let len = libos::mm::page_up(len).ok_or(Errno::ENOMEM)?;
    if len == 0 {
        return Ok(0);
    }
    let k = ctx.kernel;
    let pages = (len / libos::mm::PAGE_SIZE) as usize;
    let out = crate::user::slice_mut(vec, pages)?;
    let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
    // Every page must be mapped (any protection), else ENOMEM.
    k.mm.read().require_mapped(addr, end)?;
    k.platform.residency(addr, len, out)?;
    Ok(0)
}
