//! Signals sent to unify from outside — Ctrl-C's SIGINT, a `kill` of the unify process
//! — reach the guest as the same signals, sent to the guest process.
//!
//! Every host thread blocks them ([`block_forwarded`] runs before any other thread
//! exists, so all inherit the mask); one helper thread, which runs no guest code,
//! takes them with `sigwaitinfo` and sends each to the guest with the sender's
//! `si_code`, pid and uid. Whatever the guest's action says then happens: its handler
//! runs, or its default ends the guest (and unify, with the same status).

use libos::siginfo::SigInfo;
use libos::sigsend::SignalTarget;
use libos::Kernel;

/// The signals forwarded: those a user or a supervisor sends to a process.
const FORWARDED: [i32; 7] =
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2, libc::SIGWINCH];

fn forwarded_set() -> libc::sigset_t {
    // SAFETY: all-zero is a valid sigset, then filled by the libc calls.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset.
    unsafe {
        libc::sigemptyset(&mut set);
        for sig in FORWARDED {
            libc::sigaddset(&mut set, sig);
        }
    }
    set
}

/// Blocks the forwarded signals on the calling thread (and so on every thread it
/// creates later).
pub fn block_forwarded() {
    let set = forwarded_set();
    // SAFETY: a valid sigset; only this thread's mask changes.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

/// Starts the helper thread that takes the forwarded signals.
pub fn start() {
    let spawned = std::thread::Builder::new().name("unify-signals".into()).stack_size(256 << 10).spawn(|| {
        crate::entry::mark_host_thread();
        // Nothing but the forwarded signals (waited for) reaches this thread.
        // SAFETY: all-zero is a valid sigset; sigfillset fills it.
        let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid sigsets; only this thread's mask changes.
        unsafe {
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
        }
        let set = forwarded_set();
        loop {
            // SAFETY: all-zero is a valid siginfo for the kernel to fill.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: valid set and out-pointer.
            let sig = unsafe { libc::sigwaitinfo(&set, &mut info) };
            if sig <= 0 {
                continue;
            }
            let Some(kernel) = Kernel::try_get() else { continue };
            // SAFETY: si_pid and si_uid are meaningful for signals sent by kill and
            // for the terminal's (zero there).
            let (pid, uid) = unsafe { (info.si_pid(), info.si_uid()) };
            let sent = SigInfo::sent(sig as u32, info.si_code, pid as u32, uid);
            let _ = kernel.send_signal(SignalTarget::Process, sent);
        }
    });
    if let Err(e) = spawned {
        eprintln!("unify: cannot start the thread that forwards signals to the guest: {e}");
    }
}
