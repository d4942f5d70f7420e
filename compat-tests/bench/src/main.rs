//! Times syscalls from inside a program: run natively, then on unify, and compare.
//!
//! Prints one line per operation: `NAME ns_per_op` (the median of several rounds).
//! The operations:
//! - `getpid`: the raw `syscall` instruction (what a rewritten site costs).
//! - `clock_gettime`: the raw syscall for CLOCK_MONOTONIC.
//! - `clock_gettime_libc`: what a program really calls (`Instant::now`; the vDSO natively).
//! - `write_1byte`: a 1-byte write to fd 1 (point stdout at /dev/null).
//! - `spawn_join`: `std::thread::spawn` of an empty closure and its `join`.
//! - `mutex_uncontended`: lock, increment, unlock of a `std::sync::Mutex` by one thread.
//! - `mutex_contended_4t`: the same by 4 threads on one mutex (ns per lock, wall clock).
//! - `futex_wake_wait`: a round trip between two threads through raw futex wait/wake.

use std::arch::asm;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

const ROUNDS: usize = 7;

fn raw_syscall1(nr: u64, a0: u64) -> u64 {
    let ret: u64;
    // SAFETY: a plain syscall with one argument; the kernel clobbers rcx and r11.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

fn raw_syscall3(nr: u64, a0: u64, a1: u64, a2: u64) -> u64 {
    let ret: u64;
    // SAFETY: as above, three arguments.
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

fn time_per_op(iters: u64, mut op: impl FnMut()) -> f64 {
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..iters {
            op();
        }
        samples.push(start.elapsed().as_nanos() as f64 / iters as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[ROUNDS / 2]
}

fn main() {
    let scale: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let mut ts = [0u64; 2];
    let byte = [b'x'];
    let results = [
        ("getpid", time_per_op(scale, || {
            std::hint::black_box(raw_syscall1(39, 0));
        })),
        ("clock_gettime", time_per_op(scale, || {
            std::hint::black_box(raw_syscall3(228, 1, ts.as_mut_ptr() as u64, 0));
        })),
        ("clock_gettime_libc", time_per_op(scale, || {
            std::hint::black_box(Instant::now());
        })),
        ("write_1byte", time_per_op(scale / 4, || {
            std::hint::black_box(raw_syscall3(1, 1, byte.as_ptr() as u64, 1));
        })),
    ];
    let threads = [
        ("spawn_join", time_per_op(scale / 200, || {
            thread::spawn(|| {}).join().unwrap();
        })),
        ("mutex_uncontended", {
            let m = Mutex::new(0u64);
            time_per_op(scale * 5, || {
                *m.lock().unwrap() += 1;
            })
        }),
        ("mutex_contended_4t", contended(4, scale)),
        ("futex_wake_wait", ping_pong(scale / 20)),
    ];
    for (name, ns) in results.into_iter().chain(threads) {
        eprintln!("{name} {ns:.1}");
    }
}

/// ns per lock of one mutex shared by `n` threads, each doing `iters` lock/unlock.
fn contended(n: usize, iters: u64) -> f64 {
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let m = Arc::new(Mutex::new(0u64));
        let start = Instant::now();
        let hs: Vec<_> = (0..n)
            .map(|_| {
                let m = m.clone();
                thread::spawn(move || {
                    for _ in 0..iters {
                        *m.lock().unwrap() += 1;
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        samples.push(start.elapsed().as_nanos() as f64 / (iters * n as u64) as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[ROUNDS / 2]
}

fn futex(word: &AtomicU32, op: u64, val: u32) {
    // SAFETY: futex wait/wake on a live, aligned u32; no timeout.
    unsafe {
        asm!("syscall", inlateout("rax") 202u64 => _, in("rdi") word.as_ptr(), in("rsi") op, in("rdx") u64::from(val),
             in("r10") 0u64, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
}

/// ns per one-way hand-off between two threads that take turns through a futex word.
fn ping_pong(iters: u64) -> f64 {
    const WAIT: u64 = 128;
    const WAKE: u64 = 129;
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let turn = Arc::new(AtomicU32::new(0));
        let t2 = turn.clone();
        let start = Instant::now();
        let h = thread::spawn(move || {
            for _ in 0..iters {
                while t2.load(Ordering::Acquire) != 1 {
                    futex(&t2, WAIT, 0);
                }
                t2.store(0, Ordering::Release);
                futex(&t2, WAKE, 1);
            }
        });
        for _ in 0..iters {
            turn.store(1, Ordering::Release);
            futex(&turn, WAKE, 1);
            while turn.load(Ordering::Acquire) != 0 {
                futex(&turn, WAIT, 1);
            }
        }
        h.join().unwrap();
        samples.push(start.elapsed().as_nanos() as f64 / (2 * iters) as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[ROUNDS / 2]
}
