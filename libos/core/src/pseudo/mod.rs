//! The pseudo-filesystems a Linux program expects to find: `/dev`, `/proc`, `/sys`
//! with its cgroup root, the `/tmp` and `/dev/shm` tmpfs mounts, and a generated
//! `/etc`.
//!
//! ```text
//! /dev            devtmpfs   devfs/      devices, stdin/stdout/stderr/fd links
//! /dev/shm        tmpfs                  its own instance (EXDEV to the rest)
//! /proc           proc       procfs/     the process and the machine, from the kernel
//! /sys            sysfs      sysfs.rs    CPU lists, transparent hugepages
//! /sys/fs/cgroup  cgroup2    cgroupfs.rs a cgroup v2 root without limits
//! /tmp            tmpfs
//! /etc                       etc.rs      hosts, passwd, resolv.conf, localtime, …
//! ```
//!
//! A platform builds its namespace, calls [`mount_all`], creates the kernel with that
//! namespace and, once the kernel is installed, hands it to procfs with
//! [`PseudoMounts::attach`]. `node.rs` holds the node types the filesystems are made
//! of; every file is generated when it is opened, from the kernel and the platform.

pub(crate) mod cgroupfs;
mod devfs;
mod etc;
pub(crate) mod format;
pub(crate) mod node;
mod procfs;
mod sysfs;
mod tzif;

#[cfg(test)]
mod tests;

use alloc::sync::Arc;

use crate::platform::Platform;
use crate::vfs::{Clock, FileSystem, MountFlags, TmpFs, Vfs};
use crate::{Errno, Kernel};

use node::Superblock;

/// What [`mount_all`] leaves for the platform to finish.
pub struct PseudoMounts {
    proc: Arc<procfs::ProcShared>,
}

impl PseudoMounts {
    /// Gives `/proc` the kernel it describes; until then `/proc` is empty. Call once,
    /// right after `Kernel::install`.
    pub fn attach(&self, kernel: &'static Kernel) {
        self.proc.attach(kernel);
    }
}

/// Mount options: Linux mounts these without set-uid bits and, except `/dev`,
/// `/tmp` and `/dev/shm`, without devices or execution.
const KERNEL_FS: MountFlags = MountFlags { read_only: false, nosuid: true, nodev: true, noexec: true };
const DEV: MountFlags = MountFlags { read_only: false, nosuid: true, nodev: false, noexec: false };
const SCRATCH: MountFlags = MountFlags { read_only: false, nosuid: true, nodev: true, noexec: false };

/// One mount: where, what, with which options, and the source the mount table shows.
type PseudoMount = (&'static [u8], Arc<dyn FileSystem>, MountFlags, &'static [u8]);

/// Mounts `/dev`, `/dev/shm`, `/proc`, `/sys`, `/sys/fs/cgroup` and `/tmp` in `vfs`
/// and fills in `/etc` (see `etc.rs`). The mount points need not exist in the root.
pub fn mount_all(vfs: &Vfs, platform: &'static dyn Platform, clock: Clock) -> Result<PseudoMounts, Errno> {
    let now = clock();
    let sb =
        |blksize: u32, file_size: u64| Superblock { dev: crate::vfs::mount::anon_dev(), time: now, blksize, file_size };
    let (proc_fs, proc) = procfs::new(platform, sb(1024, 0));
    let mounts: [PseudoMount; 6] = [
        (b"/dev", devfs::new(platform, sb(4096, 0)), DEV, b"devtmpfs"),
        (b"/dev/shm", TmpFs::new(clock.clone()), SCRATCH, b"tmpfs"),
        (b"/proc", proc_fs, KERNEL_FS, b"proc"),
        (b"/sys", sysfs::new(platform, sb(4096, 4096)), KERNEL_FS, b"sysfs"),
        (b"/sys/fs/cgroup", cgroupfs::new(platform, sb(4096, 0)), KERNEL_FS, b"cgroup2"),
        (b"/tmp", TmpFs::new(clock.clone()), SCRATCH, b"tmpfs"),
    ];
    for (path, fs, flags, source) in mounts {
        vfs.mount(path, fs, flags, source)?;
    }
    etc::populate(vfs, platform, clock)?;
    Ok(PseudoMounts { proc })
}
