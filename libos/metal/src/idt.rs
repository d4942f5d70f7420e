//! The IDT: all 256 vectors go to the stubs in src/vectors.s, each on an IST stack.

use crate::gdt::{ist, KERNEL_CS};
use core::arch::asm;
use core::cell::UnsafeCell;

extern "C" {
    /// The first of 256 entry stubs, each 16-byte aligned (src/vectors.s).
    static isr_stubs: u8;
    static isr_stubs_end: u8;
}

const STUB_SIZE: u64 = 16;

/// An interrupt gate (64-bit).
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

/// Present, DPL 0, 64-bit interrupt gate (IF cleared on entry).
const INTERRUPT_GATE: u8 = 0x8e;

impl Gate {
    const MISSING: Gate =
        Gate { offset_low: 0, selector: 0, ist: 0, type_attr: 0, offset_mid: 0, offset_high: 0, reserved: 0 };

    fn new(handler: u64, ist: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: KERNEL_CS,
            ist,
            type_attr: INTERRUPT_GATE,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

#[repr(C, align(16))]
struct Idt([Gate; 256]);

struct IdtCell(UnsafeCell<Idt>);

// SAFETY: written only by `init` on the boot CPU with interrupts disabled; afterwards
// only the CPU reads it.
unsafe impl Sync for IdtCell {}

static IDT: IdtCell = IdtCell(UnsafeCell::new(Idt([Gate::MISSING; 256])));

/// The IST stack each vector runs on (src/gdt.rs explains why every vector has one).
fn ist_for(vector: u8) -> u8 {
    match vector {
        2 => ist::NMI,
        8 => ist::DOUBLE_FAULT,
        13 => ist::GENERAL_PROTECTION,
        14 => ist::PAGE_FAULT,
        18 => ist::MACHINE_CHECK,
        0..=31 => ist::OTHER_EXCEPTION,
        _ => ist::EXTERNAL,
    }
}

#[repr(C, packed(2))]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// Fills and loads the IDT.
///
/// # Safety
/// Call once, on the boot CPU, with interrupts disabled, after `gdt::init` (the gates
/// name its code selector and IST slots).
pub unsafe fn init() {
    // Only the symbols' addresses are taken (no unsafe needed for `&raw const`).
    let (base, end) = (&raw const isr_stubs as u64, &raw const isr_stubs_end as u64);
    assert_eq!(end - base, 256 * STUB_SIZE, "interrupt stubs are not 16 bytes each");
    // SAFETY: the caller guarantees a single call before any interrupt; no other
    // reference to IDT exists.
    let idt = unsafe { &mut *IDT.0.get() };
    for (vector, gate) in idt.0.iter_mut().enumerate() {
        *gate = Gate::new(base + vector as u64 * STUB_SIZE, ist_for(vector as u8));
    }
    let ptr = DescriptorPointer { limit: (core::mem::size_of::<Idt>() - 1) as u16, base: idt as *const Idt as u64 };
    // SAFETY: the IDT is static, fully populated, and its gates point at valid stubs.
    unsafe { asm!("lidt [{}]", in(reg) &ptr, options(readonly, nostack, preserves_flags)) }
}
