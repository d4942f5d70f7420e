//! The two ways a guest syscall enters the libOS on the hosted platform, and the jump
//! into the guest.
//!
//! The libOS's per-thread state sits in a [`ThreadBlock`] reached through GS (the guest
//! owns FS: it is its TLS pointer; Linux user space leaves GS alone).
//!
//! **TLS, lazily.** The libOS core and the shim are `no_std` and never touch TLS, so a
//! syscall such as `getpid` runs entirely with the guest's FS base still loaded.
//! Whatever does need the host's TLS — glibc's malloc, errno, Rust std — calls
//! [`ensure_host_tls`] first: it loads the host's FS base (`wrfsbase`, about as costly as
//! the rest of a fast syscall together) and marks the block, and the way out restores
//! the guest's FS base only if that happened. Every platform method that calls libc or
//! std does this; the allocator (talc) and raw host syscalls (console I/O, futexes) need
//! not.
//!
//! * Fast path — a rewritten site's stub jumps to [`unify_syscall_entry`] with its
//!   return address in RCX (where `syscall` leaves it too), pushing nothing on the
//!   guest's stack. The entry records where to return, switches to the libOS stack,
//!   saves the registers Linux preserves across `syscall` that the System V ABI lets
//!   Rust clobber (rdi, rsi, rdx, r8–r10, xmm0–15), and calls [`hosted_syscall`]; the
//!   way back is a jump. The guest stack is never touched, so a thread can unmap its
//!   own stack and go on making syscalls (musl's detached threads do, to exit).
//! * Slow path — any other `syscall` in guest code traps with SIGSYS (Syscall User
//!   Dispatch). The kernel writes the signal frame, every register included, on the
//!   thread's small alternate signal stack; [`unify_sigsys_entry`] moves to the libOS
//!   stack (free whenever guest code runs), and the result goes back into the frame.

use std::arch::global_asm;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use libos::Thread;

use crate::regs::{FastFrame, GuestRegs};
use crate::stats;

/// Per-thread libOS state, at GS:0. The offsets are used by the assembly below.
#[repr(C)]
pub struct ThreadBlock {
    /// GS:0 — this block's own address.
    pub self_ptr: u64,
    /// GS:8 — the host's FS base (the libOS thread's TLS).
    pub host_fs: u64,
    /// GS:16 — the guest's FS base while the libOS runs.
    pub guest_fs: u64,
    /// GS:24 — the guest's RSP at a fast-path entry (as it was at the `syscall`).
    pub guest_rsp: u64,
    /// GS:32 — top of the libOS stack used while serving a syscall.
    pub libos_rsp: u64,
    /// GS:40 — the libOS's record of this guest thread.
    pub thread: *mut Thread,
    /// GS:48 — syscalls taken through rewritten sites (incremented by this thread's
    /// entry only; others read it).
    pub fast_count: AtomicU64,
    /// GS:56 — syscalls taken through SIGSYS.
    pub slow_count: AtomicU64,
    /// GS:64 — 1 while the host's FS base is loaded during a syscall, else 0.
    pub host_fs_loaded: u64,
    /// GS:72 — the signal frame while a syscall is served from the SIGSYS path, else null.
    pub sigsys_uctx: *mut libc::ucontext_t,
    /// GS:80 — where the guest resumes: after the fast-path syscall being served (the
    /// return address its rewritten site passed in RCX), or where a new thread starts
    /// (`regs::unify_thread_run`).
    pub resume_rip: u64,
    /// GS:88 — a thread started by `clone`: the host stack pointer to return to when the
    /// guest thread ends (see `regs::unify_thread_finish`); 0 on the first thread.
    pub carrier_rsp: u64,
    /// GS:96 — the guest thread's signal hint (`ThreadShared::hint`): nonzero sends the
    /// way back to the guest through `unify_exit_slow`.
    pub hint: *const AtomicU32,
    /// The number of the fast-path syscall being served (to make it again after a
    /// signal, see `signals`).
    pub last_nr: u64,
    /// Registers `rt_sigreturn` asked to resume with, for the slow way back.
    pub replacement: Option<Box<GuestRegs>>,
    /// A new thread's first register state.
    pub start: GuestRegs,
}

impl ThreadBlock {
    /// Makes `thread` the block's guest thread.
    ///
    /// # Safety
    /// `thread` stays valid while it is the block's.
    pub unsafe fn set_thread(&mut self, thread: *mut Thread) {
        self.thread = thread;
        // SAFETY: the caller keeps `thread` valid; its shared part is reference counted
        // and outlives this use.
        self.hint = if thread.is_null() {
            std::ptr::null()
        } else {
            // SAFETY: as above: a valid record while it is the block's.
            let shared: &libos::thread::ThreadShared = unsafe { &(*thread).shared };
            &shared.hint
        };
    }

    /// A block for a thread whose libOS record is `thread`.
    pub fn new(thread: *mut Thread) -> ThreadBlock {
        ThreadBlock {
            self_ptr: 0,
            host_fs: 0,
            guest_fs: 0,
            guest_rsp: 0,
            libos_rsp: 0,
            thread,
            fast_count: AtomicU64::new(0),
            slow_count: AtomicU64::new(0),
            host_fs_loaded: 0,
            sigsys_uctx: std::ptr::null_mut(),
            resume_rip: 0,
            carrier_rsp: 0,
            hint: std::ptr::null(),
            last_nr: 0,
            replacement: None,
            start: GuestRegs::default(),
        }
    }
}

global_asm!(
    ".globl unify_syscall_entry",
    ".type unify_syscall_entry,@function",
    "unify_syscall_entry:",
    "mov gs:[24], rsp",
    "mov gs:[80], rcx",
    "mov rsp, gs:[32]",
    // rcx and r11 are ours: `syscall` clobbers them.
    "rdfsbase rcx",
    "mov gs:[16], rcx",
    "inc qword ptr gs:[48]",
    // The frame hosted_syscall reads (`regs::FastFrame`): nr, the six argument
    // registers, then the callee-saved ones (only `clone` reads those).
    "push r15",
    "push r14",
    "push r13",
    "push r12",
    "push rbp",
    "push rbx",
    "push r9",
    "push r8",
    "push r10",
    "push rdx",
    "push rsi",
    "push rdi",
    "push rax",
    // 13 pushes + 264 = 368: the libOS stack top is 16-aligned, so xmm saves are too.
    "sub rsp, 264",
    "movaps [rsp + 0], xmm0",
    "movaps [rsp + 16], xmm1",
    "movaps [rsp + 32], xmm2",
    "movaps [rsp + 48], xmm3",
    "movaps [rsp + 64], xmm4",
    "movaps [rsp + 80], xmm5",
    "movaps [rsp + 96], xmm6",
    "movaps [rsp + 112], xmm7",
    "movaps [rsp + 128], xmm8",
    "movaps [rsp + 144], xmm9",
    "movaps [rsp + 160], xmm10",
    "movaps [rsp + 176], xmm11",
    "movaps [rsp + 192], xmm12",
    "movaps [rsp + 208], xmm13",
    "movaps [rsp + 224], xmm14",
    "movaps [rsp + 240], xmm15",
    "lea rdi, [rsp + 264]",
    "call {hosted_syscall}",
    "movaps xmm0, [rsp + 0]",
    "movaps xmm1, [rsp + 16]",
    "movaps xmm2, [rsp + 32]",
    "movaps xmm3, [rsp + 48]",
    "movaps xmm4, [rsp + 64]",
    "movaps xmm5, [rsp + 80]",
    "movaps xmm6, [rsp + 96]",
    "movaps xmm7, [rsp + 112]",
    "movaps xmm8, [rsp + 128]",
    "movaps xmm9, [rsp + 144]",
    "movaps xmm10, [rsp + 160]",
    "movaps xmm11, [rsp + 176]",
    "movaps xmm12, [rsp + 192]",
    "movaps xmm13, [rsp + 208]",
    "movaps xmm14, [rsp + 224]",
    "movaps xmm15, [rsp + 240]",
    "add rsp, 264",
    "pop r11",
    "pop rdi",
    "pop rsi",
    "pop rdx",
    "pop r10",
    "pop r8",
    "pop r9",
    // rbx, rbp, r12-r15: Rust preserved them.
    "add rsp, 48",
    // Put the guest's FS base back only if something loaded the host's.
    "cmp qword ptr gs:[64], 0",
    "je 2f",
    "mov qword ptr gs:[64], 0",
    "mov rcx, gs:[16]",
    "wrfsbase rcx",
    "2:",
    // A signal to take (or registers to replace) first: the slow way back. From here
    // to the jump, a signal interrupting the thread starts again here (`signals`).
    ".globl unify_exit_check",
    "unify_exit_check:",
    "mov rcx, gs:[96]",
    "cmp dword ptr [rcx], 0",
    "jne unify_exit_slow",
    "mov rsp, gs:[24]",
    "jmp qword ptr gs:[80]",
    ".globl unify_exit_check_end",
    "unify_exit_check_end:",
    ".size unify_syscall_entry, . - unify_syscall_entry",
    //
    ".globl unify_sigsys_entry",
    ".type unify_sigsys_entry,@function",
    "unify_sigsys_entry:",
    "rdfsbase rax",
    "mov gs:[16], rax",
    "mov rax, gs:[8]",
    "wrfsbase rax",
    "mov qword ptr gs:[64], 1",
    // Served on the alternate stack the frame is on (it is large: see `sud`), so a
    // signal interrupting a wait nests below instead of overwriting this frame.
    "sub rsp, 8",
    "call {hosted_sigsys}",
    "add rsp, 8",
    "mov qword ptr gs:[64], 0",
    "mov rax, gs:[16]",
    "wrfsbase rax",
    "ret",
    ".size unify_sigsys_entry, . - unify_sigsys_entry",
    //
    ".globl unify_enter_guest",
    ".type unify_enter_guest,@function",
    "unify_enter_guest:",
    "mov rax, rsp",
    "and rax, -16",
    "mov gs:[32], rax",
    "mov qword ptr gs:[64], 0",
    "mov rax, gs:[16]",
    "wrfsbase rax",
    "mov rsp, rsi",
    "mov r11, rdi",
    "xor eax, eax",
    "xor ebx, ebx",
    "xor ecx, ecx",
    "xor edx, edx",
    "xor esi, esi",
    "xor edi, edi",
    "xor ebp, ebp",
    "xor r8d, r8d",
    "xor r9d, r9d",
    "xor r10d, r10d",
    "xor r12d, r12d",
    "xor r13d, r13d",
    "xor r14d, r14d",
    "xor r15d, r15d",
    "jmp r11",
    ".size unify_enter_guest, . - unify_enter_guest",
    hosted_syscall = sym hosted_syscall,
    hosted_sigsys = sym hosted_sigsys,
);

extern "C" {
    /// The fast-path entry (jumped to with the return address in RCX); its address goes
    /// in the stub area's slot.
    pub fn unify_syscall_entry();
    /// The SIGSYS handler (`SA_SIGINFO` signature).
    pub fn unify_sigsys_entry(sig: i32, info: *mut libc::siginfo_t, uctx: *mut libc::c_void);
    /// Jumps to `entry` with RSP = `sp` and zeroed registers; never returns.
    pub fn unify_enter_guest(entry: u64, sp: u64) -> !;
}

/// Set once a guest thread exists (GS then points at a block on such threads).
static GUEST_STARTED: AtomicBool = AtomicBool::new(false);

/// Makes sure the host's FS base is loaded, so libc and Rust std find their TLS.
/// Cheap when it already is; a no-op before the guest starts and on host threads that
/// run no guest code.
#[inline]
pub fn ensure_host_tls() {
    if !GUEST_STARTED.load(Ordering::Relaxed) {
        return;
    }
    let Some(block) = block_if_guest() else { return };
    if block.host_fs_loaded == 0 {
        // SAFETY: loads the host FS base recorded for this thread by `install_block`;
        // the guest's was saved at entry and is restored on the way out because the
        // flag is set.
        unsafe { core::arch::asm!("wrfsbase {}", in(reg) block.host_fs, options(nostack, preserves_flags)) };
        block.host_fs_loaded = 1;
    }
}

/// The calling thread's block, if it has one (threads that run guest code do; the
/// host's own helper threads do not, and their GS base is 0).
pub(crate) fn block_if_guest() -> Option<&'static mut ThreadBlock> {
    let base: u64;
    // SAFETY: reading the GS base has no side effect; FSGSBASE was checked at start-up.
    unsafe { core::arch::asm!("rdgsbase {}", out(reg) base, options(nostack, nomem, preserves_flags)) };
    // SAFETY: a nonzero GS base is a block installed by `install_block` for this thread.
    (base != 0).then(|| unsafe { &mut *(base as *mut ThreadBlock) })
}

/// Records that guest threads exist from now on.
pub fn mark_guest_started() {
    GUEST_STARTED.store(true, Ordering::Relaxed);
}

/// The current thread's block.
pub(crate) fn block() -> &'static mut ThreadBlock {
    let ptr: u64;
    // SAFETY: GS:0 holds the block's address on every thread that runs guest code,
    // set by `install_block` before the guest starts.
    unsafe { core::arch::asm!("mov {}, gs:[0]", out(reg) ptr, options(nostack, readonly, preserves_flags)) };
    // SAFETY: the block lives as long as the thread and only its own thread uses it.
    unsafe { &mut *(ptr as *mut ThreadBlock) }
}

/// Serves one syscall from the fast path.
extern "C" fn hosted_syscall(frame: &FastFrame) -> u64 {
    let block = block();
    // SAFETY: `thread` was set when the block was installed and is only used by this
    // thread.
    let thread = unsafe { &mut *block.thread };
    let args = [frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9];
    block.last_nr = frame.nr;
    let ret = syscall_shim::dispatch(thread, frame.nr, args);
    if thread.fs_base != block.guest_fs {
        // arch_prctl(ARCH_SET_FS): have the way out load the new base.
        block.guest_fs = thread.fs_base;
        block.host_fs_loaded = 1;
    }
    ret
}

/// Serves one syscall trapped by Syscall User Dispatch: the registers are in the
/// signal frame; the result replaces RAX there.
extern "C" fn hosted_sigsys(_sig: i32, _info: *mut libc::siginfo_t, uctx: *mut libc::ucontext_t) {
    let block = block();
    // One writer (this thread): a plain increment, readable by others.
    block.slow_count.store(block.slow_count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
    let gregs = unsafe { &mut (*uctx).uc_mcontext.gregs };
    let reg = |r: i32| gregs[r as usize] as u64;
    let nr = reg(libc::REG_RAX);
    let args = [
        reg(libc::REG_RDI),
        reg(libc::REG_RSI),
        reg(libc::REG_RDX),
        reg(libc::REG_R10),
        reg(libc::REG_R8),
        reg(libc::REG_R9),
    ];
    // SAFETY: as in `hosted_syscall`.
    let thread = unsafe { &mut *block.thread };
    block.sigsys_uctx = uctx;
    let ret = syscall_shim::dispatch(thread, nr, args);
    block.sigsys_uctx = std::ptr::null_mut();
    block.guest_fs = thread.fs_base;
    gregs[libc::REG_RAX as usize] = ret as i64;
    // SAFETY: as above; the frame is live until this handler returns. A signal sent
    // from now on waits, blocked on the host, until the frame's mask is restored on
    // return, and then stops the guest (`signals`).
    unsafe { crate::signals::deliver_in_frame(&mut *uctx, Some(nr)) };
}

/// Gives the calling thread its block at GS and records its host FS base.
///
/// # Safety
/// `block` must stay valid, and be used by no other thread, until [`uninstall_block`]
/// (or the thread's end).
pub unsafe fn install_block(block: *mut ThreadBlock) {
    // SAFETY: the caller hands over a valid block for this thread only.
    let b = unsafe { &mut *block };
    b.self_ptr = block as u64;
    let fs: u64;
    // SAFETY: reading FS base has no side effect; FSGSBASE was checked at start-up.
    unsafe { core::arch::asm!("rdfsbase {}", out(reg) fs, options(nostack, nomem, preserves_flags)) };
    b.host_fs = fs;
    set_gs(b.self_ptr);
    stats::register(b);
}

/// Takes the block away from the calling thread (GS = 0: a stray use faults at once
/// instead of touching freed memory). The guest thread has ended.
pub fn uninstall_block() {
    stats::retire(block());
    set_gs(0);
}

/// For a host helper thread (one that runs no guest code): a new thread inherits its
/// creator's GS base, which would make it look like that guest thread; this clears it.
pub fn mark_host_thread() {
    set_gs(0);
}

fn set_gs(base: u64) {
    // SAFETY: ARCH_SET_GS changes only this thread's GS base, which nothing but the
    // libOS uses (the guest owns FS); a raw syscall touches no TLS.
    unsafe {
        crate::host::raw_syscall4(libc::SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, base, 0, 0)
    };
}
