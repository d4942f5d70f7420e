//! The x86-64 signal frame: what Linux pushes on the guest's stack to run a handler,
//! and what `rt_sigreturn` reads back.
//!
//! ```text
//!   higher addresses   (the interrupted stack, less its 128-byte red zone,
//!                       or the top of the alternate stack)
//!   fpstate            512-byte FXSAVE image, 64-byte aligned
//!   siginfo            ┐
//!   ucontext           │ struct rt_sigframe
//!   pretcode ◀── RSP   ┘ = sa_restorer; the handler's `ret` goes there
//! ```
//!
//! RSP + 8 is 16-byte aligned at the handler's first instruction, as after a `call`.
//! The platform supplies the interrupted registers ([`GuestContext`]) and resumes
//! the guest with whatever [`setup_frame`] or [`restore_frame`] leave in it.

use libos::abi::StackT;
pub use libos::context::{GRegs, GuestContext, FXSAVE_SIZE};
use libos::siginfo::SigInfo;
use libos::signal::{sa, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK};
use libos::{Errno, Kernel, Thread};

use crate::user::{self, UserPtr};

/// `struct sigcontext` (256 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigContext {
    pub regs: GRegs,
    pub cs: u16,
    pub gs: u16,
    pub fs: u16,
    pub ss: u16,
    pub err: u64,
    pub trapno: u64,
    pub oldmask: u64,
    pub cr2: u64,
    /// Address of the FXSAVE image.
    pub fpstate: u64,
    pub reserved1: [u64; 8],
}

/// The kernel's `struct ucontext` (304 bytes; glibc's `ucontext_t` extends it).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UContext {
    pub uc_flags: u64,
    pub uc_link: u64,
    pub uc_stack: StackT,
    pub uc_mcontext: SigContext,
    pub uc_sigmask: u64,
}

/// `struct rt_sigframe` (440 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtSigFrame {
    pub pretcode: u64,
    pub uc: UContext,
    pub info: SigInfo,
}

// SAFETY: integers and #[repr(C)] structs of integers laid out without implicit
// padding (the sizes and offsets are checked in the tests below).
unsafe impl user::Pod for RtSigFrame {}
// SAFETY: as above: integers only, 128 bytes, no padding (checked in siginfo's tests).
unsafe impl user::Pod for SigInfo {}

/// Offset of MXCSR in the FXSAVE area.
const MXCSR_OFFSET: usize = 24;
/// Where the FXSAVE area's software-reserved bytes start (`struct _fpx_sw_bytes`).
const SW_RESERVED: usize = 464;
/// MXCSR bits a guest may set (the rest make FXRSTOR fault).
const MXCSR_MASK: u32 = 0xffff;

/// `uc_flags`: the frame records SS and sigreturn restores it strictly.
const UC_SIGCONTEXT_SS: u64 = 0x2;
const UC_STRICT_RESTORE_SS: u64 = 0x4;

/// The user code and stack selectors on x86-64 Linux.
pub const USER_CS: u16 = 0x33;
pub const USER_DS: u16 = 0x2b;

/// Flags `rt_sigreturn` takes from the frame (Linux's `FIX_EFLAGS`): AC OF DF TF SF
/// ZF AF PF CF RF.
const FIX_EFLAGS: u64 = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;
/// Cleared on entry to a handler: TF, DF, RF (and AC, as Linux does).
const HANDLER_CLEARS: u64 = 0x100 | 0x400 | 0x10000 | 0x40000;

const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

fn on_altstack(ss: &StackT, sp: u64) -> bool {
    ss.ss_flags & SS_DISABLE == 0 && sp > ss.ss_sp && sp - ss.ss_sp <= ss.ss_size
}

/// What `sigaltstack` reports for `ss` while the thread runs at `sp`.
pub fn altstack_status(ss: &StackT, sp: u64) -> StackT {
    let mut out = *ss;
    if ss.ss_flags & SS_DISABLE == 0 && on_altstack(ss, sp) {
        out.ss_flags = SS_ONSTACK | (ss.ss_flags & SS_AUTODISARM);
    }
    out
}

/// Pushes a frame for `info` and points `ctx` at the handler of `action`, as Linux's
/// `handle_signal` does: the stack (alternate if `SA_ONSTACK` and not already on
/// it), the blocked set during the handler (`sa_mask`, plus the signal itself unless
/// `SA_NODEFER`), `SA_RESETHAND`, `SS_AUTODISARM`. EFAULT if the frame cannot be
/// written or there is no `sa_restorer` (the caller then forces SIGSEGV).
pub fn setup_frame(
    kernel: &Kernel,
    thread: &mut Thread,
    ctx: &mut GuestContext,
    info: &SigInfo,
    action: &libos::abi::KernelSigaction,
) -> Result<(), Errno> {
    if action.flags & sa::SA_RESTORER == 0 {
        return Err(Errno::EFAULT);
    }
    let sig = info.signo();
    let ss = thread.altstack;
    let use_alt =
        action.flags & sa::SA_ONSTACK != 0 && ss.ss_flags & SS_DISABLE == 0 && !on_altstack(&ss, ctx.regs.rsp);
    let top = if use_alt { ss.ss_sp.wrapping_add(ss.ss_size) } else { ctx.regs.rsp.wrapping_sub(128) };
    let fp_addr = top.wrapping_sub(FXSAVE_SIZE as u64) & !63;
    let frame_addr = (fp_addr.wrapping_sub(core::mem::size_of::<RtSigFrame>() as u64) & !15).wrapping_sub(8);
    if !use_alt && on_altstack(&ss, ctx.regs.rsp) && frame_addr <= ss.ss_sp {
        return Err(Errno::EFAULT); // the alternate stack overflowed
    }

    // The mask the frame records (and rt_sigreturn restores): the one saved by
    // rt_sigsuspend and friends while they run with a temporary mask, else the current.
    let frame_mask = thread.saved_sigmask.take().unwrap_or(thread.sigmask());
    let reported_stack = if on_altstack(&ss, ctx.regs.rsp) || use_alt {
        StackT { ss_flags: SS_ONSTACK | (ss.ss_flags & SS_AUTODISARM), ..ss }
    } else {
        ss
    };
    let mut shown = ctx.regs;
    shown.rip = crate::site_map::to_original(shown.rip);
    let frame = RtSigFrame {
        pretcode: action.restorer,
        uc: UContext {
            uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
            uc_link: 0,
            uc_stack: reported_stack,
            uc_mcontext: SigContext {
                regs: shown,
                cs: USER_CS,
                gs: 0,
                fs: 0,
                ss: USER_DS,
                err: ctx.err,
                trapno: ctx.trapno,
                oldmask: frame_mask,
                cr2: ctx.cr2,
                fpstate: fp_addr,
                reserved1: [0; 8],
            },
            uc_sigmask: frame_mask,
        },
        info: *info,
    };
    let mut fpstate = ctx.fpstate;
    // The software-reserved bytes say whether extended (XSAVE) state follows; this
    // frame has none.
    fpstate[SW_RESERVED..].fill(0);
    user::slice_mut(fp_addr, FXSAVE_SIZE)?.copy_from_slice(&fpstate);
    UserPtr::<RtSigFrame>::new(frame_addr).write(frame)?;

    ctx.regs.rsp = frame_addr;
    ctx.regs.rip = action.handler;
    ctx.regs.rdi = u64::from(sig);
    ctx.regs.rsi = frame_addr + core::mem::offset_of!(RtSigFrame, info) as u64;
    ctx.regs.rdx = frame_addr + core::mem::offset_of!(RtSigFrame, uc) as u64;
    ctx.regs.rax = 0;
    ctx.regs.eflags &= !HANDLER_CLEARS;

    let mut blocked = thread.sigmask() | action.mask;
    if action.flags & sa::SA_NODEFER == 0 {
        blocked |= bit(sig);
    }
    thread.set_sigmask(kernel, blocked);
    if action.flags & sa::SA_RESETHAND != 0 {
        // Linux resets the handler only; the flags and mask stay.
        let reset = libos::abi::KernelSigaction { handler: libos::signal::SIG_DFL, ..*action };
        let _ = kernel.signals.lock().exchange(sig as i32, Some(reset));
    }
    if use_alt && ss.ss_flags & SS_AUTODISARM != 0 {
        thread.altstack = StackT { ss_sp: 0, ss_size: 0, ss_flags: SS_DISABLE, pad: 0 };
    }
    Ok(())
}

/// `rt_sigreturn`: reads the frame whose `pretcode` the handler's `ret` popped (so
/// it starts at `rsp - 8`) and gives back the interrupted context; restores the
/// blocked set and the alternate stack. EFAULT for a frame the guest cannot read
/// (the caller forces SIGSEGV, as Linux does).
pub fn restore_frame(
    kernel: &Kernel,
    thread: &mut Thread,
    rsp: u64,
    current_eflags: u64,
) -> Result<GuestContext, Errno> {
    let frame = UserPtr::<RtSigFrame>::new(rsp.wrapping_sub(8)).read()?;
    let mc = &frame.uc.uc_mcontext;
    let mut fpstate = [0u8; FXSAVE_SIZE];
    if mc.fpstate != 0 {
        fpstate.copy_from_slice(user::slice(mc.fpstate, FXSAVE_SIZE)?);
        let mxcsr = u32::from_le_bytes(fpstate[MXCSR_OFFSET..MXCSR_OFFSET + 4].try_into().unwrap_or([0; 4]));
        fpstate[MXCSR_OFFSET..MXCSR_OFFSET + 4].copy_from_slice(&(mxcsr & MXCSR_MASK).to_le_bytes());
    }
    let mut regs = mc.regs;
    regs.rip = crate::site_map::to_stub(regs.rip);
    regs.eflags = (current_eflags & !FIX_EFLAGS) | (mc.regs.eflags & FIX_EFLAGS);
    thread.set_sigmask(kernel, frame.uc.uc_sigmask);
    // Linux's restore_altstack: as sigaltstack would, ignoring errors.
    if !on_altstack(&thread.altstack, regs.rsp) {
        if let Ok(ss) = libos::signal::validate_altstack(&frame.uc.uc_stack, false) {
            thread.altstack = ss;
        }
    }
    Ok(GuestContext { regs, fpstate, err: mc.err, trapno: mc.trapno, cr2: mc.cr2 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts_match_the_kernel() {
        assert_eq!(size_of::<SigContext>(), 256);
        assert_eq!(size_of::<UContext>(), 304);
        assert_eq!(size_of::<RtSigFrame>(), 440);
        assert_eq!(offset_of!(UContext, uc_mcontext), 40);
        assert_eq!(offset_of!(UContext, uc_sigmask), 296);
        assert_eq!(offset_of!(SigContext, fpstate), 184);
        assert_eq!(offset_of!(RtSigFrame, info), 312);
        // glibc reads REG_RIP as gregs[16] of mcontext: offset 40 + 16*8 in ucontext.
        assert_eq!(offset_of!(UContext, uc_mcontext) + offset_of!(SigContext, regs) + offset_of!(GRegs, rip), 168);
    }

    #[test]
    fn altstack_status_reports_onstack() {
        let ss = StackT { ss_sp: 0x1000, ss_size: 0x2000, ss_flags: 0, pad: 0 };
        assert_eq!(altstack_status(&ss, 0x2000).ss_flags, SS_ONSTACK);
        assert_eq!(altstack_status(&ss, 0x8000).ss_flags, 0);
        let off = StackT { ss_flags: SS_DISABLE, ..ss };
        assert_eq!(altstack_status(&off, 0x2000).ss_flags, SS_DISABLE);
    }
}
