//! fatfs's time source, read from the libOS clock.

use crate::time::unix_to_datetime;
use libos::vfs::Clock;

/// What fatfs stamps new entries and written files with.
pub(super) struct FatClock(pub Clock);

impl FatClock {
    pub fn now_secs(&self) -> i64 {
        (self.0)().tv_sec
    }
}

impl core::fmt::Debug for FatClock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FatClock")
    }
}

impl fatfs::TimeProvider for FatClock {
    fn get_current_date(&self) -> fatfs::Date {
        unix_to_datetime(self.now_secs()).date
    }

    fn get_current_date_time(&self) -> fatfs::DateTime {
        unix_to_datetime(self.now_secs())
    }
}
