//! The libOS's own locks: spin locks whose waiters, after a short spin, give their CPU
//! away through the platform.
//!
//! Guest threads are preemptible host threads (hosted) or scheduler threads (VM). A
//! thread preempted while it holds a lock would otherwise leave every waiter spinning
//! out its whole time slice: with 16 threads on 2 CPUs doing `mmap`/`munmap`, plain spin
//! locks made unify 17 times slower than Linux. Yielding lets the holder run again.
//! Holds stay short (no lock is held across a blocking call), so a waiter usually gets
//! the lock within its first spin.

/// Pause instructions before a waiter yields (about a microsecond).
const SPINS: u32 = 64;

/// The platform's `yield`; until one is installed, waiters only spin.
static YIELD: spin::Once<fn()> = spin::Once::new();

/// Installs the platform's way to let another thread run (once, at start-up).
pub fn set_yield(f: fn()) {
    YIELD.call_once(|| f);
}

/// The relax strategy of [`Mutex`] and [`RwLock`].
pub struct SpinThenYield;

impl spin::RelaxStrategy for SpinThenYield {
    fn relax() {
        for _ in 0..SPINS {
            core::hint::spin_loop();
        }
        if let Some(f) = YIELD.get() {
            f();
        }
    }
}

/// A mutual-exclusion lock (see the module docs).
pub type Mutex<T> = spin::mutex::Mutex<T, SpinThenYield>;
/// A readers-writer lock (see the module docs).
pub type RwLock<T> = spin::rwlock::RwLock<T, SpinThenYield>;

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicU32, Ordering};

    static YIELDS: AtomicU32 = AtomicU32::new(0);

    fn count() {
        YIELDS.fetch_add(1, Ordering::Relaxed);
    }

    #[test]
    fn waiters_yield_through_the_installed_hook() {
        set_yield(count);
        let before = YIELDS.load(Ordering::Relaxed);
        <SpinThenYield as spin::RelaxStrategy>::relax();
        assert!(YIELDS.load(Ordering::Relaxed) > before);
        let m: Mutex<u32> = Mutex::new(1);
        *m.lock() += 1;
        assert_eq!(*m.lock(), 2);
        let l: RwLock<u32> = RwLock::new(3);
        *l.write() += 1;
        assert_eq!(*l.read(), 4);
    }
}
