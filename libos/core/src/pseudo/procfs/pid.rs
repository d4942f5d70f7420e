//! `/proc/<pid>/` and `/proc/<pid>/task/<tid>/`: the process's files.
//!
//! The process has one thread the libOS knows of, whose tid is the pid, so `task/`
//! holds one directory with the same files (less `task/` itself). Everything is owned
//! by the process's uid and gid, with Linux's permission bits.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{fd, links, maps, mounts, process, stat, status, ProcShared};
use crate::pseudo::node::{ino_of, Dir, Fixed, GenFile};
use crate::vfs::inode::Inode;
use crate::Kernel;

/// `/proc/<pid>`.
pub(super) fn process_dir(shared: &Arc<ProcShared>, k: &'static Kernel) -> Arc<Dir> {
    let base = format!("/{}", k.identity.pid).into_bytes();
    let mut entries = alloc::vec![task_entry(shared, k, &base)];
    entries.extend(files(shared, k, &base));
    let attr = shared.sb.attr(&base, 0o555).owned_by(k.identity.uid, k.identity.gid);
    Dir::new(attr, 1, Fixed(entries))
}

/// The `task` entry of `/proc/<pid>`: one thread, the main one.
fn task_entry(shared: &Arc<ProcShared>, k: &'static Kernel, base: &[u8]) -> (Vec<u8>, Arc<dyn Inode>) {
    let (uid, gid) = (k.identity.uid, k.identity.gid);
    let task_path = [base, b"/task"].concat();
    let tid = format!("{}", k.identity.pid).into_bytes();
    let thread_path = [&task_path[..], b"/", &tid].concat();
    let thread = Dir::new(
        shared.sb.attr(&thread_path, 0o555).owned_by(uid, gid),
        ino_of(&task_path),
        Fixed(files(shared, k, &thread_path)),
    );
    let task = Dir::new(
        shared.sb.attr(&task_path, 0o555).owned_by(uid, gid),
        ino_of(base),
        Fixed(alloc::vec![(tid, thread as Arc<dyn Inode>)]),
    );
    (b"task".to_vec(), task)
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
