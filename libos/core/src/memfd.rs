//! `memfd_create`: anonymous files in memory, and their seals.
//!
//! A memfd is a regular file of an internal tmpfs (Linux's `shm_mnt`) that has no name
//! in any directory (`nlink` 0). It is opened as any file of the tree is — an
//! [`InodeFile`] over a dentry — so read, write, `pread`, `lseek`, `ftruncate`, `fstat`
//! and `mmap` behave as for a tmpfs file; the dentry is called `memfd:NAME` and is
//! already unlinked, so `/proc/self/fd/N` reads `/memfd:NAME (deleted)` as on Linux.
//!
//! The node is a [`MemfdNode`]: the tmpfs node plus its **seals** (`F_ADD_SEALS`),
//! which it enforces itself, so every way of writing reaches the same checks:
//!
//! | seal                 | refuses (EPERM)                                           |
//! |----------------------|-----------------------------------------------------------|
//! | `F_SEAL_SEAL`        | adding seals                                              |
//! | `F_SEAL_SHRINK`      | truncating below the size                                 |
//! | `F_SEAL_GROW`        | truncating above the size; writes past the end (page by page, as Linux: the pages of a write that stay inside the file still go in) |
//! | `F_SEAL_WRITE`       | writes; new shared writable mappings (and adding it while one exists is EBUSY) |
//! | `F_SEAL_FUTURE_WRITE`| writes and new shared writable mappings; existing mappings keep working |
//! | `F_SEAL_EXEC`        | changing the execute bits                                 |
//!
//! Files of a tmpfs support seals too on Linux (they start with `F_SEAL_SEAL`, so
//! nothing can be added): [`seals_of`] reports that; any other file is EINVAL.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::abi::Timespec;
use crate::file::File;
use crate::vfs::inode::downcast;
use crate::vfs::mount::Mount;
use crate::vfs::tmpfs::TmpNode;
use crate::vfs::{Clock, Dentry, FileKind, FileSystem, Inode, InodeFile, Metadata, MountFlags, TmpFs};
use crate::{Errno, SysResult};

/// `F_ADD_SEALS` bits.
pub mod seals {
    pub const F_SEAL_SEAL: u32 = 0x0001;
    pub const F_SEAL_SHRINK: u32 = 0x0002;
    pub const F_SEAL_GROW: u32 = 0x0004;
    pub const F_SEAL_WRITE: u32 = 0x0008;
    pub const F_SEAL_FUTURE_WRITE: u32 = 0x0010;
    pub const F_SEAL_EXEC: u32 = 0x0020;
    pub const ALL: u32 = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;
    /// The seals that forbid writing.
    pub const ANY_WRITE: u32 = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
}

/// `memfd_create` flags.
pub mod flags {
    pub const MFD_CLOEXEC: u32 = 0x0001;
    pub const MFD_ALLOW_SEALING: u32 = 0x0002;
    pub const MFD_HUGETLB: u32 = 0x0004;
    pub const MFD_NOEXEC_SEAL: u32 = 0x0008;
    pub const MFD_EXEC: u32 = 0x0010;
    pub const ALL: u32 = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
}

/// The longest name, in bytes (`NAME_MAX` less the `memfd:` prefix).
pub const NAME_MAX: usize = 249;

const PAGE: u64 = 4096;

/// A memfd's node: a tmpfs file plus its seals.
pub struct MemfdNode {
    inner: Arc<dyn Inode>,
    seals: AtomicU32,
}

impl MemfdNode {
    pub fn seals(&self) -> u32 {
        self.seals.load(Ordering::Acquire)
    }

    /// How much of a write of `len` bytes at `offset` goes in under `F_SEAL_GROW`:
    /// Linux copies page by page and stops at the first piece that would end past the
    /// end of the file.
    fn growth_allowed(&self, offset: u64, len: usize) -> Result<usize, Errno> {
        let size = self.inner.metadata()?.size;
        let mut done = 0usize;
        while done < len {
            let pos = offset + done as u64;
            let chunk = (len - done).min((PAGE - pos % PAGE) as usize);
            if pos + chunk as u64 > size {
                break;
            }
            done += chunk;
        }
        Ok(done)
    }
}

impl Inode for MemfdNode {
    fn kind(&self) -> FileKind {
        FileKind::Regular
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        self.inner.metadata()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> SysResult {
        self.inner.read_at(offset, buf)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> SysResult {
        let seals = self.seals();
        if seals & seals::ANY_WRITE != 0 {
            return Err(Errno::EPERM);
        }
        if seals & seals::F_SEAL_GROW != 0 && !buf.is_empty() {
            let n = self.growth_allowed(offset, buf.len())?;
            if n == 0 {
                return Err(Errno::EPERM);
            }
            return self.inner.write_at(offset, &buf[..n]);
        }
        self.inner.write_at(offset, buf)
    }

    fn append(&self, buf: &[u8]) -> Result<(usize, u64), Errno> {
        let seals = self.seals();
        if seals & seals::ANY_WRITE != 0 || (seals & seals::F_SEAL_GROW != 0 && !buf.is_empty()) {
            return Err(Errno::EPERM);
        }
        self.inner.append(buf)
    }

    fn truncate(&self, len: u64) -> Result<(), Errno> {
        let seals = self.seals();
        let size = self.inner.metadata()?.size;
        if (len < size && seals & seals::F_SEAL_SHRINK != 0) || (len > size && seals & seals::F_SEAL_GROW != 0) {
            return Err(Errno::EPERM);
        }
        self.inner.truncate(len)
    }

    fn seek_data(&self, offset: u64, hole: bool) -> Result<u64, Errno> {
        self.inner.seek_data(offset, hole)
    }

    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> Result<(), Errno> {
        self.inner.set_times(atime, mtime)
    }

    fn set_mode(&self, mode: u32) -> Result<(), Errno> {
        if self.seals() & seals::F_SEAL_EXEC != 0 && (self.inner.metadata()?.mode ^ mode) & 0o111 != 0 {
            return Err(Errno::EPERM);
        }
        self.inner.set_mode(mode)
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
        self.inner.set_owner(uid, gid)
    }
}

/// The internal tmpfs memfds live on, and its root dentry.
struct ShmMount {
    fs: Arc<TmpFs>,
    root: Arc<Dentry>,
}

static SHM: spin::Once<ShmMount> = spin::Once::new();

fn shm(clock: &Clock) -> &'static ShmMount {
    SHM.call_once(|| {
        let fs = TmpFs::new(clock.clone());
        let mount = Mount::new(0, fs.clone(), MountFlags::default(), b"tmpfs");
        let root = Dentry::new_root(fs.root(), mount, None);
        ShmMount { fs, root }
    })
}

/// `memfd_create(name, flags)` after the name is read: the file to install (open for
/// reading and writing). EINVAL for unknown flags, for `MFD_EXEC` with
/// `MFD_NOEXEC_SEAL`, for a name over [`NAME_MAX`] bytes, and for `MFD_HUGETLB` (no
/// huge pages here). `clock` stamps the files.
pub fn create(clock: &Clock, name: &[u8], flags: u32) -> Result<Arc<dyn File>, Errno> {
    use self::flags::*;
    if flags & !ALL != 0 || flags & (MFD_EXEC | MFD_NOEXEC_SEAL) == MFD_EXEC | MFD_NOEXEC_SEAL {
        return Err(Errno::EINVAL);
    }
    if flags & MFD_HUGETLB != 0 || name.len() > NAME_MAX {
        return Err(Errno::EINVAL);
    }
    let (mode, initial) = if flags & MFD_NOEXEC_SEAL != 0 {
        (0o666, seals::F_SEAL_EXEC)
    } else if flags & MFD_ALLOW_SEALING != 0 {
        (0o777, 0)
    } else {
        (0o777, seals::F_SEAL_SEAL)
    };
    let shm = shm(clock);
    let inner = shm.fs.create_unnamed(mode)?;
    let node: Arc<dyn Inode> = Arc::new(MemfdNode { inner, seals: AtomicU32::new(initial) });
    let mut dname = Vec::from(&b"memfd:"[..]);
    dname.extend_from_slice(name);
    let dentry = shm.root.child(&dname, node);
    dentry.detach();
    Ok(InodeFile::new(dentry))
}

/// The node that holds `inode`'s data: a memfd's tmpfs file, whose writes its seals do
/// not check (for writing back what a mapping made before a seal wrote), or `inode`.
pub fn storage(inode: &Arc<dyn Inode>) -> Arc<dyn Inode> {
    match downcast::<MemfdNode>(inode) {
        Some(m) => m.inner.clone(),
        None => inode.clone(),
    }
}

/// The seals of `inode` (`F_GET_SEALS`): a memfd's own; `F_SEAL_SEAL` for another
/// tmpfs file; `None` (EINVAL) for a file that is not in memory.
pub fn seals_of(inode: &Arc<dyn Inode>) -> Option<u32> {
    if let Some(m) = downcast::<MemfdNode>(inode) {
        return Some(m.seals());
    }
    downcast::<TmpNode>(inode).filter(|n| n.kind() == FileKind::Regular).map(|_| seals::F_SEAL_SEAL)
}

/// `F_ADD_SEALS` on `inode` (the caller has checked the description is writable and
/// the bits are known). EINVAL for a file without seals, EPERM once `F_SEAL_SEAL` is
/// set, EBUSY for `F_SEAL_WRITE` while `writably_mapped()` (a shared mapping that may
/// write exists). `F_SEAL_EXEC` on an executable file also seals writing and resizing.
pub fn add_seals(inode: &Arc<dyn Inode>, add: u32, writably_mapped: impl FnOnce() -> bool) -> Result<(), Errno> {
    use self::seals::*;
    let current = seals_of(inode).ok_or(Errno::EINVAL)?;
    if current & F_SEAL_SEAL != 0 {
        return Err(Errno::EPERM);
    }
    let node = downcast::<MemfdNode>(inode).ok_or(Errno::EPERM)?;
    let mut add = add;
    if add & F_SEAL_EXEC != 0 && node.inner.metadata()?.mode & 0o111 != 0 {
        add |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
    }
    if add & F_SEAL_WRITE != 0 && current & F_SEAL_WRITE == 0 && writably_mapped() {
        return Err(Errno::EBUSY);
    }
    node.seals.fetch_or(add, Ordering::AcqRel);
    Ok(())
}

#[cfg(test)]
#[path = "memfd_tests.rs"]
mod tests;
