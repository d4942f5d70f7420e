//! Signals sent to unify while a VM runs are the guest's: they are forwarded to the
//! kernel as control lines (`signal N`) instead of acting on unify.
//!
//! The forwarded signals are blocked in the thread that starts the VM before any relay
//! thread exists, so every thread inherits the mask and one thread takes them with
//! `sigwait`. QEMU gets an empty mask (`qemu.rs`) and runs in a process group of its own,
//! so a terminal's Ctrl-C reaches unify only, never QEMU directly.

use std::sync::Arc;

use super::relay::Control;

/// What is forwarded: what a user or a supervisor sends to end, interrupt or inform a
/// program. Others keep their default action on unify (SIGKILL and SIGSTOP cannot be
/// caught; a SIGKILL of unify takes QEMU with it through PR_SET_PDEATHSIG).
pub const FORWARDED: &[libc::c_int] =
    &[libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2, libc::SIGWINCH];

/// The forwarded signals as a set.
pub struct Blocked(libc::sigset_t);

/// Blocks the forwarded signals in this thread (and so in every thread started after).
/// One that arrives from now on stays pending until [`forward`] takes it.
pub fn block() -> Blocked {
    // SAFETY: a zeroed sigset_t is valid storage for sigemptyset, which initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t; the calls only write to it and to this
    // thread's signal mask.
    unsafe {
        libc::sigemptyset(&mut set);
        for &sig in FORWARDED {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    Blocked(set)
}

/// Starts the thread that sends `signal N` for each forwarded signal unify receives.
/// It lives until unify exits.
pub fn forward(blocked: Blocked, control: Arc<Control>) {
    std::thread::spawn(move || loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: both pointers are valid; the set holds only blocked signals.
        if unsafe { libc::sigwait(&blocked.0, &mut sig) } == 0 {
            control.send(&format!("signal {sig}"));
        }
    });
}
