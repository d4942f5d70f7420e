//! Small wrappers over CPU instructions and registers.

use core::arch::asm;
use core::arch::x86_64::{__cpuid_count, CpuidResult};

/// The time-stamp counter.
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc only reads the counter (CR4.TSD is clear: we never set it).
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// CPUID leaf `leaf`, sub-leaf `sub`.
#[allow(unused_unsafe)] // `__cpuid_count` is an unsafe fn on older toolchains
pub fn cpuid(leaf: u32, sub: u32) -> CpuidResult {
    // SAFETY: every x86-64 CPU has CPUID; an unsupported leaf returns data, not a fault.
    unsafe { __cpuid_count(leaf, sub) }
}

/// The highest basic CPUID leaf.
pub fn max_leaf() -> u32 {
    cpuid(0, 0).eax
}

/// The highest extended CPUID leaf (0x8000_00xx).
pub fn max_extended_leaf() -> u32 {
    cpuid(0x8000_0000, 0).eax
}

/// The control and fault registers an exception report shows.
#[derive(Clone, Copy)]
pub struct ControlRegs {
    pub cr0: u64,
    pub cr2: u64,
    pub cr3: u64,
    pub cr4: u64,
}

/// Reads CR0, CR2, CR3 and CR4.
pub fn control_regs() -> ControlRegs {
    let (cr0, cr2, cr3, cr4): (u64, u64, u64, u64);
    // SAFETY: reading control registers in ring 0 has no side effects.
    unsafe {
        asm!(
            "mov {0}, cr0", "mov {1}, cr2", "mov {2}, cr3", "mov {3}, cr4",
            out(reg) cr0, out(reg) cr2, out(reg) cr3, out(reg) cr4,
            options(nomem, nostack, preserves_flags),
        );
    }
    ControlRegs { cr0, cr2, cr3, cr4 }
}

/// Reads the model-specific register `msr`.
///
/// # Safety
/// `msr` must exist on this CPU (a missing MSR raises #GP).
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: the caller guarantees the MSR exists; rdmsr reads no memory.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Writes the model-specific register `msr`.
///
/// # Safety
/// `msr` must exist on this CPU and `value` must be valid for it; what the write changes
/// is the caller's responsibility.
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: the caller's contract.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack, preserves_flags))
    }
}

/// The EFER MSR (present on every CPU with long mode, which we run in).
pub const MSR_EFER: u32 = 0xc000_0080;
