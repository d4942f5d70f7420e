//! The root filesystem's block device: virtio-blk through `virtio-drivers`.
//!
//! Requests are polled (the kernel waits for the device with interrupts off; the VMM
//! completes them on its own threads). Every transfer goes through a bounce buffer on
//! the heap: a guest buffer is not physically contiguous, and the device works on
//! physical addresses.
//!
//! Reads go through a read-ahead window: a miss reads [`READ_AHEAD`] bytes from the
//! sector it starts at, so a file read cluster by cluster (fatfs's way) costs one
//! device request per window instead of one per cluster. Writes update the window.

use alloc::vec;
use spin::Mutex;
use unify_rootfs::{BlockDevice, IoError};
use virtio_drivers::device::blk::{VirtIOBlk, SECTOR_SIZE};
use virtio_drivers::transport::mmio::MmioTransport;

use crate::dma::KernelHal;

/// The largest transfer per request.
const CHUNK: usize = 512 * 1024;
/// How much a read miss fetches.
const READ_AHEAD: usize = 512 * 1024;
const SECTOR: u64 = SECTOR_SIZE as u64;
/// errno EIO for the filesystem layer.
const EIO: i32 = 5;

pub struct VirtioDisk {
    blk: Mutex<VirtIOBlk<KernelHal, MmioTransport<'static>>>,
    len: u64,
    /// The read-ahead window: its first byte's offset and its bytes.
    window: Mutex<(u64, alloc::vec::Vec<u8>)>,
}

impl VirtioDisk {
    pub fn new(blk: VirtIOBlk<KernelHal, MmioTransport<'static>>) -> VirtioDisk {
        let len = blk.capacity() * SECTOR;
        VirtioDisk { blk: Mutex::new(blk), len, window: Mutex::new((0, alloc::vec::Vec::new())) }
    }

    /// Reads whole sectors from `sector` into `buf` (a multiple of the sector size).
    fn read_sectors(&self, sector: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let mut blk = self.blk.lock();
        for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
            let at = sector + (i * CHUNK) as u64 / SECTOR;
            blk.read_blocks(at as usize, chunk).map_err(|_| IoError::Device { errno: EIO })?;
        }
        Ok(())
    }

    fn write_sectors(&self, sector: u64, buf: &[u8]) -> Result<(), IoError> {
        let mut blk = self.blk.lock();
        for (i, chunk) in buf.chunks(CHUNK).enumerate() {
            let at = sector + (i * CHUNK) as u64 / SECTOR;
            blk.write_blocks(at as usize, chunk).map_err(|_| IoError::Device { errno: EIO })?;
        }
        Ok(())
    }
}

/// The sector-aligned span covering `[off, off+len)`: first sector and byte length.
fn span(off: u64, len: usize) -> (u64, usize) {
    let first = off / SECTOR;
    let end = (off + len as u64).div_ceil(SECTOR);
    (first, ((end - first) * SECTOR) as usize)
}

impl BlockDevice for VirtioDisk {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), IoError> {
        if off.checked_add(buf.len() as u64).is_none_or(|end| end > self.len) {
            return Err(IoError::OutOfRange);
        }
        if buf.len() > READ_AHEAD / 2 {
            let (first, bytes) = span(off, buf.len());
            let mut bounce = vec![0u8; bytes];
            self.read_sectors(first, &mut bounce)?;
            let skip = (off - first * SECTOR) as usize;
            buf.copy_from_slice(&bounce[skip..skip + buf.len()]);
            return Ok(());
        }
        let mut window = self.window.lock();
        let (start, data) = &mut *window;
        let end = off + buf.len() as u64;
        if off < *start || end > *start + data.len() as u64 {
            let first = off / SECTOR;
            let len = (READ_AHEAD as u64).min(self.len - first * SECTOR).max(end - first * SECTOR);
            let mut fresh = vec![0u8; len.div_ceil(SECTOR) as usize * SECTOR_SIZE];
            self.read_sectors(first, &mut fresh)?;
            *start = first * SECTOR;
            *data = fresh;
        }
        let skip = (off - *start) as usize;
        buf.copy_from_slice(&data[skip..skip + buf.len()]);
        Ok(())
    }

    fn write_at(&self, off: u64, buf: &[u8]) -> Result<(), IoError> {
        if off.checked_add(buf.len() as u64).is_none_or(|end| end > self.len) {
            return Err(IoError::OutOfRange);
        }
        let (first, bytes) = span(off, buf.len());
        let mut bounce = vec![0u8; bytes];
        let skip = (off - first * SECTOR) as usize;
        // Partial sectors at either end: read them first (read-modify-write).
        if skip != 0 || buf.len() % SECTOR_SIZE != 0 {
            self.read_sectors(first, &mut bounce[..SECTOR_SIZE])?;
            let last = bytes - SECTOR_SIZE;
            if last != 0 {
                let at = first + (last as u64) / SECTOR;
                self.read_sectors(at, &mut bounce[last..])?;
            }
        }
        bounce[skip..skip + buf.len()].copy_from_slice(buf);
        self.write_sectors(first, &bounce)?;
        // Keep the read-ahead window what the disk now holds.
        let mut window = self.window.lock();
        let (start, data) = &mut *window;
        let (w_start, w_end) = (*start, *start + data.len() as u64);
        let (a, b) = (off.max(w_start), (off + buf.len() as u64).min(w_end));
        if a < b {
            data[(a - w_start) as usize..(b - w_start) as usize]
                .copy_from_slice(&buf[(a - off) as usize..(b - off) as usize]);
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        self.blk.lock().flush().map_err(|_| IoError::Device { errno: EIO })
    }
}
