//! The panic handler: report on the kernel log, then exit with the kernel-failure status.

use crate::{console, exit, interrupt};
use core::fmt::Write;
use core::panic::PanicInfo;

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let mut w = console::emergency();
    if !interrupt::begin_dying() {
        let _ = writeln!(w, "\nunify-kernel: panic while already failing: {}", info.message());
        exit::leave(exit::KERNEL_FAILURE);
    }
    let _ = write!(w, "\nunify-kernel: panic");
    if let Some(loc) = info.location() {
        let _ = write!(w, " at {}:{}:{}", loc.file(), loc.line(), loc.column());
    }
    let _ = writeln!(w, ": {}", info.message());
    if info.message().as_str().is_some_and(|m| m.starts_with("memory allocation of"))
        || alloc::format!("{}", info.message()).starts_with("memory allocation of")
    {
        // The heap holds the guest's memory too: this is the VM running out of memory,
        // which Linux would answer with the OOM killer (SIGKILL), not a kernel failure.
        crate::stdio::log_line("unify: the VM ran out of memory; the guest was killed (give it more with -m)");
        exit::killed(9)
    }
    exit::exit_on_fault(exit::KERNEL_FAILURE, "kernel panic")
}

/// The personality routine the precompiled `core` and `alloc` name (they are built for
/// unwinding). This kernel is built with panic=abort, so nothing unwinds and this is
/// never called; a debug build (no LTO to drop the reference) still needs the symbol.
#[no_mangle]
extern "C" fn rust_eh_personality() -> ! {
    let _ = writeln!(console::emergency(), "\nunify-kernel: rust_eh_personality called, but nothing unwinds");
    exit::exit_on_fault(exit::KERNEL_FAILURE, "kernel panic")
}

/// The precompiled `alloc` (built with unwinding) names the unwinder's resume entry in
/// its landing pads. This kernel aborts on panic (`panic = "abort"`), so no landing pad
/// ever runs; the symbol only has to exist.
#[no_mangle]
extern "C" fn _Unwind_Resume() -> ! {
    crate::exit::exit_on_fault(crate::exit::KERNEL_FAILURE, "unwinding requested")
}
