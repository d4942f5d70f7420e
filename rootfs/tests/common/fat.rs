//! A FAT volume in memory mounted through `libos::vfs`, as the libOS mounts its root.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use libos::abi::{Stat, Timespec};
use libos::file::OpenFile;
use libos::vfs::oflags::*;
use libos::vfs::{At, Clock, FileSystem, MountFlags, Vfs};
use libos::Errno;
use unify_rootfs::{format, FatFs, FormatOptions, MemDevice, MountOptions, MIN_VOLUME_SIZE};

/// Where the test clock starts: 2023-11-14T22:13:20Z.
pub const START_SECS: u64 = 1_700_000_000;

pub const UID: u32 = 1000;
pub const GID: u32 = 100;

pub const CWD: &At = &At::Cwd;

/// A mounted volume and the handles a test needs.
pub struct Fat {
    pub vfs: Vfs,
    pub fs: Arc<FatFs>,
    pub dev: Arc<MemDevice>,
    pub clock: Clock,
    time: Arc<AtomicU64>,
}

/// A clock that moves only when told.
pub fn test_clock() -> (Clock, Arc<AtomicU64>) {
    let ns = Arc::new(AtomicU64::new(START_SECS * 1_000_000_000));
    let reader = ns.clone();
    (Arc::new(move || Timespec::from_nanos(reader.load(Ordering::Relaxed))), ns)
}

/// A freshly formatted device of `size` bytes (at least `MIN_VOLUME_SIZE`).
pub fn formatted(size: u64, cluster_size: u32) -> Arc<MemDevice> {
    let dev = Arc::new(MemDevice::new(size.max(MIN_VOLUME_SIZE) as usize));
    format(&*dev, &FormatOptions { cluster_size: Some(cluster_size), ..FormatOptions::default() }).unwrap();
    dev
}

impl Fat {
    /// A fresh 34 MiB volume with 512-byte clusters.
    pub fn new() -> Fat {
        Fat::on(formatted(MIN_VOLUME_SIZE + (1 << 20), 512))
    }

    /// Mounts whatever `dev` holds.
    pub fn on(dev: Arc<MemDevice>) -> Fat {
        let (clock, time) = test_clock();
        let fs = FatFs::mount(dev.clone(), clock.clone(), MountOptions::new(UID, GID)).unwrap();
        let vfs = Vfs::new(fs.clone(), MountFlags::default(), b"/dev/vda", clock.clone());
        Fat { vfs, fs, dev, clock, time }
    }

    /// Syncs, lets go of everything, and mounts the same bytes again as a new filesystem.
    pub fn remount(self) -> Fat {
        self.fs.sync().unwrap();
        let dev = self.dev.clone();
        drop(self);
        Fat::on(dev)
    }

    /// Unmounts (drops everything) and checks the volume with `fsck.fat`.
    pub fn unmount_and_check(self) {
        let dev = self.dev.clone();
        drop(self);
        fsck(&dev);
    }

    /// Moves the clock forward.
    pub fn tick(&self, secs: u64) {
        self.time.fetch_add(secs * 1_000_000_000, Ordering::Relaxed);
    }

    pub fn now(&self) -> Timespec {
        (self.clock)()
    }

    pub fn open(&self, path: &str, flags: u32) -> Result<Arc<OpenFile>, Errno> {
        let file = self.vfs.open(CWD, path.as_bytes(), flags, 0o644)?;
        Ok(OpenFile::new(file, status_flags(flags)))
    }

    pub fn write_file(&self, path: &str, data: &[u8]) {
        let f = self.open(path, O_WRONLY | O_CREAT | O_TRUNC).unwrap();
        assert_eq!(f.write(data), Ok(data.len()));
    }

    pub fn read_file(&self, path: &str) -> Vec<u8> {
        read_all(&self.open(path, O_RDONLY).unwrap())
    }

    pub fn mkdir(&self, path: &str) {
        self.vfs.mkdir(CWD, path.as_bytes(), 0o755).unwrap();
    }

    pub fn stat(&self, path: &str) -> Result<Stat, Errno> {
        self.vfs.stat(CWD, path.as_bytes(), true)
    }

    pub fn ino(&self, path: &str) -> u64 {
        self.stat(path).unwrap().st_ino
    }

    /// The names in directory `path` (without `.` and `..`), in listing order.
    pub fn names(&self, path: &str) -> Vec<String> {
        list_dir(&self.open(path, O_RDONLY | O_DIRECTORY).unwrap())
            .into_iter()
            .map(|d| String::from_utf8(d.name).unwrap())
            .filter(|n| n != "." && n != "..")
            .collect()
    }
}

/// Reads an open file to its end.
pub fn read_all(f: &OpenFile) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match f.read(&mut buf).unwrap() {
            0 => return out,
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// One decoded `linux_dirent64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirent {
    pub ino: u64,
    pub off: i64,
    pub kind: u8,
    pub name: Vec<u8>,
}

/// Decodes the records `getdents64` wrote into `buf`.
pub fn parse_dirents(buf: &[u8]) -> Vec<Dirent> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let rec = &buf[at..];
        let reclen = u16::from_le_bytes([rec[16], rec[17]]) as usize;
        let name = &rec[19..reclen];
        let nul = name.iter().position(|&b| b == 0).unwrap();
        out.push(Dirent {
            ino: u64::from_le_bytes(rec[0..8].try_into().unwrap()),
            off: i64::from_le_bytes(rec[8..16].try_into().unwrap()),
            kind: rec[18],
            name: name[..nul].to_vec(),
        });
        at += reclen;
    }
    out
}

/// Lists a whole directory through `getdents64`.
pub fn list_dir(dir: &OpenFile) -> Vec<Dirent> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = dir.file.getdents64(&mut buf).unwrap();
        if n == 0 {
            return all;
        }
        all.extend(parse_dirents(&buf[..n]));
    }
}

/// The errno of a result that must be an error.
#[track_caller]
pub fn err<T>(r: Result<T, Errno>) -> Errno {
    match r {
        Ok(_) => panic!("expected an error, got success"),
        Err(e) => e,
    }
}

/// Runs `fsck.fat -n` (read-only check) on the volume when dosfstools is installed, and
/// fails on anything it reports.
pub fn fsck(dev: &MemDevice) {
    let Ok(path) = which_fsck() else { return };
    let image =
        std::env::temp_dir().join(format!("unify-fsck-{}-{:?}.img", std::process::id(), std::thread::current().id()));
    std::fs::write(&image, dev.to_vec()).unwrap();
    let out = std::process::Command::new(path).arg("-n").arg(&image).output().unwrap();
    let _ = std::fs::remove_file(&image);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "fsck.fat: {text}{}", String::from_utf8_lossy(&out.stderr));
}

/// Every entry of directory `path` as fatfs itself reads it from a copy of the device:
/// (long name, 8.3 name as fatfs shows it, whether a directory), in the volume's order.
/// (With std's io traits, which fatfs has only with the `std` feature.)
#[cfg(feature = "std")]
pub fn fatfs_entries(dev: &MemDevice, path: &str) -> Vec<(String, String, bool)> {
    let fs = fatfs::FileSystem::new(std::io::Cursor::new(dev.to_vec()), fatfs::FsOptions::new()).unwrap();
    let dir = match path.trim_matches('/') {
        "" => fs.root_dir(),
        rel => fs.root_dir().open_dir(rel).unwrap(),
    };
    let entries = dir
        .iter()
        .map(|e| e.unwrap())
        .filter(|e| !matches!(e.short_file_name_as_bytes(), b"." | b".."))
        .map(|e| (e.file_name(), e.short_file_name(), e.is_dir()))
        .collect();
    entries
}

/// [`fsck`] of a volume still mounted: a copy, synced, with the dirty flag it has while
/// mounted cleared (what the unmount would do).
pub fn fsck_mounted(fx: &Fat) {
    fx.fs.sync().unwrap();
    let mut bytes = fx.dev.to_vec();
    bytes[0x41] &= !1;
    fsck(&MemDevice::from_vec(bytes));
}

fn which_fsck() -> Result<std::path::PathBuf, ()> {
    ["/usr/sbin/fsck.fat", "/sbin/fsck.fat", "/usr/bin/fsck.fat"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
        .ok_or(())
}
