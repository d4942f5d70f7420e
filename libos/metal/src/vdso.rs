//! The guest's vDSO: `clock_gettime`, `gettimeofday`, `time` and `getcpu` answered in
//! the guest's own code, as Linux's vDSO answers them (vdso/vdso.c, built by build.rs).
//! Rust's `Instant::now`, tokio's timer wheel and every timestamp call these; under
//! TCG each was a syscall of about 2 µs, and a small HTTP request made three or four.
//!
//! Placed as Linux places it: above the initial stack, a data page (`[vvar]`, read
//! only) and right above it the image (`[vdso]`, read and execute), named to the
//! program by `AT_SYSINFO_EHDR` and listed in `/proc/self/maps`. The data page holds
//! the clock's numbers (src/clock.rs), fixed at boot.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use libos::mm::Prot;
use libos::platform::ForeignMapping;

use crate::platform::PLATFORM;
use libos::Platform;

/// The vDSO as linked (position independent, one PT_LOAD at 0).
static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

const PAGE: u64 = 4096;
/// The data page (`vdso.lds`'s `vvar_page` is one page below the image).
pub const VVAR: u64 = 0x3fff_ffff_8000;
/// The image.
pub const VDSO: u64 = VVAR + PAGE;
/// The end of both (the guest window's mappings stay below [`VVAR`]).
const END: u64 = VDSO + (IMAGE.len() as u64).div_ceil(PAGE) * PAGE;

/// Whether the pages are in place (the program was started).
static PLACED: AtomicBool = AtomicBool::new(false);

/// Maps the data page and the image; returns the image's address for
/// `AT_SYSINFO_EHDR`, or None (and the guest makes syscalls) if that fails.
pub fn place() -> Option<u64> {
    PLATFORM.map_anonymous(VVAR, END - VVAR, Prot::RW).ok()?;
    crate::guest_memory::populate(VVAR, END - VVAR).ok()?;
    let clock: Vec<u8> = crate::clock::vdso_clock().iter().flat_map(|v| v.to_ne_bytes()).collect();
    // SAFETY: `[VVAR, END)` was just mapped read-write and populated; the data page and
    // the image fit in it (END is the image rounded up to pages, above one data page).
    unsafe {
        core::ptr::copy_nonoverlapping(clock.as_ptr(), VVAR as *mut u8, clock.len());
        core::ptr::copy_nonoverlapping(IMAGE.as_ptr(), VDSO as *mut u8, IMAGE.len());
    }
    PLATFORM.protect(VVAR, PAGE, Prot::READ).ok()?;
    PLATFORM.protect(VDSO, END - VDSO, Prot::READ.union(Prot::EXEC)).ok()?;
    PLACED.store(true, Ordering::SeqCst);
    Some(VDSO)
}

/// The two mappings, for `/proc/self/maps` (`Platform::foreign_mappings`).
pub fn mappings() -> Vec<ForeignMapping> {
    if !PLACED.load(Ordering::SeqCst) {
        return Vec::new();
    }
    vec![
        ForeignMapping { start: VVAR, end: VDSO, prot: Prot::READ, name: b"[vvar]".to_vec() },
        ForeignMapping { start: VDSO, end: END, prot: Prot::READ.union(Prot::EXEC), name: b"[vdso]".to_vec() },
    ]
}
