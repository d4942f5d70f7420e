//! Guest futexes on the hosted platform: the guest's memory is this process's memory,
//! so a guest futex word is a host futex word and each operation is the host's `futex`
//! on the same address. The host kernel then does exactly what Linux does — wait
//! queues, bitsets, requeueing, `FUTEX_WAKE_OP`'s atomic operation, private and shared
//! keys, timeouts on either clock, EFAULT for unmapped words — and a wake from the
//! guest reaches a waiter of the guest whichever host thread each runs on.
//!
//! The shim only hands over words inside the guest window, so a guest can never wait
//! on or wake a futex of the libOS's own. Raw syscalls: no errno, so no TLS.
//!
//! A wait ends when a signal for the thread arrives (`signals::interruptible`), with
//! the restart code Linux's futex_wait returns.

use libos::futex::{FutexOp, FutexTimeout};
use libos::time::ClockId;
use libos::{Errno, SysResult};

use crate::host::raw_syscall6;

const FUTEX_WAIT: u64 = 0;
const FUTEX_REQUEUE: u64 = 3;
const FUTEX_CMP_REQUEUE: u64 = 4;
const FUTEX_WAKE_OP: u64 = 5;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_PRIVATE_FLAG: u64 = 128;
const FUTEX_CLOCK_REALTIME: u64 = 256;

/// Runs `op` as the host's futex.
pub fn futex(op: &FutexOp) -> SysResult {
    let private = if op.is_private() { FUTEX_PRIVATE_FLAG } else { 0 };
    let r = match *op {
        FutexOp::Wait { addr, expected, bitset, timeout, .. } => {
            let (cmd, ts) = match timeout {
                None => (FUTEX_WAIT_BITSET, None),
                Some(FutexTimeout::Relative(t)) => (FUTEX_WAIT, Some(t)),
                Some(FutexTimeout::Absolute { clock, at }) => {
                    let rt = if clock == ClockId::Realtime { FUTEX_CLOCK_REALTIME } else { 0 };
                    (FUTEX_WAIT_BITSET | rt, Some(at))
                }
            };
            let ts = ts.map(|t| libc::timespec { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec });
            let ts_ptr = ts.as_ref().map_or(0, |t| t as *const libc::timespec as u64);
            // `addr` is an aligned guest address the host checks itself (the guest
            // window is this process's memory); `ts_ptr` is null or a timespec on this
            // stack. A signal for this thread ends the wait (see `signals`).
            let r = crate::signals::interruptible(
                libc::SYS_futex,
                [addr, cmd | private, expected.into(), ts_ptr, 0, bitset.into()],
            );
            if r == -(libc::EINTR as i64) {
                // Linux: restarted after a handler with SA_RESTART (or none) when there
                // is no timeout; EINTR after any handler otherwise.
                return Err(if timeout.is_none() { Errno::ERESTARTSYS } else { Errno::ERESTARTNOHAND });
            }
            r as isize
        }
        FutexOp::Wake { addr, count, bitset, .. } => {
            // SAFETY: as above; a wake only reads the address.
            unsafe {
                raw_syscall6(libc::SYS_futex, addr, FUTEX_WAKE_BITSET | private, count.into(), 0, 0, bitset.into())
            }
        }
        FutexOp::Requeue { addr, addr2, wake, requeue, expected, .. } => {
            let (cmd, val3) = match expected {
                Some(v) => (FUTEX_CMP_REQUEUE, v),
                None => (FUTEX_REQUEUE, 0),
            };
            // SAFETY: as above; the fourth argument is a count here, not a pointer.
            unsafe {
                raw_syscall6(libc::SYS_futex, addr, cmd | private, wake.into(), requeue.into(), addr2, val3.into())
            }
        }
        FutexOp::WakeOp { addr, addr2, wake, wake2, encoded, .. } => {
            // SAFETY: as above; the host applies the operation to the guest word.
            unsafe {
                raw_syscall6(
                    libc::SYS_futex,
                    addr,
                    FUTEX_WAKE_OP | private,
                    wake.into(),
                    wake2.into(),
                    addr2,
                    encoded.into(),
                )
            }
        }
    };
    if r >= 0 {
        Ok(r as usize)
    } else {
        Err(Errno::from_number(-r as i32).unwrap_or(Errno::EINVAL))
    }
}
