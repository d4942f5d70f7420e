//! Per-thread state the libOS keeps for a guest thread.

use crate::abi::StackT;
use crate::signal::SS_DISABLE;

/// One guest thread.
#[derive(Debug, Clone)]
pub struct Thread {
    pub tid: u32,
    /// `set_tid_address` / `CLONE_CHILD_CLEARTID`: zeroed and futex-woken on exit.
    pub clear_child_tid: u64,
    /// Blocked signals (bit N-1 = signal N).
    pub sigmask: u64,
    pub altstack: StackT,
    /// `set_robust_list` head and length.
    pub robust_list: (u64, u64),
    /// The guest's FS base (its TLS pointer), set by `arch_prctl(ARCH_SET_FS)`.
    pub fs_base: u64,
    /// The guest's GS base.
    pub gs_base: u64,
}

impl Thread {
    pub fn new(tid: u32) -> Thread {
        Thread {
            tid,
            clear_child_tid: 0,
            sigmask: 0,
            altstack: StackT { ss_sp: 0, ss_flags: SS_DISABLE, pad: 0, ss_size: 0 },
            robust_list: (0, 0),
            fs_base: 0,
            gs_base: 0,
        }
    }
}
