//! Times syscalls from inside a program: run natively, then on unify, and compare.
//!
//! Prints one line per operation: `NAME ns_per_op` (the median of several rounds).
//! The operations:
//! - `getpid`: the raw `syscall` instruction (what a rewritten site costs).
//! - `clock_gettime`: the raw syscall for CLOCK_MONOTONIC.
//! - `clock_gettime_libc`: what a program really calls (`Instant::now`; the vDSO natively).
//! - `write_1byte`: a 1-byte write to fd 1 (point stdout at /dev/null).

use std::arch::asm;
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
    for (name, ns) in results {
        eprintln!("{name} {ns:.1}");
    }
}
