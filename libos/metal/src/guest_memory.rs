//! Guest memory: page tables that follow the libOS's memory map, filled on demand.
//!
//! The libOS's `MemoryMap` decides what the guest has mapped; it tells the platform
//! through `map_anonymous`, `protect`, `unmap`, … (src/platform.rs). Here those become
//! a *reservation* — ranges with their protection — and nothing more: a page gets a
//! frame only when it is first touched, so a Rust runtime reserving gigabytes costs
//! nothing until it uses them. The page-fault handler ([`handle_fault`]) looks the
//! address up: reserved with a protection that allows the access → a zeroed frame is
//! mapped and the access retried; otherwise the fault is the guest's (SIGSEGV).
//!
//! Protections follow the guest's request, and W^X follows from them: a page is
//! writable only with PROT_WRITE and executable only with PROT_EXEC (EFER.NXE), and
//! CR0.WP applies them to the ring-0 guest. A PROT_NONE page keeps its frame, marked
//! [`pte::KEPT`], so a later mprotect finds the contents again.
//!
//! Frames come from the kernel heap through src/frames.rs: guest memory and kernel data
//! share one pool, so neither needs a fixed share of the VM.

use alloc::collections::BTreeMap;

use libos::mm::Prot;
use libos::Errno;
use spin::Mutex;

use crate::paging::{self, pte, PAGE};

/// Reserved ranges: start → (end, protection). Non-overlapping, not merged.
static RESERVED: Mutex<BTreeMap<u64, (u64, Prot)>> = Mutex::new(BTreeMap::new());

pub(crate) use crate::frames::{alloc_frame, free_frame};

/// The entry bits for a present page of protection `prot`.
pub(crate) fn flags(prot: Prot) -> u64 {
    let mut f = pte::PRESENT;
    if prot.contains(Prot::WRITE) {
        f |= pte::WRITABLE;
    }
    if !prot.contains(Prot::EXEC) {
        f |= pte::NO_EXECUTE;
    }
    f
}

pub(crate) fn is_none(prot: Prot) -> bool {
    prot.bits() & 7 == 0
}

/// Removes `[start, end)` from the reservation, splitting ranges that straddle it.
fn cut(map: &mut BTreeMap<u64, (u64, Prot)>, start: u64, end: u64) {
    let overlapping: alloc::vec::Vec<(u64, u64, Prot)> =
        map.range(..end).filter(|(_, &(e, _))| e > start).map(|(&s, &(e, p))| (s, e, p)).collect();
    for (s, e, p) in overlapping {
        map.remove(&s);
        if s < start {
            map.insert(s, (start, p));
        }
        if e > end {
            map.insert(end, (e, p));
        }
    }
}

fn reserve(start: u64, end: u64, prot: Prot) {
    let mut map = RESERVED.lock();
    cut(&mut map, start, end);
    map.insert(start, (end, prot));
}

/// The protection of the reserved page holding `addr`.
fn reserved_prot(addr: u64) -> Option<Prot> {
    let map = RESERVED.lock();
    let (_, &(end, prot)) = map.range(..=addr).next_back()?;
    (addr < end).then_some(prot)
}

/// Calls `f` on every leaf entry in `[start, end)` that holds a frame (present or
/// kept) or marks a page past a file's end, skipping the parts no table covers.
pub(crate) fn for_each_frame(start: u64, end: u64, mut f: impl FnMut(u64, *mut u64)) {
    let mut va = start;
    while va < end {
        // SAFETY: `va` is in the guest window (callers pass validated guest ranges);
        // no table is created.
        match unsafe { paging::leaf_entry(va, None) } {
            Some(entry) => {
                // SAFETY: a live leaf entry.
                if unsafe { *entry } & (pte::PRESENT | pte::KEPT | pte::BUS) != 0 {
                    f(va, entry);
                }
                va += PAGE;
            }
            // No lowest-level table here: skip to the next 2 MiB boundary.
            None => va = (va | 0x1f_ffff) + 1,
        }
    }
}

/// Lets go of what a leaf entry held (a private frame is freed, a shared one loses a
/// reference).
pub(crate) fn release_entry(value: u64) {
    if value & (pte::PRESENT | pte::KEPT) == 0 {
        return;
    }
    if value & pte::SHARED != 0 {
        crate::shm::unref(value & pte::ADDRESS);
    } else {
        free_frame(value & pte::ADDRESS);
    }
}

fn drop_frames(start: u64, end: u64) {
    for_each_frame(start, end, |va, entry| {
        // SAFETY: a live leaf entry holding a frame.
        let value = unsafe { entry.replace(0) };
        paging::flush(va);
        release_entry(value);
    });
}

/// Fresh zero-filled memory for `[addr, addr+len)` (what was there is gone).
pub fn map_anonymous(addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
    drop_frames(addr, addr + len);
    reserve(addr, addr + len, prot);
    Ok(())
}

pub fn unmap(addr: u64, len: u64) -> Result<(), Errno> {
    drop_frames(addr, addr + len);
    cut(&mut RESERVED.lock(), addr, addr + len);
    Ok(())
}

pub fn protect(addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
    reserve(addr, addr + len, prot);
    for_each_frame(addr, addr + len, |va, entry| {
        // SAFETY: a live leaf entry holding a frame (or the past-the-end mark, kept).
        unsafe {
            let value = *entry;
            if value & pte::BUS == 0 {
                let keep = value & (pte::ADDRESS | pte::SHARED);
                *entry = if is_none(prot) { keep | pte::KEPT } else { keep | flags(prot) };
            }
        }
        paging::flush(va);
    });
    Ok(())
}

/// `MADV_DONTNEED`: private pages read as zero from now on; shared ones keep showing
/// their object (which is what a fresh fault would find again).
pub fn discard(addr: u64, len: u64) -> Result<(), Errno> {
    for_each_frame(addr, addr + len, |va, entry| {
        // SAFETY: a live leaf entry.
        let value = unsafe { *entry };
        if value & pte::SHARED == 0 && value & pte::BUS == 0 {
            // SAFETY: as above.
            unsafe { *entry = 0 };
            paging::flush(va);
            release_entry(value);
        }
    });
    Ok(())
}

/// `mremap`: the pages (frames and protections) of `[old, old+len)` move to `new`.
pub fn move_pages(old: u64, new: u64, len: u64) -> Result<(), Errno> {
    let mut moved = alloc::vec::Vec::new();
    for_each_frame(old, old + len, |va, entry| {
        // SAFETY: a live leaf entry holding a frame.
        moved.push((va - old, unsafe { entry.replace(0) }));
        paging::flush(va);
    });
    for (offset, value) in moved {
        let entry = leaf_creating(new + offset).ok_or(Errno::ENOMEM)?;
        // SAFETY: a live leaf entry (just found or created).
        unsafe { *entry = value };
        paging::flush(new + offset);
    }
    let mut map = RESERVED.lock();
    let parts: alloc::vec::Vec<(u64, u64, Prot)> = map
        .range(..old + len)
        .filter(|(_, &(e, _))| e > old)
        .map(|(&s, &(e, p))| (s.max(old), e.min(old + len), p))
        .collect();
    cut(&mut map, old, old + len);
    cut(&mut map, new, new + len);
    for (s, e, p) in parts {
        map.insert(s - old + new, (e - old + new, p));
    }
    Ok(())
}

/// `mincore`: 1 for each page that has a frame.
pub fn residency(addr: u64, len: u64, out: &mut [u8]) -> Result<(), Errno> {
    out.fill(0);
    for_each_frame(addr, addr + len, |va, entry| {
        // SAFETY: a live leaf entry.
        let has_frame = unsafe { *entry } & (pte::PRESENT | pte::KEPT) != 0;
        if let Some(slot) = out.get_mut(((va - addr) / PAGE) as usize) {
            *slot = u8::from(has_frame);
        }
    });
    Ok(())
}

/// Gives every page of `[addr, addr+len)` its frame now, as the reservation allows,
/// instead of one page fault per page (for what the kernel fills in itself: the
/// program's segments, the initial stack).
pub fn populate(addr: u64, len: u64) -> Result<(), Errno> {
    let mut va = addr & !(PAGE - 1);
    while va < addr + len {
        let prot = reserved_prot(va).ok_or(Errno::EFAULT)?;
        let entry = leaf_creating(va).ok_or(Errno::ENOMEM)?;
        // SAFETY: a live leaf entry.
        if unsafe { *entry } & (pte::PRESENT | pte::KEPT) == 0 && !is_none(prot) {
            let frame = alloc_frame().ok_or(Errno::ENOMEM)?;
            // SAFETY: as above; the page had no frame.
            unsafe { *entry = frame | flags(prot) };
            paging::flush(va);
        }
        va += PAGE;
    }
    Ok(())
}

pub(crate) fn leaf_creating(va: u64) -> Option<*mut u64> {
    let mut alloc = || alloc_frame();
    // SAFETY: guest-window addresses only (the callers'); changes are serialised by
    // running with interrupts off on one CPU.
    unsafe { paging::leaf_entry(va, Some(&mut alloc)) }
}

/// Why a page fault could not be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Nothing is mapped there: SEGV_MAPERR.
    Unmapped,
    /// Mapped, but not for this access: SEGV_ACCERR.
    Denied,
    /// No memory left for the page.
    OutOfMemory,
    /// Past the end of the file a mapping shows: SIGBUS.
    PastEnd,
}

/// Resolves a page fault at `addr` with x86 error code `code`: maps a frame when the
/// reservation allows the access. Ok: retry the access.
pub fn handle_fault(addr: u64, code: u64) -> Result<(), FaultKind> {
    let page = addr & !(PAGE - 1);
    let prot = reserved_prot(addr).ok_or(FaultKind::Unmapped)?;
    let (write, fetch) = (code & 2 != 0, code & 0x10 != 0);
    let allowed = if write {
        prot.contains(Prot::WRITE)
    } else if fetch {
        prot.contains(Prot::EXEC)
    } else {
        !is_none(prot)
    };
    if !allowed {
        return Err(FaultKind::Denied);
    }
    let entry = leaf_creating(page).ok_or(FaultKind::OutOfMemory)?;
    // SAFETY: a live leaf entry.
    let value = unsafe { *entry };
    if value & pte::BUS != 0 {
        return Err(FaultKind::PastEnd);
    }
    if value & pte::PRESENT != 0 {
        // Present with the right protection: another path mapped it, or a stale TLB
        // entry; make sure the entry says what the reservation says and retry.
        // SAFETY: as above.
        unsafe { *entry = (value & (pte::ADDRESS | pte::SHARED)) | flags(prot) };
        paging::flush(page);
        return Ok(());
    }
    let frame =
        if value & pte::KEPT != 0 { value & pte::ADDRESS } else { alloc_frame().ok_or(FaultKind::OutOfMemory)? };
    // SAFETY: as above.
    unsafe { *entry = frame | flags(prot) };
    paging::flush(page);
    Ok(())
}

/// The reservation around `addr`, for a fault report.
pub fn describe(addr: u64) -> alloc::string::String {
    let map = RESERVED.lock();
    let before = map.range(..=addr).next_back().map(|(&s, &(e, p))| (s, e, p.bits()));
    let after = map.range(addr + 1..).next().map(|(&s, &(e, p))| (s, e, p.bits()));
    alloc::format!("reserved before {before:x?}, after {after:x?}")
}
