//! The hosted platform: runs an unmodified static x86-64 Linux program on the libOS
//! inside one Linux process.
//!
//! The program is loaded into a reserved window of this process's address space; its
//! syscall sites are rewritten to call the libOS, and Syscall User Dispatch traps any
//! other syscall it makes. The program reaches host files and syscalls only through
//! the libOS. See `layout` for the address-space plan and `entry` for the two paths in.
//!
//! Each guest thread runs on a host thread of its own (see `thread`).

mod console;
mod entry;
mod forward;
mod futex;
mod heap;
mod host;
mod layout;
mod load;
mod namespace;
pub mod net;
mod plan_cache;
mod platform;
mod program;
mod ready;
mod regs;
mod signals;
mod stats;
mod sud;
mod thread;
mod timer_thread;

use std::convert::Infallible;
use std::fmt;
use std::io;

use libos::mm::{MemoryMap, Prot, Vma, VmaKind};
use libos::Kernel;
use unify_loader::stack::{self, auxv, AuxEntry, StackParams};

use crate::entry::{install_block, unify_enter_guest, ThreadBlock};
use crate::layout::{GUEST_HI, GUEST_LO, MMAP_BASE, STACK_SIZE, STACK_TOP};
use crate::platform::{host_map, HostedPlatform};

/// What to run and how.
#[derive(Debug)]
pub struct RunOptions {
    /// The root filesystem image (FAT32), opened read-write; mounted at `/`.
    /// The run owns it; a temporary image is unlinked by the CLI before the run starts.
    pub image: std::fs::File,
    /// The program's absolute path inside the image, e.g. b"/bin/rg".
    pub program: Vec<u8>,
    /// The guest's argv (argv[0] included), env (`KEY=VALUE` each), working directory (absolute guest path).
    pub argv: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub trace: bool,
    pub stats: bool,
    pub rewrite: bool,
    pub host_vdso: bool,
    /// `-p HOST:GUEST[/udp]`: guest ports served at other host ports (see `net::ports`).
    pub ports: Vec<net::ports::PortMap>,
}

/// Why the program could not be started. Each displays as one line.
#[derive(Debug)]
pub enum HostedError {
    Image(unify_rootfs::FsError),
    Read(String, io::Error),
    Load(String, unify_loader::LoadError),
    NoFsgsbase,
    Reserve(io::Error),
    Layout(String),
    Stack(String),
    Dispatch(io::Error),
}

impl fmt::Display for HostedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostedError::Image(e) => write!(f, "the root filesystem image: {e}"),
            HostedError::Read(p, e) => write!(f, "{p} (in the image): cannot read: {e}"),
            HostedError::Load(p, e) => write!(f, "{p} (in the image): {e}"),
            HostedError::NoFsgsbase => {
                write!(f, "this CPU or kernel does not offer FSGSBASE to user space; the hosted platform needs it")
            }
            HostedError::Reserve(e) => {
                write!(f, "cannot reserve the guest address window {GUEST_LO:#x}..{GUEST_HI:#x}: {e}")
            }
            HostedError::Layout(m) => write!(f, "{m}"),
            HostedError::Stack(m) => write!(f, "cannot build the initial stack: {m}"),
            HostedError::Dispatch(e) => write!(f, "cannot enable Syscall User Dispatch (Linux 5.11+ needed): {e}"),
        }
    }
}

impl std::error::Error for HostedError {}

static PLATFORM: HostedPlatform = HostedPlatform;

const HWCAP2_FSGSBASE: u64 = 1 << 1;

/// Loads and runs the program. On success this never returns: the guest's exit ends
/// the process with the guest's status.
pub fn run(opts: &RunOptions) -> Result<Infallible, HostedError> {
    // SAFETY: getauxval reads the process's auxiliary vector.
    let hwcap2 = unsafe { libc::getauxval(libc::AT_HWCAP2) };
    if hwcap2 & HWCAP2_FSGSBASE == 0 {
        return Err(HostedError::NoFsgsbase);
    }
    // The guest's filesystem: the image at `/` and the pseudo-filesystems; the program
    // is read from it like any other file.
    let program = String::from_utf8_lossy(&opts.program).into_owned();
    let (vfs, pseudo) = namespace::build(&PLATFORM, &opts.image, &opts.cwd)?;
    let file = vfs
        .open(&libos::vfs::At::Cwd, &opts.program, libos::file::oflags::O_RDONLY, 0)
        .map_err(|e| HostedError::Read(program.clone(), io::Error::from_raw_os_error(e as i32)))?;
    let bytes =
        program::read_program(|off, buf| file.pread(buf, off).map_err(|e| io::Error::from_raw_os_error(e as i32)))
            .map_err(|e| HostedError::Read(program.clone(), e))?;
    drop(file);
    let plan = unify_loader::parse(&bytes).map_err(|e| HostedError::Load(program.clone(), e))?;

    reserve_window()?;
    let mut mm = MemoryMap::new(GUEST_LO, GUEST_HI, MMAP_BASE);
    let image = load::load_image(&mut mm, &plan, &bytes, opts.rewrite)?;
    mm.set_brk_start(image.end);
    drop(bytes);

    let stack_lo = STACK_TOP - STACK_SIZE;
    host_map(stack_lo, STACK_SIZE, libc::PROT_READ | libc::PROT_WRITE)
        .map_err(|_| HostedError::Layout("cannot map the stack".into()))?;
    mm.record(Vma { start: stack_lo, end: STACK_TOP, prot: Prot::RW, shared: false, kind: VmaKind::Stack })
        .map_err(|_| HostedError::Layout("the stack overlaps the program".into()))?;
    let sp = build_stack(opts, &plan, image.base)?;

    // What /proc/self/exe reads: the program's absolute path in the image.
    let exe = opts.program.clone();
    let setup =
        libos::ProcessSetup { exe_path: &exe, argv: &opts.argv, env: &opts.env, console_flags: console_flags(), vfs };
    let kernel = Kernel::install(Kernel::new(&PLATFORM, mm, setup));
    libos::sync::set_yield(platform::host_yield);
    pseudo.attach(kernel);
    syscall_shim::set_trace(opts.trace);
    net::ports::set(opts.ports.clone());
    if opts.stats {
        stats::enable();
    }

    // The first guest thread runs on this host thread; its tid is the process id.
    let thread = Box::leak(Box::new(kernel.threads.leader()));
    thread.shared.set_platform_id(u64::from(kernel.identity.pid));
    let block = Box::leak(Box::new(ThreadBlock::new(std::ptr::null_mut())));
    // SAFETY: the record is leaked: it lives as long as the process.
    unsafe { block.set_thread(thread) };
    // SAFETY: the block is leaked (lives as long as the process) and is this thread's.
    unsafe { install_block(block) };
    forward::block_forwarded();
    sud::install_handler().map_err(HostedError::Dispatch)?;
    signals::install_handlers().map_err(HostedError::Dispatch)?;
    forward::start();
    let altstack = sud::AltStack::new().ok_or_else(|| HostedError::Dispatch(io::Error::last_os_error()))?;
    sud::enter_thread(Box::leak(Box::new(altstack))).map_err(HostedError::Dispatch)?;
    entry::mark_guest_started();
    // SAFETY: the image, stack and thread block are in place; SUD is on, so whatever
    // the guest does reaches the libOS. This never returns.
    unsafe { unify_enter_guest(image.entry, sp) }
}

/// Ends this process by signal `sig` as a guest killed by it ends: no core file of
/// unify's own, the default action restored, the signal unblocked in this thread and
/// raised. A shell then sees 128 + `sig`; a signal whose default action does not end a
/// process falls back to exiting with 128 + `sig`. (The VM platform's host side ends
/// unify the same way when its guest was killed.)
pub fn die_by_signal(sig: i32) -> ! {
    let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: a valid rlimit; lowering a limit needs no privilege.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
    // SAFETY: restores the default action, unblocks the signal in this thread and
    // sends it to this thread, whose default action then ends the process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
        libc::_exit(128 + sig)
    }
}

/// Reserves the whole guest window so nothing of the host lands in it.
fn reserve_window() -> Result<(), HostedError> {
    let len = (GUEST_HI - GUEST_LO) as usize;
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE;
    // SAFETY: asks for an inaccessible reservation at a fixed address and refuses to
    // replace anything already there.
    let p = unsafe { libc::mmap(GUEST_LO as *mut _, len, libc::PROT_NONE, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        return Err(HostedError::Reserve(io::Error::last_os_error()));
    }
    Ok(())
}

/// The access modes and status flags of the host's fds 0–2.
fn console_flags() -> [u32; 3] {
    // SAFETY: F_GETFL takes no pointer.
    [0, 1, 2].map(|fd| unsafe { libc::fcntl(fd, libc::F_GETFL) }.max(0) as u32)
}

/// Writes argv, envp and auxv at the top of the stack; returns the initial RSP.
fn build_stack(opts: &RunOptions, plan: &unify_loader::LoadPlan, base: u64) -> Result<u64, HostedError> {
    let mut aux = stack::auxv_for(plan, base);
    // SAFETY: getauxval/getuid/getgid have no preconditions.
    let (hwcap, hwcap2, minsig, vdso, uid, gid) = unsafe {
        (
            libc::getauxval(libc::AT_HWCAP),
            libc::getauxval(libc::AT_HWCAP2),
            libc::getauxval(51 /* AT_MINSIGSTKSZ */),
            libc::getauxval(libc::AT_SYSINFO_EHDR),
            libc::getuid(),
            libc::getgid(),
        )
    };
    aux.push(AuxEntry(auxv::AT_UID, uid.into()));
    aux.push(AuxEntry(auxv::AT_EUID, uid.into()));
    aux.push(AuxEntry(auxv::AT_GID, gid.into()));
    aux.push(AuxEntry(auxv::AT_EGID, gid.into()));
    aux.push(AuxEntry(auxv::AT_SECURE, 0));
    aux.push(AuxEntry(auxv::AT_CLKTCK, 100));
    aux.push(AuxEntry(auxv::AT_HWCAP, hwcap));
    aux.push(AuxEntry(auxv::AT_HWCAP2, hwcap2));
    if minsig != 0 {
        aux.push(AuxEntry(auxv::AT_MINSIGSTKSZ, minsig));
    }
    // The host's vDSO, which this process already maps: the guest's libc then reads
    // the clocks (clock_gettime, gettimeofday, time, getcpu) without a syscall, at
    // native speed. Its code lies in the host half, so its rare fallback syscalls (for
    // CPU-time clocks) go straight to the host kernel and report this process's values.
    if opts.host_vdso && vdso != 0 {
        aux.push(AuxEntry(auxv::AT_SYSINFO_EHDR, vdso));
        platform::note_vdso_lent();
    }
    let mut random = [0u8; 16];
    libos::Platform::fill_random(&PLATFORM, &mut random);
    let argv: Vec<&[u8]> = opts.argv.iter().map(|a| a.as_slice()).collect();
    let envp: Vec<&[u8]> = opts.env.iter().map(|a| a.as_slice()).collect();
    let execfn = opts.argv.first().map(|a| a.as_slice()).unwrap_or(b"");
    let params = StackParams { argv: &argv, envp: &envp, execfn, platform: b"x86_64", random, auxv: &aux };
    let built = stack::build(STACK_TOP, &params).map_err(|e| HostedError::Stack(format!("{e:?}")))?;
    let dst = STACK_TOP - built.bytes.len() as u64;
    // SAFETY: `[dst, STACK_TOP)` lies in the stack mapped read-write above (the builder
    // caps its size well below STACK_SIZE).
    unsafe { std::ptr::copy_nonoverlapping(built.bytes.as_ptr(), dst as *mut u8, built.bytes.len()) };
    Ok(built.sp)
}
