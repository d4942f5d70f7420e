//! The libOS instance: one guest process and the platform under it.

use alloc::sync::Arc;

use crate::abi::Timespec;
use crate::fd::FdTable;
use crate::file::{File, OpenFile};
use crate::ident::Identity;
use crate::limits::{Limits, RLIMIT_NOFILE};
use crate::mm::MemoryMap;
use crate::platform::{HostInfo, Platform};
use crate::signal::SignalActions;
use crate::time::ClockId;

/// Everything a Linux kernel keeps for the one process the libOS runs.
pub struct Kernel {
    pub platform: &'static dyn Platform,
    pub mm: spin::RwLock<MemoryMap>,
    pub fds: spin::Mutex<FdTable>,
    pub signals: spin::Mutex<SignalActions>,
    pub limits: spin::Mutex<Limits>,
    /// The thread name (`PR_SET_NAME`, `/proc/self/comm`), NUL-padded.
    pub comm: spin::Mutex<[u8; 16]>,
    pub identity: Identity,
    pub host: HostInfo,
    /// Monotonic time at start, for `sysinfo`'s uptime.
    pub started: Timespec,
    /// The program's path as the guest named it (`/proc/self/exe`, `AT_EXECFN`).
    pub exe_path: alloc::vec::Vec<u8>,
    /// The working directory, an absolute path (`/` until the filesystem exists).
    pub cwd: spin::Mutex<alloc::vec::Vec<u8>>,
}

static KERNEL: spin::Once<Kernel> = spin::Once::new();

impl Kernel {
    /// Creates the instance for the program at `exe_path`: fds 0–2 are the platform's
    /// console (with `console_flags`, the access modes and status flags they were opened
    /// with); the thread name is the path's last component.
    pub fn new(platform: &'static dyn Platform, mm: MemoryMap, exe_path: &[u8], console_flags: [u32; 3]) -> Kernel {
        let comm = exe_path.rsplit(|&b| b == b'/').next().unwrap_or(exe_path);
        let host = platform.host_info();
        let limits = Limits::new(host.rlimits, host.uid == 0);
        let mut fds = FdTable::new();
        fds.set_max_fds(limits.get(RLIMIT_NOFILE).rlim_cur.min(1 << 20) as usize);
        let console: [Arc<dyn File>; 3] = platform.console();
        for (file, flags) in console.into_iter().zip(console_flags) {
            fds.insert(OpenFile::new(file, flags), false).expect("a new table has room for fds 0-2");
        }
        let mut name = [0u8; 16];
        let n = comm.len().min(15);
        name[..n].copy_from_slice(&comm[..n]);
        Kernel {
            platform,
            mm: spin::RwLock::new(mm),
            fds: spin::Mutex::new(fds),
            signals: spin::Mutex::new(SignalActions::default()),
            limits: spin::Mutex::new(limits),
            comm: spin::Mutex::new(name),
            identity: Identity::from_host(&host),
            started: platform.now(ClockId::Boottime),
            exe_path: exe_path.to_vec(),
            cwd: spin::Mutex::new(alloc::vec![b'/']),
            host,
        }
    }

    /// Makes `kernel` the instance for this process (once).
    pub fn install(kernel: Kernel) -> &'static Kernel {
        let mut kernel = Some(kernel);
        let k = KERNEL.call_once(|| kernel.take().expect("taken once"));
        assert!(kernel.is_none(), "the libOS kernel is installed once");
        k
    }

    /// The installed instance.
    ///
    /// # Panics
    /// Before [`Kernel::install`]: a platform bug, not a guest error.
    pub fn get() -> &'static Kernel {
        KERNEL.get().expect("libOS kernel not installed")
    }
}
