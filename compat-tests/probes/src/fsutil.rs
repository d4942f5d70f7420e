//! Helpers for the filesystem probes: short result formatting, a private scratch
//! directory under /tmp, file-type names and reading small pseudo-files.

use std::io;

use crate::{check, errno_name, outcome, outcome_val};

/// `Ok(n)` / `Err(ENAME)`: for results whose value is the same everywhere (counts,
/// offsets, sizes).
pub fn v(ret: isize) -> String {
    outcome_val(ret)
}

/// `ok` / `Err(ENAME)`: hides the value (file descriptors, addresses).
pub fn o(ret: isize) -> String {
    outcome(ret)
}

/// The value of a call that must succeed for the probe to go on.
pub fn must(what: &str, ret: isize) -> i32 {
    match check(ret) {
        Ok(v) => v as i32,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// An `io::Error` as its errno name (or its kind when it has none).
pub fn ioe(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => errno_name(n).to_string(),
        None => format!("{:?}", e.kind()),
    }
}

/// `Ok(..)` as `ok`, errors as their errno name.
pub fn io_o<T>(r: &io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("Err({})", ioe(e)),
    }
}

/// The file type of an `st_mode`.
pub fn ftype(mode: u32) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFIFO => "fifo",
        libc::S_IFCHR => "char device",
        libc::S_IFDIR => "directory",
        libc::S_IFBLK => "block device",
        libc::S_IFREG => "regular file",
        libc::S_IFLNK => "symlink",
        libc::S_IFSOCK => "socket",
        _ => "unknown",
    }
}

/// A directory of this process's own under /tmp (tmpfs under unify; whatever /tmp is
/// natively), removed with everything in it on drop. Its path is never printed.
pub struct TmpDir {
    pub path: String,
}

impl TmpDir {
    pub fn new(tag: &str) -> TmpDir {
        let path = format!("/tmp/unify-probe-{tag}-{}", std::process::id());
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("mkdir {path}: {e}"));
        TmpDir { path }
    }
    /// `<dir>/<name>`.
    pub fn at(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A whole small file (pseudo-files report size 0, so std's read_to_string is used).
pub fn read_text(path: &str) -> io::Result<String> {
    std::fs::read_to_string(path)
}

/// Prints a section header.
pub fn section(name: &str) {
    println!("== {name}");
}

/// Like [`o`], and closes the descriptor a successful call returned.
pub fn oc(ret: isize) -> String {
    if let Ok(fd) = check(ret) {
        crate::sys::close(fd as i32);
    }
    o(ret)
}
