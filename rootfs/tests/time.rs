//! FAT timestamps ⇄ Unix seconds.

use unify_rootfs::time::{date_to_unix, datetime_to_unix, unix_to_datetime, FAT_END, FAT_EPOCH};

#[test]
fn known_instants() {
    let dt = unix_to_datetime(1_700_000_000); // 2023-11-14T22:13:20Z
    assert_eq!((dt.date.year, dt.date.month, dt.date.day), (2023, 11, 14));
    assert_eq!((dt.time.hour, dt.time.min, dt.time.sec), (22, 13, 20));
    assert_eq!(datetime_to_unix(dt), 1_700_000_000);
    let leap = unix_to_datetime(951_782_400); // 2000-02-29T00:00:00Z
    assert_eq!((leap.date.year, leap.date.month, leap.date.day), (2000, 2, 29));
    assert_eq!(date_to_unix(leap.date), 951_782_400);
}

#[test]
fn round_trips_and_clamps() {
    for t in (FAT_EPOCH..FAT_END).step_by(7_777_777) {
        assert_eq!(datetime_to_unix(unix_to_datetime(t)), t);
    }
    assert_eq!(datetime_to_unix(unix_to_datetime(0)), FAT_EPOCH);
    assert_eq!(datetime_to_unix(unix_to_datetime(-5)), FAT_EPOCH);
    assert_eq!(datetime_to_unix(unix_to_datetime(i64::MAX)), FAT_END);
    assert_eq!(unix_to_datetime(FAT_END).date.year, 2107);
}
