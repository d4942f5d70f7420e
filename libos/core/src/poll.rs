//! `poll`/`ppoll` over the fd table.
//!
//! Readiness is asked of each file ([`crate::file::File::poll`]). A blocking poll sleeps
//! between scans on [`READINESS`], which files whose readiness changes notify (pipes do:
//! [`readiness_changed`]), so a write to a pipe in one thread ends a poll on it in
//! another at once. Files that do not notify yet are re-checked with a back-off of at
//! most 10 ms, so a poll never spins a CPU.

use crate::abi::PollFd;
use crate::file::events::{POLLERR, POLLHUP, POLLNVAL};
use crate::kernel::Kernel;
use crate::time::ClockId;
use crate::wait::WaitQueue;
use crate::SysResult;

const MAX_BACKOFF_NS: u64 = 10_000_000;

/// Notified whenever some file's readiness may have changed.
pub static READINESS: WaitQueue = WaitQueue::new();

/// Wakes blocked `poll`s to re-scan: call after a change that can make a file ready.
pub fn readiness_changed() {
    READINESS.notify();
}

/// Fills in `revents` and returns how many entries have any; waits up to `timeout_ns`
/// (`None` = forever) while none does.
pub fn poll(kernel: &Kernel, fds: &mut [PollFd], timeout_ns: Option<u64>) -> SysResult {
    let platform = kernel.platform;
    let start = platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0);
    let mut backoff = 50_000;
    loop {
        let seq = READINESS.seq();
        let ready = scan(kernel, fds);
        if ready > 0 {
            return Ok(ready);
        }
        let now = platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0);
        let elapsed = now.saturating_sub(start);
        let remaining = match timeout_ns {
            Some(t) if elapsed >= t => return Ok(0),
            Some(t) => t - elapsed,
            None => u64::MAX,
        };
        // A signal for the thread ends the wait: EINTR once its handler ran (Linux
        // restarts poll only when no handler runs).
        if platform.interrupted() {
            return Err(crate::Errno::ERESTARTNOHAND);
        }
        READINESS.sleep_since(platform, seq, backoff.min(remaining));
        backoff = (backoff * 2).min(MAX_BACKOFF_NS);
    }
}

fn scan(kernel: &Kernel, fds: &mut [PollFd]) -> usize {
    let table = kernel.fds.lock();
    let mut ready = 0;
    for pfd in fds.iter_mut() {
        pfd.revents = 0;
        if pfd.fd < 0 {
            continue;
        }
        let revents = match table.get(pfd.fd) {
            Ok(open) => {
                let wanted = pfd.events as u16 | POLLERR | POLLHUP;
                open.file.poll(wanted) & wanted
            }
            Err(_) => POLLNVAL,
        };
        pfd.revents = revents as i16;
        if revents != 0 {
            ready += 1;
        }
    }
    ready
}

#[cfg(test)]
#[path = "poll_tests.rs"]
mod tests;
