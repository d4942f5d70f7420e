//! [`SliceDevice`]: a block device over a memory region the caller owns, such as an image
//! file mapped with `mmap(MAP_SHARED)`.
//!
//! Hosted, the root image is a host file. Reading it through [`FileDevice`](crate::FileDevice)
//! costs a `pread` per request; mapping it once and handing the mapping here turns every
//! request into a `memcpy`, and the host kernel's page cache does the rest (writes reach the
//! file through the shared mapping). The mapping itself is the platform's business: this
//! type only needs the bytes as a `&'static mut [u8]`.

use alloc::boxed::Box;

use crate::device::checked_range;
use crate::{BlockDevice, IoError};

/// What [`BlockDevice::flush`] does for a [`SliceDevice`]: `msync` for a mapped file.
pub type FlushFn = Box<dyn Fn() -> Result<(), IoError> + Send + Sync>;

/// A block device over a memory region.
///
/// Reads take a shared lock and writes an exclusive one, so the region is never read while
/// it is being written through this device.
pub struct SliceDevice {
    bytes: spin::RwLock<&'static mut [u8]>,
    read_only: bool,
    flush: Option<FlushFn>,
}

impl SliceDevice {
    /// A device over `bytes`; `flush` does nothing (memory needs no flushing).
    pub fn new(bytes: &'static mut [u8]) -> SliceDevice {
        SliceDevice { bytes: spin::RwLock::new(bytes), read_only: false, flush: None }
    }

    /// A device over `bytes` whose `flush` calls `flush` (for a mapped file: `msync` of the
    /// mapping, then `fsync` if wanted).
    pub fn with_flush(bytes: &'static mut [u8], flush: FlushFn) -> SliceDevice {
        SliceDevice { bytes: spin::RwLock::new(bytes), read_only: false, flush: Some(flush) }
    }

    /// A device over `bytes` that refuses writes.
    pub fn read_only(bytes: &'static mut [u8]) -> SliceDevice {
        SliceDevice { bytes: spin::RwLock::new(bytes), read_only: true, flush: None }
    }
}

impl core::fmt::Debug for SliceDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SliceDevice").field("len", &self.len()).field("read_only", &self.read_only).finish()
    }
}

impl BlockDevice for SliceDevice {
    fn len(&self) -> u64 {
        self.bytes.read().len() as u64
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let bytes = self.bytes.read();
        let range = checked_range(off, buf.len(), bytes.len() as u64)?;
        buf.copy_from_slice(&bytes[range]);
        Ok(())
    }

    fn write_at(&self, off: u64, buf: &[u8]) -> Result<(), IoError> {
        if self.read_only {
            return Err(IoError::ReadOnly);
        }
        let mut bytes = self.bytes.write();
        let range = checked_range(off, buf.len(), bytes.len() as u64)?;
        bytes[range].copy_from_slice(buf);
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        match &self.flush {
            Some(flush) => flush(),
            None => Ok(()),
        }
    }
}
