//! Who the guest is and what machine it sees: ids, `uname`, `sysinfo`.

use crate::abi::{Sysinfo, Utsname};
use crate::platform::HostInfo;

/// Process identity. One process per libOS instance.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Identity {
    pub fn from_host(info: &HostInfo) -> Identity {
        Identity { pid: info.pid, ppid: info.ppid, uid: info.uid, gid: info.gid }
    }
}

/// `uname`: the platform's description (sysname is always "Linux": the guest is a
/// Linux program and must see a Linux personality).
pub fn uname(info: &HostInfo) -> Utsname {
    let mut uts = info.uts;
    crate::abi::set_uts_field(&mut uts.sysname, b"Linux");
    uts
}

/// `sysinfo`.
pub fn sysinfo(info: &HostInfo, uptime_secs: i64) -> Sysinfo {
    Sysinfo {
        uptime: uptime_secs,
        totalram: info.total_ram,
        freeram: info.free_ram,
        procs: 1,
        mem_unit: 1,
        ..Sysinfo::default()
    }
}
