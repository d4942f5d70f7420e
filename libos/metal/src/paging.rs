//! The kernel's page tables: one address space shared by the kernel and the guest.
//!
//! - **The kernel image** (linked at 1 MiB, linker.ld) is identity-mapped with 4 KiB
//!   pages, and nothing else low is: guest null pointers fault, and the guest's window
//!   starts right above the image, where a non-PIE program wants its text (0x400000).
//!   The linker script refuses an image that reaches [`GUEST_LO`].
//! - **The direct map** at [`DIRECT_BASE`]: the first 4 GiB of physical memory (RAM and
//!   the MMIO of microvm's devices) with 2 MiB pages. The heap, DMA buffers, page tables
//!   and the frames behind guest memory are all reached through it.
//! - **The guest** lives in the lower half above [`GUEST_LO`], with 4 KiB pages built on
//!   demand (src/guest_memory.rs). The kernel's own tables there are created as needed
//!   from heap frames and never freed (a table that empties is reused by the next
//!   mapping in its range).
//!
//! CR0.WP makes read-only guest pages read-only for the kernel too (it runs in ring 0
//! like the guest), and EFER.NXE gives non-executable pages. A single CPU uses these
//! tables, so a change needs only a local `invlpg`.

use core::arch::asm;
use core::cell::UnsafeCell;

/// Where the direct map of physical memory begins: the middle of the higher half, so
/// the start of the kernel half (0xffff_8000_0000_0000 up), where Linux programs and
/// tests expect a stray pointer to fault, stays unmapped. The guest shares ring 0 and
/// could still read the direct map itself (docs/compat.md).
pub const DIRECT_BASE: u64 = 0xffff_c000_0000_0000;
/// The lowest guest address: the kernel image lies below.
pub const GUEST_LO: u64 = 4 << 20;

pub const PAGE: u64 = 4096;

/// Page-table entry bits.
pub mod pte {
    pub const PRESENT: u64 = 1 << 0;
    pub const WRITABLE: u64 = 1 << 1;
    pub const HUGE: u64 = 1 << 7;
    /// Software bit: the entry holds a frame although it is not present (a page whose
    /// protection is PROT_NONE keeps its contents for a later mprotect).
    pub const KEPT: u64 = 1 << 9;
    /// Software bit: past the end of the file a shared or file mapping shows (not
    /// present; a touch is SIGBUS, as on Linux).
    pub const BUS: u64 = 1 << 10;
    /// Software bit: the frame belongs to a shareable memory object (src/shm.rs) and is
    /// reference-counted there, not freed with the mapping.
    pub const SHARED: u64 = 1 << 11;
    pub const NO_EXECUTE: u64 = 1 << 63;
    /// The physical frame address bits.
    pub const ADDRESS: u64 = 0x000f_ffff_ffff_f000;
}

#[repr(C, align(4096))]
struct Table([u64; 512]);

/// The boot-time tables, in .bss (identity-mapped, so their virtual address is their
/// physical one).
struct Tables {
    pml4: Table,
    low_pdpt: Table,
    low_pd: Table,
    /// The page tables of the kernel image's 4 KiB pages: `[0, 4 MiB)`.
    image_pt: [Table; 2],
    direct_pdpt: Table,
    direct_pd: [Table; 4],
}

struct TablesCell(UnsafeCell<Tables>);
// SAFETY: written by `init` on the boot CPU before anything else uses them, then only
// through `Mapper`, which the kernel serialises (one CPU, interrupts off in the kernel).
unsafe impl Sync for TablesCell {}

const EMPTY: Table = Table([0; 512]);
static TABLES: TablesCell = TablesCell(UnsafeCell::new(Tables {
    pml4: EMPTY,
    low_pdpt: EMPTY,
    low_pd: EMPTY,
    image_pt: [EMPTY, EMPTY],
    direct_pdpt: EMPTY,
    direct_pd: [EMPTY, EMPTY, EMPTY, EMPTY],
}));

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

const CR0_WP: u64 = 1 << 16;
const EFER_NXE: u64 = 1 << 11;

/// The physical address of a direct-map or kernel-image address.
pub fn virt_to_phys(v: u64) -> u64 {
    if v >= DIRECT_BASE {
        v - DIRECT_BASE
    } else {
        v
    }
}

/// The direct-map address of physical address `p` (below 4 GiB).
pub fn phys_to_virt(p: u64) -> u64 {
    p + DIRECT_BASE
}

/// Builds the kernel's tables and switches to them. Afterwards physical memory is
/// reached only through [`phys_to_virt`] (the boot code's identity map of 4 GiB is gone).
///
/// # Safety
/// Once, on the boot CPU, with interrupts off, while running from the kernel image
/// (code, stack and statics all inside it).
pub unsafe fn init() {
    // SAFETY: single call before anything else uses the tables (the caller's contract).
    let t = unsafe { &mut *TABLES.0.get() };
    let addr = |table: &Table| table as *const Table as u64;
    let rw = pte::PRESENT | pte::WRITABLE;

    // The kernel image, 4 KiB pages, read-write-execute (the guest shares ring 0, so
    // finer protection would only guard against our own bugs).
    let (start, end) = (&raw const __kernel_start as u64, &raw const __kernel_end as u64);
    assert!(end <= GUEST_LO, "the kernel image reaches the guest window");
    let mut page = start & !(PAGE - 1);
    while page < end {
        let pt = &mut t.image_pt[(page >> 21) as usize];
        pt.0[((page >> 12) & 511) as usize] = page | rw;
        page += PAGE;
    }
    t.low_pd.0[0] = addr(&t.image_pt[0]) | rw;
    t.low_pd.0[1] = addr(&t.image_pt[1]) | rw;
    t.low_pdpt.0[0] = addr(&t.low_pd) | rw;
    t.pml4.0[0] = addr(&t.low_pdpt) | rw;

    // The direct map: 4 GiB of 2 MiB pages, not executable.
    for (i, pd) in t.direct_pd.iter_mut().enumerate() {
        for (j, entry) in pd.0.iter_mut().enumerate() {
            let phys = ((i as u64) << 30) | ((j as u64) << 21);
            *entry = phys | rw | pte::HUGE | pte::NO_EXECUTE;
        }
    }
    for i in 0..4 {
        t.direct_pdpt.0[i] = addr(&t.direct_pd[i]) | rw;
    }
    t.pml4.0[pml4_index(DIRECT_BASE)] = addr(&t.direct_pdpt) | rw;

    let pml4 = addr(&t.pml4);
    // SAFETY: EFER exists in long mode; NXE only makes bit 63 of entries meaningful,
    // and it is set before any table using it is loaded.
    unsafe { crate::cpu::wrmsr(crate::cpu::MSR_EFER, crate::cpu::rdmsr(crate::cpu::MSR_EFER) | EFER_NXE) };
    // SAFETY: the new tables map the kernel image where it runs (code, stack, statics),
    // so execution continues; CR0.WP only adds write checks for ring 0.
    unsafe {
        asm!(
            "mov cr3, {pml4}",
            "mov {tmp}, cr0",
            "or {tmp}, {wp}",
            "mov cr0, {tmp}",
            pml4 = in(reg) pml4,
            wp = in(reg) CR0_WP,
            tmp = out(reg) _,
            options(nostack, preserves_flags),
        );
    }
}

fn pml4_index(v: u64) -> usize {
    ((v >> 39) & 511) as usize
}

/// The root table's direct-map address.
fn root() -> *mut u64 {
    // SAFETY: only the address of the static is taken.
    unsafe { (*TABLES.0.get()).pml4.0.as_mut_ptr() }
}

/// The entry for guest page `va` in the lowest table, creating the tables on the way
/// when `create` (from `alloc_table`, which returns a zeroed page's physical address).
///
/// # Safety
/// `va` must lie in the guest window (never in the kernel's own ranges, whose tables
/// are the static ones); the caller serialises all changes.
pub unsafe fn leaf_entry(va: u64, create: Option<&mut dyn FnMut() -> Option<u64>>) -> Option<*mut u64> {
    if !(GUEST_LO..DIRECT_BASE).contains(&va) {
        return None;
    }
    let mut table = root();
    let mut alloc = create;
    for level in [39u32, 30, 21] {
        let index = ((va >> level) & 511) as usize;
        // SAFETY: `table` is a live page table (the root, or one reached through a
        // present entry), and index < 512.
        let entry = unsafe { table.add(index) };
        // SAFETY: as above.
        let value = unsafe { *entry };
        if value & pte::PRESENT == 0 {
            let alloc = alloc.as_mut()?;
            let phys = alloc()?;
            // SAFETY: as above; the new table is zeroed and ours.
            unsafe { *entry = phys | pte::PRESENT | pte::WRITABLE };
            table = phys_to_virt(phys) as *mut u64;
        } else {
            if value & pte::HUGE != 0 {
                return None; // the kernel's own large pages: never the guest's
            }
            table = phys_to_virt(value & pte::ADDRESS) as *mut u64;
        }
    }
    // SAFETY: a live lowest-level table.
    Some(unsafe { table.add(((va >> 12) & 511) as usize) })
}

/// Drops any cached translation of page `va`.
pub fn flush(va: u64) {
    // SAFETY: invlpg only affects the TLB.
    unsafe { asm!("invlpg [{}]", in(reg) va, options(nostack, preserves_flags)) };
}
