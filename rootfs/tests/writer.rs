//! The image writer behind `ImageBuilder::build_*`: what it lays out directly must read back
//! through fatfs, take new entries at run time, and pass `fsck.fat` (when installed).
#![cfg(feature = "std")]

mod common;

use std::process::Command;
use std::time::Instant;

use common::TempDir;
use unify_rootfs::{BuildError, FatVolume, FileDevice, FileKind, FormatOptions, FsError, ImageBuilder, MemDevice};

const MIB: u64 = 1024 * 1024;

/// `fsck.fat -n` on an image file, if dosfstools is installed: no complaint, status 0.
fn fsck(path: &std::path::Path) {
    let Ok(out) = Command::new("fsck.fat").arg("-n").arg(path).output() else {
        eprintln!("fsck.fat not installed; skipping the on-disk check");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "fsck.fat: {text}");
    assert_eq!(text.lines().count(), 2, "fsck.fat found something: {text}");
}

#[test]
fn names_of_every_shape_read_back_and_pass_fsck() {
    let names = [
        "a",
        "README",
        "readme.md",
        "Makefile.in",
        ".hidden",
        ".bashrc.swp",
        "a.b.c.d",
        "foo bar",
        "FOOBAR~1",
        "exactly13char",
        "twenty-six characters lo.g",
        "spaces and (parens) [and] brackets + more; = ok",
        "ünïcödé — ok.txt",
        "日本語のファイル名.txt",
        &"x".repeat(255),
    ];
    let tmp = TempDir::new("shapes");
    let path = tmp.path().join("shapes.fat");
    let mut b = ImageBuilder::new(None);
    b.format_options(FormatOptions { volume_label: Some(*b"UNIFY TEST "), ..FormatOptions::default() });
    for (i, n) in names.iter().enumerate() {
        b.add_file(&format!("/files/{n}"), format!("{i}").into_bytes()).unwrap();
        b.add_dir(&format!("/dirs/{n}/inner")).unwrap();
    }
    b.add_file("/empty", Vec::new()).unwrap();
    b.add_file("/two-clusters", vec![7u8; 513]).unwrap();
    b.build_to_file(&path).unwrap();
    fsck(&path);

    let vol = FatVolume::open(FileDevice::open(&path).unwrap()).unwrap();
    let mut got: Vec<String> = vol.read_dir("/files").unwrap().into_iter().map(|e| e.name).collect();
    got.sort();
    let mut want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    for (i, n) in names.iter().enumerate() {
        assert_eq!(vol.read_file(&format!("/files/{n}")).unwrap(), format!("{i}").as_bytes(), "{n}");
        assert_eq!(vol.stat(&format!("/dirs/{n}/inner")).unwrap().kind, FileKind::Dir);
        assert!(vol.read_dir(&format!("/dirs/{n}/inner")).unwrap().is_empty());
    }
    assert_eq!(vol.read_file("/empty").unwrap(), b"");
    assert_eq!(vol.read_file("/two-clusters").unwrap(), vec![7u8; 513]);

    // fatfs can go on from here: new names next to the written ones (aliases must not
    // collide), a directory grown past its clusters, removals.
    for i in 0..40 {
        vol.create_file(&format!("/files/readme.md {i}"), true).unwrap();
    }
    vol.create_file("/dirs/README/inner/f", true).unwrap();
    vol.write_at("/dirs/README/inner/f", 0, &vec![1u8; 100_000]).unwrap();
    vol.remove_file("/files/a").unwrap();
    assert_eq!(vol.read_dir("/files").unwrap().len(), names.len() + 39);
    vol.unmount().unwrap();
    fsck(&path);
    // (Not `create_dir`: fatfs 0.3.6 puts long-name entries in front of the `.` and `..`
    // of the directories it creates, which fsck.fat reports.)
}

#[test]
fn a_root_directory_larger_than_one_cluster() {
    // 512-byte clusters hold 16 entries; 300 long names need many.
    let mut b = ImageBuilder::new(Some(40 * MIB));
    for i in 0..300 {
        b.add_file(&format!("/top-level file number {i}"), vec![i as u8; i]).unwrap();
    }
    let vol = FatVolume::open(MemDevice::from_vec(b.build_in_memory().unwrap())).unwrap();
    assert_eq!(vol.read_dir("/").unwrap().len(), 300);
    assert_eq!(vol.read_file("/top-level file number 299").unwrap(), vec![43u8; 299]);
    assert_eq!(vol.statfs().unwrap().cluster_size, 512);
}

#[test]
fn free_space_is_accounted() {
    let mut b = ImageBuilder::new(Some(64 * MIB));
    b.add_file("/a", vec![1u8; 10_000]).unwrap();
    let vol = FatVolume::open(MemDevice::from_vec(b.build_in_memory().unwrap())).unwrap();
    let before = vol.statfs().unwrap();
    // The FSInfo count written with the image is what fatfs starts from: a new file's
    // clusters come off it exactly.
    vol.create_file("/b", true).unwrap();
    vol.write_at("/b", 0, &[0u8; 4096]).unwrap();
    let after = vol.statfs().unwrap();
    assert_eq!(before.free_clusters - after.free_clusters, 4096 / before.cluster_size);
    // The first file took 10,000 bytes in clusters, the root one, plus nothing else.
    let used = before.total_clusters - before.free_clusters;
    assert_eq!(used, 1 + 10_000u32.div_ceil(before.cluster_size));
}

#[test]
fn too_many_names_for_one_directory() {
    // A FAT directory holds 65,536 entries; each of these names takes three.
    let mut b = ImageBuilder::new(Some(64 * MIB));
    for i in 0..22_000 {
        b.add_file(&format!("/d/name with a long tail {i:06}"), Vec::new()).unwrap();
    }
    match b.build_in_memory() {
        Err(BuildError::Guest { path, error: FsError::NoSpace }) => assert_eq!(path, "/d"),
        other => panic!("{other:?}"),
    }
}

/// Building is linear in the number of names: 5,000 names in one directory and 2,000 files
/// in 40 directories both take well under a second (fatfs itself needs ~90 s for the first).
#[test]
#[cfg_attr(debug_assertions, ignore = "timing; run with --release")]
fn large_directories_build_fast() {
    let tmp = TempDir::new("fast");
    let path = tmp.path().join("big.fat");
    let mut b = ImageBuilder::new(None);
    for i in 0..5000 {
        b.add_file(&format!("/big/entry-number-{i:05}.dat"), b"x".to_vec()).unwrap();
    }
    for d in 0..40 {
        for f in 0..50 {
            b.add_file(&format!("/tree/dir{d:02}/file_{f:03}.txt"), format!("{d} {f}\n").into_bytes()).unwrap();
        }
    }
    let t = Instant::now();
    let report = b.build_to_file(&path).unwrap();
    let built = t.elapsed();
    eprintln!("7,000 files: {built:?}");
    assert!(built.as_secs_f64() < 2.0, "{built:?}");
    assert_eq!(report.files, 7000);
    fsck(&path);
    let vol = FatVolume::open(FileDevice::open(&path).unwrap()).unwrap();
    assert_eq!(vol.read_dir("/big").unwrap().len(), 5000);
    assert_eq!(vol.read_file("/big/entry-number-04999.dat").unwrap(), b"x");
    assert_eq!(vol.read_file("/tree/dir39/file_049.txt").unwrap(), b"39 49\n");
}
