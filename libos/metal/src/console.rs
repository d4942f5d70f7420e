//! The kernel log on COM1: `kprintln!` for normal use, `emergency()` for fault paths.

use crate::serial::{Uart, COM1};
use core::fmt::{self, Write};
use spin::Mutex;

// SAFETY: this is the one owner of COM1 besides `emergency()` (see there).
static CONSOLE: Mutex<Uart> = Mutex::new(unsafe { Uart::new(COM1) });

/// Initialises COM1. Called first thing in `kernel_main`.
pub fn init() {
    CONSOLE.lock().init();
}

/// Writes formatted text to the kernel log.
pub fn print(args: fmt::Arguments) {
    // Writing to a UART cannot fail.
    let _ = CONSOLE.lock().write_fmt(args);
}

/// A writer to COM1 that takes no lock, for exception and panic reports: the code that
/// faulted may hold the console lock. Output may interleave with a half-written line,
/// which is better than a report that never appears.
pub fn emergency() -> Uart {
    // SAFETY: used only on the way to exit (src/exit.rs), when nothing else will write
    // to COM1 again; interleaving with an interrupted writer garbles text, nothing more.
    unsafe { Uart::new(COM1) }
}

/// Prints to the kernel log (COM1).
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// Prints a line to the kernel log (COM1).
#[macro_export]
macro_rules! kprintln {
    () => { $crate::console::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}
