//! 16550 UART driver: transmit is polled; receive is polled or, once src/stdio.rs
//! enables it, raises the port's interrupt line.
//!
//! The ports have fixed roles (README.md, "Consoles"):
//! - COM1 (0x3f8): the guest's stdout and stdin (and the kernel log when no `unify.log=3`).
//! - COM2 (0x2f8): the guest's stderr, so that unify can give the guest's stdout and
//!   stderr to its own stdout and stderr separately.
//! - COM3 (0x3e8): under unify, the kernel log and unify's control lines.

use crate::port::{inb, outb};
use core::fmt;

/// The I/O base of COM1: the guest's stdout and stdin.
pub const COM1: u16 = 0x3f8;
/// The I/O base of COM2: the guest's stderr.
pub const COM2: u16 = 0x2f8;
/// The I/O base of COM3: the kernel log and unify's control lines, when unify runs
/// the VM (`unify.log=3`).
pub const COM3: u16 = 0x3e8;

const DATA: u16 = 0; // transmit/receive buffer (divisor low byte while DLAB=1)
const IER: u16 = 1; // interrupt enable (divisor high byte while DLAB=1)
const FCR: u16 = 2; // FIFO control
const LCR: u16 = 3; // line control
const MCR: u16 = 4; // modem control
const LSR: u16 = 5; // line status
const SCRATCH: u16 = 7;

const LCR_DLAB: u8 = 0x80;
const LCR_8N1: u8 = 0x03;
/// FIFOs on, receive trigger at 14 bytes; nothing cleared: input the VMM delivered
/// before the kernel set the port up stays (unify writes stdin from the start).
const FCR_ENABLE_14: u8 = 0xc1;
const MCR_DTR_RTS: u8 = 0x03;
const LSR_THR_EMPTY: u8 = 0x20;
const LSR_DATA_READY: u8 = 0x01;

/// One 16550 at a fixed I/O base.
pub struct Uart {
    base: u16,
}

impl Uart {
    /// The UART at `base`, not yet initialised.
    ///
    /// # Safety
    /// `base` must be one of the serial ports above, and the caller must be the only
    /// code driving it through this value (the console owns COM1 behind a lock; the
    /// emergency writer used after a fault is the documented exception).
    pub const unsafe fn new(base: u16) -> Self {
        Uart { base }
    }

    /// Whether a UART answers at this base: the scratch register keeps what is written
    /// (an absent port reads back 0xff).
    pub fn present(&mut self) -> bool {
        // SAFETY: the scratch register has no effect on the UART; we own the port.
        unsafe {
            outb(self.base + SCRATCH, 0x5a);
            inb(self.base + SCRATCH) == 0x5a
        }
    }

    /// 115200 baud (divisor 1), 8N1, FIFOs on, interrupts off. Returns the byte that
    /// was waiting in the receive register, if any: turning the FIFOs on resets them
    /// (QEMU's 16550 drops what it held), and unify may have sent input already.
    pub fn init(&mut self) -> Option<u8> {
        let pending = if self.present() { self.read_byte() } else { None };
        // SAFETY: the standard 16550 programming sequence on a port we own.
        unsafe {
            outb(self.base + IER, 0x00);
            outb(self.base + LCR, LCR_DLAB);
            outb(self.base + DATA, 0x01);
            outb(self.base + IER, 0x00);
            outb(self.base + LCR, LCR_8N1);
            outb(self.base + FCR, FCR_ENABLE_14);
            outb(self.base + MCR, MCR_DTR_RTS);
        }
        pending
    }

    /// Sends one byte, waiting for room in the transmitter. An absent UART reads LSR as
    /// 0xff (always "empty"), so this never spins forever.
    pub fn write_byte(&mut self, byte: u8) {
        // SAFETY: polling LSR and writing the data register of a port we own.
        unsafe {
            while inb(self.base + LSR) & LSR_THR_EMPTY == 0 {
                core::hint::spin_loop();
            }
            outb(self.base + DATA, byte);
        }
    }

    /// Raises the port's interrupt line when data arrives (IER bit 0, and OUT2 in MCR,
    /// which gates the line on PC UARTs).
    pub fn enable_rx_interrupt(&mut self) {
        // SAFETY: IER and MCR of a port we own.
        unsafe {
            outb(self.base + MCR, MCR_DTR_RTS | 0x08);
            outb(self.base + IER, 0x01);
        }
    }

    /// The next received byte, if one is waiting. An absent UART reads LSR as 0xff,
    /// which would look like endless data: callers only read ports that are present.
    pub fn read_byte(&mut self) -> Option<u8> {
        // SAFETY: polling LSR and reading the data register of a port we own.
        unsafe { (inb(self.base + LSR) & LSR_DATA_READY != 0).then(|| inb(self.base + DATA)) }
    }

    /// Sends `bytes` as they are (no newline translation: the host side gets exactly
    /// these bytes, which is what the guest's output will need).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_byte(b);
        }
    }
}

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}
