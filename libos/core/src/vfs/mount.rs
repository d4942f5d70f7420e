//! Mounts: which filesystem serves which subtree.
//!
//! As in Linux, a mount is attached to a *dentry* (the mount point), not to a path
//! string. The mount point keeps a pointer to the root dentry of what is mounted on it
//! and that root remembers the dentry it covers:
//!
//! ```text
//!   "/" mount (id 1)                  "/tmp" mount (id 2)
//!   root ─── tmp ══ mounted ══▶ root (covers ─▶ tmp)
//!                                  └── a ─── b
//! ```
//!
//! Walking down into `tmp` continues at the mounted root; `..` at a mounted root
//! first steps back to the covered dentry and then to its parent, so `/tmp/..` is `/`.
//! Every dentry carries the [`Mount`] it belongs to, so "are these two names in the
//! same mount" (EXDEV for `rename` and `link`) is a pointer comparison, and `statfs`
//! and read-only checks need no table lookup.
//!
//! The list of mounts ([`super::Vfs::mounts`]) exists for `/proc/self/mountinfo`; path
//! resolution never searches it. There is no unmount yet: a mount lives as long as the
//! namespace (its mount point and its root hold each other).
//!
//! A mount point may be a name that does not exist in the parent filesystem (a FAT
//! image has no `/proc` directory): the VFS then attaches the mount to a placeholder
//! dentry that lookups find before asking the filesystem. Such a name is not listed by
//! `getdents64` of its parent.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::inode::{FileKind, FileSystem, Inode, Metadata};
use crate::abi::Timespec;
use crate::Errno;

/// Per-mount options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MountFlags {
    /// Every change through this mount is EROFS.
    pub read_only: bool,
    pub nosuid: bool,
    pub nodev: bool,
    pub noexec: bool,
}

/// `statfs` `f_flags` bits.
pub mod st {
    pub const ST_RDONLY: i64 = 0x0001;
    pub const ST_NOSUID: i64 = 0x0002;
    pub const ST_NODEV: i64 = 0x0004;
    pub const ST_NOEXEC: i64 = 0x0008;
    /// "`f_flags` is meaningful", always set by Linux.
    pub const ST_VALID: i64 = 0x0020;
    pub const ST_RELATIME: i64 = 0x1000;
}

impl MountFlags {
    /// The read-only mount options.
    pub const READ_ONLY: MountFlags = MountFlags { read_only: true, nosuid: false, nodev: false, noexec: false };

    /// The `statfs` `f_flags` of a mount with these options (relatime, as Linux
    /// mounts by default).
    pub const fn statfs_flags(self) -> i64 {
        let mut f = st::ST_VALID | st::ST_RELATIME;
        if self.read_only {
            f |= st::ST_RDONLY;
        }
        if self.nosuid {
            f |= st::ST_NOSUID;
        }
        if self.nodev {
            f |= st::ST_NODEV;
        }
        if self.noexec {
            f |= st::ST_NOEXEC;
        }
        f
    }
}

/// One mounted filesystem.
pub struct Mount {
    id: u32,
    fs: Arc<dyn FileSystem>,
    flags: MountFlags,
    source: Vec<u8>,
}

impl Mount {
    pub(crate) fn new(id: u32, fs: Arc<dyn FileSystem>, flags: MountFlags, source: &[u8]) -> Arc<Mount> {
        Arc::new(Mount { id, fs, flags, source: source.to_vec() })
    }

    /// The mount id (`/proc/self/mountinfo`'s first field).
    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn fs(&self) -> &Arc<dyn FileSystem> {
        &self.fs
    }

    pub fn flags(&self) -> MountFlags {
        self.flags
    }

    /// What was mounted, as the mount table shows it (`/dev/vda`, `tmpfs`, `proc`).
    pub fn source(&self) -> &[u8] {
        &self.source
    }

    /// EROFS if this mount is read-only.
    pub fn check_writable(&self) -> Result<(), Errno> {
        if self.flags.read_only {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }
}

/// What `/proc/self/mountinfo` needs to know about one mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    pub id: u32,
    /// The id of the mount the mount point is in (its own id for `/`).
    pub parent_id: u32,
    /// The absolute path of the mount point.
    pub mount_point: Vec<u8>,
    pub fs_type: &'static str,
    pub source: Vec<u8>,
    pub flags: MountFlags,
    /// The `st_dev` of the mounted root.
    pub dev: u64,
}

/// Hands out anonymous device numbers (major 0), one per filesystem instance that has
/// no device of its own, as Linux does for tmpfs and procfs.
pub fn anon_dev() -> u64 {
    static NEXT_MINOR: AtomicU32 = AtomicU32::new(32);
    super::makedev(0, NEXT_MINOR.fetch_add(1, Ordering::Relaxed))
}

/// The stand-in inode of a mount point that does not exist in its parent filesystem:
/// an empty directory, always covered by the mount, so nothing but `stat` of the covered
/// node (which nobody can reach) would ever see it.
pub(crate) struct Placeholder {
    dev: u64,
}

impl Placeholder {
    pub(crate) fn inode() -> Arc<dyn Inode> {
        Arc::new(Placeholder { dev: anon_dev() })
    }
}

impl Inode for Placeholder {
    fn kind(&self) -> FileKind {
        FileKind::Directory
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        Ok(Metadata {
            kind: FileKind::Directory,
            mode: 0o755,
            nlink: 2,
            ino: 1,
            dev: self.dev,
            rdev: 0,
            size: 0,
            blksize: 4096,
            blocks: 0,
            uid: 0,
            gid: 0,
            atime: Timespec::ZERO,
            mtime: Timespec::ZERO,
            ctime: Timespec::ZERO,
        })
    }
}
