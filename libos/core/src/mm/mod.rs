//! The guest's address space: which ranges are mapped, with what protection and what
//! they hold. This bookkeeping is the libOS's own (the platform only backs it), so
//! checking a guest pointer never needs a fault handler: [`MemoryMap::check`] answers it.
//!
//! All ranges are page-aligned `[start, end)`. The map covers a fixed window
//! `[lo, hi)` of the address space that the platform reserves for the guest.

mod file_ops;
#[cfg(test)]
mod file_tests;
pub mod filemap;
mod ops;
#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

pub use file_ops::{msync_flags, FileMap, FileSource};
pub use ops::{MapFlags, MremapFlags};

use crate::Errno;

pub const PAGE_SIZE: u64 = 4096;

/// Rounds `x` up to a page boundary; `None` on overflow.
pub const fn page_up(x: u64) -> Option<u64> {
    match x.checked_add(PAGE_SIZE - 1) {
        Some(v) => Some(v & !(PAGE_SIZE - 1)),
        None => None,
    }
}

pub const fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

pub const fn is_page_aligned(x: u64) -> bool {
    x & (PAGE_SIZE - 1) == 0
}

/// Page protection, with Linux's `PROT_*` bit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prot(u32);

impl Prot {
    pub const NONE: Prot = Prot(0);
    pub const READ: Prot = Prot(1);
    pub const WRITE: Prot = Prot(2);
    pub const EXEC: Prot = Prot(4);
    pub const RW: Prot = Prot(3);

    /// The low `PROT_READ|PROT_WRITE|PROT_EXEC` bits of a raw value.
    pub const fn from_bits_truncate(bits: u32) -> Prot {
        Prot(bits & 7)
    }
    pub const fn bits(self) -> u32 {
        self.0
    }
    pub const fn contains(self, other: Prot) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn union(self, other: Prot) -> Prot {
        Prot(self.0 | other.0)
    }
    pub const fn readable(self) -> bool {
        self.0 & 1 != 0
    }
    pub const fn writable(self) -> bool {
        self.0 & 2 != 0
    }
    pub const fn executable(self) -> bool {
        self.0 & 4 != 0
    }
}

/// What a mapping holds, for `/proc/self/maps` and for the rules that differ by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmaKind {
    /// Anonymous memory from `mmap`.
    Anonymous,
    /// A segment of the program image (named by its path).
    Image,
    /// The `brk` heap.
    Heap,
    /// The initial thread's stack.
    Stack,
    /// Code the libOS placed in the guest (syscall-site stubs).
    Stubs,
    /// A file mapped with `mmap`: which file, at which offset (see [`FileMap`]).
    File(FileMap),
}

/// One mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    pub shared: bool,
    pub kind: VmaKind,
}

impl Vma {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    fn mergeable_with(&self, next: &Vma) -> bool {
        self.end == next.start
            && self.prot == next.prot
            && self.shared == next.shared
            && self.kind == next.kind
            && self.kind != VmaKind::Image
    }
}

/// The access a syscall needs to a guest buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The guest address space.
#[derive(Debug)]
pub struct MemoryMap {
    vmas: BTreeMap<u64, Vma>,
    lo: u64,
    hi: u64,
    /// Non-fixed mappings are placed top-down below this address.
    mmap_base: u64,
    brk_start: u64,
    brk: u64,
}

impl MemoryMap {
    /// An empty map over the window `[lo, hi)`; `mmap` places mappings top-down from
    /// `mmap_base`.
    pub fn new(lo: u64, hi: u64, mmap_base: u64) -> MemoryMap {
        MemoryMap { vmas: BTreeMap::new(), lo, hi, mmap_base, brk_start: 0, brk: 0 }
    }

    /// The window the guest may use.
    pub fn window(&self) -> (u64, u64) {
        (self.lo, self.hi)
    }

    /// All mappings in address order.
    pub fn vmas(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    /// Records a mapping the platform has already backed (program image, stack, stubs).
    /// Fails with EEXIST if it overlaps an existing one.
    pub fn record(&mut self, vma: Vma) -> Result<(), Errno> {
        if !is_page_aligned(vma.start) || !is_page_aligned(vma.end) || vma.start >= vma.end {
            return Err(Errno::EINVAL);
        }
        if vma.start < self.lo || vma.end > self.hi {
            return Err(Errno::ENOMEM);
        }
        if self.overlaps(vma.start, vma.end) {
            return Err(Errno::EEXIST);
        }
        self.vmas.insert(vma.start, vma);
        Ok(())
    }

    /// Sets where the `brk` heap starts (page-aligned end of the program image).
    pub fn set_brk_start(&mut self, start: u64) {
        self.brk_start = start;
        self.brk = start;
    }

    /// Whether any mapping intersects `[start, end)`.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.intersecting(start, end).next().is_some()
    }

    /// The mappings that intersect `[start, end)`, in order.
    fn intersecting(&self, start: u64, end: u64) -> impl Iterator<Item = &Vma> {
        let first = self.vmas.range(..=start).next_back().filter(|(_, v)| v.end > start).map(|(_, v)| v.start);
        let from = first.unwrap_or(start);
        self.vmas.range(from..end).map(|(_, v)| v).filter(move |v| v.end > start && v.start < end)
    }

    /// Checks that every byte of `[addr, addr+len)` is mapped with `access`.
    /// A zero-length range is always fine (Linux checks late: `read(fd, NULL, 0)` works).
    pub fn check(&self, addr: u64, len: u64, access: Access) -> Result<(), Errno> {
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).ok_or(Errno::EFAULT)?;
        let mut cursor = addr;
        // One lookup per mapping the range crosses (almost always one).
        loop {
            let (_, vma) = self.vmas.range(..=cursor).next_back().ok_or(Errno::EFAULT)?;
            let permitted = match access {
                // x86-64 page tables have no write-only pages: Linux reads from them.
                Access::Read => vma.prot.readable() || vma.prot.writable(),
                Access::Write => vma.prot.writable(),
            };
            if vma.end <= cursor || !permitted {
                return Err(Errno::EFAULT);
            }
            if vma.end >= end {
                return Ok(());
            }
            cursor = vma.end;
        }
    }

    /// Splits the mapping containing `addr` (strictly inside) into two at `addr`.
    fn split_at(&mut self, addr: u64) {
        let Some((_, vma)) = self.vmas.range_mut(..addr).next_back() else { return };
        if vma.end <= addr {
            return;
        }
        let mut upper = vma.clone();
        vma.end = addr;
        upper.start = addr;
        self.vmas.insert(addr, upper);
    }

    /// Removes every mapping inside `[start, end)` from the bookkeeping (after splitting at
    /// both ends) and returns them.
    fn take_range(&mut self, start: u64, end: u64) -> Vec<Vma> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(k, _)| *k).collect();
        keys.into_iter().filter_map(|k| self.vmas.remove(&k)).collect()
    }

    /// Joins neighbours that are the same kind of mapping, around `[start, end)`.
    fn merge_around(&mut self, start: u64, end: u64) {
        let from = self.vmas.range(..start).next_back().map(|(k, _)| *k).unwrap_or(start);
        let keys: Vec<u64> = self.vmas.range(from..=end).map(|(k, _)| *k).collect();
        let mut prev: Option<u64> = None;
        for key in keys {
            if let Some(p) = prev {
                let mergeable = match (self.vmas.get(&p), self.vmas.get(&key)) {
                    (Some(a), Some(b)) => a.mergeable_with(b),
                    _ => false,
                };
                if mergeable {
                    let b = self.vmas.remove(&key).expect("key listed above");
                    self.vmas.get_mut(&p).expect("key listed above").end = b.end;
                    continue;
                }
            }
            prev = Some(key);
        }
    }

    /// Finds a free range of `len` bytes, top-down below `top`.
    fn find_free(&self, len: u64, top: u64) -> Option<u64> {
        let mut ceiling = top.min(self.hi);
        for vma in self.vmas.range(..ceiling).rev().map(|(_, v)| v) {
            if vma.end <= ceiling && ceiling - vma.end >= len {
                return Some(ceiling - len);
            }
            ceiling = ceiling.min(vma.start);
        }
        (ceiling >= self.lo && ceiling - self.lo >= len).then(|| ceiling - len)
    }

    /// Whether `[start, start+len)` lies in the window and is unmapped.
    fn is_free(&self, start: u64, len: u64) -> bool {
        match start.checked_add(len) {
            Some(end) => start >= self.lo && end <= self.hi && !self.overlaps(start, end),
            None => false,
        }
    }
}
