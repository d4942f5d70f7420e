//! Helpers for the signal, fault and timer probes: installing handlers through glibc's
//! `sigaction` (so the program gets glibc's own `SA_RESTORER` trampoline, as real programs
//! do), raw masks as 64-bit kernel sets, raw `kill`/`tgkill`, reading the kernel's
//! `siginfo_t` by its x86-64 layout, and names for signals, masks and `si_code`s.
//!
//! Handlers only record into atomics; the probes print after the fact, from `main`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::{check, syscall6, Errno};

pub type Handler = extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void);

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGUSR1: i32 = 10;
pub const SIGSEGV: i32 = 11;
pub const SIGUSR2: i32 = 12;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGWINCH: i32 = 28;
pub const SIGSYS: i32 = 31;

pub const SA_SIGINFO: i32 = 0x4;
pub const SA_ONSTACK: i32 = 0x0800_0000;
pub const SA_RESTART: i32 = 0x1000_0000;
pub const SA_NODEFER: i32 = 0x4000_0000;
pub const SA_RESETHAND: i32 = 0x8000_0000_u32 as i32;

pub const SIG_BLOCK: usize = 0;
pub const SIG_UNBLOCK: usize = 1;
pub const SIG_SETMASK: usize = 2;

pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;
pub const SS_AUTODISARM: i32 = 1 << 31;

/// `si_code` values of signals sent by processes and timers.
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TIMER: i32 = -2;
pub const SI_TKILL: i32 = -6;

/// The bit of `sig` in a 64-bit kernel signal set.
pub const fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

pub fn sig_name(sig: i32) -> String {
    let n = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        17 => "SIGCHLD",
        18 => "SIGCONT",
        19 => "SIGSTOP",
        28 => "SIGWINCH",
        31 => "SIGSYS",
        n => return format!("sig{n}"),
    };
    n.to_string()
}

/// `[SIGUSR1, SIGUSR2]`: the signals in a 64-bit set.
pub fn mask_names(mask: u64) -> String {
    let list: Vec<String> = (1..=64).filter(|&s| mask & bit(s) != 0).map(sig_name).collect();
    format!("[{}]", list.join(", "))
}

pub fn si_code_name(code: i32) -> String {
    match code {
        SI_USER => "SI_USER".into(),
        SI_KERNEL => "SI_KERNEL".into(),
        SI_QUEUE => "SI_QUEUE".into(),
        SI_TIMER => "SI_TIMER".into(),
        -3 => "SI_MESGQ".into(),
        -4 => "SI_ASYNCIO".into(),
        -5 => "SI_SIGIO".into(),
        SI_TKILL => "SI_TKILL".into(),
        c => format!("si_code {c}"),
    }
}

/// A glibc `sigset_t` holding the signals of a 64-bit kernel set.
pub fn sigset(mask: u64) -> libc::sigset_t {
    // SAFETY: sigset_t is plain integers; sigemptyset/sigaddset write only inside it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in 1..=64 {
            if mask & bit(s) != 0 {
                libc::sigaddset(&mut set, s);
            }
        }
        set
    }
}

/// Installs `handler` for `sig` with glibc's `sigaction` (which adds SA_RESTORER and its
/// own restorer). `flags` are added to nothing: pass SA_SIGINFO to get the 3-argument form.
pub fn install(sig: i32, handler: Handler, flags: i32, mask: u64) {
    // SAFETY: a zeroed sigaction is valid; the handler is an extern "C" fn of the
    // SA_SIGINFO shape that only touches atomics (async-signal-safe).
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = handler as usize;
        act.sa_flags = flags;
        act.sa_mask = sigset(mask);
        let r = libc::sigaction(sig, &act, std::ptr::null_mut());
        assert_eq!(r, 0, "sigaction({sig})");
    }
}

/// Sets SIG_DFL (0) or SIG_IGN (1).
pub fn set_disposition(sig: i32, disp: usize) {
    // SAFETY: as in `install`, with no handler.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = disp;
        let r = libc::sigaction(sig, &act, std::ptr::null_mut());
        assert_eq!(r, 0, "sigaction({sig})");
    }
}

pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;

/// The current action of `sig`: (handler address, flags).
pub fn action(sig: i32) -> (usize, i32) {
    // SAFETY: sigaction writes one `struct sigaction` into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old);
        (old.sa_sigaction, old.sa_flags)
    }
}

/// "SIG_DFL", "SIG_IGN" or "handler".
pub fn disposition(sig: i32) -> &'static str {
    match action(sig).0 {
        SIG_DFL => "SIG_DFL",
        SIG_IGN => "SIG_IGN",
        _ => "handler",
    }
}

/// Raw rt_sigprocmask on the calling thread; returns the previous mask.
pub fn sigprocmask(how: usize, set: Option<u64>) -> u64 {
    let mut old = 0u64;
    let setv = set.unwrap_or(0);
    let setp = if set.is_some() { &setv as *const u64 as usize } else { 0 };
    // SAFETY: `setp` is NULL or an 8-byte set; `old` is an 8-byte set.
    let r = unsafe { syscall6(libc::SYS_rt_sigprocmask as usize, how, setp, &mut old as *mut u64 as usize, 8, 0, 0) };
    check(r).expect("rt_sigprocmask");
    old
}

/// The calling thread's mask (async-signal-safe: one raw syscall).
pub fn current_mask() -> u64 {
    sigprocmask(SIG_BLOCK, None)
}

pub fn block(mask: u64) -> u64 {
    sigprocmask(SIG_BLOCK, Some(mask))
}

pub fn unblock(mask: u64) -> u64 {
    sigprocmask(SIG_UNBLOCK, Some(mask))
}

pub fn set_mask(mask: u64) -> u64 {
    sigprocmask(SIG_SETMASK, Some(mask))
}

/// Raw rt_sigpending: what is pending for the thread or the process and blocked.
pub fn pending() -> u64 {
    let mut set = 0u64;
    // SAFETY: the kernel writes one 8-byte set.
    let r = unsafe { syscall6(libc::SYS_rt_sigpending as usize, &mut set as *mut u64 as usize, 8, 0, 0, 0, 0) };
    check(r).expect("rt_sigpending");
    set
}

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall6(libc::SYS_getpid as usize, 0, 0, 0, 0, 0, 0) as i32 }
}

pub fn gettid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall6(libc::SYS_gettid as usize, 0, 0, 0, 0, 0, 0) as i32 }
}

pub fn getuid() -> u32 {
    // SAFETY: no arguments.
    unsafe { syscall6(libc::SYS_getuid as usize, 0, 0, 0, 0, 0, 0) as u32 }
}

/// Raw kill(2).
pub fn kill(pid: i32, sig: i32) -> Result<usize, Errno> {
    // SAFETY: no pointers.
    check(unsafe { syscall6(libc::SYS_kill as usize, pid as isize as usize, sig as usize, 0, 0, 0, 0) })
}

/// Raw tgkill(2).
pub fn tgkill(pid: i32, tid: i32, sig: i32) -> Result<usize, Errno> {
    // SAFETY: no pointers.
    check(unsafe {
        syscall6(libc::SYS_tgkill as usize, pid as isize as usize, tid as isize as usize, sig as usize, 0, 0, 0)
    })
}

/// The kernel's `siginfo_t` read by its x86-64 layout (128 bytes: signo, errno, code, then
/// a union at offset 16).
#[derive(Clone, Copy, Debug, Default)]
pub struct Info {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    /// kill/rt/sigchld: si_pid; timers: si_timerid.
    pub pid: i32,
    /// kill/rt: si_uid; timers: si_overrun.
    pub uid: u32,
    /// rt/timers: si_value (sival_int / sival_ptr).
    pub value: u64,
    /// faults: si_addr (the same 8 bytes as pid+uid).
    pub addr: u64,
}

impl Info {
    /// # Safety
    ///
    /// `p` must point to a readable 128-byte siginfo.
    pub unsafe fn read(p: *const libc::siginfo_t) -> Info {
        let b = p as *const u8;
        // SAFETY: all offsets are inside the 128-byte siginfo the caller vouches for.
        unsafe {
            let i32_at = |o: usize| (b.add(o) as *const i32).read_unaligned();
            let u64_at = |o: usize| (b.add(o) as *const u64).read_unaligned();
            Info {
                signo: i32_at(0),
                errno: i32_at(4),
                code: i32_at(8),
                pid: i32_at(16),
                uid: i32_at(20) as u32,
                value: u64_at(24),
                addr: u64_at(16),
            }
        }
    }

    /// A 128-byte siginfo for rt_sigqueueinfo: SI_QUEUE from this process with `value`.
    pub fn queue_bytes(sig: i32, value: u64) -> [u64; 16] {
        let mut b = [0u64; 16];
        b[0] = sig as u32 as u64; // si_signo, si_errno 0
        b[1] = SI_QUEUE as u32 as u64; // si_code
        b[2] = (getpid() as u32 as u64) | ((getuid() as u64) << 32);
        b[3] = value;
        b
    }
}

/// Raw rt_sigqueueinfo to this process: `sig` with `value`, si_code SI_QUEUE.
pub fn queue_self(sig: i32, value: u64) -> Result<usize, Errno> {
    let info = Info::queue_bytes(sig, value);
    // SAFETY: the kernel reads 128 bytes of `info`.
    check(unsafe {
        syscall6(libc::SYS_rt_sigqueueinfo as usize, getpid() as usize, sig as usize, info.as_ptr() as usize, 0, 0, 0)
    })
}

/// `stack_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackT {
    pub sp: usize,
    pub flags: i32,
    pub _pad: i32,
    pub size: usize,
}

/// Raw sigaltstack: sets `new` (if any), returns (result, old).
pub fn sigaltstack(new: Option<&StackT>) -> (isize, StackT) {
    let mut old = StackT::default();
    let newp = new.map_or(0, |n| n as *const StackT as usize);
    // SAFETY: `new` is NULL or a stack_t; `old` is a stack_t. The caller keeps any stack it
    // installs mapped while it is installed.
    let r = unsafe { syscall6(libc::SYS_sigaltstack as usize, newp, &mut old as *mut StackT as usize, 0, 0, 0, 0) };
    (r, old)
}

/// An anonymous read-write mapping of `len` bytes that is never unmapped (alt stacks).
pub fn leak_map(len: usize) -> usize {
    // SAFETY: a fresh private anonymous mapping changes no existing memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap");
    p as usize
}

/// Polls `f` every 2 ms until it holds or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, f: impl Fn() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Sends `sig` to thread `tid` every `period` until `done` is set (for blocking calls that
/// must be interrupted: a signal that arrives just before the call starts is not lost, the
/// next one interrupts it). Returns the sender thread's handle.
pub fn pester(tid: i32, sig: i32, period: Duration, done: &'static AtomicBool) -> std::thread::JoinHandle<()> {
    let pid = getpid();
    std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(10);
        while !done.load(Ordering::SeqCst) && Instant::now() < end {
            std::thread::sleep(period);
            if done.load(Ordering::SeqCst) {
                break;
            }
            let _ = tgkill(pid, tid, sig);
        }
    })
}
