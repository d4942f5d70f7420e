//! The libOS instance: one guest process and the platform under it.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::abi::Timespec;
use crate::fd::FdTable;
use crate::file::{File, OpenFile};
use crate::ident::Identity;
use crate::limits::{Limits, RLIMIT_NOFILE};
use crate::mm::MemoryMap;
use crate::platform::{HostInfo, Platform};
use crate::signal::SignalActions;
use crate::sigqueue::PendingSignals;
use crate::sync::{Mutex, RwLock};
use crate::thread::ThreadGroup;
use crate::time::ClockId;
use crate::timerfd::TimerFdList;
use crate::timers::Timers;
use crate::vfs::Vfs;

/// Everything a Linux kernel keeps for the one process the libOS runs.
pub struct Kernel {
    pub platform: &'static dyn Platform,
    pub mm: RwLock<MemoryMap>,
    pub fds: Mutex<FdTable>,
    pub signals: Mutex<SignalActions>,
    /// Signals sent to the process as a whole, not yet taken by a thread.
    pub sigpending: Mutex<PendingSignals>,
    pub limits: Mutex<Limits>,
    /// The thread name (`PR_SET_NAME`, `/proc/self/comm`), NUL-padded.
    pub comm: Mutex<[u8; 16]>,
    pub identity: Identity,
    pub host: HostInfo,
    /// Monotonic time at start, for `sysinfo`'s uptime.
    pub started: Timespec,
    /// The program's path as the guest named it (`/proc/self/exe`, `AT_EXECFN`).
    pub exe_path: Vec<u8>,
    /// The filesystem namespace: mounts, root, working directory, umask.
    pub vfs: Vfs,
    /// The argument and environment strings, each NUL-terminated and concatenated, as
    /// `/proc/self/cmdline` and `/proc/self/environ` read them.
    pub cmdline: Vec<u8>,
    pub environ: Vec<u8>,
    /// The process's threads.
    pub threads: ThreadGroup,
    /// `alarm`, the interval timers and the POSIX timers.
    pub timers: Mutex<Timers>,
    /// The timerfds, whose timers [`Kernel::run_timers`] fires too.
    pub timerfds: TimerFdList,
}

/// What a platform hands [`Kernel::new`] besides itself and the memory map.
pub struct ProcessSetup<'a> {
    /// The program's absolute path in the guest's filesystem.
    pub exe_path: &'a [u8],
    pub argv: &'a [Vec<u8>],
    pub env: &'a [Vec<u8>],
    /// The access modes and status flags fds 0–2 were opened with.
    pub console_flags: [u32; 3],
    /// The namespace, with the root filesystem and the pseudo-filesystems mounted.
    pub vfs: Vfs,
}

/// The strings joined as `/proc/self/cmdline` shows them: each followed by a NUL.
fn nul_joined(strings: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(strings.iter().map(|s| s.len() + 1).sum());
    for s in strings {
        out.extend_from_slice(s);
        out.push(0);
    }
    out
}

static KERNEL: spin::Once<Kernel> = spin::Once::new();

impl Kernel {
    /// Creates the instance for the program `setup` describes: fds 0–2 are the
    /// platform's console; the thread name is the path's last component.
    pub fn new(platform: &'static dyn Platform, mm: MemoryMap, setup: ProcessSetup<'_>) -> Kernel {
        let ProcessSetup { exe_path, argv, env, console_flags, vfs } = setup;
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
            mm: RwLock::new(mm),
            fds: Mutex::new(fds),
            signals: Mutex::new(SignalActions::default()),
            sigpending: Mutex::new(PendingSignals::default()),
            limits: Mutex::new(limits),
            comm: Mutex::new(name),
            identity: Identity::from_host(&host),
            started: platform.now(ClockId::Boottime),
            exe_path: exe_path.to_vec(),
            vfs,
            cmdline: nul_joined(argv),
            environ: nul_joined(env),
            threads: ThreadGroup::new(host.pid, host.ppid),
            timers: Mutex::new(Timers::new()),
            timerfds: TimerFdList::new(),
            host,
        }
    }

    /// Makes `kernel` the instance for this process (once).
    pub fn install(kernel: Kernel) -> &'static Kernel {
        let mut kernel = Some(kernel);
        let k = KERNEL.call_once(|| kernel.take().expect("taken once"));
        assert!(kernel.is_none(), "the libOS kernel is installed once");
        crate::wait::install(k.platform);
        k
    }

    /// The installed instance, if there is one yet.
    pub fn try_get() -> Option<&'static Kernel> {
        KERNEL.get()
    }

    /// What must reach storage before the process ends, however it ends: shared file
    /// mappings are written back to their files, then every filesystem is left as an
    /// unmount leaves it.
    pub fn flush_for_exit(&self) {
        crate::mm::filemap::write_back_all();
        let _ = self.vfs.unmount_all();
    }

    /// The installed instance.
    ///
    /// # Panics
    /// Before [`Kernel::install`]: a platform bug, not a guest error.
    pub fn get() -> &'static Kernel {
        KERNEL.get().expect("libOS kernel not installed")
    }
}
