//! `/proc/<pid>/stat` and `/proc/<pid>/statm`: the process in one line of numbers.
//!
//! CPU time is the platform's process CPU clock, all counted as user time (the libOS
//! does not split user from system time); times are in clock ticks of 100 Hz
//! (`AT_CLKTCK`). The start time is `CLOCK_BOOTTIME` when the kernel started. The
//! process is its own process group and session leader with no terminal (as
//! `getpgid`/`getsid` say). The fields Linux prints only to the process itself and
//! that the libOS does not record (where argv and the environment lie) are 0.

use alloc::vec::Vec;
use core::fmt::Write;

use super::memory::measure;
use super::status::{comm, signal_dispositions};
use crate::abi::Timespec;
use crate::mm::PAGE_SIZE;
use crate::pseudo::format::text;
use crate::time::ClockId;
use crate::Kernel;

/// Clock ticks per second (`USER_HZ`, `AT_CLKTCK`).
pub(super) const HZ: u64 = 100;

/// `t` in clock ticks.
pub(super) fn ticks(t: Timespec) -> u64 {
    t.to_nanos().unwrap_or(0) / (1_000_000_000 / HZ)
}

/// `RLIMIT_RSS`, which `stat` shows as `rsslim`.
const RLIMIT_RSS: usize = 5;

/// The text of `stat`.
pub(super) fn stat(k: &'static Kernel) -> Vec<u8> {
    let id = k.identity;
    let mem = measure(k);
    let (ignored, caught) = signal_dispositions(k);
    let cpu_time = ticks(k.platform.now(ClockId::ProcessCputime));
    let start = ticks(k.started);
    let rsslim = k.limits.lock().get(RLIMIT_RSS).rlim_cur;
    let processor = k.platform.cpu_mask().trailing_zeros().min(63);
    let mut out = alloc::format!("{} (", id.pid).into_bytes();
    out.extend_from_slice(&comm(k));
    out.extend(text(|s| {
        // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
        let _ = write!(s, ") R {} {} {} 0 -1 0 0 0 0 0 ", id.ppid, id.pid, id.pid);
        // utime stime cutime cstime priority nice num_threads itrealvalue starttime
        let _ = write!(s, "{cpu_time} 0 0 0 20 0 1 0 {start} ");
        // vsize rss rsslim startcode endcode startstack kstkesp kstkeip
        let _ = write!(s, "{} {} {} ", mem.size, mem.rss() / PAGE_SIZE, rsslim);
        let _ = write!(s, "{} {} {} 0 0 ", mem.code.0, mem.code.1, mem.stack_top);
        // signal blocked sigignore sigcatch wchan nswap cnswap exit_signal processor
        let _ = write!(s, "0 0 {ignored} {caught} 0 0 0 17 {processor} ");
        // rt_priority policy delayacct_blkio_ticks guest_time cguest_time
        s.push_str("0 0 0 0 0 ");
        // start_data end_data start_brk arg_start arg_end env_start env_end exit_code
        let _ = writeln!(s, "{} {} {} 0 0 0 0 0", mem.data_segment.0, mem.data_segment.1, mem.brk_start);
    }));
    out
}

/// The text of `statm`: size, resident, shared, text, lib, data, dt, in pages.
pub(super) fn statm(k: &'static Kernel) -> Vec<u8> {
    let mem = measure(k);
    let pages = |bytes: u64| bytes.div_ceil(PAGE_SIZE);
    alloc::format!(
        "{} {} {} {} 0 {} 0\n",
        pages(mem.size),
        pages(mem.rss()),
        pages(mem.rss_file),
        pages(mem.exe()),
        pages(mem.data + mem.stack)
    )
    .into_bytes()
}
