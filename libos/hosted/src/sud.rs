//! Syscall User Dispatch: the catch-all for guest syscalls that were not rewritten.

use std::io;

use crate::entry::unify_sigsys_entry;
use crate::layout::{GUEST_HI, USER_TOP};

const PR_SET_SYSCALL_USER_DISPATCH: i32 = 59;
const PR_SYS_DISPATCH_ON: u64 = 1;
/// The libOS's alternate signal stack, where SIGSYS frames land.
const ALT_STACK_SIZE: usize = 1 << 20;

/// Installs the SIGSYS handler on a fresh alternate stack for this thread.
pub fn install_handler() -> io::Result<()> {
    // SAFETY: an anonymous private mapping in the host half (no address requested).
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            ALT_STACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let ss = libc::stack_t { ss_sp: stack, ss_flags: 0, ss_size: ALT_STACK_SIZE };
    // SAFETY: `ss` describes the mapping just made, which is never freed.
    if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: all-zero is a valid sigaction; the fields are set below.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = unify_sigsys_entry as *const () as usize;
    sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
    // SAFETY: `sa.sa_mask` is a valid sigset; block everything while serving a syscall.
    unsafe { libc::sigfillset(&mut sa.sa_mask) };
    // SAFETY: installs a handler whose entry is the assembly in `entry`.
    if unsafe { libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Gives the signals a guest fault raises their default action, so a guest crash ends
/// the process as it would natively rather than entering the host's Rust handlers
/// (which would run with the guest's TLS).
pub fn default_fault_signals() {
    for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGTRAP] {
        // SAFETY: restores a default disposition.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}

/// Turns dispatch on for this thread: from now on every syscall made outside the host
/// half of the address space raises SIGSYS.
pub fn enable() -> io::Result<()> {
    // SAFETY: prctl with integer arguments; the selector is NULL (always dispatch
    // outside the allowed range).
    let r =
        unsafe { libc::prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, GUEST_HI, USER_TOP - GUEST_HI, 0u64) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
