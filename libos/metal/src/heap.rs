//! The kernel heap: talc over the largest free RAM span (src/memory.rs), behind a spin
//! lock. Running out of heap panics (the `alloc` crate's default); src/panic.rs reports
//! a failed allocation as the VM running out of memory (the guest killed by SIGKILL).

use crate::memory::Range;
use talc::{ErrOnOom, Talc, Talck};

#[global_allocator]
static ALLOCATOR: Talck<spin::Mutex<()>, ErrOnOom> = Talc::new(ErrOnOom).lock();

/// Hands `span` to the allocator; returns the bytes talc can use (it keeps a little for
/// its own bookkeeping).
///
/// # Safety
/// `span` must be RAM in the direct map (physical addresses) that nothing else uses, now or later.
pub unsafe fn init(span: Range) -> Result<u64, ()> {
    let span = talc::Span::new(
        crate::paging::phys_to_virt(span.start) as *mut u8,
        crate::paging::phys_to_virt(span.end) as *mut u8,
    );
    // SAFETY: the caller guarantees the memory is ours alone and mapped.
    let claimed = unsafe { ALLOCATOR.lock().claim(span)? };
    Ok(claimed.size() as u64)
}

/// The heap's size and what of it is free, in bytes (guest memory included: its frames
/// come from here).
pub fn usage() -> (u64, u64) {
    let talc = ALLOCATOR.lock();
    let counters = talc.get_counters();
    let spare_frames = crate::frames::free_count() as u64 * crate::paging::PAGE;
    (counters.claimed_bytes as u64, counters.available_bytes as u64 + spare_frames)
}
