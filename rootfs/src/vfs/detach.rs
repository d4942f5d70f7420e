//! The device as the mounted fatfs sees it, detachable.
//!
//! The fatfs `FileSystem` of a mount is leaked (its handles must be `'static` to live in
//! the inodes), so it never drops its device. When the last user of a mount goes, the
//! mount detaches the device here instead: the device (an image of tens of MiB, a mapped
//! file) is released, and the leaked remainder is the fatfs state and its block cache.

use alloc::sync::Arc;

use crate::{errno, BlockDevice, IoError};

/// A device shared between threads.
pub(super) type SharedDevice = Arc<dyn BlockDevice + Send + Sync>;

/// A device that can be let go of; afterwards every request fails with EIO.
pub(super) struct Detachable {
    dev: spin::RwLock<Option<SharedDevice>>,
    len: u64,
}

const DETACHED: IoError = IoError::Device { errno: errno::EIO };

impl Detachable {
    pub fn new(dev: SharedDevice) -> Detachable {
        let len = dev.len();
        Detachable { dev: spin::RwLock::new(Some(dev)), len }
    }

    /// Lets go of the device.
    pub fn detach(&self) {
        self.dev.write().take();
    }
}

impl BlockDevice for Detachable {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), IoError> {
        self.dev.read().as_ref().ok_or(DETACHED)?.read_at(off, buf)
    }

    fn write_at(&self, off: u64, buf: &[u8]) -> Result<(), IoError> {
        self.dev.read().as_ref().ok_or(DETACHED)?.write_at(off, buf)
    }

    fn flush(&self) -> Result<(), IoError> {
        self.dev.read().as_ref().ok_or(DETACHED)?.flush()
    }
}
