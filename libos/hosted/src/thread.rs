//! Guest threads on the hosted platform: one host thread per guest thread.
//!
//! A new guest thread runs on a *carrier*: a host thread made with `pthread_create`
//! (detached), whose own stack is the libOS stack for the guest thread's syscalls and
//! whose own TLS is the host TLS the libOS loads when it calls libc or Rust std. A raw
//! host `clone` would give a thread with no host TLS at all, and every platform path
//! that calls libc (errno) or std (thread-locals) would then corrupt memory. The guest
//! brings its own stack and TLS in the `clone` arguments; the carrier only ever holds
//! them in registers.
//!
//! A carrier installs its [`ThreadBlock`] at GS, gives itself a SIGSYS alternate stack,
//! sets the process's base signal mask (its creator may have been serving a SIGSYS,
//! with every signal blocked) and turns Syscall User Dispatch on (it is per thread).
//! Then, for each guest thread it is given, it records its host tid for the libOS and
//! jumps into the guest with the registers the parent had at `clone` (`regs`).
//!
//! When the guest thread exits, the libOS has already done what Linux does at thread
//! exit (robust futexes, `clear_child_tid`: the joiner may free the guest stack from
//! then on, which the carrier no longer touches); [`exit_thread`] returns to the
//! carrier's loop. The carrier then waits, idle, for the next `clone` — up to
//! [`IDLE_MAX`] of them wait; any other carrier ends, and glibc reclaims the host thread
//! (its stack goes back to glibc's cache). Reusing carriers takes host thread creation,
//! SUD and signal-stack setup and host thread teardown off every guest `clone`: a
//! spawn is a futex wake of an idle carrier.
//!
//! The first guest thread runs on the process's main thread; when it exits alone (not
//! `exit_group`) with others still running, its host thread ends with a raw `exit`, as
//! a Linux main thread does, and the process goes on.

use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use libos::thread::ThreadStart;
use libos::{Errno, Thread};

use crate::entry::{self, ensure_host_tls, install_block, ThreadBlock};
use crate::host::{raw_syscall4, raw_syscall6};
use crate::regs::{caller_regs, child_regs, unify_thread_finish, unify_thread_run, GuestRegs};
use crate::sud;

/// The host stack of a carrier: the libOS stack its guest threads' syscalls run on.
/// Only touched pages cost memory; glibc caches stacks of finished threads.
const CARRIER_STACK: usize = 2 << 20;
/// Idle carriers kept for later `clone`s. Live host threads never exceed live guest
/// threads plus this.
pub const IDLE_MAX: usize = 32;

/// A guest thread for a carrier to run.
struct Job {
    thread: Box<Thread>,
    regs: GuestRegs,
}

/// A carrier's mailbox, shared with whoever hands it a job.
struct Carrier {
    /// 1 when `job` holds a job, 0 while the carrier waits for one.
    ready: AtomicU32,
    job: UnsafeCell<Option<Job>>,
}

// SAFETY: `job` is written only by the thread that took the carrier out of `IDLE` (or
// created it) before it sets `ready` (release), and read by the carrier after it sees
// `ready` (acquire): never at the same time.
unsafe impl Sync for Carrier {}

/// Carriers waiting for a job (addresses of leaked `Carrier`s, owned by their threads).
static IDLE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Carriers created over the process's life.
static CREATED: AtomicU64 = AtomicU64::new(0);

/// Host threads made for guest threads so far, and how many of them wait idle now.
pub fn carrier_counts() -> (u64, usize) {
    (CREATED.load(Ordering::Relaxed), IDLE.lock().unwrap_or_else(|e| e.into_inner()).len())
}

/// Starts the guest thread `start` describes: on an idle carrier if there is one, else
/// on a new host thread.
pub fn spawn(start: ThreadStart) -> Result<(), Errno> {
    ensure_host_tls();
    let parent = entry::block();
    // SAFETY: called while serving the parent's `clone`, on the parent's thread.
    let regs = unsafe { caller_regs(parent) };
    let regs = child_regs(regs, start.stack, start.thread.fs_base);
    let job = Job { thread: Box::new(start.thread), regs };
    let idle = IDLE.lock().unwrap_or_else(|e| e.into_inner()).pop();
    match idle {
        Some(addr) => {
            // SAFETY: an idle carrier's mailbox lives as long as its thread, which
            // waits for `ready` and touches `job` only after it is set.
            let carrier = unsafe { &*(addr as *const Carrier) };
            // SAFETY: see `Carrier`'s Sync: the carrier is not reading `job` now.
            unsafe { *carrier.job.get() = Some(job) };
            carrier.ready.store(1, Ordering::Release);
            futex(&carrier.ready, libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1);
            Ok(())
        }
        None => create_carrier(job),
    }
}

fn create_carrier(job: Job) -> Result<(), Errno> {
    let carrier = Box::into_raw(Box::new(Carrier { ready: AtomicU32::new(1), job: UnsafeCell::new(Some(job)) }));
    let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: `attr` is initialised by pthread_attr_init before any other use and
    // destroyed after pthread_create has copied what it needs. The carrier box goes to
    // the new thread, or is freed here if there is none.
    unsafe {
        if libc::pthread_attr_init(attr.as_mut_ptr()) != 0 {
            drop(Box::from_raw(carrier));
            return Err(Errno::EAGAIN);
        }
        let attr = attr.assume_init_mut();
        libc::pthread_attr_setdetachstate(attr, libc::PTHREAD_CREATE_DETACHED);
        libc::pthread_attr_setstacksize(attr, CARRIER_STACK);
        let mut id: libc::pthread_t = 0;
        let r = libc::pthread_create(&mut id, attr, carrier_main, carrier.cast());
        libc::pthread_attr_destroy(attr);
        if r != 0 {
            drop(Box::from_raw(carrier));
            return Err(if r == libc::EAGAIN { Errno::EAGAIN } else { Errno::ENOMEM });
        }
    }
    CREATED.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// A carrier's life: set up once, then run guest threads until it is not needed.
extern "C" fn carrier_main(arg: *mut c_void) -> *mut c_void {
    let carrier = arg.cast::<Carrier>();
    let block = Box::into_raw(Box::new(ThreadBlock::new(std::ptr::null_mut())));
    // SAFETY: the block is this thread's alone until it is freed below.
    unsafe { install_block(block) };
    let Some(altstack) = sud::AltStack::new() else {
        eprintln!("unify: cannot map a signal stack for a new host thread");
        std::process::abort();
    };
    if let Err(e) = sud::enter_thread(&altstack) {
        eprintln!("unify: cannot prepare a host thread for Syscall User Dispatch: {e}");
        std::process::abort();
    }
    // SAFETY: gettid takes no arguments.
    let host_tid = unsafe { raw_syscall4(libc::SYS_gettid, 0, 0, 0, 0) } as u64;
    // SAFETY: `ready` was seen set (by the creator, or in `wait_for_job`), so the job
    // is there and nobody else touches the mailbox now.
    while let Some(job) = unsafe { (*(*carrier).job.get()).take() } {
        job.thread.shared.set_platform_id(host_tid);
        // SAFETY: the block is installed at GS and owned by this thread.
        unsafe {
            (*block).set_thread(Box::into_raw(job.thread));
            (*block).start = job.regs;
            // Returns when the guest thread exits (`exit_thread`).
            unify_thread_run(&raw const (*block).start);
        }
        // SAFETY: the guest thread has ended: its record is no longer used.
        unsafe { finish_guest_thread(&mut *block) };
        // SAFETY: the mailbox lives as long as this thread.
        if !wait_for_job(unsafe { &*carrier }) {
            break;
        }
    }
    sud::leave_thread();
    drop(altstack);
    entry::uninstall_block();
    // SAFETY: the block is no longer installed and the carrier left the idle list:
    // nothing else refers to either.
    unsafe {
        drop(Box::from_raw(block));
        drop(Box::from_raw(carrier));
    }
    std::ptr::null_mut()
}

/// Clears what the ended guest thread left in the block.
///
/// # Safety
/// The block's guest thread has ended (this thread returned from `unify_thread_run`).
unsafe fn finish_guest_thread(block: &mut ThreadBlock) {
    if !block.sigsys_uctx.is_null() {
        // It ended from the SIGSYS path: the handler's mask (everything blocked) is
        // still this thread's.
        sud::restore_base_mask();
        block.sigsys_uctx = std::ptr::null_mut();
    }
    // SAFETY: the record was boxed by `spawn` and nothing refers to it any more.
    drop(unsafe { Box::from_raw(block.thread) });
    // SAFETY: null: no thread.
    unsafe { block.set_thread(std::ptr::null_mut()) };
    block.replacement = None;
}

/// Joins the idle carriers and waits for a job; false when enough carriers are idle
/// already (this one should end).
fn wait_for_job(carrier: &Carrier) -> bool {
    {
        let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() >= IDLE_MAX {
            return false;
        }
        carrier.ready.store(0, Ordering::Relaxed);
        idle.push(carrier as *const Carrier as usize);
    }
    while carrier.ready.load(Ordering::Acquire) == 0 {
        futex(&carrier.ready, libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG, 0);
    }
    true
}

fn futex(word: &AtomicU32, op: i32, val: u32) {
    // SAFETY: a private futex operation on a live, aligned word of this process, no
    // timeout; a raw syscall touches no TLS.
    unsafe { raw_syscall6(libc::SYS_futex, word.as_ptr() as u64, op as u64, val.into(), 0, 0, 0) };
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
