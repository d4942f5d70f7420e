//! A rayon computation: rayon starts one worker per CPU (sched_getaffinity), so under
//! unify this needs real host threads, futex wake-ups between them and work stealing.

use rayon::prelude::*;

fn main() {
    let n: u64 = 5_000_000;
    let sum: u64 = (0..n).into_par_iter().map(|x| x * x % 1_000_003).sum();
    let serial: u64 = (0..n).map(|x| x * x % 1_000_003).sum();
    println!("par_iter map/sum over {n}: {sum}, equals the serial sum: {}", sum == serial);

    let mut v: Vec<u64> = (0..1_000_000u64).map(|x| x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20).collect();
    v.par_sort_unstable();
    println!("par_sort_unstable of 1e6: sorted {}", v.windows(2).all(|w| w[0] <= w[1]));

    fn fib(n: u32) -> u64 {
        if n < 20 {
            return (1..=n).fold((0u64, 1u64), |(a, b), _| (b, a + b)).0;
        }
        let (a, b) = rayon::join(|| fib(n - 1), || fib(n - 2));
        a + b
    }
    println!("rayon::join fib(32): {}", fib(32));

    let words: Vec<String> = (0..200_000).map(|i| format!("w{}", i % 1000)).collect();
    let distinct = words.par_iter().fold(std::collections::HashSet::new, |mut s, w| {
        s.insert(w.clone());
        s
    });
    let merged = distinct.reduce(std::collections::HashSet::new, |mut a, b| {
        a.extend(b);
        a
    });
    println!("par fold/reduce distinct words: {}", merged.len());
    println!("threads in the pool > 0: {}", rayon::current_num_threads() > 0);
}
