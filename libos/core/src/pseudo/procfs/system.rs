//! The machine-wide files at the top of `/proc`: `meminfo`, `stat`, `uptime`,
//! `loadavg`, `version`, `filesystems`.
//!
//! They agree with the syscalls: memory with `sysinfo` (the kernel's `HostInfo`),
//! uptime with `sysinfo` (`CLOCK_BOOTTIME`), the CPUs with `sched_getaffinity`, the
//! load (0) and process count (1) with `sysinfo`. CPU time is modelled as the guest
//! sees its machine: the process's CPU time is the only busy time, the rest of
//! `uptime × CPUs` is idle.

use alloc::vec::Vec;
use core::fmt::Write;

use super::stat::{ticks, HZ};
use crate::abi::Timespec;
use crate::pseudo::format::text;
use crate::time::ClockId;
use crate::Kernel;

/// `meminfo`: the lines Linux prints whose values the kernel knows. `MemAvailable`
/// is the free memory (nothing is reclaimable), there is no swap and no page cache.
pub(super) fn meminfo(k: &'static Kernel) -> Vec<u8> {
    let host = &k.host;
    let kb = |bytes: u64| bytes / 1024;
    let lines = [
        ("MemTotal", kb(host.total_ram)),
        ("MemFree", kb(host.free_ram)),
        ("MemAvailable", kb(host.free_ram)),
        ("Buffers", 0),
        ("Cached", 0),
        ("SwapCached", 0),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Shmem", 0),
    ];
    text(|s| {
        for (key, value) in lines {
            let label = alloc::format!("{key}:");
            let _ = writeln!(s, "{label:<16}{value:>8} kB");
        }
        for key in ["HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"] {
            let label = alloc::format!("{key}:");
            let _ = writeln!(s, "{label:<16}{:>8}", 0);
        }
        let _ = writeln!(s, "{:<16}{:>8} kB", "Hugepagesize:", 2048);
        let _ = writeln!(s, "{:<16}{:>8} kB", "Hugetlb:", 0);
    })
}

/// Time since boot, as `sysinfo` and `/proc/uptime` report it.
fn uptime_now(k: &Kernel) -> Timespec {
    k.platform.now(ClockId::Boottime)
}

/// The busy and idle clock ticks of the whole machine since boot.
fn cpu_ticks(k: &Kernel, cpus: u64) -> (u64, u64) {
    let busy = ticks(k.platform.now(ClockId::ProcessCputime));
    let total = ticks(uptime_now(k)) * cpus;
    (busy, total.saturating_sub(busy))
}

/// `uptime`: seconds since boot and idle CPU-seconds, with two decimals.
pub(super) fn uptime(k: &'static Kernel) -> Vec<u8> {
    let cpus = u64::from(k.platform.cpu_mask().count_ones().max(1));
    let up = uptime_now(k);
    let (_, idle) = cpu_ticks(k, cpus);
    alloc::format!("{}.{:02} {}.{:02}\n", up.tv_sec, up.tv_nsec / 10_000_000, idle / HZ, idle % HZ).into_bytes()
}

/// `loadavg`: no load (as `sysinfo` says), one running thread of one, and the last pid
/// handed out, the process's own.
pub(super) fn loadavg(k: &'static Kernel) -> Vec<u8> {
    alloc::format!("0.00 0.00 0.00 1/1 {}\n", k.identity.pid).into_bytes()
}

/// `stat`: CPU times (all, then per CPU in the mask), counters, and the boot time.
pub(super) fn stat(k: &'static Kernel) -> Vec<u8> {
    let mask = k.platform.cpu_mask();
    let cpus = u64::from(mask.count_ones().max(1));
    let (busy, idle) = cpu_ticks(k, cpus);
    let boot = k.platform.now(ClockId::Realtime).tv_sec - uptime_now(k).tv_sec;
    text(|s| {
        let _ = writeln!(s, "cpu  {busy} 0 0 {idle} 0 0 0 0 0 0");
        for (i, cpu) in (0..64).filter(|c| mask & (1 << c) != 0).enumerate() {
            // Spread evenly; the first CPUs take the remainders.
            let share = |total: u64| total / cpus + u64::from((i as u64) < total % cpus);
            let _ = writeln!(s, "cpu{cpu} {} 0 0 {} 0 0 0 0 0 0", share(busy), share(idle));
        }
        s.push_str("intr 0\nctxt 0\n");
        let _ = writeln!(s, "btime {boot}");
        s.push_str("processes 1\nprocs_running 1\nprocs_blocked 0\n");
        s.push_str("softirq 0 0 0 0 0 0 0 0 0 0 0\n");
    })
}

/// `version`: the kernel release and build string `uname` reports.
pub(super) fn version(k: &'static Kernel) -> Vec<u8> {
    let uts = crate::ident::uname(&k.host);
    let field = |f: &[u8; 65]| {
        let len = f.iter().position(|&b| b == 0).unwrap_or(f.len());
        alloc::string::String::from_utf8_lossy(&f[..len]).into_owned()
    };
    alloc::format!("Linux version {} (unify) {}\n", field(&uts.release), field(&uts.version)).into_bytes()
}

/// `filesystems`: the filesystem types the namespace is built from.
pub(super) fn filesystems(_k: &'static Kernel) -> Vec<u8> {
    b"nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tcgroup2\n\tvfat\n".to_vec()
}
