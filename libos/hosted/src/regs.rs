//! A guest thread's registers: where the entry paths leave the caller's, how `clone`
//! builds a new thread's from them, and the jump that starts it.
//!
//! Linux starts a `clone` child with its parent's registers at the syscall, except
//! RAX = 0, RSP = the new stack and (with `CLONE_SETTLS`) the FS base. glibc's and
//! musl's child paths rely on that: glibc's `clone3` wrapper calls the function whose
//! address it left in RDX with the argument it left in R8.
//!
//! * Fast path: [`FastFrame`] sits just below the top of the libOS stack, the XMM
//!   registers below it; the entry saved the guest's RSP and the stub's return address
//!   in the block (the stub pushes nothing).
//! * SIGSYS path: the signal frame holds everything; RIP is already past `syscall`.

use std::arch::global_asm;
use std::mem::{offset_of, size_of};

use libos::context::{GRegs, GuestContext, FXSAVE_SIZE};

use crate::entry::ThreadBlock;

/// The registers the fast entry pushes, lowest address first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FastFrame {
    pub nr: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub r10: u64,
    pub r8: u64,
    pub r9: u64,
    pub rbx: u64,
    pub rbp: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
}

/// What the fast entry puts between the XMM saves and the frame (alignment padding).
const XMM_AREA: u64 = 264;
/// Arithmetic flags and DF: what a new thread keeps of its parent's RFLAGS.
const RFLAGS_KEPT: u64 = 0x0cd5;
/// IF and the reserved bit 1, always set in user mode.
const RFLAGS_FIXED: u64 = 0x0202;
/// Where XMM0 lies in an FXSAVE image.
const FX_XMM: usize = 160;

/// A complete user register state: what a thread starts with, what the slow way back
/// to the guest saves and restores (`unify_exit_slow`, `unify_resume`), and what the
/// shim's signal code works on (as [`GuestContext`]).
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy)]
pub struct GuestRegs {
    pub g: GRegs,
    pub fs_base: u64,
    pub pad: [u64; 5],
    /// The FXSAVE image: x87, MXCSR, XMM0–15 (restored with `fxrstor`).
    pub fx: [u8; FXSAVE_SIZE],
}

impl Default for GuestRegs {
    fn default() -> Self {
        GuestRegs { g: GRegs::default(), fs_base: 0, pad: [0; 5], fx: [0; FXSAVE_SIZE] }
    }
}

impl GuestRegs {
    /// As the shim's signal code sees it (no fault details).
    pub fn as_context(&self) -> GuestContext {
        GuestContext { regs: self.g, fpstate: self.fx, err: 0, trapno: 0, cr2: 0 }
    }

    /// Takes the registers and FPU state of `ctx`, keeping the FS base.
    pub fn set_context(&mut self, ctx: &GuestContext) {
        self.g = ctx.regs;
        self.fx = ctx.fpstate;
    }

    fn set_xmm(&mut self, xmm: &[[u64; 2]; 16]) {
        for (i, x) in xmm.iter().enumerate() {
            let at = FX_XMM + i * 16;
            self.fx[at..at + 8].copy_from_slice(&x[0].to_le_bytes());
            self.fx[at + 8..at + 16].copy_from_slice(&x[1].to_le_bytes());
        }
    }
}

/// The FXSAVE image of the calling thread now (x87 control word, MXCSR: the libOS
/// never changes them, so they are the guest's).
fn current_fx() -> [u8; FXSAVE_SIZE] {
    #[repr(C, align(16))]
    struct Area([u8; FXSAVE_SIZE]);
    let mut area = Area([0; FXSAVE_SIZE]);
    // SAFETY: fxsave writes 512 bytes to a 16-byte aligned buffer of that size.
    unsafe { core::arch::asm!("fxsave [{}]", in(reg) area.0.as_mut_ptr(), options(nostack, preserves_flags)) };
    area.0
}

/// The calling guest thread's registers at the syscall it is making now (RIP just
/// past it, RSP as it was at the `syscall`).
///
/// # Safety
/// Call only while serving a syscall on the thread that owns `block`, from either
/// entry path.
pub unsafe fn caller_regs(block: &ThreadBlock) -> GuestRegs {
    if block.sigsys_uctx.is_null() {
        // SAFETY: the fast entry pushed a FastFrame right below the libOS stack top and
        // the XMM registers below that; this syscall is still being served.
        unsafe { from_fast_frame(block) }
    } else {
        // SAFETY: the SIGSYS handler recorded the kernel's signal frame for this syscall.
        let mut regs = unsafe { from_signal_frame(&*block.sigsys_uctx) };
        regs.fs_base = block.guest_fs;
        regs
    }
}

/// # Safety
/// As for [`caller_regs`], on the fast path.
unsafe fn from_fast_frame(block: &ThreadBlock) -> GuestRegs {
    let frame_addr = block.libos_rsp - size_of::<FastFrame>() as u64;
    // SAFETY: see `caller_regs`: the entry wrote this frame and it is still live.
    let f = unsafe { *(frame_addr as *const FastFrame) };
    // SAFETY: as above, the 16 XMM saves are right below the padding under the frame.
    let xmm = unsafe { *((frame_addr - XMM_AREA) as *const [[u64; 2]; 16]) };
    let g = GRegs {
        rax: f.nr,
        rbx: f.rbx,
        rbp: f.rbp,
        rdi: f.rdi,
        rsi: f.rsi,
        rdx: f.rdx,
        r8: f.r8,
        r9: f.r9,
        r10: f.r10,
        r12: f.r12,
        r13: f.r13,
        r14: f.r14,
        r15: f.r15,
        rcx: block.resume_rip,
        rsp: block.guest_rsp,
        rip: block.resume_rip,
        eflags: RFLAGS_FIXED,
        ..GRegs::default()
    };
    let mut regs = GuestRegs { g, fs_base: block.guest_fs, fx: current_fx(), ..GuestRegs::default() };
    regs.set_xmm(&xmm);
    regs
}

/// The registers in a host signal frame taken in guest code (FS base not included).
///
/// # Safety
/// `uc` is a signal frame the kernel wrote for this thread.
pub unsafe fn from_signal_frame(uc: &libc::ucontext_t) -> GuestRegs {
    let gr = &uc.uc_mcontext.gregs;
    let r = |i: i32| gr[i as usize] as u64;
    let g = GRegs {
        r8: r(libc::REG_R8),
        r9: r(libc::REG_R9),
        r10: r(libc::REG_R10),
        r11: r(libc::REG_R11),
        r12: r(libc::REG_R12),
        r13: r(libc::REG_R13),
        r14: r(libc::REG_R14),
        r15: r(libc::REG_R15),
        rdi: r(libc::REG_RDI),
        rsi: r(libc::REG_RSI),
        rbp: r(libc::REG_RBP),
        rbx: r(libc::REG_RBX),
        rdx: r(libc::REG_RDX),
        rax: r(libc::REG_RAX),
        rcx: r(libc::REG_RCX),
        rsp: r(libc::REG_RSP),
        rip: r(libc::REG_RIP),
        eflags: r(libc::REG_EFL),
    };
    let mut regs = GuestRegs { g, ..GuestRegs::default() };
    if uc.uc_mcontext.fpregs.is_null() {
        regs.fx = current_fx();
    } else {
        // SAFETY: the kernel points `fpregs` at the FXSAVE-format area it saved in the
        // frame (the start of its XSAVE area), 512 bytes.
        regs.fx.copy_from_slice(unsafe { std::slice::from_raw_parts(uc.uc_mcontext.fpregs.cast::<u8>(), FXSAVE_SIZE) });
    }
    regs
}

/// Writes `ctx` into a host signal frame, so that returning from the host handler
/// resumes the guest with it.
///
/// # Safety
/// `uc` is a signal frame the kernel wrote for this thread, still live.
pub unsafe fn to_signal_frame(ctx: &GuestContext, uc: &mut libc::ucontext_t) {
    let g = &ctx.regs;
    let gr = &mut uc.uc_mcontext.gregs;
    for (i, v) in [
        (libc::REG_R8, g.r8),
        (libc::REG_R9, g.r9),
        (libc::REG_R10, g.r10),
        (libc::REG_R11, g.r11),
        (libc::REG_R12, g.r12),
        (libc::REG_R13, g.r13),
        (libc::REG_R14, g.r14),
        (libc::REG_R15, g.r15),
        (libc::REG_RDI, g.rdi),
        (libc::REG_RSI, g.rsi),
        (libc::REG_RBP, g.rbp),
        (libc::REG_RBX, g.rbx),
        (libc::REG_RDX, g.rdx),
        (libc::REG_RAX, g.rax),
        (libc::REG_RCX, g.rcx),
        (libc::REG_RSP, g.rsp),
        (libc::REG_RIP, g.rip),
        (libc::REG_EFL, g.eflags),
    ] {
        gr[i as usize] = v as i64;
    }
    if !uc.uc_mcontext.fpregs.is_null() {
        let fp = uc.uc_mcontext.fpregs.cast::<u8>();
        // SAFETY: as in `from_signal_frame`: 512 writable bytes of the live frame.
        unsafe { std::ptr::copy_nonoverlapping(ctx.fpstate.as_ptr(), fp, FXSAVE_SIZE) };
        // SAFETY: the software-reserved bytes (464..512) say whether an XSAVE header
        // follows at 512; if so, mark x87 and SSE state present so the kernel restores
        // what was just written rather than their initial state.
        unsafe {
            let magic = std::ptr::read_unaligned(fp.add(SW_RESERVED).cast::<u32>());
            if magic == FP_XSTATE_MAGIC1 {
                let bv = fp.add(FXSAVE_SIZE).cast::<u64>();
                std::ptr::write_unaligned(bv, std::ptr::read_unaligned(bv) | XFEATURE_FP_SSE);
            }
        }
    }
}

/// `struct _fpx_sw_bytes` in the FXSAVE image's reserved bytes.
const SW_RESERVED: usize = 464;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// XSTATE_BV bits for x87 and SSE.
const XFEATURE_FP_SSE: u64 = 0b11;

/// A new thread's registers: the parent's, with RAX = 0 (the child's `clone` result),
/// the given stack (the parent's at the syscall if none), FS base `fs_base`, and RCX
/// and R11 as `syscall` leaves them (return address, flags).
pub fn child_regs(parent: GuestRegs, stack: Option<u64>, fs_base: u64) -> GuestRegs {
    let eflags = (parent.g.eflags & RFLAGS_KEPT) | RFLAGS_FIXED;
    let g = GRegs { rax: 0, rsp: stack.unwrap_or(parent.g.rsp), rcx: parent.g.rip, r11: eflags, eflags, ..parent.g };
    GuestRegs { g, fs_base, ..parent }
}

global_asm!(
    ".globl unify_thread_run",
    ".type unify_thread_run,@function",
    "unify_thread_run:",
    // The host context to come back to when the guest thread ends.
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov gs:[88], rsp",
    // The libOS stack for this thread's syscalls: everything below here.
    "mov rax, rsp",
    "and rax, -16",
    "mov gs:[32], rax",
    // The start registers go where the slow way back keeps its registers; it then
    // delivers any signal already pending and enters the guest.
    "mov rsi, rdi",
    "sub rax, {size}",
    "and rax, -64",
    "mov rsp, rax",
    "mov rdi, rax",
    "mov ecx, {size}",
    "rep movsb",
    "mov rdi, rsp",
    "jmp unify_exit_work",
    ".size unify_thread_run, . - unify_thread_run",
    //
    ".globl unify_thread_finish",
    ".type unify_thread_finish,@function",
    "unify_thread_finish:",
    "mov rsp, gs:[88]",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size unify_thread_finish, . - unify_thread_finish",
    //
    // The slow way back to the guest after a fast-path syscall, taken when the thread
    // has something to do first (a signal to take, registers rt_sigreturn replaced).
    // Every guest register but RSP and RIP is live; those are in the block.
    ".globl unify_exit_slow",
    ".type unify_exit_slow,@function",
    "unify_exit_slow:",
    "mov rsp, gs:[32]",
    "sub rsp, {size}",
    "and rsp, -64",
    "mov [rsp + {rax}], rax",
    "mov [rsp + {rbx}], rbx",
    "mov [rsp + {rcx}], rcx",
    "mov [rsp + {rdx}], rdx",
    "mov [rsp + {rsi}], rsi",
    "mov [rsp + {rdi}], rdi",
    "mov [rsp + {rbp}], rbp",
    "mov [rsp + {r8}], r8",
    "mov [rsp + {r9}], r9",
    "mov [rsp + {r10}], r10",
    "mov [rsp + {r11}], r11",
    "mov [rsp + {r12}], r12",
    "mov [rsp + {r13}], r13",
    "mov [rsp + {r14}], r14",
    "mov [rsp + {r15}], r15",
    "pushfq",
    "pop rax",
    "mov [rsp + {rflags}], rax",
    "mov rax, gs:[24]",
    "mov [rsp + {rsp}], rax",
    "mov rax, gs:[80]",
    "mov [rsp + {rip}], rax",
    "mov rax, gs:[16]",
    "mov [rsp + {fs}], rax",
    "fxsave [rsp + {fx}]",
    "mov rdi, rsp",
    // rdi = rsp = the saved registers, which `hosted_exit_work` may change.
    ".globl unify_exit_work",
    "unify_exit_work:",
    "call {exit_work}",
    // From here to `unify_resume_end`, an interrupting signal for this thread starts
    // again at `unify_exit_work` (see `signals::redirect`): the registers in memory
    // are the truth until the final jump.
    ".globl unify_exit_work_done",
    "unify_exit_work_done:",
    "mov rdi, rsp",
    "mov rax, gs:[96]",
    "cmp dword ptr [rax], 0",
    "jne unify_exit_work",
    // Loads every register from the GuestRegs at rdi and jumps to its RIP.
    ".globl unify_resume",
    "unify_resume:",
    "mov rax, [rdi + {fs}]",
    "mov gs:[16], rax",
    "wrfsbase rax",
    "mov qword ptr gs:[64], 0",
    "mov rax, [rdi + {rip}]",
    "mov gs:[80], rax",
    "fxrstor [rdi + {fx}]",
    "push qword ptr [rdi + {rflags}]",
    "popfq",
    "mov rax, [rdi + {rax}]",
    "mov rbx, [rdi + {rbx}]",
    "mov rcx, [rdi + {rcx}]",
    "mov rdx, [rdi + {rdx}]",
    "mov rsi, [rdi + {rsi}]",
    "mov rbp, [rdi + {rbp}]",
    "mov r8, [rdi + {r8}]",
    "mov r9, [rdi + {r9}]",
    "mov r10, [rdi + {r10}]",
    "mov r11, [rdi + {r11}]",
    "mov r12, [rdi + {r12}]",
    "mov r13, [rdi + {r13}]",
    "mov r14, [rdi + {r14}]",
    "mov r15, [rdi + {r15}]",
    "mov rsp, [rdi + {rsp}]",
    "mov rdi, [rdi + {rdi}]",
    "jmp qword ptr gs:[80]",
    ".globl unify_resume_end",
    "unify_resume_end:",
    ".size unify_exit_slow, . - unify_exit_slow",
    exit_work = sym crate::signals::hosted_exit_work,
    size = const size_of::<GuestRegs>(),
    rip = const offset_of!(GuestRegs, g) + offset_of!(GRegs, rip),
    rsp = const offset_of!(GuestRegs, g) + offset_of!(GRegs, rsp),
    rflags = const offset_of!(GuestRegs, g) + offset_of!(GRegs, eflags),
    fs = const offset_of!(GuestRegs, fs_base),
    fx = const offset_of!(GuestRegs, fx),
    rax = const offset_of!(GuestRegs, g) + offset_of!(GRegs, rax),
    rbx = const offset_of!(GuestRegs, g) + offset_of!(GRegs, rbx),
    rcx = const offset_of!(GuestRegs, g) + offset_of!(GRegs, rcx),
    rdx = const offset_of!(GuestRegs, g) + offset_of!(GRegs, rdx),
    rsi = const offset_of!(GuestRegs, g) + offset_of!(GRegs, rsi),
    rdi = const offset_of!(GuestRegs, g) + offset_of!(GRegs, rdi),
    rbp = const offset_of!(GuestRegs, g) + offset_of!(GRegs, rbp),
    r8 = const offset_of!(GuestRegs, g) + offset_of!(GRegs, r8),
    r9 = const offset_of!(GuestRegs, g) + offset_of!(GRegs, r9),
    r10 = const offset_of!(GuestRegs, g) + offset_of!(GRegs, r10),
    r11 = const offset_of!(GuestRegs, g) + offset_of!(GRegs, r11),
    r12 = const offset_of!(GuestRegs, g) + offset_of!(GRegs, r12),
    r13 = const offset_of!(GuestRegs, g) + offset_of!(GRegs, r13),
    r14 = const offset_of!(GuestRegs, g) + offset_of!(GRegs, r14),
    r15 = const offset_of!(GuestRegs, g) + offset_of!(GRegs, r15),
);

extern "C" {
    /// Enters the guest with `regs` on the calling thread, whose block is at GS.
    /// Returns when the guest thread ends ([`unify_thread_finish`]), on the same stack
    /// with the callee-saved registers as they were.
    pub fn unify_thread_run(regs: *const GuestRegs);
    /// Abandons the libOS frames of the syscall being served and returns from this
    /// thread's [`unify_thread_run`].
    pub fn unify_thread_finish() -> !;
}

// The offsets the assembly in `entry` and here uses.
const _: () = {
    assert!(offset_of!(ThreadBlock, guest_fs) == 16);
    assert!(offset_of!(ThreadBlock, guest_rsp) == 24);
    assert!(offset_of!(ThreadBlock, libos_rsp) == 32);
    assert!(offset_of!(ThreadBlock, fast_count) == 48);
    assert!(offset_of!(ThreadBlock, host_fs_loaded) == 64);
    assert!(offset_of!(ThreadBlock, sigsys_uctx) == 72);
    assert!(offset_of!(ThreadBlock, resume_rip) == 80);
    assert!(offset_of!(ThreadBlock, carrier_rsp) == 88);
    assert!(offset_of!(ThreadBlock, hint) == 96);
    assert!(size_of::<FastFrame>() == 13 * 8);
    assert!(offset_of!(GuestRegs, fx).is_multiple_of(64));
    assert!(size_of::<GuestRegs>().is_multiple_of(64));
};

#[cfg(test)]
mod tests {
    use super::*;

    fn parent() -> GuestRegs {
        let g = GRegs {
            rax: 56,
            rbx: 1,
            rdx: 2,
            r8: 3,
            r12: 4,
            rsp: 0x7000_0000,
            rip: 0x40_1000,
            eflags: 0x0346 | 0x100,
            ..GRegs::default()
        };
        GuestRegs { g, fs_base: 0x1234, ..GuestRegs::default() }
    }

    #[test]
    fn the_child_sees_zero_its_stack_and_tls() {
        let c = child_regs(parent(), Some(0x5000_0000), 0x6000_0000);
        assert_eq!((c.g.rax, c.g.rsp, c.fs_base), (0, 0x5000_0000, 0x6000_0000));
        assert_eq!((c.g.rbx, c.g.rdx, c.g.r8, c.g.r12, c.g.rip), (1, 2, 3, 4, 0x40_1000));
        assert_eq!(c.g.rcx, 0x40_1000, "RCX holds the return address, as after syscall");
        assert_eq!(c.g.r11, c.g.eflags);
        assert_eq!(c.g.eflags & 0x100, 0, "the trap flag is not inherited");
        assert_eq!(c.g.eflags & 0x202, 0x202);
    }

    #[test]
    fn without_a_stack_the_child_shares_the_parents() {
        let c = child_regs(parent(), None, 0);
        assert_eq!(c.g.rsp, 0x7000_0000);
    }

    #[test]
    fn xmm_values_land_in_the_fxsave_image() {
        let mut r = GuestRegs::default();
        let mut xmm = [[0u64; 2]; 16];
        xmm[1] = [0x1111, 0x2222];
        r.set_xmm(&xmm);
        assert_eq!(r.fx[176..184], 0x1111u64.to_le_bytes());
        assert_eq!(r.fx[184..192], 0x2222u64.to_le_bytes());
    }
}
