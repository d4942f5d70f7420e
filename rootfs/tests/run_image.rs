//! Images that run a program: the layout (`add_program`), where they are written
//! (`build_unlinked`, `build_new_file`) and how a kept image takes new content (`apply_to`).
#![cfg(feature = "std")]

mod common;

use std::path::Path;

use common::{snapshot, TempDir};
use unify_rootfs::{BuildError, FatVolume, FileDevice, FileKind, FsError, ImageBuilder, Manifest, MANIFEST_PATH};

const MIB: u64 = 1024 * 1024;

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn a_program_image_has_the_mount_points_the_program_and_the_manifest() {
    let tmp = TempDir::new("layout");
    let prog = tmp.path().join("server");
    std::fs::write(&prog, b"\x7fELF...").unwrap();
    let mut b = ImageBuilder::new(None);
    b.add_file("/bin/server", b"overwritten by the program".to_vec()).unwrap();
    let m = b
        .add_program(&prog, Manifest { argv: vec![b"./server".to_vec()], cwd: "/srv".into(), ..Manifest::default() })
        .unwrap();
    assert_eq!(m.program, "/bin/server");
    b.set_size(Some(ImageBuilder::run_image_size(b.content_size())));
    let (file, report) = b.build_unlinked(tmp.path()).unwrap();
    assert_eq!(report.size, 512 * MIB);
    assert_eq!(report.cluster_size, 4096);
    assert_eq!(names_in(tmp.path()), ["server"], "the image has no name");

    let vol = FatVolume::open(FileDevice::from_file(file, true).unwrap()).unwrap();
    for d in ImageBuilder::MOUNT_POINTS {
        assert_eq!(vol.stat(d).unwrap().kind, FileKind::Dir, "{d}");
    }
    assert_eq!(vol.read_file("/bin/server").unwrap(), b"\x7fELF...");
    assert_eq!(Manifest::parse(&vol.read_file(MANIFEST_PATH).unwrap()).unwrap(), m);
}

#[test]
fn a_named_image_appears_complete_or_not_at_all() {
    let tmp = TempDir::new("named");
    let out = tmp.path().join("app.img");
    let mut b = ImageBuilder::new(Some(40 * MIB));
    b.add_file("/a", b"one".to_vec()).unwrap();
    b.build_new_file(&out, false).unwrap();
    assert_eq!(names_in(tmp.path()), ["app.img"]);

    // Never replaced unless asked.
    b.add_file("/a", b"two".to_vec()).unwrap();
    match b.build_new_file(&out, false) {
        Err(BuildError::Host { error, .. }) => assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists),
        other => panic!("{other:?}"),
    }
    let read = |p: &Path| FatVolume::open(FileDevice::open_read_only(p).unwrap()).unwrap().read_file("/a").unwrap();
    assert_eq!(read(&out), b"one");
    b.build_new_file(&out, true).unwrap();
    assert_eq!(read(&out), b"two");
    assert_eq!(names_in(tmp.path()), ["app.img"]);

    // A failed build (the content does not fit) leaves nothing.
    let mut b = ImageBuilder::new(Some(40 * MIB));
    b.add_file("/big", vec![0u8; 45 * MIB as usize]).unwrap();
    let other = tmp.path().join("other.img");
    assert!(matches!(b.build_new_file(&other, false), Err(BuildError::Guest { error: FsError::NoSpace, .. })));
    assert_eq!(names_in(tmp.path()), ["app.img"]);
}

#[test]
fn is_image_tells_images_from_programs() {
    let mut b = ImageBuilder::new(None);
    b.add_file("/x", vec![1]).unwrap();
    let image = b.build_in_memory().unwrap();
    assert!(ImageBuilder::is_image(&image[..512]));
    assert!(!ImageBuilder::is_image(&image[..100]));
    let mut elf = vec![0u8; 512];
    elf[..4].copy_from_slice(b"\x7fELF");
    assert!(!ImageBuilder::is_image(&elf));
}

#[test]
fn apply_to_replaces_the_given_paths_and_keeps_the_rest() {
    let tmp = TempDir::new("apply");
    let path = tmp.path().join("kept.img");
    let mut b = ImageBuilder::new(Some(64 * MIB));
    b.add_file("/data/old.txt", b"old".to_vec()).unwrap();
    b.add_file("/data/sub/keep-not.txt", b"x".to_vec()).unwrap();
    b.add_file("/work/state", b"written by the last run".to_vec()).unwrap();
    b.add_file("/bin/prog", b"v1".to_vec()).unwrap();
    b.build_new_file(&path, false).unwrap();

    let mut next = ImageBuilder::new(None);
    next.add_file("/data/new.txt", b"new".to_vec()).unwrap();
    next.add_file("/bin/prog", b"v2".to_vec()).unwrap();
    next.add_mount_points().unwrap();
    let vol = FatVolume::open(FileDevice::open(&path).unwrap()).unwrap();
    let report = next.apply_to(&vol, &["/data"]).unwrap();
    assert_eq!(report.files, 2);
    assert_eq!(report.size, 64 * MIB);
    let all: Vec<String> = snapshot(&vol, "/").into_iter().filter(|e| e.1 == FileKind::File).map(|e| e.0).collect();
    assert_eq!(all, ["/bin/prog", "/data/new.txt", "/work/state"]);
    assert_eq!(vol.read_file("/bin/prog").unwrap(), b"v2");
    assert_eq!(vol.stat("/proc").unwrap().kind, FileKind::Dir);

    // A file where a directory is wanted.
    let mut clash = ImageBuilder::new(None);
    clash.add_file("/work/state/inner", b"".to_vec()).unwrap();
    assert!(matches!(clash.apply_to(&vol, &[]), Err(BuildError::Conflict { path }) if path == "/work/state"));

    // More than fits.
    let mut big = ImageBuilder::new(None);
    big.add_file("/huge", vec![1u8; 70 * MIB as usize]).unwrap();
    assert!(matches!(big.apply_to(&vol, &[]), Err(BuildError::Guest { error: FsError::NoSpace, .. })));
}

#[test]
fn from_image_carries_everything_a_run_left_except_what_is_dropped() {
    let tmp = TempDir::new("rebuild");
    let path = tmp.path().join("kept.img");
    let mut b = ImageBuilder::new(Some(64 * MIB));
    for i in 0..300 {
        b.add_file(&format!("/big/entry number {i:04} with a long name.txt"), format!("{i}").into_bytes()).unwrap();
    }
    b.add_file("/data/old.txt", b"old".to_vec()).unwrap();
    b.add_file("/keep/a", vec![1u8; 3000]).unwrap();
    b.build_new_file(&path, false).unwrap();

    // What a run might do through fatfs: fragmented files, new directories, removals,
    // renames, 8.3-only names.
    let vol = FatVolume::open(FileDevice::open(&path).unwrap()).unwrap();
    vol.create_file("/keep/b", true).unwrap();
    vol.write_at("/keep/b", 0, &vec![2u8; 5000]).unwrap();
    vol.write_at("/keep/a", 3000, &vec![3u8; 9000]).unwrap();
    vol.create_dir("/keep/New Dir").unwrap();
    vol.create_file("/keep/New Dir/ünïcödé.txt", true).unwrap();
    vol.write_at("/keep/New Dir/ünïcödé.txt", 0, b"u").unwrap();
    vol.create_file("/keep/UPPER.TXT", true).unwrap();
    vol.remove_file("/big/entry number 0007 with a long name.txt").unwrap();
    vol.rename("/big/entry number 0008 with a long name.txt", "/keep/moved").unwrap();
    vol.set_times("/keep/b", None, Some(1_500_000_000)).unwrap();
    let before = snapshot(&vol, "/");
    vol.unmount().unwrap();

    let rebuilt = ImageBuilder::from_image(&path, &[]).unwrap();
    assert_eq!(rebuilt.image_size(), 64 * MIB);
    rebuilt.build_new_file(&path, true).unwrap();
    let vol = FatVolume::open(FileDevice::open_read_only(&path).unwrap()).unwrap();
    assert_eq!(snapshot(&vol, "/"), before);
    assert_eq!(vol.stat("/keep/b").unwrap().mtime, 1_500_000_000);
    drop(vol);

    let mut next = ImageBuilder::from_image(&path, &["/BIG", "/data/old.txt"]).unwrap();
    next.add_file("/data/new.txt", b"new".to_vec()).unwrap();
    next.build_new_file(&path, true).unwrap();
    let vol = FatVolume::open(FileDevice::open_read_only(&path).unwrap()).unwrap();
    assert!(vol.stat("/big").is_err());
    assert_eq!(vol.read_dir("/data").unwrap().len(), 1);
    assert_eq!(vol.read_file("/keep/a").unwrap().len(), 12_000);
    assert_eq!(names_in(tmp.path()), ["kept.img"]);
}
