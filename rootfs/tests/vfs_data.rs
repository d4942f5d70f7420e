//! File contents on a FAT volume through `libos::vfs`: reads, writes, growth, truncation,
//! appends, a full volume, unlinked open files, and what survives a remount.

mod common;

use common::fat::*;
use libos::vfs::oflags::*;
use libos::vfs::FileSystem;
use libos::Errno;
use unify_rootfs::{FatVolume, MemDevice, MIN_VOLUME_SIZE};

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[test]
fn writes_grow_files_and_reads_follow_them() {
    let fx = Fat::new();
    let data = pattern(300_000, 7);
    let f = fx.open("/big", O_RDWR | O_CREAT).unwrap();
    for chunk in data.chunks(4099) {
        assert_eq!(f.write(chunk), Ok(chunk.len()));
    }
    assert_eq!(fx.stat("/big").unwrap().st_size, data.len() as i64);
    assert_eq!(fx.read_file("/big"), data);
    // Reads at scattered offsets, backwards too.
    let mut buf = vec![0u8; 1000];
    for off in [299_500u64, 0, 150_001, 4096, 511, 512] {
        let n = f.file.pread(&mut buf, off).unwrap();
        let end = (off as usize + 1000).min(data.len());
        assert_eq!(&buf[..n], &data[off as usize..end], "at {off}");
    }
    assert_eq!(f.file.pread(&mut buf, 400_000), Ok(0));
}

#[test]
fn writing_past_the_end_fills_the_gap_with_zeros() {
    let fx = Fat::new();
    let f = fx.open("/sparse", O_RDWR | O_CREAT).unwrap();
    f.file.pwrite(b"end", 10_000).unwrap();
    let data = fx.read_file("/sparse");
    assert_eq!(data.len(), 10_003);
    assert!(data[..10_000].iter().all(|&b| b == 0));
    assert_eq!(&data[10_000..], b"end");
}

#[test]
fn truncate_shrinks_and_grows() {
    let fx = Fat::new();
    fx.write_file("/t", &pattern(5000, 1));
    fx.vfs.truncate(CWD, b"/t", 1024).unwrap();
    assert_eq!(fx.read_file("/t"), pattern(1024, 1));
    fx.vfs.truncate(CWD, b"/t", 3000).unwrap();
    let data = fx.read_file("/t");
    assert_eq!(&data[..1024], &pattern(1024, 1)[..]);
    assert!(data[1024..].iter().all(|&b| b == 0) && data.len() == 3000);
    fx.vfs.truncate(CWD, b"/t", 0).unwrap();
    assert_eq!(fx.stat("/t").unwrap().st_size, 0);
    fx.write_file("/t", b"again");
    // O_TRUNC on open.
    let f = fx.open("/t", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(fx.stat("/t").unwrap().st_size, 0);
    f.write(b"x").unwrap();
    assert_eq!(err(fx.vfs.truncate(CWD, b"/", 0)), Errno::EISDIR);
    assert_eq!(err(fx.vfs.truncate(CWD, b"/t", 1 << 32)), Errno::EFBIG);
    let fx = fx.remount();
    assert_eq!(fx.read_file("/t"), b"x");
}

#[test]
fn appends_go_to_the_end() {
    let fx = Fat::new();
    fx.write_file("/log", b"one\n");
    let a = fx.open("/log", O_WRONLY | O_APPEND).unwrap();
    let b = fx.open("/log", O_WRONLY | O_APPEND).unwrap();
    a.write(b"two\n").unwrap();
    b.write(b"three\n").unwrap();
    assert_eq!(fx.read_file("/log"), b"one\ntwo\nthree\n");
}

#[test]
fn contents_survive_a_remount() {
    let fx = Fat::new();
    fx.mkdir("/dir");
    let files: Vec<(String, Vec<u8>)> =
        (0..50).map(|i| (format!("/dir/file number {i}.dat"), pattern(i * 997, i as u8))).collect();
    for (path, data) in &files {
        fx.write_file(path, data);
    }
    let fx = fx.remount();
    for (path, data) in &files {
        assert_eq!(&fx.read_file(path), data, "{path}");
    }
    // And fatfs's path API reads the same bytes.
    let vol = FatVolume::open(MemDevice::from_vec(fx.dev.to_vec())).unwrap();
    for (path, data) in &files {
        assert_eq!(&vol.read_file(path).unwrap(), data, "{path}");
    }
    fx.unmount_and_check();
}

#[test]
fn a_full_volume_gives_a_short_write_then_enospc_and_stays_readable() {
    let fx = Fat::on(formatted(MIN_VOLUME_SIZE, 512));
    fx.write_file("/keep", b"kept");
    let before = fx.fs.statfs().unwrap();
    assert!(before.f_bfree > 0);
    let f = fx.open("/fill", O_WRONLY | O_CREAT).unwrap();
    let chunk = vec![0xabu8; 1 << 20];
    let mut total = 0u64;
    let mut short = false;
    loop {
        match f.write(&chunk) {
            Ok(n) if n == chunk.len() => total += n as u64,
            Ok(n) => {
                total += n as u64;
                short = true;
            }
            Err(e) => {
                assert_eq!(e, Errno::ENOSPC);
                break;
            }
        }
    }
    assert!(short || total.is_multiple_of(chunk.len() as u64));
    assert_eq!(fx.stat("/fill").unwrap().st_size as u64, total);
    assert_eq!(fx.fs.statfs().unwrap().f_bfree, 0);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/newdir", 0o755)), Errno::ENOSPC);
    assert_eq!(err(fx.vfs.truncate(CWD, b"/keep", 1 << 20)), Errno::ENOSPC);
    drop(f);
    fx.fs.sync().unwrap();

    // Another reader sees every file whole.
    let vol = FatVolume::open(MemDevice::from_vec(fx.dev.to_vec())).unwrap();
    assert_eq!(vol.read_file("/keep").unwrap()[..4], *b"kept");
    let fill = vol.read_file("/fill").unwrap();
    assert_eq!(fill.len() as u64, total);
    assert!(fill.iter().all(|&b| b == 0xab));

    // Freeing space makes room again.
    fx.vfs.unlink(CWD, b"/fill").unwrap();
    assert_eq!(fx.fs.statfs().unwrap().f_bfree, before.f_bfree);
    fx.write_file("/after", b"fits");
    assert_eq!(fx.read_file("/after"), b"fits");
    let dev = fx.dev.clone();
    drop(fx);
    fsck(&dev);
}

#[test]
fn an_unlinked_open_file_lives_until_closed() {
    let fx = Fat::new();
    let free = fx.fs.statfs().unwrap().f_bfree;
    let data = pattern(100_000, 3);
    fx.write_file("/tmpfile", &data);
    let f = fx.open("/tmpfile", O_RDWR).unwrap();
    fx.vfs.unlink(CWD, b"/tmpfile").unwrap();
    assert_eq!(err(fx.stat("/tmpfile")), Errno::ENOENT);
    assert!(fx.names("/").is_empty(), "the waiting entry is hidden");
    assert_eq!(read_all(&f), data);
    f.write(b"more").unwrap();
    assert_eq!(f.file.stat().unwrap().st_nlink, 0);
    assert_eq!(f.file.stat().unwrap().st_size, 100_004);
    // The name is free again meanwhile.
    fx.write_file("/tmpfile", b"new");
    drop(f);
    fx.vfs.unlink(CWD, b"/tmpfile").unwrap();
    fx.fs.sync().unwrap();
    assert_eq!(fx.fs.statfs().unwrap().f_bfree, free, "every cluster is back");
    let vol = FatVolume::open(MemDevice::from_vec(fx.dev.to_vec())).unwrap();
    assert!(vol.read_dir("/").unwrap().is_empty());
    fx.unmount_and_check();
}

#[test]
fn an_unlinked_file_left_by_a_crash_is_removed_at_the_next_mount() {
    let fx = Fat::new();
    fx.write_file("/tmpfile", &pattern(50_000, 9));
    let f = fx.open("/tmpfile", O_RDONLY).unwrap();
    let free = fx.fs.statfs().unwrap().f_bfree;
    fx.vfs.unlink(CWD, b"/tmpfile").unwrap();
    // The next call moves the entry out of the way, under a hidden name.
    assert_eq!(err(fx.stat("/tmpfile")), Errno::ENOENT);
    // The process dies with the file open: only the bytes remain.
    let bytes = fx.dev.to_vec();
    assert!(FatVolume::open(MemDevice::from_vec(bytes.clone())).unwrap().read_dir("/").unwrap()[0]
        .name
        .starts_with(".unify-unlinked-"));
    drop(f);
    let fx = Fat::on(std::sync::Arc::new(MemDevice::from_vec(bytes)));
    assert!(fx.names("/").is_empty());
    assert!(fx.fs.statfs().unwrap().f_bfree > free);
    let vol = FatVolume::open(MemDevice::from_vec(fx.dev.to_vec())).unwrap();
    assert!(vol.read_dir("/").unwrap().is_empty());
}

#[test]
fn a_read_only_device_reads_and_refuses_writes() {
    let fx = Fat::new();
    fx.mkdir("/d");
    fx.write_file("/d/f", b"kept");
    // Taken while mounted: the volume is marked dirty and its free count is stale.
    let bytes = fx.dev.to_vec();
    drop(fx);
    let (clock, _) = test_clock();
    let dev = MemDevice::read_only(bytes);
    let fs = unify_rootfs::FatFs::mount(dev, clock.clone(), unify_rootfs::MountOptions::new(0, 0)).unwrap();
    let root = fs.root();
    let d = root.lookup(b"D").unwrap();
    let f = d.lookup(b"f").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(f.read_at(0, &mut buf), Ok(4));
    assert_eq!(f.write_at(0, b"x"), Err(Errno::EROFS));
    assert_eq!(err(d.create(b"new", libos::vfs::FileKind::Regular, 0o644, 0)), Errno::EROFS);
    assert_eq!(fs.sync(), Ok(()), "nothing to write");
}

#[test]
fn a_mapped_image_is_used_in_place() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let fx = Fat::new();
    fx.write_file("/f", b"from the image");
    let region: &'static mut [u8] = Vec::leak(fx.dev.to_vec());
    drop(fx);
    let flushes = Arc::new(AtomicUsize::new(0));
    let counter = flushes.clone();
    let dev = unify_rootfs::SliceDevice::with_flush(
        region,
        Box::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }),
    );
    let (clock, _) = test_clock();
    let fs = unify_rootfs::FatFs::mount(dev, clock, unify_rootfs::MountOptions::new(0, 0)).unwrap();
    let f = fs.root().lookup(b"f").unwrap();
    let mut buf = [0u8; 32];
    let n = f.read_at(0, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"from the image");
    f.write_at(n as u64, b", changed").unwrap();
    f.sync().unwrap();
    assert_eq!(flushes.load(Ordering::Relaxed), 1);
    let n = f.read_at(0, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"from the image, changed");
}
