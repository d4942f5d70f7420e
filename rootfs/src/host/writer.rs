//! Writes an [`ImageBuilder`](super::ImageBuilder)'s content onto a freshly formatted FAT32
//! volume directly: clusters, directory entries and FAT chains are computed up front and
//! written in one pass, in cluster order, coalesced into large writes.
//!
//! Going through fatfs would cost a scan of the whole directory per created name (to check
//! it, to find a free 8.3 alias and to find free slots), so a directory of n names costs
//! O(n²): about 90 s for 5,000 names. Here everything is known before the first byte is
//! written, aliases come from a set per directory, and each directory is written once.
//!
//! What is written is what fatfs itself writes for the same operations: a long-name entry
//! sequence and an 8.3 entry for every name (fatfs's alias rules), `.` and `..` in every
//! directory but the root, files and directories each in one contiguous chain, both FAT
//! copies, and the FSInfo sector's free count and next-free hint.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::prelude::rust_2021::*;
use std::vec;

use super::aliases::aliases;
use super::image::{fold, BuildError, FileSource, Item};
use super::source;
use crate::fat::entry::{
    lfn_checksum, long_entries, short_entry, slots_for, Stamp, ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_VOLUME_ID, DOT,
    DOTDOT, SLOT,
};
use crate::fat::geometry::Geometry;
use crate::fat::FAT_EOC;
use crate::volume::MAX_FILE_SIZE;
use crate::{BlockDevice, FsError, IoError};

/// A FAT directory holds at most 65,536 entries.
const MAX_DIR_BYTES: u64 = 65_536 * SLOT as u64;
/// Writes are gathered up to this size before they go to the device.
const WRITE_BATCH: usize = 4 << 20;

/// Batches writes that follow one another into large device writes.
struct Batch<'d, D: BlockDevice> {
    dev: &'d D,
    start: u64,
    buf: Vec<u8>,
}

impl<D: BlockDevice> Batch<'_, D> {
    fn write(&mut self, off: u64, data: &[u8]) -> Result<(), FsError> {
        if off != self.start + self.buf.len() as u64 || self.buf.len() + data.len() > WRITE_BATCH {
            self.flush()?;
            self.start = off;
        }
        if data.len() >= WRITE_BATCH {
            self.dev.write_at(off, data)?;
            self.start = off + data.len() as u64;
        } else {
            self.buf.extend_from_slice(data);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), FsError> {
        if !self.buf.is_empty() {
            self.dev.write_at(self.start, &self.buf)?;
            self.start += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }
}

/// A device that holds only zeros (a new sparse file, new memory), seen through a stage
/// in memory: `format` writes its metadata a field at a time and a megabyte of zeros for the
/// FATs, and reads some back; here only the 4 KiB blocks given non-zero bytes are kept, and
/// [`Fresh::commit`] writes them out in a few large writes.
pub(super) struct Fresh<'d, D: BlockDevice> {
    dev: &'d D,
    blocks: RefCell<BTreeMap<u64, Vec<u8>>>,
}

const STAGE_BLOCK: u64 = 4096;

impl<'d, D: BlockDevice> Fresh<'d, D> {
    pub(super) fn new(dev: &'d D) -> Self {
        Fresh { dev, blocks: RefCell::new(BTreeMap::new()) }
    }

    /// Writes the staged blocks to the device, runs of adjacent blocks at once.
    pub(super) fn commit(self) -> Result<(), IoError> {
        let blocks = self.blocks.into_inner();
        let mut run: Option<(u64, Vec<u8>)> = None;
        for (n, data) in blocks {
            match &mut run {
                Some((start, buf)) if *start + buf.len() as u64 == n * STAGE_BLOCK => buf.extend_from_slice(&data),
                _ => {
                    if let Some((start, buf)) = run.take() {
                        self.dev.write_at(start, &buf)?;
                    }
                    run = Some((n * STAGE_BLOCK, data));
                }
            }
        }
        if let Some((start, buf)) = run {
            self.dev.write_at(start, &buf)?;
        }
        Ok(())
    }

    fn check(&self, off: u64, len: usize) -> Result<(), IoError> {
        match off.checked_add(len as u64) {
            Some(end) if end <= self.dev.len() => Ok(()),
            _ => Err(IoError::OutOfRange),
        }
    }

    /// Calls `f(block, offset in block, range of the buffer)` for each block `off..off+len` touches.
    fn pieces(off: u64, len: usize, mut f: impl FnMut(u64, usize, core::ops::Range<usize>)) {
        let mut done = 0;
        while done < len {
            let at = off + done as u64;
            let within = (at % STAGE_BLOCK) as usize;
            let n = (STAGE_BLOCK as usize - within).min(len - done);
            f(at / STAGE_BLOCK, within, done..done + n);
            done += n;
        }
    }
}

impl<D: BlockDevice> BlockDevice for Fresh<'_, D> {
    fn len(&self) -> u64 {
        self.dev.len()
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), IoError> {
        self.check(off, buf.len())?;
        let blocks = self.blocks.borrow();
        Self::pieces(off, buf.len(), |block, within, range| match blocks.get(&block) {
            Some(data) => buf[range.clone()].copy_from_slice(&data[within..within + range.len()]),
            None => buf[range].fill(0),
        });
        Ok(())
    }

    fn write_at(&self, off: u64, buf: &[u8]) -> Result<(), IoError> {
        self.check(off, buf.len())?;
        let mut blocks = self.blocks.borrow_mut();
        Self::pieces(off, buf.len(), |block, within, range| {
            let piece = &buf[range];
            // (`fold` rather than `all`: no early exit, so it vectorises.)
            if !blocks.contains_key(&block) && piece.iter().fold(0, |acc, &b| acc | b) == 0 {
                return;
            }
            let data = blocks.entry(block).or_insert_with(|| vec![0; STAGE_BLOCK as usize]);
            data[within..within + piece.len()].copy_from_slice(piece);
        });
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }
}

/// A directory being laid out: its items (indices into the item list) in order.
struct DirPlan {
    /// Index of its `Item::Dir`, `None` for the root.
    item: Option<usize>,
    children: Vec<usize>,
    /// Entry bytes: its children's, plus `.`/`..` or the volume label.
    bytes: u64,
}

/// What [`write_items`] did.
pub(super) struct Written {
    pub(super) files: usize,
    pub(super) dirs: usize,
    pub(super) bytes: u64,
    pub(super) free_clusters: u32,
    pub(super) cluster_size: u32,
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn entry_bytes(name: &str) -> u64 {
    SLOT as u64 * u64::from(slots_for(name))
}

fn guest(path: &str, error: FsError) -> BuildError {
    BuildError::Guest { path: path.to_string(), error }
}

/// Writes `items` (parents before children, as `ImageBuilder` keeps them) onto `dev`, which
/// `format` has just formatted as FAT32 (an empty root directory in one cluster).
pub(super) fn write_items<D: BlockDevice>(
    dev: &D,
    items: &[Item],
    label: Option<[u8; 11]>,
    now: i64,
) -> Result<Written, BuildError> {
    let geo = Geometry::read(dev).map_err(|e| guest("/", e))?;
    let root_cluster = geo.root_cluster;

    // The tree: which directory every item goes in.
    let mut dirs = vec![DirPlan { item: None, children: Vec::new(), bytes: if label.is_some() { 32 } else { 0 } }];
    let mut dir_of_path: HashMap<String, usize> = HashMap::from([(String::new(), 0)]);
    let mut dir_of_item: HashMap<usize, usize> = HashMap::new();
    let mut parent_of = vec![0usize; items.len()];
    for (i, item) in items.iter().enumerate() {
        let path = item.path();
        let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
        // Parents are always added before their children.
        let &d = dir_of_path.get(&fold(parent)).ok_or_else(|| guest(path, FsError::NotFound))?;
        parent_of[i] = d;
        dirs[d].children.push(i);
        dirs[d].bytes += entry_bytes(name_of(path));
        if let Item::Dir { .. } = item {
            dir_of_path.insert(fold(path), dirs.len());
            dir_of_item.insert(i, dirs.len());
            dirs.push(DirPlan { item: Some(i), children: Vec::new(), bytes: 2 * SLOT as u64 });
        }
    }

    // Clusters, in item order: the root first (its first cluster is already allocated),
    // then each directory and file in one contiguous run.
    let mut first = vec![0u32; items.len()];
    let mut runs: Vec<(u32, u32)> = Vec::new();
    let end = 2 + u64::from(geo.total_clusters);
    let mut next = u64::from(root_cluster) + 1;
    let mut alloc = |path: &str, n: u64| -> Result<u32, BuildError> {
        if next + n > end {
            return Err(guest(path, FsError::NoSpace));
        }
        let start = next as u32;
        next += n;
        Ok(start)
    };
    let dir_clusters = |d: &DirPlan, path: &str| -> Result<u64, BuildError> {
        if d.bytes > MAX_DIR_BYTES {
            return Err(guest(path, FsError::NoSpace));
        }
        Ok(geo.clusters_for(d.bytes).max(1))
    };
    let root_extra = dir_clusters(&dirs[0], "/")? - 1;
    alloc("/", root_extra)?;
    runs.push((root_cluster, 1 + root_extra as u32));
    for (i, item) in items.iter().enumerate() {
        let n = match item {
            Item::Dir { path } => dir_clusters(&dirs[dir_of_item[&i]], path)?,
            Item::File { path, size, .. } => {
                if *size > MAX_FILE_SIZE {
                    return Err(guest(path, FsError::FileTooBig));
                }
                geo.clusters_for(*size)
            }
        };
        if n > 0 {
            first[i] = alloc(item.path(), n)?;
            runs.push((first[i], n as u32));
        }
    }
    let used_end = next as u32;

    // The FAT: one chain per run, both copies.
    let mut fat = vec![0u8; (used_end as usize - 2) * 4];
    for &(start, n) in &runs {
        for c in start..start + n {
            let value = if c + 1 == start + n { FAT_EOC } else { c + 1 };
            let at = (c as usize - 2) * 4;
            fat[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
    }
    let mut batch = Batch { dev, start: 0, buf: Vec::with_capacity(WRITE_BATCH) };
    let dev_err = |e: FsError| guest("/", e);
    for copy in 0..geo.num_fats {
        batch.write(geo.fat_offset + copy * geo.fat_bytes + 8, &fat).map_err(dev_err)?;
    }
    drop(fat);

    // Directories and file data, in cluster order.
    let created = Stamp::of(now);
    let write_dir = |batch: &mut Batch<'_, D>, d: &DirPlan, own: u32, parent: u32| -> Result<(), FsError> {
        let clusters = geo.clusters_for(d.bytes).max(1);
        let mut out = Vec::with_capacity((clusters * geo.cluster_size) as usize);
        match (d.item, label) {
            (Some(_), _) => {
                let dot = |name: &[u8; 11], cluster| short_entry(name, ATTR_DIRECTORY, cluster, 0, created, created);
                out.extend_from_slice(&dot(&DOT, own));
                out.extend_from_slice(&dot(&DOTDOT, if parent == root_cluster { 0 } else { parent }));
            }
            (None, Some(label)) => out.extend_from_slice(&short_entry(&label, ATTR_VOLUME_ID, 0, 0, created, created)),
            (None, None) => {}
        }
        let names: Vec<&str> = d.children.iter().map(|&c| name_of(items[c].path())).collect();
        for ((&c, name), alias) in d.children.iter().zip(&names).zip(aliases(&names)) {
            let (attr, size, modified) = match &items[c] {
                Item::Dir { .. } => (ATTR_DIRECTORY, 0, created),
                Item::File { size, mtime, .. } => (ATTR_ARCHIVE, *size as u32, mtime.map_or(created, Stamp::of)),
            };
            long_entries(&mut out, name, lfn_checksum(&alias));
            out.extend_from_slice(&short_entry(&alias, attr, first[c], size, created, modified));
        }
        out.resize((clusters * geo.cluster_size) as usize, 0);
        batch.write(geo.cluster_offset(own), &out)
    };
    write_dir(&mut batch, &dirs[0], root_cluster, 0).map_err(dev_err)?;
    let cluster_of = |d: usize| dirs[d].item.map_or(root_cluster, |i| first[i]);
    let mut written = Written { files: 0, dirs: 0, bytes: 0, free_clusters: 0, cluster_size: geo.cluster_size as u32 };
    let largest = items.iter().map(|i| if let Item::File { size, .. } = i { *size } else { 0 }).max().unwrap_or(0);
    let mut chunk = vec![0u8; largest.min(1 << 20) as usize];
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Dir { path } => {
                let parent = cluster_of(parent_of[i]);
                write_dir(&mut batch, &dirs[dir_of_item[&i]], first[i], parent).map_err(|e| guest(path, e))?;
                written.dirs += 1;
            }
            Item::File { path, source, size, .. } => {
                if *size > 0 {
                    let off = geo.cluster_offset(first[i]);
                    write_file(&mut batch, off, source, *size, &mut chunk, path)?;
                    let tail = (geo.clusters_for(*size) * geo.cluster_size - size) as usize;
                    pad(&mut batch, off + size, tail).map_err(|e| guest(path, e))?;
                }
                written.files += 1;
                written.bytes += size;
            }
        }
    }
    batch.flush().map_err(dev_err)?;

    // FSInfo: the free count and where to look for the next free cluster.
    written.free_clusters = geo.total_clusters - (used_end - 2);
    let mut info = [0u8; 8];
    info[..4].copy_from_slice(&written.free_clusters.to_le_bytes());
    info[4..].copy_from_slice(&used_end.to_le_bytes());
    dev.write_at(geo.fs_info_offset + 488, &info).map_err(|e| guest("/", e.into()))?;
    Ok(written)
}

/// Writes `len` zero bytes at `off` (the rest of a file's last cluster), so that the next
/// item's writes continue the batch.
fn pad<D: BlockDevice>(batch: &mut Batch<'_, D>, off: u64, len: usize) -> Result<(), FsError> {
    const ZEROS: [u8; 4096] = [0; 4096];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(ZEROS.len());
        batch.write(off + done as u64, &ZEROS[..n])?;
        done += n;
    }
    Ok(())
}

/// Copies a file's `size` bytes from `source` to `off`.
fn write_file<D: BlockDevice>(
    batch: &mut Batch<'_, D>,
    off: u64,
    source: &FileSource,
    size: u64,
    chunk: &mut [u8],
    path: &str,
) -> Result<(), BuildError> {
    let to_guest = |e: FsError| guest(path, e);
    if let FileSource::Bytes(bytes) = source {
        return batch.write(off, &bytes[..size as usize]).map_err(to_guest);
    }
    let (mut reader, host_path) = source::open(source).map_err(|(path, error)| BuildError::Host { path, error })?;
    let host_err = |error: io::Error| BuildError::Host { path: host_path.clone().unwrap_or_default(), error };
    let mut done = 0u64;
    while done < size {
        let want = (size - done).min(chunk.len() as u64) as usize;
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => {
                let error = io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank while being copied");
                return Err(host_err(error));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(host_err(e)),
        };
        batch.write(off + done, &chunk[..n]).map_err(to_guest)?;
        done += n as u64;
    }
    Ok(())
}
