//! The `virtio_drivers::Hal` for this kernel: DMA memory comes from the heap, and since
//! the heap and the MMIO region lie in the direct map (src/paging.rs), a physical
//! address is a fixed offset from the virtual one. There is no IOMMU and no memory encryption, so sharing a buffer
//! with a device is handing over its address.

use crate::paging::{phys_to_virt, virt_to_phys};
use alloc::alloc::{alloc_zeroed, dealloc, handle_alloc_error};
use core::alloc::Layout;
use core::ptr::NonNull;
use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};

/// The kernel's virtio HAL (direct-mapped, heap-backed DMA).
pub struct KernelHal;

fn dma_layout(pages: usize) -> Layout {
    Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE).expect("DMA allocation size overflows")
}

// SAFETY: dma_alloc returns zeroed, page-aligned heap memory that nothing else references
// until dma_dealloc; `virt_to_phys` gives the physical addresses the device must use;
// mmio_phys_to_virt returns the MMIO region's direct-map address.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let layout = dma_layout(pages);
        // SAFETY: the layout has a non-zero size (virtio never asks for 0 pages) and a
        // power-of-two alignment.
        let ptr = unsafe { alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(ptr) else { handle_alloc_error(layout) };
        (virt_to_phys(ptr.as_ptr() as u64) as PhysAddr, ptr)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: the caller passes back what dma_alloc returned, with the same page count,
        // so this is the same allocation and layout.
        unsafe { dealloc(vaddr.as_ptr(), dma_layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(phys_to_virt(paddr) as *mut u8).expect("MMIO in the direct map")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        virt_to_phys(buffer.as_ptr().cast::<u8>() as u64) as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}
