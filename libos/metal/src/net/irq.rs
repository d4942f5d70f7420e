//! The card's interrupt: "a frame came" (or "a frame went") without waiting for the
//! next timer tick.
//!
//! microvm wires each virtio-mmio transport to a pin of its IOAPIC (the `:IRQ` of the
//! `virtio_mmio.device=` argument). [`route`] points that pin at [`VECTOR`] on this CPU,
//! edge-triggered: the transport raises its line while its interrupt status is non-zero,
//! and [`interrupt`] writes the status back to clear it, so the next frame makes a new
//! edge. The handler does nothing else: it runs on an interrupt stack, where the stack
//! must not be polled. When it interrupted guest code, src/traps.rs then goes the way of
//! a timer tick (`syscall::preempted`, which polls the stack); when it ended the idle
//! task's halt, the idle loop polls.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::apic;
use crate::paging::phys_to_virt;

/// The vector the card interrupts on (the timer has 0x20).
pub const VECTOR: u8 = 0x30;

/// microvm's IOAPIC (the architectural default; microvm without ACPI has no table
/// saying otherwise).
const IOAPIC_BASE: u64 = 0xfec0_0000;
const IOREGSEL: u64 = 0x00;
const IOWIN: u64 = 0x10;
const IOAPICVER: u32 = 0x01;
const REDIRECTION: u32 = 0x10;
/// The local APIC's ID register.
const LAPIC_ID: u64 = 0xfee0_0020;
/// virtio-mmio's InterruptStatus and InterruptACK registers.
const INTERRUPT_STATUS: u64 = 0x60;
const INTERRUPT_ACK: u64 = 0x64;

/// The transport's registers (direct-map address; 0: no card).
static CARD_REGS: AtomicU64 = AtomicU64::new(0);

fn ioapic_read(reg: u32) -> u32 {
    // SAFETY: the IOAPIC's index and data registers in the direct map; kernel code runs
    // with interrupts off on one CPU, so the select-then-access pair is never split.
    unsafe {
        (phys_to_virt(IOAPIC_BASE + IOREGSEL) as *mut u32).write_volatile(reg);
        (phys_to_virt(IOAPIC_BASE + IOWIN) as *const u32).read_volatile()
    }
}

fn ioapic_write(reg: u32, value: u32) {
    // SAFETY: as in `ioapic_read`; the values written are the SDM's redirection-entry
    // layout for a pin this kernel owns.
    unsafe {
        (phys_to_virt(IOAPIC_BASE + IOREGSEL) as *mut u32).write_volatile(reg);
        (phys_to_virt(IOAPIC_BASE + IOWIN) as *mut u32).write_volatile(value);
    }
}

/// Sends IOAPIC pin `pin` (the card at physical `regs`) to [`VECTOR`] on this CPU.
/// Returns false (and routes nothing) if the IOAPIC has no such pin.
pub fn route(pin: u32, regs: u64) -> bool {
    let pins = ((ioapic_read(IOAPICVER) >> 16) & 0xff) + 1;
    if pin >= pins {
        crate::kprintln!("virtio-net: IRQ {pin} is not a pin of the IOAPIC ({pins} pins); polling only");
        return false;
    }
    CARD_REGS.store(phys_to_virt(regs), Ordering::SeqCst);
    // SAFETY: the local APIC's ID register in the direct map; reading it has no effect.
    let apic_id = unsafe { (phys_to_virt(LAPIC_ID) as *const u32).read_volatile() } >> 24;
    // Fixed delivery, physical destination, active high, edge-triggered, unmasked.
    ioapic_write(REDIRECTION + 2 * pin + 1, apic_id << 24);
    ioapic_write(REDIRECTION + 2 * pin, u32::from(VECTOR));
    true
}

/// The interrupt handler's part (src/traps.rs): clears the card's interrupt and ends
/// the APIC's.
pub fn interrupt() {
    let regs = CARD_REGS.load(Ordering::SeqCst);
    if regs != 0 {
        // A frame that completes between the read and the write keeps its bit set:
        // clear until none is left, so the line falls and the next frame rises it.
        for _ in 0..4 {
            // SAFETY: the transport's interrupt registers in the direct map; reading the
            // status and writing it back to ACK is virtio-mmio's acknowledgement.
            let status = unsafe { ((regs + INTERRUPT_STATUS) as *const u32).read_volatile() };
            if status == 0 {
                break;
            }
            // SAFETY: as above.
            unsafe { ((regs + INTERRUPT_ACK) as *mut u32).write_volatile(status) };
        }
    }
    apic::eoi();
}
