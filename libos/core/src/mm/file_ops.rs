//! File mappings in the memory map: `mmap` of a file, `msync`, and what a VMA records
//! about the file it maps. How the pages are backed is [`super::filemap`]'s business.

use alloc::sync::Arc;
use core::fmt;

use super::filemap::{self, MapRef};
use super::{is_page_aligned, page_up, MapFlags, MemoryMap, Prot, Vma, VmaKind};
use crate::platform::Platform;
use crate::vfs::Dentry;
use crate::Errno;

/// What a file mapping maps: the file (by the name it was opened through, for
/// `/proc/self/maps`) and at which offset.
#[derive(Clone)]
pub struct FileMap {
    dentry: Arc<Dentry>,
    /// The file offset of address 0, wrapping: the offset of `addr` is
    /// `addr + delta`, so splitting a mapping never changes it.
    delta: u64,
    /// The file's shared pages, for `MAP_SHARED`; `None` for a private copy.
    backing: Option<MapRef>,
    /// Whether the mapping may ever be writable (`VM_MAYWRITE`): false for a shared
    /// mapping of a description not open for writing or of a write-sealed memfd.
    may_write: bool,
}

impl FileMap {
    /// The file, as it was named when it was mapped.
    pub fn dentry(&self) -> &Arc<Dentry> {
        &self.dentry
    }

    /// The file offset that address `addr` of the mapping shows.
    pub fn offset_at(&self, addr: u64) -> u64 {
        addr.wrapping_add(self.delta)
    }

    /// `MAP_SHARED`: writes reach the file.
    pub fn is_shared(&self) -> bool {
        self.backing.is_some()
    }

    pub fn may_write(&self) -> bool {
        self.may_write
    }

    /// The same file pages, mapped at `to` instead of `from` (`mremap`).
    pub(super) fn moved(&self, from: u64, to: u64) -> FileMap {
        FileMap { delta: self.offset_at(from).wrapping_sub(to), ..self.clone() }
    }
}

impl PartialEq for FileMap {
    fn eq(&self, other: &Self) -> bool {
        let same_backing = match (&self.backing, &other.backing) {
            (Some(a), Some(b)) => a.same(b),
            (None, None) => true,
            _ => false,
        };
        Arc::ptr_eq(&self.dentry, &other.dentry)
            && self.delta == other.delta
            && self.may_write == other.may_write
            && same_backing
    }
}

impl Eq for FileMap {}

impl fmt::Debug for FileMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileMap")
            .field("dentry", &self.dentry)
            .field("delta", &self.delta)
            .field("backing", &self.backing)
            .field("may_write", &self.may_write)
            .finish()
    }
}

/// The file side of an `mmap`, after the syscall layer checked the description's
/// access mode and seals.
pub struct FileSource {
    pub dentry: Arc<Dentry>,
    /// The file offset (page-aligned).
    pub offset: u64,
    /// See [`FileMap::may_write`].
    pub may_write: bool,
}

/// `msync` flags.
pub mod msync_flags {
    pub const MS_ASYNC: u32 = 1;
    pub const MS_INVALIDATE: u32 = 2;
    pub const MS_SYNC: u32 = 4;
}

impl Vma {
    /// Whether this mapping may be made writable ([`FileMap::may_write`]; always for
    /// anything but a file mapping).
    pub fn may_write(&self) -> bool {
        match &self.kind {
            VmaKind::File(f) => f.may_write,
            _ => true,
        }
    }
}

impl MemoryMap {
    /// `mmap` of a file: `flags` has `MAP_SHARED`/`MAP_SHARED_VALIDATE` or
    /// `MAP_PRIVATE`. EINVAL for a zero length, ENOMEM when the rounded length wraps,
    /// EOVERFLOW when the mapping would reach past the largest file offset; then the
    /// placement rules of anonymous mappings.
    pub fn mmap_file(
        &mut self,
        platform: &'static dyn Platform,
        addr: u64,
        len: u64,
        prot: u32,
        flags: MapFlags,
        src: FileSource,
    ) -> Result<u64, Errno> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        match src.offset.checked_add(len) {
            Some(end) if end <= i64::MAX as u64 => {}
            _ => return Err(Errno::EOVERFLOW),
        }
        let shared = flags.0 & MapFlags::TYPE_MASK != MapFlags::PRIVATE;
        let start = self.place(platform, addr, len, flags)?;
        let prot = Prot::from_bits_truncate(prot);
        let inode = src.dentry.inode().clone();
        let backing = if shared {
            let b = filemap::share(platform, &inode)?;
            b.map(src.offset, start, len, prot)?;
            Some(b)
        } else {
            filemap::map_private(platform, &inode, src.offset, start, len, prot)?;
            None
        };
        let kind = VmaKind::File(FileMap {
            dentry: src.dentry,
            delta: src.offset.wrapping_sub(start),
            backing,
            may_write: src.may_write,
        });
        self.vmas.insert(start, Vma { start, end: start + len, prot, shared, kind });
        self.merge_around(start, start + len);
        Ok(start)
    }

    /// Backs `[addr, addr+len)` the way a mapping of `kind` is backed (growing or
    /// moving a mapping with `mremap`).
    pub(super) fn back(
        &self,
        platform: &dyn Platform,
        kind: &VmaKind,
        addr: u64,
        len: u64,
        prot: Prot,
    ) -> Result<(), Errno> {
        match kind {
            VmaKind::File(f) => match &f.backing {
                Some(b) => b.map(f.offset_at(addr), addr, len, prot),
                None => filemap::map_private(platform, f.dentry.inode(), f.offset_at(addr), addr, len, prot),
            },
            _ => platform.map_anonymous(addr, len, prot),
        }
    }

    /// `msync`: EINVAL for unknown flags, an unaligned address, or both `MS_SYNC` and
    /// `MS_ASYNC`; ENOMEM if the range wraps or has unmapped parts (after acting on
    /// the mapped ones). `MS_SYNC` writes back the files mapped shared in the range;
    /// `MS_ASYNC` has nothing to do (a file's readers already see its mappings), as on
    /// Linux.
    pub fn msync(&self, addr: u64, len: u64, flags: u32) -> Result<(), Errno> {
        use msync_flags::*;
        if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 || !is_page_aligned(addr) {
            return Err(Errno::EINVAL);
        }
        if flags & MS_ASYNC != 0 && flags & MS_SYNC != 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Ok(());
        }
        let mut cursor = addr;
        let mut hole = false;
        for vma in self.intersecting(addr, end) {
            hole |= vma.start > cursor;
            cursor = vma.end;
            if flags & MS_SYNC != 0 {
                if let VmaKind::File(FileMap { backing: Some(b), .. }) = &vma.kind {
                    b.write_back()?;
                }
            }
        }
        if hole || cursor < end {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }
}
