//! Signal actions, masks and alternate stacks, recorded with Linux's rules.
//!
//! Delivery (building a signal frame, `rt_sigreturn`) belongs to the platforms and comes
//! with threads and faults; what is here is the state the guest sets and reads back.

use crate::abi::{KernelSigaction, StackT};
use crate::Errno;

pub const NSIG: usize = 64;
pub const SIGKILL: u32 = 9;
pub const SIGSTOP: u32 = 19;
pub const SIGPIPE: u32 = 13;

/// `sa_handler` values.
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// `sa_flags` bits.
pub mod sa {
    pub const SA_NOCLDSTOP: u64 = 0x0000_0001;
    pub const SA_NOCLDWAIT: u64 = 0x0000_0002;
    pub const SA_SIGINFO: u64 = 0x0000_0004;
    pub const SA_UNSUPPORTED: u64 = 0x0000_0400;
    pub const SA_EXPOSE_TAGBITS: u64 = 0x0000_0800;
    pub const SA_RESTORER: u64 = 0x0400_0000;
    pub const SA_ONSTACK: u64 = 0x0800_0000;
    pub const SA_RESTART: u64 = 0x1000_0000;
    pub const SA_NODEFER: u64 = 0x4000_0000;
    pub const SA_RESETHAND: u64 = 0x8000_0000;
    /// The flags Linux keeps (`UAPI_SA_FLAGS` on x86-64); it drops the others so that
    /// programs can probe for support with `SA_UNSUPPORTED`.
    pub const KNOWN: u64 = SA_NOCLDSTOP
        | SA_NOCLDWAIT
        | SA_SIGINFO
        | SA_ONSTACK
        | SA_RESTART
        | SA_NODEFER
        | SA_RESETHAND
        | SA_EXPOSE_TAGBITS
        | SA_RESTORER;
}

/// `how` for `rt_sigprocmask`.
pub const SIG_BLOCK: i32 = 0;
pub const SIG_UNBLOCK: i32 = 1;
pub const SIG_SETMASK: i32 = 2;

/// `sigaltstack` flags and sizes.
pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;
pub const SS_AUTODISARM: i32 = 1 << 31;
pub const MINSIGSTKSZ: u64 = 2048;

/// Bits a mask may never hold.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/// The signal actions of a process.
#[derive(Debug, Clone)]
pub struct SignalActions {
    actions: [KernelSigaction; NSIG],
}

impl Default for SignalActions {
    fn default() -> Self {
        SignalActions { actions: [KernelSigaction::default(); NSIG] }
    }
}

/// Validates a signal number (1..=64).
pub fn check_signal(sig: i32) -> Result<usize, Errno> {
    if (1..=NSIG as i32).contains(&sig) {
        Ok(sig as usize - 1)
    } else {
        Err(Errno::EINVAL)
    }
}

impl SignalActions {
    /// `rt_sigaction`: returns the old action; installs `new` when given.
    pub fn exchange(&mut self, sig: i32, new: Option<KernelSigaction>) -> Result<KernelSigaction, Errno> {
        let idx = check_signal(sig)?;
        let old = self.actions[idx];
        if let Some(mut act) = new {
            if sig as u32 == SIGKILL || sig as u32 == SIGSTOP {
                return Err(Errno::EINVAL);
            }
            // SIGKILL/SIGSTOP never enter a mask; unknown flags are dropped.
            act.mask &= !UNBLOCKABLE;
            act.flags &= sa::KNOWN;
            self.actions[idx] = act;
        }
        Ok(old)
    }

    /// The action for `sig` (1-based).
    pub fn get(&self, sig: i32) -> Option<&KernelSigaction> {
        check_signal(sig).ok().map(|i| &self.actions[i])
    }
}

/// Applies `rt_sigprocmask`'s `how` to `mask`.
pub fn apply_mask(mask: u64, how: i32, set: u64) -> Result<u64, Errno> {
    let new = match how {
        SIG_BLOCK => mask | set,
        SIG_UNBLOCK => mask & !set,
        SIG_SETMASK => set,
        _ => return Err(Errno::EINVAL),
    };
    Ok(new & !UNBLOCKABLE)
}

/// `sigaltstack`: validates and returns the stack to install.
pub fn validate_altstack(ss: &StackT, currently_on_it: bool) -> Result<StackT, Errno> {
    if currently_on_it {
        return Err(Errno::EPERM);
    }
    let mode = ss.ss_flags & !SS_AUTODISARM;
    match mode {
        0 | SS_ONSTACK => {
            if ss.ss_size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            Ok(StackT { ss_flags: ss.ss_flags & SS_AUTODISARM, ..*ss })
        }
        // Linux keeps SS_AUTODISARM even here (and reports it back).
        SS_DISABLE => Ok(StackT { ss_sp: 0, ss_size: 0, ss_flags: ss.ss_flags, pad: 0 }),
        _ => Err(Errno::EINVAL),
    }
}

/// A write by `thread` hit a broken pipe: as Linux's `pipe_write`, SIGPIPE is sent
/// to the writing thread (which its default action turns into the end of the
/// process) and the write fails with EPIPE.
pub fn broken_pipe(kernel: &crate::Kernel, thread: &crate::Thread) -> Errno {
    let info =
        crate::siginfo::SigInfo::sent(SIGPIPE, crate::siginfo::code::SI_USER, kernel.identity.pid, kernel.identity.uid);
    let _ = kernel.send_signal(crate::sigsend::SignalTarget::Thread(thread.tid), info);
    Errno::EPIPE
}

#[cfg(test)]
#[path = "signal_tests.rs"]
mod tests;
