//! 8.3 aliases of long names made through `libos::vfs`: numbered as fatfs numbers them
//! (`~1` … `~4`, then a checksum of the name), never taken twice in a directory, answering
//! lookups, freed with their entries, and as fatfs itself reads them after a remount.

#![cfg(feature = "std")]

mod common;

use std::collections::HashSet;

use common::fat::*;
use libos::vfs::oflags::*;
use libos::Errno;
use unify_rootfs::FatVolume;

fn long(k: usize) -> String {
    format!("a long name {k}.txt")
}

/// (long name, 8.3 name) of every entry of `dir`, as fatfs reads them, with the 8.3 names
/// checked to be distinct.
fn aliases(fx: &Fat, dir: &str) -> Vec<(String, String)> {
    fsck_mounted(fx);
    let entries = fatfs_entries(&fx.dev, dir);
    let shorts: HashSet<&String> = entries.iter().map(|e| &e.1).collect();
    assert_eq!(shorts.len(), entries.len(), "8.3 names are unique: {entries:?}");
    entries.into_iter().map(|(l, s, _)| (l, s)).collect()
}

fn alias_of(fx: &Fat, dir: &str, name: &str) -> String {
    aliases(fx, dir).into_iter().find(|(l, _)| l == name).unwrap().1
}

#[test]
fn colliding_long_names_get_numbered_then_checksummed_aliases() {
    let fx = Fat::new();
    fx.mkdir("/d");
    for k in 0..12 {
        fx.write_file(&format!("/d/{}", long(k)), long(k).as_bytes());
    }
    let got = aliases(&fx, "/d");
    for (k, (name, short)) in got.iter().enumerate().take(4) {
        assert_eq!((name.as_str(), short.as_str()), (long(k).as_str(), format!("ALONGN~{}.TXT", k + 1).as_str()));
    }
    for (name, short) in &got[4..] {
        assert!(short.starts_with("AL") && short.ends_with("~1.TXT") && short.len() == 12, "{name}: {short}");
    }
    // Every alias answers lookups, for its own entry.
    for (name, short) in &got {
        assert_eq!(fx.read_file(&format!("/d/{short}")), name.as_bytes());
    }
    // An alias is a name: creating it is EEXIST; a free one can be taken as a long name.
    assert_eq!(err(fx.open("/d/ALONGN~1.TXT", O_WRONLY | O_CREAT | O_EXCL)), Errno::EEXIST);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/d/alongn~4.txt", 0o755)), Errno::EEXIST);
    fx.write_file("/d/alongn~5.txt", b"five");
    assert_eq!(alias_of(&fx, "/d", "alongn~5.txt"), "ALONGN~5.TXT");

    // A removed entry's alias is free again; a renamed entry gets a new one.
    fx.vfs.unlink(CWD, format!("/d/{}", long(1)).as_bytes()).unwrap();
    assert_eq!(err(fx.stat("/d/ALONGN~2.TXT")), Errno::ENOENT);
    fx.write_file(&format!("/d/{}", long(99)), b"99");
    assert_eq!(alias_of(&fx, "/d", &long(99)), "ALONGN~2.TXT");
    fx.vfs.rename(CWD, format!("/d/{}", long(2)).as_bytes(), CWD, b"/d/moved here.txt", 0).unwrap();
    assert_eq!(err(fx.stat("/d/ALONGN~3.TXT")), Errno::ENOENT);
    assert_eq!(fx.read_file("/d/MOVEDH~1.TXT"), long(2).as_bytes());
    fx.vfs.rename(CWD, b"/d/moved here.txt", CWD, b"/moved here.txt", 0).unwrap();
    assert_eq!(fx.read_file("/MOVEDH~1.TXT"), long(2).as_bytes());

    // fatfs, after a remount, reads the same names; lookups by alias still work.
    let before = aliases(&fx, "/d");
    let fx = fx.remount();
    assert_eq!(aliases(&fx, "/d"), before);
    for (name, short) in &before {
        assert_eq!(fx.ino(&format!("/d/{short}")), fx.ino(&format!("/d/{name}")));
    }
    fx.unmount_and_check();
}

#[test]
fn aliases_made_by_fatfs_before_the_mount_are_avoided() {
    let fx = Fat::new();
    fx.mkdir("/d");
    let dev = fx.dev.clone();
    drop(fx);
    {
        let vol = FatVolume::open(dev.clone()).unwrap();
        for k in 0..6 {
            vol.create_file(&format!("/d/{}", long(k)), true).unwrap();
        }
        vol.unmount().unwrap();
    }
    let fx = Fat::on(dev);
    for k in 6..12 {
        fx.write_file(&format!("/d/{}", long(k)), b"");
    }
    let got = aliases(&fx, "/d");
    assert_eq!(got.len(), 12);
    assert_eq!(alias_of(&fx, "/d", &long(0)), "ALONGN~1.TXT");
    fx.unmount_and_check();
}

#[test]
fn the_longest_names_and_unicode_names_round_trip() {
    let fx = Fat::new();
    fx.mkdir("/d");
    let names = [
        "é".repeat(127),
        format!("{}.{}", "x".repeat(200), "y".repeat(54)),
        "Grüße, 世界 [1] & (2) + {3}; =".to_string(),
        ".bashrc".to_string(),
        "UPPER.TXT".to_string(),
        "lower.txt".to_string(),
        "MiXeD.TxT".to_string(),
    ];
    for n in &names {
        fx.write_file(&format!("/d/{n}"), n.as_bytes());
    }
    let fx = fx.remount();
    let mut read: Vec<String> = aliases(&fx, "/d").into_iter().map(|(l, _)| l).collect();
    let mut want = names.to_vec();
    read.sort();
    want.sort();
    assert_eq!(read, want);
    for n in &names {
        assert_eq!(fx.read_file(&format!("/d/{}", n.to_uppercase())), n.as_bytes());
    }
    fx.unmount_and_check();
}
