//! FAT timestamps ⇄ Unix time.
//!
//! FAT stores local date and time fields (years 1980–2107, 2-second resolution for the
//! modification time, dates only for the access time) and no time zone. unify's guests run
//! in UTC, so rootfs stores UTC in them.

use fatfs::{Date, DateTime, Time};

/// 1980-01-01T00:00:00Z, the earliest FAT timestamp.
pub const FAT_EPOCH: i64 = 315_532_800;
/// 2107-12-31T23:59:58Z, the latest FAT timestamp.
pub const FAT_END: i64 = 4_354_819_198;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// Unix seconds of a FAT date at midnight. Fields out of range (a never-set date is all
/// zeros) are clamped.
pub fn date_to_unix(d: Date) -> i64 {
    let month = i64::from(d.month.clamp(1, 12));
    let day = i64::from(d.day.clamp(1, 31));
    days_from_civil(i64::from(d.year), month, day) * 86_400
}

/// Unix seconds of a FAT date and time.
pub fn datetime_to_unix(dt: DateTime) -> i64 {
    let t = dt.time;
    date_to_unix(dt.date) + i64::from(t.hour.min(23)) * 3600 + i64::from(t.min.min(59)) * 60 + i64::from(t.sec.min(59))
}

/// The FAT date and time of Unix seconds, clamped to what FAT can store.
pub fn unix_to_datetime(secs: i64) -> DateTime {
    let secs = secs.clamp(FAT_EPOCH, FAT_END);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    // All fields are in range after the clamp: years 1980..=2107, rem < 86400.
    DateTime {
        date: Date { year: y as u16, month: m as u16, day: d as u16 },
        time: Time { hour: (rem / 3600) as u16, min: (rem / 60 % 60) as u16, sec: (rem % 60) as u16, millis: 0 },
    }
}
