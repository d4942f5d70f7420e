//! A guest thread's user-mode register state as Linux's signal frame holds it: what a
//! platform hands the shim when it delivers a signal or serves `rt_sigreturn`, and
//! what it resumes the guest with afterwards.

/// Size of the legacy FXSAVE area (x87, MXCSR, XMM0–15).
pub const FXSAVE_SIZE: usize = 512;

/// The general registers in `struct sigcontext` order.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GRegs {
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub rdx: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rsp: u64,
    pub rip: u64,
    pub eflags: u64,
}

/// What the platform knows about the interrupted guest.
#[derive(Clone, Debug)]
pub struct GuestContext {
    pub regs: GRegs,
    /// The FXSAVE image of the FPU/SSE state (16-byte alignment is the platform's
    /// business when it saves or restores it).
    pub fpstate: [u8; FXSAVE_SIZE],
    /// For a fault: the error code, the trap number and the faulting address (CR2).
    pub err: u64,
    pub trapno: u64,
    pub cr2: u64,
}
