//! `/proc/<pid>/` and `/proc/<pid>/task/<tid>/`: the process's files.
//!
//! `task/` lists every live thread; each thread's directory has the process's files
//! (less `task/` itself: the per-thread values that differ on Linux, such as a
//! thread's own `stat` times, are the process's here). Everything is owned by the
//! process's uid and gid, with Linux's permission bits.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{fd, links, maps, mounts, process, stat, status, ProcShared};
use crate::pseudo::node::{ino_of, Dir, Entry, Fixed, GenFile, Listing};
use crate::vfs::inode::Inode;
use crate::{Errno, Kernel};

/// `/proc/<pid>`.
pub(super) fn process_dir(shared: &Arc<ProcShared>, k: &'static Kernel) -> Arc<Dir> {
    let base = format!("/{}", k.identity.pid).into_bytes();
    let mut entries = alloc::vec![task_entry(shared, k, &base)];
    entries.extend(files(shared, k, &base));
    let attr = shared.sb.attr(&base, 0o555).owned_by(k.identity.uid, k.identity.gid);
    Dir::new(attr, 1, Fixed(entries))
}

/// The `task` entry of `/proc/<pid>`: a directory per live thread.
fn task_entry(shared: &Arc<ProcShared>, k: &'static Kernel, base: &[u8]) -> (Vec<u8>, Arc<dyn Inode>) {
    let (uid, gid) = (k.identity.uid, k.identity.gid);
    let task_path = [base, b"/task"].concat();
    let listing = Tasks { shared: shared.clone(), k, path: task_path.clone() };
    let task = Dir::new(shared.sb.attr(&task_path, 0o555).owned_by(uid, gid), ino_of(base), listing);
    (b"task".to_vec(), task)
}

/// The threads of the process, listed as they are when read.
struct Tasks {
    shared: Arc<ProcShared>,
    k: &'static Kernel,
    /// `/<pid>/task`.
    path: Vec<u8>,
}

impl Tasks {
    fn thread_dir(&self, tid: u32) -> Arc<dyn Inode> {
        let (uid, gid) = (self.k.identity.uid, self.k.identity.gid);
        let thread_path = [&self.path[..], b"/", format!("{tid}").as_bytes()].concat();
        Dir::new(
            self.shared.sb.attr(&thread_path, 0o555).owned_by(uid, gid),
            ino_of(&self.path),
            Fixed(files(&self.shared, self.k, &thread_path)),
        )
    }
}

impl Listing for Tasks {
    fn entries(&self) -> Result<Vec<Entry>, Errno> {
        // Threads in tid order; the position is the tid, so a listing resumed after a
        // thread ended goes on from the next one.
        Ok(self
            .k
            .threads
            .tids()
            .into_iter()
            .map(|tid| Entry {
                pos: u64::from(tid) + 2,
                name: format!("{tid}").into_bytes(),
                node: self.thread_dir(tid),
            })
            .collect())
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let tid: u32 = core::str::from_utf8(name).ok().and_then(|s| s.parse().ok()).ok_or(Errno::ENOENT)?;
        if format!("{tid}").as_bytes() != name || self.k.threads.get(tid).is_none() {
            return Err(Errno::ENOENT);
        }
        Ok(self.thread_dir(tid))
    }
}

/// The read-only text files of a process or thread directory: name, mode, maker.
const TEXT_FILES: [(&str, u32, super::Generator); 10] = [
    ("environ", 0o400, process::environ),
    ("status", 0o444, status::status),
    ("limits", 0o444, process::limits),
    ("cmdline", 0o444, process::cmdline),
    ("stat", 0o444, stat::stat),
    ("statm", 0o444, stat::statm),
    ("maps", 0o444, maps::maps),
    ("mounts", 0o444, mounts::mounts),
    ("mountinfo", 0o444, mounts::mountinfo),
    ("cgroup", 0o444, process::cgroup),
];

/// The files of a process or thread directory at `base`.
fn files(shared: &Arc<ProcShared>, k: &'static Kernel, base: &[u8]) -> Vec<(Vec<u8>, Arc<dyn Inode>)> {
    let sb = &shared.sb;
    let (uid, gid) = (k.identity.uid, k.identity.gid);
    let path = |name: &str| [base, b"/", name.as_bytes()].concat();
    let mut out: Vec<(Vec<u8>, Arc<dyn Inode>)> = Vec::new();
    out.push((b"fd".to_vec(), fd::fd_dir(shared, k, &path("fd"))));
    out.push((b"fdinfo".to_vec(), fd::fdinfo_dir(shared, k, &path("fdinfo"))));
    for (name, mode, make) in TEXT_FILES {
        let attr = sb.file_attr(&path(name), mode).owned_by(uid, gid);
        out.push((name.as_bytes().to_vec(), GenFile::new(attr, move || make(k))));
    }
    let comm_attr = sb.file_attr(&path("comm"), 0o644).owned_by(uid, gid);
    out.push((b"comm".to_vec(), GenFile::new(comm_attr, process::Comm(k))));
    for (name, which) in [("cwd", links::Which::Cwd), ("root", links::Which::Root), ("exe", links::Which::Exe)] {
        let attr = sb.attr(&path(name), 0o777).owned_by(uid, gid);
        out.push((name.as_bytes().to_vec(), links::ProcessLink::new(attr, k, which)));
    }
    out
}
