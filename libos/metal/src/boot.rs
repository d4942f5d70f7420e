//! The PVH entry (src/boot.s): the ELF note, 32-bit start, page tables, long mode.

use core::arch::global_asm;

global_asm!(include_str!("boot.s"), options(att_syntax));
