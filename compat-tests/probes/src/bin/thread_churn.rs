//! 10,000 spawn/join cycles (one at a time, then in batches of 16) must not grow the
//! process's memory: the peak resident set (getrusage's ru_maxrss) after them stays
//! within 32 MiB of what it was after a 1,000-cycle warm-up. Under unify this is the
//! whole unify process (libOS included): per-thread host stacks, blocks and alternate
//! stacks must be given back or reused.

use std::thread;

const WARMUP: u64 = 1_000;
const CYCLES: u64 = 10_000;
const BOUND_KIB: i64 = 32 << 10;

fn max_rss_kib() -> i64 {
    let mut usage = [0i64; 18];
    // SAFETY: getrusage(RUSAGE_SELF) writes one 144-byte struct rusage.
    let r = unsafe { probes::syscall!(98, 0usize, usage.as_mut_ptr()) };
    assert_eq!(r, 0, "getrusage");
    usage[4]
}

fn cycles(n: u64) -> u64 {
    let mut sum = 0;
    for i in 0..n {
        sum += thread::spawn(move || i % 7).join().unwrap();
    }
    sum
}

fn batches(n: u64) -> u64 {
    let mut sum = 0;
    for b in 0..n / 16 {
        let hs: Vec<_> = (0..16).map(|i| thread::spawn(move || (b * 16 + i) % 5)).collect();
        sum += hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>();
    }
    sum
}

fn main() {
    let warm = cycles(WARMUP) + batches(WARMUP);
    let before = max_rss_kib();
    let one = cycles(CYCLES);
    let many = batches(CYCLES);
    let after = max_rss_kib();
    println!("warm-up sums: {warm}");
    println!("{CYCLES} spawn/join one at a time: sum {one}");
    println!("{CYCLES} spawn/join in batches of 16: sum {many}");
    println!("peak RSS grew by less than {} MiB: {}", BOUND_KIB >> 10, after - before < BOUND_KIB);
    if std::env::var_os("THREAD_CHURN_VERBOSE").is_some() {
        eprintln!("maxrss before {before} KiB, after {after} KiB");
    }
}
