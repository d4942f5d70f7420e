//! The adapter between a [`BlockDevice`] and fatfs: a `Read + Write + Seek` stream with a
//! position, and a small read cache for metadata.
//!
//! fatfs reads its metadata in pieces of a few bytes (a directory entry is read field by
//! field, a FAT entry is 4 bytes) and seeks before almost every read. Sending each piece to
//! the device would mean a `pread` per field when hosted and a virtio request per field in a
//! VM, so small reads go through a cache of aligned 4 KiB blocks. Larger reads are file data
//! (fatfs reads data a cluster, or what is left of one, at a time; its largest metadata read
//! is an 11-byte name) and go straight to the device, so data never evicts metadata.
//!
//! The cache is direct-mapped (block `b` lives in slot `b % slots`): a lookup is one
//! comparison, which matters because fatfs alternates between the FAT and a directory or
//! data block on almost every call.
//!
//! Writes go straight to the device (write-through) and update any cached copy, so the cache
//! is never dirty: after every fatfs call returns, the device holds everything fatfs wrote,
//! there is nothing to lose on a crash beyond what FAT itself loses, and `Write::flush` has
//! nothing to do. (fatfs calls `flush` whenever a `File` or `Dir` object is dropped, which is
//! many times per operation; the durability flush of the device is
//! [`FatVolume::flush`](crate::FatVolume::flush)'s job.)
//!
//! The mounted filesystem (`vfs`) also writes directory slots and FAT entries itself,
//! behind fatfs. It lists the blocks it wrote in a [`Stale`] shared with the adapter, and
//! the adapter drops those blocks from its cache before it next reads through it.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Mutex;

use crate::fio::{self, ErrorKind, SeekFrom};
use crate::{BlockDevice, IoError};

/// Cache block size in bytes.
pub(crate) const BLOCK: usize = 4096;

/// Default number of cached blocks (1 MiB).
pub(crate) const DEFAULT_CACHE_BLOCKS: usize = 256;

/// Reads longer than this are data and bypass the cache.
const LARGEST_CACHED_READ: usize = 64;

const EMPTY: u64 = u64::MAX;

pub(crate) struct BlockIo<D> {
    dev: D,
    len: u64,
    pos: u64,
    cache: Cache,
}

/// Blocks of the device, each with its block number (`EMPTY` when unused).
struct Cache {
    tags: Vec<u64>,
    data: Vec<u8>,
    /// What was written to the device behind this adapter's back (see
    /// [`BlockIo::with_invalidation`]): dropped from the cache before its next use.
    stale: Option<Arc<Stale>>,
}

/// Blocks written to the device by someone other than the adapter, which it must read
/// again: shared between the adapter and that writer.
#[derive(Default)]
pub(crate) struct Stale {
    /// Whether `blocks` holds anything (checked on every cached read without the lock).
    pending: AtomicBool,
    blocks: Mutex<StaleBlocks>,
}

#[derive(Default)]
struct StaleBlocks {
    /// More blocks than worth listing: drop the whole cache.
    all: bool,
    list: Vec<u64>,
}

/// Blocks listed one by one before the whole cache is dropped instead.
const MAX_STALE_BLOCKS: usize = 64;

impl Stale {
    /// Records that bytes `off..off + len` of the device changed.
    pub(crate) fn mark(&self, off: u64, len: usize) {
        if len == 0 {
            return;
        }
        let (first, last) = (off / BLOCK as u64, (off + len as u64 - 1) / BLOCK as u64);
        let mut b = self.blocks.lock();
        if !b.all {
            if b.list.len() + (last - first) as usize >= MAX_STALE_BLOCKS {
                b.all = true;
                b.list.clear();
            } else {
                b.list.extend(first..=last);
            }
        }
        self.pending.store(true, Ordering::Release);
    }

    /// Empties the slots of `cache` that hold a stale block.
    fn drop_from(&self, cache: &mut [u64]) {
        if cache.is_empty() || !self.pending.load(Ordering::Acquire) {
            return;
        }
        let mut b = self.blocks.lock();
        self.pending.store(false, Ordering::Relaxed);
        if core::mem::take(&mut b.all) {
            cache.fill(EMPTY);
        } else {
            for blk in b.list.drain(..) {
                let slot = (blk % cache.len() as u64) as usize;
                if cache[slot] == blk {
                    cache[slot] = EMPTY;
                }
            }
        }
        b.list.clear();
    }
}

fn io_error(e: IoError) -> fio::Error {
    match e {
        IoError::OutOfRange => fio::Error::new(ErrorKind::UnexpectedEof, "block device access past its end"),
        IoError::ReadOnly => fio::Error::new(ErrorKind::PermissionDenied, "block device is read-only"),
        IoError::Device { .. } => fio::Error::other(DEVICE_ERROR),
    }
}

/// Whether fatfs's error `e` came from the device (rather than from fatfs's own checks).
pub(crate) fn is_device_error(e: &fio::Error) -> bool {
    matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::PermissionDenied)
        || crate::error::displays_as(e, DEVICE_ERROR)
}

const DEVICE_ERROR: &str = "block device I/O error";

impl<D: BlockDevice> BlockIo<D> {
    /// A stream at position 0 over `dev`, caching `cache_blocks` blocks (0 disables the cache).
    pub(crate) fn new(dev: D, cache_blocks: usize) -> BlockIo<D> {
        let len = dev.len();
        BlockIo {
            dev,
            len,
            pos: 0,
            cache: Cache { tags: vec![EMPTY; cache_blocks], data: vec![0; cache_blocks * BLOCK], stale: None },
        }
    }

    /// As [`BlockIo::new`], for a user that also writes to the device directly and
    /// records what it wrote in `stale` (always before fatfs reads again).
    pub(crate) fn with_invalidation(dev: D, cache_blocks: usize, stale: Arc<Stale>) -> BlockIo<D> {
        let mut io = BlockIo::new(dev, cache_blocks);
        io.cache.stale = Some(stale);
        io
    }

    /// The slot holding block `blk`, loading it (over whatever that slot held) if needed.
    fn slot(&mut self, blk: u64) -> Result<usize, IoError> {
        let c = &mut self.cache;
        if let Some(stale) = &c.stale {
            stale.drop_from(&mut c.tags);
        }
        let slot = (blk % c.tags.len() as u64) as usize;
        if c.tags[slot] != blk {
            let start = blk * BLOCK as u64;
            let valid = (self.len - start).min(BLOCK as u64) as usize;
            c.tags[slot] = EMPTY;
            self.dev.read_at(start, &mut c.data[slot * BLOCK..slot * BLOCK + valid])?;
            c.tags[slot] = blk;
        }
        Ok(slot)
    }
}

impl<D: BlockDevice> fio::Read for BlockIo<D> {
    fn read(&mut self, buf: &mut [u8]) -> fio::Result<usize> {
        if buf.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(self.len - self.pos) as usize;
        if n > LARGEST_CACHED_READ || self.cache.tags.is_empty() {
            self.dev.read_at(self.pos, &mut buf[..n]).map_err(io_error)?;
            self.pos += n as u64;
            return Ok(n);
        }
        let blk = self.pos / BLOCK as u64;
        let within = (self.pos % BLOCK as u64) as usize;
        let slot = self.slot(blk).map_err(io_error)?;
        // The block is valid up to the device end; `n` already stops there.
        let k = n.min(BLOCK - within);
        let at = slot * BLOCK + within;
        let src = &self.cache.data[at..at + k];
        if k <= 16 {
            // fatfs reads metadata a field at a time; skip the `memcpy` call for those.
            for (d, s) in buf[..k].iter_mut().zip(src) {
                *d = *s;
            }
        } else {
            buf[..k].copy_from_slice(src);
        }
        self.pos += k as u64;
        Ok(k)
    }
}

impl<D: BlockDevice> fio::Write for BlockIo<D> {
    fn write(&mut self, buf: &[u8]) -> fio::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pos >= self.len {
            return Err(io_error(IoError::OutOfRange));
        }
        let n = (buf.len() as u64).min(self.len - self.pos) as usize;
        let (start, data) = (self.pos, &buf[..n]);
        self.dev.write_at(start, data).map_err(io_error)?;
        // Keep cached copies of the blocks written to up to date.
        let end = start + n as u64;
        let c = &mut self.cache;
        for (i, &tag) in c.tags.iter().enumerate() {
            if tag == EMPTY {
                continue;
            }
            let (bs, be) = (tag * BLOCK as u64, (tag + 1) * BLOCK as u64);
            let (lo, hi) = (bs.max(start), be.min(end));
            if lo < hi {
                let dst = i * BLOCK + (lo - bs) as usize;
                let src = (lo - start) as usize;
                let k = (hi - lo) as usize;
                c.data[dst..dst + k].copy_from_slice(&data[src..src + k]);
            }
        }
        self.pos = end;
        Ok(n)
    }

    fn flush(&mut self) -> fio::Result<()> {
        // Write-through: nothing is buffered. See the module documentation.
        Ok(())
    }
}

impl<D: BlockDevice> fio::Seek for BlockIo<D> {
    fn seek(&mut self, pos: SeekFrom) -> fio::Result<u64> {
        let new = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match new {
            Some(n) => {
                self.pos = n;
                Ok(n)
            }
            None => Err(fio::Error::new(ErrorKind::InvalidInput, "seek to a negative position")),
        }
    }
}
