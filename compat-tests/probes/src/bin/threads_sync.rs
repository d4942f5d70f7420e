//! std::sync under contention: Mutex, RwLock, Condvar (with and without timeouts),
//! Barrier, mpsc (bounded and unbounded), Once/OnceLock, atomics. Every result is a
//! checked total, so the output does not depend on scheduling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Condvar, Mutex, OnceLock, RwLock};
use std::thread;
use std::time::{Duration, Instant};

const THREADS: u64 = 8;

fn mutex() {
    let m = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..THREADS)
        .map(|i| {
            let m = m.clone();
            thread::spawn(move || {
                for j in 0..20_000 {
                    *m.lock().unwrap() += i * j % 7;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    let want: u64 = (0..THREADS).map(|i| (0..20_000u64).map(|j| i * j % 7).sum::<u64>()).sum();
    println!("mutex: 8 threads x 20000 increments: total {} (expected {want})", *m.lock().unwrap());
}

fn rwlock() {
    let l = Arc::new(RwLock::new(vec![0u64; 16]));
    let reads = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..THREADS)
        .map(|i| {
            let (l, reads) = (l.clone(), reads.clone());
            thread::spawn(move || {
                for j in 0..5_000u64 {
                    if (i + j) % 4 == 0 {
                        let mut w = l.write().unwrap();
                        let k = (j % 16) as usize;
                        w[k] += 1;
                    } else {
                        let r = l.read().unwrap();
                        // Every reader sees a consistent vector (sum only grows).
                        let s: u64 = r.iter().sum();
                        reads.fetch_add(u64::from(s < u64::MAX), Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    let writes: u64 = l.read().unwrap().iter().sum();
    println!("rwlock: writes {writes}, reads {}", reads.load(Ordering::Relaxed));
}

fn condvar() {
    // A bounded queue of 4 slots, 4 producers x 2000 items, 4 consumers.
    struct Q {
        items: Mutex<(Vec<u64>, bool)>,
        not_empty: Condvar,
        not_full: Condvar,
    }
    let q = Arc::new(Q { items: Mutex::new((Vec::new(), false)), not_empty: Condvar::new(), not_full: Condvar::new() });
    let producers: Vec<_> = (0..4u64)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..2000 {
                    let mut g = q.items.lock().unwrap();
                    while g.0.len() >= 4 {
                        g = q.not_full.wait(g).unwrap();
                    }
                    g.0.push(p * 10_000 + i);
                    q.not_empty.notify_one();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            thread::spawn(move || {
                let (mut n, mut sum) = (0u64, 0u64);
                loop {
                    let mut g = q.items.lock().unwrap();
                    while g.0.is_empty() && !g.1 {
                        g = q.not_empty.wait(g).unwrap();
                    }
                    match g.0.pop() {
                        Some(v) => {
                            n += 1;
                            sum += v;
                            q.not_full.notify_one();
                        }
                        None => return (n, sum),
                    }
                }
            })
        })
        .collect();
    producers.into_iter().for_each(|h| h.join().unwrap());
    q.items.lock().unwrap().1 = true;
    q.not_empty.notify_all();
    let (n, sum) = consumers.into_iter().map(|h| h.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("condvar queue: consumed {n} items, sum {sum}");

    // wait_timeout with nobody notifying times out after at least the timeout.
    let m = Mutex::new(());
    let c = Condvar::new();
    let t = Instant::now();
    let (_g, r) = c.wait_timeout(m.lock().unwrap(), Duration::from_millis(20)).unwrap();
    println!(
        "condvar wait_timeout(20ms): timed out {}, waited >= 20ms {}",
        r.timed_out(),
        t.elapsed() >= Duration::from_millis(20)
    );

    // wait_timeout_while woken by a notification well before its timeout.
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p2 = pair.clone();
    let h = thread::spawn(move || {
        let (m, c) = &*p2;
        let (g, r) = c.wait_timeout_while(m.lock().unwrap(), Duration::from_secs(30), |ready| !*ready).unwrap();
        (*g, r.timed_out())
    });
    thread::sleep(Duration::from_millis(10));
    *pair.0.lock().unwrap() = true;
    pair.1.notify_all();
    println!("condvar notified before a 30s timeout: (ready, timed_out) = {:?}", h.join().unwrap());
}

fn barrier() {
    let b = Arc::new(Barrier::new(THREADS as usize));
    let arrived = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..THREADS)
        .map(|_| {
            let (b, arrived) = (b.clone(), arrived.clone());
            thread::spawn(move || {
                let mut leaders = 0;
                let mut saw_all = true;
                for round in 1..=50u64 {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    if b.wait().is_leader() {
                        leaders += 1;
                    }
                    saw_all &= arrived.load(Ordering::SeqCst) >= round * THREADS;
                    b.wait();
                }
                (leaders, saw_all)
            })
        })
        .collect();
    let (leaders, saw_all) = hs.into_iter().map(|h| h.join().unwrap()).fold((0, true), |a, b| (a.0 + b.0, a.1 && b.1));
    println!("barrier: 8 threads x 50 rounds: leaders {leaders}, everyone saw all arrivals {saw_all}");
}

fn channels() {
    let (tx, rx) = mpsc::channel::<u64>();
    let hs: Vec<_> = (0..THREADS)
        .map(|i| {
            let tx = tx.clone();
            thread::spawn(move || {
                for j in 0..10_000 {
                    tx.send(i * 100_000 + j).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let (n, sum) = rx.iter().fold((0u64, 0u64), |a, v| (a.0 + 1, a.1 + v));
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!("mpsc channel: received {n}, sum {sum}");

    let (tx, rx) = mpsc::sync_channel::<u64>(2);
    let h = thread::spawn(move || (0..5_000).map(|_| rx.recv().unwrap()).sum::<u64>());
    for i in 0..5_000 {
        tx.send(i).unwrap();
    }
    println!("mpsc sync_channel(2): sum {}", h.join().unwrap());

    let (tx, rx) = mpsc::channel::<u8>();
    let t = Instant::now();
    let r = rx.recv_timeout(Duration::from_millis(20));
    println!(
        "recv_timeout(20ms) on an empty channel: {:?}, waited >= 20ms {}",
        r,
        t.elapsed() >= Duration::from_millis(20)
    );
    drop(tx);
    println!("recv after all senders left: {:?}", rx.recv());
}

fn once() {
    static CELL: OnceLock<u64> = OnceLock::new();
    let inits = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..THREADS)
        .map(|i| {
            let inits = inits.clone();
            thread::spawn(move || {
                *CELL.get_or_init(|| {
                    inits.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(5));
                    1000 + i * 0
                })
            })
        })
        .collect();
    let vals: Vec<u64> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    println!("OnceLock from 8 threads: initialised {} time(s), all see {:?}", inits.load(Ordering::SeqCst), vals[0]);
}

fn main() {
    mutex();
    rwlock();
    condvar();
    barrier();
    channels();
    once();
}
