//! The virtual filesystem: one tree of names over many filesystems, with Linux's rules.
//!
//! A Linux program sees a single tree rooted at `/`. Underneath, that tree is stitched
//! together from several filesystems — the root image, a `/tmp` in memory, the
//! `/proc` and `/dev` pseudo-filesystems — and every path operation follows the same
//! rules whichever filesystem it lands in. This module keeps those rules in one place so
//! that a filesystem only has to say what its nodes are and what they can do.
//!
//! # Layers
//!
//! ```text
//!   syscall-shim ── open(at, b"a/b", flags, mode) ──▶ Vfs            namespace.rs
//!                                                     │  cwd, umask, flag rules, EXDEV, EBUSY
//!                                                     ▼
//!                                                   Walker          path.rs
//!                                                     │  `.`, `..`, `//`, trailing `/`, symlinks, ELOOP
//!                                                     ▼
//!                                                   Dentry          dentry.rs
//!                                                     │  a name in a parent: what getcwd and `..` climb
//!                                                     │  Mount       mount.rs: which filesystem, which flags
//!                                                     ▼
//!                                                   dyn Inode       inode.rs
//!                                                        ▲ implemented by tmpfs.rs (and fatfs, procfs, devfs)
//!
//!   an open file: InodeFile (file.rs) = a Dentry + a position, implementing crate::file::File
//! ```
//!
//! - An [`Inode`] is a node of one filesystem: a regular file, a directory, a symlink or a
//!   special file. It knows nothing of paths or mounts; its trait methods have defaults
//!   that give the errno Linux gives when a kind of node cannot do something, so a
//!   read-only pseudo-filesystem implements only `kind`, `metadata`, `lookup`, `read_dir`
//!   and `read_at`.
//! - A [`Dentry`] is a *name* for an inode: a parent dentry plus a name, and the mount
//!   it belongs to. Dentries are what the walker climbs for `..`, what `getcwd` and
//!   `/proc/self/fd/N` turn back into absolute paths, and where a mount is attached.
//!   Renames and unlinks made through the [`Vfs`] update them, so a renamed working
//!   directory still reports its new path.
//! - A [`Mount`] records the filesystem and flags of one subtree; two dentries are in the
//!   same mount iff [`Dentry::same_mount`], which is what EXDEV means.
//! - The [`Vfs`] is the namespace of the process: the mount table, the root, the working
//!   directory and the umask, and the path operations the syscall layer calls. Its
//!   arguments are already decoded (paths as bytes, flags as `u32`, a directory fd
//!   resolved to [`At::Dir`]) and its results are `Result<_, Errno>`.
//!
//! Only the VFS changes the tree: filesystems are called by it, never by the syscall
//! layer directly, which is what keeps the dentries truthful.
//!
//! # What a filesystem must guarantee
//!
//! - `metadata().ino` (with `dev`) identifies a node for as long as it exists: the
//!   dentry cache uses it to recognise a node a filesystem hands out as a new object.
//! - Directory cookies (the `next` of a [`DirEntry`]) stay valid across changes to the
//!   directory: a listing resumed at a cookie returns every entry not yet returned that
//!   still exists, each once.

pub mod dentry;
pub mod file;
pub mod inode;
pub mod mount;
pub mod namespace;
pub mod path;
pub mod subtree;
pub mod tmpfs;

#[cfg(test)]
mod tests;

use alloc::sync::Arc;

use crate::abi::Timespec;

pub use dentry::Dentry;
pub use file::InodeFile;
pub use inode::{DirEntry, FileKind, FileSystem, Inode, Metadata, Statfs};
pub use mount::{Mount, MountFlags, MountInfo};
pub use namespace::{At, Vfs};
pub use path::{Last, LinkTarget, ParentOf};
pub use tmpfs::TmpFs;

/// Where filesystems read the time for their timestamps (`CLOCK_REALTIME`).
///
/// The kernel builds one from its platform (`Arc::new(move || platform.now(Realtime))`);
/// tests pass a clock they move by hand.
pub type Clock = Arc<dyn Fn() -> Timespec + Send + Sync>;

/// `PATH_MAX`: a path of this many bytes or more (without its NUL) is ENAMETOOLONG.
pub const PATH_MAX: usize = 4096;
/// `NAME_MAX`: the longest component, in bytes.
pub const NAME_MAX: usize = 255;
/// `MAXSYMLINKS`: how many symlinks one path resolution may follow in total.
pub const MAX_SYMLINKS: u32 = 40;

/// `open` flags, both those that stay on the open file description (re-exported from
/// [`crate::file::oflags`]) and those that act only while opening.
pub mod oflags {
    pub use crate::file::oflags::*;

    pub const O_CREAT: u32 = 0o100;
    pub const O_EXCL: u32 = 0o200;
    pub const O_NOCTTY: u32 = 0o400;
    pub const O_TRUNC: u32 = 0o1000;
    pub const O_DIRECTORY: u32 = 0o200000;
    pub const O_NOFOLLOW: u32 = 0o400000;
    pub const O_SYNC: u32 = 0o4010000;
    pub const O_PATH: u32 = 0o10000000;
    /// The bit that distinguishes `O_TMPFILE` from `O_DIRECTORY`.
    pub const O_TMPFILE_BIT: u32 = 0o20000000;
    /// `O_TMPFILE` as programs pass it: includes `O_DIRECTORY`.
    pub const O_TMPFILE: u32 = O_TMPFILE_BIT | O_DIRECTORY;

    /// The flags an `O_PATH` open keeps (Linux ignores the others).
    pub const O_PATH_FLAGS: u32 = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

    /// The flags `F_GETFL` reports for a file opened with `flags` through `open` or
    /// `openat` on x86-64: the open-time-only flags are gone and `O_LARGEFILE` is forced
    /// on (except for `O_PATH`, which keeps only [`O_PATH_FLAGS`]). `O_CLOEXEC` belongs
    /// to the fd, not the description, and [`crate::file::OpenFile::new`] drops it.
    pub const fn status_flags(flags: u32) -> u32 {
        if flags & O_PATH != 0 {
            return flags & O_PATH_FLAGS;
        }
        (flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) | O_LARGEFILE
    }
}

/// `access` modes.
pub mod access {
    pub const F_OK: u32 = 0;
    pub const X_OK: u32 = 1;
    pub const W_OK: u32 = 2;
    pub const R_OK: u32 = 4;
}

/// `renameat2` flags.
pub mod rename_flags {
    /// Fail with EEXIST rather than replace the target.
    pub const RENAME_NOREPLACE: u32 = 1;
    /// Swap the two names atomically (both must exist).
    pub const RENAME_EXCHANGE: u32 = 2;
    /// Leave a whiteout behind (overlay filesystems); no filesystem here supports it.
    pub const RENAME_WHITEOUT: u32 = 4;
}

/// `utimensat` special `tv_nsec` values.
pub mod utime {
    /// Set this time to the current time.
    pub const UTIME_NOW: i64 = (1 << 30) - 1;
    /// Leave this time unchanged.
    pub const UTIME_OMIT: i64 = (1 << 30) - 2;
}

/// Packs a device number as glibc's `makedev` does (the `st_dev`/`st_rdev` encoding).
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
}
