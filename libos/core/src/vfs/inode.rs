//! What a filesystem provides: nodes ([`Inode`]) and the filesystem itself
//! ([`FileSystem`]).
//!
//! An inode is addressed only through its parent directory and a single component
//! name: path walking, `.` and `..`, symlinks and mounts are the VFS's business
//! (`path.rs`), never the filesystem's. Names given to an inode are never empty, never
//! `.` or `..`, contain no `/` and are at most [`NAME_MAX`](super::NAME_MAX) bytes.
//!
//! Every method except [`Inode::kind`] and [`Inode::metadata`] has a default that
//! returns the errno Linux returns when that kind of node does not support the
//! operation: `lookup` on a file is ENOTDIR, `read_at` on a directory is EISDIR,
//! `readlink` on anything but a symlink is EINVAL, and a directory whose filesystem
//! cannot make symlinks answers `symlink` with EPERM (what vfat does). A filesystem
//! overrides what it supports and inherits the right refusals for the rest.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use crate::abi::{mode, Stat, Timespec};
use crate::file::File;
use crate::{Errno, SysResult};

use super::dentry::Dentry;
use super::file::InodeFile;

/// The type of a node (the `S_IFMT` part of a mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

impl FileKind {
    /// The `S_IF*` bits of `st_mode`.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileKind::Regular => mode::S_IFREG,
            FileKind::Directory => mode::S_IFDIR,
            FileKind::Symlink => mode::S_IFLNK,
            FileKind::CharDevice => mode::S_IFCHR,
            FileKind::BlockDevice => mode::S_IFBLK,
            FileKind::Fifo => mode::S_IFIFO,
            FileKind::Socket => mode::S_IFSOCK,
        }
    }

    /// The kind named by the `S_IFMT` bits of `mode`, if they name one.
    pub const fn from_mode(m: u32) -> Option<FileKind> {
        Some(match m & mode::S_IFMT {
            mode::S_IFREG => FileKind::Regular,
            mode::S_IFDIR => FileKind::Directory,
            mode::S_IFLNK => FileKind::Symlink,
            mode::S_IFCHR => FileKind::CharDevice,
            mode::S_IFBLK => FileKind::BlockDevice,
            mode::S_IFIFO => FileKind::Fifo,
            mode::S_IFSOCK => FileKind::Socket,
            _ => return None,
        })
    }

    /// The `d_type` of a `linux_dirent64` (`DT_*`).
    pub const fn dirent_type(self) -> u8 {
        match self {
            FileKind::Fifo => 1,
            FileKind::CharDevice => 2,
            FileKind::Directory => 4,
            FileKind::BlockDevice => 6,
            FileKind::Regular => 8,
            FileKind::Symlink => 10,
            FileKind::Socket => 12,
        }
    }
}

/// What `stat` reports about a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    pub kind: FileKind,
    /// Permission bits, including set-uid, set-gid and sticky (`0o7777`).
    pub mode: u32,
    pub nlink: u64,
    pub ino: u64,
    /// The filesystem's device number (`st_dev`).
    pub dev: u64,
    /// The device a character or block special file stands for (`st_rdev`).
    pub rdev: u64,
    /// Bytes for a regular file, the target's length for a symlink, a filesystem's
    /// own measure for a directory.
    pub size: u64,
    /// The preferred I/O size.
    pub blksize: u32,
    /// Storage used, in 512-byte units (less than `size / 512` for a sparse file).
    pub blocks: u64,
    pub uid: u32,
    pub gid: u32,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl Metadata {
    /// The `struct stat` the kernel would fill in.
    pub fn to_stat(&self) -> Stat {
        Stat {
            st_dev: self.dev,
            st_ino: self.ino,
            st_nlink: self.nlink,
            st_mode: self.kind.mode_bits() | (self.mode & 0o7777),
            st_uid: self.uid,
            st_gid: self.gid,
            st_rdev: self.rdev,
            st_size: self.size.min(i64::MAX as u64) as i64,
            st_blksize: i64::from(self.blksize),
            st_blocks: self.blocks.min(i64::MAX as u64) as i64,
            st_atime: self.atime.tv_sec,
            st_atime_nsec: self.atime.tv_nsec,
            st_mtime: self.mtime.tv_sec,
            st_mtime_nsec: self.mtime.tv_nsec,
            st_ctime: self.ctime.tv_sec,
            st_ctime_nsec: self.ctime.tv_nsec,
            ..Stat::default()
        }
    }
}

/// One entry of a directory listing, as [`Inode::read_dir`] hands it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry<'a> {
    pub ino: u64,
    pub kind: FileKind,
    pub name: &'a [u8],
    /// The cookie that resumes the listing just after this entry: what `getdents64`
    /// stores as `d_off` and what `lseek(fd, d_off, SEEK_SET)` returns to.
    pub next: u64,
}

/// Lists `.` and `..` as the first two entries (cookies 0 and 1), the way most
/// filesystems begin a listing. Returns `false` if `sink` stopped early.
///
/// A directory implementation calls this first and then lists its own entries with
/// cookies from 2 on.
pub fn emit_dots(offset: u64, ino: u64, parent_ino: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> bool {
    if offset == 0 && !sink(DirEntry { ino, kind: FileKind::Directory, name: b".", next: 1 }) {
        return false;
    }
    if offset <= 1 && !sink(DirEntry { ino: parent_ino, kind: FileKind::Directory, name: b"..", next: 2 }) {
        return false;
    }
    true
}

/// `struct statfs` for x86-64 (120 bytes), what `statfs`/`fstatfs` copy out.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Statfs {
    /// The filesystem's magic number (`TMPFS_MAGIC`, `MSDOS_SUPER_MAGIC`, …).
    pub f_type: i64,
    pub f_bsize: i64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [i32; 2],
    pub f_namelen: i64,
    pub f_frsize: i64,
    /// `ST_*` mount flags; the VFS fills these in from the mount.
    pub f_flags: i64,
    pub f_spare: [i64; 4],
}

/// Filesystem magic numbers (`f_type`).
pub mod magic {
    pub const TMPFS_MAGIC: i64 = 0x0102_1994;
    pub const MSDOS_SUPER_MAGIC: i64 = 0x4d44;
    pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
    pub const SYSFS_MAGIC: i64 = 0x6265_6572;
    pub const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
    pub const PIPEFS_MAGIC: i64 = 0x5049_5045;
    pub const ANON_INODE_FS_MAGIC: i64 = 0x0904_1934;
    pub const PIDFS_MAGIC: i64 = 0x5049_4446;
}

/// Lets the VFS and a filesystem recover the concrete type behind a `dyn Inode` (a
/// filesystem's `rename` and `link` need their own node type for the other directory).
/// Implemented for every type; call it through [`downcast`], not on an `Arc`.
pub trait AsAny {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The concrete node behind `inode`, if it is a `T`.
///
/// (Calling `as_any` directly on an `Arc<dyn Inode>` would pick the blanket
/// implementation for the `Arc` itself; this goes through the trait object.)
pub fn downcast<T: Inode + 'static>(inode: &Arc<dyn Inode>) -> Option<&T> {
    (**inode).as_any().downcast_ref::<T>()
}

/// Whether `a` and `b` are the same node: the same object, or the same `(dev, ino)`.
pub fn same_node(a: &Arc<dyn Inode>, b: &Arc<dyn Inode>) -> bool {
    if core::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b)) {
        return true;
    }
    match (a.metadata(), b.metadata()) {
        (Ok(x), Ok(y)) => x.ino == y.ino && x.dev == y.dev,
        _ => false,
    }
}

/// The errno for a directory operation on `kind`: ENOTDIR unless it is a directory,
/// in which case `dir` (the refusal of a directory that cannot do it).
fn unless_dir(kind: FileKind, dir: Errno) -> Errno {
    if kind == FileKind::Directory {
        dir
    } else {
        Errno::ENOTDIR
    }
}

/// A node of a filesystem.
///
/// Directory operations take the single component `name` in this directory. They are
/// called only by the VFS, which has already checked the name, the mount's flags and
/// the rules that involve more than one filesystem (EXDEV, mount points, moving a
/// directory under itself); the filesystem checks what only it can see atomically:
/// existence (ENOENT, EEXIST), types (ENOTDIR, EISDIR), emptiness (ENOTEMPTY), space
/// (ENOSPC).
pub trait Inode: AsAny + Send + Sync {
    /// The type of this node; never changes.
    fn kind(&self) -> FileKind;

    /// `stat`.
    fn metadata(&self) -> Result<Metadata, Errno>;

    /// The child called `name`. ENOENT if there is none.
    fn lookup(&self, _name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        Err(unless_dir(self.kind(), Errno::ENOENT))
    }

    /// Makes a child of `kind` (anything but a symlink) with permission bits `mode`
    /// (the umask already applied) and, for device nodes, device number `rdev`.
    /// EEXIST if the name is taken.
    ///
    /// Default: Linux's answer for a directory without the operation — EACCES for a
    /// regular file (`open(O_CREAT)`), EPERM for the others (`mkdir`, `mknod`).
    fn create(&self, _name: &[u8], kind: FileKind, _mode: u32, _rdev: u64) -> Result<Arc<dyn Inode>, Errno> {
        let refusal = if kind == FileKind::Regular { Errno::EACCES } else { Errno::EPERM };
        Err(unless_dir(self.kind(), refusal))
    }

    /// Makes `name` another name for `target`, a non-directory of the same filesystem.
    fn link(&self, _name: &[u8], _target: &Arc<dyn Inode>) -> Result<(), Errno> {
        Err(unless_dir(self.kind(), Errno::EPERM))
    }

    /// Makes a symlink `name` pointing at `target` (non-empty, shorter than
    /// `PATH_MAX`). EPERM by default: a filesystem without symlinks (vfat).
    fn symlink(&self, _name: &[u8], _target: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        Err(unless_dir(self.kind(), Errno::EPERM))
    }

    /// Removes the non-directory `name` (EISDIR for a directory).
    fn unlink(&self, _name: &[u8]) -> Result<(), Errno> {
        Err(unless_dir(self.kind(), Errno::EPERM))
    }

    /// Removes the empty directory `name` (ENOTDIR for a non-directory, ENOTEMPTY).
    fn rmdir(&self, _name: &[u8]) -> Result<(), Errno> {
        Err(unless_dir(self.kind(), Errno::EPERM))
    }

    /// Moves `old_name` in this directory to `new_name` in `new_dir` (a directory of
    /// the same filesystem; EXDEV otherwise), replacing what is there unless `flags`
    /// (`rename_flags::*`) say otherwise. The filesystem decides which flags it
    /// supports (EINVAL for the others) and checks the replacement rules: a directory
    /// over a non-directory is ENOTDIR, a non-directory over a directory EISDIR, over a
    /// non-empty directory ENOTEMPTY; two names of the same node succeed and change
    /// nothing.
    fn rename(&self, _old_name: &[u8], _new_dir: &Arc<dyn Inode>, _new_name: &[u8], _flags: u32) -> Result<(), Errno> {
        Err(unless_dir(self.kind(), Errno::EPERM))
    }

    /// Lists entries from cookie `offset` on (0 is the start), calling `sink` for each
    /// until it returns `false` or the directory ends. `sink` must not call back into
    /// the filesystem (it may be called with the directory locked).
    ///
    /// Default: an empty directory (not even `.` and `..`); ENOTDIR for the rest.
    fn read_dir(&self, _offset: u64, _sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> Result<(), Errno> {
        if self.kind() == FileKind::Directory {
            Ok(())
        } else {
            Err(Errno::ENOTDIR)
        }
    }

    /// The target of a symlink; EINVAL for any other node.
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        Err(Errno::EINVAL)
    }

    /// For a *magic link* — a symlink that stands for an object rather than a path, as
    /// procfs's `/proc/self/exe`, `cwd`, `root` and `fd/N` do — the dentry of that
    /// object: path resolution moves there instead of resolving the text [`readlink`]
    /// shows (Linux's `nd_jump_link`), so `open("/proc/self/fd/3")` reaches fd 3's file
    /// even after it was renamed or removed. `link` is the dentry of this link.
    ///
    /// Default: `Ok(None)`, an ordinary symlink.
    ///
    /// [`readlink`]: Inode::readlink
    fn jump_target(&self, _link: &Arc<Dentry>) -> Result<Option<Arc<Dentry>>, Errno> {
        Ok(None)
    }

    /// Reads at `offset`; 0 at or past the end. EISDIR on a directory; EINVAL for a
    /// node without data.
    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> SysResult {
        Err(if self.kind() == FileKind::Directory { Errno::EISDIR } else { Errno::EINVAL })
    }

    /// Writes at `offset`, growing the file as needed. A short count means the
    /// filesystem ran out of space part way (ENOSPC if nothing was written).
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> SysResult {
        Err(if self.kind() == FileKind::Directory { Errno::EISDIR } else { Errno::EINVAL })
    }

    /// Writes at the end of the file (`O_APPEND`), returning the bytes written and the
    /// new end. A filesystem overrides this to make finding the end and writing there
    /// one atomic step, as Linux does; the default is two steps.
    fn append(&self, buf: &[u8]) -> Result<(usize, u64), Errno> {
        let end = self.metadata()?.size;
        let n = self.write_at(end, buf)?;
        Ok((n, end + n as u64))
    }

    /// Sets the size; the bytes beyond the old end read as zeros.
    fn truncate(&self, _len: u64) -> Result<(), Errno> {
        Err(match self.kind() {
            FileKind::Directory => Errno::EISDIR,
            FileKind::Regular => Errno::EPERM,
            _ => Errno::EINVAL,
        })
    }

    /// `SEEK_DATA` (`hole == false`) or `SEEK_HOLE` from `offset`: the first offset at
    /// or after it that holds data, or that lies in a hole. ENXIO at or beyond the end.
    ///
    /// Default: the whole file is data and the only hole is the end, which is what
    /// Linux reports for a filesystem that does not track holes.
    fn seek_data(&self, offset: u64, hole: bool) -> Result<u64, Errno> {
        let size = self.metadata()?.size;
        if offset >= size {
            return Err(Errno::ENXIO);
        }
        Ok(if hole { size } else { offset })
    }

    /// Sets the access and modification times (`None` leaves one unchanged); the
    /// change time becomes now.
    fn set_times(&self, _atime: Option<Timespec>, _mtime: Option<Timespec>) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    /// Sets the permission bits (`0o7777`).
    fn set_mode(&self, _mode: u32) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    /// Sets the owner and/or group.
    fn set_owner(&self, _uid: Option<u32>, _gid: Option<u32>) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    /// Writes this node's changes through to storage (`fsync`).
    fn sync(&self) -> Result<(), Errno> {
        Ok(())
    }

    /// The file object an `open` of this node gives, reached through `dentry` (whose
    /// inode is `self`). `flags` are the open flags.
    ///
    /// Default: a position over `read_at`/`write_at` ([`InodeFile`]) for regular files
    /// and directories; ENXIO for special files, which is what Linux says for a device
    /// with no driver and for a socket. Device nodes and FIFOs override this.
    fn open(&self, dentry: &Arc<Dentry>, _flags: u32) -> Result<Arc<dyn File>, Errno> {
        match self.kind() {
            FileKind::Regular | FileKind::Directory => Ok(InodeFile::new(dentry.clone())),
            _ => Err(Errno::ENXIO),
        }
    }
}

/// A mounted filesystem: its root and what `statfs` says about it.
pub trait FileSystem: Send + Sync {
    /// The root directory.
    fn root(&self) -> Arc<dyn Inode>;
    /// The name `/proc/self/mountinfo` gives it (`tmpfs`, `vfat`, `proc`).
    fn fs_type(&self) -> &'static str;
    /// `statfs`, without `f_flags` (the VFS adds the mount's).
    fn statfs(&self) -> Result<Statfs, Errno>;
    /// Writes everything through to storage (`syncfs`).
    fn sync(&self) -> Result<(), Errno> {
        Ok(())
    }
    /// The process is ending: leave storage as an unmount would (synced, marked
    /// clean). Nothing is written through this filesystem afterwards.
    fn unmount(&self) -> Result<(), Errno> {
        self.sync()
    }
}
