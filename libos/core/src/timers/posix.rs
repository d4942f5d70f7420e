//! One POSIX timer (`kernel/time/posix-timers.c`): its arming, its expiry, and what
//! happens when a thread takes its signal.

use super::{forward, Delivery, Notify, TimerClock, TimerValue, IGNORED_RETRY_NS, KTIME_MAX};
use crate::siginfo::SigInfo;
use crate::sigsend::SignalTarget;

/// Where a timer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Disarmed,
    /// Fires at `expires` (a `SIGEV_NONE` timer never does: it is only looked at).
    Armed,
    /// A periodic timer whose signal is pending: it runs again when the signal is taken.
    Queued,
    /// A periodic timer whose signal was ignored: tried again at its next expiry, but
    /// not before `retry_at`.
    Ignored {
        retry_at: u64,
    },
}

/// A POSIX timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosixTimer {
    pub clock: TimerClock,
    pub notify: Notify,
    state: State,
    /// The next expiry on `clock` (the last one while the signal is pending).
    expires: u64,
    interval: u64,
    /// Intervals skipped since the signal was queued, less one (Linux's `it_overrun`,
    /// -1 when nothing has been counted).
    overrun: i64,
    /// The overrun reported with the last signal taken (`it_overrun_last`).
    overrun_last: i64,
    /// The arming its signals belong to (`it_signal_seq`), carried in `si_sys_private`;
    /// never 0, which marks a timer signal the libOS did not send.
    seq: u32,
}

impl PosixTimer {
    /// A disarmed timer.
    pub fn new(clock: TimerClock, notify: Notify) -> PosixTimer {
        PosixTimer {
            clock,
            notify,
            state: State::Disarmed,
            expires: 0,
            interval: 0,
            overrun: -1,
            overrun_last: 0,
            seq: 1,
        }
    }

    fn sig_none(&self) -> bool {
        self.notify == Notify::None
    }

    /// `timer_gettime` at `now` on the timer's clock (Linux's `common_timer_get`): the
    /// time left and the interval. A periodic timer whose signal is pending (or that
    /// sends nothing) is moved forward past `now` first, so it shows the expiry to come.
    /// A timer that is due but not fired yet shows 1 ns; a one-shot `SIGEV_NONE` timer
    /// that has expired shows 0, and one that was disarmed what its last arming had left.
    pub fn get(&mut self, now: u64) -> TimerValue {
        let interval = self.interval;
        // Linux reads a disarmed `SIGEV_NONE` timer's old expiry all the same: it shows
        // the time that was left until then, 0 once that has passed.
        if interval == 0 && self.state != State::Armed && !self.sig_none() {
            return TimerValue::default();
        }
        if interval != 0 && (self.state != State::Armed || self.sig_none()) {
            self.overrun += forward(&mut self.expires, now, interval) as i64;
        }
        let value = match self.expires.saturating_sub(now) {
            0 if self.sig_none() => 0,
            0 => 1,
            left => left,
        };
        TimerValue { value, interval }
    }

    /// `timer_settime` at `now`: arms the timer for `new.value` from now (or at that
    /// time on its clock if `absolute`), or disarms it for a zero value. A signal of
    /// the previous arming still pending becomes stale. Returns the old setting.
    pub fn set(&mut self, new: TimerValue, absolute: bool, now: u64) -> TimerValue {
        let old = self.get(now);
        self.seq = next_seq(self.seq);
        self.overrun = -1;
        self.overrun_last = 0;
        if new.value == 0 {
            self.state = State::Disarmed;
            self.interval = 0;
        } else {
            self.state = State::Armed;
            self.interval = new.interval;
            self.expires = if absolute { new.value } else { now.saturating_add(new.value).min(KTIME_MAX) };
        }
        old
    }

    /// `timer_getoverrun`: the overrun of the last signal taken, at most `INT_MAX`.
    pub fn overrun(&self) -> i32 {
        self.overrun_last.clamp(0, i64::from(i32::MAX)) as i32
    }

    /// When the timer fires next on its clock, if it fires by itself at all.
    pub fn due(&self) -> Option<u64> {
        match self.state {
            State::Armed if !self.sig_none() => Some(self.expires),
            State::Ignored { retry_at } => Some(self.expires.max(retry_at)),
            _ => None,
        }
    }

    /// The timer (id `id`) is due at `now`: its signal goes out through `send`.
    pub fn fire(&mut self, id: i32, now: u64, send: &mut dyn FnMut(SignalTarget, SigInfo) -> Delivery) {
        let Notify::Signal { signo, value, target } = self.notify else { return };
        let mut info = SigInfo::timer(signo, id, 0, value);
        info.set_sys_private(self.seq);
        let periodic = self.interval != 0;
        self.state = match send(target, info) {
            Delivery::Queued if periodic => State::Queued,
            Delivery::Ignored if periodic => {
                forward(&mut self.expires, now, self.interval);
                State::Ignored { retry_at: now.saturating_add(IGNORED_RETRY_NS) }
            }
            // As on Linux, a periodic timer whose thread is gone waits for ever for a
            // signal nobody will take.
            Delivery::NoTarget if periodic => State::Queued,
            _ => State::Disarmed,
        };
    }

    /// A thread takes this timer's signal `info` at `now` (Linux's
    /// `posixtimer_deliver_signal`). `None` if the signal is stale (the timer was set
    /// again since): it must be dropped. Otherwise the signal gets its overrun and loses
    /// the libOS's mark, and a periodic timer runs again; `Some(true)` says it did.
    pub fn taken(&mut self, info: &mut SigInfo, now: u64) -> Option<bool> {
        if info.sys_private() != self.seq {
            return None;
        }
        info.set_sys_private(0);
        if self.state != State::Queued {
            return Some(false);
        }
        self.overrun += forward(&mut self.expires, now, self.interval) as i64;
        self.state = State::Armed;
        self.overrun_last = self.overrun;
        self.overrun = -1;
        self.seq = next_seq(self.seq);
        info.set_overrun(self.overrun());
        Some(true)
    }
}

/// The arming after `seq` (0 is skipped).
fn next_seq(seq: u32) -> u32 {
    seq.wrapping_add(1).max(1)
}
