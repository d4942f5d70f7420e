//! The kernel heap: talc over the largest free RAM span (src/memory.rs), behind a spin
//! lock. Running out of heap panics (the `alloc` crate's default), which ends the VM with
//! the kernel-failure status.

use crate::memory::Range;
use talc::{ErrOnOom, Talc, Talck};

#[global_allocator]
static ALLOCATOR: Talck<spin::Mutex<()>, ErrOnOom> = Talc::new(ErrOnOom).lock();

/// Hands `span` to the allocator; returns the bytes talc can use (it keeps a little for
/// its own bookkeeping).
///
/// # Safety
/// `span` must be identity-mapped RAM that nothing else uses, now or later.
pub unsafe fn init(span: Range) -> Result<u64, ()> {
    let span = talc::Span::new(span.start as *mut u8, span.end as *mut u8);
    // SAFETY: the caller guarantees the memory is ours alone and mapped.
    let claimed = unsafe { ALLOCATOR.lock().claim(span)? };
    Ok(claimed.size() as u64)
}
