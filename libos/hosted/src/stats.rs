//! Counters for `--stats`: how many syscalls took the rewritten path and how many
//! trapped through SIGSYS, what the rewriter did at load time, how many threads ran and
//! how much of the libOS heap is in use at exit.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::entry::ThreadBlock;

static ENABLED: AtomicBool = AtomicBool::new(false);
static SITES: AtomicUsize = AtomicUsize::new(0);
static REWRITTEN: AtomicUsize = AtomicUsize::new(0);
/// The blocks of the threads running guest code (their addresses).
static LIVE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// The counts of threads that have ended.
static ENDED_FAST: AtomicU64 = AtomicU64::new(0);
static ENDED_SLOW: AtomicU64 = AtomicU64::new(0);
static PLAN_CACHED: AtomicBool = AtomicBool::new(false);

pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// A thread starts running guest code with `block`.
pub fn register(block: &ThreadBlock) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(block as *const ThreadBlock as usize);
}

/// The thread of `block` has ended: its counts are kept, the block forgotten.
pub fn retire(block: &ThreadBlock) {
    let addr = block as *const ThreadBlock as usize;
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|&b| b != addr);
    ENDED_FAST.fetch_add(block.fast_count.load(Ordering::Relaxed), Ordering::Relaxed);
    ENDED_SLOW.fetch_add(block.slow_count.load(Ordering::Relaxed), Ordering::Relaxed);
}

pub fn set_sites(found: usize, rewritten: usize) {
    SITES.store(found, Ordering::Relaxed);
    REWRITTEN.store(rewritten, Ordering::Relaxed);
}

/// Whether the rewrite plan came from the plan cache.
pub fn set_plan_cached(cached: bool) {
    PLAN_CACHED.store(cached, Ordering::Relaxed);
}

/// Prints the counters on stderr when `--stats` asked for them.
pub fn report() {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let (mut fast, mut slow) = (ENDED_FAST.load(Ordering::Relaxed), ENDED_SLOW.load(Ordering::Relaxed));
    for &addr in LIVE.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        // SAFETY: a registered block stays allocated until `retire` removes it, which
        // takes the lock held here; the counters are atomics.
        let block = unsafe { &*(addr as *const ThreadBlock) };
        fast += block.fast_count.load(Ordering::Relaxed);
        slow += block.slow_count.load(Ordering::Relaxed);
    }
    let total = fast + slow;
    let pct = if total == 0 { 100.0 } else { fast as f64 * 100.0 / total as f64 };
    eprintln!(
        "unify: stats: {total} syscalls, {fast} rewritten path, {slow} SIGSYS path ({pct:.2}% rewritten); sites: {} found, {} rewritten ({})",
        SITES.load(Ordering::Relaxed),
        REWRITTEN.load(Ordering::Relaxed),
        if PLAN_CACHED.load(Ordering::Relaxed) { "plan from cache" } else { "planned at load" }
    );
    let threads = &libos::Kernel::get().threads;
    let (carriers, idle) = crate::thread::carrier_counts();
    eprintln!(
        "unify: stats: threads: {} started, {} live at exit; host threads for them: {carriers} created, {idle} idle; libOS heap: {} KiB in use",
        threads.started(),
        threads.live(),
        crate::heap::in_use() / 1024
    );
}
