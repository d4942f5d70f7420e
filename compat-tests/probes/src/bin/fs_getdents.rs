//! A large directory through getdents64 (and the legacy getdents): create N entries
//! (files, every 100th a directory), list them with a small buffer over many calls,
//! check every name comes exactly once with a plausible d_type, rewind with lseek, the
//! errnos (buffer too small, not a directory, bad fd), then delete everything and rmdir.
//!
//! `fs_getdents [BASE [N]]`: BASE is where the directory is made (default: the working
//! directory; `/tmp` for tmpfs), N the number of entries (default 5000). The listing
//! order is never printed: it differs between filesystems.

use std::collections::HashMap;

use probes::fsutil::{must, section, v, TmpDir};
use probes::sys::{self, AT_FDCWD};

use libc::{AT_REMOVEDIR, DT_DIR, DT_REG, DT_UNKNOWN, O_CREAT, O_DIRECTORY, O_RDONLY, O_WRONLY, SEEK_SET};

/// One entry of a getdents64 buffer.
struct Entry {
    name: String,
    d_type: u8,
    reclen: usize,
}

fn parse64(buf: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 19 <= buf.len() {
        let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
        if reclen == 0 || at + reclen > buf.len() {
            break;
        }
        let d_type = buf[at + 18];
        let name_bytes = &buf[at + 19..at + reclen];
        let len = name_bytes.iter().position(|&b| b == 0).unwrap_or(name_bytes.len());
        out.push(Entry { name: String::from_utf8_lossy(&name_bytes[..len]).into_owned(), d_type, reclen });
        at += reclen;
    }
    out
}

/// Lists a directory fd to its end; returns the entries and how many calls it took.
fn list64(fd: i32, bufsize: usize) -> (Vec<Entry>, usize, isize) {
    let mut buf = vec![0u8; bufsize];
    let mut all = Vec::new();
    let mut calls = 0;
    loop {
        let n = sys::getdents64(fd, &mut buf);
        calls += 1;
        if n <= 0 {
            return (all, calls, n);
        }
        all.extend(parse64(&buf[..n as usize]));
    }
}

/// The legacy getdents (`struct linux_dirent`, d_type in the last byte of the record).
fn count_legacy(fd: i32) -> (usize, isize) {
    let mut buf = vec![0u8; 8192];
    let mut count = 0;
    loop {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        let n = unsafe { probes::syscall!(libc::SYS_getdents as usize, fd, buf.as_mut_ptr(), buf.len()) };
        if n <= 0 {
            return (count, n);
        }
        let mut at = 0;
        while at < n as usize {
            let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
            if reclen == 0 {
                return (count, -1);
            }
            count += 1;
            at += reclen;
        }
    }
}

fn name(i: usize) -> String {
    if i.is_multiple_of(100) {
        format!("sub_{i:05}")
    } else {
        format!("entry_{i:05}.dat")
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| ".".to_string());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5000);
    let _tmp;
    let dir = if base == "/tmp" {
        _tmp = TmpDir::new("fs_getdents");
        _tmp.at("big")
    } else {
        format!("{base}/big")
    };
    println!("entries: {n}");

    section("create");
    println!("mkdir: {}", v(sys::mkdir(&dir, 0o755)));
    let dfd = must("open dir", sys::open(&dir, O_RDONLY | O_DIRECTORY, 0));
    let mut failures = 0;
    for i in 0..n {
        let ok = if i.is_multiple_of(100) {
            sys::mkdirat(dfd, &name(i), 0o755) == 0
        } else {
            let fd = sys::openat(dfd, &name(i), O_CREAT | O_WRONLY, 0o644);
            fd >= 0 && sys::close(fd as i32) == 0
        };
        if !ok {
            failures += 1;
        }
    }
    println!("create failures: {failures}");
    println!("rmdir non-empty: {}", v(sys::rmdir(&dir)));

    section("getdents64");
    let (entries, calls, last) = list64(dfd, 4096);
    println!("last call: {}", v(last));
    println!("needed several calls: {}", calls > 2);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for e in &entries {
        *seen.entry(e.name.as_str()).or_default() += 1;
    }
    println!("entries returned: {}", entries.len());
    println!(". and .. once each: {}", seen.get(".") == Some(&1) && seen.get("..") == Some(&1));
    let all_once = (0..n).all(|i| seen.get(name(i).as_str()) == Some(&1));
    println!("every name exactly once: {all_once}");
    println!("nothing else: {}", seen.len() == n + 2);
    let types_ok = entries.iter().all(|e| {
        let want = if e.name.starts_with("sub_") || e.name == "." || e.name == ".." { DT_DIR } else { DT_REG };
        e.d_type == want || e.d_type == DT_UNKNOWN
    });
    println!("d_type is right or DT_UNKNOWN: {types_ok}");
    println!("records 8-byte aligned: {}", entries.iter().all(|e| e.reclen % 8 == 0));
    println!("at the end again: {}", v(sys::getdents64(dfd, &mut [0u8; 4096])));
    println!("lseek to 0: {}", v(sys::lseek(dfd, 0, SEEK_SET)));
    let (again, _, _) = list64(dfd, 32 * 1024);
    println!("after rewind, same count with a big buffer: {}", again.len() == entries.len());
    sys::lseek(dfd, 0, SEEK_SET);
    println!("buffer too small for one entry: {}", v(sys::getdents64(dfd, &mut [0u8; 8])));
    let (legacy, last) = count_legacy(dfd);
    println!("legacy getdents: count {}, last call {}", legacy, v(last));
    let f = must("file", sys::openat(dfd, &name(1), O_RDONLY, 0));
    println!("getdents64 on a file: {}", v(sys::getdents64(f, &mut [0u8; 4096])));
    sys::close(f);
    println!("getdents64 on a bad fd: {}", v(sys::getdents64(999, &mut [0u8; 4096])));

    section("std::fs::read_dir");
    match std::fs::read_dir(&dir) {
        Ok(rd) => {
            let names: Vec<String> =
                rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            let dirs = names.iter().filter(|n| n.starts_with("sub_")).count();
            println!("read_dir: {} entries, {} directories", names.len(), dirs);
        }
        Err(e) => println!("read_dir: {}", probes::fsutil::ioe(&e)),
    }

    section("delete");
    let mut failures = 0;
    for i in 0..n {
        let flags = if i.is_multiple_of(100) { AT_REMOVEDIR } else { 0 };
        if sys::unlinkat(dfd, &name(i), flags) != 0 {
            failures += 1;
        }
    }
    println!("delete failures: {failures}");
    sys::lseek(dfd, 0, SEEK_SET);
    let (left, _, _) = list64(dfd, 4096);
    let mut left: Vec<String> = left.into_iter().map(|e| e.name).collect();
    left.sort();
    println!("left: {left:?}");
    sys::close(dfd);
    println!("rmdir: {}", v(sys::rmdir(&dir)));
    println!("stat after rmdir: {}", v(sys::fstatat(AT_FDCWD, &dir, 0).0));
}
