//! What a platform runs before a guest thread goes back to guest code with a signal to
//! take: Linux's `arch_do_signal_or_restart`. Each signal with a guest handler gets a
//! frame ([`crate::sigframe::setup_frame`]); default actions happen in
//! [`libos::Kernel::next_signal`]; a syscall interrupted by the signal is restarted or
//! fails with EINTR, as its restart code and the handler's `SA_RESTART` say.

use libos::context::GuestContext;
use libos::siginfo::SigInfo;
use libos::signal::sa;
use libos::{Errno, Kernel, Thread};

use crate::sigframe::setup_frame;

const SIGSEGV: u32 = 11;

/// The guest resumes from a syscall: how to make it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyscallRestart {
    /// The syscall's number (RAX when it is made again).
    pub nr: u64,
    /// How far back from the resume address the code that makes it lies: 2 for a
    /// `syscall` instruction, the stub's own length for a rewritten site.
    pub backup: u64,
}

/// The restart code in `rax`, if the syscall returned one.
fn restart_code(rax: u64) -> Option<Errno> {
    let n = -(rax as i64);
    [Errno::ERESTARTSYS, Errno::ERESTARTNOINTR, Errno::ERESTARTNOHAND].into_iter().find(|e| e.number() as i64 == n)
}

fn make_again(ctx: &mut GuestContext, how: SyscallRestart) {
    ctx.regs.rax = how.nr;
    ctx.regs.rip = ctx.regs.rip.wrapping_sub(how.backup);
}

/// Delivers what the calling thread has to take before `ctx` resumes. `syscall` says
/// the guest resumes from a syscall whose result is in `ctx.regs.rax` (`None` when it
/// was stopped elsewhere, or `rt_sigreturn` replaced its registers).
pub fn deliver_pending(kernel: &Kernel, thread: &mut Thread, ctx: &mut GuestContext, syscall: Option<SyscallRestart>) {
    let mut restart = syscall.and_then(|s| restart_code(ctx.regs.rax).map(|code| (s, code)));
    while let Some((info, action)) = kernel.next_signal(thread) {
        if let Some((how, code)) = restart.take() {
            let again = match code {
                Errno::ERESTARTNOINTR => true,
                Errno::ERESTARTSYS => action.flags & sa::SA_RESTART != 0,
                _ => false,
            };
            if again {
                make_again(ctx, how);
            } else {
                ctx.regs.rax = (-(Errno::EINTR.number() as i64)) as u64;
            }
        }
        if setup_frame(kernel, thread, ctx, &info, &action).is_err() {
            frame_fault(kernel, &info);
        }
    }
    // Interrupted, but no handler ran (the signal was ignored, or taken by another
    // thread): the syscall is made again.
    if let Some((how, _)) = restart {
        make_again(ctx, how);
    }
    if let Some(mask) = thread.saved_sigmask.take() {
        thread.set_sigmask(kernel, mask);
    }
}

/// The frame for `info` could not be written (the stack is unmapped or full): Linux
/// forces SIGSEGV, which then kills (its handler would need the same stack).
fn frame_fault(kernel: &Kernel, info: &SigInfo) -> ! {
    let mut line = alloc::string::String::new();
    let _ = core::fmt::write(
        &mut line,
        format_args!(
            "unify: no room for the frame of signal {} on the guest's stack; ending with SIGSEGV",
            info.signo()
        ),
    );
    kernel.platform.log(&line);
    kernel.platform.exit_by_signal(SIGSEGV)
}
