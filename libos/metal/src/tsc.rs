//! The TSC's frequency: from CPUID when the CPU states it (leaf 0x15 with the crystal
//! clock, or leaf 0x16's base frequency, or the hypervisor leaf 0x4000_0010), otherwise
//! measured against the PIT. QEMU's TCG states none of these, so it is measured there.

use crate::cpu::{cpuid, max_leaf};
use crate::pit;

/// How long the PIT measurement runs: a short window keeps boot fast, and TCG reads
/// the emulated PIT from the host clock, so 2 ms gives well under 0.1% error.
const CALIBRATION_MS: u64 = 2;

/// Where the frequency came from.
#[derive(Clone, Copy)]
pub enum Source {
    Cpuid15,
    Cpuid16,
    Hypervisor,
    Pit { ms: u64 },
}

/// The TSC frequency in Hz and its source, or None if nothing gives it.
pub fn frequency() -> Option<(u64, Source)> {
    from_cpuid()
        .or_else(from_hypervisor)
        .or_else(|| pit::measure_tsc_hz(CALIBRATION_MS).map(|hz| (hz, Source::Pit { ms: CALIBRATION_MS })))
}

impl core::fmt::Display for Source {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            Source::Cpuid15 => f.write_str("CPUID leaf 0x15"),
            Source::Cpuid16 => f.write_str("CPUID leaf 0x16"),
            Source::Hypervisor => f.write_str("hypervisor CPUID leaf 0x40000010"),
            Source::Pit { ms } => write!(f, "measured against the PIT over {ms} ms"),
        }
    }
}

fn from_cpuid() -> Option<(u64, Source)> {
    let max = max_leaf();
    if max >= 0x15 {
        let l = cpuid(0x15, 0);
        let (denominator, numerator, crystal_hz) = (u64::from(l.eax), u64::from(l.ebx), u64::from(l.ecx));
        if denominator != 0 && numerator != 0 && crystal_hz != 0 {
            return Some((crystal_hz * numerator / denominator, Source::Cpuid15));
        }
    }
    if max >= 0x16 {
        let base_mhz = u64::from(cpuid(0x16, 0).eax & 0xffff);
        if base_mhz != 0 {
            return Some((base_mhz * 1_000_000, Source::Cpuid16));
        }
    }
    None
}

/// The "timing information" leaf hypervisors (VMware, QEMU/KVM with vmware-cpuid-freq)
/// put at 0x4000_0010: EAX = TSC kHz.
fn from_hypervisor() -> Option<(u64, Source)> {
    const HYPERVISOR_PRESENT: u32 = 1 << 31;
    if cpuid(1, 0).ecx & HYPERVISOR_PRESENT == 0 || cpuid(0x4000_0000, 0).eax < 0x4000_0010 {
        return None;
    }
    let khz = u64::from(cpuid(0x4000_0010, 0).eax);
    (khz != 0).then_some((khz * 1000, Source::Hypervisor))
}
