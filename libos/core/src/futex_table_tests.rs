//! The futex table with the fake platform: single-threaded where the fake's clock and
//! its wait hook make a case deterministic, real threads for wakes across threads
//! (a thread is known to be waiting once the table counts it: [`FutexTable::waiters`]).

extern crate std;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::*;
use crate::abi::Timespec;
use crate::futex::op::FUTEX_BITSET_MATCH_ANY as ANY;
use crate::testing::{FakePlatform, MONOTONIC_START, REALTIME_START};

/// Guest memory for the tests: eight words from `BASE`, the last two read-only and
/// unmapped.
struct Memory {
    words: [AtomicU32; 8],
}

const BASE: u64 = 0x1000;
const A: u64 = BASE;
const B: u64 = BASE + 4;
const C: u64 = BASE + 8;
const READ_ONLY: u64 = BASE + 24;
const UNMAPPED: u64 = BASE + 28;

impl Memory {
    fn word(&self, addr: u64, access: Access) -> Result<&AtomicU32, Errno> {
        let i = addr.checked_sub(BASE).map(|o| (o / 4) as usize).filter(|&i| i < 8).ok_or(Errno::EFAULT)?;
        match addr {
            UNMAPPED => Err(Errno::EFAULT),
            READ_ONLY if access == Access::Write => Err(Errno::EFAULT),
            _ => Ok(&self.words[i]),
        }
    }

    fn get(&self, addr: u64) -> u32 {
        self.word(addr, Access::Read).unwrap().load(Ordering::SeqCst)
    }

    fn set(&self, addr: u64, v: u32) {
        self.word(addr, Access::Write).unwrap().store(v, Ordering::SeqCst)
    }
}

/// A table, a platform with real waits and guest memory, shared by a test's threads.
#[derive(Clone, Copy)]
struct World {
    t: &'static FutexTable,
    p: &'static FakePlatform,
    m: &'static Memory,
}

fn world() -> World {
    World {
        t: Box::leak(Box::new(FutexTable::new())),
        p: FakePlatform::with_real_waits().leak(),
        m: Box::leak(Box::new(Memory { words: Default::default() })),
    }
}

impl World {
    fn run(self, op: FutexOp) -> SysResult {
        self.t.run(&op, self.p, &|addr, access| self.m.word(addr, access))
    }

    fn wait(self, addr: u64, expected: u32, bitset: u32, timeout: Option<FutexTimeout>) -> SysResult {
        self.run(FutexOp::Wait { addr, expected, bitset, timeout, private: true })
    }

    fn wake(self, addr: u64, count: u32, bitset: u32) -> SysResult {
        self.run(FutexOp::Wake { addr, count, bitset, private: true })
    }

    fn requeue(self, wake: u32, requeue: u32, expected: Option<u32>) -> SysResult {
        self.run(FutexOp::Requeue { addr: A, addr2: B, wake, requeue, expected, private: true })
    }

    fn wake_op(self, wake: u32, wake2: u32, encoded: u32) -> SysResult {
        self.run(FutexOp::WakeOp { addr: A, addr2: B, wake, wake2, encoded, private: true })
    }

    /// A thread that waits (with no timeout) on `addr`, for a word holding 0; returns
    /// once the table has queued it.
    fn spawn_waiter(self, addr: u64, bitset: u32) -> JoinHandle<SysResult> {
        let before = self.t.waiters(addr);
        let h = std::thread::spawn(move || self.wait(addr, 0, bitset, None));
        until(|| self.t.waiters(addr) == before + 1);
        h
    }
}

/// Spins (yielding) until `cond` holds; fails the test after ten seconds rather than
/// hanging it.
fn until(cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(10), "condition never came true");
        std::thread::yield_now();
    }
}

fn secs(s: u64) -> Timespec {
    Timespec::from_nanos(s * 1_000_000_000)
}

fn plus(t: Timespec, s: u64) -> Timespec {
    Timespec::from_nanos(t.to_nanos().unwrap() + s * 1_000_000_000)
}

/// `FUTEX_OP(op, oparg, cmp, cmparg)` from linux/futex.h.
const fn futex_op(op: u32, oparg: u32, cmp: u32, cmparg: u32) -> u32 {
    ((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff)
}

// --- static construction ---------------------------------------------------------------

static TABLE: FutexTable = FutexTable::new();

#[test]
fn a_table_can_be_a_static() {
    let w = world();
    assert_eq!(TABLE.waiters(A), 0);
    assert_eq!(
        TABLE.run(&FutexOp::Wake { addr: A, count: 1, bitset: ANY, private: true }, w.p, &|a, acc| w.m.word(a, acc)),
        Ok(0)
    );
}

// --- wait: the comparison and guest memory ----------------------------------------------

#[test]
fn wait_fails_with_eagain_when_the_word_differs_and_queues_nothing() {
    let w = world();
    w.m.set(A, 5);
    assert_eq!(w.wait(A, 4, ANY, None), Err(Errno::EAGAIN));
    assert_eq!(w.t.waiters(A), 0);
}

#[test]
fn eagain_comes_before_an_expired_timeout() {
    let w = world();
    w.m.set(A, 1);
    assert_eq!(w.wait(A, 0, ANY, Some(FutexTimeout::Relative(secs(0)))), Err(Errno::EAGAIN));
}

#[test]
fn wait_on_unmapped_memory_is_efault_and_read_only_memory_is_enough() {
    let w = world();
    assert_eq!(w.wait(UNMAPPED, 0, ANY, None), Err(Errno::EFAULT));
    assert_eq!(w.wait(BASE + 0x100, 0, ANY, None), Err(Errno::EFAULT));
    w.m.words[6].store(3, Ordering::SeqCst);
    assert_eq!(w.wait(READ_ONLY, 2, ANY, None), Err(Errno::EAGAIN));
    assert_eq!(w.wait(READ_ONLY, 3, ANY, Some(FutexTimeout::Relative(secs(1)))), Err(Errno::ETIMEDOUT));
}

#[test]
fn a_zero_bitset_is_einval() {
    let w = world();
    assert_eq!(w.wait(A, 0, 0, None), Err(Errno::EINVAL));
    assert_eq!(w.wake(A, 1, 0), Err(Errno::EINVAL));
}

// --- wait and wake across threads --------------------------------------------------------

#[test]
fn a_wake_ends_a_wait_on_another_thread() {
    let w = world();
    let h = w.spawn_waiter(A, ANY);
    assert_eq!(w.wake(A, 1, ANY), Ok(1));
    assert_eq!(h.join().unwrap(), Ok(0));
    assert_eq!(w.t.waiters(A), 0);
}

#[test]
fn a_wake_reaches_only_its_own_address() {
    let w = world();
    let h = w.spawn_waiter(A, ANY);
    assert_eq!(w.wake(B, 1, ANY), Ok(0));
    assert_eq!(w.t.waiters(A), 1);
    assert_eq!(w.wake(A, 1, ANY), Ok(1));
    assert_eq!(h.join().unwrap(), Ok(0));
}

#[test]
fn wakes_take_waiters_in_fifo_order() {
    let w = world();
    // The bitsets tell the waiters apart in the queue.
    let hs: Vec<_> = [1, 2, 4, 8].into_iter().map(|b| w.spawn_waiter(A, b)).collect();
    assert_eq!(w.t.bitsets(A), [1, 2, 4, 8]);
    assert_eq!(w.wake(A, 1, ANY), Ok(1));
    assert_eq!(w.t.bitsets(A), [2, 4, 8]);
    assert_eq!(w.wake(A, 2, ANY), Ok(2));
    assert_eq!(w.t.bitsets(A), [8]);
    assert_eq!(w.wake(A, 1, ANY), Ok(1));
    for h in hs {
        assert_eq!(h.join().unwrap(), Ok(0));
    }
}

#[test]
fn a_count_of_zero_or_a_negative_count_still_wakes_one() {
    let w = world();
    let hs: Vec<_> = (0..4).map(|_| w.spawn_waiter(A, ANY)).collect();
    // Linux: `if (++ret >= nr_wake) break;` with an int nr_wake.
    assert_eq!(w.wake(A, 0, ANY), Ok(1));
    assert_eq!(w.wake(A, 0x8000_0000, ANY), Ok(1));
    assert_eq!(w.t.waiters(A), 2);
    // INT_MAX, what glibc uses to wake everyone.
    assert_eq!(w.wake(A, i32::MAX as u32, ANY), Ok(2));
    assert_eq!(w.wake(A, 0, ANY), Ok(0));
    for h in hs {
        assert_eq!(h.join().unwrap(), Ok(0));
    }
}

#[test]
fn bitsets_choose_the_waiters_a_wake_reaches() {
    let w = world();
    let hs: Vec<_> = [0b001, 0b010, 0b110, 0b100].into_iter().map(|b| w.spawn_waiter(A, b)).collect();
    // 0b010 meets the second and third waiters; skipped waiters keep their place.
    assert_eq!(w.wake(A, 10, 0b010), Ok(2));
    assert_eq!(w.t.bitsets(A), [0b001, 0b100]);
    // A count limits the matching waiters only.
    assert_eq!(w.wake(A, 1, 0b100), Ok(1));
    assert_eq!(w.t.bitsets(A), [0b001]);
    assert_eq!(w.wake(A, 10, 0b1000), Ok(0));
    assert_eq!(w.wake(A, 10, ANY), Ok(1));
    for h in hs {
        assert_eq!(h.join().unwrap(), Ok(0));
    }
}

#[test]
fn a_private_wake_touches_no_memory_and_a_shared_one_does() {
    let w = world();
    assert_eq!(w.run(FutexOp::Wake { addr: UNMAPPED, count: 1, bitset: ANY, private: true }), Ok(0));
    assert_eq!(w.run(FutexOp::Wake { addr: UNMAPPED, count: 1, bitset: ANY, private: false }), Err(Errno::EFAULT));
    assert_eq!(w.run(FutexOp::Wake { addr: READ_ONLY, count: 1, bitset: ANY, private: false }), Ok(0));
}

#[test]
fn private_and_shared_futexes_on_one_word_are_two_futexes() {
    let w = world();
    let h = w.spawn_waiter(A, ANY);
    // As on Linux: a shared wake does not find the private waiter; a private one does.
    assert_eq!(w.run(FutexOp::Wake { addr: A, count: 1, bitset: ANY, private: false }), Ok(0));
    assert_eq!(w.run(FutexOp::Wake { addr: A, count: 1, bitset: ANY, private: true }), Ok(1));
    assert_eq!(h.join().unwrap(), Ok(0));
}

#[test]
fn a_wake_between_queueing_and_sleeping_is_not_lost() {
    let w = world();
    let woke = Arc::new(AtomicUsize::new(9));
    let seen = woke.clone();
    // The wake runs inside the wait's first `wait_on`, before it looks at its word.
    w.p.on_next_wait(move || seen.store(w.wake(A, 1, ANY).unwrap(), Ordering::SeqCst));
    assert_eq!(w.wait(A, 0, ANY, None), Ok(0));
    assert_eq!(woke.load(Ordering::SeqCst), 1);
    assert_eq!(w.t.waiters(A), 0);
}

/// A futex-based lock (Drepper's "Futexes are tricky", mutex 2) over the table: four
/// threads increment a counter under it.
#[test]
fn a_futex_lock_built_on_the_table_excludes() {
    let w = world();
    let counter = Arc::new(AtomicU32::new(0));
    let lock = |w: World| {
        let word = w.m.word(C, Access::Write).unwrap();
        let mut c = word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).unwrap_or_else(|c| c);
        if c != 0 {
            if c != 2 {
                c = word.swap(2, Ordering::Acquire);
            }
            while c != 0 {
                let _ = w.wait(C, 2, ANY, None);
                c = word.swap(2, Ordering::Acquire);
            }
        }
    };
    let unlock = |w: World| {
        if w.m.word(C, Access::Write).unwrap().fetch_sub(1, Ordering::Release) != 1 {
            w.m.set(C, 0);
            w.wake(C, 1, ANY).unwrap();
        }
    };
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..2000 {
                    lock(w);
                    // A non-atomic read-modify-write: only exclusion keeps it right.
                    let v = counter.load(Ordering::Relaxed);
                    std::hint::spin_loop();
                    counter.store(v + 1, Ordering::Relaxed);
                    unlock(w);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 8000);
    assert_eq!(w.t.waiters(C), 0);
}

// --- timeouts ---------------------------------------------------------------------------

#[test]
fn a_relative_timeout_runs_out_on_the_monotonic_clock() {
    let w = world();
    assert_eq!(w.wait(A, 0, ANY, Some(FutexTimeout::Relative(secs(2)))), Err(Errno::ETIMEDOUT));
    // The fake's clocks move by exactly the time slept: the whole timeout, once.
    assert_eq!(w.p.slept_ns(), 2_000_000_000);
    assert_eq!(w.t.waiters(A), 0);
}

#[test]
fn a_zero_relative_timeout_times_out_without_sleeping() {
    let w = world();
    assert_eq!(w.wait(A, 0, ANY, Some(FutexTimeout::Relative(secs(0)))), Err(Errno::ETIMEDOUT));
    assert_eq!(w.p.slept_ns(), 0);
    assert_eq!(w.t.waiters(A), 0);
}

#[test]
fn absolute_timeouts_are_deadlines_on_their_clock() {
    let w = world();
    let at = plus(MONOTONIC_START, 3);
    let t = Some(FutexTimeout::Absolute { clock: ClockId::Monotonic, at });
    assert_eq!(w.wait(A, 0, ANY, t), Err(Errno::ETIMEDOUT));
    assert_eq!(w.p.slept_ns(), 3_000_000_000);
    // The deadline has passed now: no more sleep.
    assert_eq!(w.wait(A, 0, ANY, t), Err(Errno::ETIMEDOUT));
    assert_eq!(w.p.slept_ns(), 3_000_000_000);
    // The realtime clock reads something else entirely; the deadline is on it.
    let at = plus(REALTIME_START, 5);
    let t = Some(FutexTimeout::Absolute { clock: ClockId::Realtime, at });
    assert_eq!(w.wait(A, 0, ANY, t), Err(Errno::ETIMEDOUT));
    assert_eq!(w.p.slept_ns(), 5_000_000_000);
    assert_eq!(w.t.waiters(A), 0);
}

#[test]
fn an_invalid_timeout_is_einval() {
    let w = world();
    let bad = Timespec { tv_sec: 1, tv_nsec: 1_000_000_000 };
    assert_eq!(w.wait(A, 0, ANY, Some(FutexTimeout::Relative(bad))), Err(Errno::EINVAL));
    let t = Some(FutexTimeout::Absolute { clock: ClockId::Monotonic, at: Timespec { tv_sec: -1, tv_nsec: 0 } });
    assert_eq!(w.wait(A, 0, ANY, t), Err(Errno::EINVAL));
}

#[test]
fn a_wait_woken_as_it_times_out_was_woken() {
    let w = world();
    let woke = Arc::new(AtomicUsize::new(9));
    let seen = woke.clone();
    // Inside the sleep: the deadline passes (10 s on a 1 s timeout) and a wake comes.
    w.p.on_next_wait(move || {
        w.p.sleep(10_000_000_000).unwrap();
        seen.store(w.wake(A, 1, ANY).unwrap(), Ordering::SeqCst);
    });
    assert_eq!(w.wait(A, 0, ANY, Some(FutexTimeout::Relative(secs(1)))), Ok(0));
    assert_eq!(woke.load(Ordering::SeqCst), 1);
    assert_eq!(w.t.waiters(A), 0);
}

/// Waits with timeouts that run out at once race wakes from other threads: whatever
/// the interleaving, every waiter a wake counted returns 0 and every other one
/// ETIMEDOUT, and the queue ends empty.
#[test]
fn wakes_racing_timeouts_are_counted_exactly_once() {
    let w = world();
    let done = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut woken = 0;
                for _ in 0..3000 {
                    match w.wait(A, 0, ANY, Some(FutexTimeout::Relative(Timespec::from_nanos(1)))) {
                        Ok(0) => woken += 1,
                        Err(Errno::ETIMEDOUT) => {}
                        r => panic!("unexpected {r:?}"),
                    }
                }
                done.fetch_add(1, Ordering::SeqCst);
                woken
            })
        })
        .collect();
    let mut counted = 0;
    while done.load(Ordering::SeqCst) < 3 {
        counted += w.wake(A, 1, ANY).unwrap();
    }
    let woken: usize = waiters.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(woken, counted);
    assert_eq!(w.t.waiters(A), 0);
}

// --- signals ----------------------------------------------------------------------------

#[test]
fn a_signal_ends_a_wait_without_timeout_with_erestartsys() {
    let w = world();
    let h = w.spawn_waiter(A, ANY);
    w.p.interrupt(h.thread().id());
    assert_eq!(h.join().unwrap(), Err(Errno::ERESTARTSYS));
    assert_eq!(w.t.waiters(A), 0);
    // Nobody is left for a wake.
    assert_eq!(w.wake(A, 1, ANY), Ok(0));
}

#[test]
fn a_signal_ends_a_timed_wait_with_erestartnohand() {
    let w = world();
    let me = std::thread::current().id();
    w.p.on_next_wait(move || w.p.interrupt(me));
    let t = Some(FutexTimeout::Relative(secs(5)));
    assert_eq!(w.wait(A, 0, ANY, t), Err(Errno::ERESTARTNOHAND));
    assert_eq!(w.p.slept_ns(), 0);
    assert_eq!(w.t.waiters(A), 0);
    w.p.clear_interrupt(me);
}

#[test]
fn a_signal_already_there_ends_the_wait_at_once_but_after_the_comparison() {
    let w = world();
    let me = std::thread::current().id();
    w.p.interrupt(me);
    w.m.set(A, 1);
    assert_eq!(w.wait(A, 0, ANY, None), Err(Errno::EAGAIN));
    assert_eq!(w.wait(A, 1, ANY, None), Err(Errno::ERESTARTSYS));
    assert_eq!(w.t.waiters(A), 0);
    w.p.clear_interrupt(me);
}

#[test]
fn a_wait_woken_as_a_signal_arrives_was_woken() {
    let w = world();
    let me = std::thread::current().id();
    w.p.on_next_wait(move || {
        w.p.interrupt(me);
        w.wake(A, 1, ANY).unwrap();
    });
    assert_eq!(w.wait(A, 0, ANY, None), Ok(0));
    w.p.clear_interrupt(me);
}

// --- requeue ----------------------------------------------------------------------------

#[test]
fn requeue_wakes_some_and_moves_others_behind_the_target_s_waiters() {
    let w = world();
    let on_b = w.spawn_waiter(B, 0x100);
    let on_a: Vec<_> = [1, 2, 4, 8].into_iter().map(|b| w.spawn_waiter(A, b)).collect();
    // Wake one, move two: the count is both (CMP_REQUEUE's rule; plain REQUEUE's too).
    assert_eq!(w.requeue(1, 2, Some(0)), Ok(3));
    assert_eq!(w.t.bitsets(A), [8]);
    assert_eq!(w.t.bitsets(B), [0x100, 2, 4]);
    // Plain REQUEUE: no comparison.
    w.m.set(A, 7);
    assert_eq!(w.requeue(0, 5, None), Ok(1));
    assert_eq!(w.t.waiters(A), 0);
    assert_eq!(w.t.bitsets(B), [0x100, 2, 4, 8]);
    // Moved waiters keep their bitsets and end their wait normally when woken on B.
    assert_eq!(w.wake(B, 10, 0b1010), Ok(2));
    assert_eq!(w.t.bitsets(B), [0x100, 4]);
    assert_eq!(w.wake(B, 10, ANY), Ok(2));
    for h in on_a {
        assert_eq!(h.join().unwrap(), Ok(0));
    }
    assert_eq!(on_b.join().unwrap(), Ok(0));
}

#[test]
fn a_requeued_waiter_interrupted_leaves_the_new_queue() {
    let w = world();
    let me = std::thread::current().id();
    // Inside the wait: another thread's requeue moves it to B; then a signal comes.
    w.p.on_next_wait(move || {
        assert_eq!(w.requeue(0, 1, None), Ok(1));
        assert_eq!(w.t.waiters(B), 1);
        w.p.interrupt(me);
    });
    assert_eq!(w.wait(A, 0, ANY, None), Err(Errno::ERESTARTSYS));
    assert_eq!(w.t.waiters(A), 0);
    assert_eq!(w.t.waiters(B), 0);
    w.p.clear_interrupt(me);
}

#[test]
fn cmp_requeue_with_a_changed_word_is_eagain_and_moves_nobody() {
    let w = world();
    let h = w.spawn_waiter(A, ANY);
    w.m.set(A, 1);
    assert_eq!(w.requeue(1, 1, Some(0)), Err(Errno::EAGAIN));
    assert_eq!(w.t.waiters(A), 1);
    assert_eq!(w.requeue(1, 1, Some(1)), Ok(1));
    assert_eq!(h.join().unwrap(), Ok(0));
}

#[test]
fn requeue_counts_are_exact() {
    let w = world();
    let hs: Vec<_> = (0..3).map(|_| w.spawn_waiter(A, ANY)).collect();
    // Unlike a wake, a requeue's count of 0 wakes nobody.
    assert_eq!(w.requeue(0, 0, None), Ok(0));
    assert_eq!(w.t.waiters(A), 3);
    // Fewer waiters than the counts: all of them, no more.
    assert_eq!(w.requeue(2, 10, None), Ok(3));
    assert_eq!(w.t.waiters(B), 1);
    assert_eq!(w.requeue(1, 1, None), Ok(0));
    assert_eq!(w.wake(B, 1, ANY), Ok(1));
    for h in hs {
        assert_eq!(h.join().unwrap(), Ok(0));
    }
}

#[test]
fn requeue_onto_the_same_futex_counts_the_moved_waiters_in_place() {
    let w = world();
    let hs: Vec<_> = [1, 2, 4].into_iter().map(|b| w.spawn_waiter(A, b)).collect();
    let op = FutexOp::Requeue { addr: A, addr2: A, wake: 1, requeue: 1, expected: None, private: true };
    assert_eq!(w.run(op), Ok(2));
    assert_eq!(w.t.bitsets(A), [2, 4]);
    assert_eq!(w.wake(A, 2, ANY), Ok(2));
    for h in hs {
        assert_eq!(h.join().unwrap(), Ok(0));
    }
}

#[test]
fn requeue_touches_memory_where_linux_does() {
    let w = world();
    let requeue = |addr, addr2, expected, private| {
        w.run(FutexOp::Requeue { addr, addr2, wake: 1, requeue: 1, expected, private })
    };
    // Private: only CMP_REQUEUE reads the first word.
    assert_eq!(requeue(UNMAPPED, UNMAPPED, None, true), Ok(0));
    assert_eq!(requeue(UNMAPPED, A, Some(0), true), Err(Errno::EFAULT));
    assert_eq!(requeue(A, UNMAPPED, Some(0), true), Ok(0));
    // Shared: both words must be mapped (read-only is enough).
    assert_eq!(requeue(A, UNMAPPED, None, false), Err(Errno::EFAULT));
    assert_eq!(requeue(UNMAPPED, A, None, false), Err(Errno::EFAULT));
    assert_eq!(requeue(A, READ_ONLY, None, false), Ok(0));
    // Negative counts (as an int) are EINVAL.
    let op = FutexOp::Requeue { addr: A, addr2: B, wake: u32::MAX, requeue: 0, expected: None, private: true };
    assert_eq!(w.run(op), Err(Errno::EINVAL));
}

// --- wake-op ----------------------------------------------------------------------------

#[test]
fn wake_op_applies_each_operation_to_the_second_word() {
    let w = world();
    // (op, oparg, old value, new value)
    let cases = [
        (0, 7, 10, 7),            // set
        (1, 3, 10, 13),           // add
        (1, 0xfff, 10, 9),        // add -1 (12-bit signed operand)
        (2, 0b100, 0b001, 0b101), // or
        (3, 0b100, 0b101, 0b001), // and-not
        (4, 0b110, 0b101, 0b011), // xor
        (8, 4, 0, 16),            // set with FUTEX_OP_OPARG_SHIFT: 1 << 4
        (8 | 2, 3, 0b1, 0b1001),  // or 1 << 3
    ];
    for (op, oparg, old, new) in cases {
        w.m.set(B, old);
        assert_eq!(w.wake_op(1, 1, futex_op(op, oparg, 0, 0)), Ok(0), "op {op}");
        assert_eq!(w.m.get(B), new, "op {op} oparg {oparg}");
    }
}

#[test]
fn wake_op_wakes_the_second_futex_only_when_the_comparison_holds() {
    let w = world();
    // (cmp, cmparg, old value of B, holds); comparisons are signed.
    let cases = [
        (0, 5, 5, true),
        (0, 5, 6, false),
        (1, 5, 6, true),
        (1, 5, 5, false),
        (2, 5, 4, true),
        (2, 5, 5, false),
        (2, 0, u32::MAX, true), // -1 < 0
        (3, 5, 5, true),
        (3, 5, 6, false),
        (4, 5, 6, true),
        (4, 5, 5, false),
        (5, 5, 5, true),
        (5, 5, 4, false),
        (5, 0xfff, u32::MAX, true), // -1 >= -1
    ];
    for (cmp, cmparg, old, holds) in cases {
        w.m.set(B, 0);
        let on_a = w.spawn_waiter(A, ANY);
        let on_b = w.spawn_waiter(B, ANY);
        w.m.set(B, old);
        // Operation: add 0 (the comparison sees `old`).
        let r = w.wake_op(1, 1, futex_op(1, 0, cmp, cmparg));
        assert_eq!(r, Ok(1 + usize::from(holds)), "cmp {cmp} cmparg {cmparg} old {old}");
        assert_eq!(on_a.join().unwrap(), Ok(0));
        if !holds {
            assert_eq!(w.t.waiters(B), 1);
            assert_eq!(w.wake(B, 1, ANY), Ok(1));
        }
        assert_eq!(on_b.join().unwrap(), Ok(0));
    }
}

#[test]
fn wake_op_counts_of_zero_wake_one_each_and_ignore_bitsets() {
    let w = world();
    let hs: Vec<_> =
        [(A, 1), (A, 2), (B, 4), (B, 8)].into_iter().map(|(addr, bits)| w.spawn_waiter(addr, bits)).collect();
    // Set B to 1, wake if the old value was 0: one from each futex.
    assert_eq!(w.wake_op(0, 0, futex_op(0, 1, 0, 0)), Ok(2));
    assert_eq!(w.t.bitsets(A), [2]);
    assert_eq!(w.t.bitsets(B), [8]);
    assert_eq!(w.wake_op(5, 5, futex_op(0, 1, 0, 1)), Ok(2));
    for h in hs {
        assert_eq!(h.join().unwrap(), Ok(0));
    }
}

#[test]
fn wake_op_with_an_unknown_operation_or_comparison_is_enosys() {
    let w = world();
    let h = w.spawn_waiter(A, ANY);
    w.m.set(B, 3);
    // An unknown operation: the word is not touched.
    assert_eq!(w.wake_op(1, 1, futex_op(5, 1, 0, 0)), Err(Errno::ENOSYS));
    assert_eq!(w.m.get(B), 3);
    // An unknown comparison: the word has changed, nobody is woken.
    assert_eq!(w.wake_op(1, 1, futex_op(1, 1, 6, 0)), Err(Errno::ENOSYS));
    assert_eq!(w.m.get(B), 4);
    assert_eq!(w.t.waiters(A), 1);
    assert_eq!(w.wake(A, 1, ANY), Ok(1));
    assert_eq!(h.join().unwrap(), Ok(0));
}

#[test]
fn wake_op_needs_a_writable_second_word() {
    let w = world();
    let wake_op =
        |addr, addr2, encoded, private| w.run(FutexOp::WakeOp { addr, addr2, wake: 1, wake2: 1, encoded, private });
    let add = futex_op(1, 1, 0, 0);
    assert_eq!(wake_op(A, READ_ONLY, add, true), Err(Errno::EFAULT));
    assert_eq!(wake_op(A, UNMAPPED, add, true), Err(Errno::EFAULT));
    assert_eq!(w.m.get(READ_ONLY), 0);
    // Private: the first word is not touched; an unknown operation is refused first.
    assert_eq!(wake_op(UNMAPPED, B, add, true), Ok(0));
    assert_eq!(wake_op(A, UNMAPPED, futex_op(6, 1, 0, 0), true), Err(Errno::ENOSYS));
    // Shared: both words are looked up first.
    assert_eq!(wake_op(UNMAPPED, B, add, false), Err(Errno::EFAULT));
    assert_eq!(wake_op(A, READ_ONLY, futex_op(6, 1, 0, 0), false), Err(Errno::EFAULT));
}
