//! The open-file object for filesystem nodes.
//!
//! An [`InodeFile`] is what `open` returns for a regular file or a directory: the
//! dentry it was opened through (so `/proc/self/fd/N`, `fchdir` and `fstatfs` know
//! where it is) and a position. Reads and writes go to the inode at the position;
//! `pread`/`pwrite` at an explicit offset; on a directory, `getdents64` reads entries
//! from the position, which is then a directory cookie rather than a byte offset.
//!
//! Reads, writes and appends go through [`crate::mm::filemap`], which keeps them
//! coherent with the file's shared mappings (a plain call to the inode when it has
//! none).
//!
//! The position lock is held for the whole of a `read`, `write` or `getdents64`, as
//! Linux holds `f_pos_lock`, so threads sharing one open file description never read
//! the same bytes twice or interleave inside one `write`.
//!
//! `O_PATH` gives a file of the same type that only names its node: everything but
//! `fstat` (and what the syscall layer does with the dentry) is EBADF.

use alloc::sync::Arc;

use super::dentry::Dentry;
use super::inode::{DirEntry, FileKind};
use crate::abi::Stat;
use crate::file::File;
use crate::mm::filemap;
use crate::{Errno, SysResult};

/// `lseek` whences.
pub mod whence {
    pub const SEEK_SET: u32 = 0;
    pub const SEEK_CUR: u32 = 1;
    pub const SEEK_END: u32 = 2;
    pub const SEEK_DATA: u32 = 3;
    pub const SEEK_HOLE: u32 = 4;
}

/// `ioctl(FIONREAD)`: bytes left to read.
pub const FIONREAD: u32 = 0x541b;

/// The size of a `linux_dirent64` header: `d_ino` (8), `d_off` (8), `d_reclen` (2),
/// `d_type` (1); the name follows.
const DIRENT64_HEADER: usize = 19;

/// An open regular file or directory.
pub struct InodeFile {
    dentry: Arc<Dentry>,
    /// A byte offset, or the directory cookie to list from next.
    pos: spin::Mutex<u64>,
    /// Opened with `O_PATH`.
    path_only: bool,
}

impl InodeFile {
    /// A file open on `dentry`'s node, at position 0.
    pub fn new(dentry: Arc<Dentry>) -> Arc<InodeFile> {
        Arc::new(InodeFile { dentry, pos: spin::Mutex::new(0), path_only: false })
    }

    /// An `O_PATH` file: names `dentry`, reads and writes nothing.
    pub fn new_path(dentry: Arc<Dentry>) -> Arc<InodeFile> {
        Arc::new(InodeFile { dentry, pos: spin::Mutex::new(0), path_only: true })
    }

    pub fn is_path_only(&self) -> bool {
        self.path_only
    }

    fn usable(&self) -> Result<(), Errno> {
        if self.path_only {
            Err(Errno::EBADF)
        } else {
            Ok(())
        }
    }
}

/// Linux's `rw_verify_area`: a transfer whose end would pass `i64::MAX` is EINVAL.
fn verify_area(offset: u64, len: usize) -> Result<(), Errno> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= i64::MAX as u64 => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

/// The length of the `linux_dirent64` record for a name of `name_len` bytes: header,
/// name, NUL, padded to 8 bytes.
pub const fn dirent64_len(name_len: usize) -> usize {
    (DIRENT64_HEADER + name_len + 1 + 7) & !7
}

/// Writes `entry` as a `linux_dirent64` at the start of `buf` (which must hold
/// [`dirent64_len`] bytes); returns the record length.
pub fn encode_dirent64(entry: &DirEntry<'_>, buf: &mut [u8]) -> usize {
    let len = dirent64_len(entry.name.len());
    let rec = &mut buf[..len];
    rec[0..8].copy_from_slice(&entry.ino.to_le_bytes());
    rec[8..16].copy_from_slice(&(entry.next.min(i64::MAX as u64) as i64).to_le_bytes());
    rec[16..18].copy_from_slice(&(len as u16).to_le_bytes());
    rec[18] = entry.kind.dirent_type();
    let name_end = DIRENT64_HEADER + entry.name.len();
    rec[DIRENT64_HEADER..name_end].copy_from_slice(entry.name);
    rec[name_end..].fill(0);
    len
}

impl File for InodeFile {
    fn read(&self, buf: &mut [u8], _nonblock: bool) -> SysResult {
        self.usable()?;
        let mut pos = self.pos.lock();
        verify_area(*pos, buf.len())?;
        let n = filemap::read_at(self.dentry.inode(), *pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, buf: &[u8], _nonblock: bool) -> SysResult {
        self.usable()?;
        let mut pos = self.pos.lock();
        verify_area(*pos, buf.len())?;
        let n = filemap::write_at(self.dentry.inode(), *pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    fn append(&self, buf: &[u8], _nonblock: bool) -> SysResult {
        self.usable()?;
        let mut pos = self.pos.lock();
        let (n, end) = filemap::append(self.dentry.inode(), buf)?;
        *pos = end;
        Ok(n)
    }

    fn pread(&self, buf: &mut [u8], offset: u64) -> SysResult {
        self.usable()?;
        verify_area(offset, buf.len())?;
        filemap::read_at(self.dentry.inode(), offset, buf)
    }

    fn pwrite(&self, buf: &[u8], offset: u64) -> SysResult {
        self.usable()?;
        verify_area(offset, buf.len())?;
        filemap::write_at(self.dentry.inode(), offset, buf)
    }

    /// Linux's `generic_file_llseek` for files, and tmpfs's directory `llseek` (only
    /// `SEEK_SET` and `SEEK_CUR`) for directories. A negative result is EINVAL;
    /// `SEEK_DATA`/`SEEK_HOLE` at or past the end are ENXIO.
    fn seek(&self, offset: i64, whence: u32) -> Result<u64, Errno> {
        use whence::*;
        self.usable()?;
        let inode = self.dentry.inode();
        let mut pos = self.pos.lock();
        let cur = *pos as i64;
        let new = match (inode.kind(), whence) {
            (_, SEEK_SET) => Some(offset),
            (_, SEEK_CUR) => cur.checked_add(offset),
            (FileKind::Directory, _) => return Err(Errno::EINVAL),
            (_, SEEK_END) => (inode.metadata()?.size as i64).checked_add(offset),
            (_, SEEK_DATA | SEEK_HOLE) => {
                // A negative offset is "past the end" to Linux's unsigned compare.
                let start = u64::try_from(offset).map_err(|_| Errno::ENXIO)?;
                Some(inode.seek_data(start, whence == SEEK_HOLE)? as i64)
            }
            _ => return Err(Errno::EINVAL),
        };
        let new = new.filter(|&p| p >= 0).ok_or(Errno::EINVAL)?;
        *pos = new as u64;
        Ok(new as u64)
    }

    fn readiness(&self) -> crate::readiness::Readiness<'_> {
        crate::readiness::Readiness::Static
    }

    /// Regular files and directories have no `poll` method on Linux: EPERM.
    fn supports_epoll(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.dentry.inode().metadata()?.to_stat())
    }

    /// `FIONREAD` on a regular file: the bytes between the position and the end.
    fn ioctl(&self, request: u32, _arg: u64, data: &mut [u8]) -> SysResult {
        self.usable()?;
        let inode = self.dentry.inode();
        if request == FIONREAD && inode.kind() == FileKind::Regular && data.len() >= 4 {
            let size = inode.metadata()?.size;
            let left = size.saturating_sub(*self.pos.lock()).min(i32::MAX as u64) as i32;
            data[..4].copy_from_slice(&left.to_ne_bytes());
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    /// Fills `buf` with `linux_dirent64` records from the directory position on and
    /// moves the position past them. 0 at the end; EINVAL if the next entry does not
    /// fit in `buf` at all.
    fn getdents64(&self, buf: &mut [u8]) -> SysResult {
        self.usable()?;
        let inode = self.dentry.inode();
        if inode.kind() != FileKind::Directory {
            return Err(Errno::ENOTDIR);
        }
        let mut pos = self.pos.lock();
        let (mut used, mut next, mut full) = (0usize, *pos, false);
        inode.read_dir(*pos, &mut |entry| {
            if dirent64_len(entry.name.len()) > buf.len() - used {
                full = true;
                return false;
            }
            used += encode_dirent64(&entry, &mut buf[used..]);
            next = entry.next;
            true
        })?;
        if used == 0 && full {
            return Err(Errno::EINVAL);
        }
        *pos = next;
        Ok(used)
    }

    fn dentry(&self) -> Option<Arc<Dentry>> {
        Some(self.dentry.clone())
    }
}
