//! Static x86-64 ELF validation and loading, and the Linux initial process stack.
//!
//! unify runs *unmodified, statically linked* x86-64 Linux programs. Before a single
//! instruction of such a program runs, two things must happen, and this crate does both
//! without touching memory itself (it is `no_std` and is shared by the hosted platform
//! and the bare-metal kernel):
//!
//! 1. **Decide whether the file can run, and where its bytes go.** [`parse`] reads the
//!    ELF header and the program header table, checks them the way Linux's
//!    `fs/binfmt_elf.c` would (plus the checks a library OS needs because there is no
//!    dynamic linker to fall back on) and returns a [`LoadPlan`]: the `PT_LOAD` segments
//!    in ascending address order, the entry point, where the program headers end up in
//!    memory (for `AT_PHDR`), the `PT_TLS` template and the stack permissions. Anything
//!    that cannot run becomes a [`LoadError`] whose `Display` is one line a user can act
//!    on ("dynamically linked (interpreter …); build it statically: …").
//!    [`LoadPlan::copy_segments`] then hands the caller each segment's file bytes at its
//!    final address; the caller owns the memory (an `mmap` when hosted, page tables in a
//!    VM).
//! 2. **Build the stack the program's `_start` expects.** [`stack::build`] lays out
//!    `argc`, `argv`, `envp`, the auxiliary vector and the strings they point to exactly
//!    as Linux's `create_elf_tables` does; [`stack::auxv_for`] fills the auxv entries
//!    that come from the ELF file.
//!
//! # Two kinds of executable
//!
//! * [`ElfKind::Exec`] (`ET_EXEC`): linked at fixed addresses; it must be placed exactly
//!   where its program headers say (load base 0).
//! * [`ElfKind::StaticPie`] (`ET_DYN` without `PT_INTERP`): position independent; the
//!   caller chooses a page-aligned load base and adds it to every address in the plan.
//!   The program relocates itself (glibc's `_dl_relocate_static_pie`, musl's `rcrt1`).
//!   Rust's `-C target-feature=+crt-static` builds for `x86_64-unknown-linux-gnu` are of
//!   this kind.
//!
//! Everything else — dynamically linked programs, shared libraries that need other
//! libraries, object files, other architectures — is refused with a reason.
//!
//! # Robustness
//!
//! [`parse`] never panics and never allocates more than the (size-checked) program
//! header table, whatever the input: the ELF header and program headers are decoded by
//! hand with checked little-endian reads into goblin's plain structs, rather than with
//! goblin's convenience parsers (which `expect` on short buffers and assume alignment).
//! All address arithmetic is checked. The crate is fuzzed (`loader/fuzz`) and its tests
//! mutate real binaries tens of thousands of times.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod bytes;
mod error;
mod plan;
pub mod stack;

pub use error::LoadError;
pub use plan::{needed_len, parse, ElfKind, LoadPlan, PageRegion, Prot, Segment};

/// The page size unify maps programs with (x86-64's base page).
pub const PAGE_SIZE: u64 = 4096;

/// One past the highest user address: the top of the lower canonical half of the x86-64
/// address space. No segment of an accepted program reaches beyond it.
pub const USER_END: u64 = 0x0000_8000_0000_0000;

/// The lowest address an `ET_EXEC` segment may occupy. Linux refuses to map below
/// `vm.mmap_min_addr` (65536 by default) so that NULL-pointer dereferences fault.
pub const MIN_EXEC_ADDR: u64 = 0x10000;

/// Where Linux puts a static-pie when nothing else decides (`ELF_ET_DYN_BASE` on x86-64,
/// `2/3 * TASK_SIZE` rounded down to a page), before address-space randomisation. Any
/// page-aligned base for which [`LoadPlan::fits_at`] holds works just as well.
pub const DEFAULT_PIE_BASE: u64 = 0x5555_5555_4000;

/// Rounds `addr` down to a page boundary.
#[inline]
pub const fn page_down(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

/// Rounds `addr` up to a page boundary, or `None` if that overflows `u64`.
#[inline]
pub const fn page_up(addr: u64) -> Option<u64> {
    match addr.checked_add(PAGE_SIZE - 1) {
        Some(a) => Some(a & !(PAGE_SIZE - 1)),
        None => None,
    }
}
