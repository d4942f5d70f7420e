//! Syscall User Dispatch: the catch-all for guest syscalls that were not rewritten.

use std::io;
use std::sync::OnceLock;

use crate::entry::unify_sigsys_entry;
use crate::layout::{GUEST_HI, USER_TOP};

const PR_SET_SYSCALL_USER_DISPATCH: i32 = 59;
const PR_SYS_DISPATCH_ON: u64 = 1;
/// A thread's alternate signal stack, where the kernel writes SIGSYS frames and the
/// libOS then serves the syscall (see `entry`), and where the handlers of `signals`
/// run. Only the pages touched take memory.
const ALT_STACK_SIZE: usize = 1 << 20;

/// The host signal mask the process started with: every guest thread's host thread
/// runs with it.
static BASE_MASK: OnceLock<libc::sigset_t> = OnceLock::new();

/// A page left inaccessible below the alternate stack, so an overflow faults.
const GUARD: usize = 4096;

/// Memory for one thread's alternate signal stack: its own mapping (not the heap),
/// with a guard page below; only the pages touched take memory.
pub struct AltStack {
    base: *mut libc::c_void,
}

impl AltStack {
    /// Maps a new stack; `None` if the host has no room.
    pub fn new() -> Option<AltStack> {
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK;
        // SAFETY: a fresh anonymous mapping at an address of the host's choosing (in
        // the host half: the guest window is reserved), then its lowest page made
        // inaccessible.
        unsafe {
            let base = libc::mmap(std::ptr::null_mut(), GUARD + ALT_STACK_SIZE, libc::PROT_NONE, flags, -1, 0);
            if base == libc::MAP_FAILED {
                return None;
            }
            let stack = base.cast::<u8>().add(GUARD).cast();
            if libc::mprotect(stack, ALT_STACK_SIZE, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                libc::munmap(base, GUARD + ALT_STACK_SIZE);
                return None;
            }
            Some(AltStack { base })
        }
    }

    fn stack(&self) -> *mut libc::c_void {
        // SAFETY: the stack starts one guard page into the mapping.
        unsafe { self.base.cast::<u8>().add(GUARD).cast() }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; the thread left it (`leave_thread`).
        unsafe { libc::munmap(self.base, GUARD + ALT_STACK_SIZE) };
    }
}

/// Installs the process-wide SIGSYS handler and records the base signal mask.
pub fn install_handler() -> io::Result<()> {
    // SAFETY: all-zero is a valid sigset; sigprocmask with a null new set only reads.
    let mut mask: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, std::ptr::null(), &mut mask) };
    let _ = BASE_MASK.set(mask);
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

/// Prepares the calling host thread to run guest code: `stack` becomes its SIGSYS
/// alternate stack (it must outlive the guest thread: see [`leave_thread`]), its signal
/// mask the process's base mask, and Syscall User Dispatch is turned on for it.
pub fn enter_thread(stack: &AltStack) -> io::Result<()> {
    let ss = libc::stack_t { ss_sp: stack.stack(), ss_flags: 0, ss_size: ALT_STACK_SIZE };
    // SAFETY: `ss` describes memory the caller keeps alive while the thread runs guest
    // code, and takes away with `leave_thread` before freeing it.
    if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    restore_base_mask();
    enable()
}

/// Gives the calling thread the process's base signal mask again.
pub fn restore_base_mask() {
    if let Some(mask) = BASE_MASK.get() {
        // SAFETY: a valid sigset; only this thread's mask changes.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, mask, std::ptr::null_mut()) };
    }
}

/// The guest thread on this host thread has ended: no alternate stack any more.
pub fn leave_thread() {
    let ss = libc::stack_t { ss_sp: std::ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
    // SAFETY: disabling needs no memory; this thread is not on the alternate stack.
    unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) };
}

/// Turns dispatch on for this thread (it is a per-thread setting): from now on every
/// syscall made outside the host half of the address space raises SIGSYS.
fn enable() -> io::Result<()> {
    // SAFETY: prctl with integer arguments; the selector is NULL (always dispatch
    // outside the allowed range).
    let r =
        unsafe { libc::prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, GUEST_HI, USER_TOP - GUEST_HI, 0u64) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
