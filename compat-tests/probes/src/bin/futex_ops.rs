//! futex(2) through the raw syscall: argument errors in Linux's order, timeouts
//! (relative, absolute on both clocks), EAGAIN, and the operations between threads —
//! WAIT/WAKE, bitsets, REQUEUE/CMP_REQUEUE, WAKE_OP, private and shared keys.
//!
//! Where a test needs a thread to be asleep in the kernel before it acts, it waits for
//! the thread to announce itself and then 100 ms more; the printed results do not
//! depend on timing beyond that.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use probes::*;

const SYS_FUTEX: usize = 202;
const WAIT: usize = 0;
const WAKE: usize = 1;
const REQUEUE: usize = 3;
const CMP_REQUEUE: usize = 4;
const WAKE_OP: usize = 5;
const LOCK_PI: usize = 6;
const WAIT_BITSET: usize = 9;
const WAKE_BITSET: usize = 10;
const PRIVATE: usize = 128;
const CLOCK_RT: usize = 256;
const ANY: usize = 0xffff_ffff;

/// `FUTEX_OP(op, oparg, cmp, cmparg)`.
const fn futex_op(op: usize, oparg: usize, cmp: usize, cmparg: usize) -> usize {
    ((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff)
}

fn futex(uaddr: usize, op: usize, val: usize, timeout: usize, uaddr2: usize, val3: usize) -> isize {
    // SAFETY: the futex syscall only reads/writes the words named, which the tests
    // either own or deliberately point at unmapped memory (EFAULT).
    unsafe { syscall!(SYS_FUTEX, uaddr, op, val, timeout, uaddr2, val3) }
}

fn addr(w: &AtomicU32) -> usize {
    w.as_ptr() as usize
}

fn ts_ptr(ts: &Timespec) -> usize {
    ts as *const Timespec as usize
}

fn errors() {
    let w = AtomicU32::new(5);
    let w2 = AtomicU32::new(0);
    let (a, a2) = (addr(&w), addr(&w2));
    let unmapped = unmapped_page();
    let ms1 = Timespec { tv_sec: 0, tv_nsec: 1_000_000 };
    let bad = Timespec { tv_sec: 0, tv_nsec: 2_000_000_000 };
    let neg = Timespec { tv_sec: -1, tv_nsec: 0 };
    let p = |what: &str, r: isize| println!("{what}: {}", outcome_val(r));
    p("WAIT|CLOCK_REALTIME", futex(a, WAIT | CLOCK_RT, 5, ts_ptr(&ms1), 0, 0));
    p("WAIT|CLOCK_REALTIME, invalid timeout", futex(a, WAIT | CLOCK_RT, 5, ts_ptr(&bad), 0, 0));
    p("WAKE|CLOCK_REALTIME", futex(a, WAKE | CLOCK_RT, 1, 0, 0, 0));
    p("WAKE private, unmapped word", futex(unmapped, WAKE | PRIVATE, 1, 0, 0, 0));
    p("WAKE shared, unmapped word", futex(unmapped, WAKE, 1, 0, 0, 0));
    p("WAKE private, NULL", futex(0, WAKE | PRIVATE, 1, 0, 0, 0));
    p("WAKE private, kernel address", futex(KERNEL_ADDR, WAKE | PRIVATE, 1, 0, 0, 0));
    p("WAKE misaligned", futex(a + 1, WAKE | PRIVATE, 1, 0, 0, 0));
    p("WAKE nobody waiting", futex(a, WAKE | PRIVATE, 1, 0, 0, 0));
    p("WAIT unmapped word", futex(unmapped, WAIT | PRIVATE, 1, ts_ptr(&ms1), 0, 0));
    p("WAIT invalid timeout, unmapped word", futex(unmapped, WAIT | PRIVATE, 1, ts_ptr(&bad), 0, 0));
    p("WAIT timeout pointer unmapped", futex(a, WAIT | PRIVATE, 5, unmapped, 0, 0));
    p("WAIT negative timeout", futex(a, WAIT | PRIVATE, 5, ts_ptr(&neg), 0, 0));
    p("WAIT value differs", futex(a, WAIT | PRIVATE, 4, ts_ptr(&ms1), 0, 0));
    p("WAIT zero timeout", futex(a, WAIT | PRIVATE, 5, ts_ptr(&Timespec::default()), 0, 0));
    p("WAIT_BITSET bitset 0", futex(a, WAIT_BITSET | PRIVATE, 5, 0, 0, 0));
    p("WAIT_BITSET bitset 0, misaligned", futex(a + 1, WAIT_BITSET | PRIVATE, 5, 0, 0, 0));
    p("WAKE_BITSET bitset 0", futex(a, WAKE_BITSET | PRIVATE, 1, 0, 0, 0));
    p("REQUEUE negative count", futex(a, REQUEUE | PRIVATE, usize::MAX, 1, a2, 0));
    p("REQUEUE nobody waiting", futex(a, REQUEUE | PRIVATE, 1, 1, a2, 0));
    p("CMP_REQUEUE value differs", futex(a, CMP_REQUEUE | PRIVATE, 1, 1, a2, 4));
    p("CMP_REQUEUE unmapped first word", futex(unmapped, CMP_REQUEUE | PRIVATE, 1, 1, a2, 4));
    p("CMP_REQUEUE misaligned second word", futex(a, CMP_REQUEUE | PRIVATE, 1, 1, a2 + 2, 5));
    p("unknown operation 99", futex(a, 99, 1, 0, 0, 0));
    p("FUTEX_FD (removed)", futex(a, 2, 1, 0, 0, 0));
    let _ = LOCK_PI;

    let r = futex(a, WAKE_OP | PRIVATE, 1, 1, a2, futex_op(8, 40, 0, 0));
    println!("WAKE_OP set 1<<40 (taken as 1<<8): {}, word {}", outcome_val(r), w2.load(Ordering::SeqCst));
    w2.store(10, Ordering::SeqCst);
    let r = futex(a, WAKE_OP | PRIVATE, 1, 1, a2, futex_op(6, 3, 0, 0));
    println!("WAKE_OP unknown op: {}, word {}", outcome_val(r), w2.load(Ordering::SeqCst));
    let r = futex(a, WAKE_OP | PRIVATE, 1, 1, a2, futex_op(1, 3, 7, 0));
    println!("WAKE_OP unknown comparison: {}, word {}", outcome_val(r), w2.load(Ordering::SeqCst));
    let r = futex(a, WAKE_OP | PRIVATE, 1, 1, a2, futex_op(1, 0xfff, 0, 0));
    println!("WAKE_OP add -1: {}, word {}", outcome_val(r), w2.load(Ordering::SeqCst));
    p("WAKE_OP unmapped second word", futex(a, WAKE_OP | PRIVATE, 1, 1, unmapped, 0));
    // A read-only second word: the atomic operation faults.
    // SAFETY: a fresh read-only anonymous page, unmapped again below.
    let ro = unsafe { syscall!(nr::MMAP, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1isize, 0) } as usize;
    p("WAKE_OP read-only second word", futex(a, WAKE_OP | PRIVATE, 1, 1, ro, 0));
    p("WAIT on a read-only word, value differs", futex(ro, WAIT | PRIVATE, 1, ts_ptr(&ms1), 0, 0));
    // SAFETY: unmaps the page just mapped.
    unsafe { syscall!(nr::MUNMAP, ro, PAGE) };
}

fn timeouts() {
    let w = AtomicU32::new(0);
    let a = addr(&w);
    let t = Instant::now();
    let rel = Timespec { tv_sec: 0, tv_nsec: 30_000_000 };
    let r = futex(a, WAIT | PRIVATE, 0, ts_ptr(&rel), 0, 0);
    println!("WAIT relative 30ms: {}, waited >= 30ms: {}", outcome_val(r), t.elapsed() >= Duration::from_millis(30));

    for (name, clock, flag) in [("monotonic", CLOCK_MONOTONIC, 0), ("realtime", CLOCK_REALTIME, CLOCK_RT)] {
        let now = clock_gettime(clock).unwrap();
        let deadline = Timespec::from_nanos(now.as_nanos() + 30_000_000);
        let t = Instant::now();
        let r = futex(a, WAIT_BITSET | PRIVATE | flag, 0, ts_ptr(&deadline), 0, ANY);
        println!(
            "WAIT_BITSET absolute {name} now+30ms: {}, waited >= 29ms: {}",
            outcome_val(r),
            t.elapsed() >= Duration::from_millis(29)
        );
        let past = Timespec::from_nanos(now.as_nanos() - 1_000_000_000);
        let r = futex(a, WAIT_BITSET | PRIVATE | flag, 0, ts_ptr(&past), 0, ANY);
        println!("WAIT_BITSET absolute {name} deadline passed: {}", outcome_val(r));
        let r = futex(a, WAIT_BITSET | PRIVATE | flag, 1, ts_ptr(&past), 0, ANY);
        println!("WAIT_BITSET {name}, value differs: {}", outcome_val(r));
    }
}

/// Runs `waiters` threads that each announce themselves and then call `wait`; returns
/// their handles once all are (very likely) asleep in the kernel.
fn start_waiters<F>(waiters: usize, wait: F) -> Vec<thread::JoinHandle<isize>>
where
    F: Fn(usize) -> isize + Send + Sync + 'static,
{
    let ready = Arc::new(AtomicU32::new(0));
    let wait = Arc::new(wait);
    let hs: Vec<_> = (0..waiters)
        .map(|i| {
            let (ready, wait) = (ready.clone(), wait.clone());
            thread::spawn(move || {
                ready.fetch_add(1, Ordering::SeqCst);
                wait(i)
            })
        })
        .collect();
    while ready.load(Ordering::SeqCst) < waiters as u32 {
        thread::yield_now();
    }
    thread::sleep(Duration::from_millis(100));
    hs
}

fn results(hs: Vec<thread::JoinHandle<isize>>) -> Vec<String> {
    hs.into_iter().map(|h| outcome_val(h.join().unwrap())).collect()
}

fn leak_word(v: u32) -> &'static AtomicU32 {
    Box::leak(Box::new(AtomicU32::new(v)))
}

fn between_threads() {
    // WAIT / WAKE.
    let w = leak_word(0);
    let hs = start_waiters(1, move |_| futex(addr(w), WAIT | PRIVATE, 0, 0, 0, 0));
    w.store(1, Ordering::SeqCst);
    println!("WAKE one waiter: {}", outcome_val(futex(addr(w), WAKE | PRIVATE, 1, 0, 0, 0)));
    println!("  waiter returned {:?}", results(hs));

    // WAKE with count 0 still wakes one (Linux's behaviour).
    let w = leak_word(0);
    let hs = start_waiters(2, move |_| futex(addr(w), WAIT | PRIVATE, 0, 0, 0, 0));
    println!("WAKE count 0 with 2 waiters: {}", outcome_val(futex(addr(w), WAKE | PRIVATE, 0, 0, 0, 0)));
    println!("WAKE the rest: {}", outcome_val(futex(addr(w), WAKE | PRIVATE, i32::MAX as usize, 0, 0, 0)));
    println!("  waiters returned {:?}", results(hs));

    // Bitsets.
    let w = leak_word(0);
    let hs = start_waiters(2, move |i| futex(addr(w), WAIT_BITSET | PRIVATE, 0, 0, 0, 1 << i));
    println!(
        "WAKE_BITSET 0b100 (no waiter's bit): {}",
        outcome_val(futex(addr(w), WAKE_BITSET | PRIVATE, 9, 0, 0, 0b100))
    );
    println!("WAKE_BITSET 0b10: {}", outcome_val(futex(addr(w), WAKE_BITSET | PRIVATE, 9, 0, 0, 0b10)));
    println!("WAKE_BITSET 0b01: {}", outcome_val(futex(addr(w), WAKE_BITSET | PRIVATE, 9, 0, 0, 0b01)));
    println!("  waiters returned {:?}", results(hs));

    // CMP_REQUEUE: wake one, move two to another word, then wake those there.
    let (a, b) = (leak_word(7), leak_word(0));
    let hs = start_waiters(3, move |_| futex(addr(a), WAIT | PRIVATE, 7, 0, 0, 0));
    println!("CMP_REQUEUE wake 1, requeue 2: {}", outcome_val(futex(addr(a), CMP_REQUEUE | PRIVATE, 1, 2, addr(b), 7)));
    println!("WAKE the first word again: {}", outcome_val(futex(addr(a), WAKE | PRIVATE, 9, 0, 0, 0)));
    println!("WAKE the second word: {}", outcome_val(futex(addr(b), WAKE | PRIVATE, 9, 0, 0, 0)));
    println!("  waiters returned {:?}", results(hs));

    // REQUEUE (no comparison) moving everyone.
    let (a, b) = (leak_word(1), leak_word(0));
    let hs = start_waiters(2, move |_| futex(addr(a), WAIT | PRIVATE, 1, 0, 0, 0));
    println!("REQUEUE wake 0, requeue 5: {}", outcome_val(futex(addr(a), REQUEUE | PRIVATE, 0, 5, addr(b), 0)));
    println!("WAKE the second word: {}", outcome_val(futex(addr(b), WAKE | PRIVATE, 9, 0, 0, 0)));
    println!("  waiters returned {:?}", results(hs));

    // WAKE_OP: one waiter on each word; add 1 to the second if it was 0.
    let (a, b) = (leak_word(0), leak_word(0));
    let ha = start_waiters(1, move |_| futex(addr(a), WAIT | PRIVATE, 0, 0, 0, 0));
    let hb = start_waiters(1, move |_| futex(addr(b), WAIT_BITSET | PRIVATE, 0, 0, 0, ANY));
    let r = futex(addr(a), WAKE_OP | PRIVATE, 1, 1, addr(b), futex_op(1, 1, 0, 0));
    println!("WAKE_OP add 1 if 0: {}, second word now {}", outcome_val(r), b.load(Ordering::SeqCst));
    println!("  waiters returned {:?} {:?}", results(ha), results(hb));
    // The comparison fails: only the first word's waiter is woken.
    let (a, b) = (leak_word(0), leak_word(5));
    let ha = start_waiters(1, move |_| futex(addr(a), WAIT | PRIVATE, 0, 0, 0, 0));
    let hb = start_waiters(1, move |_| {
        let t = Timespec { tv_sec: 0, tv_nsec: 300_000_000 };
        futex(addr(b), WAIT | PRIVATE, 5, ts_ptr(&t), 0, 0)
    });
    let r = futex(addr(a), WAKE_OP | PRIVATE, 1, 1, addr(b), futex_op(0, 5, 0, 0));
    println!("WAKE_OP set 5, compare ==0 fails: {}", outcome_val(r));
    println!("  waiters returned {:?} {:?}", results(ha), results(hb));
}

fn shared_and_private() {
    // A MAP_SHARED page: shared futex operations between threads.
    // SAFETY: a fresh shared anonymous page, leaked for the waiter threads.
    let page =
        unsafe { syscall!(nr::MMAP, 0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1isize, 0) } as usize;
    let hs = start_waiters(1, move |_| futex(page, WAIT, 0, 0, 0, 0));
    println!("shared WAKE on a MAP_SHARED page: {}", outcome_val(futex(page, WAKE, 1, 0, 0, 0)));
    println!("  waiter returned {:?}", results(hs));

    // On private memory, shared and private operations use different keys.
    let w = leak_word(0);
    let hs = start_waiters(1, move |_| {
        let t = Timespec { tv_sec: 0, tv_nsec: 300_000_000 };
        futex(addr(w), WAIT | PRIVATE, 0, ts_ptr(&t), 0, 0)
    });
    println!("shared WAKE of a private waiter: {}", outcome_val(futex(addr(w), WAKE, 1, 0, 0, 0)));
    println!("  waiter returned {:?}", results(hs));
    let w = leak_word(0);
    let hs = start_waiters(1, move |_| futex(addr(w), WAIT, 0, 0, 0, 0));
    println!("shared WAKE of a shared waiter on private memory: {}", outcome_val(futex(addr(w), WAKE, 1, 0, 0, 0)));
    println!("  waiter returned {:?}", results(hs));
}

fn main() {
    errors();
    timeouts();
    between_threads();
    shared_and_private();
}
