//! The layout of a FAT32 volume, from its boot sector, for the code that reads and writes
//! volumes directly (`writer`, `reader`).

use crate::{BlockDevice, FsError};

/// Where things are on a FAT32 volume, read from its boot sector.
pub(super) struct Geometry {
    pub(super) cluster_size: u64,
    pub(super) fat_offset: u64,
    pub(super) fat_bytes: u64,
    pub(super) num_fats: u64,
    pub(super) data_offset: u64,
    pub(super) total_clusters: u32,
    pub(super) root_cluster: u32,
    pub(super) fs_info_offset: u64,
}

fn le16(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

impl Geometry {
    pub(super) fn read<D: BlockDevice>(dev: &D) -> Result<Geometry, FsError> {
        let mut b = [0u8; 512];
        dev.read_at(0, &mut b)?;
        let sector = le16(&b, 11);
        let per_cluster = u64::from(b[13]);
        let reserved = le16(&b, 14);
        let num_fats = u64::from(b[16]);
        let total_sectors = le32(&b, 32);
        let fat_sectors = le32(&b, 36);
        let root_cluster = le32(&b, 44) as u32;
        let fs_info = le16(&b, 48);
        // FAT32: no 16-bit FAT size or sector count, a root directory in clusters.
        let fat32 = le16(&b, 22) == 0 && le16(&b, 19) == 0 && root_cluster >= 2;
        if !fat32
            || !matches!(sector, 512 | 1024 | 2048 | 4096)
            || !per_cluster.is_power_of_two()
            || num_fats == 0
            || fat_sectors == 0
            || b[510..] != [0x55, 0xAA]
        {
            return Err(FsError::Corrupt);
        }
        let data_sector = reserved + num_fats * fat_sectors;
        let clusters = total_sectors.saturating_sub(data_sector) / per_cluster;
        // Every cluster needs its FAT entry.
        let clusters = clusters.min(fat_sectors * sector / 4 - 2);
        Ok(Geometry {
            cluster_size: sector * per_cluster,
            fat_offset: reserved * sector,
            fat_bytes: fat_sectors * sector,
            num_fats,
            data_offset: data_sector * sector,
            total_clusters: u32::try_from(clusters).map_err(|_| FsError::Corrupt)?,
            root_cluster,
            fs_info_offset: fs_info * sector,
        })
    }

    pub(super) fn cluster_offset(&self, cluster: u32) -> u64 {
        self.data_offset + u64::from(cluster - 2) * self.cluster_size
    }

    pub(super) fn clusters_for(&self, bytes: u64) -> u64 {
        bytes.div_ceil(self.cluster_size)
    }
}
