//! The line between the libOS and what it runs on.
//!
//! `libos-hosted` implements [`Platform`] with host syscalls inside one Linux process;
//! `libos-metal` with page tables and devices. Everything above this trait is shared.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::abi::{Rlimit, Timespec, Utsname};
use crate::file::File;
use crate::mm::Prot;
use crate::time::ClockId;
use crate::Errno;

/// What the platform knows about the machine and the identity the guest runs with.
#[derive(Debug, Clone)]
pub struct HostInfo {
    pub uts: Utsname,
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    pub total_ram: u64,
    pub free_ram: u64,
    /// Initial resource limits, indexed by `RLIMIT_*`.
    pub rlimits: [Rlimit; crate::limits::RLIMIT_NLIMITS],
}

/// A mapping in the guest's address space that the platform placed and the libOS's
/// memory map does not hold: the host's vDSO and its data pages lent to the guest, the
/// legacy vsyscall page. `/proc/self/maps` lists these after the map's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignMapping {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    /// What `/proc/self/maps` calls it: `[vdso]`, `[vvar]`, `[vsyscall]`.
    pub name: Vec<u8>,
}

/// Services the libOS needs from the platform.
///
/// Memory operations act on page-aligned ranges of the guest address space that the
/// libOS's [`crate::mm::MemoryMap`] has already validated; the platform only makes the
/// hardware (or the host) agree with the bookkeeping.
pub trait Platform: Send + Sync {
    /// Backs `[addr, addr+len)` with fresh zero-filled memory of protection `prot`,
    /// replacing whatever was there.
    fn map_anonymous(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno>;
    /// Releases `[addr, addr+len)`; later accesses fault.
    fn unmap(&self, addr: u64, len: u64) -> Result<(), Errno>;
    /// Changes the protection of `[addr, addr+len)`.
    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno>;
    /// Moves the pages of `[old, old+len)` to `[new, new+len)`, leaving `old` unmapped.
    fn move_pages(&self, old: u64, new: u64, len: u64) -> Result<(), Errno>;
    /// Drops the contents of a private anonymous range: it reads as zeros afterwards.
    fn discard(&self, addr: u64, len: u64) -> Result<(), Errno>;
    /// `mincore`: sets `out[i]` to 1 if page `i` of `[addr, addr+len)` is resident.
    fn residency(&self, addr: u64, len: u64, out: &mut [u8]) -> Result<(), Errno>;

    /// The current time on `clock`.
    fn now(&self, clock: ClockId) -> Timespec;
    /// The resolution of `clock`.
    fn resolution(&self, clock: ClockId) -> Timespec;
    /// Sleeps for `ns` nanoseconds (measured on the monotonic clock).
    fn sleep(&self, ns: u64);

    /// Fills `buf` with cryptographically secure random bytes.
    fn fill_random(&self, buf: &mut [u8]);

    /// The three console files the guest starts with as fds 0, 1 and 2.
    fn console(&self) -> [Arc<dyn File>; 3];
    /// CPUs the guest may run on, as a bit mask (bit N = CPU N).
    fn cpu_mask(&self) -> u64;
    /// Identity and machine description.
    fn host_info(&self) -> HostInfo;

    /// The guest's controlling terminal, what `/dev/tty` opens. Default: none, and
    /// opening `/dev/tty` is ENXIO as for a Linux process without one.
    fn controlling_tty(&self) -> Option<Arc<dyn File>> {
        None
    }
    /// What `/proc/self/fd/N` shows for a console file the guest started with as fd
    /// `fd` (0–2), wherever it is now. Default: none, and procfs names it from its
    /// `stat` (a terminal's `/dev` path, `pipe:[ino]`).
    fn console_name(&self, _fd: u32) -> Option<Vec<u8>> {
        None
    }
    /// The guest CPU's answer to `CPUID` with `leaf` and `subleaf`: eax, ebx, ecx, edx
    /// (`/proc/cpuinfo`). Default: none, and `/proc/cpuinfo` lists the CPUs without
    /// describing them.
    fn cpuid(&self, _leaf: u32, _subleaf: u32) -> Option<[u32; 4]> {
        None
    }
    /// The DNS servers the guest should ask, as text addresses (`/etc/resolv.conf`).
    /// Default: none, and resolvers fall back to their own default (127.0.0.1).
    fn nameservers(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
    /// The mappings the platform placed in the guest's view outside the memory map.
    fn foreign_mappings(&self) -> Vec<ForeignMapping> {
        Vec::new()
    }

    /// Writes one diagnostic line from the libOS itself (warnings, trace) to the user.
    fn log(&self, line: &str);
    /// Ends the whole guest with `status` (the low 8 bits reach the user).
    fn exit_process(&self, status: i32) -> !;
    /// Ends the whole guest as if killed by signal `sig` (a default action of
    /// "terminate" or "core"): the user sees the status a shell shows, 128 + `sig`.
    fn exit_by_signal(&self, sig: u32) -> !;
}
