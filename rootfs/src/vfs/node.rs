//! [`FatInode`]: the `libos::vfs::Inode` of a FAT file or directory.
//!
//! An inode object is a thin handle — the mount and an inode number; the node itself
//! lives in the mount's locked [`State`](super::state::State). Every method takes that one
//! lock for its whole work, so each operation is atomic with respect to the others.

use alloc::sync::Arc;

use libos::abi::Timespec;
use libos::vfs::inode::{downcast, emit_dots};
use libos::vfs::{DirEntry, FileKind, Inode, Metadata};
use libos::{Errno, SysResult};

use super::names;
use super::state::{Life, State};
use super::{mode, times, Volume};

/// A file or directory of a mounted FAT volume.
pub struct FatInode {
    vol: Arc<Volume>,
    ino: u64,
    kind: FileKind,
}

impl FatInode {
    pub(super) fn new(vol: Arc<Volume>, ino: u64, kind: FileKind) -> FatInode {
        FatInode { vol, ino, kind }
    }

    /// Runs `f` under the mount's lock, after settling what earlier calls left (a failure
    /// there is the device's, and is reported by `sync`).
    fn with<R>(&self, f: impl FnOnce(&mut State) -> Result<R, Errno>) -> Result<R, Errno> {
        let mut st = self.vol.state.lock();
        let _ = st.prune();
        f(&mut st)
    }

    /// ENOTDIR unless this is a directory.
    fn require_dir(&self) -> Result<(), Errno> {
        if self.kind == FileKind::Directory {
            Ok(())
        } else {
            Err(Errno::ENOTDIR)
        }
    }

    /// Another directory of the same mount (EXDEV for a foreign node, ENOTDIR).
    fn same_mount_dir<'a>(&self, other: &'a Arc<dyn Inode>) -> Result<&'a FatInode, Errno> {
        let node = downcast::<FatInode>(other).filter(|n| Arc::ptr_eq(&n.vol, &self.vol)).ok_or(Errno::EXDEV)?;
        node.require_dir()?;
        Ok(node)
    }
}

impl Inode for FatInode {
    fn kind(&self) -> FileKind {
        self.kind
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        let opts = &self.vol.opts;
        let cluster = u64::from(self.vol.cluster_size);
        self.with(|st| {
            let (size, nlink) = match self.kind {
                FileKind::Directory if st.node(self.ino)?.life == Life::Linked => {
                    // vfat reports a directory's clusters as its size.
                    let known = st.known(self.ino)?;
                    (known.layout.chain.len() as u64 * cluster, 2 + known.listing.subdirs())
                }
                FileKind::Directory => (0, 0),
                _ => {
                    let node = st.node(self.ino)?;
                    (node.size, if node.life == Life::Linked { 1 } else { 0 })
                }
            };
            let node = st.node(self.ino)?;
            Ok(Metadata {
                kind: self.kind,
                mode: mode::mode_of(self.kind, node.read_only, opts),
                nlink,
                ino: self.ino,
                dev: opts.dev,
                rdev: 0,
                size,
                blksize: self.vol.cluster_size,
                blocks: size.div_ceil(cluster) * cluster / 512,
                uid: opts.uid,
                gid: opts.gid,
                atime: times::ts(node.atime),
                mtime: times::ts(node.mtime),
                ctime: times::ts(node.ctime),
            })
        })
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.require_dir()?;
        let name = names::for_lookup(name);
        self.with(|st| {
            let Some(name) = name else {
                // Still ENOENT only if this directory exists.
                st.listing(self.ino)?;
                return Err(Errno::ENOENT);
            };
            let (_, ino) = st.child(self.ino, &name.key)?;
            Ok(st.handle(&self.vol, ino)? as Arc<dyn Inode>)
        })
    }

    fn create(&self, name: &[u8], kind: FileKind, _mode: u32, _rdev: u64) -> Result<Arc<dyn Inode>, Errno> {
        self.require_dir()?;
        // vfat ignores the mode: every file shows the mount's (see `mode`).
        let name = names::for_create(name)?;
        self.with(|st| {
            let ino = st.create(self.ino, &name, kind)?;
            Ok(st.handle(&self.vol, ino)? as Arc<dyn Inode>)
        })
    }

    fn unlink(&self, name: &[u8]) -> Result<(), Errno> {
        self.require_dir()?;
        let name = names::for_lookup(name).ok_or(Errno::ENOENT)?;
        self.with(|st| st.remove(self.ino, &name.key, FileKind::Regular))
    }

    fn rmdir(&self, name: &[u8]) -> Result<(), Errno> {
        self.require_dir()?;
        let name = names::for_lookup(name).ok_or(Errno::ENOENT)?;
        self.with(|st| st.remove(self.ino, &name.key, FileKind::Directory))
    }

    fn rename(&self, old_name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8], flags: u32) -> Result<(), Errno> {
        self.require_dir()?;
        let to = self.same_mount_dir(new_dir)?;
        let old = names::for_lookup(old_name).ok_or(Errno::ENOENT)?;
        let new = names::for_create(new_name)?;
        self.with(|st| st.rename(self.ino, &old.key, to.ino, &new, flags))
    }

    fn read_dir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> Result<(), Errno> {
        self.require_dir()?;
        self.with(|st| {
            let parent = st.node(self.ino)?.parent;
            let listing = st.listing(self.ino)?;
            if !emit_dots(offset, self.ino, parent, sink) {
                return Ok(());
            }
            for (cookie, child) in listing.starting_at(offset) {
                let entry =
                    DirEntry { ino: child.ino, kind: child.kind, name: child.name.as_bytes(), next: cookie + 1 };
                if !sink(entry) {
                    break;
                }
            }
            Ok(())
        })
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> SysResult {
        if self.kind == FileKind::Directory {
            return Err(Errno::EISDIR);
        }
        self.with(|st| st.read(self.ino, offset, buf))
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> SysResult {
        if self.kind == FileKind::Directory {
            return Err(Errno::EISDIR);
        }
        self.with(|st| st.write(self.ino, offset, buf))
    }

    fn append(&self, buf: &[u8]) -> Result<(usize, u64), Errno> {
        if self.kind == FileKind::Directory {
            return Err(Errno::EISDIR);
        }
        self.with(|st| st.append(self.ino, buf))
    }

    fn truncate(&self, len: u64) -> Result<(), Errno> {
        if self.kind == FileKind::Directory {
            return Err(Errno::EISDIR);
        }
        self.with(|st| st.truncate(self.ino, len))
    }

    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> Result<(), Errno> {
        self.with(|st| st.set_times(self.ino, atime, mtime))
    }

    fn set_mode(&self, requested: u32) -> Result<(), Errno> {
        let opts = &self.vol.opts;
        self.with(|st| {
            let now = st.now();
            let node = st.node_mut(self.ino)?;
            let current = mode::mode_of(self.kind, node.read_only, opts);
            node.read_only = mode::chmod(self.kind, current, requested, opts)?;
            node.touch_changed(now);
            Ok(())
        })
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
        mode::chown(uid, gid, &self.vol.opts)?;
        self.with(|st| {
            let now = st.now();
            st.node_mut(self.ino)?.touch_changed(now);
            Ok(())
        })
    }

    fn sync(&self) -> Result<(), Errno> {
        self.with(|st| st.node_mut(self.ino)?.settle())?;
        self.vol.flush_device()
    }
}

impl core::fmt::Debug for FatInode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FatInode").field("ino", &self.ino).field("kind", &self.kind).finish()
    }
}
