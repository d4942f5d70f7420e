//! What a search tool does to the root filesystem, timed: walk a 2,000-file tree, and for
//! every file `stat`, `open` and `read` it to the end (ripgrep's pattern, without the
//! searching). Against native Linux on the same tree (a temp directory, page cache warm)
//! in the same run, and against the path-based `FatVolume`.
//!
//! `cargo test --release -p unify-rootfs --test vfs_bench -- --nocapture` prints the
//! figures; the test asserts only that every byte read is right.

#![cfg(feature = "std")]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::fat::{list_dir, test_clock};
use common::TempDir;
use libos::file::OpenFile;
use libos::vfs::oflags::*;
use libos::vfs::{At, MountFlags, Vfs};
use unify_rootfs::{FatFs, FatVolume, FormatOptions, ImageBuilder, MemDevice, MountOptions, SliceDevice};

const DIRS: usize = 40;
const FILES_PER_DIR: usize = 50;

/// File `i`: source-like text of 200 B to 40 KiB.
fn contents(i: usize) -> Vec<u8> {
    let len = 200 + (i * 7919) % (40 * 1024);
    let line = format!("fn item_{i}() -> usize {{ let x = {i}; x * 2 + 1 }} // searchable text\n");
    line.bytes().cycle().take(len).collect()
}

fn tree() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for d in 0..DIRS {
        for f in 0..FILES_PER_DIR {
            let i = d * FILES_PER_DIR + f;
            out.push((format!("src/module_{d:02}/file_{f:03}.rs"), contents(i)));
        }
    }
    out
}

/// The `i` of `contents(i)` for a path of [`tree`].
fn index_of(path: &str) -> usize {
    let num = |s: &str| s.trim_start_matches(|c: char| !c.is_ascii_digit()).parse::<usize>().unwrap();
    let mut parts = path.rsplit('/');
    let file = num(parts.next().unwrap().trim_end_matches(".rs"));
    file + FILES_PER_DIR * num(parts.next().unwrap())
}

/// Native: the same walk with std on a host directory.
fn walk_native(dir: &Path, buf: &mut [u8]) -> (usize, u64) {
    use std::io::Read;
    let (mut files, mut bytes) = (0, 0);
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let md = std::fs::metadata(&path).unwrap();
        if md.is_dir() {
            let (f, b) = walk_native(&path, buf);
            (files, bytes) = (files + f, bytes + b);
        } else {
            let mut file = std::fs::File::open(&path).unwrap();
            loop {
                match file.read(buf).unwrap() {
                    0 => break,
                    n => bytes += n as u64,
                }
            }
            files += 1;
        }
    }
    (files, bytes)
}

/// The walk through `libos::vfs`: getdents64, stat, open, read with a 64 KiB buffer.
fn walk_vfs(vfs: &Vfs, dir: &str, buf: &mut [u8], check: bool) -> (usize, u64) {
    let (mut files, mut bytes) = (0, 0);
    let d = OpenFile::new(vfs.open(&At::Cwd, dir.as_bytes(), O_RDONLY | O_DIRECTORY, 0).unwrap(), O_RDONLY);
    for e in list_dir(&d) {
        if e.name == b"." || e.name == b".." {
            continue;
        }
        let path = format!("{dir}/{}", String::from_utf8(e.name).unwrap());
        let st = vfs.stat(&At::Cwd, path.as_bytes(), true).unwrap();
        if st.st_mode & 0o170000 == 0o040000 {
            let (f, b) = walk_vfs(vfs, &path, buf, check);
            (files, bytes) = (files + f, bytes + b);
        } else {
            let f = OpenFile::new(vfs.open(&At::Cwd, path.as_bytes(), O_RDONLY, 0).unwrap(), O_RDONLY);
            let mut got = 0;
            loop {
                match f.read(buf).unwrap() {
                    0 => break,
                    n => {
                        if check {
                            assert_eq!(&buf[..n], &contents(index_of(&path))[got..got + n], "{path}");
                        }
                        got += n;
                    }
                }
            }
            assert_eq!(got as i64, st.st_size);
            bytes += got as u64;
            files += 1;
        }
    }
    (files, bytes)
}

/// The same with the path-based `FatVolume` (reopens from the root for every call).
fn walk_volume(vol: &FatVolume<MemDevice>, dir: &str, buf: &mut [u8]) -> (usize, u64) {
    let (mut files, mut bytes) = (0, 0);
    for e in vol.read_dir(dir).unwrap() {
        let path = format!("{dir}/{}", e.name);
        let md = vol.stat(&path).unwrap();
        if md.kind == unify_rootfs::FileKind::Dir {
            let (f, b) = walk_volume(vol, &path, buf);
            (files, bytes) = (files + f, bytes + b);
        } else {
            let mut off = 0;
            loop {
                match vol.read_at(&path, off, buf).unwrap() {
                    0 => break,
                    n => off += n as u64,
                }
            }
            bytes += off;
            files += 1;
        }
    }
    (files, bytes)
}

fn best_of(runs: usize, mut f: impl FnMut() -> (usize, u64)) -> (Duration, (usize, u64)) {
    let mut best = Duration::MAX;
    let mut out = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed());
    }
    (best, out)
}

fn image(cluster_size: Option<u32>, files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = ImageBuilder::new(cluster_size.map(|_| 300 << 20));
    b.format_options(FormatOptions { cluster_size, ..FormatOptions::default() });
    for (path, data) in files {
        b.add_file(&format!("/{path}"), data.clone()).unwrap();
    }
    b.build_in_memory().unwrap()
}

#[test]
#[cfg_attr(debug_assertions, ignore = "a benchmark: run it in release")]
fn stat_open_read_of_a_2000_file_tree() {
    let files = tree();
    let total: u64 = files.iter().map(|(_, d)| d.len() as u64).sum();
    let host = TempDir::new("bench");
    for (path, data) in &files {
        let p = host.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    let mut buf = vec![0u8; 64 * 1024];
    let (native, n) = best_of(5, || walk_native(host.path(), &mut buf));
    assert_eq!(n, (files.len(), total));
    eprintln!("{} files, {} KiB", files.len(), total / 1024);
    eprintln!("native Linux (page cache):        {native:>10.2?}");

    for cluster_size in [None, Some(4096)] {
        let bytes = image(cluster_size, &files);
        let label = cluster_size.map_or("builder default".into(), |c| format!("{c} B clusters"));
        // As the hosted platform mounts it: the image in memory as a SliceDevice.
        let region: &'static mut [u8] = Vec::leak(bytes.clone());
        let (clock, _) = test_clock();
        let fs = FatFs::mount(SliceDevice::new(region), clock.clone(), MountOptions::new(0, 0)).unwrap();
        let cluster = libos::vfs::FileSystem::statfs(&*fs).unwrap().f_bsize;
        let vfs = Vfs::new(fs, MountFlags::default(), b"/dev/vda", clock);
        let t = Instant::now();
        assert_eq!(walk_vfs(&vfs, "/src", &mut buf, false), (files.len(), total));
        let first = t.elapsed();
        assert_eq!(walk_vfs(&vfs, "/src", &mut buf, true), (files.len(), total));
        let (warm, n) = best_of(5, || walk_vfs(&vfs, "/src", &mut buf, false));
        assert_eq!(n, (files.len(), total));
        eprintln!(
            "FatFs, {label} ({cluster} B): first walk after mounting {first:>10.2?} = {:.2}x native, \
             then {warm:>10.2?} = {:.2}x native",
            first.as_secs_f64() / native.as_secs_f64(),
            warm.as_secs_f64() / native.as_secs_f64()
        );

        let vol = FatVolume::open(MemDevice::from_vec(bytes)).unwrap();
        let (path_based, n) = best_of(1, || walk_volume(&vol, "/src", &mut buf));
        assert_eq!(n, (files.len(), total));
        eprintln!(
            "FatVolume (by path), {label}:        {path_based:>10.2?} = {:.2}x native",
            path_based.as_secs_f64() / native.as_secs_f64()
        );
    }
}
