//! Guest threads on the hosted platform: one host thread per guest thread.
//!
//! A new guest thread runs on a *carrier*: a host thread made with `pthread_create`
//! (detached), whose own stack is the libOS stack for that guest thread's syscalls and
//! whose own TLS is the host TLS the libOS loads when it calls libc or Rust std. A raw
//! host `clone` would give a thread with no host TLS at all, and every platform path
//! that calls libc (errno) or std (thread-locals) would then corrupt memory. The guest
//! brings its own stack and TLS in the `clone` arguments; the carrier only ever holds
//! them in registers.
//!
//! The carrier installs its [`ThreadBlock`] at GS, records its host tid, unblocks host
//! signals (the parent may have been serving a SIGSYS, with every signal blocked), gives
//! itself a SIGSYS alternate stack and turns Syscall User Dispatch on (it is per
//! thread), then jumps into the guest with the parent's registers (`regs`). When the
//! guest thread exits, the libOS has already done what Linux does at thread exit
//! (robust futexes, `clear_child_tid`: the joiner may free the guest stack from then
//! on, which the carrier no longer touches); [`exit_thread`] returns to the carrier's
//! start function, which frees the block and returns, so glibc reclaims the host
//! thread (its stack goes back to glibc's cache).
//!
//! The first guest thread runs on the process's main thread; when it exits alone (not
//! `exit_group`) with others still running, its host thread ends with a raw `exit`, as
//! a Linux main thread does, and the process goes on.

use std::ffi::c_void;
use std::mem::MaybeUninit;

use libos::thread::ThreadStart;
use libos::{Errno, Thread};

use crate::entry::{self, ensure_host_tls, install_block, ThreadBlock};
use crate::host::raw_syscall4;
use crate::regs::{caller_regs, child_regs, unify_thread_finish, unify_thread_run};
use crate::sud;

/// The host stack of a carrier: the libOS stack its guest thread's syscalls run on.
/// Only touched pages cost memory; glibc caches stacks of finished threads.
const CARRIER_STACK: usize = 2 << 20;

/// Starts a host thread that runs the guest thread `start` describes.
pub fn spawn(start: ThreadStart) -> Result<(), Errno> {
    ensure_host_tls();
    let parent = entry::block();
    // SAFETY: called while serving the parent's `clone`, on the parent's thread.
    let (regs, site_rsp) = unsafe { caller_regs(parent) };
    let fast_path = parent.sigsys_uctx.is_null();
    let regs = child_regs(regs, site_rsp, start.stack, start.thread.fs_base, fast_path);
    let thread = Box::into_raw(Box::new(start.thread));
    let mut block = Box::new(ThreadBlock::new(thread));
    block.start = regs;
    let block = Box::into_raw(block);
    if let Err(e) = create_carrier(block) {
        // SAFETY: the carrier was not created, so both boxes are still only ours.
        unsafe {
            drop(Box::from_raw(block));
            drop(Box::from_raw(thread));
        }
        return Err(e);
    }
    Ok(())
}

fn create_carrier(block: *mut ThreadBlock) -> Result<(), Errno> {
    let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: `attr` is initialised by pthread_attr_init before any other use and
    // destroyed after pthread_create has copied what it needs.
    unsafe {
        if libc::pthread_attr_init(attr.as_mut_ptr()) != 0 {
            return Err(Errno::EAGAIN);
        }
        let attr = attr.assume_init_mut();
        libc::pthread_attr_setdetachstate(attr, libc::PTHREAD_CREATE_DETACHED);
        libc::pthread_attr_setstacksize(attr, CARRIER_STACK);
        let mut id: libc::pthread_t = 0;
        let r = libc::pthread_create(&mut id, attr, carrier_main, block.cast());
        libc::pthread_attr_destroy(attr);
        match r {
            0 => Ok(()),
            libc::EAGAIN => Err(Errno::EAGAIN),
            _ => Err(Errno::ENOMEM),
        }
    }
}

/// The carrier's start function; `arg` is its block, handed over by [`spawn`].
extern "C" fn carrier_main(arg: *mut c_void) -> *mut c_void {
    let block = arg.cast::<ThreadBlock>();
    // SAFETY: `spawn` gave this thread sole ownership of the block, which lives until
    // it is freed below.
    unsafe { install_block(block) };
    // SAFETY: the block's `thread` is this guest thread's record, ours alone too.
    let shared = unsafe { (*(*block).thread).shared.clone() };
    // SAFETY: gettid takes no arguments.
    let host_tid = unsafe { raw_syscall4(libc::SYS_gettid, 0, 0, 0, 0) };
    shared.set_platform_id(host_tid as u64);
    drop(shared);
    let altstack = sud::AltStack::new();
    if let Err(e) = sud::enter_thread(&altstack) {
        eprintln!("unify: cannot prepare a new thread for Syscall User Dispatch: {e}");
        std::process::abort();
    }
    // SAFETY: the block is installed at GS and `start` holds the state the parent
    // built; this returns when the guest thread exits (`exit_thread`).
    unsafe { unify_thread_run(&raw const (*block).start) };
    sud::leave_thread();
    drop(altstack);
    entry::uninstall_block();
    // SAFETY: the guest thread has ended and the block is no longer installed: nothing
    // else refers to either allocation.
    unsafe {
        let thread = (*block).thread;
        drop(Box::from_raw(block));
        drop(Box::<Thread>::from_raw(thread));
    }
    std::ptr::null_mut()
}

/// Ends the calling guest thread (the libOS has done its part).
pub fn exit_thread(status: i32) -> ! {
    let block = entry::block();
    if block.carrier_rsp != 0 {
        ensure_host_tls();
        // SAFETY: this thread is a carrier inside `unify_thread_run`; the frames
        // abandoned (the syscall being served) hold no locks and own nothing.
        unsafe { unify_thread_finish() }
    }
    // The first thread: end its host thread only, as Linux ends a main thread that
    // calls exit(2) while others run.
    loop {
        // SAFETY: exit takes no pointers and ends this thread.
        unsafe { raw_syscall4(libc::SYS_exit, status as u64, 0, 0, 0) };
    }
}
