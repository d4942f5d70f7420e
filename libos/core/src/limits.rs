//! Resource limits (`prlimit64`, `getrlimit`, `setrlimit`).

use crate::abi::{Rlimit, RLIM_INFINITY};
use crate::Errno;

pub const RLIMIT_NLIMITS: usize = 16;
pub const RLIMIT_STACK: usize = 3;
pub const RLIMIT_NOFILE: usize = 7;

/// The limits of a process.
#[derive(Debug, Clone)]
pub struct Limits {
    limits: [Rlimit; RLIMIT_NLIMITS],
    /// Whether the guest may raise hard limits (CAP_SYS_RESOURCE; the guest's uid is 0).
    privileged: bool,
}

impl Limits {
    pub fn new(limits: [Rlimit; RLIMIT_NLIMITS], privileged: bool) -> Limits {
        Limits { limits, privileged }
    }

    /// Linux's defaults for a process started by a login shell.
    pub fn linux_defaults() -> [Rlimit; RLIMIT_NLIMITS] {
        let inf = Rlimit { rlim_cur: RLIM_INFINITY, rlim_max: RLIM_INFINITY };
        let mut l = [inf; RLIMIT_NLIMITS];
        l[RLIMIT_STACK] = Rlimit { rlim_cur: 8 << 20, rlim_max: RLIM_INFINITY };
        l[4] = Rlimit { rlim_cur: 0, rlim_max: RLIM_INFINITY }; // CORE
        l[6] = Rlimit { rlim_cur: 63_000, rlim_max: 63_000 }; // NPROC
        l[RLIMIT_NOFILE] = Rlimit { rlim_cur: 1024, rlim_max: 1_048_576 };
        l[8] = Rlimit { rlim_cur: 8 << 20, rlim_max: 8 << 20 }; // MEMLOCK
        l[11] = Rlimit { rlim_cur: 63_000, rlim_max: 63_000 }; // SIGPENDING
        l[12] = Rlimit { rlim_cur: 819_200, rlim_max: 819_200 }; // MSGQUEUE
        l[13] = Rlimit { rlim_cur: 0, rlim_max: 0 }; // NICE
        l[14] = Rlimit { rlim_cur: 0, rlim_max: 0 }; // RTPRIO
        l
    }

    /// `prlimit64` on the calling process: returns the old value, installs `new`.
    pub fn exchange(&mut self, resource: u32, new: Option<Rlimit>) -> Result<Rlimit, Errno> {
        let idx = resource as usize;
        if idx >= RLIMIT_NLIMITS {
            return Err(Errno::EINVAL);
        }
        let old = self.limits[idx];
        if let Some(new) = new {
            if new.rlim_cur > new.rlim_max {
                return Err(Errno::EINVAL);
            }
            if new.rlim_max > old.rlim_max && !self.privileged {
                return Err(Errno::EPERM);
            }
            if idx == RLIMIT_NOFILE && new.rlim_max > 1_048_576 {
                return Err(Errno::EPERM);
            }
            self.limits[idx] = new;
        }
        Ok(old)
    }

    pub fn get(&self, resource: usize) -> Rlimit {
        self.limits[resource]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RLIMIT_CPU: u32 = 0;
    const NOFILE: u32 = RLIMIT_NOFILE as u32;

    fn lim(cur: u64, max: u64) -> Rlimit {
        Rlimit { rlim_cur: cur, rlim_max: max }
    }

    #[test]
    fn defaults() {
        let l = Limits::linux_defaults();
        assert_eq!(l[RLIMIT_NOFILE], lim(1024, 1_048_576));
        assert_eq!(l[RLIMIT_STACK], lim(8 << 20, RLIM_INFINITY));
        assert_eq!(l[RLIMIT_CPU as usize], lim(RLIM_INFINITY, RLIM_INFINITY));
    }

    #[test]
    fn exchange_reads_and_writes() {
        let mut l = Limits::new(Limits::linux_defaults(), false);
        assert_eq!(l.exchange(NOFILE, None), Ok(lim(1024, 1_048_576)));
        assert_eq!(l.exchange(NOFILE, Some(lim(4096, 4096))), Ok(lim(1024, 1_048_576)));
        assert_eq!(l.get(RLIMIT_NOFILE), lim(4096, 4096));
        // Soft up to hard is fine; lowering hard is fine.
        assert_eq!(l.exchange(NOFILE, Some(lim(100, 200))), Ok(lim(4096, 4096)));
        assert_eq!(l.exchange(NOFILE, Some(lim(200, 200))), Ok(lim(100, 200)));
    }

    #[test]
    fn soft_above_hard_is_einval() {
        let mut l = Limits::new(Limits::linux_defaults(), true);
        assert_eq!(l.exchange(NOFILE, Some(lim(2000, 1000))), Err(Errno::EINVAL));
        assert_eq!(l.exchange(RLIMIT_CPU, Some(lim(RLIM_INFINITY, 10))), Err(Errno::EINVAL));
        assert_eq!(l.get(RLIMIT_NOFILE), lim(1024, 1_048_576));
    }

    #[test]
    fn raising_hard_needs_privilege() {
        let mut l = Limits::new(Limits::linux_defaults(), false);
        l.exchange(RLIMIT_CPU, Some(lim(10, 20))).unwrap();
        assert_eq!(l.exchange(RLIMIT_CPU, Some(lim(10, 21))), Err(Errno::EPERM));
        assert_eq!(l.exchange(RLIMIT_CPU, Some(lim(10, RLIM_INFINITY))), Err(Errno::EPERM));
        assert_eq!(l.get(RLIMIT_CPU as usize), lim(10, 20));

        let mut root = Limits::new(Limits::linux_defaults(), true);
        root.exchange(RLIMIT_CPU, Some(lim(10, 20))).unwrap();
        assert_eq!(root.exchange(RLIMIT_CPU, Some(lim(10, RLIM_INFINITY))), Ok(lim(10, 20)));
        // ... except past fs.nr_open for RLIMIT_NOFILE, which not even root may.
        assert_eq!(root.exchange(NOFILE, Some(lim(1024, 1_048_577))), Err(Errno::EPERM));
    }

    #[test]
    fn resources_past_the_last_are_einval() {
        let mut l = Limits::new(Limits::linux_defaults(), true);
        for r in [RLIMIT_NLIMITS as u32, 16, 100, u32::MAX] {
            assert_eq!(l.exchange(r, None), Err(Errno::EINVAL), "{r}");
            assert_eq!(l.exchange(r, Some(lim(0, 0))), Err(Errno::EINVAL), "{r}");
        }
        assert!(l.exchange(15, None).is_ok());
    }
}
