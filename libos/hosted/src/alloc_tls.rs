//! The global allocator: glibc's malloc, entered with the host's TLS loaded.

use std::alloc::{GlobalAlloc, Layout, System};

use crate::entry::ensure_host_tls;

pub struct HostTlsAlloc;

// SAFETY: every method delegates to `System` after making its TLS reachable; the
// contract of each is `System`'s.
unsafe impl GlobalAlloc for HostTlsAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ensure_host_tls();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ensure_host_tls();
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ensure_host_tls();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ensure_host_tls();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
