//! The `virtio_drivers::Hal` for this kernel: DMA memory comes from the heap, and since
//! all of RAM and the MMIO region are identity-mapped (src/boot.s), a physical address
//! is the virtual one. There is no IOMMU and no memory encryption, so sharing a buffer
//! with a device is handing over its address.

use alloc::alloc::{alloc_zeroed, dealloc, handle_alloc_error};
use core::alloc::Layout;
use core::ptr::NonNull;
use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};

/// The kernel's virtio HAL (identity-mapped, heap-backed DMA).
pub struct KernelHal;

fn dma_layout(pages: usize) -> Layout {
    Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE).expect("DMA allocation size overflows")
}

// SAFETY: dma_alloc returns zeroed, page-aligned heap memory that nothing else references
// until dma_dealloc; the identity map makes the returned physical addresses exactly what
// the device must use; mmio_phys_to_virt returns the (identity-mapped) MMIO address itself.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let layout = dma_layout(pages);
        // SAFETY: the layout has a non-zero size (virtio never asks for 0 pages) and a
        // power-of-two alignment.
        let ptr = unsafe { alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(ptr) else { handle_alloc_error(layout) };
        (ptr.as_ptr() as PhysAddr, ptr)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: the caller passes back what dma_alloc returned, with the same page count,
        // so this is the same allocation and layout.
        unsafe { dealloc(vaddr.as_ptr(), dma_layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).expect("MMIO at physical address 0")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr().cast::<u8>() as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}
