//! Page frames for guest memory and page tables.
//!
//! Frames come from the kernel heap, but not one by one: talc keeps a tag after every
//! block, so 4 KiB blocks aligned to 4 KiB leave gaps no later frame fits in, and after
//! some mmap/munmap churn the heap fails frame requests with half of it free. Instead
//! the heap gives blocks of [`BATCH`] frames, and freed frames go to a free list for the
//! next request (they stay frames: memory moves from the heap to guest pages, not back).

use alloc::alloc::alloc;
use alloc::vec::Vec;
use core::alloc::Layout;

use spin::Mutex;

use crate::paging::{phys_to_virt, virt_to_phys, PAGE};

/// Frames per heap block.
const BATCH: usize = 32;

static FREE: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// A zeroed frame's physical address, or None when memory is exhausted.
pub fn alloc_frame() -> Option<u64> {
    let phys = {
        let mut free = FREE.lock();
        if free.is_empty() {
            refill(&mut free)?;
        }
        free.pop()?
    };
    // SAFETY: a frame of ours (from a heap block or freed), in the direct map.
    unsafe { core::ptr::write_bytes(phys_to_virt(phys) as *mut u8, 0, PAGE as usize) };
    Some(phys)
}

fn refill(free: &mut Vec<u64>) -> Option<()> {
    free.try_reserve(BATCH).ok()?;
    let layout = Layout::from_size_align(BATCH * PAGE as usize, PAGE as usize).ok()?;
    // SAFETY: a non-zero size and a power-of-two alignment; the block is never freed
    // to the heap (its frames circulate through FREE).
    let block = unsafe { alloc(layout) };
    if block.is_null() {
        return None;
    }
    let base = virt_to_phys(block as u64);
    free.extend((0..BATCH as u64).rev().map(|i| base + i * PAGE));
    Some(())
}

/// Returns a frame no mapping uses any more.
pub fn free_frame(phys: u64) {
    FREE.lock().push(phys);
}

/// Frames waiting in the free list (for the memory figures).
pub fn free_count() -> usize {
    FREE.lock().len()
}
