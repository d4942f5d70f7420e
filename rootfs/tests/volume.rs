//! FatVolume semantics over an in-memory device. These use only the no_std API, so they
//! also run with `--no-default-features` (fatfs on core_io; see README.md).

use std::sync::Arc;

use unify_rootfs::errno::*;
use unify_rootfs::{
    format, BlockDevice, FatVolume, FileKind, FormatOptions, FsError, IoError, MemDevice, VolumeOptions,
    MIN_VOLUME_SIZE,
};

const MIB: usize = 1024 * 1024;

fn fixed_clock() -> i64 {
    1_700_000_000 // 2023-11-14T22:13:20Z
}

fn fresh(size: usize) -> FatVolume<MemDevice> {
    let dev = MemDevice::new(size);
    format(&dev, &FormatOptions::default()).unwrap();
    FatVolume::open_with(dev, VolumeOptions { clock: fixed_clock, ..VolumeOptions::default() }).unwrap()
}

/// Unmounts and mounts again from the raw bytes, as a second run of a program would.
fn reopen(vol: FatVolume<MemDevice>) -> FatVolume<MemDevice> {
    let bytes = vol.unmount().unwrap().into_vec();
    FatVolume::open(MemDevice::from_vec(bytes)).unwrap()
}

fn names(vol: &FatVolume<MemDevice>, dir: &str) -> Vec<String> {
    let mut v: Vec<String> = vol.read_dir(dir).unwrap().into_iter().map(|e| e.name).collect();
    v.sort();
    v
}

#[test]
fn errno_numbers_are_linux_x86_64() {
    let table = [
        (FsError::NotFound, 2),
        (FsError::AlreadyExists, 17),
        (FsError::NotADirectory, 20),
        (FsError::IsADirectory, 21),
        (FsError::DirectoryNotEmpty, 39),
        (FsError::NoSpace, 28),
        (FsError::InvalidName, 22),
        (FsError::NameTooLong, 36),
        (FsError::FileTooBig, 27),
        (FsError::Busy, 16),
        (FsError::ReadOnly, 30),
        (FsError::Io, 5),
    ];
    for (e, n) in table {
        assert_eq!(e.errno(), n, "{e:?}");
    }
}

#[test]
fn format_picks_fat32_geometry_and_refuses_tiny_devices() {
    assert_eq!(unify_rootfs::default_cluster_size(64 * MIB as u64), 512);
    assert_eq!(unify_rootfs::default_cluster_size(200 * MIB as u64), 2048);
    assert_eq!(unify_rootfs::default_cluster_size(400 * MIB as u64), 4096);
    let small = MemDevice::new(MIN_VOLUME_SIZE as usize - 512);
    assert_eq!(format(&small, &FormatOptions::default()), Err(FsError::InvalidArgument));
    let vol = fresh(MIN_VOLUME_SIZE as usize);
    let s = vol.statfs().unwrap();
    assert!(s.total_clusters >= 65_525, "{s:?}");
    assert_eq!(s.cluster_size, 512);
    // A cluster size that makes too few clusters for FAT32 is refused, not mis-formatted.
    let dev = MemDevice::new(64 * MIB);
    let opts = FormatOptions { cluster_size: Some(32768), ..FormatOptions::default() };
    assert_eq!(format(&dev, &opts), Err(FsError::InvalidArgument));
}

#[test]
fn not_a_fat_volume() {
    assert_eq!(FatVolume::open(MemDevice::new(MIB)).err(), Some(FsError::Corrupt));
}

#[test]
fn create_write_read_stat() {
    let vol = fresh(64 * MIB);
    vol.create_dir("/a").unwrap();
    vol.create_dir("/a/b").unwrap();
    vol.create_file("/a/b/hello.txt", true).unwrap();
    assert_eq!(vol.write_at("/a/b/hello.txt", 0, b"hello world").unwrap(), 11);
    let mut buf = [0u8; 64];
    assert_eq!(vol.read_at("a/b/hello.txt", 0, &mut buf).unwrap(), 11);
    assert_eq!(&buf[..11], b"hello world");
    assert_eq!(vol.read_at("/a/b/hello.txt", 6, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"world");
    assert_eq!(vol.read_at("/a/b/hello.txt", 11, &mut buf).unwrap(), 0);
    assert_eq!(vol.read_at("/a/b/hello.txt", 1000, &mut buf).unwrap(), 0);

    let m = vol.stat("/a/b/hello.txt").unwrap();
    assert_eq!((m.kind, m.size), (FileKind::File, 11));
    assert_eq!(m.mtime, fixed_clock(), "FAT keeps 2-second mtimes; the clock is even");
    assert_eq!(m.ino, vol.stat("/A/B/HELLO.TXT").unwrap().ino, "case-insensitive, same inode");
    assert_ne!(m.ino, vol.stat("/a/b").unwrap().ino);
    assert_eq!(vol.stat("/").unwrap().kind, FileKind::Dir);
    assert_eq!(vol.stat("").unwrap().ino, 1);
    assert_eq!(vol.stat("/a/./b//").unwrap().kind, FileKind::Dir);

    let entries = vol.read_dir("/a/b").unwrap();
    assert_eq!(entries.len(), 1, "no . or ..");
    assert_eq!(entries[0].name, "hello.txt");
    assert_eq!(entries[0].size, 11);
    assert_eq!(entries[0].ino, m.ino);
}

#[test]
fn errors_carry_linux_errnos() {
    let vol = fresh(64 * MIB);
    vol.create_dir("/d").unwrap();
    vol.create_file("/d/f", false).unwrap();
    let mut buf = [0u8; 4];
    let errno = |r: Result<(), FsError>| r.unwrap_err().errno();
    assert_eq!(errno(vol.stat("/nope").map(drop)), ENOENT);
    assert_eq!(errno(vol.stat("/d/f/x").map(drop)), ENOTDIR);
    assert_eq!(errno(vol.read_at("/d", 0, &mut buf).map(drop)), EISDIR);
    assert_eq!(errno(vol.read_at("/", 0, &mut buf).map(drop)), EISDIR);
    assert_eq!(errno(vol.read_dir("/d/f").map(drop)), ENOTDIR);
    assert_eq!(errno(vol.create_dir("/d")), EEXIST);
    assert_eq!(errno(vol.create_dir("/")), EEXIST);
    assert_eq!(errno(vol.create_file("/d/f", true)), EEXIST);
    assert_eq!(errno(vol.create_file("/D/F", true)), EEXIST, "FAT ignores case");
    vol.create_file("/d/f", false).unwrap();
    assert_eq!(errno(vol.create_file("/d", false)), EISDIR);
    assert_eq!(errno(vol.create_file("/x/y", false)), ENOENT);
    assert_eq!(errno(vol.create_file("/d/a:b", false)), EINVAL);
    assert_eq!(errno(vol.create_file("/d/a*b", false)), EINVAL);
    assert_eq!(errno(vol.create_file("/d/tab\there", false)), EINVAL);
    assert_eq!(errno(vol.create_file(&format!("/d/{}", "n".repeat(256)), false)), ENAMETOOLONG);
    assert_eq!(errno(vol.stat(&format!("/{}", "n".repeat(256))).map(drop)), ENAMETOOLONG);
    assert_eq!(errno(vol.stat("/d/../d").map(drop)), EINVAL);
    assert_eq!(errno(vol.remove("/d")), ENOTEMPTY);
    assert_eq!(errno(vol.remove_file("/d")), EISDIR);
    assert_eq!(errno(vol.remove_dir("/d/f")), ENOTDIR);
    assert_eq!(errno(vol.remove("/")), EBUSY);
    assert_eq!(errno(vol.remove("/d/zzz")), ENOENT);
    assert_eq!(errno(vol.truncate("/d", 0)), EISDIR);
    assert_eq!(errno(vol.truncate("/d/f", 1 << 32)), EFBIG);
    assert_eq!(errno(vol.write_at("/d/f", u32::MAX as u64, b"x").map(drop)), EFBIG);
    vol.remove_file("/d/f").unwrap();
    vol.remove_dir("/d").unwrap();
    assert_eq!(names(&vol, "/"), Vec::<String>::new());
}

#[test]
fn long_unicode_and_awkward_names() {
    let vol = fresh(64 * MIB);
    let long = "a very long file name with spaces, commas; and = signs + more (255 max) ".repeat(4);
    let long = &long[..250];
    let names_in = [
        long,
        "ünïcödé-名前.txt",
        ".hidden",
        "trailing.dots...",
        "UPPER.TXT",
        "lower.txt",
        "MiXeD.Case",
        "x",
        "name.with.many.dots.tar.gz",
        "[brackets]{braces}!#$%&'@^_`~",
    ];
    for n in names_in {
        vol.create_file(&format!("/{n}"), true).unwrap();
        vol.write_at(&format!("/{n}"), 0, n.as_bytes()).unwrap();
    }
    let mut expected: Vec<String> = names_in.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(names(&vol, "/"), expected, "names come back exactly as given");
    let vol = reopen(vol);
    assert_eq!(names(&vol, "/"), expected);
    for n in names_in {
        let mut buf = vec![0u8; 300];
        let k = vol.read_at(&format!("/{n}"), 0, &mut buf).unwrap();
        assert_eq!(&buf[..k], n.as_bytes());
    }
    // Characters outside the BMP cannot be stored in FAT long names.
    assert_eq!(vol.create_file("/emoji-😀", false), Err(FsError::InvalidName));
}

#[test]
fn writes_past_the_end_fill_with_zeros_and_truncate_both_ways() {
    let vol = fresh(64 * MIB);
    vol.create_file("/f", true).unwrap();
    assert_eq!(vol.write_at("/f", 10_000, b"end").unwrap(), 3);
    assert_eq!(vol.stat("/f").unwrap().size, 10_003);
    let mut buf = vec![0xffu8; 10_003];
    assert_eq!(vol.read_at("/f", 0, &mut buf).unwrap(), 10_003);
    assert!(buf[..10_000].iter().all(|&b| b == 0));
    assert_eq!(&buf[10_000..], b"end");
    // Overwrite in the middle, across a cluster boundary.
    vol.write_at("/f", 500, &[7u8; 100]).unwrap();
    assert_eq!(vol.stat("/f").unwrap().size, 10_003);
    vol.read_at("/f", 0, &mut buf).unwrap();
    assert!(buf[500..600].iter().all(|&b| b == 7) && buf[499] == 0 && buf[600] == 0);

    vol.truncate("/f", 512).unwrap();
    assert_eq!(vol.stat("/f").unwrap().size, 512);
    vol.truncate("/f", 3000).unwrap();
    let mut buf = vec![0xffu8; 3000];
    assert_eq!(vol.read_at("/f", 0, &mut buf).unwrap(), 3000);
    assert!(buf[500..512].iter().all(|&b| b == 7), "kept up to the cut");
    assert!(buf[512..].iter().all(|&b| b == 0), "zeros after it");
    vol.truncate("/f", 0).unwrap();
    assert_eq!(vol.stat("/f").unwrap().size, 0);
    let free_before = vol.statfs().unwrap().free_clusters;
    vol.write_at("/f", 0, &vec![1u8; 100_000]).unwrap();
    vol.truncate("/f", 0).unwrap();
    assert_eq!(vol.statfs().unwrap().free_clusters, free_before, "truncate frees the clusters");
}

#[test]
fn rename_follows_linux_rules() {
    let vol = fresh(64 * MIB);
    vol.create_dir("/src").unwrap();
    vol.create_dir("/dst").unwrap();
    vol.create_file("/src/a", true).unwrap();
    vol.write_at("/src/a", 0, b"A").unwrap();
    vol.create_file("/dst/b", true).unwrap();
    vol.write_at("/dst/b", 0, b"B").unwrap();

    // File over file: replaced.
    vol.rename("/src/a", "/dst/b").unwrap();
    assert_eq!(vol.stat("/src/a"), Err(FsError::NotFound));
    assert_eq!(vol.read_file("/dst/b").unwrap(), b"A");
    // Same name: nothing happens.
    vol.rename("/dst/b", "/dst/b").unwrap();
    // Another case of the same name: the stored name changes.
    vol.rename("/dst/b", "/dst/B").unwrap();
    assert_eq!(names(&vol, "/dst"), ["B"]);
    assert_eq!(vol.read_file("/dst/b").unwrap(), b"A");
    // A file cannot replace a directory, nor a directory a file.
    vol.create_dir("/dst/sub").unwrap();
    assert_eq!(vol.rename("/dst/B", "/dst/sub"), Err(FsError::IsADirectory));
    assert_eq!(vol.rename("/dst/sub", "/dst/B"), Err(FsError::NotADirectory));
    // A directory replaces an empty directory, not a full one.
    vol.create_dir("/empty").unwrap();
    vol.rename("/dst/sub", "/empty").unwrap();
    assert_eq!(vol.stat("/dst/sub"), Err(FsError::NotFound));
    vol.create_file("/empty/x", true).unwrap();
    vol.create_dir("/other").unwrap();
    assert_eq!(vol.rename("/other", "/empty"), Err(FsError::DirectoryNotEmpty));
    // Not into itself.
    assert_eq!(vol.rename("/dst", "/dst/inner"), Err(FsError::InvalidArgument));
    assert_eq!(vol.rename("/", "/x"), Err(FsError::Busy));
    assert_eq!(vol.rename("/nope", "/x"), Err(FsError::NotFound));
    assert_eq!(vol.rename("/dst/B", "/dst/bad|name"), Err(FsError::InvalidName));
    // Moving a directory with content keeps the content.
    vol.rename("/empty", "/dst/moved").unwrap();
    assert_eq!(names(&vol, "/dst/moved"), ["x"]);
    let vol = reopen(vol);
    assert_eq!(names(&vol, "/"), ["dst", "other", "src"]);
    assert_eq!(names(&vol, "/dst"), ["B", "moved"]);
    assert_eq!(vol.read_file("/dst/B").unwrap(), b"A");
}

#[test]
fn state_survives_reopen() {
    let vol = fresh(64 * MIB);
    vol.create_dir("/keep").unwrap();
    for i in 0..50 {
        let p = format!("/keep/file-{i:03}.dat");
        vol.create_file(&p, true).unwrap();
        vol.write_at(&p, 0, &vec![i as u8; i * 1000]).unwrap();
    }
    for i in (0..50).step_by(3) {
        vol.remove_file(&format!("/keep/file-{i:03}.dat")).unwrap();
    }
    vol.rename("/keep/file-001.dat", "/renamed.dat").unwrap();
    vol.flush().unwrap();
    let free = vol.statfs().unwrap().free_clusters;
    let vol = reopen(vol);
    assert_eq!(vol.statfs().unwrap().free_clusters, free, "FSInfo written at unmount");
    assert_eq!(vol.read_file("/renamed.dat").unwrap(), vec![1u8; 1000]);
    let listed = names(&vol, "/keep");
    assert_eq!(listed.len(), 50 - 17 - 1);
    for i in 0..50 {
        let p = format!("/keep/file-{i:03}.dat");
        match vol.read_file(&p) {
            Ok(data) => assert_eq!(data, vec![i as u8; i * 1000], "{p}"),
            Err(e) => {
                assert_eq!(e, FsError::NotFound);
                assert!(i % 3 == 0 || i == 1, "{p}");
            }
        }
    }
}

#[test]
fn filling_the_volume_gives_enospc_and_leaves_it_consistent() {
    let vol = fresh(MIN_VOLUME_SIZE as usize);
    let chunk = vec![0x5au8; 256 * 1024];
    let mut full_at = None;
    for i in 0.. {
        let p = format!("/fill-{i}");
        match vol.create_file(&p, true) {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.errno(), ENOSPC);
                full_at = Some(i);
                break;
            }
        }
        match vol.write_at(&p, 0, &chunk) {
            Ok(n) if n == chunk.len() => {}
            Ok(n) => {
                // A short write, then ENOSPC, as Linux does.
                assert!(n < chunk.len());
                assert_eq!(vol.write_at(&p, n as u64, &chunk[n..]), Err(FsError::NoSpace));
                full_at = Some(i);
                break;
            }
            Err(e) => {
                assert_eq!(e, FsError::NoSpace);
                full_at = Some(i);
                break;
            }
        }
    }
    let full_at = full_at.unwrap();
    assert!(full_at > 100, "a 33 MiB volume holds over 100 × 256 KiB");
    assert_eq!(vol.statfs().unwrap().free_clusters, 0);
    assert_eq!(vol.create_dir("/more").map_err(FsError::errno), Err(ENOSPC));

    let vol = reopen(vol);
    for i in 0..full_at {
        assert_eq!(vol.read_file(&format!("/fill-{i}")).unwrap(), chunk, "file {i}");
    }
    // Space freed is usable again.
    vol.remove_file("/fill-0").unwrap();
    vol.create_file("/again", true).unwrap();
    assert_eq!(vol.write_at("/again", 0, &chunk[..100_000]).unwrap(), 100_000);
    let vol = reopen(vol);
    assert_eq!(vol.read_file("/again").unwrap(), &chunk[..100_000]);
}

#[test]
fn read_only_device() {
    let vol = fresh(64 * MIB);
    vol.create_file("/f", true).unwrap();
    vol.write_at("/f", 0, b"data").unwrap();
    let bytes = vol.unmount().unwrap().into_vec();
    let vol = FatVolume::open(MemDevice::read_only(bytes)).unwrap();
    assert_eq!(vol.read_file("/f").unwrap(), b"data");
    assert_eq!(vol.write_at("/f", 0, b"x"), Err(FsError::ReadOnly));
    assert_eq!(vol.create_dir("/d").map_err(FsError::errno), Err(EROFS));
}

#[test]
fn device_errors_become_eio() {
    struct Failing(MemDevice, std::sync::atomic::AtomicBool);
    impl BlockDevice for Failing {
        fn len(&self) -> u64 {
            self.0.len()
        }
        fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), IoError> {
            if self.1.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(IoError::Device { errno: EIO });
            }
            self.0.read_at(off, buf)
        }
        fn write_at(&self, off: u64, buf: &[u8]) -> Result<(), IoError> {
            self.0.write_at(off, buf)
        }
        fn flush(&self) -> Result<(), IoError> {
            Ok(())
        }
    }
    let dev = MemDevice::new(64 * MIB);
    format(&dev, &FormatOptions::default()).unwrap();
    let vol =
        FatVolume::open_with(Failing(dev, false.into()), VolumeOptions { cache_blocks: 0, ..VolumeOptions::default() })
            .unwrap();
    vol.create_file("/f", true).unwrap();
    vol.device().1.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(vol.stat("/f").map_err(FsError::errno), Err(EIO));
}

#[test]
fn shared_between_threads() {
    let vol = Arc::new(fresh(64 * MIB));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let vol = Arc::clone(&vol);
            std::thread::spawn(move || {
                let dir = format!("/t{t}");
                vol.create_dir(&dir).unwrap();
                for i in 0..40 {
                    let p = format!("{dir}/f{i}");
                    vol.create_file(&p, true).unwrap();
                    vol.write_at(&p, 0, format!("{t}:{i}").as_bytes()).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for t in 0..4 {
        for i in 0..40 {
            assert_eq!(vol.read_file(&format!("/t{t}/f{i}")).unwrap(), format!("{t}:{i}").as_bytes());
        }
    }
}

#[test]
fn times_can_be_set_on_files() {
    let vol = fresh(64 * MIB);
    vol.create_file("/f", true).unwrap();
    vol.set_times("/f", Some(1_000_000_000), Some(1_234_567_890)).unwrap();
    let m = vol.stat("/f").unwrap();
    assert_eq!(m.mtime, 1_234_567_890);
    assert_eq!(m.atime, 1_000_000_000 - 1_000_000_000 % 86_400);
    // Before 1980 clamps to FAT's epoch.
    vol.set_times("/f", None, Some(0)).unwrap();
    assert_eq!(vol.stat("/f").unwrap().mtime, unify_rootfs::time::FAT_EPOCH);
    vol.create_dir("/d").unwrap();
    vol.set_times("/d", None, Some(5)).unwrap();
}
