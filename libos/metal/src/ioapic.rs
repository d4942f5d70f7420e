//! The I/O APIC: routes the serial ports' interrupt line (ISA IRQ 4: COM1 and COM3) to
//! the boot CPU, so input from unify (the guest's stdin, control lines) is taken when it
//! arrives rather than at the next timer tick — the UART holds only 16 bytes, so a
//! piped stdin read tick by tick would crawl.

use crate::paging::phys_to_virt;

/// microvm's (and the PC's) I/O APIC.
const IOAPIC_BASE: u64 = 0xfec0_0000;
const IOREGSEL: u64 = 0x00;
const IOWIN: u64 = 0x10;
const IOAPICVER: u32 = 0x01;
const IOREDTBL: u32 = 0x10;

/// The vector serial input arrives on.
pub const SERIAL_VECTOR: u8 = 0x24;
/// ISA IRQ of COM1 and COM3 (identity-mapped to GSI 4 on microvm, edge, active high).
const SERIAL_IRQ: u32 = 4;

fn write(reg: u32, value: u32) {
    // SAFETY: the I/O APIC's index and data registers, in the direct map; the values
    // are a redirection entry the SDM/82093AA datasheet defines.
    unsafe {
        (phys_to_virt(IOAPIC_BASE + IOREGSEL) as *mut u32).write_volatile(reg);
        (phys_to_virt(IOAPIC_BASE + IOWIN) as *mut u32).write_volatile(value);
    }
}

fn read(reg: u32) -> u32 {
    // SAFETY: as above; reads have no side effects.
    unsafe {
        (phys_to_virt(IOAPIC_BASE + IOREGSEL) as *mut u32).write_volatile(reg);
        (phys_to_virt(IOAPIC_BASE + IOWIN) as *const u32).read_volatile()
    }
}

/// Routes IRQ 4 to [`SERIAL_VECTOR`] on CPU 0 (APIC id 0), fixed delivery, edge.
/// Returns false when no I/O APIC answers (then input is polled every tick).
pub fn route_serial() -> bool {
    let version = read(IOAPICVER);
    if version == u32::MAX || version == 0 {
        return false;
    }
    let entry = IOREDTBL + 2 * SERIAL_IRQ;
    write(entry + 1, 0); // destination: APIC id 0
    write(entry, u32::from(SERIAL_VECTOR)); // fixed, physical, active high, edge, unmasked
    true
}

/// Routes pin `pin` to `vector` on CPU 0 (APIC id 0), fixed delivery, active high,
/// edge-triggered: a device's line (src/net/irq.rs: virtio-net's). False when no I/O
/// APIC answers or it has no such pin.
pub fn route(pin: u32, vector: u8) -> bool {
    let version = read(IOAPICVER);
    if version == u32::MAX || version == 0 || pin > (version >> 16) & 0xff {
        return false;
    }
    let entry = IOREDTBL + 2 * pin;
    write(entry + 1, 0);
    write(entry, u32::from(vector));
    true
}
