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
