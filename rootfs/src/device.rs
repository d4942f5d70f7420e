//! Block devices: what a volume is stored on.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use crate::IoError;

/// A byte-addressed store of fixed length: an image file when hosted, virtio-blk in a VM,
/// memory in tests.
///
/// The methods take `&self`. A [`FatVolume`](crate::FatVolume) serialises everything it does
/// with one lock around the whole filesystem, so it never needs `&mut`; taking `&self` lets a
/// device be shared (`Arc<dyn BlockDevice>`) and keep its own synchronisation where it has
/// some anyway (a virtio queue lock, `pread`/`pwrite` on a host fd, which need none). A
/// device used by a volume that crosses threads must be `Send + Sync`.
///
/// Offsets and lengths are in bytes and need not be sector-aligned: a device with sectors
/// does the read-modify-write itself. The volume's adapter issues reads of at least 4 KiB
/// aligned to 4 KiB for metadata (it caches them) and cluster-sized reads and writes for
/// data; its metadata writes are small (a 4-byte FAT entry, a 32-byte directory entry).
pub trait BlockDevice {
    /// The device size in bytes.
    fn len(&self) -> u64;

    /// Fills `buf` from `off`. Either the whole buffer is read or an error is returned.
    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), IoError>;

    /// Writes all of `buf` at `off`. Either the whole buffer is written or an error is
    /// returned.
    fn write_at(&self, off: u64, buf: &[u8]) -> Result<(), IoError>;

    /// Makes completed writes durable (fsync, a virtio FLUSH). Called only by
    /// [`FatVolume::flush`](crate::FatVolume::flush), never on the data path.
    fn flush(&self) -> Result<(), IoError>;

    /// Whether the device has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

macro_rules! forward_block_device {
    ($($ty:ty),*) => {$(
        impl<T: BlockDevice + ?Sized> BlockDevice for $ty {
            fn len(&self) -> u64 {
                (**self).len()
            }
            fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), IoError> {
                (**self).read_at(off, buf)
            }
            fn write_at(&self, off: u64, buf: &[u8]) -> Result<(), IoError> {
                (**self).write_at(off, buf)
            }
            fn flush(&self) -> Result<(), IoError> {
                (**self).flush()
            }
        }
    )*};
}

forward_block_device!(&T, Box<T>, Arc<T>);

/// The byte range `off..off + len` if it lies inside a device of `dev_len` bytes.
pub(crate) fn checked_range(off: u64, len: usize, dev_len: u64) -> Result<core::ops::Range<usize>, IoError> {
    let end = off.checked_add(len as u64).ok_or(IoError::OutOfRange)?;
    if end > dev_len {
        return Err(IoError::OutOfRange);
    }
    // Both fit in usize: they are at most `dev_len`, which is an in-memory length here.
    Ok(off as usize..end as usize)
}

/// A device in memory: tests, and volumes built or kept in RAM.
#[derive(Debug, Default)]
pub struct MemDevice {
    data: spin::RwLock<Vec<u8>>,
    read_only: bool,
}

impl MemDevice {
    /// `len` zero bytes.
    pub fn new(len: usize) -> MemDevice {
        MemDevice::from_vec(vec![0; len])
    }

    /// A device holding `data` (an image).
    pub fn from_vec(data: Vec<u8>) -> MemDevice {
        MemDevice { data: spin::RwLock::new(data), read_only: false }
    }

    /// A device holding `data` that refuses writes.
    pub fn read_only(data: Vec<u8>) -> MemDevice {
        MemDevice { data: spin::RwLock::new(data), read_only: true }
    }

    /// A copy of the contents.
    pub fn to_vec(&self) -> Vec<u8> {
        self.data.read().clone()
    }

    /// The contents.
    pub fn into_vec(self) -> Vec<u8> {
        self.data.into_inner()
    }
}

impl BlockDevice for MemDevice {
    fn len(&self) -> u64 {
        self.data.read().len() as u64
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let data = self.data.read();
        let range = checked_range(off, buf.len(), data.len() as u64)?;
        buf.copy_from_slice(&data[range]);
        Ok(())
    }

    fn write_at(&self, off: u64, buf: &[u8]) -> Result<(), IoError> {
        if self.read_only {
            return Err(IoError::ReadOnly);
        }
        let mut data = self.data.write();
        let range = checked_range(off, buf.len(), data.len() as u64)?;
        data[range].copy_from_slice(buf);
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }
}
