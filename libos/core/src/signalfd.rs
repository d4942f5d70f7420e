//! `signalfd`: signals read as data. A read takes pending signals of the fd's mask —
//! the reading thread's own first, then the process's — as `signalfd_siginfo`
//! records, as Linux's `signalfd_dequeue` does; the signals are normally blocked, so
//! nothing else takes them. Poll reports the fd readable while one is pending for the
//! polling thread. The fd belongs to no thread: which thread reads decides whose
//! signals it sees.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::abi::Stat;
use crate::file::{events, File};
use crate::kernel::Kernel;
use crate::siginfo::{code, SigInfo};
use crate::signal::UNBLOCKABLE;
use crate::thread::ThreadShared;
use crate::wait::WaitQueue;
use crate::{Errno, SysResult};

/// Size of `struct signalfd_siginfo`.
pub const RECORD_SIZE: usize = 128;

/// Woken whenever a signal becomes pending anywhere: blocked signalfd readers look.
pub static SIGNAL_SENT: WaitQueue = WaitQueue::new();

/// A signalfd.
pub struct SignalFd {
    /// The signals it reads (SIGKILL and SIGSTOP never).
    mask: AtomicU64,
}

impl SignalFd {
    pub fn new(mask: u64) -> Arc<SignalFd> {
        Arc::new(SignalFd { mask: AtomicU64::new(mask & !UNBLOCKABLE) })
    }

    /// `signalfd4` on an existing signalfd: a new mask.
    pub fn set_mask(&self, mask: u64) {
        self.mask.store(mask & !UNBLOCKABLE, Ordering::SeqCst);
        crate::poll::readiness_changed();
    }

    fn reader(kernel: &Kernel) -> Result<Arc<ThreadShared>, Errno> {
        kernel.platform.current_thread().ok_or(Errno::EINVAL)
    }
}

/// `struct signalfd_siginfo` for `info`.
pub fn record(info: &SigInfo) -> [u8; RECORD_SIZE] {
    let mut out = [0u8; RECORD_SIZE];
    let mut put32 = |at: usize, v: u32| out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put32(0, info.si_signo as u32);
    put32(4, info.si_errno as u32);
    put32(8, info.si_code as u32);
    let low = info.fields[0] as u32;
    let high = (info.fields[0] >> 32) as u32;
    let is_fault = matches!(info.si_signo, 4 | 5 | 7 | 8 | 11) && info.si_code > 0;
    if info.si_code == code::SI_TIMER {
        put32(24, low); // ssi_tid: the timer id
        put32(32, high); // ssi_overrun
    } else if !is_fault {
        put32(12, low); // ssi_pid
        put32(16, high); // ssi_uid
    }
    let value = info.fields[1];
    put32(44, value as u32); // ssi_int
    out[48..56].copy_from_slice(&value.to_le_bytes()); // ssi_ptr
    if is_fault {
        out[72..80].copy_from_slice(&info.fields[0].to_le_bytes()); // ssi_addr
    }
    out
}

impl File for SignalFd {
    fn read(&self, buf: &mut [u8], nonblock: bool) -> SysResult {
        if buf.len() < RECORD_SIZE {
            return Err(Errno::EINVAL);
        }
        let kernel = Kernel::get();
        let reader = Self::reader(kernel)?;
        let mut take = || {
            let mut n = 0;
            while n + RECORD_SIZE <= buf.len() {
                let Some(info) = kernel.take_signal_in(&reader, self.mask.load(Ordering::SeqCst)) else { break };
                buf[n..n + RECORD_SIZE].copy_from_slice(&record(&info));
                n += RECORD_SIZE;
            }
            n
        };
        if nonblock {
            return match take() {
                0 => Err(Errno::EAGAIN),
                n => Ok(n),
            };
        }

        SIGNAL_SENT.wait_until(|| match take() {
            0 => None,
            n => Some(n),
        })
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_nlink: 1, st_mode: 0o600, st_blksize: 4096, ..Stat::default() })
    }

    fn poll(&self, wanted: u16) -> u16 {
        let kernel = Kernel::get();
        let Ok(reader) = Self::reader(kernel) else { return 0 };
        let pending = kernel.pending_for_shared(&reader) & self.mask.load(Ordering::SeqCst);
        if pending != 0 {
            wanted & (events::POLLIN | events::POLLRDNORM)
        } else {
            0
        }
    }

    fn anon_name(&self) -> Option<alloc::vec::Vec<u8>> {
        Some(b"anon_inode:[signalfd]".to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_follow_signalfd_siginfo() {
        let r = record(&SigInfo::sent(10, code::SI_USER, 1234, 1000));
        assert_eq!(u32::from_le_bytes(r[0..4].try_into().unwrap()), 10);
        assert_eq!(u32::from_le_bytes(r[12..16].try_into().unwrap()), 1234);
        assert_eq!(u32::from_le_bytes(r[16..20].try_into().unwrap()), 1000);
        let f = record(&SigInfo::fault(11, code::SEGV_MAPERR, 0xdead));
        assert_eq!(u64::from_le_bytes(f[72..80].try_into().unwrap()), 0xdead);
        assert_eq!(u32::from_le_bytes(f[12..16].try_into().unwrap()), 0, "no pid for a fault");
        let t = record(&SigInfo::timer(14, 3, 2, 77));
        assert_eq!(u32::from_le_bytes(t[24..28].try_into().unwrap()), 3);
        assert_eq!(u32::from_le_bytes(t[32..36].try_into().unwrap()), 2);
        assert_eq!(u64::from_le_bytes(t[48..56].try_into().unwrap()), 77);
    }
}
