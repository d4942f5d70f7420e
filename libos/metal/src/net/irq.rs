//! The card's interrupt: "frames came" while the CPU had nothing else to do.
//!
//! Linux's NAPI scheme: the card interrupts only while the idle task halts (it turns
//! receive interrupts on just before, virtio_net.rs), so a frame ends the halt at once;
//! while guest code runs, frames wait in the ring for the next point that looks at it
//! (the thread's next readiness wait or socket call, or the timer tick; with one CPU a
//! thread waiting for the frame could not run before one of those anyway). Under TCG an
//! interrupt, its EOI and a poll per frame were most of a small request's cost.
//!
//! microvm wires each virtio-mmio transport to a pin of its IOAPIC (the `:IRQ` of the
//! `virtio_mmio.device=` argument). [`route`] points that pin at [`VECTOR`] on this CPU
//! (src/ioapic.rs), edge-triggered: the transport raises its line while its interrupt
//! status is non-zero, and [`interrupt`] writes the status back to clear it, so the
//! next frame makes a new edge. The handler marks ingress due ([`super::INGRESS_DUE`])
//! and does nothing else: it runs on a 16 KiB interrupt stack, no place to poll smoltcp
//! from; the idle loop polls when the halt ends.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::apic;
use crate::paging::phys_to_virt;

/// The vector the card interrupts on (the timer has 0x20).
pub const VECTOR: u8 = 0x30;

/// virtio-mmio's InterruptStatus and InterruptACK registers.
const INTERRUPT_STATUS: u64 = 0x60;
const INTERRUPT_ACK: u64 = 0x64;

/// The transport's registers (direct-map address; 0: no card).
static CARD_REGS: AtomicU64 = AtomicU64::new(0);

/// Sends IOAPIC pin `pin` (the card at physical `regs`) to [`VECTOR`] on this CPU.
/// False (and polling only) when the IOAPIC has no such pin.
pub fn route(pin: u32, regs: u64) -> bool {
    CARD_REGS.store(phys_to_virt(regs), Ordering::SeqCst);
    if !crate::ioapic::route(pin, VECTOR) {
        crate::kprintln!("virtio-net: IRQ {pin} is not a pin of the I/O APIC; polling only");
        return false;
    }
    true
}

/// The interrupt handler's part (src/traps.rs): clears the card's interrupt, ends the
/// APIC's and marks ingress due.
pub fn interrupt() {
    super::INGRESS_DUE.store(true, Ordering::SeqCst);
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
