//! The timer syscalls on the process's [`Timers`]: clocks read from the platform,
//! signals sent with [`Kernel::send_timer_signal`], the platform told when a deadline
//! may have moved.

use crate::abi::{Itimerspec, Itimerval, Sigevent, Timespec, Timeval};
use crate::kernel::Kernel;
use crate::rusage::RusageWho;
use crate::siginfo::{code, SigInfo};
use crate::sigsend::SignalTarget;
use crate::time::ClockId;
use crate::timers::itimer::SIGALRM;
use crate::timers::{alarm_seconds, Delivery, Notify, PosixTimer, TimerClock, TimerValue, KTIME_MAX};
use crate::Errno;

/// `sigev_notify` values.
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD: i32 = 2;
const SIGEV_THREAD_ID: i32 = 4;
/// The highest signal number.
const SIGRTMAX: i32 = 64;

/// `setitimer`'s `which`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Real,
    Virtual,
    Prof,
}

impl Which {
    fn from_raw(which: i32) -> Result<Which, Errno> {
        match which {
            0 => Ok(Which::Real),
            1 => Ok(Which::Virtual),
            2 => Ok(Which::Prof),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// `TIMER_ABSTIME` for `timer_settime` (other flag bits are ignored, as Linux does).
const TIMER_ABSTIME: i32 = 1;

fn nanos(t: Timespec) -> u64 {
    t.to_nanos().unwrap_or(0).min(KTIME_MAX)
}

fn timespec(ns: u64) -> Timespec {
    Timespec::from_nanos(ns)
}

/// A `timeval` in nanoseconds; EINVAL unless `0 <= tv_usec < 1e6` and `tv_sec >= 0`.
fn timeval_nanos(t: Timeval) -> Result<u64, Errno> {
    if t.tv_sec < 0 || !(0..1_000_000).contains(&t.tv_usec) {
        return Err(Errno::EINVAL);
    }
    let ns = (t.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_usec as u64 * 1000);
    Ok(ns.min(KTIME_MAX))
}

/// Nanoseconds as a `timeval`, microseconds truncated (as `getitimer` reports them).
fn timeval(ns: u64) -> Timeval {
    Timeval { tv_sec: (ns / 1_000_000_000) as i64, tv_usec: ((ns % 1_000_000_000) / 1000) as i64 }
}

impl Kernel {
    /// The time on a timer clock, in nanoseconds.
    fn timer_now(&self, clock: TimerClock) -> u64 {
        let id = match clock {
            TimerClock::Realtime => ClockId::Realtime,
            TimerClock::Monotonic => ClockId::Monotonic,
            TimerClock::Boottime => ClockId::Boottime,
            TimerClock::Tai => ClockId::Tai,
            TimerClock::ProcessCpu => ClockId::ProcessCputime,
            TimerClock::UserCpu => {
                let user = self.platform.rusage(RusageWho::Process).utime;
                return timeval_nanos(user).unwrap_or(0);
            }
        };
        nanos(self.platform.now(id))
    }

    /// `timer_create` for clock `clock` with `event` (`None`: SIGALRM to the process,
    /// with the timer id as its value). Returns the new timer's id.
    pub fn timer_create(&self, clock: i32, event: Option<Sigevent>) -> Result<i32, Errno> {
        // Linux refuses the alarm clocks only in their own creation step, once the id
        // is handed out and the sigevent checked.
        let clock = match TimerClock::for_timer(clock, self.identity.pid) {
            Err(Errno::EOPNOTSUPP) if TimerClock::is_alarm(clock) => None,
            other => Some(other?),
        };
        let mut timers = self.timers.lock();
        // Each timer holds a preallocated signal, counted against RLIMIT_SIGPENDING.
        if timers.count() >= self.sigpending_limit() {
            return Err(Errno::EAGAIN);
        }
        let id = timers.allocate_id();
        let notify = match event {
            Some(ev) => self.notify_of(&ev)?,
            None => Notify::Signal { signo: SIGALRM, value: id as u32 as u64, target: SignalTarget::Process },
        };
        let clock = clock.ok_or(Errno::EOPNOTSUPP)?;
        timers.insert(id, PosixTimer::new(clock, notify));
        Ok(id)
    }

    /// What a `sigevent` asks for (Linux's `good_sigevent`): EINVAL for an unknown
    /// notification, a signal number out of range, or a thread not of this process.
    fn notify_of(&self, ev: &Sigevent) -> Result<Notify, Errno> {
        let target = match ev.sigev_notify {
            SIGEV_NONE => return Ok(Notify::None),
            SIGEV_SIGNAL | SIGEV_THREAD => SignalTarget::Process,
            SIGEV_THREAD_ID => {
                let tid = u32::try_from(ev.sigev_tid).map_err(|_| Errno::EINVAL)?;
                self.threads.get(tid).ok_or(Errno::EINVAL)?;
                SignalTarget::Thread(tid)
            }
            _ => return Err(Errno::EINVAL),
        };
        if !(1..=SIGRTMAX).contains(&ev.sigev_signo) {
            return Err(Errno::EINVAL);
        }
        Ok(Notify::Signal { signo: ev.sigev_signo as u32, value: ev.sigev_value, target })
    }

    /// `timer_settime`: EINVAL for a bad time or timer id. Returns the old setting.
    pub fn timer_settime(&self, id: i32, flags: i32, new: Itimerspec) -> Result<Itimerspec, Errno> {
        if !new.it_value.is_valid() || !new.it_interval.is_valid() {
            return Err(Errno::EINVAL);
        }
        let new = TimerValue { value: nanos(new.it_value), interval: nanos(new.it_interval) };
        let mut timers = self.timers.lock();
        let timer = timers.get_mut(id)?;
        let now = self.timer_now(timer.clock);
        let old = timer.set(new, flags & TIMER_ABSTIME != 0, now);
        drop(timers);
        if new.value != 0 {
            self.platform.timers_changed();
        }
        Ok(itimerspec(old))
    }

    /// `timer_gettime`: the time left and the interval (EINVAL for a bad id).
    pub fn timer_gettime(&self, id: i32) -> Result<Itimerspec, Errno> {
        let mut timers = self.timers.lock();
        let timer = timers.get_mut(id)?;
        let now = self.timer_now(timer.clock);
        Ok(itimerspec(timer.get(now)))
    }

    /// `timer_getoverrun` (EINVAL for a bad id).
    pub fn timer_getoverrun(&self, id: i32) -> Result<i32, Errno> {
        Ok(self.timers.lock().get_mut(id)?.overrun())
    }

    /// `timer_delete` (EINVAL for a bad id). A signal of the timer still pending stays
    /// so (`rt_sigpending` shows it, as on Linux) and is dropped when a thread comes to
    /// take it.
    pub fn timer_delete(&self, id: i32) -> Result<(), Errno> {
        self.timers.lock().remove(id).map(|_| ())
    }

    /// `setitimer(which, new)`: returns the old value. EINVAL for a bad time or
    /// `which` (the times are checked first, as Linux does).
    pub fn setitimer(&self, which: i32, new: Itimerval) -> Result<Itimerval, Errno> {
        let new = TimerValue { value: timeval_nanos(new.it_value)?, interval: timeval_nanos(new.it_interval)? };
        Ok(itimerval(self.set_itimer(Which::from_raw(which)?, new)))
    }

    fn set_itimer(&self, which: Which, new: TimerValue) -> TimerValue {
        let mut timers = self.timers.lock();
        let old = match which {
            Which::Real => timers.real.set(new, self.timer_now(TimerClock::Monotonic)),
            Which::Virtual => timers.virt.set(new, self.timer_now(TimerClock::UserCpu)),
            Which::Prof => timers.prof.set(new, self.timer_now(TimerClock::ProcessCpu)),
        };
        drop(timers);
        if new.value != 0 {
            self.platform.timers_changed();
        }
        old
    }

    /// `getitimer(which)` (EINVAL for a bad `which`).
    pub fn getitimer(&self, which: i32) -> Result<Itimerval, Errno> {
        let which = Which::from_raw(which)?;
        let timers = self.timers.lock();
        let value = match which {
            Which::Real => timers.real.get(self.timer_now(TimerClock::Monotonic)),
            Which::Virtual => timers.virt.get(self.timer_now(TimerClock::UserCpu)),
            Which::Prof => timers.prof.get(self.timer_now(TimerClock::ProcessCpu)),
        };
        Ok(itimerval(value))
    }

    /// `alarm(seconds)`: ITIMER_REAL set to `seconds` (0 cancels), no interval. Returns
    /// the seconds the previous alarm had left, rounded as Linux does.
    pub fn alarm(&self, seconds: u32) -> u32 {
        let new = TimerValue { value: u64::from(seconds) * 1_000_000_000, interval: 0 };
        alarm_seconds(self.set_itimer(Which::Real, new).value)
    }

    /// Fires the timers that are due (the timerfds' too) and says how long (in nanoseconds of passing time)
    /// until one may be due again; `None` when none is armed. The platform calls this
    /// when the time it was last told has come, and after [`crate::Platform::timers_changed`].
    pub fn run_timers(&self) -> Option<u64> {
        let now = |clock| self.timer_now(clock);
        let mut send = |target, info: SigInfo| {
            if info.si_code != code::SI_TIMER {
                let _ = self.send_signal(target, info);
                return Delivery::Queued;
            }
            match self.send_timer_signal(target, info) {
                Ok(true) => Delivery::Queued,
                Ok(false) => Delivery::Ignored,
                Err(_) => Delivery::NoTarget,
            }
        };
        let mut timers = self.timers.lock();
        timers.expire(&now, &mut send);
        let next = timers.next_timeout(&now, self.platform.cpu_mask().count_ones());
        drop(timers);
        let next_fd = self.timerfds.run();
        next.into_iter().chain(next_fd).min()
    }

    /// A thread has taken `info` from a pending set: what the timers make of it. A
    /// timer's signal from an arming since replaced is dropped (`None`); one that is
    /// current gets its overrun, and a periodic timer runs again. Any SIGALRM re-arms a
    /// periodic ITIMER_REAL that has fired. The signal of a deleted timer is dropped; a
    /// timer signal the libOS did not send (no mark: `rt_sigqueueinfo` with `SI_TIMER`)
    /// passes as it is.
    pub(crate) fn signal_taken(&self, mut info: SigInfo) -> Option<SigInfo> {
        let rearmed = if info.si_code == code::SI_TIMER && info.sys_private() != 0 {
            let mut timers = self.timers.lock();
            let timer = timers.get_mut(info.timer_id()).ok()?;
            let now = self.timer_now(timer.clock);
            timer.taken(&mut info, now)?
        } else if info.signo() == SIGALRM {
            let now = self.timer_now(TimerClock::Monotonic);
            self.timers.lock().real.sigalrm_taken(now)
        } else {
            false
        };
        if rearmed {
            self.platform.timers_changed();
        }
        Some(info)
    }
}

fn itimerspec(v: TimerValue) -> Itimerspec {
    Itimerspec { it_interval: timespec(v.interval), it_value: timespec(v.value) }
}

fn itimerval(v: TimerValue) -> Itimerval {
    Itimerval { it_interval: timeval(v.interval), it_value: timeval(v.value) }
}

#[cfg(test)]
#[path = "kernel_tests.rs"]
mod tests;
