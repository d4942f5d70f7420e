//! `getrusage`: what the platform reports, in Linux's `struct rusage`.

use crate::abi::Timeval;
use crate::Errno;

/// Whose usage `getrusage` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RusageWho {
    /// `RUSAGE_SELF`: the whole process.
    Process,
    /// `RUSAGE_THREAD`: the calling thread.
    Thread,
    /// `RUSAGE_CHILDREN`: the children waited for.
    Children,
}

impl RusageWho {
    /// Decodes `who` (EINVAL for anything else, as Linux).
    pub fn from_raw(who: i32) -> Result<RusageWho, Errno> {
        match who {
            0 => Ok(RusageWho::Process),
            1 => Ok(RusageWho::Thread),
            -1 => Ok(RusageWho::Children),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// `struct rusage` (144 bytes): two `timeval`s, then fourteen `long` counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rusage {
    pub utime: Timeval,
    pub stime: Timeval,
    /// Peak resident set size, in KiB.
    pub maxrss: i64,
    /// `ru_ixrss` … `ru_nivcsw`, in Linux's order.
    pub counters: [i64; 13],
}

impl Rusage {
    /// The structure as the 18 `long`s Linux lays out.
    pub fn to_words(&self) -> [i64; 18] {
        let mut w = [0i64; 18];
        w[0] = self.utime.tv_sec;
        w[1] = self.utime.tv_usec;
        w[2] = self.stime.tv_sec;
        w[3] = self.stime.tv_usec;
        w[4] = self.maxrss;
        w[5..].copy_from_slice(&self.counters);
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_values() {
        assert_eq!(RusageWho::from_raw(0), Ok(RusageWho::Process));
        assert_eq!(RusageWho::from_raw(1), Ok(RusageWho::Thread));
        assert_eq!(RusageWho::from_raw(-1), Ok(RusageWho::Children));
        assert_eq!(RusageWho::from_raw(2), Err(Errno::EINVAL));
        assert_eq!(RusageWho::from_raw(-2), Err(Errno::EINVAL));
    }

    #[test]
    fn layout_is_linux_order() {
        let r = Rusage {
            utime: Timeval { tv_sec: 1, tv_usec: 2 },
            stime: Timeval { tv_sec: 3, tv_usec: 4 },
            maxrss: 5,
            counters: core::array::from_fn(|i| 6 + i as i64),
        };
        let w = r.to_words();
        assert_eq!(w, core::array::from_fn(|i| 1 + i as i64));
    }
}
