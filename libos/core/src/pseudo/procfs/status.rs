//! `/proc/<pid>/status`: the process in `Key:\tvalue` lines, in Linux 6.x's order.
//!
//! Identity, umask, memory, signal dispositions, capabilities and the CPU mask come
//! from the kernel and the platform. `SigBlk` is the empty set: the blocked mask
//! belongs to a thread, and a file has no calling thread to ask. `VmPTE` (page-table
//! size) and the speculation-mitigation lines are left out: the libOS does not know
//! them.

use alloc::vec::Vec;
use core::fmt::Write;

use super::memory::{measure, MemoryUse};
use crate::limits::RLIMIT_NLIMITS;
use crate::pseudo::format::{cpu_bitmap, cpu_list, text};
use crate::signal::{NSIG, SIG_DFL, SIG_IGN};
use crate::Kernel;

/// `RLIMIT_SIGPENDING`, the bound `SigQ` shows.
const RLIMIT_SIGPENDING: usize = 11;
const _: () = assert!(RLIMIT_SIGPENDING < RLIMIT_NLIMITS);

/// Every capability of Linux 6.x (`CAP_LAST_CAP` = 40): what root holds.
pub(super) const ALL_CAPS: u64 = (1 << 41) - 1;

/// The process's name (`comm`), up to its NUL.
pub(super) fn comm(k: &Kernel) -> Vec<u8> {
    let comm = *k.comm.lock();
    let len = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    comm[..len].to_vec()
}

/// Which signals are ignored and which are caught, as two masks (bit N-1 = signal N).
pub(super) fn signal_dispositions(k: &Kernel) -> (u64, u64) {
    let actions = k.signals.lock();
    let (mut ignored, mut caught) = (0u64, 0u64);
    for sig in 1..=NSIG as i32 {
        match actions.get(sig).map(|a| a.handler) {
            Some(SIG_DFL) | None => {}
            Some(SIG_IGN) => ignored |= 1 << (sig - 1),
            Some(_) => caught |= 1 << (sig - 1),
        }
    }
    (ignored, caught)
}

/// Linux's `FDSize`: the size of the fd array, 64 at first and then multiples of 128
/// that are powers of two, always above the highest fd in use.
fn fd_array_size(k: &Kernel) -> u64 {
    let highest = k.fds.lock().open_fds().last().map_or(0, |fd| fd as u64);
    if highest < 64 {
        64
    } else {
        128 * (highest / 128 + 1).next_power_of_two()
    }
}

fn kb(bytes: u64) -> u64 {
    bytes / 1024
}

/// The text of `status`.
pub(super) fn status(k: &'static Kernel) -> Vec<u8> {
    let id = k.identity;
    let name = comm(k);
    let mem: MemoryUse = measure(k);
    let (ignored, caught) = signal_dispositions(k);
    let caps = if id.uid == 0 { ALL_CAPS } else { 0 };
    let mask = k.platform.cpu_mask();
    let sigq_max = k.limits.lock().get(RLIMIT_SIGPENDING).rlim_cur;
    let mut out = b"Name:\t".to_vec();
    out.extend_from_slice(&name);
    out.extend(text(|s| {
        let _ = write!(s, "\nUmask:\t{:04o}\n", k.vfs.umask());
        s.push_str("State:\tR (running)\n");
        let _ = writeln!(s, "Tgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0", id.pid, id.pid, id.ppid);
        let _ = writeln!(s, "Uid:\t{0}\t{0}\t{0}\t{0}\nGid:\t{1}\t{1}\t{1}\t{1}", id.uid, id.gid);
        // Linux ends the (here empty) group list with a space.
        let _ = writeln!(s, "FDSize:\t{}\nGroups:\t ", fd_array_size(k));
        let _ = writeln!(s, "NStgid:\t{0}\nNSpid:\t{0}\nNSpgid:\t{0}\nNSsid:\t{0}\nKthread:\t0", id.pid);
        let vm = [
            ("VmPeak", mem.size),
            ("VmSize", mem.size),
            ("VmLck", 0),
            ("VmPin", 0),
            ("VmHWM", mem.rss()),
            ("VmRSS", mem.rss()),
            ("RssAnon", mem.rss_anon),
            ("RssFile", mem.rss_file),
            ("RssShmem", 0),
            ("VmData", mem.data),
            ("VmStk", mem.stack),
            ("VmExe", mem.exe()),
            ("VmLib", 0),
            ("VmSwap", 0),
        ];
        for (key, bytes) in vm {
            let _ = writeln!(s, "{}:\t{:>8} kB", key, kb(bytes));
        }
        s.push_str("HugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\n");
        s.push_str("untag_mask:\t0xffffffffffffffff\n");
        let _ = writeln!(s, "Threads:\t{}\nSigQ:\t0/{sigq_max}", k.threads.live());
        s.push_str("SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n");
        let _ = writeln!(s, "SigIgn:\t{ignored:016x}\nSigCgt:\t{caught:016x}");
        let _ = writeln!(s, "CapInh:\t0000000000000000\nCapPrm:\t{caps:016x}\nCapEff:\t{caps:016x}");
        let _ = writeln!(s, "CapBnd:\t{ALL_CAPS:016x}\nCapAmb:\t0000000000000000");
        s.push_str("NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
        let _ = writeln!(s, "Cpus_allowed:\t{}\nCpus_allowed_list:\t{}", cpu_bitmap(mask), cpu_list(mask));
        // One memory node, in a 1024-node mask as distribution kernels print it.
        s.push_str("Mems_allowed:\t");
        s.push_str(&"00000000,".repeat(31));
        s.push_str("00000001\nMems_allowed_list:\t0\n");
        s.push_str("voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
    }));
    out
}
