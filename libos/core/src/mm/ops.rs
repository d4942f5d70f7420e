//! The memory syscalls' semantics (`mmap`, `munmap`, `mprotect`, `mremap`, `madvise`,
//! `brk`), with the argument checks and errors Linux applies, in the order it applies them.

use super::{is_page_aligned, page_down, page_up, MemoryMap, Prot, Vma, VmaKind, PAGE_SIZE};
use crate::platform::Platform;
use crate::Errno;

/// `mmap` flags, with Linux's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapFlags(pub u32);

impl MapFlags {
    pub const SHARED: u32 = 0x01;
    pub const PRIVATE: u32 = 0x02;
    pub const SHARED_VALIDATE: u32 = 0x03;
    pub const TYPE_MASK: u32 = 0x0f;
    pub const FIXED: u32 = 0x10;
    pub const ANONYMOUS: u32 = 0x20;
    pub const MAP_32BIT: u32 = 0x40;
    pub const GROWSDOWN: u32 = 0x100;
    pub const DENYWRITE: u32 = 0x800;
    pub const EXECUTABLE: u32 = 0x1000;
    pub const LOCKED: u32 = 0x2000;
    pub const NORESERVE: u32 = 0x4000;
    pub const POPULATE: u32 = 0x8000;
    pub const NONBLOCK: u32 = 0x10000;
    pub const STACK: u32 = 0x20000;
    pub const HUGETLB: u32 = 0x40000;
    pub const SYNC: u32 = 0x80000;
    pub const FIXED_NOREPLACE: u32 = 0x100000;
    /// Every flag `MAP_SHARED_VALIDATE` accepts on a file mapping (Linux's
    /// `LEGACY_MAP_MASK`; MAP_SYNC too on files that support it).
    pub const VALIDATED: u32 = Self::TYPE_MASK
        | Self::FIXED
        | Self::ANONYMOUS
        | Self::MAP_32BIT
        | Self::GROWSDOWN
        | Self::DENYWRITE
        | Self::EXECUTABLE
        | Self::LOCKED
        | Self::NORESERVE
        | Self::POPULATE
        | Self::NONBLOCK
        | Self::STACK
        | Self::HUGETLB
        | Self::FIXED_NOREPLACE;

    fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
}

/// `mremap` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MremapFlags(pub u32);

impl MremapFlags {
    pub const MAYMOVE: u32 = 1;
    pub const FIXED: u32 = 2;
    pub const DONTUNMAP: u32 = 4;
}

const PROT_VALID: u32 = 0x7 | 0x0100_0000 | 0x0200_0000 | 0x8; // RWX, GROWSDOWN, GROWSUP, SEM
const MAX_BELOW_2G: u64 = 0x8000_0000;

/// `madvise` advice values Linux accepts on anonymous memory.
mod advice {
    pub const DONTNEED: i32 = 4;
    pub const FREE: i32 = 8;
    pub const REMOVE: i32 = 9;
    /// DONTNEED that also applies to locked memory (Linux 5.18).
    pub const DONTNEED_LOCKED: i32 = 24;
    pub const HWPOISON: i32 = 100;
    pub const SOFT_OFFLINE: i32 = 101;
    /// Hints with no effect on what the guest reads back.
    pub fn is_hint(a: i32) -> bool {
        matches!(a, 0..=3 | 10..=23 | 25)
    }
}

impl MemoryMap {
    /// `mmap` of anonymous memory. File mappings are decided by the caller (which knows
    /// the fd table) before coming here.
    pub fn mmap_anonymous(
        &mut self,
        platform: &dyn Platform,
        addr: u64,
        len: u64,
        prot: u32,
        flags: MapFlags,
    ) -> Result<u64, Errno> {
        let map_type = flags.0 & MapFlags::TYPE_MASK;
        // MAP_SHARED_VALIDATE is a file-mapping type: anonymous memory is SHARED or
        // PRIVATE only (Linux's do_mmap: EINVAL, whatever the other flags).
        if !matches!(map_type, MapFlags::SHARED | MapFlags::PRIVATE) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        if flags.has(MapFlags::HUGETLB) {
            // No huge-page pool is configured, as on a default Linux install.
            return Err(Errno::ENOMEM);
        }
        let start = self.place(platform, addr, len, flags)?;
        let prot = Prot::from_bits_truncate(prot);
        platform.map_anonymous(start, len, prot)?;
        let shared = map_type != MapFlags::PRIVATE;
        self.vmas.insert(start, Vma { start, end: start + len, prot, shared, kind: VmaKind::Anonymous });
        self.merge_around(start, start + len);
        Ok(start)
    }

    /// Where a new mapping of `len` bytes (page-rounded) goes: exactly at `addr` for
    /// `MAP_FIXED` (unmapping what is there) or `MAP_FIXED_NOREPLACE` (EEXIST if
    /// anything is), at the hint if it is free, else top-down from the mmap base (below
    /// 2 GiB for `MAP_32BIT`).
    pub(super) fn place(
        &mut self,
        platform: &dyn Platform,
        addr: u64,
        len: u64,
        flags: MapFlags,
    ) -> Result<u64, Errno> {
        let fixed = flags.has(MapFlags::FIXED) || flags.has(MapFlags::FIXED_NOREPLACE);
        if fixed {
            if !is_page_aligned(addr) {
                return Err(Errno::EINVAL);
            }
            let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
            if addr < self.lo || end > self.hi {
                return Err(Errno::ENOMEM);
            }
            if self.overlaps(addr, end) {
                if !flags.has(MapFlags::FIXED) {
                    return Err(Errno::EEXIST);
                }
                self.unmap_range(platform, addr, end)?;
            }
            return Ok(addr);
        }
        // Linux rounds a hint down to its page (`round_hint_to_min`).
        let hint = page_down(addr);
        if hint != 0 && self.is_free(hint, len) && !flags.has(MapFlags::MAP_32BIT) {
            return Ok(hint);
        }
        let top = if flags.has(MapFlags::MAP_32BIT) { MAX_BELOW_2G } else { self.mmap_base };
        self.find_free(len, top).ok_or(Errno::ENOMEM)
    }

    /// `munmap`.
    pub fn munmap(&mut self, platform: &dyn Platform, addr: u64, len: u64) -> Result<(), Errno> {
        if !is_page_aligned(addr) || len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if end > self.hi.max(addr) && addr >= self.hi {
            return Ok(());
        }
        self.unmap_range(platform, addr, end.min(self.hi))
    }

    fn unmap_range(&mut self, platform: &dyn Platform, start: u64, end: u64) -> Result<(), Errno> {
        for vma in self.take_range(start, end) {
            platform.unmap(vma.start, vma.len())?;
        }
        Ok(())
    }

    /// `mprotect`: every page of the range must be mapped (ENOMEM otherwise).
    pub fn mprotect(&mut self, platform: &dyn Platform, addr: u64, len: u64, prot: u32) -> Result<(), Errno> {
        if !is_page_aligned(addr) {
            return Err(Errno::EINVAL);
        }
        // Linux returns before validating `prot` when there is nothing to change.
        if len == 0 {
            return Ok(());
        }
        if prot & !PROT_VALID != 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        self.require_mapped(addr, end)?;
        let prot = Prot::from_bits_truncate(prot);
        if prot.writable() && self.intersecting(addr, end).any(|v| v.shared && !v.may_write()) {
            // A shared file mapping of a description not open for writing (or of a
            // write-sealed memfd) can never become writable.
            return Err(Errno::EACCES);
        }
        self.split_at(addr);
        self.split_at(end);
        for (_, vma) in self.vmas.range_mut(addr..end) {
            vma.prot = prot;
        }
        platform.protect(addr, len, prot)?;
        self.merge_around(addr, end);
        Ok(())
    }

    /// ENOMEM unless `[start, end)` is covered by mappings with no hole.
    pub fn require_mapped(&self, start: u64, end: u64) -> Result<(), Errno> {
        let mut cursor = start;
        for vma in self.intersecting(start, end) {
            if vma.start > cursor {
                return Err(Errno::ENOMEM);
            }
            cursor = vma.end;
        }
        if cursor < end {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// `mremap`.
    pub fn mremap(
        &mut self,
        platform: &dyn Platform,
        old_addr: u64,
        old_len: u64,
        new_len: u64,
        flags: MremapFlags,
        new_addr: u64,
    ) -> Result<u64, Errno> {
        let f = flags.0;
        if f & !(MremapFlags::MAYMOVE | MremapFlags::FIXED | MremapFlags::DONTUNMAP) != 0 {
            return Err(Errno::EINVAL);
        }
        if f & MremapFlags::FIXED != 0 && f & MremapFlags::MAYMOVE == 0 {
            return Err(Errno::EINVAL);
        }
        if f & MremapFlags::DONTUNMAP != 0 {
            // DONTUNMAP leaves the old range mapped and empty; not modelled yet.
            return Err(Errno::EINVAL);
        }
        if !is_page_aligned(old_addr) {
            return Err(Errno::EINVAL);
        }
        let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
        let new_len = page_up(new_len).ok_or(Errno::EINVAL)?;
        if new_len == 0 {
            return Err(Errno::EINVAL);
        }
        if old_len == 0 {
            // Duplicating a shared mapping: Linux allows it for MAP_SHARED only.
            return Err(Errno::EINVAL);
        }
        let old_end = old_addr.checked_add(old_len).ok_or(Errno::EINVAL)?;
        // Something must be mapped at the old address (EFAULT otherwise, as Linux).
        let vma = self
            .vmas
            .range(..=old_addr)
            .next_back()
            .map(|(_, v)| v.clone())
            .filter(|v| v.end > old_addr)
            .ok_or(Errno::EFAULT)?;

        if f & MremapFlags::FIXED != 0 {
            if !is_page_aligned(new_addr) {
                return Err(Errno::EINVAL);
            }
            let new_end = new_addr.checked_add(new_len).ok_or(Errno::EINVAL)?;
            if new_addr < old_end && old_addr < new_end {
                return Err(Errno::EINVAL);
            }
            if new_addr < self.lo || new_end > self.hi {
                return Err(Errno::ENOMEM);
            }
            self.unmap_range(platform, new_addr, new_end)?;
            // Linux first drops the part of the old range that will not move, then
            // requires what is left to sit inside one mapping.
            let old_len = if old_len > new_len {
                self.unmap_range(platform, old_addr + new_len, old_end)?;
                new_len
            } else {
                old_len
            };
            if old_addr + old_len > vma.end {
                return Err(Errno::EFAULT);
            }
            return self.move_mapping(platform, &vma, old_addr, old_len, new_addr, new_len);
        }

        if new_len <= old_len {
            // Shrinking unmaps the tail, whatever it holds (mappings or holes).
            if new_len < old_len {
                self.unmap_range(platform, old_addr + new_len, old_end)?;
            }
            return Ok(old_addr);
        }
        // Growing needs the old range inside one mapping.
        if old_end > vma.end {
            return Err(Errno::EFAULT);
        }
        // Grow in place when the pages after the old range are free.
        let grow = new_len - old_len;
        if old_end == vma.end && self.is_free(old_end, grow) {
            self.back(platform, &vma.kind, old_end, grow, vma.prot)?;
            self.vmas.insert(old_end, Vma { start: old_end, end: old_end + grow, ..vma.clone() });
            self.merge_around(old_addr, old_end + grow);
            return Ok(old_addr);
        }
        if f & MremapFlags::MAYMOVE == 0 {
            return Err(Errno::ENOMEM);
        }
        let target = self.find_free(new_len, self.mmap_base).ok_or(Errno::ENOMEM)?;
        self.move_mapping(platform, &vma, old_addr, old_len, target, new_len)
    }

    /// Moves `[old, old+old_len)` (part of `vma`) to `new`, sized `new_len`.
    fn move_mapping(
        &mut self,
        platform: &dyn Platform,
        vma: &Vma,
        old: u64,
        old_len: u64,
        new: u64,
        new_len: u64,
    ) -> Result<u64, Errno> {
        let keep = old_len.min(new_len);
        let kind = match &vma.kind {
            VmaKind::Heap => VmaKind::Anonymous,
            VmaKind::File(f) => VmaKind::File(f.moved(old, new)),
            other => other.clone(),
        };
        if matches!(&kind, VmaKind::File(f) if f.is_shared()) {
            // The pages live in the file's backing: map it again at the new place.
            self.back(platform, &kind, new, new_len, vma.prot)?;
            self.take_range(old, old + old_len);
            platform.unmap(old, old_len)?;
        } else {
            platform.map_anonymous(new, new_len, vma.prot)?;
            platform.move_pages(old, new, keep)?;
            self.take_range(old, old + old_len);
            if old_len > keep {
                platform.unmap(old + keep, old_len - keep)?;
            }
            if new_len > keep && matches!(kind, VmaKind::File(_)) {
                self.back(platform, &kind, new + keep, new_len - keep, vma.prot)?;
            }
        }
        self.vmas.insert(new, Vma { start: new, end: new + new_len, prot: vma.prot, shared: vma.shared, kind });
        self.merge_around(new, new + new_len);
        Ok(new)
    }

    /// `madvise`.
    pub fn madvise(&mut self, platform: &dyn Platform, addr: u64, len: u64, advice: i32) -> Result<(), Errno> {
        if !is_page_aligned(addr) {
            return Err(Errno::EINVAL);
        }
        let known = advice::is_hint(advice)
            || matches!(advice, advice::DONTNEED | advice::DONTNEED_LOCKED | advice::FREE | advice::REMOVE)
            || matches!(advice, advice::HWPOISON | advice::SOFT_OFFLINE);
        if !known {
            return Err(Errno::EINVAL);
        }
        if matches!(advice, advice::HWPOISON | advice::SOFT_OFFLINE) {
            return Err(Errno::EPERM);
        }
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        let covered = self.require_mapped(addr, end);
        if advice == advice::REMOVE {
            // Linux: MADV_REMOVE needs shared (file) memory.
            return match covered {
                Ok(()) => Err(Errno::EINVAL),
                Err(e) => Err(e),
            };
        }
        if matches!(advice, advice::DONTNEED | advice::DONTNEED_LOCKED | advice::FREE) {
            let ranges: alloc::vec::Vec<(u64, u64, bool)> =
                self.intersecting(addr, end).map(|v| (v.start.max(addr), v.end.min(end), v.shared)).collect();
            for (s, e, shared) in ranges {
                if !shared {
                    platform.discard(s, e - s)?;
                } else if advice == advice::FREE {
                    // MADV_FREE is for private anonymous memory only (Linux: EINVAL on
                    // shmem, after acting on the mappings before it).
                    return Err(Errno::EINVAL);
                }
                // DONTNEED leaves shared anonymous memory's contents alone (shmem
                // holds them).
            }
        }
        covered
    }

    /// `brk`: returns the new break, or the old one when the request cannot be met.
    pub fn brk(&mut self, platform: &dyn Platform, requested: u64) -> u64 {
        if requested < self.brk_start || self.brk_start == 0 {
            return self.brk;
        }
        let (Some(old_top), Some(new_top)) = (page_up(self.brk), page_up(requested)) else {
            return self.brk;
        };
        if new_top > old_top {
            // Linux keeps a free page between the break and the next mapping.
            let blocked =
                !self.is_free(old_top, new_top - old_top) || self.overlaps(new_top, new_top.saturating_add(PAGE_SIZE));
            if blocked || platform.map_anonymous(old_top, new_top - old_top, Prot::RW).is_err() {
                return self.brk;
            }
            self.vmas.insert(
                old_top,
                Vma { start: old_top, end: new_top, prot: Prot::RW, shared: false, kind: VmaKind::Heap },
            );
            self.merge_around(old_top, new_top);
        } else if new_top < old_top && self.unmap_range(platform, new_top, old_top).is_err() {
            return self.brk;
        }
        self.brk = requested;
        self.brk
    }

    /// The current program break.
    pub fn current_brk(&self) -> u64 {
        self.brk
    }
}
