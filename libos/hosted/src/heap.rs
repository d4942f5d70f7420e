//! The process's heap: talc, growing by host `mmap` in the host half.
//!
//! A syscall may allocate while the guest's FS base is still loaded (see `entry`), so
//! the allocator must not touch TLS: glibc's malloc does (per-thread caches), talc
//! does not. New memory comes from raw `mmap` syscalls (no errno either), in chunks of
//! at least 32 MiB, reserved but only backed as it is touched.

use core::alloc::Layout;

use talc::{OomHandler, Span, Talc, Talck};

use crate::host::raw_syscall6;

/// Smallest piece of memory asked of the host at a time.
const CHUNK: usize = 32 << 20;

pub struct MmapOnOom;

impl OomHandler for MmapOnOom {
    fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
        let want = layout.size().checked_add(layout.align()).and_then(|n| n.checked_add(4096)).ok_or(())?;
        let size = want.max(CHUNK).next_multiple_of(4096);
        let prot = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE) as u64;
        // SAFETY: an anonymous mapping with no address hint; the kernel places it in
        // the host half (the guest window is reserved).
        let base = unsafe { raw_syscall6(libc::SYS_mmap, 0, size as u64, prot, flags, u64::MAX, 0) };
        if base < 0 {
            return Err(());
        }
        // SAFETY: the span is fresh memory this process owns and never unmaps.
        unsafe { talc.claim(Span::from_base_size(base as *mut u8, size)) }.map(|_| ())
    }
}

/// The global allocator's type.
pub type HostHeap = Talck<spin::Mutex<()>, MmapOnOom>;

/// A heap that starts empty and grows on demand.
pub const fn new_heap() -> HostHeap {
    Talc::new(MmapOnOom).lock()
}
