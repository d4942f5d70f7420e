//! `/sys`: the few sysfs files runtimes read.
//!
//! | file | value |
//! |---|---|
//! | `devices/system/cpu/{online,possible,present}` | the CPU list of `Platform::cpu_mask` (`0-3`) |
//! | `devices/system/cpu/cpuN/` | one directory per CPU in the mask |
//! | `kernel/mm/transparent_hugepage/enabled` | `always [madvise] never`, Linux's default |
//! | `kernel/mm/transparent_hugepage/hpage_pmd_size` | 2097152 |
//! | `fs/cgroup/` | the mount point of the cgroup v2 root (`cgroupfs.rs`) |
//!
//! The CPUs are the ones `sched_getaffinity` and `/proc/cpuinfo` report: the guest's
//! machine has exactly the CPUs it may run on. Files report a size of 4096, as sysfs
//! attributes do; writing is refused at open (EACCES).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::format::cpu_list;
use super::node::{fixed_dir, fixed_text, line_file, number, Named, PseudoFs, Superblock};
use crate::platform::Platform;
use crate::vfs::inode::magic;

/// A new `/sys`; `sb` gives its device number and times.
pub(crate) fn new(platform: &'static dyn Platform, sb: Superblock) -> Arc<PseudoFs> {
    let mask = platform.cpu_mask();
    let list = move || cpu_list(mask).into_bytes();
    let cpu = "/devices/system/cpu";
    let mut cpu_entries: Vec<Named> = alloc::vec![
        line_file(&sb, "/devices/system/cpu/online", 0o444, list),
        line_file(&sb, "/devices/system/cpu/possible", 0o444, list),
        line_file(&sb, "/devices/system/cpu/present", 0o444, list),
    ];
    for n in (0..64).filter(|c| mask & (1 << c) != 0) {
        cpu_entries.push(fixed_dir(&sb, &alloc::format!("{cpu}/cpu{n}"), 0o755, Vec::new()));
    }
    let devices = fixed_dir(
        &sb,
        "/devices",
        0o755,
        alloc::vec![fixed_dir(&sb, "/devices/system", 0o755, alloc::vec![fixed_dir(&sb, cpu, 0o755, cpu_entries)])],
    );
    let fs = fixed_dir(&sb, "/fs", 0o755, alloc::vec![fixed_dir(&sb, "/fs/cgroup", 0o755, Vec::new())]);
    let thp = "/kernel/mm/transparent_hugepage";
    let thp_dir = fixed_dir(
        &sb,
        thp,
        0o755,
        alloc::vec![
            line_file(&sb, &alloc::format!("{thp}/enabled"), 0o644, fixed_text(b"always [madvise] never")),
            line_file(&sb, &alloc::format!("{thp}/hpage_pmd_size"), 0o444, number(2 << 20)),
        ],
    );
    let kernel =
        fixed_dir(&sb, "/kernel", 0o755, alloc::vec![fixed_dir(&sb, "/kernel/mm", 0o755, alloc::vec![thp_dir])]);
    let root = fixed_dir(&sb, "", 0o555, alloc::vec![devices, fs, kernel]).1;
    Arc::new(PseudoFs { root, fs_type: "sysfs", magic: magic::SYSFS_MAGIC })
}
