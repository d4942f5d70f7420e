//! Timestamps as FAT keeps them, in Unix seconds (UTC, as unify's guests run).
//!
//! FAT stores the modification time to 2 s and the access time as a date, from 1980 to
//! 2107; vfat reports exactly what it stores (`fat_truncate_time`), and keeps the change
//! time to the modification time's granularity. These helpers give what the volume will
//! hold for a given time, so what `stat` shows before and after a remount agrees.

use libos::abi::Timespec;

use crate::time::{FAT_END, FAT_EPOCH};

/// The modification (and change) time FAT stores for `t`.
pub(super) fn mtime(t: Timespec) -> i64 {
    let s = t.tv_sec.clamp(FAT_EPOCH, FAT_END);
    s - s.rem_euclid(2)
}

/// The access time FAT stores for `t`: midnight of its day.
pub(super) fn atime(t: Timespec) -> i64 {
    let s = t.tv_sec.clamp(FAT_EPOCH, FAT_END);
    s - s.rem_euclid(86_400)
}

/// Seconds as a `Timespec`.
pub(super) fn ts(secs: i64) -> Timespec {
    Timespec { tv_sec: secs, tv_nsec: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granularity_and_range() {
        let t = Timespec { tv_sec: 1_700_000_001, tv_nsec: 999_999_999 };
        assert_eq!(mtime(t), 1_700_000_000);
        assert_eq!(atime(t), 1_699_920_000);
        assert_eq!(mtime(ts(0)), FAT_EPOCH);
        assert_eq!(mtime(ts(i64::MAX)), FAT_END);
    }
}
