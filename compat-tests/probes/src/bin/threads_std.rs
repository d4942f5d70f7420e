//! std::thread: spawn/join of 200 threads, scoped threads, names, thread ids and tids,
//! park/unpark with and without timeouts, available_parallelism, a panic in a thread
//! caught by join (its message goes to stderr), and thread-locals with destructors.
//! Prints properties only: values computed, orderings forced by joins, never timings.

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use probes::*;

fn gettid() -> usize {
    // SAFETY: gettid takes no arguments.
    unsafe { syscall!(nr::GETTID) as usize }
}

fn getpid() -> usize {
    // SAFETY: getpid takes no arguments.
    unsafe { syscall!(nr::GETPID) as usize }
}

fn spawn_join_200() {
    let handles: Vec<_> = (0..200u64).map(|i| thread::spawn(move || (i * i, gettid(), getpid()))).collect();
    let mut sum = 0;
    let mut tids = HashSet::new();
    let mut same_pid = true;
    for h in handles {
        let (sq, tid, pid) = h.join().expect("no panic");
        sum += sq;
        tids.insert(tid);
        same_pid &= pid == getpid();
    }
    println!("200 threads: sum of squares {sum}, all joined");
    println!("200 threads: distinct tids: {}, none is the pid: {}", tids.len(), !tids.contains(&getpid()));
    println!("200 threads: getpid is the process's in every thread: {same_pid}");
    println!("main thread: gettid == getpid: {}", gettid() == getpid());
}

fn scoped() {
    let mut data = vec![1u64; 1000];
    let total = AtomicUsize::new(0);
    thread::scope(|s| {
        for chunk in data.chunks_mut(100) {
            let total = &total;
            s.spawn(move || {
                for x in chunk.iter_mut() {
                    *x *= 3;
                }
                total.fetch_add(chunk.iter().sum::<u64>() as usize, Ordering::Relaxed);
            });
        }
    });
    println!("scoped: 10 threads borrowed chunks: total {}, data sum {}", total.into_inner(), data.iter().sum::<u64>());
}

fn names() {
    println!("main thread name: {:?}", thread::current().name());
    let h = thread::Builder::new()
        .name("probe-worker".into())
        .spawn(|| thread::current().name().map(str::to_owned))
        .unwrap();
    println!("named thread sees: {:?}", h.join().unwrap());
    let h = thread::spawn(|| thread::current().name().map(str::to_owned));
    println!("unnamed thread sees: {:?}", h.join().unwrap());
    let main_id = thread::current().id();
    let other = thread::spawn(|| thread::current().id()).join().unwrap();
    println!("thread ids differ: {}", main_id != other);
    // PR_GET_NAME from a named thread: the kernel's per-thread comm.
    let h = thread::Builder::new()
        .name("comm-check".into())
        .spawn(|| {
            let mut buf = [0u8; 16];
            // SAFETY: PR_GET_NAME writes 16 bytes into `buf`.
            let r = unsafe { syscall!(nr::PRCTL, 16usize, buf.as_mut_ptr()) };
            (r, buf)
        })
        .unwrap();
    let (r, _buf) = h.join().unwrap();
    println!("prctl(PR_GET_NAME) in a thread: {}", outcome_val(r));
}

fn park_unpark() {
    // unpark before park: park returns at once.
    thread::current().unpark();
    let t = Instant::now();
    thread::park();
    println!("park after unpark returns at once: {}", t.elapsed() < Duration::from_secs(5));

    // park_timeout with nobody to unpark: returns after about the timeout.
    let t = Instant::now();
    thread::park_timeout(Duration::from_millis(30));
    println!("park_timeout(30ms) alone waited >= 30ms: {}", t.elapsed() >= Duration::from_millis(30));

    // A parked thread is woken by unpark from another thread.
    let flag = Arc::new(AtomicBool::new(false));
    let f2 = flag.clone();
    let h = thread::spawn(move || {
        while !f2.load(Ordering::Acquire) {
            thread::park();
        }
        "woken"
    });
    thread::sleep(Duration::from_millis(10));
    flag.store(true, Ordering::Release);
    h.thread().unpark();
    println!("parked thread: {}", h.join().unwrap());

    // park_timeout woken early by unpark.
    let h = thread::spawn(|| {
        let t = Instant::now();
        thread::park_timeout(Duration::from_secs(30));
        t.elapsed() < Duration::from_secs(20)
    });
    thread::sleep(Duration::from_millis(10));
    h.thread().unpark();
    println!("park_timeout(30s) cut short by unpark: {}", h.join().unwrap());
}

fn parallelism() {
    let n = thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mut mask = [0u64; 16];
    // SAFETY: the kernel writes at most 128 bytes into `mask`.
    let r = unsafe { syscall!(nr::SCHED_GETAFFINITY, 0usize, 128usize, mask.as_mut_ptr()) };
    let cpus: u32 = if r > 0 { mask.iter().map(|w| w.count_ones()).sum() } else { 0 };
    println!("available_parallelism >= 1: {}", n >= 1);
    println!("available_parallelism == CPUs in the affinity mask: {}", n == cpus as usize);
}

fn panic_in_thread() {
    let h = thread::Builder::new().name("doomed".into()).spawn(|| -> u32 { panic!("boom in a thread") }).unwrap();
    let r = h.join();
    let msg = r.as_ref().err().and_then(|p| p.downcast_ref::<&str>().copied()).unwrap_or("");
    println!("join of a panicking thread: is_err {}, payload {msg:?}", r.is_err());
    // The process goes on; other threads are fine.
    println!("after the panic: {}", thread::spawn(|| 6 * 7).join().unwrap());
}

struct Noisy(&'static str, Arc<Mutex<Vec<String>>>);

impl Drop for Noisy {
    fn drop(&mut self) {
        self.1.lock().unwrap().push(format!("dropped {}", self.0));
    }
}

thread_local! {
    static COUNTER: Cell<u32> = const { Cell::new(0) };
    static NOISY: std::cell::RefCell<Option<Noisy>> = const { std::cell::RefCell::new(None) };
}

fn thread_locals() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let log = log.clone();
            thread::spawn(move || {
                for _ in 0..=i {
                    COUNTER.with(|c| c.set(c.get() + 1));
                }
                let name: &'static str = ["a", "b", "c", "d"][i];
                NOISY.with(|n| *n.borrow_mut() = Some(Noisy(name, log)));
                COUNTER.with(|c| c.get())
            })
        })
        .collect();
    let counts: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    COUNTER.with(|c| c.set(100));
    println!("thread-local counters per thread: {counts:?}, main's own: {}", COUNTER.with(|c| c.get()));
    let mut dropped = log.lock().unwrap().clone();
    dropped.sort();
    println!("thread-local destructors ran at thread exit (before join returned): {dropped:?}");
}

fn main() {
    spawn_join_200();
    scoped();
    names();
    park_unpark();
    parallelism();
    thread_locals();
    flush();
    panic_in_thread();
}
