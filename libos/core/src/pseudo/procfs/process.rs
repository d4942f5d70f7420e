//! The process's small files: `cmdline`, `environ`, `comm`, `cgroup`, `limits`.

use alloc::vec::Vec;
use core::fmt::Write;

use crate::abi::RLIM_INFINITY;
use crate::limits::RLIMIT_NLIMITS;
use crate::pseudo::format::text;
use crate::pseudo::node::Content;
use crate::{Kernel, SysResult};

/// `cmdline`: the arguments, each followed by a NUL.
pub(super) fn cmdline(k: &'static Kernel) -> Vec<u8> {
    k.cmdline.clone()
}

/// `environ`: the environment the program started with, each string followed by a NUL.
pub(super) fn environ(k: &'static Kernel) -> Vec<u8> {
    k.environ.clone()
}

/// `cgroup`: the process is at the root of the one cgroup v2 hierarchy, mounted at
/// `/sys/fs/cgroup` (see `cgroupfs.rs`).
pub(super) fn cgroup(_k: &'static Kernel) -> Vec<u8> {
    b"0::/\n".to_vec()
}

/// `comm`: the thread name and a newline; a write sets the name to its first 15
/// bytes, newline included if it is among them, as Linux's `comm_write` does.
pub(super) struct Comm(pub &'static Kernel);

impl Content for Comm {
    fn generate(&self) -> Result<Vec<u8>, crate::Errno> {
        let mut name = super::status::comm(self.0);
        name.push(b'\n');
        Ok(name)
    }

    fn writable(&self) -> bool {
        true
    }

    fn write(&self, data: &[u8]) -> SysResult {
        let mut comm = [0u8; 16];
        let n = data.len().min(15);
        comm[..n].copy_from_slice(&data[..n]);
        *self.0.comm.lock() = comm;
        Ok(data.len())
    }
}

/// Each limit's name and unit in `limits`, indexed by `RLIMIT_*`.
const LIMIT_NAMES: [(&str, &str); RLIMIT_NLIMITS] = [
    ("Max cpu time", "seconds"),
    ("Max file size", "bytes"),
    ("Max data size", "bytes"),
    ("Max stack size", "bytes"),
    ("Max core file size", "bytes"),
    ("Max resident set", "bytes"),
    ("Max processes", "processes"),
    ("Max open files", "files"),
    ("Max locked memory", "bytes"),
    ("Max address space", "bytes"),
    ("Max file locks", "locks"),
    ("Max pending signals", "signals"),
    ("Max msgqueue size", "bytes"),
    ("Max nice priority", ""),
    ("Max realtime priority", ""),
    ("Max realtime timeout", "us"),
];

/// `limits`: the resource limits as `getrlimit` reports them, in Linux's table.
pub(super) fn limits(k: &'static Kernel) -> Vec<u8> {
    let limits = k.limits.lock().clone();
    text(|s| {
        let _ = writeln!(s, "{:<25} {:<20} {:<20} {:<10}", "Limit", "Soft Limit", "Hard Limit", "Units");
        for (i, (name, unit)) in LIMIT_NAMES.iter().enumerate() {
            let l = limits.get(i);
            let _ = write!(s, "{name:<25} ");
            for v in [l.rlim_cur, l.rlim_max] {
                if v == RLIM_INFINITY {
                    let _ = write!(s, "{:<20} ", "unlimited");
                } else {
                    let _ = write!(s, "{v:<20} ");
                }
            }
            if !unit.is_empty() {
                let _ = write!(s, "{unit:<10}");
            }
            s.push('\n');
        }
    })
}
