//! The three interval timers of `setitimer` (`kernel/time/itimer.c`): ITIMER_REAL on
//! the monotonic clock, which `alarm` shares, and ITIMER_VIRTUAL/ITIMER_PROF on CPU time.

use super::{forward, TimerValue, KTIME_MAX, NSEC_PER_SEC, TICK_NSEC};

pub(super) const SIGALRM: u32 = 14;
pub(super) const SIGVTALRM: u32 = 26;
pub(super) const SIGPROF: u32 = 27;

/// What Linux reports for a real itimer that is due but has not fired yet.
const NSEC_PER_USEC: u64 = 1_000;

/// ITIMER_REAL: one monotonic deadline and the interval (`it_real_incr`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RealItimer {
    /// Whether the deadline is set (Linux: the hrtimer is queued).
    active: bool,
    /// The deadline, or the last one once it fired (re-arming moves on from it).
    expires: u64,
    interval: u64,
}

impl RealItimer {
    /// `getitimer`: the time left (at least 1 µs while set: "about to fire") and the
    /// interval. Once fired and until its SIGALRM is taken, the time left is 0.
    pub fn get(&self, now: u64) -> TimerValue {
        let value = match self.expires.saturating_sub(now) {
            _ if !self.active => 0,
            0 => NSEC_PER_USEC,
            left => left,
        };
        TimerValue { value, interval: self.interval }
    }

    /// `setitimer`: a zero value disarms (and forgets the interval); returns the old
    /// setting.
    pub fn set(&mut self, new: TimerValue, now: u64) -> TimerValue {
        let old = self.get(now);
        if new.value == 0 {
            self.active = false;
            self.interval = 0;
        } else {
            self.active = true;
            self.expires = now.saturating_add(new.value).min(KTIME_MAX);
            self.interval = new.interval;
        }
        old
    }

    /// When it fires (monotonic), if it is set.
    pub fn due(&self) -> Option<u64> {
        self.active.then_some(self.expires)
    }

    /// It fired: it stays stopped until a SIGALRM is taken.
    pub fn fire(&mut self) {
        self.active = false;
    }

    /// A thread took a SIGALRM: a periodic timer that fired runs again, moved forward
    /// past `now`. Returns whether it did.
    pub fn sigalrm_taken(&mut self, now: u64) -> bool {
        if self.active || self.interval == 0 {
            return false;
        }
        forward(&mut self.expires, now, self.interval);
        self.active = true;
        true
    }
}

/// ITIMER_VIRTUAL or ITIMER_PROF: an absolute deadline on a CPU clock (0: off) and the
/// interval.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CpuItimer {
    expires: u64,
    incr: u64,
}

impl CpuItimer {
    /// `getitimer`: the CPU time left (a tick when it is overdue) and the interval.
    pub fn get(&self, now: u64) -> TimerValue {
        let value = match self.expires {
            0 => 0,
            e if e < now => TICK_NSEC,
            e => e - now,
        };
        TimerValue { value, interval: self.incr }
    }

    /// `setitimer` (Linux's `set_cpu_itimer`): a new value gets one tick added; returns
    /// the old setting (a tick when it was overdue).
    pub fn set(&mut self, new: TimerValue, now: u64) -> TimerValue {
        let old = match self.expires {
            0 => 0,
            e if e <= now => TICK_NSEC,
            e => e - now,
        };
        let old = TimerValue { value: old, interval: self.incr };
        self.expires = match new.value {
            0 => 0,
            v => now.saturating_add(v).saturating_add(TICK_NSEC).min(KTIME_MAX),
        };
        self.incr = new.interval;
        old
    }

    /// When it fires (on its CPU clock), if it is set.
    pub fn due(&self) -> Option<u64> {
        (self.expires != 0).then_some(self.expires)
    }

    /// It fired: the next expiry is one interval after this one (without catching up),
    /// or none.
    pub fn fire(&mut self) {
        self.expires = match self.incr {
            0 => 0,
            incr => self.expires.saturating_add(incr).min(KTIME_MAX),
        };
    }
}

/// What `alarm` returns for the old ITIMER_REAL value `old_ns`: whole seconds, rounded
/// to the nearest, but never 0 for an alarm still pending (Linux's `alarm_setitimer`).
pub fn alarm_seconds(old_ns: u64) -> u32 {
    let (mut sec, nsec) = (old_ns / NSEC_PER_SEC, old_ns % NSEC_PER_SEC);
    if (sec == 0 && nsec != 0) || nsec >= NSEC_PER_SEC / 2 {
        sec += 1;
    }
    sec as u32
}
