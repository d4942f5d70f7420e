//! The local APIC timer (one-shot, the scheduler's only interrupt source) and the
//! legacy 8259 PICs, which are masked: an unprogrammed PIC would deliver the PIT's
//! IRQ 0 on vector 8, the double-fault vector, as soon as interrupts are enabled.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::paging::phys_to_virt;
use crate::port::outb;

/// The vector of the timer interrupt (above the 32 exception vectors).
pub const TIMER_VECTOR: u8 = 0x20;
/// The spurious-interrupt vector.
pub const SPURIOUS_VECTOR: u8 = 0xff;

const LAPIC_BASE: u64 = 0xfee0_0000;
const REG_EOI: u64 = 0xb0;
const REG_SPURIOUS: u64 = 0xf0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_INITIAL_COUNT: u64 = 0x380;
const REG_CURRENT_COUNT: u64 = 0x390;
const REG_DIVIDE: u64 = 0x3e0;
const DIVIDE_BY_1: u32 = 0b1011;
const LVT_MASKED: u32 = 1 << 16;

/// APIC timer ticks per second (measured against the TSC at start).
static TICKS_PER_SEC: AtomicU64 = AtomicU64::new(1_000_000_000);

fn reg(offset: u64) -> *mut u32 {
    phys_to_virt(LAPIC_BASE + offset) as *mut u32
}

fn read(offset: u64) -> u32 {
    // SAFETY: a local APIC register in the direct map; reads have no side effects.
    unsafe { reg(offset).read_volatile() }
}

fn write(offset: u64, value: u32) {
    // SAFETY: a local APIC register in the direct map; the callers write values the
    // SDM defines for it.
    unsafe { reg(offset).write_volatile(value) }
}

/// Whether the hypervisor is QEMU (TCG) or KVM, whose local APIC timers count at
/// 1 GHz before the divider (QEMU's `apic` model and KVM's lapic both tick once per ns).
fn known_1ghz_apic() -> bool {
    const HYPERVISOR_PRESENT: u32 = 1 << 31;
    if crate::cpu::cpuid(1, 0).ecx & HYPERVISOR_PRESENT == 0 {
        return false;
    }
    let r = crate::cpu::cpuid(0x4000_0000, 0);
    let mut sig = [0u8; 12];
    sig[0..4].copy_from_slice(&r.ebx.to_le_bytes());
    sig[4..8].copy_from_slice(&r.ecx.to_le_bytes());
    sig[8..12].copy_from_slice(&r.edx.to_le_bytes());
    &sig == b"TCGTCGTCGTCG" || &sig == b"KVMKVMKVM\0\0\0"
}

/// Masks the PICs, enables the local APIC and, unless the hypervisor's rate is known,
/// measures its timer against the TSC (1 ms of boot time).
pub fn init(tsc_hz: u64) {
    // SAFETY: the 8259 data ports; 0xff masks every line.
    unsafe {
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
    }
    write(REG_SPURIOUS, 0x100 | u32::from(SPURIOUS_VECTOR));
    write(REG_DIVIDE, DIVIDE_BY_1);
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
    if known_1ghz_apic() {
        TICKS_PER_SEC.store(1_000_000_000, Ordering::Relaxed);
        write(REG_LVT_TIMER, u32::from(TIMER_VECTOR));
        return;
    }
    // Count down from the top for 1 ms of TSC time.
    write(REG_INITIAL_COUNT, u32::MAX);
    let start = crate::cpu::rdtsc();
    let window = tsc_hz / 1000;
    while crate::cpu::rdtsc() - start < window {
        core::hint::spin_loop();
    }
    let elapsed = u64::from(u32::MAX - read(REG_CURRENT_COUNT));
    write(REG_INITIAL_COUNT, 0);
    if elapsed > 0 {
        TICKS_PER_SEC.store(elapsed * 1000, Ordering::Relaxed);
    }
    write(REG_LVT_TIMER, u32::from(TIMER_VECTOR)); // one-shot, unmasked
}

/// The timer's measured rate.
pub fn ticks_per_sec() -> u64 {
    TICKS_PER_SEC.load(Ordering::Relaxed)
}

/// Makes the timer interrupt fire `ns` from now (at least 1 tick, at most ~4 s at the
/// measured rate; a later deadline is simply re-armed when this one fires).
pub fn arm_in(ns: u64) {
    let ticks = u128::from(ns) * u128::from(ticks_per_sec()) / 1_000_000_000;
    write(REG_INITIAL_COUNT, ticks.clamp(1, u128::from(u32::MAX)) as u32);
}

/// Whether the one-shot timer is still counting down (it has not fired since it was
/// last armed).
pub fn timer_running() -> bool {
    read(REG_CURRENT_COUNT) != 0
}

/// Ends the interrupt being served.
pub fn eoi() {
    write(REG_EOI, 0);
}
