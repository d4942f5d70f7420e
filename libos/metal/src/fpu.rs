//! The guest's FPU, SSE and AVX state.
//!
//! With XSAVE (every CPU with AVX), the kernel turns on CR4.OSXSAVE and XCR0 = x87 |
//! SSE | AVX, so a guest that checks (as Rust's `is_x86_feature_detected!` and
//! ripgrep do) finds AVX and AVX2 usable as it would on Linux; the entry paths then
//! save and restore state with XSAVE/XRSTOR (standard format, 832 bytes). Without
//! XSAVE they use FXSAVE/FXRSTOR and the guest sees SSE only. AVX-512 state is not
//! enabled. Signal frames carry the legacy (FXSAVE) part only.

use core::sync::atomic::{AtomicU8, Ordering};

use crate::cpu::cpuid;

/// The save area's size: legacy region, XSAVE header, AVX's upper halves.
pub const AREA_SIZE: usize = 832;
const XSTATE_BV: usize = 512;
/// x87 | SSE | AVX.
const XCR0: u64 = 0b111;
const CR4_OSXSAVE: u64 = 1 << 18;

/// 1 when the entry paths use XSAVE (read by src/switch.s and src/vectors.s).
#[no_mangle]
static fpu_xsave: AtomicU8 = AtomicU8::new(0);

/// Turns XSAVE and AVX on when the CPU has them; says which.
pub fn init() -> &'static str {
    let ecx = cpuid(1, 0).ecx;
    let (xsave, avx) = (ecx & (1 << 26) != 0, ecx & (1 << 28) != 0);
    if !xsave {
        return "FXSAVE (no XSAVE): SSE only";
    }
    let supported = {
        let r = cpuid(0xd, 0);
        (u64::from(r.edx) << 32) | u64::from(r.eax)
    };
    let xcr0 = XCR0 & supported & if avx { 0b111 } else { 0b011 };
    // SAFETY: CR4.OSXSAVE exists when CPUID says XSAVE; XCR0 gets only bits the CPU
    // supports, x87 always among them.
    unsafe {
        core::arch::asm!(
            "mov {t}, cr4", "or {t}, {bit}", "mov cr4, {t}",
            t = out(reg) _, bit = in(reg) CR4_OSXSAVE, options(nostack, preserves_flags),
        );
        core::arch::asm!("xsetbv", in("ecx") 0, in("eax") xcr0 as u32, in("edx") (xcr0 >> 32) as u32, options(nostack));
    }
    fpu_xsave.store(1, Ordering::SeqCst);
    if xcr0 & 0b100 != 0 {
        "XSAVE with AVX"
    } else {
        "XSAVE (no AVX)"
    }
}

/// Marks the legacy region of an XSAVE area as holding state (XSTATE_BV's x87 and SSE
/// bits), so XRSTOR loads it rather than resetting those registers.
pub fn mark_legacy_valid(area: &mut [u8; AREA_SIZE]) {
    let mut bv = u64::from_le_bytes(area[XSTATE_BV..XSTATE_BV + 8].try_into().expect("8 bytes"));
    bv |= 0b11;
    area[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&bv.to_le_bytes());
}
