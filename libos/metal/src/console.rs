//! The kernel log: `kprintln!` for normal use, `emergency()` for fault paths.
//!
//! The log starts on COM1 and moves to COM3 when the command line says `unify.log=3`
//! (unify then gives COM1 and COM2 to the guest's stdout and stderr).

use crate::serial::{Uart, COM1, COM3};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use spin::Mutex;

// SAFETY: this is the one owner of the log port besides `emergency()` (see there).
static CONSOLE: Mutex<Uart> = Mutex::new(unsafe { Uart::new(COM1) });
static LOG_PORT: AtomicU16 = AtomicU16::new(COM1);
/// Only the records that always matter are written (the exit record, failures): under
/// TCG every byte written to a UART is a trip through the VMM, which costs boot time.
static QUIET: AtomicBool = AtomicBool::new(false);

/// A byte that had arrived on COM1 or COM3 before the kernel set the port up (input
/// from unify sent right at launch), for src/stdio.rs: 0x100 | byte, or 0.
pub static EARLY_COM1: AtomicU16 = AtomicU16::new(0);
pub static EARLY_COM3: AtomicU16 = AtomicU16::new(0);

/// Initialises COM1. Called first thing in `kernel_main`.
pub fn init() {
    if let Some(b) = CONSOLE.lock().init() {
        EARLY_COM1.store(0x100 | u16::from(b), Ordering::SeqCst);
    }
}

/// Moves the log to COM3 (`unify.log=3`).
pub fn log_to_com3() {
    // SAFETY: COM3 is the log's from now on; the guest console never uses it.
    let mut uart = unsafe { Uart::new(COM3) };
    if let Some(b) = uart.init() {
        EARLY_COM3.store(0x100 | u16::from(b), Ordering::SeqCst);
    }
    *CONSOLE.lock() = uart;
    LOG_PORT.store(COM3, Ordering::SeqCst);
}

/// Keeps the routine log lines (`kprintln!`) out of the log from now on; the exit
/// record and failure reports are still written (`kprintln_always!`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::SeqCst);
}

/// The port the log is on.
pub fn log_port() -> u16 {
    LOG_PORT.load(Ordering::SeqCst)
}

/// Writes formatted text to the kernel log, unless it is quiet.
pub fn print(args: fmt::Arguments) {
    if !QUIET.load(Ordering::Relaxed) {
        print_always(args);
    }
}

/// Writes formatted text to the kernel log.
pub fn print_always(args: fmt::Arguments) {
    // Writing to a UART cannot fail.
    let _ = CONSOLE.lock().write_fmt(args);
}

/// A writer to the log's port that takes no lock, for exception and panic reports: the code that
/// faulted may hold the console lock. Output may interleave with a half-written line,
/// which is better than a report that never appears.
pub fn emergency() -> Uart {
    // SAFETY: used only on the way to exit (src/exit.rs), when nothing else will write
    // to the log again; interleaving with an interrupted writer garbles text, nothing more.
    unsafe { Uart::new(log_port()) }
}

/// Prints to the kernel log.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// Prints a line to the kernel log.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::console::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Prints a line to the kernel log even when it is quiet (exit records, failures).
#[macro_export]
macro_rules! kprintln_always {
    ($($arg:tt)*) => { $crate::console::print_always(format_args!("{}\n", format_args!($($arg)*))) };
}
