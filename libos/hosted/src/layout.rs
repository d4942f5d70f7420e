//! Where things go in the one address space the libOS and the guest share.
//!
//! ```text
//! 0x0000_0000_0001_0000 ┐ guest window (reserved PROT_NONE at start; the libOS's
//!   ET_EXEC images (e.g. 0x40_0000), static-pie images at PIE_BASE,   memory map hands
//!   mmap top-down from MMAP_BASE, the stack just below GUEST_HI       it out)
//! 0x0000_4000_0000_0000 ┘ GUEST_HI
//! 0x0000_4000_0000_0000 ┐ the host's own half: unify's binary (PIE, 0x55…), libc, heap,
//! 0x0000_8000_0000_0000 ┘ thread stacks, vDSO. Syscalls from here are let through.
//! ```
//!
//! Syscall User Dispatch lets through syscalls whose instruction lies in one range; the
//! host half is that range, so every guest `syscall` that was not rewritten traps, and
//! the libOS's own syscalls (made through the host libc) never do.

pub const GUEST_LO: u64 = 0x1_0000;
pub const GUEST_HI: u64 = 0x4000_0000_0000;
/// One past the highest user address on x86-64 with 4-level paging.
pub const USER_TOP: u64 = 0x8000_0000_0000;

/// Load address of static-pie programs.
pub const PIE_BASE: u64 = 0x1000_0000_0000;

/// The initial thread's stack: `STACK_SIZE` bytes ending at `STACK_TOP`.
pub const STACK_TOP: u64 = GUEST_HI - 0x1_0000;
pub const STACK_SIZE: u64 = 8 << 20;

/// `mmap` without an address places mappings top-down from here (below the stack,
/// leaving room for it to be grown by a later version).
pub const MMAP_BASE: u64 = STACK_TOP - STACK_SIZE - (1 << 30);

/// Room for syscall-site stubs, placed next to the program image.
pub const STUB_AREA_SIZE: u64 = 1 << 20;
