//! The host thread that fires the guest's timers.
//!
//! It is started at the first [`Platform::timers_changed`](libos::Platform) (the first
//! timer armed), is never a guest thread (no [`crate::entry::ThreadBlock`], GS base 0,
//! no Syscall User Dispatch) and blocks every host signal, so that signals the host
//! sends the process (Ctrl-C, the libOS's own wake-ups) go to guest threads. It loops:
//! [`libos::Kernel::run_timers`] fires what is due and says how long until the next
//! deadline; the thread then sleeps that long in a host futex wait on a word that
//! `timers_changed` bumps (and wakes), so a nearer deadline set meanwhile is not
//! missed. Every deadline is waited for as time to go on the host's monotonic clock,
//! so a change of the host's realtime clock is noticed only at the next wake-up.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Once;

use crate::entry::ensure_host_tls;
use crate::host;

/// Bumped whenever the earliest deadline may have moved.
static CHANGED: AtomicU32 = AtomicU32::new(0);
static STARTED: AtomicBool = AtomicBool::new(false);
static START: Once = Once::new();

/// A timer deadline may have moved: start the thread if need be, and wake it.
pub fn timers_changed() {
    if !STARTED.load(Ordering::Acquire) {
        ensure_host_tls();
        START.call_once(start);
    }
    CHANGED.fetch_add(1, Ordering::Release);
    // SAFETY: the word is a static u32; FUTEX_WAKE only looks at its address. A raw
    // syscall touches no TLS.
    unsafe {
        host::raw_syscall4(
            libc::SYS_futex,
            CHANGED.as_ptr() as u64,
            (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as u64,
            1,
            0,
        )
    };
}

/// Starts the thread with every signal blocked (it inherits the mask it is created
/// with, so no signal can reach it even before it runs).
fn start() {
    // SAFETY: sigset_t is plain data; sigfillset fills it; pthread_sigmask changes only
    // the calling thread's mask, and the old mask is put back right after the spawn.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let spawned = std::thread::Builder::new().name("unify-timers".into()).spawn(run);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if let Err(e) = spawned {
            // Timers then never fire: say so once rather than fail the syscall that
            // armed one.
            eprintln!("unify: cannot start the timer thread ({e}); guest timers will not fire");
            return;
        }
    }
    STARTED.store(true, Ordering::Release);
}

fn run() {
    loop {
        let seen = CHANGED.load(Ordering::Acquire);
        let timeout = libos::Kernel::try_get().and_then(|k| k.run_timers());
        wait(seen, timeout);
    }
}

/// Sleeps until `CHANGED` moves from `seen` or `timeout_ns` passes.
fn wait(seen: u32, timeout_ns: Option<u64>) {
    let ts = timeout_ns
        .map(|ns| libc::timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 });
    let ts_ptr = ts.as_ref().map_or(0, |t| t as *const libc::timespec as u64);
    // SAFETY: the word is a static u32 and `ts_ptr` null or a timespec on this stack.
    // Every outcome (woken, word changed, timed out) goes back to `run`, which looks.
    unsafe {
        host::raw_syscall4(
            libc::SYS_futex,
            CHANGED.as_ptr() as u64,
            (libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG) as u64,
            u64::from(seen),
            ts_ptr,
        )
    };
}
