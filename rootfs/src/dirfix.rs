//! Two things fatfs 0.3.6 gets wrong in directories, put right on the device.
//!
//! - It writes `.` and `..` of a new directory like any other name, each after a long-name
//!   slot, where FAT wants them as the first two entries (`fsck.fat`: "Expected a valid
//!   '.' entry in this slot"); and its `..` of a directory in the root names the root's
//!   cluster where FAT wants 0.
//! - It does not update `..` of a directory moved to another parent.
//!
//! Both are repaired by rewriting the first 32-byte slots of the directory's first cluster.
//! fatfs keeps the first cluster of an entry private; its `Debug` output prints it, which is
//! how [`first_cluster`] reads it (fatfs is pinned to `=0.3.6`). A caller whose fatfs
//! filesystem is still mounted must make sure fatfs does not read stale cached copies of
//! what is written here.

use alloc::format;
use core::fmt::Debug;

use crate::{BlockDevice, IoError};

const SLOT: usize = 32;
const ATTR: usize = 11;
const LONG_NAME: u8 = 0x0f;
/// The first byte of a free slot that is not the end of the directory.
const DELETED: u8 = 0xe5;
const CLUSTER_HI: usize = 0x14;
const CLUSTER_LO: usize = 0x1a;
const DOT: &[u8; 11] = b".          ";
const DOTDOT: &[u8; 11] = b"..         ";

/// Where clusters are on a FAT volume.
pub(crate) struct DirLayout {
    cluster_size: u64,
    data_offset: u64,
}

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

/// The first cluster (0 for none) of a fatfs `DirEntry`, from its `Debug` output.
pub(crate) fn first_cluster(entry: &impl Debug) -> u32 {
    let text = format!("{entry:?}");
    let field = |name: &str| -> u32 {
        let Some(at) = text.find(name) else { return 0 };
        let digits = text[at + name.len()..].split(|c: char| !c.is_ascii_digit()).next().unwrap_or("");
        digits.parse().unwrap_or(0)
    };
    (field("first_cluster_hi: ") << 16) | field("first_cluster_lo: ")
}

fn set_cluster(slot: &mut [u8], cluster: u32) {
    slot[CLUSTER_HI..CLUSTER_HI + 2].copy_from_slice(&((cluster >> 16) as u16).to_le_bytes());
    slot[CLUSTER_LO..CLUSTER_LO + 2].copy_from_slice(&(cluster as u16).to_le_bytes());
}

impl DirLayout {
    /// The layout of the volume on `dev`, from its boot sector.
    pub fn read(dev: &dyn BlockDevice) -> Result<DirLayout, IoError> {
        let mut boot = [0u8; 512];
        dev.read_at(0, &mut boot)?;
        let bps = u16_at(&boot, 0x0b);
        let reserved = u16_at(&boot, 0x0e);
        let fats = u64::from(boot[0x10]);
        let fat_sectors = match u16_at(&boot, 0x16) {
            0 => u64::from(u32::from_le_bytes([boot[0x24], boot[0x25], boot[0x26], boot[0x27]])),
            n => n,
        };
        let root_sectors = (u16_at(&boot, 0x11) * SLOT as u64).div_ceil(bps.max(1));
        Ok(DirLayout {
            cluster_size: bps * u64::from(boot[0x0d]),
            data_offset: (reserved + fats * fat_sectors + root_sectors) * bps,
        })
    }

    fn first_slots(&self, dev: &dyn BlockDevice, cluster: u32) -> Result<(u64, [u8; 4 * SLOT]), IoError> {
        if cluster < 2 || self.cluster_size < 4 * SLOT as u64 {
            return Err(IoError::OutOfRange);
        }
        let at = self.data_offset + u64::from(cluster - 2) * self.cluster_size;
        let mut slots = [0u8; 4 * SLOT];
        dev.read_at(at, &mut slots)?;
        Ok((at, slots))
    }

    /// Makes `.` and `..` the first two entries of the directory at `cluster` if fatfs
    /// wrote it (a long-name slot before each), with `..` pointing at `parent` (0 for the
    /// root). Returns whether it wrote.
    pub fn fix_new_dir(&self, dev: &dyn BlockDevice, cluster: u32, parent: u32) -> Result<bool, IoError> {
        let (at, slots) = self.first_slots(dev, cluster)?;
        let slot = |i: usize| &slots[i * SLOT..(i + 1) * SLOT];
        let as_fatfs_writes = slot(0)[ATTR] == LONG_NAME
            && slot(1)[..11] == *DOT
            && slot(2)[ATTR] == LONG_NAME
            && slot(3)[..11] == *DOTDOT;
        if !as_fatfs_writes {
            return Ok(false);
        }
        // `.`, `..`, then two free slots: entries may follow (the image builder repairs
        // directories after filling them).
        let mut fixed = [0u8; 4 * SLOT];
        fixed[..SLOT].copy_from_slice(slot(1));
        fixed[SLOT..2 * SLOT].copy_from_slice(slot(3));
        set_cluster(&mut fixed[SLOT..2 * SLOT], parent);
        fixed[2 * SLOT] = DELETED;
        fixed[3 * SLOT] = DELETED;
        dev.write_at(at, &fixed)?;
        Ok(true)
    }

    /// Points `..` of the directory at `cluster` at `parent` (0 for the root). Returns
    /// whether it wrote.
    pub fn set_dotdot(&self, dev: &dyn BlockDevice, cluster: u32, parent: u32) -> Result<bool, IoError> {
        let (at, mut slots) = self.first_slots(dev, cluster)?;
        for i in 0..4 {
            let slot = &mut slots[i * SLOT..(i + 1) * SLOT];
            if slot[ATTR] != LONG_NAME && slot[..11] == *DOTDOT {
                set_cluster(slot, parent);
                dev.write_at(at + (i * SLOT) as u64, slot)?;
                return Ok(true);
            }
        }
        Ok(false)
    }
}
