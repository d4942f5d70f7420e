//! ImageBuilder: host trees into FAT32 images, read back through FatVolume over memory and
//! over the image file, modified and reopened.
#![cfg(feature = "std")]

mod common;

use std::time::{Duration, Instant, UNIX_EPOCH};

use common::{host_snapshot, snapshot, TempDir};
use unify_rootfs::{
    BuildError, FatVolume, FileDevice, FileKind, FsError, ImageBuilder, Manifest, MemDevice, Warning, MANIFEST_PATH,
};

const MIB: u64 = 1024 * 1024;

/// A host tree with nested directories, long names, empty files and things FAT cannot hold.
fn make_tree(root: &std::path::Path) {
    use std::fs;
    let deep = root.join("a/b/c/d/e");
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("deep file with a rather long name, version 2.txt"), b"deep").unwrap();
    fs::create_dir_all(root.join("empty dir")).unwrap();
    fs::write(root.join("empty"), b"").unwrap();
    fs::write(root.join("a/b/empty too.dat"), b"").unwrap();
    fs::write(root.join("README.md"), b"# hello\n").unwrap();
    fs::write(root.join("Readme.md"), b"# collides with README.md on FAT\n").unwrap();
    fs::write(root.join("what?.txt"), b"? is not allowed on FAT").unwrap();
    fs::write(root.join("ünïcödé — ok.txt"), "ünïcödé".as_bytes()).unwrap();
    let pattern: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(root.join("a/pattern.bin"), &pattern).unwrap();
    for i in 0..30 {
        fs::write(root.join(format!("a/b/many-similar-long-names-{i:04}.rs")), format!("fn f{i}() {{}}\n")).unwrap();
    }
    std::os::unix::fs::symlink("README.md", root.join("link-to-readme")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(root.join("a/socket")).unwrap();
    let old = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    fs::File::options().write(true).open(root.join("README.md")).unwrap().set_modified(old).unwrap();
}

/// What `make_tree` should look like in the image under `guest`, i.e. the host tree
/// without what was skipped.
fn expected(root: &std::path::Path, guest: &str) -> Vec<(String, FileKind, Vec<u8>)> {
    host_snapshot(root, guest)
        .into_iter()
        .filter(|(p, _, _)| !p.ends_with("/Readme.md") && !p.ends_with("/what?.txt"))
        .collect()
}

fn manifest() -> Manifest {
    Manifest {
        program: "/bin/prog".into(),
        argv: vec![b"/bin/prog".to_vec(), b"--flag=a b".to_vec()],
        env: vec![b"HOME=/data".to_vec()],
        cwd: "/data".into(),
        ..Manifest::default()
    }
}

#[test]
fn host_tree_round_trips_through_memory_and_file_images() {
    let tmp = TempDir::new("tree");
    let host = tmp.path().join("tree");
    make_tree(&host);

    let mut b = ImageBuilder::new(None);
    let mut warnings = b.add_dir_tree(&host, "/data").unwrap();
    b.add_file("/bin/prog", b"\x7fELF pretend".as_slice()).unwrap();
    b.set_manifest(&manifest()).unwrap();
    assert_eq!(b.image_size(), 64 * MIB, "small content: the 64 MiB minimum");

    warnings.sort_by_key(|w| w.to_string());
    assert_eq!(warnings.len(), 4, "{warnings:#?}");
    assert!(warnings.contains(&Warning::Symlink(host.join("link-to-readme"))));
    assert!(warnings.contains(&Warning::Special(host.join("a/socket"))));
    assert!(warnings.iter().any(|w| matches!(w, Warning::BadName { path, .. } if path.ends_with("what?.txt"))));
    assert!(warnings.iter().any(
        |w| matches!(w, Warning::CaseCollision { path, with } if path.ends_with("Readme.md") && with == "/data/README.md")
    ));

    let want = expected(&host, "/data");
    fn check<D: unify_rootfs::BlockDevice>(vol: &FatVolume<D>, want: &[(String, FileKind, Vec<u8>)]) {
        assert_eq!(snapshot(vol, "/data"), want);
        assert_eq!(vol.read_file("/bin/prog").unwrap(), b"\x7fELF pretend");
        let m = Manifest::parse(&vol.read_file(MANIFEST_PATH).unwrap()).unwrap();
        assert_eq!(m, manifest());
        assert_eq!(vol.stat("/data/README.md").unwrap().mtime, 1_600_000_000, "host mtime kept");
        assert_eq!(vol.stat("/data/empty").unwrap().size, 0);
        assert_eq!(vol.stat("/data/empty dir").unwrap().kind, FileKind::Dir);
        assert!(vol.read_dir("/data/empty dir").unwrap().is_empty());
    }

    let image = b.build_in_memory().unwrap();
    assert_eq!(image.len() as u64, 64 * MIB);
    let vol = FatVolume::open(MemDevice::from_vec(image)).unwrap();
    check(&vol, &want);

    let path = tmp.path().join("image.fat");
    let report = b.build_to_file(&path).unwrap();
    assert_eq!(report.size, 64 * MIB);
    assert_eq!(report.cluster_size, 512);
    assert_eq!(report.files, want.iter().filter(|e| e.1 == FileKind::File).count() + 2);
    assert!(report.free_bytes > 60 * MIB);
    let vol = FatVolume::open(FileDevice::open_read_only(&path).unwrap()).unwrap();
    check(&vol, &want);
}

#[test]
fn a_kept_image_remembers_writes_renames_and_deletes() {
    let tmp = TempDir::new("keep");
    let path = tmp.path().join("keep.fat");
    let mut b = ImageBuilder::new(Some(48 * MIB));
    for i in 0..20 {
        b.add_file(&format!("/work/file-{i}.txt"), format!("file {i}").into_bytes()).unwrap();
    }
    b.add_dir("/work/empty").unwrap();
    b.build_to_file(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 48 * MIB);

    // First "run".
    let vol = FatVolume::open(FileDevice::open(&path).unwrap()).unwrap();
    vol.write_at("/work/file-0.txt", 6, b" was changed").unwrap();
    vol.rename("/work/file-1.txt", "/work/empty/moved.txt").unwrap();
    vol.remove_file("/work/file-2.txt").unwrap();
    vol.create_dir("/work/new").unwrap();
    vol.create_file("/work/new/created.log", true).unwrap();
    vol.write_at("/work/new/created.log", 0, &vec![b'x'; 70_000]).unwrap();
    vol.truncate("/work/file-3.txt", 2).unwrap();
    vol.flush().unwrap();
    let before = snapshot(&vol, "/");
    drop(vol);

    // Second "run".
    let vol = FatVolume::open(FileDevice::open(&path).unwrap()).unwrap();
    assert_eq!(snapshot(&vol, "/"), before);
    assert_eq!(vol.read_file("/work/file-0.txt").unwrap(), b"file 0 was changed");
    assert_eq!(vol.read_file("/work/empty/moved.txt").unwrap(), b"file 1");
    assert_eq!(vol.stat("/work/file-2.txt"), Err(FsError::NotFound));
    assert_eq!(vol.read_file("/work/file-3.txt").unwrap(), b"fi");
    assert_eq!(vol.stat("/work/new/created.log").unwrap().size, 70_000);
    vol.unmount().unwrap();
}

/// Builds a directory of `n` files into an image file of `size` and checks it.
fn big_directory(n: usize, size: Option<u64>, name: impl Fn(usize) -> String) {
    let tmp = TempDir::new("bigdir");
    let path = tmp.path().join("dir.fat");
    let mut b = ImageBuilder::new(size);
    for i in 0..n {
        b.add_file(&format!("/big/{}", name(i)), format!("{i}").into_bytes()).unwrap();
    }
    let t = Instant::now();
    let report = b.build_to_file(&path).unwrap();
    let built = t.elapsed();
    let vol = FatVolume::open(FileDevice::open(&path).unwrap()).unwrap();
    let t = Instant::now();
    let entries = vol.read_dir("/big").unwrap();
    let listed = t.elapsed();
    assert_eq!(entries.len(), n);
    let mut want: Vec<(String, u64)> = (0..n).map(|i| (name(i), format!("{i}").len() as u64)).collect();
    want.sort();
    let mut got: Vec<(String, u64)> = entries.iter().map(|e| (e.name.clone(), e.size)).collect();
    got.sort();
    assert_eq!(got, want);
    let mut inos: Vec<u64> = entries.iter().map(|e| e.ino).collect();
    inos.sort();
    inos.dedup();
    assert_eq!(inos.len(), n, "distinct inode numbers");
    let t = Instant::now();
    for i in [0, n / 3, n - 1] {
        assert_eq!(vol.read_file(&format!("/big/{}", name(i))).unwrap(), format!("{i}").as_bytes());
    }
    let looked_up = t.elapsed() / 3;
    // Entries can still be added and removed at run time.
    let t = Instant::now();
    vol.create_file("/big/one more entry.txt", true).unwrap();
    let created = t.elapsed();
    vol.remove_file(&format!("/big/{}", name(0))).unwrap();
    assert_eq!(vol.read_dir("/big").unwrap().len(), n);
    eprintln!(
        "{n} entries, {} B clusters: build {built:?}, read_dir {listed:?}, one lookup+read {looked_up:?}, \
         one create {created:?}",
        report.cluster_size
    );
}

/// Building writes the directory directly (linear time); a create at run time goes through
/// fatfs, which scans the whole directory. The image is made large enough for 4 KiB
/// clusters (the file is sparse).
#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds; run with --release")]
fn a_directory_of_5000_entries() {
    big_directory(5000, Some(300 * MIB), |i| format!("f{i:05}.txt"));
}

/// Long names that share their first characters: fatfs has to work to find distinct 8.3
/// aliases for them.
#[test]
fn a_directory_of_400_similar_long_names() {
    big_directory(400, None, |i| format!("entry number {i:05} with a long name.txt"));
}

#[test]
fn sizes_and_build_errors() {
    let mut b = ImageBuilder::new(Some(10 * MIB));
    b.add_file("/f", b"x".as_slice()).unwrap();
    assert!(matches!(b.build_in_memory(), Err(BuildError::TooSmall { .. })));

    // Content larger than the requested image: the volume fills.
    let mut b = ImageBuilder::new(Some(40 * MIB));
    b.add_file("/big", vec![1u8; 45 * MIB as usize]).unwrap();
    match b.build_in_memory() {
        Err(BuildError::Guest { path, error: FsError::NoSpace }) => assert_eq!(path, "/big"),
        other => panic!("{other:?}"),
    }

    // Automatic size: content + 25 % + 32 MiB.
    let mut b = ImageBuilder::new(None);
    b.add_file("/data", vec![0u8; 80 * MIB as usize]).unwrap();
    assert_eq!(b.image_size(), 80 * MIB + 20 * MIB + 32 * MIB + MIB, "{}", b.image_size());

    let mut b = ImageBuilder::new(None);
    assert!(matches!(b.add_file("/a/../b", b"".as_slice()), Err(BuildError::InvalidPath { .. })));
    assert!(matches!(b.add_file("/a:b", b"".as_slice()), Err(BuildError::InvalidPath { .. })));
    assert!(matches!(b.add_file("/", b"".as_slice()), Err(BuildError::InvalidPath { .. })));
    b.add_file("/dir/file", b"1".as_slice()).unwrap();
    assert!(matches!(b.add_file("/DIR", b"".as_slice()), Err(BuildError::Conflict { .. })));
    assert!(matches!(b.add_file("/dir/file/x", b"".as_slice()), Err(BuildError::Conflict { .. })));
    b.add_file("/Dir/File", b"2".as_slice()).unwrap();
    let vol = FatVolume::open(MemDevice::from_vec(b.build_in_memory().unwrap())).unwrap();
    assert_eq!(vol.read_file("/dir/file").unwrap(), b"2", "the last source added wins");
    assert!(matches!(b.add_file("/x", std::path::Path::new("/nonexistent/file")), Err(BuildError::Host { .. })));
}
