//! VFS tests. Every test runs on a fresh [`Fx`]: a tmpfs at `/`, a second tmpfs
//! mounted at `/tmp` (for EXDEV and `..` across mounts), and a clock that moves only
//! when a test says so. The expected errnos are Linux 6.x's.

mod file;
mod getdents;
mod magic;
mod meta;
mod mounts;
mod names;
mod open;
mod path;
mod rename;
mod tmpfs;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::oflags::*;
use super::rename_flags::*;
use super::*;
use crate::abi::{Stat, Timespec};
use crate::file::OpenFile;
use crate::Errno;

/// Where the test clock starts: 2023-11-14T22:13:20Z.
const START_NS: u64 = 1_700_000_000 * 1_000_000_000;

/// A clock and the handle that moves it.
fn test_clock() -> (Clock, Arc<AtomicU64>) {
    let ns = Arc::new(AtomicU64::new(START_NS));
    let reader = ns.clone();
    (Arc::new(move || Timespec::from_nanos(reader.load(Ordering::Relaxed))), ns)
}

/// The test fixture: `/` and `/tmp` are two tmpfs instances.
struct Fx {
    vfs: Vfs,
    clock: Clock,
    time: Arc<AtomicU64>,
    root_fs: Arc<TmpFs>,
    tmp_fs: Arc<TmpFs>,
}

const CWD: &At = &At::Cwd;

impl Fx {
    fn new() -> Fx {
        let (clock, time) = test_clock();
        let root_fs = TmpFs::new(clock.clone());
        let vfs = Vfs::new(root_fs.clone(), MountFlags::default(), b"rootfs", clock.clone());
        vfs.mkdir(CWD, b"/tmp", 0o1777).unwrap();
        let tmp_fs = TmpFs::new(clock.clone());
        vfs.mount(b"/tmp", tmp_fs.clone(), MountFlags::default(), b"tmpfs").unwrap();
        Fx { vfs, clock, time, root_fs, tmp_fs }
    }

    fn now(&self) -> Timespec {
        (self.clock)()
    }

    /// Moves the clock forward.
    fn tick(&self, ns: u64) {
        self.time.fetch_add(ns, Ordering::Relaxed);
    }

    fn open(&self, path: &str, flags: u32) -> Result<Arc<OpenFile>, Errno> {
        self.open_mode(path, flags, 0o644)
    }

    /// What `openat(AT_FDCWD, path, flags, mode)` installs.
    fn open_mode(&self, path: &str, flags: u32, mode: u32) -> Result<Arc<OpenFile>, Errno> {
        let file = self.vfs.open(CWD, path.as_bytes(), flags, mode)?;
        Ok(OpenFile::new(file, status_flags(flags)))
    }

    fn write_file(&self, path: &str, data: &[u8]) {
        let f = self.open(path, O_WRONLY | O_CREAT | O_TRUNC).unwrap();
        assert_eq!(f.write(data), Ok(data.len()));
    }

    fn read_file(&self, path: &str) -> Vec<u8> {
        let f = self.open(path, O_RDONLY).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            match f.read(&mut buf).unwrap() {
                0 => return out,
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    fn mkdir(&self, path: &str) {
        self.vfs.mkdir(CWD, path.as_bytes(), 0o755).unwrap();
    }

    fn symlink(&self, target: &str, path: &str) {
        self.vfs.symlink(target.as_bytes(), CWD, path.as_bytes()).unwrap();
    }

    fn stat(&self, path: &str) -> Result<Stat, Errno> {
        self.vfs.stat(CWD, path.as_bytes(), true)
    }

    fn lstat(&self, path: &str) -> Result<Stat, Errno> {
        self.vfs.stat(CWD, path.as_bytes(), false)
    }

    fn ino(&self, path: &str) -> u64 {
        self.stat(path).unwrap().st_ino
    }

    /// `(st_dev, st_ino)`: which node a path names.
    fn node(&self, path: &str) -> (u64, u64) {
        let st = self.stat(path).unwrap();
        (st.st_dev, st.st_ino)
    }

    fn lookup(&self, path: &str) -> Arc<Dentry> {
        self.vfs.lookup(CWD, path.as_bytes(), true).unwrap()
    }

    /// The names in directory `path` (without `.` and `..`), sorted.
    fn names(&self, path: &str) -> Vec<String> {
        let mut names: Vec<String> = list_dir(&self.open(path, O_RDONLY | O_DIRECTORY).unwrap())
            .into_iter()
            .map(|d| String::from_utf8(d.name).unwrap())
            .filter(|n| n != "." && n != "..")
            .collect();
        names.sort();
        names
    }

    fn mode(&self, path: &str) -> u32 {
        self.lstat(path).unwrap().st_mode
    }
}

/// One decoded `linux_dirent64`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dirent {
    ino: u64,
    off: i64,
    reclen: usize,
    kind: u8,
    name: Vec<u8>,
}

/// Decodes the records `getdents64` wrote into `buf`, checking the framing.
fn parse_dirents(buf: &[u8]) -> Vec<Dirent> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let rec = &buf[at..];
        let reclen = u16::from_le_bytes([rec[16], rec[17]]) as usize;
        assert!(reclen >= 24 && reclen.is_multiple_of(8), "d_reclen {reclen} is 8-aligned and holds a header");
        let name_field = &rec[19..reclen];
        let nul = name_field.iter().position(|&b| b == 0).expect("names are NUL-terminated");
        assert!(name_field[nul..].iter().all(|&b| b == 0), "padding is zeroed");
        out.push(Dirent {
            ino: u64::from_le_bytes(rec[0..8].try_into().unwrap()),
            off: i64::from_le_bytes(rec[8..16].try_into().unwrap()),
            reclen,
            kind: rec[18],
            name: name_field[..nul].to_vec(),
        });
        at += reclen;
    }
    assert_eq!(at, buf.len(), "records fill exactly what getdents64 returned");
    out
}

/// Lists a whole directory through `getdents64` with a roomy buffer.
fn list_dir(dir: &OpenFile) -> Vec<Dirent> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; 4096];
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
fn err<T>(r: Result<T, Errno>) -> Errno {
    match r {
        Ok(_) => panic!("expected an error, got success"),
        Err(e) => e,
    }
}

#[test]
fn the_namespace_and_its_files_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Vfs>();
    shareable::<Dentry>();
    shareable::<InodeFile>();
    shareable::<TmpFs>();
}
