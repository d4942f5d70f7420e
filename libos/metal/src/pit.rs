//! The 8254 PIT, used only to measure the TSC's frequency when CPUID does not give it.
//!
//! Channel 0 counts down from 0xffff at 1.193182 MHz (mode 0: no reload, its interrupt
//! stays masked because interrupts are off). Channel 2 would need the gate in port 0x61,
//! which microvm does not have.

use crate::cpu::rdtsc;
use crate::port::{inb, outb};

/// The PIT's input clock.
pub const PIT_HZ: u64 = 1_193_182;

const CHANNEL0: u16 = 0x40;
const COMMAND: u16 = 0x43;
/// Channel 0, low then high byte, mode 0 (interrupt on terminal count), binary.
const CH0_LOHI_MODE0: u8 = 0b0011_0000;
/// Channel 0, counter latch.
const CH0_LATCH: u8 = 0b0000_0000;

fn read_count() -> u16 {
    // SAFETY: the PIT's ports are ours during calibration (nothing else uses the PIT).
    unsafe {
        outb(COMMAND, CH0_LATCH);
        let lo = inb(CHANNEL0);
        let hi = inb(CHANNEL0);
        u16::from_le_bytes([lo, hi])
    }
}

/// TSC ticks per second, measured over `ms` milliseconds of PIT time (at most 50), or
/// None if no PIT counts (absent: reads do not change).
pub fn measure_tsc_hz(ms: u64) -> Option<u64> {
    let ms = ms.clamp(1, 50);
    let ticks = PIT_HZ * ms / 1000; // < 0xffff for 50 ms
                                    // SAFETY: as in read_count.
    unsafe {
        outb(COMMAND, CH0_LOHI_MODE0);
        outb(CHANNEL0, 0xff);
        outb(CHANNEL0, 0xff);
    }
    // Wait for the counter to move, so the start is a tick edge.
    let first = read_count();
    let mut spins = 0u32;
    let mut start = first;
    while start == first {
        spins += 1;
        if spins > 100_000 {
            return None;
        }
        start = read_count();
    }
    let t0 = rdtsc();
    let mut now = start;
    while u64::from(start.wrapping_sub(now)) < ticks {
        let next = read_count();
        if next > now {
            return None; // wrapped: the counter is not the countdown we programmed
        }
        now = next;
    }
    let t1 = rdtsc();
    let elapsed = u64::from(start - now);
    Some((t1 - t0) * PIT_HZ / elapsed)
}
