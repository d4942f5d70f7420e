//! Large directories through `libos::vfs`, as Linux handles them: thousands of creates,
//! a listing and as many removals, each independent of the directory's size; directories
//! that grow over many clusters; and a volume with no cluster left for a directory to
//! grow. Every volume is then read back by fatfs and checked by `fsck.fat`.

mod common;

use std::time::Instant;

use common::fat::*;
use common::raw_dir::free_clusters;
use libos::file::OpenFile;
use libos::vfs::oflags::*;
use libos::vfs::{At, FileSystem};
use libos::Errno;
use unify_rootfs::{FatVolume, FileKind, MemDevice, MIN_VOLUME_SIZE};

/// What the `fs_getdents` probe makes: files, every 100th a directory.
fn name(i: usize) -> String {
    if i.is_multiple_of(100) {
        format!("sub_{i:05}")
    } else {
        format!("entry_{i:05}.dat")
    }
}

/// Where paths relative to the open directory `dir` start, as for `openat`.
fn at(dir: &OpenFile) -> At {
    At::Dir(dir.file.dentry().unwrap())
}

/// Creates `name(i)` in directory `at` through the VFS, as `openat`/`mkdirat` do.
fn create(fx: &Fat, at: &At, i: usize) {
    if i.is_multiple_of(100) {
        fx.vfs.mkdir(at, name(i).as_bytes(), 0o755).unwrap();
    } else {
        fx.vfs.open(at, name(i).as_bytes(), O_WRONLY | O_CREAT | O_EXCL, 0o644).unwrap();
    }
}

/// The volume as fatfs reads it, from a copy of the device: every entry of `dir`.
fn fatfs_names(fx: &Fat, dir: &str) -> Vec<(String, FileKind)> {
    fx.fs.sync().unwrap();
    let vol = FatVolume::open(MemDevice::from_vec(fx.dev.to_vec())).unwrap();
    let mut names: Vec<_> = vol.read_dir(dir).unwrap().into_iter().map(|e| (e.name, e.kind)).collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    names
}

/// The free count `statfs` reports is the FAT's, and `sync` records it in FSInfo.
fn check_free_count(fx: &Fat) {
    fx.fs.sync().unwrap();
    let (counted, recorded) = free_clusters(&fx.dev);
    assert_eq!(fx.fs.statfs().unwrap().f_bfree, u64::from(counted));
    assert_eq!(recorded, counted);
}

#[test]
fn five_thousand_creates_a_listing_and_as_many_unlinks() {
    const N: usize = 5000;
    let fx = Fat::new();
    let free = fx.fs.statfs().unwrap().f_bfree;
    fx.mkdir("/big");
    let dir = fx.open("/big", O_RDONLY | O_DIRECTORY).unwrap();
    let at = at(&dir);

    let t = Instant::now();
    for i in 0..N {
        create(&fx, &at, i);
    }
    let created = t.elapsed();
    let t = Instant::now();
    let listed = list_dir(&dir);
    let listing = t.elapsed();
    let mut names: Vec<String> = listed.iter().map(|d| String::from_utf8(d.name.clone()).unwrap()).collect();
    names.sort();
    let mut want: Vec<String> = (0..N).map(name).chain([".".into(), "..".into()]).collect();
    want.sort();
    assert_eq!(names, want);

    // fatfs reads every entry, with its kind; fsck.fat finds nothing wrong.
    let by_fatfs = fatfs_names(&fx, "/big");
    assert_eq!(by_fatfs.len(), N);
    for (name, kind) in &by_fatfs {
        assert_eq!(*kind == FileKind::Dir, name.starts_with("sub_"), "{name}");
    }
    fsck_mounted(&fx);
    check_free_count(&fx);

    let t = Instant::now();
    for i in 0..N {
        if i.is_multiple_of(100) {
            fx.vfs.rmdir(&at, name(i).as_bytes()).unwrap();
        } else {
            fx.vfs.unlink(&at, name(i).as_bytes()).unwrap();
        }
    }
    let removed = t.elapsed();
    assert!(fx.names("/big").is_empty());
    drop(at);
    drop(dir);
    fx.vfs.rmdir(CWD, b"/big").unwrap();
    eprintln!("{N} creates {created:?}, listing {listing:?}, {N} removals {removed:?}");

    assert!(fatfs_names(&fx, "/").is_empty());
    assert_eq!(fx.fs.statfs().unwrap().f_bfree, free, "every cluster is back");
    check_free_count(&fx);
    fx.unmount_and_check();
}

#[test]
fn a_directory_grows_over_many_clusters_and_reuses_freed_slots() {
    // 512-byte clusters hold 16 slots; a 255-unit name takes 21, so entries straddle clusters.
    let fx = Fat::new();
    fx.mkdir("/d");
    let long = |i: usize| format!("{i:03}{}", "x".repeat(252));
    for i in 0..40 {
        fx.write_file(&format!("/d/{}", long(i)), format!("data {i}").as_bytes());
    }
    let size = fx.stat("/d").unwrap().st_size;
    assert_eq!(size, (2 + 40 * 21_u64).div_ceil(16) as i64 * 512, "the clusters the entries need, and no more");
    for i in (0..40).step_by(2) {
        fx.vfs.unlink(CWD, format!("/d/{}", long(i)).as_bytes()).unwrap();
    }
    // Short names fit in the freed runs: the directory does not grow.
    for i in 0..100 {
        fx.write_file(&format!("/d/s{i}"), b"");
    }
    assert_eq!(fx.stat("/d").unwrap().st_size, size);
    for i in (1..40).step_by(2) {
        assert_eq!(fx.read_file(&format!("/d/{}", long(i))), format!("data {i}").as_bytes());
    }

    let fx = fx.remount();
    assert_eq!(fx.names("/d").len(), 120);
    assert_eq!(fatfs_names(&fx, "/d").len(), 120);
    let vol = FatVolume::open(MemDevice::from_vec(fx.dev.to_vec())).unwrap();
    assert_eq!(vol.read_file(&format!("/d/{}", long(39))).unwrap(), b"data 39");
    check_free_count(&fx);
    fx.unmount_and_check();
}

#[test]
fn a_directory_that_cannot_grow_is_enospc_and_the_volume_stays_whole() {
    let fx = Fat::on(formatted(MIN_VOLUME_SIZE, 512));
    fx.mkdir("/d");
    let f = fx.open("/fill", O_WRONLY | O_CREAT).unwrap();
    let chunk = vec![0x5au8; 1 << 20];
    while f.write(&chunk).is_ok_and(|n| n > 0) {}
    assert_eq!(fx.fs.statfs().unwrap().f_bfree, 0);
    drop(f);

    // `.`, `..` and seven two-slot entries fill the directory's one cluster.
    let mut made = 0;
    let failed = loop {
        match fx.vfs.open(CWD, format!("/d/file {made}").as_bytes(), O_WRONLY | O_CREAT, 0o644) {
            Ok(_) => made += 1,
            Err(e) => break e,
        }
    };
    assert_eq!((failed, made), (Errno::ENOSPC, 7));
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/d/sub", 0o755)), Errno::ENOSPC);
    assert_eq!(err(fx.vfs.rename(CWD, b"/fill", CWD, b"/d/moved", 0)), Errno::ENOSPC);
    assert_eq!(fx.names("/d").len(), 7);
    assert_eq!(fatfs_names(&fx, "/d").len(), 7);
    fsck_mounted(&fx);
    check_free_count(&fx);

    // Freeing space lets the directory grow again.
    fx.vfs.unlink(CWD, b"/fill").unwrap();
    fx.write_file("/d/now it fits", b"yes");
    assert_eq!(fx.read_file("/d/now it fits"), b"yes");
    assert_eq!(fatfs_names(&fx, "/d").len(), 8);
    check_free_count(&fx);
    fx.unmount_and_check();
}

#[test]
fn bytes_left_past_a_directorys_end_marker_stay_past_it() {
    let fx = Fat::new();
    fx.mkdir("/d");
    fx.write_file("/d/a", b"a");
    let dev = fx.dev.clone();
    drop(fx);
    // `.`, `..`, then "a" (a long-name slot and its 8.3 slot): the end marker is slot 4.
    // Another system left an entry-like slot past it, which FAT readers ignore.
    let mut ghost = [0u8; 32];
    ghost[..11].copy_from_slice(b"GHOST   TXT");
    ghost[11] = 0x20;
    common::raw_dir::write_slot(&dev, "D", 6, &ghost);
    let fx = Fat::on(dev);
    assert_eq!(fx.names("/d"), ["a"]);
    // Each new entry is written at the end marker and followed by a new one.
    for name in ["b", "c", "d"] {
        fx.write_file(&format!("/d/{name}"), name.as_bytes());
        let mut seen: Vec<String> = fatfs_names(&fx, "/d").into_iter().map(|(n, _)| n).collect();
        seen.sort();
        assert!(!seen.iter().any(|n| n.eq_ignore_ascii_case("ghost.txt")), "{seen:?}");
    }
    assert_eq!(fatfs_names(&fx, "/d").len(), 4);
    let fx = fx.remount();
    assert_eq!(fx.names("/d").len(), 4);
    fx.unmount_and_check();
}
