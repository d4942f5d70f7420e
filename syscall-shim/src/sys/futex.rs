//! futex, for a process with one thread.
//!
//! With a single guest thread nobody else can be waiting or waking, so every wake finds
//! no waiter (0) and a wait whose value matches sleeps until its timeout — exactly what
//! Linux does for a one-thread process. The operations check their arguments and touch
//! guest memory as Linux does. Wait queues arrive with threads.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use libos::abi::Timespec;
use libos::mm::Access;
use libos::time::ClockId;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::{user, warn};

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;

static PI_WARNED: AtomicBool = AtomicBool::new(false);

/// The futex word at `addr`, checked (EINVAL unaligned, EFAULT unmapped).
fn word(addr: u64, access: Access) -> Result<&'static AtomicU32, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let bytes = match access {
        Access::Read => user::slice(addr, 4)?.as_ptr(),
        Access::Write => user::slice_mut(addr, 4)?.as_mut_ptr().cast_const(),
    };
    // SAFETY: four checked, aligned bytes of guest memory; futex words are accessed
    // atomically by the guest too.
    Ok(unsafe { &*(bytes as *const AtomicU32) })
}

pub fn futex(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (uaddr, op, val) = (a.raw(0), a.uint(1), a.uint(2));
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    if realtime && !matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET) {
        return Err(Errno::ENOSYS);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if cmd == FUTEX_WAIT_BITSET && a.uint(5) == 0 {
                return Err(Errno::EINVAL);
            }
            let timeout = a.ptr::<Timespec>(3).read_opt()?;
            if let Some(t) = timeout {
                if !t.is_valid() {
                    return Err(Errno::EINVAL);
                }
            }
            if word(uaddr, Access::Read)?.load(Ordering::SeqCst) != val {
                return Err(Errno::EAGAIN);
            }
            wait_alone(ctx, cmd, realtime, timeout)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            if cmd == FUTEX_WAKE_BITSET && a.uint(5) == 0 {
                return Err(Errno::EINVAL);
            }
            word(uaddr, Access::Read)?;
            Ok(0)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if (val as i32) < 0 || (a.raw(3) as u32 as i32) < 0 {
                return Err(Errno::EINVAL);
            }
            let w = word(uaddr, Access::Read)?;
            word(a.raw(4), Access::Read)?;
            if cmd == FUTEX_CMP_REQUEUE && w.load(Ordering::SeqCst) != a.uint(5) {
                return Err(Errno::EAGAIN);
            }
            Ok(0)
        }
        FUTEX_WAKE_OP => {
            word(uaddr, Access::Read)?;
            let target = word(a.raw(4), Access::Write)?;
            wake_op(target, a.uint(5))?;
            Ok(0)
        }
        _ => {
            warn::once(
                ctx.kernel,
                &PI_WARNED,
                format_args!(
                    "futex operation {cmd} (priority inheritance, requeue-PI) is not implemented; returning ENOSYS"
                ),
            );
            Err(Errno::ENOSYS)
        }
    }
}

/// Sleeps as the only thread: until the timeout, or for ever.
fn wait_alone(ctx: &Ctx, cmd: u32, realtime: bool, timeout: Option<Timespec>) -> SysResult {
    let platform = ctx.kernel.platform;
    let Some(t) = timeout else {
        loop {
            platform.sleep(u64::MAX / 2);
        }
    };
    let ns = t.to_nanos().unwrap_or(0);
    let wait = if cmd == FUTEX_WAIT_BITSET {
        // WAIT_BITSET takes an absolute deadline.
        let clock = if realtime { ClockId::Realtime } else { ClockId::Monotonic };
        ns.saturating_sub(platform.now(clock).to_nanos().unwrap_or(0))
    } else {
        ns
    };
    platform.sleep(wait);
    Err(Errno::ETIMEDOUT)
}

/// `FUTEX_WAKE_OP`'s operation on the second word (the wake half finds no waiter).
fn wake_op(target: &AtomicU32, encoded: u32) -> Result<(), Errno> {
    let op = (encoded >> 28) & 7;
    let shift_arg = (encoded >> 31) & 1 != 0;
    let mut oparg = (encoded >> 12) & 0xfff;
    if shift_arg {
        if oparg > 31 {
            return Err(Errno::EINVAL);
        }
        oparg = 1 << oparg;
    }
    let f = |old: u32| -> u32 {
        match op {
            0 => oparg,
            1 => old.wrapping_add(oparg),
            2 => old | oparg,
            3 => old & !oparg,
            _ => old ^ oparg,
        }
    };
    if op > 4 {
        return Err(Errno::ENOSYS);
    }
    let _ = target.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |old| Some(f(old)));
    Ok(())
}
