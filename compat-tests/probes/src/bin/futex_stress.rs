//! 8 threads x 200,000 lock/unlock of one std Mutex (futex-based), then a checked sum;
//! the same with a hand-written futex lock (raw FUTEX_WAIT/FUTEX_WAKE, private) so the
//! syscalls themselves are what is stressed.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use probes::*;

const THREADS: u64 = 8;
const ITERS: u64 = 200_000;
const SYS_FUTEX: usize = 202;
const FUTEX_WAIT_PRIVATE: usize = 128;
const FUTEX_WAKE_PRIVATE: usize = 129;

/// Drepper's three-state futex mutex ("Futexes are tricky", mutex3).
struct RawLock(AtomicU32);

impl RawLock {
    fn lock(&self) {
        let mut c = match self.0.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return,
            Err(c) => c,
        };
        if c != 2 {
            c = self.0.swap(2, Ordering::Acquire);
        }
        while c != 0 {
            // SAFETY: waits on a live, aligned u32 of this process.
            let r = unsafe { syscall!(SYS_FUTEX, self.0.as_ptr(), FUTEX_WAIT_PRIVATE, 2usize, 0usize) };
            assert!(r == 0 || r == -11 || r == -4, "futex wait: {}", outcome(r));
            c = self.0.swap(2, Ordering::Acquire);
        }
    }

    fn unlock(&self) {
        if self.0.fetch_sub(1, Ordering::Release) != 1 {
            self.0.store(0, Ordering::Release);
            // SAFETY: wakes waiters of a live, aligned u32 of this process.
            let r = unsafe { syscall!(SYS_FUTEX, self.0.as_ptr(), FUTEX_WAKE_PRIVATE, 1usize) };
            assert!(r >= 0, "futex wake: {}", outcome(r));
        }
    }
}

fn main() {
    let m = Arc::new(Mutex::new((0u64, 0u64)));
    let hs: Vec<_> = (0..THREADS)
        .map(|t| {
            let m = m.clone();
            thread::spawn(move || {
                for i in 0..ITERS {
                    let mut g = m.lock().unwrap();
                    g.0 += 1;
                    g.1 = g.1.wrapping_add(t * ITERS + i);
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    let (n, sum) = *m.lock().unwrap();
    let want: u64 = (0..THREADS * ITERS).sum();
    println!("std Mutex: {THREADS} threads x {ITERS}: count {n}, sum correct: {}", sum == want);

    struct Shared {
        lock: RawLock,
        value: std::cell::UnsafeCell<u64>,
    }
    // SAFETY: `value` is only touched with `lock` held.
    unsafe impl Sync for Shared {}
    let s = Arc::new(Shared { lock: RawLock(AtomicU32::new(0)), value: std::cell::UnsafeCell::new(0) });
    let hs: Vec<_> = (0..THREADS)
        .map(|_| {
            let s = s.clone();
            thread::spawn(move || {
                for _ in 0..ITERS {
                    s.lock.lock();
                    // SAFETY: the lock is held.
                    unsafe { *s.value.get() += 1 };
                    s.lock.unlock();
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    // SAFETY: every thread has been joined.
    let v = unsafe { *s.value.get() };
    println!("raw futex lock: {THREADS} threads x {ITERS}: count {v} (expected {})", THREADS * ITERS);
    println!("lock word at rest: {}", s.lock.0.load(Ordering::SeqCst));
}
