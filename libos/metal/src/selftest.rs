//! Deliberate failures (`unify.selftest=NAME`), so the tests can check that a fault is
//! reported with its registers and ends the VM with the kernel-failure status.

use crate::kprintln;

/// The self-tests by name.
pub const NAMES: &[&str] = &["pagefault", "invalid-opcode", "panic"];

/// An address nothing maps: 256 GiB, in the guest window, with no guest (a kernel read
/// there is not a guest access the page-fault handler could resolve).
pub const UNMAPPED: u64 = 0x40_0000_0000;

/// Runs the self-test `name`; returns only if there is no such test.
pub fn run(name: &str) {
    kprintln!("selftest: {name}");
    match name {
        "pagefault" => {
            // SAFETY: deliberately reads an unmapped address; the page-fault handler
            // reports it and ends the VM, so this never returns.
            let value = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
            kprintln!("selftest: read {value:#x} from an unmapped address");
        }
        "invalid-opcode" => {
            // SAFETY: deliberately executes ud2; the #UD handler ends the VM.
            unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
        }
        "panic" => panic!("selftest panic"),
        _ => {}
    }
}
