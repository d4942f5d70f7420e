//! `/proc/sys`: the sysctls programs read, with Linux's values for this machine.
//!
//! | file | value |
//! |---|---|
//! | `fs/nr_open` | 1048576, the ceiling `setrlimit(RLIMIT_NOFILE)` enforces |
//! | `fs/file-max` | Linux's 64-bit default, no system-wide limit |
//! | `kernel/hostname`, `domainname`, `ostype`, `osrelease` | what `uname` says |
//! | `kernel/pid_max` | 4194304, the 64-bit maximum |
//! | `kernel/threads-max` | Linux's formula: RAM / (8 × 16 KiB stacks) |
//! | `kernel/cap_last_cap` | 40, the capabilities `status` lists |
//! | `kernel/random/boot_id` | one UUID per boot; `uuid` a new one per read |
//! | `kernel/random/entropy_avail` | 256, what Linux ≥ 5.18 always says |
//! | `vm/overcommit_memory` | 0, heuristic overcommit (what the memory map does) |
//!
//! Writing is refused at open (EACCES), as for an unprivileged process.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::ProcShared;
use crate::pseudo::format::uuid_v4;
use crate::pseudo::node::{fixed_dir, fixed_text, line_file, number};
use crate::vfs::inode::Inode;
use crate::Kernel;

/// A utsname field up to its NUL.
fn uts_field(field: &[u8; 65]) -> Vec<u8> {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field[..len].to_vec()
}

/// Linux's `threads-max` for `total_ram` bytes: one eighth of memory in 16 KiB
/// kernel stacks, between 20 and `FUTEX_TID_MASK`.
fn threads_max(total_ram: u64) -> u64 {
    (total_ram / (16 * 1024 * 8)).clamp(20, 0x3fff_ffff)
}

/// `/proc/sys`.
pub(super) fn dir_tree(shared: &Arc<ProcShared>, k: &'static Kernel) -> Arc<dyn Inode> {
    let sb = &shared.sb;
    let uts = crate::ident::uname(&k.host);
    let platform = shared.platform;
    let uuid = move || {
        let mut random = [0u8; 16];
        platform.fill_random(&mut random);
        uuid_v4(random).into_bytes()
    };
    let fs = fixed_dir(
        sb,
        "/sys/fs",
        0o555,
        alloc::vec![
            line_file(sb, "/sys/fs/file-max", 0o644, number(i64::MAX as u64)),
            line_file(sb, "/sys/fs/nr_open", 0o644, number(1 << 20)),
        ],
    );
    let random = fixed_dir(
        sb,
        "/sys/kernel/random",
        0o555,
        alloc::vec![
            line_file(sb, "/sys/kernel/random/boot_id", 0o444, fixed_text(shared.boot_id.as_bytes())),
            line_file(sb, "/sys/kernel/random/entropy_avail", 0o444, number(256)),
            line_file(sb, "/sys/kernel/random/uuid", 0o444, uuid),
        ],
    );
    let kernel = fixed_dir(
        sb,
        "/sys/kernel",
        0o555,
        alloc::vec![
            line_file(sb, "/sys/kernel/cap_last_cap", 0o444, number(40)),
            line_file(sb, "/sys/kernel/domainname", 0o644, fixed_text(&uts_field(&uts.domainname))),
            line_file(sb, "/sys/kernel/hostname", 0o644, fixed_text(&uts_field(&uts.nodename))),
            line_file(sb, "/sys/kernel/osrelease", 0o444, fixed_text(&uts_field(&uts.release))),
            line_file(sb, "/sys/kernel/ostype", 0o444, fixed_text(&uts_field(&uts.sysname))),
            line_file(sb, "/sys/kernel/pid_max", 0o644, number(4_194_304)),
            random,
            line_file(sb, "/sys/kernel/threads-max", 0o644, number(threads_max(k.host.total_ram))),
        ],
    );
    let vm = fixed_dir(sb, "/sys/vm", 0o555, alloc::vec![line_file(sb, "/sys/vm/overcommit_memory", 0o644, number(0))]);
    fixed_dir(sb, "/sys", 0o555, alloc::vec![fs, kernel, vm]).1
}

#[cfg(test)]
mod tests {
    use super::threads_max;

    #[test]
    fn threads_max_follows_linux() {
        // An 8 GiB machine: 65536, as Linux computes it.
        assert_eq!(threads_max(8 << 30), 65_536);
        assert_eq!(threads_max(0), 20);
        assert_eq!(threads_max(u64::MAX), 0x3fff_ffff);
    }
}
