//! Waiting on many fds: poll, ppoll, select, pselect6, and the temporary signal mask
//! those `p` forms (and epoll_pwait) apply.

use alloc::vec;
use alloc::vec::Vec;

use libos::abi::{PollFd, Timespec, Timeval};
use libos::file::events::*;
use libos::poll::PollItem;
use libos::time::ClockId;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user::{self, UserPtr};

const SIGSET_SIZE: usize = 8;
/// What a set of `select` asks for (Linux's `POLLIN_SET`, `POLLOUT_SET`, `POLLEX_SET`).
const IN_SET: u16 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const OUT_SET: u16 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const EX_SET: u16 = POLLPRI;

/// Runs `f` with the calling thread's signal mask replaced by `mask` (if any), as
/// Linux's `set_user_sigmask`: the old mask comes back afterwards, unless `f` was ended
/// by a signal (`interrupted(result)`), in which case the signal's delivery restores it
/// (the frame records it, as rt_sigsuspend's does).
pub(crate) fn with_sigmask(
    ctx: &mut Ctx,
    mask: Option<u64>,
    interrupted: impl Fn(&SysResult) -> bool,
    f: impl FnOnce(&mut Ctx) -> SysResult,
) -> SysResult {
    let Some(mask) = mask else { return f(ctx) };
    let old = ctx.thread.sigmask();
    ctx.thread.set_sigmask(ctx.kernel, mask);
    ctx.thread.saved_sigmask = Some(old);
    let r = f(ctx);
    if !interrupted(&r) {
        if let Some(old) = ctx.thread.saved_sigmask.take() {
            ctx.thread.set_sigmask(ctx.kernel, old);
        }
    }
    r
}

/// Reads a `sigset_t` argument: `None` for a null pointer, EINVAL for a size other
/// than 8.
pub(crate) fn read_sigmask(addr: u64, size: usize) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    UserPtr::<u64>::new(addr).read().map(Some)
}

fn now_ns(ctx: &Ctx) -> u64 {
    ctx.kernel.platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0)
}

pub fn poll(ctx: &mut Ctx, a: &Args) -> SysResult {
    let timeout_ms = a.int(2);
    let timeout = (timeout_ms >= 0).then(|| timeout_ms as u64 * 1_000_000);
    poll_common(ctx, a.ptr(0), a.uint(1), timeout)
}

/// `ppoll`: the timeout is a timespec (EINVAL if not normalised) and what is left of
/// it is written back, as Linux does; the signal mask applies during the wait.
pub fn ppoll(ctx: &mut Ctx, a: &Args) -> SysResult {
    let tsp = a.ptr::<Timespec>(2);
    let timeout = match tsp.read_opt()? {
        Some(ts) => Some(ts.to_nanos().ok_or(Errno::EINVAL)?),
        None => None,
    };
    let mask = read_sigmask(a.raw(3), a.usize(4))?;
    let end = timeout.map(|t| now_ns(ctx).saturating_add(t));
    let (ptr, nfds) = (a.ptr(0), a.uint(1));
    let r = with_sigmask(ctx, mask, is_interrupted, |ctx| poll_common(ctx, ptr, nfds, timeout));
    finish_timeout(ctx, end, timeout, r, |left| tsp.write(Timespec::from_nanos(left)))
}

fn is_interrupted(r: &SysResult) -> bool {
    *r == Err(Errno::ERESTARTNOHAND)
}

fn poll_common(ctx: &mut Ctx, ptr: UserPtr<PollFd>, nfds: u32, timeout: Option<u64>) -> SysResult {
    let limit = ctx.kernel.limits.lock().get(libos::limits::RLIMIT_NOFILE).rlim_cur;
    if u64::from(nfds) > limit {
        return Err(Errno::EINVAL);
    }
    let mut fds = user::read_array(ptr, nfds as usize)?;
    let ready = libos::poll::poll(ctx.kernel, &mut fds, timeout)?;
    user::write_array(ptr, &fds)?;
    Ok(ready)
}

/// Linux's `poll_select_finish`: what is left of a nonzero timeout is written back
/// (`write`); if that fails, an interrupted call is EINTR (it could not be restarted
/// with the time left).
fn finish_timeout(
    ctx: &Ctx,
    end: Option<u64>,
    timeout: Option<u64>,
    r: SysResult,
    write: impl FnOnce(u64) -> Result<(), Errno>,
) -> SysResult {
    let (Some(end), Some(t)) = (end, timeout) else { return r };
    if t == 0 {
        return r;
    }
    let left = end.saturating_sub(now_ns(ctx));
    if write(left).is_err() && is_interrupted(&r) {
        return Err(Errno::EINTR);
    }
    r
}

/// `select(nfds, readfds, writefds, exceptfds, timeout)`: the timeout is a timeval
/// (microseconds past a second carry over; negative is EINVAL) and what is left is
/// written back.
pub fn select(ctx: &mut Ctx, a: &Args) -> SysResult {
    let tvp = a.ptr::<Timeval>(4);
    let timeout = match tvp.read_opt()? {
        Some(tv) => {
            let sec = tv.tv_sec.checked_add(tv.tv_usec / 1_000_000).ok_or(Errno::EINVAL)?;
            let ts = Timespec { tv_sec: sec, tv_nsec: (tv.tv_usec % 1_000_000) * 1000 };
            Some(ts.to_nanos().ok_or(Errno::EINVAL)?)
        }
        None => None,
    };
    let end = timeout.map(|t| now_ns(ctx).saturating_add(t));
    let sets = [a.raw(1), a.raw(2), a.raw(3)];
    let r = select_common(ctx, a.int(0), sets, timeout);
    finish_timeout(ctx, end, timeout, r, |left| {
        let tv = Timeval { tv_sec: (left / 1_000_000_000) as i64, tv_usec: ((left % 1_000_000_000) / 1000) as i64 };
        tvp.write(tv)
    })
}

/// `pselect6(nfds, readfds, writefds, exceptfds, timeout, {sigmask, size})`.
pub fn pselect6(ctx: &mut Ctx, a: &Args) -> SysResult {
    let mut mask = None;
    if a.raw(5) != 0 {
        let pack = user::read_array(UserPtr::<u64>::new(a.raw(5)), 2)?;
        mask = read_sigmask(pack[0], pack[1] as usize)?;
    }
    let tsp = a.ptr::<Timespec>(4);
    let timeout = match tsp.read_opt()? {
        Some(ts) => Some(ts.to_nanos().ok_or(Errno::EINVAL)?),
        None => None,
    };
    let end = timeout.map(|t| now_ns(ctx).saturating_add(t));
    let sets = [a.raw(1), a.raw(2), a.raw(3)];
    let n = a.int(0);
    let r = with_sigmask(ctx, mask, is_interrupted, |ctx| select_common(ctx, n, sets, timeout));
    finish_timeout(ctx, end, timeout, r, |left| tsp.write(Timespec::from_nanos(left)))
}

/// The size of the fd table Linux would have (`max_fds`: 64, then multiples of 128
/// in powers of two): `select` ignores fds past it.
fn max_fds(ctx: &Ctx) -> usize {
    let highest = ctx.kernel.fds.lock().open_fds().max().unwrap_or(0).max(0) as usize;
    if highest < 64 {
        64
    } else {
        (highest / 128 + 1).next_power_of_two() * 128
    }
}

fn select_common(ctx: &mut Ctx, nfds: i32, sets: [u64; 3], timeout: Option<u64>) -> SysResult {
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    let n = (nfds as usize).min(max_fds(ctx));
    let words = n.div_ceil(64);
    let mut bits: [Vec<u64>; 3] = [vec![0; words], vec![0; words], vec![0; words]];
    for (set, addr) in bits.iter_mut().zip(sets) {
        if addr != 0 && words > 0 {
            *set = user::read_array(UserPtr::<u64>::new(addr), words)?;
            if !n.is_multiple_of(64) {
                set[words - 1] &= (1u64 << (n % 64)) - 1;
            }
        }
    }
    let mut items = Vec::new();
    {
        let table = ctx.kernel.fds.lock();
        for fd in 0..n {
            let (w, b) = (fd / 64, 1u64 << (fd % 64));
            let mut events = 0;
            for (set, mask) in bits.iter().zip([IN_SET, OUT_SET, EX_SET]) {
                if set[w] & b != 0 {
                    events |= mask;
                }
            }
            if events == 0 {
                continue;
            }
            table.get(fd as i32)?;
            items.push(PollItem { fd: fd as i32, events, revents: 0 });
        }
    }
    let found = libos::poll::wait(ctx.kernel, &mut items, 0, timeout)?;
    let mut out: [Vec<u64>; 3] = [vec![0; words], vec![0; words], vec![0; words]];
    let mut count = 0;
    if found > 0 {
        for it in &items {
            let (w, b) = ((it.fd / 64) as usize, 1u64 << (it.fd % 64));
            for (k, mask) in [IN_SET, OUT_SET, EX_SET].into_iter().enumerate() {
                if bits[k][w] & b != 0 && it.revents & mask != 0 {
                    out[k][w] |= b;
                    count += 1;
                }
            }
        }
    }
    for (set, addr) in out.iter().zip(sets) {
        if addr != 0 && words > 0 {
            user::write_array(UserPtr::<u64>::new(addr), set)?;
        }
    }
    Ok(count)
}
