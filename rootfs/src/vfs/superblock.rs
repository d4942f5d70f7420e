//! What fatfs writes only when it unmounts: the FSInfo free-cluster count and the clean
//! flag of a FAT32 volume; and the dirty flag, which fatfs sets at its first write.
//!
//! The mount's fatfs filesystem is leaked and never unmounted, so this layer writes those
//! fields itself: the free count at every `sync` (as Linux's `fat_clusters_flush` does),
//! the dirty flag at this layer's own first write (see `raw`) and the clean flag when the
//! mount goes away (while mounted the volume stays marked dirty, as under Linux). All are
//! plain fields at fixed places in the first sectors; fatfs reads none of them after
//! mounting, so writing them behind its back is safe.

use crate::{BlockDevice, IoError};

const SECTORS_PER_FAT_16: usize = 0x16;
/// FAT32's "reserved" byte after the drive number, where fatfs keeps the status flags.
const STATUS_FLAGS: u64 = 0x41;
const DIRTY: u8 = 0x01;

const FS_INFO_LEAD_SIG: u32 = 0x4161_5252;
const FS_INFO_STRUC_SIG: u32 = 0x6141_7272;
const FREE_COUNT: u64 = 488;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The boot sector, if the volume is FAT32 (the only type with FSInfo and this flag byte).
fn fat32_boot_sector(dev: &dyn BlockDevice) -> Result<Option<[u8; 512]>, IoError> {
    let mut boot = [0u8; 512];
    dev.read_at(0, &mut boot)?;
    Ok((u16_at(&boot, SECTORS_PER_FAT_16) == 0).then_some(boot))
}

/// Records `free` clusters in the FSInfo sector, which is at `fs_info`.
pub(super) fn write_free_count(dev: &dyn BlockDevice, fs_info: u64, free: u32) -> Result<(), IoError> {
    let mut info = [0u8; 512];
    dev.read_at(fs_info, &mut info)?;
    if u32_at(&info, 0) != FS_INFO_LEAD_SIG
        || u32_at(&info, 484) != FS_INFO_STRUC_SIG
        || u32_at(&info, FREE_COUNT as usize) == free
    {
        return Ok(());
    }
    dev.write_at(fs_info + FREE_COUNT, &free.to_le_bytes())
}

/// Sets the dirty flag: the volume is being changed.
pub(super) fn mark_dirty(dev: &dyn BlockDevice) -> Result<(), IoError> {
    let Some(boot) = fat32_boot_sector(dev)? else { return Ok(()) };
    let flags = boot[STATUS_FLAGS as usize];
    if flags & DIRTY == 0 {
        dev.write_at(STATUS_FLAGS, &[flags | DIRTY])?;
    }
    Ok(())
}

/// Clears the dirty flag: the volume was left consistent.
pub(super) fn mark_clean(dev: &dyn BlockDevice) -> Result<(), IoError> {
    let Some(boot) = fat32_boot_sector(dev)? else { return Ok(()) };
    let flags = boot[STATUS_FLAGS as usize];
    if flags & DIRTY != 0 {
        dev.write_at(STATUS_FLAGS, &[flags & !DIRTY])?;
    }
    Ok(())
}
