//! The process's heap: talc, growing by host `mmap` in the host half.
//!
//! A syscall may allocate while the guest's FS base is still loaded (see `entry`), so
//! the allocator must not touch TLS: glibc's malloc does (per-thread caches), talc
//! does not. New memory comes from raw `mmap` syscalls (no errno either), in chunks of
//! at least 32 MiB, reserved but only backed as it is touched.
//!
//! One lock guards the heap. Every guest thread's syscalls allocate through it, and a
//! host thread can be preempted while holding it, so a waiter yields its CPU (a raw
//! `sched_yield`) instead of spinning out its time slice.

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

/// Waiting for the heap lock: give the CPU to whoever holds it.
pub struct YieldRelax;

impl spin::relax::RelaxStrategy for YieldRelax {
    fn relax() {
        // A short hold ends within a few pauses; a preempted holder needs the CPU.
        for _ in 0..16 {
            core::hint::spin_loop();
        }
        // SAFETY: sched_yield takes no arguments; a raw syscall touches no TLS.
        unsafe { raw_syscall6(libc::SYS_sched_yield, 0, 0, 0, 0, 0, 0) };
    }
}

/// The global allocator's type.
pub type HostHeap = Talck<spin::mutex::Mutex<(), YieldRelax>, MmapOnOom>;

/// The process's allocator: talc, which touches no TLS (a syscall may allocate while the
/// guest's FS base is still loaded).
#[global_allocator]
static ALLOCATOR: HostHeap = Talc::new(MmapOnOom).lock();

/// Bytes allocated from the heap right now.
pub fn in_use() -> usize {
    ALLOCATOR.lock().get_counters().allocated_bytes
}
