//! Counters for `--stats`: how many syscalls took the rewritten path and how many
//! trapped through SIGSYS, and what the rewriter did at load time.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

use crate::entry::ThreadBlock;

static ENABLED: AtomicBool = AtomicBool::new(false);
static MAIN_BLOCK: AtomicPtr<ThreadBlock> = AtomicPtr::new(std::ptr::null_mut());
static SITES: AtomicUsize = AtomicUsize::new(0);
static REWRITTEN: AtomicUsize = AtomicUsize::new(0);
static PLAN_CACHED: AtomicBool = AtomicBool::new(false);

pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn register(block: &mut ThreadBlock) {
    MAIN_BLOCK.store(block, Ordering::Relaxed);
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
    let block = MAIN_BLOCK.load(Ordering::Relaxed);
    if block.is_null() {
        return;
    }
    // SAFETY: the block is leaked (lives forever); the guest is exiting, so nothing
    // else updates the counters now.
    let (fast, slow) = unsafe { ((*block).fast_count, (*block).slow_count) };
    let total = fast + slow;
    let pct = if total == 0 { 100.0 } else { fast as f64 * 100.0 / total as f64 };
    eprintln!(
        "unify: stats: {total} syscalls, {fast} rewritten path, {slow} SIGSYS path ({pct:.2}% rewritten); sites: {} found, {} rewritten ({})",
        SITES.load(Ordering::Relaxed),
        REWRITTEN.load(Ordering::Relaxed),
        if PLAN_CACHED.load(Ordering::Relaxed) { "plan from cache" } else { "planned at load" }
    );
}
