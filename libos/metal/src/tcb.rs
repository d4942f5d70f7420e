//! The thread control block: a guest thread's saved user state, where the assembly in
//! src/switch.s finds it.
//!
//! GS base always holds the running thread's block (the guest owns FS, for its TLS;
//! nothing a Linux program does touches GS base). `syscall` and the interrupt paths
//! store every guest register here, so a thread's state is in one place whichever way
//! it left guest code, and one path back ([`resume_guest`]) serves them all.

use libos::context::{GRegs, GuestContext, FXSAVE_SIZE};

/// Offsets the assembly uses (checked against the struct below at compile time).
pub const OFF_SELF: usize = 0;
pub const OFF_KSTACK_TOP: usize = 8;
pub const OFF_REGS: usize = 16;
pub const OFF_IRET: usize = 160;
pub const OFF_FX: usize = 256;

/// The saved state of one guest thread.
#[repr(C, align(64))]
pub struct Tcb {
    /// This block's own address (GS:0).
    pub self_ptr: u64,
    /// The top of the thread's kernel stack: syscalls run there.
    pub kstack_top: u64,
    /// The guest's general registers, RIP, RSP and RFLAGS.
    pub regs: GRegs,
    /// Scratch for the `iretq` frame of the way back (RIP, CS, RFLAGS, RSP, SS).
    pub iret: [u64; 5],
    _pad: [u64; 7],
    /// The guest's x87/SSE/AVX state: an XSAVE area (standard format) when the CPU
    /// has XSAVE, else an FXSAVE image in its first 512 bytes (src/fpu.rs).
    pub fx: [u8; crate::fpu::AREA_SIZE],
    /// The FS base the guest runs with (its TLS).
    pub fs_base: u64,
}

const _: () = {
    assert!(core::mem::offset_of!(Tcb, self_ptr) == OFF_SELF);
    assert!(core::mem::offset_of!(Tcb, kstack_top) == OFF_KSTACK_TOP);
    assert!(core::mem::offset_of!(Tcb, regs) == OFF_REGS);
    assert!(core::mem::offset_of!(Tcb, iret) == OFF_IRET);
    assert!(core::mem::offset_of!(Tcb, fx) == OFF_FX);
    assert!(OFF_FX % 64 == 0); // XSAVE needs 64-byte alignment
};

/// The FPU state of a fresh thread: x87 control word 0x37f, MXCSR 0x1f80 (all
/// exceptions masked, round to nearest), as Linux starts a process.
pub fn initial_fx() -> [u8; crate::fpu::AREA_SIZE] {
    let mut fx = [0u8; crate::fpu::AREA_SIZE];
    fx[0..2].copy_from_slice(&0x37fu16.to_le_bytes());
    fx[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
    crate::fpu::mark_legacy_valid(&mut fx);
    fx
}

impl Tcb {
    pub fn new(kstack_top: u64) -> Tcb {
        Tcb {
            self_ptr: 0,
            kstack_top,
            regs: GRegs { eflags: 0x202, ..GRegs::default() },
            iret: [0; 5],
            _pad: [0; 7],
            fx: initial_fx(),
            fs_base: 0,
        }
    }

    /// The state as the shim's signal code sees it.
    pub fn context(&self) -> GuestContext {
        let mut fpstate = [0u8; FXSAVE_SIZE];
        fpstate.copy_from_slice(&self.fx[..FXSAVE_SIZE]);
        GuestContext { regs: self.regs, fpstate, err: 0, trapno: 0, cr2: 0 }
    }

    /// Takes the registers and FPU state of `ctx` (after a signal frame was set up or
    /// taken down).
    pub fn set_context(&mut self, ctx: &GuestContext) {
        self.regs = ctx.regs;
        self.fx[..FXSAVE_SIZE].copy_from_slice(&ctx.fpstate);
        // The legacy area now holds what the frame says: have XRSTOR load it (the
        // x87 and SSE bits of XSTATE_BV) rather than reset those registers.
        crate::fpu::mark_legacy_valid(&mut self.fx);
        // MXCSR bits above its mask fault on fxrstor: keep what a guest frame may hold
        // within what the CPU accepts.
        let mxcsr = u32::from_le_bytes(self.fx[24..28].try_into().expect("4 bytes")) & 0xffff;
        self.fx[24..28].copy_from_slice(&mxcsr.to_le_bytes());
    }
}

extern "C" {
    /// Loads `tcb`'s registers and FPU state and returns to the guest with `iretq`
    /// (src/switch.s). Interrupts come back on with the guest's RFLAGS.
    pub fn resume_guest(tcb: *mut Tcb) -> !;
}
