//! Clocks as the guest names them.

use crate::Errno;

/// The `clockid_t` values Linux accepts (per-process CPU clocks by pid are not modelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockId {
    Realtime,
    Monotonic,
    ProcessCputime,
    ThreadCputime,
    MonotonicRaw,
    RealtimeCoarse,
    MonotonicCoarse,
    Boottime,
    RealtimeAlarm,
    BoottimeAlarm,
    Tai,
}

impl ClockId {
    /// Decodes a `clockid_t`; Linux gives EINVAL for anything else.
    pub fn from_raw(id: i32) -> Result<ClockId, Errno> {
        Ok(match id {
            0 => ClockId::Realtime,
            1 => ClockId::Monotonic,
            2 => ClockId::ProcessCputime,
            3 => ClockId::ThreadCputime,
            4 => ClockId::MonotonicRaw,
            5 => ClockId::RealtimeCoarse,
            6 => ClockId::MonotonicCoarse,
            7 => ClockId::Boottime,
            8 => ClockId::RealtimeAlarm,
            9 => ClockId::BoottimeAlarm,
            11 => ClockId::Tai,
            _ => return Err(Errno::EINVAL),
        })
    }

    /// Whether `clock_nanosleep` accepts this clock (Linux: EOPNOTSUPP for the clocks
    /// with no sleep operation: thread CPU time, raw and coarse).
    pub fn sleepable(self) -> Result<(), Errno> {
        match self {
            ClockId::Realtime
            | ClockId::Monotonic
            | ClockId::Boottime
            | ClockId::Tai
            | ClockId::RealtimeAlarm
            | ClockId::BoottimeAlarm
            | ClockId::ProcessCputime => Ok(()),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }
}

/// `TIMER_ABSTIME` for `clock_nanosleep`.
pub const TIMER_ABSTIME: i32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_raw_knows_linux_clock_ids() {
        let all = [
            (0, ClockId::Realtime),
            (1, ClockId::Monotonic),
            (2, ClockId::ProcessCputime),
            (3, ClockId::ThreadCputime),
            (4, ClockId::MonotonicRaw),
            (5, ClockId::RealtimeCoarse),
            (6, ClockId::MonotonicCoarse),
            (7, ClockId::Boottime),
            (8, ClockId::RealtimeAlarm),
            (9, ClockId::BoottimeAlarm),
            (11, ClockId::Tai),
        ];
        for (raw, id) in all {
            assert_eq!(ClockId::from_raw(raw), Ok(id), "{raw}");
        }
        // 10 was CLOCK_SGI_CYCLE (removed); 12+ do not exist; negative ids name other
        // processes' CPU clocks, which are not modelled.
        for raw in [10, 12, 16, i32::MAX, -1, -2, -6, i32::MIN] {
            assert_eq!(ClockId::from_raw(raw), Err(Errno::EINVAL), "{raw}");
        }
    }

    #[test]
    fn sleepable_clocks() {
        for ok in [0, 1, 2, 7, 8, 9, 11] {
            assert_eq!(ClockId::from_raw(ok).unwrap().sleepable(), Ok(()), "{ok}");
        }
        // Clocks with no nsleep operation: the raw syscall says EOPNOTSUPP (glibc turns
        // the thread CPU clock's into EINVAL itself).
        for unsupported in [3, 4, 5, 6] {
            assert_eq!(ClockId::from_raw(unsupported).unwrap().sleepable(), Err(Errno::ENOTSUP), "{unsupported}");
        }
    }
}
