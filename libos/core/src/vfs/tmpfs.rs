//! tmpfs: a filesystem in memory.
//!
//! What `/tmp` is, and what the VFS's tests run on, so it implements everything the
//! [`Inode`] trait offers with Linux's tmpfs behaviour:
//!
//! - **Regular files** are sparse: data lives in 4 KiB pages kept in an ordered map by
//!   page index, and a page exists only once something was written into it. Growing a
//!   file by `truncate` or by writing far past the end costs nothing for the gap, which
//!   reads as zeros and which `SEEK_HOLE` reports as a hole; `st_blocks` counts only
//!   the pages that exist.
//! - **Directories** keep their entries in creation order. Each entry gets a cookie
//!   from a per-directory counter that only grows; the listing order is cookie order
//!   and the `d_off` of an entry is its cookie + 1. A listing resumed at a cookie thus
//!   never repeats or skips a surviving entry, however the directory changes in
//!   between (this is what Linux's tmpfs does since 6.6 with its "stable offsets").
//!   `.` and `..` are cookies 0 and 1. A directory's size is 20 bytes per entry
//!   including the dots, as tmpfs reports it.
//! - **Symlinks**, **hard links** (`nlink` counts names; a directory has 2 + its
//!   subdirectories), **special files** (FIFOs, sockets, device nodes: metadata only),
//!   permission bits, owners, and nanosecond timestamps read from the [`Clock`] given at
//!   creation (`atime` follows the `relatime` rule).
//! - **Limits**: an optional size in bytes and number of inodes ([`TmpfsLimits`]);
//!   beyond them writes and creations fail with ENOSPC (a write that fills the last page
//!   returns a short count). Pages of an unlinked file are freed when its last user
//!   lets go, not at `unlink`.
//!
//! # Locking
//!
//! Each node has a lock for its metadata and one for its contents (pages or entries).
//! Every change to the tree (create, link, unlink, rename) first takes the
//! filesystem-wide `tree` lock, so two of them never wait on each other's directory
//! locks in opposite orders; lookups and listings take only the one directory's lock
//! and never wait on another lock while holding it. Metadata locks are leaves: nothing
//! is locked while one is held.

use alloc::boxed::Box;
use alloc::collections::btree_map::Entry;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::inode::{downcast, emit_dots, magic, DirEntry, FileKind, FileSystem, Inode, Metadata, Statfs};
use super::path::check_name;
use super::rename_flags::{RENAME_EXCHANGE, RENAME_NOREPLACE};
use super::Clock;
use crate::abi::Timespec;
use crate::{Errno, SysResult};

/// The page size of file contents.
const PAGE: u64 = 4096;
/// The largest file size (`MAX_LFS_FILESIZE`).
const MAX_FILE_SIZE: u64 = i64::MAX as u64;
/// What tmpfs counts per directory entry in a directory's size (`BOGO_DIRENT_SIZE`).
const BOGO_DIRENT_SIZE: u64 = 20;
/// `relatime`: atime is also refreshed when it is this old.
const RELATIME_SECS: i64 = 24 * 60 * 60;

const S_ISUID: u32 = 0o4000;
const S_ISGID: u32 = 0o2000;
const S_IXGRP: u32 = 0o0010;

/// How big a tmpfs may grow (`size=` and `nr_inodes=` of a Linux tmpfs mount).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TmpfsLimits {
    /// Bytes of file data (rounded down to pages); `None` for unlimited.
    pub max_bytes: Option<u64>,
    /// Nodes, the root included; `None` for unlimited.
    pub max_inodes: Option<u64>,
}

/// A tmpfs instance.
pub struct TmpFs {
    shared: Arc<Shared>,
    root: Arc<TmpNode>,
}

/// What every node of one tmpfs shares. Holds no nodes, so nodes can point at it
/// without making a cycle.
struct Shared {
    dev: u64,
    clock: Clock,
    next_ino: AtomicU64,
    /// Serialises every change to the tree (see the module docs).
    tree: spin::Mutex<()>,
    limits: TmpfsLimits,
    /// Pages of file data in use.
    pages: AtomicU64,
    /// Nodes in existence.
    inodes: AtomicU64,
}

impl Shared {
    fn now(&self) -> Timespec {
        (self.clock)()
    }

    fn max_pages(&self) -> Option<u64> {
        self.limits.max_bytes.map(|b| b / PAGE)
    }

    /// Accounts for one more page of data (ENOSPC past the limit).
    fn reserve_page(&self) -> Result<(), Errno> {
        let used = self.pages.fetch_add(1, Ordering::Relaxed) + 1;
        if self.max_pages().is_some_and(|max| used > max) {
            self.pages.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        Ok(())
    }

    fn release_pages(&self, n: u64) {
        self.pages.fetch_sub(n, Ordering::Relaxed);
    }

    fn new_node(self: &Arc<Self>, kind: FileKind, mode: u32, rdev: u64, body: Body) -> Result<Arc<TmpNode>, Errno> {
        let count = self.inodes.fetch_add(1, Ordering::Relaxed) + 1;
        if self.limits.max_inodes.is_some_and(|max| count > max) {
            self.inodes.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        let now = self.now();
        let nlink = if kind == FileKind::Directory { 2 } else { 1 };
        Ok(Arc::new_cyclic(|this| TmpNode {
            shared: self.clone(),
            this: this.clone(),
            ino: self.next_ino.fetch_add(1, Ordering::Relaxed),
            kind,
            meta: spin::Mutex::new(Meta {
                mode: mode & 0o7777,
                nlink,
                uid: 0,
                gid: 0,
                rdev,
                atime: now,
                mtime: now,
                ctime: now,
            }),
            body,
        }))
    }
}

impl TmpFs {
    /// An empty, unlimited tmpfs whose root has mode `0o1777`, as `/tmp` has.
    pub fn new(clock: Clock) -> Arc<TmpFs> {
        TmpFs::with_limits(clock, TmpfsLimits::default())
    }

    /// An empty tmpfs with `limits`.
    pub fn with_limits(clock: Clock, limits: TmpfsLimits) -> Arc<TmpFs> {
        let shared = Arc::new(Shared {
            dev: super::mount::anon_dev(),
            clock,
            next_ino: AtomicU64::new(1),
            tree: spin::Mutex::new(()),
            limits,
            pages: AtomicU64::new(0),
            inodes: AtomicU64::new(0),
        });
        // The root is its own parent.
        let now = shared.now();
        shared.inodes.fetch_add(1, Ordering::Relaxed);
        let root = Arc::new_cyclic(|this: &Weak<TmpNode>| TmpNode {
            shared: shared.clone(),
            this: this.clone(),
            ino: shared.next_ino.fetch_add(1, Ordering::Relaxed),
            kind: FileKind::Directory,
            meta: spin::Mutex::new(Meta {
                mode: 0o1777,
                nlink: 2,
                uid: 0,
                gid: 0,
                rdev: 0,
                atime: now,
                mtime: now,
                ctime: now,
            }),
            body: Body::Dir(spin::Mutex::new(DirBody::new(this.clone()))),
        });
        Arc::new(TmpFs { shared, root })
    }

    /// The device number every node reports.
    pub fn dev(&self) -> u64 {
        self.shared.dev
    }

    /// A regular file with permission bits `mode` and no name anywhere (`nlink` 0), as
    /// `memfd_create` and `O_TMPFILE` make: it lives as long as something holds it.
    pub fn create_unnamed(&self, mode: u32) -> Result<Arc<dyn Inode>, Errno> {
        let body = Body::File(spin::Mutex::new(Pages::default()));
        let node = self.shared.new_node(FileKind::Regular, mode, 0, body)?;
        node.meta.lock().nlink = 0;
        Ok(node)
    }

    /// Bytes of file data in use (whole pages).
    pub fn used_bytes(&self) -> u64 {
        self.shared.pages.load(Ordering::Relaxed) * PAGE
    }

    /// Nodes in existence, the root included (unlinked nodes still open count).
    pub fn inode_count(&self) -> u64 {
        self.shared.inodes.load(Ordering::Relaxed)
    }
}

impl FileSystem for TmpFs {
    fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }

    fn fs_type(&self) -> &'static str {
        "tmpfs"
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        // An unlimited tmpfs reports zeros, as Linux's does with size=0.
        let used_pages = self.shared.pages.load(Ordering::Relaxed);
        let blocks = self.shared.max_pages().unwrap_or(0);
        let free = blocks.saturating_sub(used_pages);
        let files = self.shared.limits.max_inodes.unwrap_or(0);
        let ffree = files.saturating_sub(self.inode_count());
        Ok(Statfs {
            f_type: magic::TMPFS_MAGIC,
            f_bsize: PAGE as i64,
            f_blocks: blocks,
            f_bfree: free,
            f_bavail: free,
            f_files: files,
            f_ffree: ffree,
            f_namelen: super::NAME_MAX as i64,
            f_frsize: PAGE as i64,
            ..Statfs::default()
        })
    }
}

/// A node of a tmpfs.
pub struct TmpNode {
    shared: Arc<Shared>,
    this: Weak<TmpNode>,
    ino: u64,
    kind: FileKind,
    meta: spin::Mutex<Meta>,
    body: Body,
}

struct Meta {
    mode: u32,
    nlink: u64,
    uid: u32,
    gid: u32,
    rdev: u64,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
}

enum Body {
    File(spin::Mutex<Pages>),
    Dir(spin::Mutex<DirBody>),
    Symlink(Vec<u8>),
    /// FIFOs, sockets, device nodes: nothing but metadata.
    Special,
}

/// The contents of a regular file.
#[derive(Default)]
struct Pages {
    /// Page index → 4 KiB. Absent pages are holes. Every page lies below `size`.
    map: BTreeMap<u64, Box<[u8]>>,
    size: u64,
}

/// The entries of a directory.
struct DirBody {
    /// Cookie → entry, in creation order.
    slots: BTreeMap<u64, Slot>,
    /// Name → cookie.
    names: BTreeMap<Vec<u8>, u64>,
    next_cookie: u64,
    /// `..` (the root points at itself).
    parent: Weak<TmpNode>,
    /// Set by `rmdir`: nothing can be looked up or created here any more.
    removed: bool,
}

struct Slot {
    name: Vec<u8>,
    node: Arc<TmpNode>,
}

impl DirBody {
    fn new(parent: Weak<TmpNode>) -> DirBody {
        DirBody { slots: BTreeMap::new(), names: BTreeMap::new(), next_cookie: 2, parent, removed: false }
    }

    fn get(&self, name: &[u8]) -> Option<&Arc<TmpNode>> {
        let cookie = self.names.get(name)?;
        self.slots.get(cookie).map(|s| &s.node)
    }

    /// Adds `name` (or replaces what it named, moving it to the end of the listing).
    fn put(&mut self, name: &[u8], node: Arc<TmpNode>) {
        self.remove(name);
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        self.names.insert(name.to_vec(), cookie);
        self.slots.insert(cookie, Slot { name: name.to_vec(), node });
    }

    /// Points the existing `name` at `node`, keeping its place in the listing.
    fn repoint(&mut self, name: &[u8], node: Arc<TmpNode>) {
        if let Some(slot) = self.names.get(name).and_then(|c| self.slots.get_mut(c)) {
            slot.node = node;
        }
    }

    fn remove(&mut self, name: &[u8]) -> Option<Arc<TmpNode>> {
        let cookie = self.names.remove(name)?;
        self.slots.remove(&cookie).map(|s| s.node)
    }

    fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

impl Drop for TmpNode {
    fn drop(&mut self) {
        if let Body::File(pages) = &self.body {
            self.shared.release_pages(pages.lock().map.len() as u64);
        }
        self.shared.inodes.fetch_sub(1, Ordering::Relaxed);
    }
}

impl TmpNode {
    fn arc(&self) -> Arc<TmpNode> {
        self.this.upgrade().expect("a node in use is alive")
    }

    fn dir(&self) -> Result<&spin::Mutex<DirBody>, Errno> {
        match &self.body {
            Body::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn pages(&self) -> Result<&spin::Mutex<Pages>, Errno> {
        match &self.body {
            Body::File(p) => Ok(p),
            Body::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Another directory of this filesystem (EXDEV for a foreign node, ENOTDIR).
    fn same_fs_dir<'a>(&self, other: &'a Arc<dyn Inode>) -> Result<&'a TmpNode, Errno> {
        let node = downcast::<TmpNode>(other).filter(|n| Arc::ptr_eq(&n.shared, &self.shared));
        let node = node.ok_or(Errno::EXDEV)?;
        node.dir()?;
        Ok(node)
    }

    fn now(&self) -> Timespec {
        self.shared.now()
    }

    /// A change to the contents: mtime and ctime become now.
    fn touch_modified(&self) {
        let now = self.now();
        let mut m = self.meta.lock();
        m.mtime = now;
        m.ctime = now;
    }

    fn touch_changed(&self) {
        let now = self.now();
        self.meta.lock().ctime = now;
    }

    /// A read: atime becomes now under `relatime` (if it is not newer than mtime or
    /// ctime, or is a day old).
    fn touch_accessed(&self) {
        let now = self.now();
        let mut m = self.meta.lock();
        if m.atime <= m.mtime || m.atime <= m.ctime || now.tv_sec - m.atime.tv_sec >= RELATIME_SECS {
            m.atime = now;
        }
    }

    fn add_links(&self, delta: i64) {
        let mut m = self.meta.lock();
        m.nlink = m.nlink.saturating_add_signed(delta);
    }

    /// Makes a child `name` with `body` (the tree lock held by the caller).
    fn add_child(&self, name: &[u8], kind: FileKind, mode: u32, rdev: u64, body: Body) -> Result<Arc<TmpNode>, Errno> {
        let mut entries = self.dir()?.lock();
        if entries.removed {
            return Err(Errno::ENOENT);
        }
        if entries.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let node = self.shared.new_node(kind, mode, rdev, body)?;
        entries.put(name, node.clone());
        drop(entries);
        if kind == FileKind::Directory {
            self.add_links(1);
        }
        self.touch_modified();
        Ok(node)
    }

    /// Writes `buf` at `offset` into `pages`; a short count when space runs out.
    fn write_pages(&self, pages: &mut Pages, offset: u64, buf: &[u8]) -> SysResult {
        if buf.is_empty() {
            return Ok(0);
        }
        if offset >= MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let len = (buf.len() as u64).min(MAX_FILE_SIZE - offset) as usize;
        let mut done = 0;
        while done < len {
            let pos = offset + done as u64;
            let (index, within) = (pos / PAGE, (pos % PAGE) as usize);
            let chunk = (PAGE as usize - within).min(len - done);
            let page = match pages.map.entry(index) {
                Entry::Occupied(page) => page.into_mut(),
                Entry::Vacant(hole) => {
                    if let Err(e) = self.shared.reserve_page() {
                        if done == 0 {
                            return Err(e);
                        }
                        break;
                    }
                    hole.insert(vec![0u8; PAGE as usize].into_boxed_slice())
                }
            };
            page[within..within + chunk].copy_from_slice(&buf[done..done + chunk]);
            done += chunk;
        }
        pages.size = pages.size.max(offset + done as u64);
        Ok(done)
    }
}

impl Inode for TmpNode {
    fn kind(&self) -> FileKind {
        self.kind
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        let (size, blocks) = match &self.body {
            Body::File(p) => {
                let p = p.lock();
                (p.size, p.map.len() as u64 * (PAGE / 512))
            }
            Body::Dir(d) => ((d.lock().slots.len() as u64 + 2) * BOGO_DIRENT_SIZE, 0),
            Body::Symlink(target) => (target.len() as u64, 0),
            Body::Special => (0, 0),
        };
        let m = self.meta.lock();
        Ok(Metadata {
            kind: self.kind,
            mode: m.mode,
            nlink: m.nlink,
            ino: self.ino,
            dev: self.shared.dev,
            rdev: m.rdev,
            size,
            blksize: PAGE as u32,
            blocks,
            uid: m.uid,
            gid: m.gid,
            atime: m.atime,
            mtime: m.mtime,
            ctime: m.ctime,
        })
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        check_name(name)?;
        let entries = self.dir()?.lock();
        if entries.removed {
            return Err(Errno::ENOENT);
        }
        match entries.get(name) {
            Some(node) => Ok(node.clone()),
            None => Err(Errno::ENOENT),
        }
    }

    fn create(&self, name: &[u8], kind: FileKind, mode: u32, rdev: u64) -> Result<Arc<dyn Inode>, Errno> {
        check_name(name)?;
        self.dir()?;
        let body = match kind {
            FileKind::Regular => Body::File(spin::Mutex::new(Pages::default())),
            FileKind::Directory => Body::Dir(spin::Mutex::new(DirBody::new(self.this.clone()))),
            FileKind::Symlink => return Err(Errno::EINVAL),
            _ => Body::Special,
        };
        let _tree = self.shared.tree.lock();
        Ok(self.add_child(name, kind, mode, rdev, body)?)
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        check_name(name)?;
        self.dir()?;
        let _tree = self.shared.tree.lock();
        Ok(self.add_child(name, FileKind::Symlink, 0o777, 0, Body::Symlink(target.to_vec()))?)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        check_name(name)?;
        self.dir()?;
        let node = downcast::<TmpNode>(target).filter(|n| Arc::ptr_eq(&n.shared, &self.shared));
        let node = node.ok_or(Errno::EXDEV)?;
        if node.kind == FileKind::Directory {
            return Err(Errno::EPERM);
        }
        let _tree = self.shared.tree.lock();
        let mut entries = self.dir()?.lock();
        if entries.removed {
            return Err(Errno::ENOENT);
        }
        if entries.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        {
            // A node whose last name is gone cannot get a new one.
            let mut m = node.meta.lock();
            if m.nlink == 0 {
                return Err(Errno::ENOENT);
            }
            m.nlink += 1;
            m.ctime = self.now();
        }
        entries.put(name, node.arc());
        drop(entries);
        self.touch_modified();
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> Result<(), Errno> {
        let _tree = self.shared.tree.lock();
        let mut entries = self.dir()?.lock();
        let node = entries.get(name).ok_or(Errno::ENOENT)?;
        if node.kind == FileKind::Directory {
            return Err(Errno::EISDIR);
        }
        let node = entries.remove(name).expect("just found");
        drop(entries);
        node.add_links(-1);
        node.touch_changed();
        self.touch_modified();
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> Result<(), Errno> {
        let _tree = self.shared.tree.lock();
        let mut entries = self.dir()?.lock();
        let node = entries.get(name).ok_or(Errno::ENOENT)?.clone();
        {
            let mut victim = node.dir()?.lock();
            if !victim.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            victim.removed = true;
        }
        entries.remove(name);
        drop(entries);
        {
            let mut m = node.meta.lock();
            m.nlink = 0;
            m.ctime = self.now();
        }
        self.add_links(-1);
        self.touch_modified();
        Ok(())
    }

    fn rename(&self, old_name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8], flags: u32) -> Result<(), Errno> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0 || flags == RENAME_NOREPLACE | RENAME_EXCHANGE {
            // RENAME_WHITEOUT (and anything unknown) is not supported here.
            return Err(Errno::EINVAL);
        }
        let exchange = flags & RENAME_EXCHANGE != 0;
        check_name(new_name)?;
        let nd = self.same_fs_dir(new_dir)?;
        self.dir()?;
        let same_dir = core::ptr::eq(self, nd);
        let _tree = self.shared.tree.lock();

        // With the tree lock held nothing moves: find the node, and refuse to move a
        // directory under itself (the VFS checks this too; here it would also deadlock).
        let old = {
            let entries = self.dir()?.lock();
            if entries.removed {
                return Err(Errno::ENOENT);
            }
            entries.get(old_name).ok_or(Errno::ENOENT)?.clone()
        };
        let mut up = Some(nd.arc());
        while let Some(d) = up {
            if Arc::ptr_eq(&d, &old) {
                return Err(Errno::EINVAL);
            }
            let parent = d.dir()?.lock().parent.upgrade();
            up = parent.filter(|p| !Arc::ptr_eq(p, &d));
        }

        let mut olds = self.dir()?.lock();
        let mut news = if same_dir { None } else { Some(nd.dir()?.lock()) };
        let target = match news.as_deref() {
            Some(n) if n.removed => return Err(Errno::ENOENT),
            Some(n) => n.get(new_name).cloned(),
            None => olds.get(new_name).cloned(),
        };
        match &target {
            Some(_) if flags & RENAME_NOREPLACE != 0 => return Err(Errno::EEXIST),
            None if exchange => return Err(Errno::ENOENT),
            Some(t) if Arc::ptr_eq(t, &old) => return Ok(()),
            // The target contains the source: it is not empty.
            Some(t) if core::ptr::eq(&**t, self) => {
                return Err(if exchange { Errno::EINVAL } else { Errno::ENOTEMPTY });
            }
            Some(t) if !exchange => match (old.kind == FileKind::Directory, t.kind == FileKind::Directory) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !t.dir()?.lock().is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            },
            _ => {}
        }

        // The new name first, so it never goes missing.
        {
            let news: &mut DirBody = match news.as_deref_mut() {
                Some(n) => n,
                None => &mut olds,
            };
            if exchange {
                news.repoint(new_name, old.clone());
            } else {
                news.put(new_name, old.clone());
            }
        }
        if exchange {
            olds.repoint(old_name, target.clone().expect("exchange has a target"));
        } else {
            olds.remove(old_name);
        }
        drop(news);
        drop(olds);

        let now = self.now();
        let is_dir = |n: &TmpNode| n.kind == FileKind::Directory;
        if !same_dir {
            if is_dir(&old) {
                old.dir()?.lock().parent = nd.this.clone();
                self.add_links(-1);
                nd.add_links(1);
            }
            if let Some(t) = target.as_ref().filter(|t| exchange && is_dir(t)) {
                t.dir()?.lock().parent = self.this.clone();
                nd.add_links(-1);
                self.add_links(1);
            }
        }
        if let Some(t) = &target {
            if !exchange {
                if is_dir(t) {
                    t.dir()?.lock().removed = true;
                    t.meta.lock().nlink = 0;
                    nd.add_links(-1);
                } else {
                    t.add_links(-1);
                }
            }
            t.meta.lock().ctime = now;
        }
        old.meta.lock().ctime = now;
        self.touch_modified();
        if !same_dir {
            nd.touch_modified();
        }
        Ok(())
    }

    fn read_dir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> Result<(), Errno> {
        let entries = self.dir()?.lock();
        if entries.removed {
            return Err(Errno::ENOENT);
        }
        let parent_ino = entries.parent.upgrade().map_or(self.ino, |p| p.ino);
        if !emit_dots(offset, self.ino, parent_ino, sink) {
            return Ok(());
        }
        for (&cookie, slot) in entries.slots.range(offset.max(2)..) {
            let entry = DirEntry { ino: slot.node.ino, kind: slot.node.kind, name: &slot.name, next: cookie + 1 };
            if !sink(entry) {
                break;
            }
        }
        Ok(())
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match &self.body {
            Body::Symlink(target) => {
                self.touch_accessed();
                Ok(target.clone())
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> SysResult {
        let n = {
            let pages = self.pages()?.lock();
            if offset >= pages.size || buf.is_empty() {
                0
            } else {
                let n = (buf.len() as u64).min(pages.size - offset) as usize;
                let mut done = 0;
                while done < n {
                    let pos = offset + done as u64;
                    let (index, within) = (pos / PAGE, (pos % PAGE) as usize);
                    let chunk = (PAGE as usize - within).min(n - done);
                    match pages.map.get(&index) {
                        Some(page) => buf[done..done + chunk].copy_from_slice(&page[within..within + chunk]),
                        None => buf[done..done + chunk].fill(0),
                    }
                    done += chunk;
                }
                n
            }
        };
        self.touch_accessed();
        Ok(n)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> SysResult {
        let n = self.write_pages(&mut self.pages()?.lock(), offset, buf)?;
        if n > 0 {
            self.touch_modified();
        }
        Ok(n)
    }

    fn append(&self, buf: &[u8]) -> Result<(usize, u64), Errno> {
        let (n, end) = {
            let mut pages = self.pages()?.lock();
            let offset = pages.size;
            let n = self.write_pages(&mut pages, offset, buf)?;
            (n, offset + n as u64)
        };
        if n > 0 {
            self.touch_modified();
        }
        Ok((n, end))
    }

    fn truncate(&self, len: u64) -> Result<(), Errno> {
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        {
            let mut pages = self.pages()?.lock();
            if len < pages.size {
                let dropped = pages.map.split_off(&len.div_ceil(PAGE));
                self.shared.release_pages(dropped.len() as u64);
                let within = (len % PAGE) as usize;
                if within != 0 {
                    if let Some(page) = pages.map.get_mut(&(len / PAGE)) {
                        page[within..].fill(0);
                    }
                }
            }
            pages.size = len;
        }
        self.touch_modified();
        Ok(())
    }

    fn seek_data(&self, offset: u64, hole: bool) -> Result<u64, Errno> {
        let pages = self.pages()?.lock();
        if offset >= pages.size {
            return Err(Errno::ENXIO);
        }
        let first = offset / PAGE;
        if hole {
            // The first missing page at or after `first` (or the end).
            let mut expect = first;
            for (&index, _) in pages.map.range(first..) {
                if index != expect {
                    break;
                }
                expect += 1;
            }
            Ok((expect * PAGE).max(offset).min(pages.size))
        } else {
            match pages.map.range(first..).next() {
                Some((&index, _)) => Ok((index * PAGE).max(offset)),
                None => Err(Errno::ENXIO),
            }
        }
    }

    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> Result<(), Errno> {
        let now = self.now();
        let mut m = self.meta.lock();
        if let Some(t) = atime {
            m.atime = t;
        }
        if let Some(t) = mtime {
            m.mtime = t;
        }
        m.ctime = now;
        Ok(())
    }

    fn set_mode(&self, mode: u32) -> Result<(), Errno> {
        let now = self.now();
        let mut m = self.meta.lock();
        m.mode = mode & 0o7777;
        m.ctime = now;
        Ok(())
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
        let now = self.now();
        let mut m = self.meta.lock();
        if let Some(uid) = uid {
            m.uid = uid;
        }
        if let Some(gid) = gid {
            m.gid = gid;
        }
        // chown of a non-directory drops set-uid, and set-gid when it means "run with
        // the group" (group-executable), even for root.
        if self.kind != FileKind::Directory {
            m.mode &= !S_ISUID;
            if m.mode & S_IXGRP != 0 {
                m.mode &= !S_ISGID;
            }
        }
        m.ctime = now;
        Ok(())
    }
}
