//! `futex(2)`: decoding and validating an operation the way Linux does, before any guest
//! memory is touched. The operation itself (waiting, waking, requeueing) is the
//! platform's ([`crate::Platform::futex`]): on the hosted platform a guest futex word is a
//! host futex word, so the host kernel does it; a VM platform has no host kernel and
//! uses the libOS's own futexes, [`crate::futex_table::FutexTable`].
//!
//! Linux checks, in this order: the timeout (read and validated by the syscall entry for
//! the operations that take one, EINVAL if it is not a valid `timespec`), then
//! `FUTEX_CLOCK_REALTIME` (ENOSYS unless the operation is `FUTEX_WAIT_BITSET`), then
//! the operation's own arguments (a zero bitset, negative requeue counts: EINVAL), then
//! the addresses (EINVAL when not 4-byte aligned), and only then guest memory (EFAULT,
//! EAGAIN, ...). [`decode`] covers everything before the alignment check;
//! [`FutexOp::addresses`] lists the words whose alignment the caller checks next.

use crate::abi::Timespec;
use crate::time::ClockId;
use crate::Errno;

/// Operation numbers and flags, with Linux's values.
pub mod op {
    pub const FUTEX_WAIT: u32 = 0;
    pub const FUTEX_WAKE: u32 = 1;
    pub const FUTEX_FD: u32 = 2;
    pub const FUTEX_REQUEUE: u32 = 3;
    pub const FUTEX_CMP_REQUEUE: u32 = 4;
    pub const FUTEX_WAKE_OP: u32 = 5;
    pub const FUTEX_LOCK_PI: u32 = 6;
    pub const FUTEX_UNLOCK_PI: u32 = 7;
    pub const FUTEX_TRYLOCK_PI: u32 = 8;
    pub const FUTEX_WAIT_BITSET: u32 = 9;
    pub const FUTEX_WAKE_BITSET: u32 = 10;
    pub const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
    pub const FUTEX_CMP_REQUEUE_PI: u32 = 12;
    pub const FUTEX_LOCK_PI2: u32 = 13;
    pub const FUTEX_PRIVATE_FLAG: u32 = 128;
    pub const FUTEX_CLOCK_REALTIME: u32 = 256;
    /// What is left of the operation once the two flags are taken out.
    pub const FUTEX_CMD_MASK: u32 = !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    /// The bitset `FUTEX_WAIT` and `FUTEX_WAKE` use: matches every waiter.
    pub const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;
}

/// Bits of a futex word that robust futexes and PI futexes give a meaning to.
pub mod word {
    /// Set by a waiter of a robust or PI lock: the owner must wake on unlock.
    pub const FUTEX_WAITERS: u32 = 0x8000_0000;
    /// Set by the kernel when the owner of a robust lock died holding it.
    pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
    /// The owner's tid.
    pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
}

use op::*;

/// When a wait gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FutexTimeout {
    /// `FUTEX_WAIT`: this long from now, measured on the monotonic clock.
    Relative(Timespec),
    /// `FUTEX_WAIT_BITSET`: at this time of `clock` (monotonic, or realtime with
    /// `FUTEX_CLOCK_REALTIME`).
    Absolute { clock: ClockId, at: Timespec },
}

/// A validated futex operation. Addresses are guest addresses; `private` is
/// `FUTEX_PRIVATE_FLAG` (the word is not shared with another process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FutexOp {
    /// Sleep while `*addr == expected`, until woken by a wake whose bitset shares a bit
    /// with `bitset`, or the timeout.
    Wait { addr: u64, expected: u32, bitset: u32, timeout: Option<FutexTimeout>, private: bool },
    /// Wake up to `count` waiters whose bitset shares a bit with `bitset` (Linux wakes
    /// one even for a count of 0).
    Wake { addr: u64, count: u32, bitset: u32, private: bool },
    /// Wake up to `wake` waiters of `addr` and move up to `requeue` more to `addr2`;
    /// with `expected` (`FUTEX_CMP_REQUEUE`) only if `*addr` still holds it (else
    /// EAGAIN).
    Requeue { addr: u64, addr2: u64, wake: u32, requeue: u32, expected: Option<u32>, private: bool },
    /// Atomically apply `encoded` (a [`WakeOp`]) to `*addr2`, wake up to `wake` waiters
    /// of `addr`, and, if the comparison on the old value of `*addr2` holds, up to
    /// `wake2` waiters of `addr2`.
    WakeOp { addr: u64, addr2: u64, wake: u32, wake2: u32, encoded: u32, private: bool },
}

impl FutexOp {
    /// The futex words the operation names, in the order Linux checks their alignment.
    pub fn addresses(&self) -> ([u64; 2], usize) {
        match *self {
            FutexOp::Wait { addr, .. } | FutexOp::Wake { addr, .. } => ([addr, 0], 1),
            FutexOp::Requeue { addr, addr2, .. } | FutexOp::WakeOp { addr, addr2, .. } => ([addr, addr2], 2),
        }
    }

    pub fn is_private(&self) -> bool {
        match *self {
            FutexOp::Wait { private, .. }
            | FutexOp::Wake { private, .. }
            | FutexOp::Requeue { private, .. }
            | FutexOp::WakeOp { private, .. } => private,
        }
    }
}

/// Whether operation `op` takes a timeout in its fourth argument (a `timespec`
/// pointer); for the others that argument is a number (`val2`).
pub fn takes_timeout(op: u32) -> bool {
    matches!(
        op & FUTEX_CMD_MASK,
        FUTEX_WAIT | FUTEX_WAIT_BITSET | FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_WAIT_REQUEUE_PI
    )
}

/// Whether `op` is one of the priority-inheritance operations unify does not offer.
pub fn is_pi(op: u32) -> bool {
    matches!(
        op & FUTEX_CMD_MASK,
        FUTEX_LOCK_PI
            | FUTEX_UNLOCK_PI
            | FUTEX_TRYLOCK_PI
            | FUTEX_WAIT_REQUEUE_PI
            | FUTEX_CMP_REQUEUE_PI
            | FUTEX_LOCK_PI2
    )
}

/// The raw arguments of `futex(uaddr, op, val, timeout_or_val2, uaddr2, val3)`, with
/// the timeout already read from guest memory when [`takes_timeout`] says there is one.
#[derive(Debug, Clone, Copy, Default)]
pub struct FutexArgs {
    pub uaddr: u64,
    pub op: u32,
    pub val: u32,
    /// The `timespec` read from the fourth argument (`None` for a NULL pointer or an
    /// operation without a timeout).
    pub timeout: Option<Timespec>,
    /// The fourth argument as a number (`val2`: the requeue count, `FUTEX_WAKE_OP`'s
    /// second wake count).
    pub val2: u32,
    pub uaddr2: u64,
    pub val3: u32,
}

/// Validates `args` as Linux does before touching memory (see the module docs).
/// Unknown operations, the PI family and `FUTEX_FD` give ENOSYS.
pub fn decode(args: &FutexArgs) -> Result<FutexOp, Errno> {
    let cmd = args.op & FUTEX_CMD_MASK;
    let private = args.op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = args.op & FUTEX_CLOCK_REALTIME != 0;
    if let Some(t) = args.timeout {
        if takes_timeout(args.op) && !t.is_valid() {
            return Err(Errno::EINVAL);
        }
    }
    if realtime && !matches!(cmd, FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2) {
        return Err(Errno::ENOSYS);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { FUTEX_BITSET_MATCH_ANY } else { args.val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            let timeout = args.timeout.map(|t| {
                if cmd == FUTEX_WAIT {
                    FutexTimeout::Relative(t)
                } else {
                    let clock = if realtime { ClockId::Realtime } else { ClockId::Monotonic };
                    FutexTimeout::Absolute { clock, at: t }
                }
            });
            Ok(FutexOp::Wait { addr: args.uaddr, expected: args.val, bitset, timeout, private })
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { FUTEX_BITSET_MATCH_ANY } else { args.val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(FutexOp::Wake { addr: args.uaddr, count: args.val, bitset, private })
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if (args.val as i32) < 0 || (args.val2 as i32) < 0 {
                return Err(Errno::EINVAL);
            }
            Ok(FutexOp::Requeue {
                addr: args.uaddr,
                addr2: args.uaddr2,
                wake: args.val,
                requeue: args.val2,
                expected: (cmd == FUTEX_CMP_REQUEUE).then_some(args.val3),
                private,
            })
        }
        FUTEX_WAKE_OP => Ok(FutexOp::WakeOp {
            addr: args.uaddr,
            addr2: args.uaddr2,
            wake: args.val,
            wake2: args.val2,
            encoded: args.val3,
            private,
        }),
        _ => Err(Errno::ENOSYS),
    }
}

/// `FUTEX_WAKE_OP`'s fourth word: an operation on the second futex word and a
/// comparison of its old value, `FUTEX_OP(op, oparg, cmp, cmparg)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WakeOp {
    /// 0 set, 1 add, 2 or, 3 and-not, 4 xor.
    pub op: u32,
    /// The operand, after `FUTEX_OP_OPARG_SHIFT` turned it into `1 << oparg`.
    pub oparg: u32,
    /// 0 ==, 1 !=, 2 <, 3 <=, 4 >, 5 >=.
    pub cmp: u32,
    pub cmparg: i32,
}

const FUTEX_OP_OPARG_SHIFT: u32 = 8;

impl WakeOp {
    /// Decodes the operand fields (12-bit signed operands, as Linux reads them). A shift
    /// of more than 31 is taken modulo 32, as Linux does (it logs a complaint).
    pub fn decode(encoded: u32) -> WakeOp {
        let sign_extend_12 = |v: u32| ((v << 20) as i32) >> 20;
        let op = (encoded >> 28) & 7;
        let mut oparg = sign_extend_12((encoded >> 12) & 0xfff) as u32;
        if (encoded >> 28) & FUTEX_OP_OPARG_SHIFT != 0 {
            oparg = 1u32 << (oparg & 31);
        }
        WakeOp { op, oparg, cmp: (encoded >> 24) & 0xf, cmparg: sign_extend_12(encoded & 0xfff) }
    }

    /// The new value of the word for old value `old` (ENOSYS for an unknown operation,
    /// which Linux reports before touching the word).
    pub fn apply(&self, old: u32) -> Result<u32, Errno> {
        Ok(match self.op {
            0 => self.oparg,
            1 => old.wrapping_add(self.oparg),
            2 => old | self.oparg,
            3 => old & !self.oparg,
            4 => old ^ self.oparg,
            _ => return Err(Errno::ENOSYS),
        })
    }

    /// Whether the second word's waiters are woken, given its old value (ENOSYS for an
    /// unknown comparison, which Linux reports after the word was changed).
    pub fn compare(&self, old: u32) -> Result<bool, Errno> {
        let (old, arg) = (old as i32, self.cmparg);
        Ok(match self.cmp {
            0 => old == arg,
            1 => old != arg,
            2 => old < arg,
            3 => old <= arg,
            4 => old > arg,
            5 => old >= arg,
            _ => return Err(Errno::ENOSYS),
        })
    }
}

#[cfg(test)]
#[path = "futex_tests.rs"]
mod tests;
