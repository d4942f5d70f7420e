//! The guest's fds 0–2 on the serial ports, and unify's control lines.
//!
//! - COM1 carries the guest's stdout (transmit) and stdin (receive); COM2 its stderr.
//!   unify relays them to its own stdout, stderr and stdin, byte for byte.
//! - COM3 carries the kernel log out and unify's control lines in: `eof N` (unify's
//!   stdin has ended after N bytes: reads of fd 0 return 0 once all N have arrived —
//!   QEMU may still hold some when the line comes — and been consumed) and
//!   `signal N` (a signal sent to unify, for the guest process).
//!
//! Received bytes raise the serial interrupt (through the I/O APIC, src/ioapic.rs),
//! which ends the idle task's halt or preempts guest code; [`poll`] then collects them
//! (it also runs at every timer tick, should no I/O APIC answer). Readers of stdin block
//! on a wait word that [`poll`] bumps. unify sends nothing before the kernel's "ready
//! for input" line (see [`init`]).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use libos::abi::{mode, Stat};
use libos::file::{events, File};
use libos::readiness::{Pollee, Readiness};
use libos::siginfo::SigInfo;
use libos::sigsend::SignalTarget;
use libos::{Errno, Kernel, SysResult};
use spin::Mutex;

use crate::serial::{Uart, COM1, COM2, COM3};

/// Received stdin bytes not yet read by the guest.
static INPUT: Mutex<VecDeque<u8>> = Mutex::new(VecDeque::new());
/// unify's stdin has ended (`eof N` on the control port) and all N bytes are in.
static INPUT_ENDED: AtomicBool = AtomicBool::new(false);
/// Bytes received on COM1 so far.
static INPUT_RECEIVED: AtomicU64 = AtomicU64::new(0);
/// The byte count `eof N` announced (u64::MAX until then).
static INPUT_TOTAL: AtomicU64 = AtomicU64::new(u64::MAX);
/// Bumped whenever input arrives or ends (stdin readers wait on it).
static INPUT_SEQ: AtomicU32 = AtomicU32::new(0);
static INPUT_POLLEE: Pollee = Pollee::new();
/// A partial control line.
static CONTROL: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Whether the control port is in use (the log is on COM3).
static CONTROL_ON: AtomicBool = AtomicBool::new(false);

/// Takes COM1/COM2 for the guest; `control` says COM3 carries unify's control lines.
pub fn init(control: bool) {
    // SAFETY: the guest console owns COM2 from here on (COM1 was set up by the console
    // at boot; re-initialising it would reset its FIFO and lose input).
    let _ = unsafe { Uart::new(COM2) }.init();
    let early = |slot: &core::sync::atomic::AtomicU16| {
        let v = slot.swap(0, Ordering::SeqCst);
        (v & 0x100 != 0).then_some(v as u8)
    };
    if let Some(b) = early(&crate::console::EARLY_COM1) {
        INPUT.lock().push_back(b);
        INPUT_RECEIVED.fetch_add(1, Ordering::SeqCst);
    }
    if let Some(b) = early(&crate::console::EARLY_COM3) {
        CONTROL.lock().push(b);
    }
    CONTROL_ON.store(control, Ordering::SeqCst);
    if crate::ioapic::route_serial() {
        uart(COM1).enable_rx_interrupt();
        if control {
            uart(COM3).enable_rx_interrupt();
        }
    }
    if control {
        // unify holds stdin and control lines back until this line (a UART set up
        // after bytes arrived would have lost them).
        crate::kprintln_always!("unify-kernel: ready for input");
    }
}

fn uart(base: u16) -> Uart {
    // SAFETY: port I/O on a UART the console owns; each call is a complete register
    // access, and kernel code is never interrupted between them (interrupts are off).
    unsafe { Uart::new(base) }
}

/// Collects what arrived on COM1 and COM3. Returns true if anything did.
pub fn poll() -> bool {
    let mut any = false;
    let mut com1 = uart(COM1);
    {
        let mut input = INPUT.lock();
        while let Some(b) = com1.read_byte() {
            input.push_back(b);
            INPUT_RECEIVED.fetch_add(1, Ordering::SeqCst);
            any = true;
        }
    }
    if CONTROL_ON.load(Ordering::Relaxed) {
        let mut com3 = uart(COM3);
        let mut lines = Vec::new();
        {
            let mut partial = CONTROL.lock();
            while let Some(b) = com3.read_byte() {
                if b == b'\n' {
                    lines.push(core::mem::take(&mut *partial));
                } else if partial.len() < 256 {
                    partial.push(b);
                }
            }
        }
        for line in lines {
            any |= control_line(&line);
        }
    }
    if !INPUT_ENDED.load(Ordering::SeqCst)
        && INPUT_RECEIVED.load(Ordering::SeqCst) >= INPUT_TOTAL.load(Ordering::SeqCst)
    {
        INPUT_ENDED.store(true, Ordering::SeqCst);
        any = true;
    }
    if any {
        INPUT_SEQ.fetch_add(1, Ordering::SeqCst);
        crate::sched::wake_word(INPUT_SEQ.as_ptr() as u64);
        INPUT_POLLEE.notify(events::POLLIN);
    }
    any
}

/// Acts on one control line from unify; true if stdin changed.
fn control_line(line: &[u8]) -> bool {
    let text = core::str::from_utf8(line).unwrap_or("").trim();
    if let Some(total) = text.strip_prefix("eof").map(str::trim) {
        // `eof` alone: whatever arrived is all there is.
        let total = total.parse().unwrap_or(0);
        INPUT_TOTAL.store(total, Ordering::SeqCst);
        return true;
    }
    if let Some(n) = text.strip_prefix("signal ").and_then(|n| n.parse::<u32>().ok()) {
        if let Some(kernel) = Kernel::try_get() {
            let info = SigInfo::sent(n, libos::siginfo::code::SI_USER, 0, 0);
            let _ = kernel.send_signal(SignalTarget::Process, info);
        }
        return false;
    }
    crate::kprintln!("control: ignored line \"{text}\"");
    false
}

/// What unify's own fds 0–2 are (`unify.stdio=KKK`): `p` a pipe, file or socket (the
/// guest gets a stream either way), `n` /dev/null, `t` a terminal. Programs look:
/// ripgrep searches stdin, rather than the working directory, only when it is a
/// pipe or a file.
static KINDS: [AtomicU8; 3] = [AtomicU8::new(b'p'), AtomicU8::new(b'p'), AtomicU8::new(b'p')];

/// Records the kinds of fds 0–2 from the command line's `unify.stdio=` value.
pub fn set_kinds(kinds: &str) {
    for (slot, k) in KINDS.iter().zip(kinds.bytes()) {
        if matches!(k, b'p' | b'n' | b't') {
            slot.store(k, Ordering::Relaxed);
        }
    }
}

/// What fstat says of fd `fd` (0–2): as unify's own fd is, a pipe by default.
fn console_stat(fd: usize) -> Stat {
    let base = Stat { st_ino: fd as u64 + 1, st_nlink: 1, st_blksize: 4096, ..Stat::default() };
    match KINDS[fd].load(Ordering::Relaxed) {
        // /dev/null: char device 1:3.
        b'n' => Stat { st_mode: mode::S_IFCHR | 0o666, st_rdev: (1 << 8) | 3, ..base },
        // A pseudo-terminal: char device 136:0 (/dev/pts/0).
        b't' => Stat { st_mode: mode::S_IFCHR | 0o620, st_rdev: 136 << 8, ..base },
        _ => Stat { st_mode: mode::S_IFIFO | 0o600, ..base },
    }
}

/// The guest's stdin: bytes from COM1, EOF once unify says so.
pub struct SerialIn;

impl File for SerialIn {
    fn read(&self, buf: &mut [u8], nonblock: bool) -> SysResult {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let seq = INPUT_SEQ.load(Ordering::SeqCst);
            {
                let mut input = INPUT.lock();
                if !input.is_empty() {
                    let n = buf.len().min(input.len());
                    for (slot, b) in buf.iter_mut().zip(input.drain(..n)) {
                        *slot = b;
                    }
                    return Ok(n);
                }
            }
            if INPUT_ENDED.load(Ordering::SeqCst) {
                return Ok(0);
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            let platform = Kernel::get().platform;
            platform.wait_on(&INPUT_SEQ, seq, None);
            if platform.interrupted() {
                return Err(Errno::ERESTARTSYS);
            }
        }
    }

    fn write(&self, buf: &[u8], _nonblock: bool) -> SysResult {
        // fd 0 of a terminal is usually read-write; here it is the same serial line.
        uart(COM1).write_bytes(buf);
        Ok(buf.len())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(console_stat(0))
    }

    fn poll(&self, wanted: u16) -> u16 {
        // As a pipe whose writer has gone: POLLHUP once the input ended, POLLIN while
        // bytes remain.
        let mut r = events::POLLOUT | events::POLLWRNORM;
        if !INPUT.lock().is_empty() {
            r |= events::POLLIN | events::POLLRDNORM;
        }
        if INPUT_ENDED.load(Ordering::SeqCst) {
            r |= events::POLLHUP;
        }
        r & (wanted | events::POLLERR | events::POLLHUP)
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Pollee(&INPUT_POLLEE)
    }

    fn set_nonblocking(&self, _on: bool) -> Result<(), Errno> {
        Ok(())
    }
}

/// The guest's stdout (COM1) or stderr (COM2).
pub struct SerialOut(pub u16);

impl File for SerialOut {
    fn write(&self, buf: &[u8], _nonblock: bool) -> SysResult {
        uart(self.0).write_bytes(buf);
        Ok(buf.len())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(console_stat(if self.0 == COM1 { 1 } else { 2 }))
    }

    fn poll(&self, wanted: u16) -> u16 {
        wanted & (events::POLLOUT | events::POLLWRNORM)
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Static
    }

    fn set_nonblocking(&self, _on: bool) -> Result<(), Errno> {
        Ok(())
    }
}

/// The three console files, for `Platform::console`.
pub fn files() -> [Arc<dyn File>; 3] {
    [Arc::new(SerialIn), Arc::new(SerialOut(COM1)), Arc::new(SerialOut(COM2))]
}

/// Writes a libOS message line to the guest's stderr (as the hosted platform does).
pub fn log_line(line: &str) {
    let mut com2 = uart(COM2);
    com2.write_bytes(line.as_bytes());
    com2.write_bytes(b"\n");
}
