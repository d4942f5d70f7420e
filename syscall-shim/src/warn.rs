//! One-time warnings on the libOS's log ("not supported" notices print once, not per call).

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use alloc::string::String;
use libos::Kernel;

/// Prints `message` (prefixed with `unify: `) the first time `flag` is passed.
pub fn once(kernel: &Kernel, flag: &AtomicBool, message: fmt::Arguments<'_>) {
    if flag.swap(true, Ordering::Relaxed) {
        return;
    }
    let mut line = String::from("unify: ");
    let _ = fmt::write(&mut line, message);
    kernel.platform.log(&line);
}
