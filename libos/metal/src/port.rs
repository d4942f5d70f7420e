//! x86 port I/O.
//!
//! Each function is `unsafe`: writing to an I/O port can reprogram a device under code
//! that relies on it. The callers (serial, PIT, exit, fw_cfg) each own their ports.

use core::arch::asm;

/// Writes a byte to `port`.
///
/// # Safety
/// The caller owns the device at `port` and knows what the write does to it.
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: `out` touches no memory; the device effect is the caller's contract.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) }
}

/// Reads a byte from `port`.
///
/// # Safety
/// The caller owns the device at `port` (a read can have side effects, e.g. on a FIFO).
pub unsafe fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: `in` touches no memory; the device effect is the caller's contract.
    unsafe { asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags)) }
    value
}

/// Writes a 16-bit value to `port`.
///
/// # Safety
/// The caller owns the device at `port` and knows what the write does to it.
pub unsafe fn outw(port: u16, value: u16) {
    // SAFETY: `out` touches no memory; the device effect is the caller's contract.
    unsafe { asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags)) }
}

/// Writes a 32-bit value to `port`.
///
/// # Safety
/// The caller owns the device at `port` and knows what the write does to it.
pub unsafe fn outl(port: u16, value: u32) {
    // SAFETY: `out` touches no memory; the device effect is the caller's contract.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags)) }
}
