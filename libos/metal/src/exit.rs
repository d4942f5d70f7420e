//! Ending the VM with a status, through QEMU's `isa-debug-exit` device.
//!
//! The device (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`) makes QEMU exit with
//! `(value << 1) | 1` when `value` is written to its port, so QEMU's exit code carries
//! only 7 bits and is always odd. The protocol (README.md, "Exit status"):
//!
//! 1. the last line of the log is `unify-kernel: exit status S (cause)`, S in 0..=255, or
//!    `unify-kernel: killed by signal N (cause)` (S is then 128 + N);
//! 2. then `S & 0x7f` goes to the device, so QEMU exits with `((S & 0x7f) << 1) | 1`.
//!
//! The host takes S from the line and checks it against QEMU's code. An even code (0)
//! means the VM stopped some other way (e.g. a triple fault under `-no-reboot`): the
//! kernel failed without a report.

use crate::console;
use crate::port::outl;
use core::fmt::Write;

/// The status for "the kernel itself failed" (exception, panic, bad boot information),
/// 125 as container runners use for their own failures.
pub const KERNEL_FAILURE: u8 = 125;
/// The status for "the guest could not be started" (its program is missing or not
/// loadable, the image has no manifest): 126, as a shell gives for a command it
/// cannot execute.
pub const CANNOT_START: u8 = 126;

const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Logs the exit record and ends the VM with `status`.
pub fn exit(status: u8, cause: &str) -> ! {
    crate::kprintln_always!("unify-kernel: exit status {status} ({cause})");
    leave(status)
}

/// Ends the VM as a guest killed by signal `sig` would end a process: the record says
/// `killed by signal N`, and the device gets the shell's status for it, `128 + N`.
pub fn killed(sig: u32) -> ! {
    crate::kprintln_always!("unify-kernel: killed by signal {sig} (the guest was killed)");
    leave((128 + sig) as u8)
}

/// As `exit`, for fault and panic paths: writes without taking the console lock.
pub fn exit_on_fault(status: u8, cause: &str) -> ! {
    let _ = writeln!(console::emergency(), "unify-kernel: exit status {status} ({cause})");
    leave(status)
}

/// Writes the status to the debug-exit device. If QEMU was started without it, the write
/// does nothing: then say so and force a triple fault, which ends a QEMU started with
/// `-no-reboot` (status 0, which the host reads as "failed without a report").
pub fn leave(status: u8) -> ! {
    // SAFETY: port 0xf4 belongs to the debug-exit device (or to nothing).
    unsafe { outl(DEBUG_EXIT_PORT, u32::from(status & 0x7f)) };
    let _ = writeln!(
        console::emergency(),
        "unify-kernel: no isa-debug-exit device at {DEBUG_EXIT_PORT:#x}; resetting the VM"
    );
    triple_fault()
}

fn triple_fault() -> ! {
    #[repr(C, packed(2))]
    struct EmptyIdt {
        limit: u16,
        base: u64,
    }
    let empty = EmptyIdt { limit: 0, base: 0 };
    // SAFETY: deliberately loads an empty IDT and raises an exception: with no gate for
    // it (nor for #GP or #DF) the CPU shuts down, which resets the VM. Nothing after.
    unsafe { core::arch::asm!("lidt [{}]", "int3", in(reg) &empty, options(noreturn)) }
}
