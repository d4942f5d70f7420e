//! Signals on the hosted platform: how a guest thread is stopped to take a signal, how
//! a fault in guest code becomes the guest's signal, and how blocking host calls end
//! early when a signal arrives.
//!
//! * **The kick.** Sending a signal to a thread sets its hint (`ThreadShared::hint`)
//!   and, for another thread, sends that host thread [`KICK`], a host real-time signal
//!   the guest never sees. Its handler looks at where the thread was:
//!   - in guest code: the signal is delivered there and then — the handler builds the
//!     guest's frame from the interrupted registers and returns into the guest's
//!     handler (the host frame is edited);
//!   - on the fast path's way out (`unify_exit_check` .. its jump), or on the slow way
//!     out (`unify_exit_work_done` .. `unify_resume_end`): it goes back to the check, so
//!     the way out takes the signal;
//!   - about to make a blocking host call ([`interruptible`]): the call is not made
//!     and reports EINTR;
//!   - anywhere else in the libOS: nothing. A blocking host call the kick interrupted
//!     returns EINTR; the wait sees the hint and ends (ERESTARTSYS and friends); the
//!     way out delivers.
//! * **The way out.** After a fast-path syscall, `unify_exit_check` sends a thread with
//!   its hint set through `unify_exit_slow`, which saves every register and calls
//!   [`hosted_exit_work`]; after a SIGSYS-path syscall, [`deliver_in_frame`] edits the
//!   host frame. Both call the shim's `delivery::deliver_pending`. The SIGSYS handler
//!   runs with the kick blocked (it is unblocked only around blocking calls), so a kick
//!   that comes late stays pending on the host until the frame's mask is restored, and
//!   then stops the guest.
//! * **Faults.** SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP raised by guest code
//!   become the same signal for the guest, with the host's `si_code`, address, error
//!   code and trap number (the host kernel is Linux: they are Linux's). With no
//!   handler, or with the signal blocked or ignored (Linux then forces the default),
//!   the process ends by that signal and unify prints one line naming the signal, the
//!   address and the instruction pointer. A fault in the libOS itself is a unify bug:
//!   it says so and dies by the signal.

use std::arch::global_asm;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use libos::siginfo::{signal_name, SigInfo};
use libos::signal::{SIG_DFL, SIG_IGN};
use libos::sigsend::SignalTarget;
use libos::thread::ThreadShared;
use libos::Kernel;
use syscall_shim::delivery::{deliver_pending, SyscallRestart};
use syscall_shim::site_map::RESTART_BACKUP;

use crate::entry::{block, block_if_guest};
use crate::host::raw_syscall4;
use crate::layout::GUEST_HI;
use crate::regs::{from_signal_frame, to_signal_frame, GuestRegs};

/// The host signal that stops a guest thread to take a signal (SIGRTMAX - 1; glibc
/// keeps the lowest real-time signals for itself).
pub const KICK: i32 = 63;
/// The fault signals guest code can raise.
const FAULTS: [i32; 5] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGTRAP];
/// The length of the `syscall` instruction: how far back a SIGSYS-path syscall is made
/// again.
const SYSCALL_LEN: u64 = 2;
const RT_SIGRETURN: u64 = 15;

global_asm!(
    // The host handler of KICK and the fault signals (SA_SIGINFO arguments). On a
    // guest thread it loads the host's FS base (the guest's may be loaded) and puts
    // back what it found.
    ".globl unify_async_entry",
    ".type unify_async_entry,@function",
    "unify_async_entry:",
    "push rbx",
    "push r12",
    "push r13",
    "rdgsbase rax",
    "test rax, rax",
    "jz 1f",
    "rdfsbase rbx",
    "mov r12, gs:[64]",
    "mov rax, gs:[8]",
    "wrfsbase rax",
    "mov qword ptr gs:[64], 1",
    "call {handler}",
    "mov gs:[64], r12",
    "wrfsbase rbx",
    "pop r13",
    "pop r12",
    "pop rbx",
    "ret",
    "1:",
    "call {outside}",
    "pop r13",
    "pop r12",
    "pop rbx",
    "ret",
    ".size unify_async_entry, . - unify_async_entry",
    //
    // A host syscall that a kick may prevent: rdi = the thread's hint, rsi = the
    // number, rdx = the six arguments. A kick between `unify_isc_begin` and
    // `unify_isc_end` (the syscall not yet made) resumes at `unify_isc_interrupted`.
    ".globl unify_isc",
    ".type unify_isc,@function",
    "unify_isc:",
    "mov r11, rdx",
    "mov rax, rsi",
    "mov rcx, rdi",
    "mov rdi, [r11]",
    "mov rsi, [r11 + 8]",
    "mov rdx, [r11 + 16]",
    "mov r10, [r11 + 24]",
    "mov r8, [r11 + 32]",
    "mov r9, [r11 + 40]",
    ".globl unify_isc_begin",
    "unify_isc_begin:",
    "cmp dword ptr [rcx], 0",
    "jne unify_isc_interrupted",
    "syscall",
    ".globl unify_isc_end",
    "unify_isc_end:",
    "ret",
    ".globl unify_isc_interrupted",
    "unify_isc_interrupted:",
    "mov rax, -4",
    "ret",
    ".size unify_isc, . - unify_isc",
    handler = sym hosted_async_signal,
    outside = sym outside_guest_thread,
);

extern "C" {
    fn unify_async_entry(sig: i32, info: *mut libc::siginfo_t, uctx: *mut libc::c_void);
    fn unify_isc(hint: *const AtomicU32, nr: i64, args: *const [u64; 6]) -> i64;
    fn unify_isc_begin();
    fn unify_isc_end();
    fn unify_isc_interrupted();
    fn unify_exit_check();
    fn unify_exit_check_end();
    fn unify_exit_work();
    fn unify_exit_work_done();
    fn unify_resume_end();
}

/// Installs the host handlers for [`KICK`] and the fault signals.
pub fn install_handlers() -> std::io::Result<()> {
    for sig in std::iter::once(KICK).chain(FAULTS) {
        // SAFETY: all-zero is a valid sigaction; the fields are set below.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = unify_async_entry as *const () as usize;
        // No SA_RESTART: a kick must end the host call it interrupts.
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        // SAFETY: a valid sigset; the handler's own signal stays blocked while it runs.
        unsafe { libc::sigemptyset(&mut sa.sa_mask) };
        // SAFETY: installs a handler whose entry is the assembly above.
        if unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn sig_bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// Where a host signal found the thread.
enum Place {
    Guest,
    /// Inside `[start, end)` of one of the libOS's own sequences.
    Within(u64),
    Libos,
}

/// The host's vDSO when lent to the guest: its code runs as guest code (on the guest's
/// stack, holding no libOS lock), so a kick there delivers at once — a guest that spins
/// reading the clock still takes its signals.
static LENT_CODE: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Records `[start, end)` as code of the guest's outside its window (the vDSO).
pub fn note_guest_code(start: u64, end: u64) {
    LENT_CODE[0].store(start, Ordering::Relaxed);
    LENT_CODE[1].store(end, Ordering::Relaxed);
}

fn place(rip: u64) -> Place {
    if rip < GUEST_HI || (LENT_CODE[0].load(Ordering::Relaxed)..LENT_CODE[1].load(Ordering::Relaxed)).contains(&rip) {
        return Place::Guest;
    }
    let ranges: [(unsafe extern "C" fn(), unsafe extern "C" fn()); 3] = [
        (unify_exit_check, unify_exit_check_end),
        (unify_exit_work_done, unify_resume_end),
        (unify_isc_begin, unify_isc_end),
    ];
    for (start, end) in ranges {
        if (addr_of_fn(start)..addr_of_fn(end)).contains(&rip) {
            return Place::Within(addr_of_fn(start));
        }
    }
    Place::Libos
}

fn addr_of_fn(f: unsafe extern "C" fn()) -> u64 {
    f as *const () as u64
}

/// Where the slow way out keeps a thread's registers: below its libOS stack top.
fn saved_regs_addr(libos_rsp: u64) -> u64 {
    (libos_rsp - std::mem::size_of::<GuestRegs>() as u64) & !63
}

extern "C" fn hosted_async_signal(sig: i32, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
    let uc = unsafe { &mut *uc.cast::<libc::ucontext_t>() };
    let rip = uc.uc_mcontext.gregs[libc::REG_RIP as usize] as u64;
    let set = |uc: &mut libc::ucontext_t, reg: i32, v: u64| uc.uc_mcontext.gregs[reg as usize] = v as i64;
    match (sig == KICK, place(rip)) {
        (true, Place::Guest) => {
            if !block().thread.is_null() {
                // SAFETY: the frame is live; guest code held no libOS lock.
                unsafe { deliver_in_frame(uc, None) }
            }
        }
        (true, Place::Within(start)) if start == addr_of_fn(unify_exit_check) => {
            set(uc, libc::REG_RIP, start);
        }
        (true, Place::Within(start)) if start == addr_of_fn(unify_exit_work_done) => {
            let regs = saved_regs_addr(block().libos_rsp);
            set(uc, libc::REG_RSP, regs);
            set(uc, libc::REG_RDI, regs);
            set(uc, libc::REG_RIP, addr_of_fn(unify_exit_work));
        }
        (true, Place::Within(_)) => set(uc, libc::REG_RIP, addr_of_fn(unify_isc_interrupted)),
        (true, Place::Libos) => {}
        // SAFETY: `info` is the kernel's siginfo for this fault.
        (false, Place::Guest) => guest_fault(sig as u32, unsafe { &*info }, uc),
        // SAFETY: as above.
        (false, _) => libos_fault(sig, unsafe { &*info }, rip),
    }
}

/// A host signal on a thread that runs no guest code: only a fault can come here
/// (kicks go to guest threads): a unify bug.
extern "C" fn outside_guest_thread(sig: i32, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    if sig == KICK {
        return;
    }
    // SAFETY: as in `hosted_async_signal`.
    let (info, uc) = unsafe { (&*info, &*uc.cast::<libc::ucontext_t>()) };
    libos_fault(sig, info, uc.uc_mcontext.gregs[libc::REG_RIP as usize] as u64);
}

/// The libOS itself faulted: say so, and die by the signal (the handler is reset, so
/// the faulting instruction raises it again with its default action).
fn libos_fault(sig: i32, info: &libc::siginfo_t, rip: u64) {
    // SAFETY: si_addr is meaningful for the fault signals, the only ones here.
    let addr = unsafe { info.si_addr() } as u64;
    let line = format!(
        "unify: internal error: {} in the libOS at address {addr:#x}, instruction pointer {rip:#x}\n",
        signal_name(sig as u32)
    );
    // SAFETY: a valid buffer; restoring the default action lets the fault end the process.
    unsafe {
        libc::write(2, line.as_ptr().cast(), line.len());
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// A fault in guest code becomes the guest's signal.
fn guest_fault(sig: u32, info: &libc::siginfo_t, uc: &mut libc::ucontext_t) {
    let b = block();
    if b.thread.is_null() {
        return;
    }
    let kernel = Kernel::get();
    // SAFETY: the block's record is this thread's; guest code was running, so no
    // syscall handler holds it.
    let thread = unsafe { &mut *b.thread };
    // SAFETY: si_addr is meaningful for the fault signals.
    let addr = unsafe { info.si_addr() } as u64;
    let rip = uc.uc_mcontext.gregs[libc::REG_RIP as usize] as u64;
    let action = kernel.signals.lock().get(sig as i32).copied().unwrap_or_default();
    let blocked = thread.sigmask() & sig_bit(sig) != 0;
    if action.handler == SIG_DFL || action.handler == SIG_IGN || blocked {
        // Linux's force_sig_fault: a blocked or ignored fault signal is unblocked and
        // reset to its default, which ends the process.
        let line = format!(
            "unify: the guest was killed by {} at address {addr:#x}, instruction pointer {rip:#x}",
            signal_name(sig)
        );
        kernel.platform.log(&line);
        kernel.platform.exit_by_signal(sig);
    }
    let code = fault_code(kernel, sig, info.si_code, addr);
    let _ = kernel.send_signal(SignalTarget::Thread(thread.tid), SigInfo::fault(sig, code, addr));
    // SAFETY: the frame is live.
    unsafe { deliver_in_frame(uc, None) };
}

/// The `si_code` Linux would give. The host sees the guest window as one reserved
/// PROT_NONE mapping, so a touch of guest memory that is not mapped at all is an access
/// error there (SEGV_ACCERR); for the guest it is SEGV_MAPERR.
fn fault_code(kernel: &Kernel, sig: u32, host_code: i32, addr: u64) -> i32 {
    use libos::siginfo::code::{SEGV_ACCERR, SEGV_MAPERR};
    if sig != libc::SIGSEGV as u32 || host_code != SEGV_ACCERR {
        return host_code;
    }
    let mapped = kernel.mm.read().overlaps(addr & !0xfff, (addr & !0xfff) + 0x1000);
    if mapped {
        SEGV_ACCERR
    } else {
        SEGV_MAPERR
    }
}

/// Delivers what the calling thread has to take into the host frame `uc` (taken in
/// guest code, or the SIGSYS frame of syscall `nr` just served).
///
/// # Safety
/// `uc` is a live host signal frame of this thread whose registers are the guest's.
pub unsafe fn deliver_in_frame(uc: &mut libc::ucontext_t, nr: Option<u64>) {
    let b = block();
    // SAFETY: the block's record is this thread's and nothing else uses it now.
    let thread = unsafe { &mut *b.thread };
    let rax = uc.uc_mcontext.gregs[libc::REG_RAX as usize] as u64;
    let restart_code = (rax as i64) <= -512 && (rax as i64) >= -514;
    let syscall = nr.filter(|&n| n != RT_SIGRETURN);
    if !(thread.shared.hinted() || syscall.is_some() && restart_code) {
        return;
    }
    crate::entry::ensure_host_tls();
    // SAFETY: the caller's frame.
    let regs = unsafe { from_signal_frame(uc) };
    let mut ctx = regs.as_context();
    let gr = &uc.uc_mcontext.gregs;
    (ctx.err, ctx.trapno, ctx.cr2) =
        (gr[libc::REG_ERR as usize] as u64, gr[libc::REG_TRAPNO as usize] as u64, gr[libc::REG_CR2 as usize] as u64);
    let restart = syscall.map(|nr| SyscallRestart { nr, backup: SYSCALL_LEN });
    deliver_pending(Kernel::get(), thread, &mut ctx, restart);
    // SAFETY: the caller's frame, still live.
    unsafe { to_signal_frame(&ctx, uc) };
}

/// The slow way out of a fast-path syscall (and a new thread's way in): `regs` are the
/// guest's registers, which this may change.
pub extern "C" fn hosted_exit_work(regs: &mut GuestRegs) {
    let b = block();
    // SAFETY: the block's record is this thread's and nothing else uses it now.
    let thread = unsafe { &mut *b.thread };
    let mut syscall = Some(SyscallRestart { nr: b.last_nr, backup: RESTART_BACKUP });
    if let Some(replaced) = b.replacement.take() {
        *regs = GuestRegs { fs_base: regs.fs_base, ..*replaced };
        syscall = None;
    }
    let mut ctx = regs.as_context();
    deliver_pending(Kernel::get(), thread, &mut ctx, syscall);
    regs.set_context(&ctx);
}

/// Whether the calling guest thread has been told to take a signal.
pub fn interrupted() -> bool {
    block_if_guest().is_some_and(|b| {
        // SAFETY: the hint lives in the thread's shared record, alive while it runs.
        !b.hint.is_null() && unsafe { &*b.hint }.load(Ordering::SeqCst) != 0
    })
}

/// Makes `thread` (another guest thread) look at its signals.
pub fn kick(thread: &ThreadShared) {
    if let Some(b) = block_if_guest() {
        // SAFETY: the block's record is this thread's.
        if !b.thread.is_null() && unsafe { (*b.thread).tid } == thread.tid {
            return;
        }
    }
    if let Some(host_tid) = thread.platform_id() {
        // SAFETY: tgkill takes integers; the tid is a host thread of this process (or
        // one that has just ended, which gives ESRCH).
        unsafe { raw_syscall4(libc::SYS_tgkill, libc::getpid() as u64, host_tid, KICK as u64, 0) };
    }
}

/// Makes host syscall `nr` unless the calling guest thread has a signal to take
/// (EINTR then, as when a kick interrupts the call itself). On the SIGSYS path the
/// kick is unblocked for the duration.
pub fn interruptible(nr: i64, args: [u64; 6]) -> i64 {
    let Some(b) = block_if_guest().filter(|b| !b.hint.is_null()) else {
        // SAFETY: the caller vouches for the arguments of `nr`.
        return unsafe { crate::host::raw_syscall6(nr, args[0], args[1], args[2], args[3], args[4], args[5]) } as i64;
    };
    let on_sigsys = !b.sigsys_uctx.is_null();
    if on_sigsys {
        set_kick_blocked(false);
    }
    // SAFETY: the hint is live; the caller vouches for the arguments of `nr`.
    let r = unsafe { unify_isc(b.hint, nr, &args) };
    if on_sigsys {
        set_kick_blocked(true);
    }
    r
}

fn set_kick_blocked(blocked: bool) {
    let set: u64 = 1 << (KICK - 1);
    let how = if blocked { libc::SIG_BLOCK } else { libc::SIG_UNBLOCK };
    // SAFETY: a kernel sigset of 8 bytes on this stack; only this thread's mask changes.
    unsafe { raw_syscall4(libc::SYS_rt_sigprocmask, how as u64, &set as *const u64 as u64, 0, 8) };
}
