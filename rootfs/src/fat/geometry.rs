//! The layout of a FAT32 volume, from its boot sector: where the FATs, the clusters and
//! the FSInfo sector are.

use crate::{BlockDevice, FsError};

/// Bytes per FAT32 FAT entry.
const FAT_ENTRY: u64 = 4;

/// Where things are on a FAT32 volume, read from its boot sector.
#[derive(Clone, Debug)]
pub(crate) struct Geometry {
    pub(crate) cluster_size: u64,
    pub(crate) fat_offset: u64,
    pub(crate) fat_bytes: u64,
    pub(crate) num_fats: u64,
    /// The one FAT in use when mirroring is off (`BPB_ExtFlags` bit 7); `None` when every
    /// copy is kept the same.
    pub(crate) active_fat: Option<u64>,
    pub(crate) data_offset: u64,
    pub(crate) total_clusters: u32,
    pub(crate) root_cluster: u32,
    pub(crate) fs_info_offset: u64,
}

fn le16(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

impl Geometry {
    /// The geometry of the volume on `dev`; `Corrupt` unless it is FAT32.
    pub(crate) fn read<D: BlockDevice + ?Sized>(dev: &D) -> Result<Geometry, FsError> {
        let mut b = [0u8; 512];
        dev.read_at(0, &mut b)?;
        let sector = le16(&b, 11);
        let per_cluster = u64::from(b[13]);
        let reserved = le16(&b, 14);
        let num_fats = u64::from(b[16]);
        let total_sectors = le32(&b, 32);
        let fat_sectors = le32(&b, 36);
        let ext_flags = le16(&b, 40);
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
        let active_fat = (ext_flags & 0x80 != 0).then_some(ext_flags & 0x0f);
        if active_fat.is_some_and(|n| n >= num_fats) {
            return Err(FsError::Corrupt);
        }
        let data_sector = reserved + num_fats * fat_sectors;
        let clusters = total_sectors.saturating_sub(data_sector) / per_cluster;
        // Every cluster needs its FAT entry.
        let clusters = clusters.min(fat_sectors * sector / FAT_ENTRY - 2);
        let total_clusters = u32::try_from(clusters).map_err(|_| FsError::Corrupt)?;
        if root_cluster >= total_clusters + 2 {
            return Err(FsError::Corrupt);
        }
        Ok(Geometry {
            cluster_size: sector * per_cluster,
            fat_offset: reserved * sector,
            fat_bytes: fat_sectors * sector,
            num_fats,
            active_fat,
            data_offset: data_sector * sector,
            total_clusters,
            root_cluster,
            fs_info_offset: fs_info * sector,
        })
    }

    pub(crate) fn cluster_offset(&self, cluster: u32) -> u64 {
        self.data_offset + u64::from(cluster - 2) * self.cluster_size
    }

    /// Clusters `bytes` take (for the image builder).
    #[cfg(feature = "std")]
    pub(crate) fn clusters_for(&self, bytes: u64) -> u64 {
        bytes.div_ceil(self.cluster_size)
    }

    /// Whether `cluster` is a data cluster of this volume.
    pub(crate) fn is_cluster(&self, cluster: u32) -> bool {
        (2..self.total_clusters + 2).contains(&cluster)
    }

    /// Where the FAT entry of `cluster` is read from.
    pub(crate) fn fat_entry_offset(&self, cluster: u32) -> u64 {
        self.fat_offset + self.active_fat.unwrap_or(0) * self.fat_bytes + u64::from(cluster) * FAT_ENTRY
    }

    /// Where the FAT entry of `cluster` is written: every copy, or only the active one
    /// when mirroring is off.
    pub(crate) fn fat_entry_copies(&self, cluster: u32) -> impl Iterator<Item = u64> + '_ {
        let copies = match self.active_fat {
            Some(n) => n..n + 1,
            None => 0..self.num_fats,
        };
        copies.map(move |n| self.fat_offset + n * self.fat_bytes + u64::from(cluster) * FAT_ENTRY)
    }
}
