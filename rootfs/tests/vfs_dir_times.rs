//! A directory's times, which fatfs 0.3.6 cannot write, are written to its entry: those a
//! change to its contents sets and those `utimensat` sets survive a remount.

mod common;

use common::fat::*;
use libos::abi::Timespec;

#[test]
fn directory_times_survive_a_remount() {
    let fx = Fat::new();
    fx.mkdir("/d");
    fx.mkdir("/d/sub");
    fx.tick(600);
    fx.write_file("/d/f", b"");
    let changed = fx.stat("/d").unwrap();
    assert_eq!(changed.st_mtime, (START_SECS + 600) as i64);
    let t = |s: i64| Timespec { tv_sec: s, tv_nsec: 0 };
    fx.vfs.utimens(CWD, b"/d/sub", Some([t(1_600_000_123), t(1_500_000_001)]), true).unwrap();

    let fx = fx.remount();
    let d = fx.stat("/d").unwrap();
    assert_eq!((d.st_mtime, d.st_atime), (changed.st_mtime, changed.st_atime));
    let sub = fx.stat("/d/sub").unwrap();
    assert_eq!((sub.st_atime, sub.st_mtime), (1_599_955_200, 1_500_000_000));
    fx.unmount_and_check();
}
