//! The memory devices: `/dev/null`, `/dev/zero`, `/dev/full`, `/dev/random` and
//! `/dev/urandom` (Linux's `drivers/char/mem.c` and `random.c`).
//!
//! `lseek` on any of them succeeds and leaves the position at 0, as Linux's
//! `null_lseek` and `noop_llseek` do; `pread`/`pwrite` behave as `read`/`write`.
//! `mmap` of `/dev/zero` is ENODEV for now: the syscall layer refuses every file mapping.

use alloc::sync::Arc;

use super::Device;
use crate::abi::Stat;
use crate::file::File;
use crate::platform::Platform;
use crate::vfs::Dentry;
use crate::{Errno, SysResult};

/// An open memory device.
pub(crate) struct MemDevice {
    dentry: Arc<Dentry>,
    device: Device,
    platform: &'static dyn Platform,
}

impl MemDevice {
    pub fn new(dentry: Arc<Dentry>, device: Device, platform: &'static dyn Platform) -> MemDevice {
        MemDevice { dentry, device, platform }
    }
}

impl File for MemDevice {
    fn read(&self, buf: &mut [u8], _nonblock: bool) -> SysResult {
        match self.device {
            Device::Null => Ok(0),
            Device::Random | Device::Urandom => {
                self.platform.fill_random(buf);
                Ok(buf.len())
            }
            _ => {
                buf.fill(0);
                Ok(buf.len())
            }
        }
    }

    /// Writes vanish, except into `/dev/full`. (Linux mixes what is written to the
    /// random devices into its pool; the platform's generator takes no input.)
    fn write(&self, buf: &[u8], _nonblock: bool) -> SysResult {
        match self.device {
            Device::Full => Err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }

    fn pread(&self, buf: &mut [u8], _offset: u64) -> SysResult {
        self.read(buf, false)
    }

    fn pwrite(&self, buf: &[u8], _offset: u64) -> SysResult {
        self.write(buf, false)
    }

    fn seek(&self, _offset: i64, _whence: u32) -> Result<u64, Errno> {
        Ok(0)
    }

    fn readiness(&self) -> crate::readiness::Readiness<'_> {
        crate::readiness::Readiness::Static
    }

    /// Only the random devices have a `poll` method on Linux (`epoll_ctl` on the
    /// others is EPERM).
    fn supports_epoll(&self) -> bool {
        matches!(self.device, Device::Random | Device::Urandom)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.dentry.inode().metadata()?.to_stat())
    }

    fn dentry(&self) -> Option<Arc<Dentry>> {
        Some(self.dentry.clone())
    }
}
