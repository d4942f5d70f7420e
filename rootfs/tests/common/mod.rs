//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use unify_rootfs::{BlockDevice, FatVolume, FileKind};

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("unify-rootfs-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every file and directory under `dir` in the volume: (path, kind, contents of files).
pub fn snapshot<D: BlockDevice>(vol: &FatVolume<D>, dir: &str) -> Vec<(String, FileKind, Vec<u8>)> {
    let mut out = Vec::new();
    let mut entries = vol.read_dir(dir).unwrap();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    for e in entries {
        let path = if dir == "/" { format!("/{}", e.name) } else { format!("{dir}/{}", e.name) };
        match e.kind {
            FileKind::Dir => {
                out.push((path.clone(), FileKind::Dir, Vec::new()));
                out.extend(snapshot(vol, &path));
            }
            FileKind::File => {
                let data = vol.read_file(&path).unwrap();
                assert_eq!(data.len() as u64, e.size, "{path}");
                out.push((path, FileKind::File, data));
            }
        }
    }
    out
}

/// The same listing for a host directory, mapped under `guest`.
pub fn host_snapshot(dir: &Path, guest: &str) -> Vec<(String, FileKind, Vec<u8>)> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let path = format!("{guest}/{name}");
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            out.push((path.clone(), FileKind::Dir, Vec::new()));
            out.extend(host_snapshot(&p, &path));
        } else if m.is_file() {
            out.push((path, FileKind::File, std::fs::read(&p).unwrap()));
        }
    }
    out
}
pub mod fat;
pub mod raw_dir;
