//! Futexes kept by the libOS itself, for a platform with no host kernel to lend its
//! own: the VM platform (one address space, the libOS's own scheduler) implements
//! [`Platform::futex`] with one [`FutexTable`]. The hosted platform does not need it:
//! there a guest futex word is a host futex word (`libos/hosted/src/futex.rs`).
//!
//! # How Linux does it, and how this follows
//!
//! A futex is nothing but a 32-bit word of user memory and a queue of the threads that
//! sleep on it. Linux keeps the queues in a hash table keyed by the word's identity
//! (`kernel/futex/core.c`, `waitwake.c`, `requeue.c`):
//!
//! - **Wait** (`futex_wait_setup`, `futex_wait_queue`): with the queue's lock held, read
//!   the word; if it no longer holds the value the caller saw, fail with EAGAIN (the
//!   caller's condition changed, it must look again); else join the queue, drop the
//!   lock and sleep. Comparing and queueing under the lock is what makes futexes work:
//!   a waker changes the word *before* it takes the lock to wake, so either the waiter
//!   read the new value (EAGAIN) or it was queued when the waker looked.
//! - **Wake** (`futex_wake`): take waiters off the queue, in order, whose bitset shares
//!   a bit with the wake's, up to a count; return how many.
//! - **Requeue** (`futex_requeue`): wake some waiters of one word and move others, still
//!   asleep, to the queue of another word (a condition variable's broadcast moves its
//!   waiters onto the mutex instead of waking them all to fight for it).
//! - **Wake-op** (`futex_wake_op`): atomically change a second word, wake waiters of
//!   the first, and waiters of the second if its old value passes a comparison.
//!
//! Here one table holds every queue: a map from [`FutexKey`] to a FIFO of waiters, under
//! one lock (a [`crate::sync::Mutex`]: a spin lock whose waiters yield, as every libOS
//! lock; holds are a map lookup and a few queue operations, never a sleep). A waiter
//! is a heap record with its bitset and a *state word* of libOS memory: it sleeps on
//! that word through [`Platform::wait_on`] (the scheduler's wait queue, on the VM), and
//! a waker takes it off the queue, sets the word to `WOKEN` under the table lock, and,
//! once the lock is dropped, calls [`Platform::wake_all`] on it. `wait_on` returns at
//! once when the word no longer holds `WAITING`, so a wake that lands between the
//! enqueue and the sleep is never lost. Linux does the same with its `futex_q`
//! (`q->lock_ptr = NULL` is the state word, `wake_q` the wake after unlocking).
//!
//! A waiter that stops waiting for another reason (timeout, signal) takes the lock and
//! looks at its state word: `WOKEN` means a waker took it off the queue (and counted
//! it) first, and the wait succeeds, as in Linux's `futex_unqueue` returning 0; else it
//! takes itself off the queue and fails. Every wait leaves the queue before it returns.
//!
//! # Guest memory
//!
//! The table reaches a futex word only through the caller's `word` accessor (see
//! [`FutexTable::run`]): the platform turns a guest address into its atomic word after
//! checking that the memory is mapped with the access asked for, and answers EFAULT
//! otherwise. It is called before the table lock is taken (it may take memory-map
//! locks); the word is then read or changed under the table lock. As in Linux, memory
//! is touched only where Linux touches it:
//!
//! | operation | private (`FUTEX_PRIVATE_FLAG`) | shared |
//! |---|---|---|
//! | wait | reads `addr` | reads `addr` |
//! | wake | nothing (a wake on unmapped memory wakes nobody) | `addr` must be readable |
//! | requeue | nothing; `CMP_REQUEUE` reads `addr` | `addr`, `addr2` readable; `CMP_REQUEUE` reads `addr` |
//! | wake-op | changes `addr2` (EFAULT if not writable) | `addr` readable, `addr2` writable, then changes `addr2` |
//!
//! (A shared futex's key comes from `get_user_pages`, which faults on memory that is
//! not mapped; a private key is only the address.)
//!
//! # Where this differs from Linux
//!
//! - **Keys.** Linux keys a private futex by (mm, address) and a shared one by the
//!   backing object (anonymous memory: (mm, address) with `FUT_OFF_MMSHARED`; a file:
//!   (inode, offset)), so a private wait is not woken by a shared wake of the same word.
//!   Here the key is the guest address and the private flag ([`FutexKey`]), so private
//!   and shared futexes on one word stay apart as on Linux; but a file mapped at two
//!   addresses has two shared futexes per word, not one. [`FutexKey`] is the place to
//!   grow (a shared memory object and offset) when that matters.
//! - **A signal during a wait with a timeout.** Linux turns every timeout into an
//!   absolute deadline at entry and, interrupted, returns `-ERESTART_RESTARTBLOCK`: EINTR
//!   when a handler runs, else the wait is resumed with the same deadline
//!   (`futex_wait_restart`). The libOS has no restart blocks, so a timed wait returns
//!   ERESTARTNOHAND: EINTR when a handler runs (as Linux), else the syscall is made
//!   again with its original arguments. That is exact for `FUTEX_WAIT_BITSET`'s
//!   absolute deadline; for `FUTEX_WAIT`'s relative timeout the restarted wait counts
//!   its whole timeout again from the restart, where Linux keeps the first deadline.
//!   (Returning EINTR instead would show an EINTR that Linux never shows to a thread
//!   whose signal ran no handler.) The hosted platform answers the same way.
//! - **Priorities.** Linux queues waiters by priority (a `plist`), FIFO within one
//!   priority; the libOS has no thread priorities, so its queues are plain FIFO.
//! - **Deadlines** are re-read from the platform's clock between sleeps, and each sleep
//!   is for the time left: a realtime deadline notices a clock change at the next
//!   wake-up, where Linux's hrtimer follows it at once.
//! - PI futexes, `FUTEX_FD` and `futex_waitv` are not here (decoding refuses them).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::futex::{FutexOp, FutexTimeout, WakeOp};
use crate::mm::Access;
use crate::platform::Platform;
use crate::sync::Mutex;
use crate::time::ClockId;
use crate::{Errno, SysResult};

/// A waiter's state word while it is queued.
const WAITING: u32 = 0;
/// A waiter's state word once a waker took it off its queue (and counted it).
const WOKEN: u32 = 1;

/// What identifies a futex: the queue a wait joins and a wake looks in.
///
/// The guest address of the word and whether the futex is private: as on Linux, a
/// private futex (keyed by address space and address) and a shared one (keyed by the
/// memory object) on the same word are different futexes, so a shared wake does not
/// wake a private waiter. The fields are private so that the key can grow — an
/// address-space id, a shared memory object and offset — without touching the callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FutexKey {
    addr: u64,
    private: bool,
}

impl FutexKey {
    /// The key of the futex word at guest address `addr`, private or shared.
    pub const fn of(addr: u64, private: bool) -> FutexKey {
        FutexKey { addr, private }
    }

    /// The guest address the key names.
    pub const fn addr(self) -> u64 {
        self.addr
    }
}

/// One thread blocked in a futex wait (Linux's `struct futex_q`).
#[derive(Debug)]
struct Waiter {
    /// `WAITING`, then `WOKEN` once a waker took it off its queue: what the thread
    /// sleeps on ([`Platform::wait_on`]).
    state: AtomicU32,
    /// The wait's bitset: a wake reaches this waiter only if its own bitset shares a
    /// bit with it. (Requeue and wake-op ignore bitsets, as in Linux.)
    bitset: u32,
    /// The queue the waiter is in: its wait's key, until a requeue moves it. Read and
    /// written only with the table lock held; the inner lock is never contended (it
    /// only gives the shared record somewhere mutable to keep the key).
    key: spin::Mutex<FutexKey>,
}

/// Every futex queue, by key.
type Queues = BTreeMap<FutexKey, VecDeque<Arc<Waiter>>>;

/// The libOS's futexes: a wait queue per futex word. See the module docs.
///
/// ```ignore
/// static FUTEXES: FutexTable = FutexTable::new();
///
/// fn futex(&self, op: &FutexOp) -> SysResult {
///     FUTEXES.run(op, self, &|addr, access| guest_word(addr, access))
/// }
/// ```
#[derive(Debug, Default)]
pub struct FutexTable {
    queues: Mutex<Queues>,
}

impl FutexTable {
    /// An empty table (usable in a `static`).
    pub const fn new() -> FutexTable {
        FutexTable { queues: Mutex::new(BTreeMap::new()) }
    }

    /// Carries out `op` (validated by [`crate::futex::decode`], its words 4-byte
    /// aligned) as Linux does, blocking the calling thread for a wait.
    ///
    /// `word(addr, access)` is the guest's futex word at `addr`, once the platform has
    /// checked that the memory is mapped for `access` (EFAULT otherwise, passed on as it
    /// is). It is called without the table lock held, only where Linux touches memory
    /// (see the module docs), and the reference it gives must stay valid for the call.
    ///
    /// Results as Linux gives them: a wait gives 0 when woken, or EAGAIN (the word did
    /// not hold `expected`), ETIMEDOUT, ERESTARTSYS (a signal; no timeout),
    /// ERESTARTNOHAND (a signal; with a timeout: see the module docs), EFAULT; a wake
    /// the number of waiters woken; a requeue the number woken plus the number moved
    /// (EAGAIN if `CMP_REQUEUE`'s word changed); a wake-op the number woken on both
    /// words (ENOSYS for an unknown operation, before the word is touched, or an unknown
    /// comparison, after it was changed, waking nobody).
    pub fn run<'m>(
        &self,
        op: &FutexOp,
        platform: &dyn Platform,
        word: &dyn Fn(u64, Access) -> Result<&'m AtomicU32, Errno>,
    ) -> SysResult {
        match *op {
            FutexOp::Wait { addr, expected, bitset, timeout, private } => {
                self.wait(platform, word, FutexKey::of(addr, private), expected, bitset, timeout)
            }
            FutexOp::Wake { addr, count, bitset, private } => {
                if bitset == 0 {
                    return Err(Errno::EINVAL);
                }
                if !private {
                    word(addr, Access::Read)?;
                }
                let mut woken = Vec::new();
                let n =
                    wake(&mut self.queues.lock(), FutexKey::of(addr, private), wake_limit(count), bitset, &mut woken);
                wake_up(platform, &woken);
                Ok(n)
            }
            FutexOp::Requeue { addr, addr2, wake, requeue, expected, private } => {
                if (wake as i32) < 0 || (requeue as i32) < 0 {
                    return Err(Errno::EINVAL);
                }
                if !private {
                    word(addr, Access::Read)?;
                    word(addr2, Access::Read)?;
                }
                let w1 = match expected {
                    Some(_) => Some(word(addr, Access::Read)?),
                    None => None,
                };
                let mut woken = Vec::new();
                let n = {
                    let mut queues = self.queues.lock();
                    if let (Some(w1), Some(expected)) = (w1, expected) {
                        if w1.load(Ordering::SeqCst) != expected {
                            return Err(Errno::EAGAIN);
                        }
                    }
                    requeue_waiters(
                        &mut queues,
                        FutexKey::of(addr, private),
                        FutexKey::of(addr2, private),
                        wake as usize,
                        requeue as usize,
                        &mut woken,
                    )
                };
                wake_up(platform, &woken);
                Ok(n)
            }
            FutexOp::WakeOp { addr, addr2, wake: nr_wake, wake2, encoded, private } => {
                let wop = WakeOp::decode(encoded);
                if !private {
                    word(addr, Access::Read)?;
                    word(addr2, Access::Write)?;
                }
                // Linux's x86 `arch_futex_atomic_op_inuser` refuses an unknown operation
                // before it touches the word (a private `addr2` in unmapped memory then
                // gives ENOSYS, not EFAULT).
                wop.apply(0)?;
                let w2 = word(addr2, Access::Write)?;
                let mut woken = Vec::new();
                let n = {
                    let mut queues = self.queues.lock();
                    // Under the table lock, as Linux holds both queues' locks: a waiter
                    // of `addr2` read the word either before (and is queued) or after.
                    let old = w2
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| wop.apply(v).ok())
                        .map_err(|_| Errno::ENOSYS)?;
                    // An unknown comparison is found only now, with the word changed:
                    // ENOSYS and no wake, as Linux.
                    let hit = wop.compare(old)?;
                    let any = crate::futex::op::FUTEX_BITSET_MATCH_ANY;
                    let mut n = wake(&mut queues, FutexKey::of(addr, private), wake_limit(nr_wake), any, &mut woken);
                    if hit {
                        n += wake(&mut queues, FutexKey::of(addr2, private), wake_limit(wake2), any, &mut woken);
                    }
                    n
                };
                wake_up(platform, &woken);
                Ok(n)
            }
        }
    }

    /// How many threads wait on the futex at `addr` now (for tests and diagnostics:
    /// the answer may be stale by the time the caller looks at it).
    pub fn waiters(&self, addr: u64) -> usize {
        let queues = self.queues.lock();
        [true, false].iter().map(|&p| queues.get(&FutexKey::of(addr, p)).map_or(0, VecDeque::len)).sum()
    }

    /// The bitsets of the threads waiting on `addr`, in queue order.
    #[cfg(test)]
    pub(crate) fn bitsets(&self, addr: u64) -> Vec<u32> {
        let queues = self.queues.lock();
        [true, false]
            .iter()
            .flat_map(|&p| queues.get(&FutexKey::of(addr, p)).into_iter().flat_map(|q| q.iter().map(|w| w.bitset)))
            .collect()
    }

    /// `FUTEX_WAIT` / `FUTEX_WAIT_BITSET` (Linux's `futex_wait`).
    fn wait<'m>(
        &self,
        platform: &dyn Platform,
        word: &dyn Fn(u64, Access) -> Result<&'m AtomicU32, Errno>,
        key: FutexKey,
        expected: u32,
        bitset: u32,
        timeout: Option<FutexTimeout>,
    ) -> SysResult {
        let addr = key.addr();
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        // Linux turns the timeout into a deadline at entry (`futex_init_timeout`): a
        // relative one counts from the call, on the monotonic clock.
        let deadline = match timeout {
            None => None,
            Some(FutexTimeout::Relative(t)) => {
                let t = t.to_nanos().ok_or(Errno::EINVAL)?;
                Some((ClockId::Monotonic, now_ns(platform, ClockId::Monotonic).saturating_add(t)))
            }
            Some(FutexTimeout::Absolute { clock, at }) => Some((clock, at.to_nanos().ok_or(Errno::EINVAL)?)),
        };
        let w = word(addr, Access::Read)?;
        let waiter = Arc::new(Waiter { state: AtomicU32::new(WAITING), bitset, key: spin::Mutex::new(key) });
        {
            let mut queues = self.queues.lock();
            if w.load(Ordering::SeqCst) != expected {
                return Err(Errno::EAGAIN);
            }
            queues.entry(key).or_default().push_back(waiter.clone());
        }
        // What a signal makes of the wait (see the module docs).
        let interrupted = if timeout.is_none() { Errno::ERESTARTSYS } else { Errno::ERESTARTNOHAND };
        loop {
            // Woken: the waker has already taken the waiter off its queue.
            if waiter.state.load(Ordering::Acquire) == WOKEN {
                return Ok(0);
            }
            // As Linux after `schedule()`: woken first, then the timeout, then a signal;
            // anything else was a spurious wake-up and the thread sleeps again.
            let left = deadline.map(|(clock, at)| at.saturating_sub(now_ns(platform, clock)));
            let end = if left == Some(0) {
                Some(Errno::ETIMEDOUT)
            } else if platform.interrupted() {
                Some(interrupted)
            } else {
                None
            };
            if let Some(e) = end {
                return self.leave(&waiter, e);
            }
            platform.wait_on(&waiter.state, WAITING, left);
        }
    }

    /// Ends a wait that was not (seen to be) woken: `Ok(0)` if a waker took the waiter
    /// off its queue after all (a wake racing the timeout or the signal counts as a
    /// wake, as in Linux), else the waiter leaves its queue and the wait fails with
    /// `why`.
    fn leave(&self, waiter: &Arc<Waiter>, why: Errno) -> SysResult {
        let mut queues = self.queues.lock();
        if waiter.state.load(Ordering::Acquire) == WOKEN {
            return Ok(0);
        }
        let key = *waiter.key.lock();
        if let Some(queue) = queues.get_mut(&key) {
            if let Some(i) = queue.iter().position(|w| Arc::ptr_eq(w, waiter)) {
                queue.remove(i);
            }
            if queue.is_empty() {
                queues.remove(&key);
            }
        }
        Err(why)
    }
}

/// How many waiters a wake of `count` may wake. Linux's loops (`if (++ret >= nr_wake)
/// break;`, with `nr_wake` an `int`) wake one waiter even for a count of 0 or a count
/// that is negative as an `int`.
fn wake_limit(count: u32) -> usize {
    (count as i32).max(1) as usize
}

/// Takes up to `limit` waiters of `key` whose bitset meets `bitset` off their queue, in
/// queue order, and marks them woken; they are added to `woken`, for [`wake_up`] once
/// the table lock is dropped. Returns how many.
fn wake(queues: &mut Queues, key: FutexKey, limit: usize, bitset: u32, woken: &mut Vec<Arc<Waiter>>) -> usize {
    let Some(queue) = queues.get_mut(&key) else {
        return 0;
    };
    let mut n = 0;
    queue.retain(|w| {
        if n == limit || w.bitset & bitset == 0 {
            return true;
        }
        w.state.store(WOKEN, Ordering::Release);
        woken.push(w.clone());
        n += 1;
        false
    });
    if queue.is_empty() {
        queues.remove(&key);
    }
    n
}

/// Wakes the first `nr_wake` waiters of `from` and moves up to `nr_requeue` of the rest,
/// in order, to the end of `to`'s queue, whatever their bitsets (Linux's plain
/// `futex_requeue`). Returns how many were woken and moved. When `from` and `to` are
/// the same futex the moved waiters stay where they are (Linux's `requeue_futex` leaves
/// a waiter in place when both keys hash to one bucket), and are still counted.
fn requeue_waiters(
    queues: &mut Queues,
    from: FutexKey,
    to: FutexKey,
    nr_wake: usize,
    nr_requeue: usize,
    woken: &mut Vec<Arc<Waiter>>,
) -> usize {
    let Some(mut queue) = queues.remove(&from) else {
        return 0;
    };
    let nr_wake = nr_wake.min(queue.len());
    for w in queue.drain(..nr_wake) {
        w.state.store(WOKEN, Ordering::Release);
        woken.push(w);
    }
    let nr_requeue = nr_requeue.min(queue.len());
    if from != to && nr_requeue > 0 {
        let target = queues.entry(to).or_default();
        for w in queue.drain(..nr_requeue) {
            *w.key.lock() = to;
            target.push_back(w);
        }
    }
    if !queue.is_empty() {
        queues.insert(from, queue);
    }
    nr_wake + nr_requeue
}

/// Lets the woken waiters run (Linux's `wake_up_q`), with the table lock dropped.
fn wake_up(platform: &dyn Platform, woken: &[Arc<Waiter>]) {
    for w in woken {
        platform.wake_all(&w.state);
    }
}

/// The time on `clock`, in nanoseconds.
fn now_ns(platform: &dyn Platform, clock: ClockId) -> u64 {
    platform.now(clock).to_nanos().unwrap_or(0)
}

#[cfg(test)]
#[path = "futex_table_tests.rs"]
mod tests;
