//! Two things fatfs 0.3.6 gets wrong in directories, put right on the volume directly.
//!
//! - It writes `.` and `..` of a new directory like any other name, each after a long-name
//!   entry, where FAT wants them as the first two entries (`fsck.fat`: "Expected a valid
//!   '.' entry in this slot").
//! - It does not update `..` of a directory moved to another parent.
//!
//! Both are fixed by rewriting the first 32-byte slots of the directory's first cluster.
//! fatfs keeps the first cluster of an entry private; its `Debug` output prints it, which
//! is how [`first_cluster`] reads it (fatfs is pinned to `=0.3.6`). These writes bypass the
//! adapter's metadata cache, so they set its invalidation flag.

use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use libos::Errno;

use super::detach::Detachable;
use super::state::FEntry;
use crate::{BlockDevice, IoError};

const SLOT: usize = 32;
const ATTR: usize = 11;
const LONG_NAME: u8 = 0x0f;
const CLUSTER_HI: usize = 0x14;
const CLUSTER_LO: usize = 0x1a;
const DOT: &[u8; 11] = b".          ";
const DOTDOT: &[u8; 11] = b"..         ";

/// Where clusters are on the volume.
pub(super) struct RawVolume {
    dev: Arc<Detachable>,
    invalidated: Arc<AtomicBool>,
    cluster_size: u64,
    data_offset: u64,
}

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn io_errno(e: IoError) -> Errno {
    super::errno::from_fs(e.into())
}

/// The first cluster of `e` (0 for none), from fatfs's `Debug` output of the entry.
pub(super) fn first_cluster(e: &FEntry) -> u32 {
    let text = format!("{e:?}");
    let field = |name: &str| -> u32 {
        let Some(at) = text.find(name) else { return 0 };
        let digits = text[at + name.len()..].split(|c: char| !c.is_ascii_digit()).next().unwrap_or("");
        digits.parse().unwrap_or(0)
    };
    (field("first_cluster_hi: ") << 16) | field("first_cluster_lo: ")
}

impl RawVolume {
    /// The layout of the FAT volume on `dev`; `invalidated` is the adapter's cache flag.
    pub fn new(dev: Arc<Detachable>, invalidated: Arc<AtomicBool>) -> Result<RawVolume, Errno> {
        let mut boot = [0u8; 512];
        dev.read_at(0, &mut boot).map_err(io_errno)?;
        let bps = u16_at(&boot, 0x0b);
        let reserved = u16_at(&boot, 0x0e);
        let fats = u64::from(boot[0x10]);
        let fat16_sectors = u16_at(&boot, 0x16);
        let fat_sectors = if fat16_sectors != 0 {
            fat16_sectors
        } else {
            u64::from(u32::from_le_bytes([boot[0x24], boot[0x25], boot[0x26], boot[0x27]]))
        };
        let root_entries = u16_at(&boot, 0x11);
        let root_sectors = (root_entries * SLOT as u64).div_ceil(bps.max(1));
        Ok(RawVolume {
            dev,
            invalidated,
            cluster_size: bps * u64::from(boot[0x0d]),
            data_offset: (reserved + fats * fat_sectors + root_sectors) * bps,
        })
    }

    fn first_slots(&self, cluster: u32) -> Result<(u64, [u8; 4 * SLOT]), Errno> {
        if cluster < 2 || self.cluster_size < 4 * SLOT as u64 {
            return Err(Errno::EIO);
        }
        let at = self.data_offset + u64::from(cluster - 2) * self.cluster_size;
        let mut slots = [0u8; 4 * SLOT];
        self.dev.read_at(at, &mut slots).map_err(io_errno)?;
        Ok((at, slots))
    }

    fn write(&self, at: u64, bytes: &[u8]) -> Result<(), Errno> {
        self.dev.write_at(at, bytes).map_err(io_errno)?;
        self.invalidated.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Makes `.` and `..` the first two entries of the new directory at `cluster`, with
    /// `..` pointing at `parent` (0 for the root, as FAT has it).
    pub fn fix_new_dir(&self, cluster: u32, parent: u32) -> Result<(), Errno> {
        let (at, slots) = self.first_slots(cluster)?;
        let slot = |i: usize| &slots[i * SLOT..(i + 1) * SLOT];
        let as_fatfs_writes = slot(0)[ATTR] == LONG_NAME
            && slot(1)[..11] == *DOT
            && slot(2)[ATTR] == LONG_NAME
            && slot(3)[..11] == *DOTDOT;
        if !as_fatfs_writes {
            return Ok(());
        }
        let mut fixed = [0u8; 4 * SLOT];
        fixed[..SLOT].copy_from_slice(slot(1));
        fixed[SLOT..2 * SLOT].copy_from_slice(slot(3));
        set_cluster(&mut fixed[SLOT..2 * SLOT], parent);
        self.write(at, &fixed)
    }

    /// Points `..` of the directory at `cluster` at `parent` (0 for the root).
    pub fn set_dotdot(&self, cluster: u32, parent: u32) -> Result<(), Errno> {
        let (at, mut slots) = self.first_slots(cluster)?;
        for i in 0..4 {
            let slot = &mut slots[i * SLOT..(i + 1) * SLOT];
            if slot[ATTR] != LONG_NAME && slot[..11] == *DOTDOT {
                set_cluster(slot, parent);
                return self.write(at + (i * SLOT) as u64, slot);
            }
        }
        Ok(())
    }
}

fn set_cluster(slot: &mut [u8], cluster: u32) {
    slot[CLUSTER_HI..CLUSTER_HI + 2].copy_from_slice(&((cluster >> 16) as u16).to_le_bytes());
    slot[CLUSTER_LO..CLUSTER_LO + 2].copy_from_slice(&(cluster as u16).to_le_bytes());
}
