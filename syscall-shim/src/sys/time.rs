//! Clocks and sleeps.

use libos::abi::{Timespec, Timeval, Timezone};
use libos::time::{ClockId, TIMER_ABSTIME};
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

pub fn clock_gettime(ctx: &mut Ctx, a: &Args) -> SysResult {
    let clock = ClockId::from_raw(a.int(0))?;
    a.ptr::<Timespec>(1).write(ctx.kernel.platform.now(clock))?;
    Ok(0)
}

pub fn clock_getres(ctx: &mut Ctx, a: &Args) -> SysResult {
    let clock = ClockId::from_raw(a.int(0))?;
    a.ptr::<Timespec>(1).write_opt(ctx.kernel.platform.resolution(clock))?;
    Ok(0)
}

pub fn gettimeofday(ctx: &mut Ctx, a: &Args) -> SysResult {
    let now = ctx.kernel.platform.now(ClockId::Realtime);
    a.ptr::<Timeval>(0).write_opt(Timeval { tv_sec: now.tv_sec, tv_usec: now.tv_nsec / 1000 })?;
    a.ptr::<Timezone>(1).write_opt(Timezone::default())?;
    Ok(0)
}

pub fn time(ctx: &mut Ctx, a: &Args) -> SysResult {
    let now = ctx.kernel.platform.now(ClockId::Realtime).tv_sec;
    a.ptr::<i64>(0).write_opt(now)?;
    Ok(now as usize)
}

pub fn nanosleep(ctx: &mut Ctx, a: &Args) -> SysResult {
    let req = a.ptr::<Timespec>(0).read()?;
    let ns = req.to_nanos().ok_or(Errno::EINVAL)?;
    sleep_relative(ctx, ns, a, 1)
}

/// Sleeps `ns` on the monotonic clock. A signal ends the sleep early: the time left
/// goes to the `rem` argument `rem_arg` (when given) and the call fails with EINTR if
/// a handler runs (else it is made again).
fn sleep_relative(ctx: &mut Ctx, ns: u64, a: &Args, rem_arg: usize) -> SysResult {
    let platform = ctx.kernel.platform;
    let start = platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0);
    if platform.sleep(ns).is_ok() {
        return Ok(0);
    }
    let slept = platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0).saturating_sub(start);
    a.ptr::<Timespec>(rem_arg).write_opt(Timespec::from_nanos(ns.saturating_sub(slept)))?;
    Err(Errno::ERESTARTNOHAND)
}

pub fn clock_nanosleep(ctx: &mut Ctx, a: &Args) -> SysResult {
    let clock = ClockId::from_raw(a.int(0))?;
    let flags = a.int(1);
    let req = a.ptr::<Timespec>(2).read()?;
    if flags & !TIMER_ABSTIME != 0 {
        return Err(Errno::EINVAL);
    }
    clock.sleepable()?;
    let ns = req.to_nanos().ok_or(Errno::EINVAL)?;
    if flags & TIMER_ABSTIME == 0 {
        return sleep_relative(ctx, ns, a, 3);
    }
    let platform = ctx.kernel.platform;
    let now = platform.now(clock).to_nanos().unwrap_or(0);
    platform.sleep(ns.saturating_sub(now)).map_err(|_| Errno::ERESTARTNOHAND)?;
    Ok(0)
}
