//! `/dev`: the character devices every program may open, and the names that lead to
//! the process's own fds.
//!
//! | name | device | what it does |
//! |---|---|---|
//! | `null` | 1:3 | reads end at once; writes vanish |
//! | `zero` | 1:5 | reads zeros; writes vanish |
//! | `full` | 1:7 | reads zeros; writes are ENOSPC |
//! | `random`, `urandom` | 1:8, 1:9 | reads the platform's secure random bytes |
//! | `tty` | 5:0 | the controlling terminal ([`Platform::controlling_tty`]); ENXIO without one |
//! | `console` | 5:1 | the platform's console (the file the guest's stdout started as) |
//! | `stdin`, `stdout`, `stderr`, `fd` | | symlinks to `/proc/self/fd/0`…`2` and `/proc/self/fd` |
//! | `shm` | | a directory, the mount point of a tmpfs of its own |
//!
//! As on Linux, this is a `devtmpfs` (a tmpfs underneath: `statfs` says
//! `TMPFS_MAGIC`). Unlike Linux's, it is fixed: nothing can be created in it (EACCES
//! for files, EPERM for the rest, what an unprivileged process gets).

mod memdev;

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::node::{Attr, Dir, Fixed, Link, PseudoFs, Superblock};
use crate::file::File;
use crate::platform::Platform;
use crate::vfs::inode::{magic, FileKind, Inode, Metadata};
use crate::vfs::{makedev, Dentry};
use crate::Errno;

pub(crate) use memdev::MemDevice;

/// The devices of `/dev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Device {
    Null,
    Zero,
    Full,
    Random,
    Urandom,
    Tty,
    Console,
}

impl Device {
    const ALL: [Device; 7] =
        [Device::Null, Device::Zero, Device::Full, Device::Random, Device::Urandom, Device::Tty, Device::Console];

    fn name(self) -> &'static [u8] {
        match self {
            Device::Null => b"null",
            Device::Zero => b"zero",
            Device::Full => b"full",
            Device::Random => b"random",
            Device::Urandom => b"urandom",
            Device::Tty => b"tty",
            Device::Console => b"console",
        }
    }

    /// The device number (`st_rdev`), as Linux assigns it.
    pub fn rdev(self) -> u64 {
        match self {
            Device::Null => makedev(1, 3),
            Device::Zero => makedev(1, 5),
            Device::Full => makedev(1, 7),
            Device::Random => makedev(1, 8),
            Device::Urandom => makedev(1, 9),
            Device::Tty => makedev(5, 0),
            Device::Console => makedev(5, 1),
        }
    }

    /// The permission bits udev gives it.
    fn mode(self) -> u32 {
        match self {
            Device::Console => 0o600,
            _ => 0o666,
        }
    }
}

/// A character device node.
struct DeviceNode {
    attr: Attr,
    device: Device,
    platform: &'static dyn Platform,
}

impl Inode for DeviceNode {
    fn kind(&self) -> FileKind {
        FileKind::CharDevice
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        Ok(self.attr.metadata(FileKind::CharDevice, 1))
    }

    fn open(&self, dentry: &Arc<Dentry>, _flags: u32) -> Result<Arc<dyn File>, Errno> {
        match self.device {
            Device::Tty => self.platform.controlling_tty().ok_or(Errno::ENXIO),
            Device::Console => {
                let [_, stdout, _] = self.platform.console();
                Ok(stdout)
            }
            memory => Ok(Arc::new(MemDevice::new(dentry.clone(), memory, self.platform))),
        }
    }
}

/// A new `/dev` over `platform`; `sb` gives its device number and times.
pub(crate) fn new(platform: &'static dyn Platform, sb: Superblock) -> Arc<PseudoFs> {
    let mut entries: Vec<(Vec<u8>, Arc<dyn Inode>)> = Vec::new();
    for device in Device::ALL {
        let path = [b"/", device.name()].concat();
        let attr = Attr { rdev: device.rdev(), ..sb.attr(&path, device.mode()) };
        entries.push((device.name().to_vec(), Arc::new(DeviceNode { attr, device, platform })));
    }
    let links: [(&[u8], &[u8]); 4] = [
        (b"stdin", b"/proc/self/fd/0"),
        (b"stdout", b"/proc/self/fd/1"),
        (b"stderr", b"/proc/self/fd/2"),
        (b"fd", b"/proc/self/fd"),
    ];
    for (name, target) in links {
        let path = [b"/", name].concat();
        entries.push((name.to_vec(), Link::fixed(sb.attr(&path, 0o777), target)));
    }
    let root_ino = sb.attr(b"", 0).ino;
    entries.push((b"shm".to_vec(), Dir::new(sb.attr(b"/shm", 0o755), root_ino, Fixed(vec![]))));
    let root = Dir::new(sb.attr(b"", 0o755), root_ino, Fixed(entries));
    Arc::new(PseudoFs { root, fs_type: "devtmpfs", magic: magic::TMPFS_MAGIC })
}
