//! `/proc/<pid>/mountinfo` and `/proc/<pid>/mounts` (`/proc/mounts` links to the
//! latter): the mount table, from the namespace.
//!
//! ```text
//! mountinfo: 22 1 0:33 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
//! mounts:    proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
//! ```
//!
//! Every mount shows the root of its filesystem (`/`); the superblock options are
//! `rw` or `ro` (no filesystem here has options of its own worth showing).

use alloc::vec::Vec;
use core::fmt::Write;

use crate::pseudo::format::{escape_mount_path, major, minor};
use crate::vfs::MountFlags;
use crate::Kernel;

/// The mount options as the mount table prints them.
fn options(flags: MountFlags) -> alloc::string::String {
    let mut s = alloc::string::String::from(if flags.read_only { "ro" } else { "rw" });
    for (on, name) in [(flags.nosuid, ",nosuid"), (flags.nodev, ",nodev"), (flags.noexec, ",noexec")] {
        if on {
            s.push_str(name);
        }
    }
    s.push_str(",relatime");
    s
}

/// The text of `mountinfo`.
pub(super) fn mountinfo(k: &'static Kernel) -> Vec<u8> {
    let mut out = Vec::new();
    for m in k.vfs.mounts() {
        let mut head = alloc::string::String::new();
        let _ = write!(head, "{} {} {}:{} / ", m.id, m.parent_id, major(m.dev), minor(m.dev));
        out.extend_from_slice(head.as_bytes());
        out.extend(escape_mount_path(&m.mount_point));
        let super_opts = if m.flags.read_only { "ro" } else { "rw" };
        out.extend_from_slice(alloc::format!(" {} - {} ", options(m.flags), m.fs_type).as_bytes());
        out.extend(escape_mount_path(&m.source));
        out.extend_from_slice(alloc::format!(" {super_opts}\n").as_bytes());
    }
    out
}

/// The text of `mounts`.
pub(super) fn mounts(k: &'static Kernel) -> Vec<u8> {
    let mut out = Vec::new();
    for m in k.vfs.mounts() {
        out.extend(escape_mount_path(&m.source));
        out.push(b' ');
        out.extend(escape_mount_path(&m.mount_point));
        out.extend_from_slice(alloc::format!(" {} {} 0 0\n", m.fs_type, options(m.flags)).as_bytes());
    }
    out
}
