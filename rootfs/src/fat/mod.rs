//! The FAT32 on-disk format, for the code that reads and writes volumes without fatfs:
//! the image builder (`host`) and the mounted filesystem's directory changes (`vfs`).
//!
//! - [`geometry`]: where the FATs, clusters and FSInfo sector are, from the boot sector.
//! - [`entry`]: 32-byte directory slots — 8.3 entries, long-name entries, timestamps.
//! - [`short_name`]: 8.3 aliases for long names, as fatfs 0.3.6 chooses them.

pub(crate) mod entry;
pub(crate) mod geometry;
pub(crate) mod short_name;

/// FAT32 FAT entries hold 28 bits; the top four are reserved and kept as they are.
pub(crate) const FAT_MASK: u32 = 0x0FFF_FFFF;
/// The end-of-chain mark fatfs and Linux write.
pub(crate) const FAT_EOC: u32 = 0x0FFF_FFFF;
/// Entries from this value up end a chain; below it and from 2 up, they name the next cluster.
pub(crate) const FAT_EOC_MIN: u32 = 0x0FFF_FFF8;
