//! `/proc/cpuinfo`: one block per CPU the process may run on.
//!
//! The CPUs are those of `Platform::cpu_mask` (what `sched_getaffinity` returns), on
//! one socket with one thread per core. What each CPU is comes from the platform's
//! `CPUID` ([`Platform::cpuid`]): vendor, family, model, name, stepping, base
//! frequency (leaf 0x16, when the CPU reports it), cache size (Intel: the largest
//! cache level; others: L2, as Linux reports), feature flags, `CLFLUSH` line size and
//! address sizes. A platform that cannot run `CPUID` gets the blocks without them.
//! Per-CPU values Linux reads from the hardware of each CPU (microcode revision,
//! APIC ids, the measured MHz, bogomips, bugs) are not shown.
//!
//! [`Platform::cpuid`]: crate::platform::Platform::cpuid

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::cpuinfo_flags::FLAG_WORDS;
use crate::platform::Platform;
use crate::pseudo::format::text;
use crate::Kernel;

/// What `CPUID` says about the CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CpuDescription {
    pub vendor: String,
    pub family: u32,
    pub model: u32,
    pub stepping: u32,
    pub name: String,
    pub max_leaf: u32,
    pub mhz: Option<u32>,
    pub cache_kb: Option<u32>,
    pub flags: Vec<&'static str>,
    pub clflush: u32,
    pub address_sizes: Option<(u32, u32)>,
}

/// Bytes of registers as text, NULs and padding dropped.
fn register_text(regs: &[u32]) -> String {
    let bytes: Vec<u8> = regs.iter().flat_map(|r| r.to_le_bytes()).filter(|&b| b != 0).collect();
    String::from_utf8_lossy(&bytes).trim().into()
}

impl CpuDescription {
    /// Reads the description through `cpuid`; `None` if the platform has no `CPUID`.
    pub fn read(platform: &dyn Platform) -> Option<CpuDescription> {
        let [max_leaf, b, c, d] = platform.cpuid(0, 0)?;
        let vendor = register_text(&[b, d, c]);
        let max_ext = platform.cpuid(0x8000_0000, 0).map_or(0, |r| r[0]);
        let leaf = |l: u32, s: u32| {
            let max = if l >= 0x8000_0000 { max_ext } else { max_leaf };
            if l <= max {
                platform.cpuid(l, s)
            } else {
                None
            }
        };
        let [sig, misc, ..] = leaf(1, 0).unwrap_or_default();
        let base_family = (sig >> 8) & 0xf;
        let family = if base_family == 0xf { base_family + ((sig >> 20) & 0xff) } else { base_family };
        let base_model = (sig >> 4) & 0xf;
        let model =
            if base_family == 0x6 || base_family == 0xf { base_model | ((sig >> 12) & 0xf0) } else { base_model };
        let name = match (leaf(0x8000_0002, 0), leaf(0x8000_0003, 0), leaf(0x8000_0004, 0)) {
            (Some(a), Some(b), Some(c)) => register_text(&[a, b, c].concat()),
            _ => String::new(),
        };
        let flags = FLAG_WORDS
            .iter()
            .filter_map(|w| leaf(w.leaf, w.subleaf).map(|r| (w, r[w.register])))
            .flat_map(|(w, bits)| (0..32).filter(move |i| bits & (1 << i) != 0).map(move |i| w.names[i]))
            .filter(|n| !n.is_empty())
            .collect();
        Some(CpuDescription {
            cache_kb: cache_kb(&vendor, &leaf),
            vendor,
            family,
            model,
            stepping: sig & 0xf,
            name,
            max_leaf,
            mhz: leaf(0x16, 0).map(|r| r[0] & 0xffff).filter(|&m| m != 0),
            flags,
            clflush: ((misc >> 8) & 0xff) * 8,
            address_sizes: leaf(0x8000_0008, 0).map(|r| (r[0] & 0xff, (r[0] >> 8) & 0xff)),
        })
    }
}

/// The cache size Linux shows: on Intel the largest level `CPUID` 4 enumerates, on
/// other vendors the L2 size of leaf 0x80000006.
fn cache_kb(vendor: &str, leaf: &dyn Fn(u32, u32) -> Option<[u32; 4]>) -> Option<u32> {
    if vendor == "GenuineIntel" {
        let mut best: Option<(u32, u32)> = None;
        for sub in 0..16 {
            let [a, b, c, _] = leaf(4, sub)?;
            if a & 0x1f == 0 {
                break;
            }
            let level = (a >> 5) & 7;
            let bytes = (((b >> 22) & 0x3ff) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * (c + 1);
            if best.is_none_or(|(l, _)| level >= l) {
                best = Some((level, bytes / 1024));
            }
        }
        best.map(|(_, kb)| kb)
    } else {
        leaf(0x8000_0006, 0).map(|r| r[2] >> 16).filter(|&kb| kb != 0)
    }
}

/// The text of `cpuinfo`.
pub(super) fn cpuinfo(k: &'static Kernel) -> Vec<u8> {
    let mask = k.platform.cpu_mask();
    let count = mask.count_ones();
    let desc = CpuDescription::read(k.platform);
    text(|s| {
        for (core, cpu) in (0..64u32).filter(|c| mask & (1 << c) != 0).enumerate() {
            let _ = writeln!(s, "processor\t: {cpu}");
            if let Some(d) = &desc {
                let _ = writeln!(s, "vendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}", d.vendor, d.family, d.model);
                let _ = writeln!(s, "model name\t: {}\nstepping\t: {}", d.name, d.stepping);
                if let Some(mhz) = d.mhz {
                    let _ = writeln!(s, "cpu MHz\t\t: {mhz}.000");
                }
                if let Some(kb) = d.cache_kb {
                    let _ = writeln!(s, "cache size\t: {kb} KB");
                }
            }
            let _ = writeln!(s, "physical id\t: 0\nsiblings\t: {count}\ncore id\t\t: {core}\ncpu cores\t: {count}");
            if let Some(d) = &desc {
                let fpu = if d.flags.contains(&"fpu") { "yes" } else { "no" };
                let _ =
                    writeln!(s, "fpu\t\t: {fpu}\nfpu_exception\t: {fpu}\ncpuid level\t: {}\nwp\t\t: yes", d.max_leaf);
                let _ = writeln!(s, "flags\t\t: {}", d.flags.join(" "));
                let _ = writeln!(s, "clflush size\t: {}\ncache_alignment\t: {}", d.clflush, d.clflush);
                if let Some((phys, virt)) = d.address_sizes {
                    let _ = writeln!(s, "address sizes\t: {phys} bits physical, {virt} bits virtual");
                }
            }
            s.push_str("power management:\n\n");
        }
    })
}
