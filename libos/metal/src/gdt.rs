//! The GDT, the TSS and the interrupt stacks.
//!
//! Every interrupt vector runs on an IST stack (src/idt.rs assigns them): the
//! precompiled `core` keeps data in the 128-byte red zone below RSP, which an interrupt
//! pushing onto the current stack would destroy. A vector's IST stack is reused from its
//! top on every entry, so a vector must not nest on its own stack; the fatal paths guard
//! against that (src/interrupt.rs), and vectors that can arrive during another's handler
//! (#DF, NMI, #MC, #PF, #GP) each have their own.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::mem::size_of;

/// Kernel code selector (the same as the boot GDT's, src/boot.s).
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data selector.
pub const KERNEL_DS: u16 = 0x10;
/// The TSS selector (a 16-byte system descriptor at entries 3 and 4).
const TSS_SELECTOR: u16 = 0x18;

/// IST slots (1-based, as in the IDT entry).
pub mod ist {
    pub const DOUBLE_FAULT: u8 = 1;
    pub const NMI: u8 = 2;
    pub const MACHINE_CHECK: u8 = 3;
    pub const PAGE_FAULT: u8 = 4;
    pub const GENERAL_PROTECTION: u8 = 5;
    pub const OTHER_EXCEPTION: u8 = 6;
    pub const EXTERNAL: u8 = 7;
}

const IST_STACK_SIZE: usize = 16 * 1024;
const IST_COUNT: usize = 7;

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_SIZE]);

/// The 64-bit TSS: only the IST pointers matter (no privilege changes, no I/O bitmap).
#[repr(C, packed(4))]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

struct CpuTables {
    gdt: [u64; 5],
    tss: Tss,
    stacks: [Stack; IST_COUNT],
}

/// Boot-CPU state written once by `init`, then read only by the CPU itself.
struct BootCell<T>(UnsafeCell<T>);

// SAFETY: written only by `init`, on the single boot CPU, before interrupts can use it;
// afterwards only the CPU reads the tables.
unsafe impl<T> Sync for BootCell<T> {}

static TABLES: BootCell<CpuTables> = BootCell(UnsafeCell::new(CpuTables {
    gdt: [0; 5],
    tss: Tss {
        reserved0: 0,
        rsp: [0; 3],
        reserved1: 0,
        ist: [0; 7],
        reserved2: 0,
        reserved3: 0,
        iomap_base: 0, // set by init (a zero initialiser keeps TABLES in .bss)
    },
    stacks: [const { Stack([0; IST_STACK_SIZE]) }; IST_COUNT],
}));

#[repr(C, packed(2))]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// Builds the GDT (code, data, TSS with the IST stacks), loads it, reloads the segment
/// registers and loads the task register.
///
/// # Safety
/// Call once, on the boot CPU, with interrupts disabled.
pub unsafe fn init() {
    // SAFETY: the caller guarantees a single call before any interrupt; no other
    // reference to TABLES exists.
    let t = unsafe { &mut *TABLES.0.get() };
    t.tss.iomap_base = size_of::<Tss>() as u16; // no I/O bitmap
    let mut ist = [0u64; IST_COUNT];
    for (slot, stack) in ist.iter_mut().zip(t.stacks.iter()) {
        *slot = stack.0.as_ptr_range().end as u64; // stacks grow down
    }
    t.tss.ist = ist; // a whole-field store: the packed TSS allows no references into it
    let tss = &raw const t.tss as u64;
    let limit = (size_of::<Tss>() - 1) as u64;
    t.gdt = [
        0,
        0x00af_9b00_0000_ffff, // 0x08: 64-bit code, ring 0
        0x00cf_9300_0000_ffff, // 0x10: data, ring 0
        // 0x18: available 64-bit TSS (type 9), present; base and limit split as the SDM says.
        (limit & 0xffff)
            | ((tss & 0xff_ffff) << 16)
            | (0x89 << 40)
            | ((limit & 0xf_0000) << 32)
            | ((tss & 0xff00_0000) << 32),
        tss >> 32,
    ];
    let ptr = DescriptorPointer { limit: (size_of::<[u64; 5]>() - 1) as u16, base: t.gdt.as_ptr() as u64 };
    // SAFETY: the GDT is static and valid; the far return reloads CS with the same flat
    // 64-bit code segment; data selectors and the TSS selector point at valid entries.
    unsafe {
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = const KERNEL_CS as u64,
            ds = in(reg) u64::from(KERNEL_DS),
            tss = in(reg) u64::from(TSS_SELECTOR),
            tmp = out(reg) _,
        );
    }
}
