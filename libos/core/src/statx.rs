//! `struct statx` (x86-64, 256 bytes) and how a `struct stat` becomes one.
//!
//! Every node's metadata already reaches the syscall layer as a [`Stat`]; `statx`
//! reports the same fields in its own layout, with the mask saying which ones are real.
//! No filesystem here records a birth time, so `STATX_BTIME` is never in the mask (as
//! on Linux for tmpfs before 5.x and for vfat when the creation time is unset).

use crate::abi::Stat;

/// `stx_mask` bits.
pub mod mask {
    pub const STATX_TYPE: u32 = 0x1;
    pub const STATX_MODE: u32 = 0x2;
    pub const STATX_NLINK: u32 = 0x4;
    pub const STATX_UID: u32 = 0x8;
    pub const STATX_GID: u32 = 0x10;
    pub const STATX_ATIME: u32 = 0x20;
    pub const STATX_MTIME: u32 = 0x40;
    pub const STATX_CTIME: u32 = 0x80;
    pub const STATX_INO: u32 = 0x100;
    pub const STATX_SIZE: u32 = 0x200;
    pub const STATX_BLOCKS: u32 = 0x400;
    /// What `stat` gives: everything above.
    pub const STATX_BASIC_STATS: u32 = 0x7ff;
    pub const STATX_BTIME: u32 = 0x800;
    pub const STATX_MNT_ID: u32 = 0x1000;
    /// Reserved for a future `struct statx` extension: EINVAL if asked for.
    pub const STATX_RESERVED: u32 = 0x8000_0000;
}

/// `statx` flags beyond the `AT_*` ones `newfstatat` takes: how to synchronise.
pub const AT_STATX_SYNC_TYPE: u32 = 0x6000;

/// `struct statx_timestamp`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatxTimestamp {
    pub tv_sec: i64,
    pub tv_nsec: u32,
    pub reserved: i32,
}

/// `struct statx`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statx {
    pub stx_mask: u32,
    pub stx_blksize: u32,
    pub stx_attributes: u64,
    pub stx_nlink: u32,
    pub stx_uid: u32,
    pub stx_gid: u32,
    pub stx_mode: u16,
    pub spare0: u16,
    pub stx_ino: u64,
    pub stx_size: u64,
    pub stx_blocks: u64,
    pub stx_attributes_mask: u64,
    pub stx_atime: StatxTimestamp,
    pub stx_btime: StatxTimestamp,
    pub stx_ctime: StatxTimestamp,
    pub stx_mtime: StatxTimestamp,
    pub stx_rdev_major: u32,
    pub stx_rdev_minor: u32,
    pub stx_dev_major: u32,
    pub stx_dev_minor: u32,
    pub stx_mnt_id: u64,
    pub stx_dio_mem_align: u32,
    pub stx_dio_offset_align: u32,
    pub spare3: [u64; 12],
}

/// The major number of a `makedev`-encoded device (glibc's `major`).
pub const fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

/// The minor number of a `makedev`-encoded device (glibc's `minor`).
pub const fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

fn timestamp(sec: i64, nsec: i64) -> StatxTimestamp {
    StatxTimestamp { tv_sec: sec, tv_nsec: nsec as u32, reserved: 0 }
}

impl Statx {
    /// The `statx` of a node whose `stat` is `st`, mounted as mount `mnt_id`.
    pub fn from_stat(st: &Stat, mnt_id: u64) -> Statx {
        Statx {
            stx_mask: mask::STATX_BASIC_STATS | mask::STATX_MNT_ID,
            stx_blksize: st.st_blksize as u32,
            stx_attributes: 0,
            stx_nlink: st.st_nlink as u32,
            stx_uid: st.st_uid,
            stx_gid: st.st_gid,
            stx_mode: st.st_mode as u16,
            spare0: 0,
            stx_ino: st.st_ino,
            stx_size: st.st_size as u64,
            stx_blocks: st.st_blocks as u64,
            stx_attributes_mask: 0,
            stx_atime: timestamp(st.st_atime, st.st_atime_nsec),
            stx_btime: StatxTimestamp::default(),
            stx_ctime: timestamp(st.st_ctime, st.st_ctime_nsec),
            stx_mtime: timestamp(st.st_mtime, st.st_mtime_nsec),
            stx_rdev_major: major(st.st_rdev),
            stx_rdev_minor: minor(st.st_rdev),
            stx_dev_major: major(st.st_dev),
            stx_dev_minor: minor(st.st_dev),
            stx_mnt_id: mnt_id,
            stx_dio_mem_align: 0,
            stx_dio_offset_align: 0,
            spare3: [0; 12],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::makedev;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layout_matches_the_kernel() {
        assert_eq!(size_of::<Statx>(), 256);
        assert_eq!(offset_of!(Statx, stx_ino), 32);
        assert_eq!(offset_of!(Statx, stx_atime), 64);
        assert_eq!(offset_of!(Statx, stx_mtime), 112);
        assert_eq!(offset_of!(Statx, stx_rdev_major), 128);
        assert_eq!(offset_of!(Statx, stx_mnt_id), 144);
    }

    #[test]
    fn device_numbers_round_trip() {
        for (ma, mi) in [(0, 0), (8, 1), (259, 65_536), (4095, 255), (0x12345, 0xabcdef)] {
            let dev = makedev(ma, mi);
            assert_eq!((major(dev), minor(dev)), (ma, mi));
        }
    }
}
