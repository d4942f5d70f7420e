//! One timerfd's timer and expiration count, free of any clock or platform: every
//! operation takes "now" on the timer's clock (Linux's `struct timerfd_ctx` and the
//! rules of `fs/timerfd.c`).
//!
//! The timer does not restart by itself: when it fires, the count goes up by one and
//! the timer stops (`HRTIMER_NORESTART`) even if it is periodic. A periodic timer is
//! moved forward past "now" by whole intervals, and runs again, only when the count is
//! read or the value asked for; the intervals it moved over, less the one already
//! counted, are the expirations missed in between and are added to the count. So a
//! periodic timer nobody reads wakes its waiters once, not at every interval.

use crate::timers::{forward, TimerValue, KTIME_MAX};

/// A timerfd's timer (Linux keeps it in `timerfd_ctx`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expiry {
    /// The expiry on the timer's clock; 0 once disarmed (which reads as "no time
    /// left", as Linux's timer set to expire at 0 does).
    expires: u64,
    /// The interval (0: one-shot). Kept even when the value disarms the timer.
    interval: u64,
    /// Queued to fire at `expires` by itself.
    armed: bool,
    /// It fired and has not been moved forward since (Linux's `expired`).
    expired: bool,
    /// Expirations not read yet (Linux's `ticks`).
    ticks: u64,
}

impl Expiry {
    /// When it fires by itself, if it does.
    pub fn due(&self) -> Option<u64> {
        self.armed.then_some(self.expires)
    }

    /// Expirations not read yet.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// The time left and the interval, without moving anything (fdinfo's view).
    pub fn peek(&self, now: u64) -> TimerValue {
        TimerValue { value: self.expires.saturating_sub(now), interval: self.interval }
    }

    /// Fires the timer if it is due at `now`: one more expiration, and the timer stops.
    /// Returns whether it fired.
    pub fn fire(&mut self, now: u64) -> bool {
        if !self.armed || now < self.expires {
            return false;
        }
        self.armed = false;
        self.expired = true;
        self.ticks = self.ticks.saturating_add(1);
        true
    }

    /// Moves a periodic timer that fired forward past `now` and runs it again. Returns
    /// how many intervals it moved (0 when there was nothing to move).
    fn restart(&mut self, now: u64) -> u64 {
        if !self.expired || self.interval == 0 {
            return 0;
        }
        self.expired = false;
        let steps = forward(&mut self.expires, now, self.interval);
        self.armed = true;
        steps
    }

    /// `timerfd_gettime` at `now` (Linux's `do_timerfd_gettime`): a periodic timer that
    /// fired is moved forward (the intervals it missed are counted), then the time left
    /// — 0 for a one-shot timer that fired or a disarmed one — and the interval.
    pub fn get(&mut self, now: u64) -> TimerValue {
        self.fire(now);
        let steps = self.restart(now);
        self.ticks = self.ticks.saturating_add(steps.saturating_sub(1));
        self.peek(now)
    }

    /// The first half of `timerfd_settime`, at `now`: the old value (a periodic timer
    /// that fired is moved forward first, without counting).
    pub fn settle(&mut self, now: u64) -> TimerValue {
        self.fire(now);
        self.restart(now);
        self.peek(now)
    }

    /// The second half of `timerfd_settime`, at `now`: the count is forgotten and the
    /// timer armed for `new.value` from `now` — at that time if `absolute` — or
    /// disarmed for a zero value. The interval is kept either way, as Linux does.
    pub fn arm(&mut self, new: TimerValue, absolute: bool, now: u64) {
        self.expired = false;
        self.ticks = 0;
        self.interval = new.interval;
        self.armed = new.value != 0;
        self.expires = match (new.value, absolute) {
            (0, _) => 0,
            (v, true) => v.min(KTIME_MAX),
            (v, false) => now.saturating_add(v).min(KTIME_MAX),
        };
    }

    /// A read at `now` (Linux's `timerfd_read_iter`): the expirations since the last
    /// read, counting those a periodic timer missed, and the count starts again from 0;
    /// `None` when there were none.
    pub fn take(&mut self, now: u64) -> Option<u64> {
        self.fire(now);
        if self.ticks == 0 {
            return None;
        }
        let steps = self.restart(now);
        let ticks = self.ticks.saturating_add(steps.saturating_sub(1));
        self.expired = false;
        self.ticks = 0;
        Some(ticks)
    }

    /// `TFD_IOC_SET_TICKS`: the count becomes `ticks` (not 0: the caller checks).
    pub fn set_ticks(&mut self, ticks: u64) {
        self.ticks = ticks;
    }

    /// Whether a read at `now` would return a count (the timer is due or has fired).
    pub fn readable(&self, now: u64) -> bool {
        self.ticks != 0 || self.due().is_some_and(|due| now >= due)
    }
}
