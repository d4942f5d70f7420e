//! What fatfs gets wrong in directories (see `crate::dirfix`), put right while mounted.
//! These writes bypass the adapter's metadata cache, so they set its invalidation flag.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use libos::Errno;

use super::detach::Detachable;
use super::errno::from_fs;
use crate::dirfix::DirLayout;
use crate::IoError;

pub(super) use crate::dirfix::first_cluster;

/// The mounted device, for repairs behind fatfs.
pub(super) struct RawVolume {
    dev: Arc<Detachable>,
    invalidated: Arc<AtomicBool>,
    layout: DirLayout,
}

fn errno(e: IoError) -> Errno {
    from_fs(e.into())
}

impl RawVolume {
    /// Repairs on `dev`, whose adapter's cache is emptied when `invalidated` is set.
    pub fn new(dev: Arc<Detachable>, invalidated: Arc<AtomicBool>) -> Result<RawVolume, Errno> {
        let layout = DirLayout::read(&*dev).map_err(errno)?;
        Ok(RawVolume { dev, invalidated, layout })
    }

    fn wrote(&self, r: Result<bool, IoError>) -> Result<(), Errno> {
        if r.map_err(errno)? {
            self.invalidated.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// See [`DirLayout::fix_new_dir`].
    pub fn fix_new_dir(&self, cluster: u32, parent: u32) -> Result<(), Errno> {
        self.wrote(self.layout.fix_new_dir(&*self.dev, cluster, parent))
    }

    /// See [`DirLayout::set_dotdot`].
    pub fn set_dotdot(&self, cluster: u32, parent: u32) -> Result<(), Errno> {
        self.wrote(self.layout.set_dotdot(&*self.dev, cluster, parent))
    }
}
