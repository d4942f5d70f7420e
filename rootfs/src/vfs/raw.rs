//! The mounted device as this layer reads and writes it behind fatfs: directory slots and
//! FAT entries (see `entries` and `clusters`).
//!
//! Every write goes to the device at once, as fatfs's own do, is recorded in the
//! [`Stale`] list of fatfs's block cache (so fatfs reads it back instead of an old copy),
//! and the first one marks the volume dirty, as fatfs's first write would. Reads go to the
//! device, which always holds what fatfs wrote (its cache is write-through).

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use libos::Errno;

use super::detach::Detachable;
use super::errno::from_fs;
use super::superblock;
use crate::blockio::Stale;
use crate::fat::entry::{set_first_cluster, ATTR, ATTR_LFN, DOTDOT, SLOT};
use crate::fat::geometry::Geometry;
use crate::fat::{FAT_EOC_MIN, FAT_MASK};
use crate::{BlockDevice, IoError};

pub(super) fn errno(e: IoError) -> Errno {
    from_fs(e.into())
}

/// The mounted device, for writes behind fatfs.
pub(super) struct RawVolume {
    dev: Arc<Detachable>,
    stale: Arc<Stale>,
    pub geo: Geometry,
    /// Whether this layer has marked the volume dirty yet.
    dirtied: bool,
}

impl RawVolume {
    /// `dev`, whose fatfs block cache drops what is listed in `stale`; EIO unless it holds
    /// a FAT32 volume.
    pub fn new(dev: Arc<Detachable>, stale: Arc<Stale>) -> Result<RawVolume, Errno> {
        let geo = Geometry::read(&*dev).map_err(|_| Errno::EIO)?;
        Ok(RawVolume { dev, stale, geo, dirtied: false })
    }

    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.dev.read_at(off, buf).map_err(errno)
    }

    pub fn write(&mut self, off: u64, data: &[u8]) -> Result<(), Errno> {
        if !self.dirtied {
            superblock::mark_dirty(&*self.dev).map_err(errno)?;
            self.stale.mark(0, 512);
            self.dirtied = true;
        }
        let r = self.dev.write_at(off, data).map_err(errno);
        self.stale.mark(off, data.len());
        r
    }

    /// The bytes of `cluster`.
    pub fn read_cluster(&self, cluster: u32) -> Result<Vec<u8>, Errno> {
        let mut data = vec![0u8; self.geo.cluster_size as usize];
        self.read(self.geo.cluster_offset(cluster), &mut data)?;
        Ok(data)
    }

    /// The FAT entry of `cluster` (28 bits).
    pub fn fat_entry(&self, cluster: u32) -> Result<u32, Errno> {
        let mut b = [0u8; 4];
        self.read(self.geo.fat_entry_offset(cluster), &mut b)?;
        Ok(u32::from_le_bytes(b) & FAT_MASK)
    }

    /// Sets the FAT entry of `cluster` in every copy, keeping its reserved top bits.
    pub fn set_fat_entry(&mut self, cluster: u32, value: u32) -> Result<(), Errno> {
        let mut b = [0u8; 4];
        self.read(self.geo.fat_entry_offset(cluster), &mut b)?;
        let raw = (u32::from_le_bytes(b) & !FAT_MASK) | (value & FAT_MASK);
        let copies: Vec<u64> = self.geo.fat_entry_copies(cluster).collect();
        for at in copies {
            self.write(at, &raw.to_le_bytes())?;
        }
        Ok(())
    }

    /// The clusters of the chain starting at `first`. EIO for a chain that leaves the
    /// volume, loops, or runs into a free or bad cluster.
    pub fn chain(&self, first: u32) -> Result<Vec<u32>, Errno> {
        let mut out = Vec::new();
        let mut c = first;
        loop {
            if !self.geo.is_cluster(c) || out.len() > self.geo.total_clusters as usize {
                return Err(Errno::EIO);
            }
            out.push(c);
            match self.fat_entry(c)? {
                n if n >= FAT_EOC_MIN => return Ok(out),
                n => c = n,
            }
        }
    }

    /// Points `..` of the directory at `cluster` at `parent` (0 for the root). `..` is the
    /// second slot, or the fourth in a directory fatfs 0.3.6 made (a long-name slot before
    /// each dot entry).
    pub fn set_dotdot(&mut self, cluster: u32, parent: u32) -> Result<(), Errno> {
        let at = self.geo.cluster_offset(cluster);
        let mut slots = [0u8; 4 * SLOT];
        self.read(at, &mut slots)?;
        for (i, slot) in slots.chunks_exact_mut(SLOT).enumerate() {
            if slot[ATTR] != ATTR_LFN && slot[..11] == DOTDOT {
                set_first_cluster(slot, parent);
                return self.write(at + (i * SLOT) as u64, slot);
            }
        }
        Ok(())
    }
}
