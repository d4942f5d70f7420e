//! `/proc`: the process and the machine as text, generated from the kernel's state.
//!
//! ```text
//! /proc
//!   self -> <pid>           thread-self -> <pid>/task/<tid>
//!   <pid>/                  the process (pid.rs): status, stat, statm, maps, limits,
//!                           cmdline, environ, comm, cgroup, mounts, mountinfo,
//!                           exe, cwd, root (magic links), fd/, fdinfo/, task/<tid>/
//!   cpuinfo meminfo stat uptime loadavg version filesystems    (system.rs, cpuinfo.rs)
//!   mounts -> self/mounts
//!   sys/                    the sysctls programs read (sys.rs)
//! ```
//!
//! # Reaching the kernel
//!
//! The namespace (and so this filesystem) is built before the [`Kernel`] that owns
//! it, and unit tests build kernels that are never installed as the global one. So
//! procfs is *given* its kernel: [`ProcShared::attach`], called by the platform right
//! after `Kernel::install` (tests call it on a leaked kernel), stores a
//! `&'static Kernel` once. Until then `/proc` is an empty directory. Every file is
//! generated from that kernel when it is opened; nothing is cached but the boot id.
//!
//! # What the numbers agree with
//!
//! Each value comes from the same place the corresponding syscall reads: the CPU list
//! from `Platform::cpu_mask` (`sched_getaffinity`), memory and uptime from the
//! `HostInfo` and `CLOCK_BOOTTIME` that `sysinfo` reports, limits from the limits
//! `getrlimit` returns, mappings from the memory map. Where the kernel keeps no record
//! (page faults, context switches, the time split between user and system) the value
//! is 0, which a Linux reader accepts.

mod cpuinfo;
mod cpuinfo_flags;
mod fd;
mod links;
mod maps;
mod memory;
mod mounts;
mod pid;
mod process;
mod stat;
mod status;
mod sys;
mod system;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::format::uuid_v4;
use super::node::{Attr, Dir, Entry, GenFile, Link, Listing, PseudoFs, Superblock};
use crate::file::File;
use crate::platform::Platform;
use crate::vfs::inode::{magic, Inode};
use crate::{Errno, Kernel};

/// What every node of one procfs shares: the kernel it describes (once attached).
pub(crate) struct ProcShared {
    sb: Superblock,
    platform: &'static dyn Platform,
    kernel: spin::Once<&'static Kernel>,
    /// The files fds 0–2 held at attach: the platform's console, named in `fd/` by
    /// [`Platform::console_name`] wherever the guest moves them.
    console: spin::Once<Vec<Option<Arc<dyn File>>>>,
    /// `/proc/sys/kernel/random/boot_id`: one random UUID per boot.
    boot_id: String,
}

impl ProcShared {
    /// Gives procfs the kernel it describes (once; later calls change nothing).
    pub(crate) fn attach(&self, kernel: &'static Kernel) {
        self.kernel.call_once(|| kernel);
        self.console.call_once(|| {
            let fds = kernel.fds.lock();
            (0..3).map(|fd| fds.get(fd).ok().map(|open| open.file.clone())).collect()
        });
    }

    /// The kernel, or ENOENT before [`ProcShared::attach`].
    fn kernel(&self) -> Result<&'static Kernel, Errno> {
        self.kernel.get().copied().ok_or(Errno::ENOENT)
    }

    /// Which console fd `file` started as, if it is one of them.
    fn console_fd(&self, file: &Arc<dyn File>) -> Option<u32> {
        let console = self.console.get()?;
        let same = |c: &Option<Arc<dyn File>>| {
            c.as_ref().is_some_and(|c| core::ptr::addr_eq(Arc::as_ptr(c), Arc::as_ptr(file)))
        };
        console.iter().position(same).map(|i| i as u32)
    }
}

/// A new `/proc` over `platform`, empty until attached to its kernel.
pub(crate) fn new(platform: &'static dyn Platform, sb: Superblock) -> (Arc<PseudoFs>, Arc<ProcShared>) {
    let mut random = [0u8; 16];
    platform.fill_random(&mut random);
    let shared = Arc::new(ProcShared {
        sb,
        platform,
        kernel: spin::Once::new(),
        console: spin::Once::new(),
        boot_id: uuid_v4(random),
    });
    let root = Dir::new(sb.attr(b"", 0o555), 1, RootListing(shared.clone()));
    (Arc::new(PseudoFs { root, fs_type: "proc", magic: magic::PROC_SUPER_MAGIC }), shared)
}

/// The entries of `/proc`.
struct RootListing(Arc<ProcShared>);

/// What makes the text of a file from the kernel.
type Generator = fn(&'static Kernel) -> Vec<u8>;

/// The system files at the top of `/proc`, in listing order, with what makes each.
const SYSTEM_FILES: [(&str, Generator); 7] = [
    ("cpuinfo", cpuinfo::cpuinfo),
    ("filesystems", system::filesystems),
    ("loadavg", system::loadavg),
    ("meminfo", system::meminfo),
    ("stat", system::stat),
    ("uptime", system::uptime),
    ("version", system::version),
];

/// The names of `/proc` besides the system files and the pid, in listing order.
const OTHER_NAMES: [&str; 4] = ["mounts", "sys", "self", "thread-self"];

impl RootListing {
    /// The entry `name` of `/proc` (built alone: a path walk asks for one name).
    fn node(&self, k: &'static Kernel, name: &[u8]) -> Option<Arc<dyn Inode>> {
        let shared = &self.0;
        let sb = &shared.sb;
        let pid = k.identity.pid;
        if let Some((_, make)) = SYSTEM_FILES.iter().find(|(n, _)| n.as_bytes() == name) {
            let make = *make;
            let path = [b"/", name].concat();
            return Some(GenFile::new(sb.file_attr(&path, 0o444), move || make(k)));
        }
        Some(match name {
            b"mounts" => proc_link(sb.attr(b"/mounts", 0o777), b"self/mounts".to_vec()),
            b"sys" => sys::dir_tree(shared, k),
            b"self" => proc_link(sb.attr(b"/self", 0o777), alloc::format!("{pid}").into_bytes()),
            b"thread-self" => {
                proc_link(sb.attr(b"/thread-self", 0o777), alloc::format!("{pid}/task/{pid}").into_bytes())
            }
            _ if name == alloc::format!("{pid}").as_bytes() => pid::process_dir(shared, k),
            _ => return None,
        })
    }
}

impl Listing for RootListing {
    fn entries(&self) -> Result<Vec<Entry>, Errno> {
        let Ok(k) = self.0.kernel() else {
            return Ok(Vec::new());
        };
        let pid = alloc::format!("{}", k.identity.pid);
        let names = SYSTEM_FILES.iter().map(|(n, _)| *n).chain(OTHER_NAMES).chain([pid.as_str()]);
        Ok(names
            .zip(2..)
            .filter_map(|(name, pos)| {
                let node = self.node(k, name.as_bytes())?;
                Some(Entry { pos, name: name.as_bytes().to_vec(), node })
            })
            .collect())
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.node(self.0.kernel()?, name).ok_or(Errno::ENOENT)
    }
}

/// A procfs symlink to `text`: its size is 0, as Linux reports for every proc link.
fn proc_link(attr: Attr, text: Vec<u8>) -> Arc<Link> {
    Link::computed(attr, move || Ok(text.clone()))
}
