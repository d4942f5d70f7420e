//! File pages in guest memory: how `mmap` of a file is backed, and how the file's
//! `read`/`write` stay coherent with its shared mappings.
//!
//! # Shared mappings (`MAP_SHARED`)
//!
//! While a file has any shared mapping, its contents are mirrored in a platform memory
//! object, a [`Backing`] ([`Platform::shm_create`]: a host memfd on the hosted
//! platform). Every shared mapping of the file maps that one object, so they all see
//! each other's writes at once, as on Linux. The object is the file's up-to-date
//! contents for `[0, size)`, page-rounded, which gives Linux's fault rules for free: a
//! page wholly past the end of the file is not there (SIGBUS), and the tail of the last
//! page reads zeros.
//!
//! The file's own `read`/`write` go through the hooks here (called by
//! [`crate::vfs::InodeFile`] and the VFS's truncation), which keep the two coherent at
//! syscall granularity:
//!
//! - a **read** of the file is served from the node and then overlaid with the object
//!   (which holds what the guest wrote through its mappings);
//! - a **write** goes to the node and the same bytes into the object; a change of size
//!   resizes the object (zeroing the old last page's tail, as Linux does);
//! - the node itself catches up (**write-back**: every page that differs) on `msync`
//!   with `MS_SYNC`, `fsync`, when the last mapping of the file goes, and at exit.
//!
//! *Known difference from Linux:* the node lags behind the mappings until a
//! write-back. Everything that reads the file through a description sees the mapped
//! data; what reads the node directly (`stat`'s `st_blocks`, a later `execve` of the
//! file) sees it after the write-back. Linux's page cache is the file, so it has no
//! such window.
//!
//! # Private mappings (`MAP_PRIVATE`)
//!
//! The mapped part of the file is copied into a fresh object at `mmap` time and mapped
//! copy-on-write; the object is released at once (the mapping keeps its pages). Pages
//! past the end of the file are again absent (SIGBUS). *Known difference:* Linux shows
//! later changes of the file in pages the process has not written yet (POSIX leaves
//! this unspecified); here the copy is a snapshot.
//!
//! # Locking
//!
//! `GATE` orders writers against the creation and release of backings: every write
//! hook holds it shared, [`share`] and the release of a backing hold it exclusively, so
//! no write can slip between copying a file into a new object and registering it. A
//! backing's `size` lock serialises the updates of one object.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{page_up, Prot, PAGE_SIZE};
use crate::platform::{Platform, ShmId};
use crate::vfs::Inode;
use crate::{Errno, SysResult};

const PAGE: usize = PAGE_SIZE as usize;
/// How much is copied at a time when filling an object.
const CHUNK: usize = 64 * 1024;

/// The mirror of one file while it has shared mappings.
pub struct Backing {
    /// The node as it was mapped, and its `(st_dev, st_ino)`: how the hooks recognise
    /// it (by pointer, or by identity for a filesystem that hands out a new object per
    /// lookup).
    mapped: Arc<dyn Inode>,
    key: (u64, u64),
    /// The node whose contents the object holds; written back to without the checks a
    /// `write` makes (a memfd's seals do not stop data written through a mapping
    /// that existed before the seal).
    storage: Arc<dyn Inode>,
    platform: &'static dyn Platform,
    shm: ShmId,
    /// The file size the object mirrors; its lock serialises changes to the object.
    size: spin::Mutex<u64>,
    /// Mapping pieces (VMAs) that map it.
    maps: AtomicUsize,
}

static REGISTRY: spin::Mutex<Vec<Arc<Backing>>> = spin::Mutex::new(Vec::new());
/// `REGISTRY.len()`, read without the lock by the hooks' fast path.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static GATE: spin::RwLock<()> = spin::RwLock::new(());

/// The backing of `inode`, if it is mapped shared.
fn find(inode: &Arc<dyn Inode>) -> Option<Arc<Backing>> {
    if LIVE.load(Ordering::Acquire) == 0 {
        return None;
    }
    let registry = REGISTRY.lock();
    let same_object = |b: &&Arc<Backing>| core::ptr::addr_eq(Arc::as_ptr(&b.mapped), Arc::as_ptr(inode));
    if let Some(b) = registry.iter().find(same_object) {
        return Some(b.clone());
    }
    let md = inode.metadata().ok()?;
    registry.iter().find(|b| b.key == (md.dev, md.ino)).cloned()
}

impl Backing {
    /// Mirrors a change of the file's size: zeroes the tail of the smaller size's last
    /// page (what the guest left past the end there, as Linux zeroes a partial page
    /// when the size changes) and resizes the object to the new size, page-rounded.
    fn resize(&self, old: u64, new: u64) -> Result<(), Errno> {
        if old == new {
            return Ok(());
        }
        let low = old.min(new);
        let tail = (page_up(low).ok_or(Errno::EFBIG)? - low) as usize;
        if tail > 0 {
            self.platform.shm_write(self.shm, low, &vec![0u8; tail])?;
        }
        let (old_len, new_len) = (page_up(old).ok_or(Errno::EFBIG)?, page_up(new).ok_or(Errno::EFBIG)?);
        if old_len != new_len {
            self.platform.shm_resize(self.shm, new_len)?;
        }
        Ok(())
    }

    /// After `inode` was written at `offset` with `data` (what went in): mirrors the
    /// new size and the bytes.
    fn mirror(&self, size: &mut u64, offset: u64, data: &[u8]) -> Result<(), Errno> {
        let new = self.storage.metadata()?.size;
        self.resize(*size, new)?;
        *size = new;
        let end = (offset + data.len() as u64).min(new);
        if offset < end {
            self.platform.shm_write(self.shm, offset, &data[..(end - offset) as usize])?;
        }
        Ok(())
    }

    /// Overwrites `buf`, read from the node at `offset`, with the object's bytes.
    fn overlay(&self, offset: u64, buf: &mut [u8]) {
        let size = self.size.lock();
        if offset >= *size {
            return;
        }
        let n = (buf.len() as u64).min(*size - offset) as usize;
        let _ = self.platform.shm_read(self.shm, offset, &mut buf[..n]);
    }

    /// Brings the node up to date: writes every page that differs from the object.
    fn write_back(&self) -> Result<(), Errno> {
        let size = self.size.lock();
        let (mut ours, mut theirs) = (vec![0u8; PAGE], vec![0u8; PAGE]);
        let mut off = 0u64;
        while off < *size {
            let n = (*size - off).min(PAGE as u64) as usize;
            self.platform.shm_read(self.shm, off, &mut ours[..n])?;
            let got = self.storage.read_at(off, &mut theirs[..n])?;
            theirs[got..n].fill(0);
            if ours[..n] != theirs[..n] {
                self.storage.write_at(off, &ours[..n])?;
            }
            off += n as u64;
        }
        Ok(())
    }
}

/// A mapping's hold on a backing: VMAs carry one each. When the last goes, the file
/// is written back and the object released.
pub struct MapRef(Arc<Backing>);

impl MapRef {
    /// Maps `[offset, offset+len)` of the file at `addr`, shared.
    pub(crate) fn map(&self, offset: u64, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        self.0.platform.shm_map(self.0.shm, offset, addr, len, prot, true)
    }

    pub(crate) fn same(&self, other: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Writes the file back ([`Backing::write_back`]): `msync(MS_SYNC)`.
    pub(crate) fn write_back(&self) -> Result<(), Errno> {
        self.0.write_back()
    }
}

impl Clone for MapRef {
    fn clone(&self) -> Self {
        self.0.maps.fetch_add(1, Ordering::AcqRel);
        MapRef(self.0.clone())
    }
}

impl Drop for MapRef {
    fn drop(&mut self) {
        if self.0.maps.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let _gate = GATE.write();
        // `share` may have handed it out again before we got the gate.
        if self.0.maps.load(Ordering::Acquire) != 0 {
            return;
        }
        let _ = self.0.write_back();
        let mut registry = REGISTRY.lock();
        let before = registry.len();
        registry.retain(|b| !Arc::ptr_eq(b, &self.0));
        LIVE.fetch_sub(before - registry.len(), Ordering::Release);
        drop(registry);
        self.0.platform.shm_release(self.0.shm);
    }
}

impl fmt::Debug for MapRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MapRef(shm {})", self.0.shm)
    }
}

/// Copies `[from, from+len)` of the file (as a read would see it) into `shm` at 0.
fn fill(platform: &dyn Platform, shm: ShmId, inode: &Arc<dyn Inode>, from: u64, len: u64) -> Result<(), Errno> {
    let mut buf = vec![0u8; CHUNK];
    let end = from + len;
    if let Some(b) = find(inode) {
        // The file is mapped shared: the object has its current contents.
        let mut pos = from;
        while pos < end {
            let n = (end - pos).min(CHUNK as u64) as usize;
            b.platform.shm_read(b.shm, pos, &mut buf[..n])?;
            platform.shm_write(shm, pos - from, &buf[..n])?;
            pos += n as u64;
        }
        return Ok(());
    }
    let mut pos = from;
    while pos < end {
        // Holes stay holes: a fresh object reads as zeros.
        let data = match inode.seek_data(pos, false) {
            Ok(d) => d,
            Err(Errno::ENXIO) => break,
            Err(e) => return Err(e),
        };
        if data >= end {
            break;
        }
        let hole = inode.seek_data(data, true).unwrap_or(end).clamp(data + 1, end);
        let mut p = data;
        while p < hole {
            let n = (hole - p).min(CHUNK as u64) as usize;
            let got = inode.read_at(p, &mut buf[..n])?;
            if got == 0 {
                return Ok(());
            }
            platform.shm_write(shm, p - from, &buf[..got])?;
            p += got as u64;
        }
        pos = hole;
    }
    Ok(())
}

/// The backing of `inode` for a new shared mapping, made (and filled) if the file has
/// none yet.
pub fn share(platform: &'static dyn Platform, inode: &Arc<dyn Inode>) -> Result<MapRef, Errno> {
    let _gate = GATE.write();
    if let Some(b) = find(inode) {
        b.maps.fetch_add(1, Ordering::AcqRel);
        return Ok(MapRef(b));
    }
    let md = inode.metadata()?;
    let size = md.size;
    let shm = platform.shm_create(page_up(size).ok_or(Errno::EOVERFLOW)?)?;
    if let Err(e) = fill(platform, shm, inode, 0, size) {
        platform.shm_release(shm);
        return Err(e);
    }
    let b = Arc::new(Backing {
        mapped: inode.clone(),
        key: (md.dev, md.ino),
        storage: crate::memfd::storage(inode),
        platform,
        shm,
        size: spin::Mutex::new(size),
        maps: AtomicUsize::new(1),
    });
    REGISTRY.lock().push(b.clone());
    LIVE.fetch_add(1, Ordering::Release);
    Ok(MapRef(b))
}

/// Maps `[offset, offset+len)` of the file privately at `addr`: a copy of what is in
/// the file now, with the pages past its end absent.
pub fn map_private(
    platform: &dyn Platform,
    inode: &Arc<dyn Inode>,
    offset: u64,
    addr: u64,
    len: u64,
    prot: Prot,
) -> Result<(), Errno> {
    let size = inode.metadata()?.size;
    let avail = size.saturating_sub(offset).min(len);
    let shm = platform.shm_create(page_up(avail).ok_or(Errno::EOVERFLOW)?)?;
    let result =
        fill(platform, shm, inode, offset, avail).and_then(|()| platform.shm_map(shm, 0, addr, len, prot, false));
    platform.shm_release(shm);
    result
}

// ------------------------------------------------------------------ the file's side

/// `read_at` of a file as a description reads it: the node, overlaid with what its
/// shared mappings hold.
pub fn read_at(inode: &Arc<dyn Inode>, offset: u64, buf: &mut [u8]) -> SysResult {
    let n = inode.read_at(offset, buf)?;
    if n > 0 {
        if let Some(b) = find(inode) {
            b.overlay(offset, &mut buf[..n]);
        }
    }
    Ok(n)
}

/// `write_at` of a file as a description writes it: the node, and its mappings.
pub fn write_at(inode: &Arc<dyn Inode>, offset: u64, buf: &[u8]) -> SysResult {
    let _gate = GATE.read();
    let Some(b) = find(inode) else { return inode.write_at(offset, buf) };
    let mut size = b.size.lock();
    let n = inode.write_at(offset, buf)?;
    b.mirror(&mut size, offset, &buf[..n])?;
    Ok(n)
}

/// `append` (an `O_APPEND` write): the node, and its mappings.
pub fn append(inode: &Arc<dyn Inode>, buf: &[u8]) -> Result<(usize, u64), Errno> {
    let _gate = GATE.read();
    let Some(b) = find(inode) else { return inode.append(buf) };
    let mut size = b.size.lock();
    let (n, end) = inode.append(buf)?;
    b.mirror(&mut size, end - n as u64, &buf[..n])?;
    Ok((n, end))
}

/// `truncate` of a file: the node, and its mappings.
pub fn truncate(inode: &Arc<dyn Inode>, len: u64) -> Result<(), Errno> {
    let _gate = GATE.read();
    let Some(b) = find(inode) else { return inode.truncate(len) };
    let mut size = b.size.lock();
    inode.truncate(len)?;
    b.resize(*size, len)?;
    *size = len;
    Ok(())
}

/// `fsync`: writes what the file's shared mappings changed back to the node.
pub fn write_back(inode: &Arc<dyn Inode>) -> Result<(), Errno> {
    match find(inode) {
        Some(b) => b.write_back(),
        None => Ok(()),
    }
}

/// Writes back every mapped file (at exit).
pub fn write_back_all() {
    let all: Vec<Arc<Backing>> = REGISTRY.lock().clone();
    for b in all {
        let _ = b.write_back();
    }
}
