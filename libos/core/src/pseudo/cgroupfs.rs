//! `/sys/fs/cgroup`: a cgroup v2 root holding the process, with no limits.
//!
//! Runtimes size their thread pools from it (Rust's `available_parallelism` reads
//! `/proc/self/cgroup`, finds `0::/`, and reads `cpu.max` here), so it says what is
//! true of the guest: no CPU quota, no memory or pid limit beyond the machine's, the
//! CPUs of `sched_getaffinity`. It is its own `cgroup2` mount, which
//! `/proc/self/mountinfo` lists. Files are read-only (EACCES on open for writing).
//!
//! | file | value |
//! |---|---|
//! | `cgroup.controllers` | `cpuset cpu memory pids`: the controllers with files here |
//! | `cgroup.procs` | the process's pid |
//! | `cpu.max` | `max 100000`: no quota, the default period |
//! | `cpu.weight` | 100, the default |
//! | `cpuset.cpus.effective` | the CPU list |
//! | `memory.max`, `pids.max` | `max` |

use alloc::sync::Arc;

use super::format::cpu_list;
use super::node::{fixed_dir, fixed_text, line_file, number, PseudoFs, Superblock};
use crate::platform::Platform;

/// `CGROUP2_SUPER_MAGIC`.
pub(crate) const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// A new cgroup v2 root for `platform`'s process.
pub(crate) fn new(platform: &'static dyn Platform, sb: Superblock) -> Arc<PseudoFs> {
    let mask = platform.cpu_mask();
    let pid = platform.host_info().pid;
    let entries = alloc::vec![
        line_file(&sb, "/cgroup.controllers", 0o444, fixed_text(b"cpuset cpu memory pids")),
        line_file(&sb, "/cgroup.procs", 0o644, number(u64::from(pid))),
        line_file(&sb, "/cpu.max", 0o644, fixed_text(b"max 100000")),
        line_file(&sb, "/cpu.weight", 0o644, number(100)),
        line_file(&sb, "/cpuset.cpus.effective", 0o444, move || cpu_list(mask).into_bytes()),
        line_file(&sb, "/memory.max", 0o644, fixed_text(b"max")),
        line_file(&sb, "/pids.max", 0o644, fixed_text(b"max")),
    ];
    let root = fixed_dir(&sb, "", 0o755, entries).1;
    Arc::new(PseudoFs { root, fs_type: "cgroup2", magic: CGROUP2_SUPER_MAGIC })
}
