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

/// A complete user register state to start a thread with.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct GuestRegs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
    pub fs_base: u64,
    pub pad: u64,
    pub xmm: [[u64; 2]; 16],
}

/// The calling guest thread's registers at the syscall it is making now, and the
/// stack pointer it had at the `syscall` instruction.
///
/// # Safety
/// Call only while serving a syscall on the thread that owns `block`, from either
/// entry path.
pub unsafe fn caller_regs(block: &ThreadBlock) -> (GuestRegs, u64) {
    if block.sigsys_uctx.is_null() {
        // SAFETY: the fast entry pushed a FastFrame right below the libOS stack top and
        // the XMM registers below that; this syscall is still being served.
        unsafe { from_fast_frame(block) }
    } else {
        // SAFETY: the SIGSYS handler recorded the kernel's signal frame for this syscall.
        unsafe { from_signal_frame(&*block.sigsys_uctx) }
    }
}

/// # Safety
/// As for [`caller_regs`], on the fast path.
unsafe fn from_fast_frame(block: &ThreadBlock) -> (GuestRegs, u64) {
    let frame_addr = block.libos_rsp - size_of::<FastFrame>() as u64;
    // SAFETY: see `caller_regs`: the entry wrote this frame and it is still live.
    let f = unsafe { *(frame_addr as *const FastFrame) };
    // SAFETY: as above, the 16 XMM saves are right below the padding under the frame.
    let xmm = unsafe { *((frame_addr - XMM_AREA) as *const [[u64; 2]; 16]) };
    let (rip, site_rsp) = (block.resume_rip, block.guest_rsp);
    let regs = GuestRegs {
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
        rip,
        rflags: RFLAGS_FIXED,
        xmm,
        ..GuestRegs::default()
    };
    (regs, site_rsp)
}

/// # Safety
/// `uc` is the kernel's signal frame of a SIGSYS this thread is serving.
unsafe fn from_signal_frame(uc: &libc::ucontext_t) -> (GuestRegs, u64) {
    let g = &uc.uc_mcontext.gregs;
    let r = |i: i32| g[i as usize] as u64;
    let mut xmm = [[0u64; 2]; 16];
    if !uc.uc_mcontext.fpregs.is_null() {
        // SAFETY: the kernel points `fpregs` at the FXSAVE area it saved in the frame.
        let fp = unsafe { &*uc.uc_mcontext.fpregs };
        for (dst, src) in xmm.iter_mut().zip(fp._xmm.iter()) {
            let e = src.element;
            *dst = [u64::from(e[0]) | u64::from(e[1]) << 32, u64::from(e[2]) | u64::from(e[3]) << 32];
        }
    }
    let regs = GuestRegs {
        rbx: r(libc::REG_RBX),
        rcx: r(libc::REG_RCX),
        rdx: r(libc::REG_RDX),
        rsi: r(libc::REG_RSI),
        rdi: r(libc::REG_RDI),
        rbp: r(libc::REG_RBP),
        r8: r(libc::REG_R8),
        r9: r(libc::REG_R9),
        r10: r(libc::REG_R10),
        r11: r(libc::REG_R11),
        r12: r(libc::REG_R12),
        r13: r(libc::REG_R13),
        r14: r(libc::REG_R14),
        r15: r(libc::REG_R15),
        rip: r(libc::REG_RIP),
        rflags: r(libc::REG_EFL),
        xmm,
        ..GuestRegs::default()
    };
    (regs, r(libc::REG_RSP))
}

/// A new thread's registers: the parent's, with RAX = 0 (the child's `clone` result),
/// the given stack (the parent's at the syscall if none), FS base `fs_base`, and RCX
/// and R11 as `syscall` leaves them (return address, flags).
pub fn child_regs(parent: GuestRegs, site_rsp: u64, stack: Option<u64>, fs_base: u64) -> GuestRegs {
    let rflags = (parent.rflags & RFLAGS_KEPT) | RFLAGS_FIXED;
    GuestRegs { rax: 0, rsp: stack.unwrap_or(site_rsp), rcx: parent.rip, r11: rflags, rflags, fs_base, ..parent }
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
    "mov qword ptr gs:[64], 0",
    "mov rax, [rdi + {rip}]",
    "mov gs:[80], rax",
    "mov rax, [rdi + {fs}]",
    "mov gs:[16], rax",
    "wrfsbase rax",
    "push qword ptr [rdi + {rflags}]",
    "popfq",
    "movaps xmm0, [rdi + {xmm} + 0]",
    "movaps xmm1, [rdi + {xmm} + 16]",
    "movaps xmm2, [rdi + {xmm} + 32]",
    "movaps xmm3, [rdi + {xmm} + 48]",
    "movaps xmm4, [rdi + {xmm} + 64]",
    "movaps xmm5, [rdi + {xmm} + 80]",
    "movaps xmm6, [rdi + {xmm} + 96]",
    "movaps xmm7, [rdi + {xmm} + 112]",
    "movaps xmm8, [rdi + {xmm} + 128]",
    "movaps xmm9, [rdi + {xmm} + 144]",
    "movaps xmm10, [rdi + {xmm} + 160]",
    "movaps xmm11, [rdi + {xmm} + 176]",
    "movaps xmm12, [rdi + {xmm} + 192]",
    "movaps xmm13, [rdi + {xmm} + 208]",
    "movaps xmm14, [rdi + {xmm} + 224]",
    "movaps xmm15, [rdi + {xmm} + 240]",
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
    rip = const offset_of!(GuestRegs, rip),
    fs = const offset_of!(GuestRegs, fs_base),
    rflags = const offset_of!(GuestRegs, rflags),
    xmm = const offset_of!(GuestRegs, xmm),
    rax = const offset_of!(GuestRegs, rax),
    rbx = const offset_of!(GuestRegs, rbx),
    rcx = const offset_of!(GuestRegs, rcx),
    rdx = const offset_of!(GuestRegs, rdx),
    rsi = const offset_of!(GuestRegs, rsi),
    rdi = const offset_of!(GuestRegs, rdi),
    rbp = const offset_of!(GuestRegs, rbp),
    rsp = const offset_of!(GuestRegs, rsp),
    r8 = const offset_of!(GuestRegs, r8),
    r9 = const offset_of!(GuestRegs, r9),
    r10 = const offset_of!(GuestRegs, r10),
    r11 = const offset_of!(GuestRegs, r11),
    r12 = const offset_of!(GuestRegs, r12),
    r13 = const offset_of!(GuestRegs, r13),
    r14 = const offset_of!(GuestRegs, r14),
    r15 = const offset_of!(GuestRegs, r15),
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
    assert!(size_of::<FastFrame>() == 13 * 8);
    assert!(offset_of!(GuestRegs, xmm).is_multiple_of(16));
};

#[cfg(test)]
mod tests {
    use super::*;

    fn parent() -> GuestRegs {
        GuestRegs {
            rax: 56,
            rbx: 1,
            rdx: 2,
            r8: 3,
            r12: 4,
            rip: 0x40_1000,
            rflags: 0x0346 | 0x100,
            ..GuestRegs::default()
        }
    }

    #[test]
    fn the_child_sees_zero_its_stack_and_tls() {
        let c = child_regs(parent(), 0x7000_0000, Some(0x5000_0000), 0x6000_0000);
        assert_eq!((c.rax, c.rsp, c.fs_base), (0, 0x5000_0000, 0x6000_0000));
        assert_eq!((c.rbx, c.rdx, c.r8, c.r12, c.rip), (1, 2, 3, 4, 0x40_1000));
        assert_eq!(c.rcx, 0x40_1000, "RCX holds the return address, as after syscall");
        assert_eq!(c.r11, c.rflags);
        assert_eq!(c.rflags & 0x100, 0, "the trap flag is not inherited");
        assert_eq!(c.rflags & 0x202, 0x202);
    }

    #[test]
    fn without_a_stack_the_child_shares_the_parents() {
        let c = child_regs(parent(), 0x7000_0000, None, 0);
        assert_eq!(c.rsp, 0x7000_0000);
    }
}
