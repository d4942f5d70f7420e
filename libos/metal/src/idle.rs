//! The idle task: what the CPU does when no guest thread is ready — poll the consoles,
//! wake the sleepers whose time has come, fire the libOS's timers — and the timer
//! programming shared with the way back to guest code.

use core::sync::atomic::{AtomicU64, Ordering};

use libos::Kernel;

use crate::platform::TIMERS_CHANGED;
use crate::{clock, sched, stdio};

/// When the libOS's next timer is due (monotonic ns; u64::MAX: none).
static TIMER_DUE: AtomicU64 = AtomicU64::new(u64::MAX);
/// What the APIC timer is armed for.
static ARMED: AtomicU64 = AtomicU64::new(0);

/// Fires the libOS's due timers and records when the next one is due.
pub fn run_timers() {
    let Some(kernel) = Kernel::try_get() else { return };
    let next = kernel.run_timers();
    let now = clock::monotonic_ns();
    TIMER_DUE.store(next.map_or(u64::MAX, |ns| now.saturating_add(ns)), Ordering::SeqCst);
}

/// Arms the APIC timer for the earliest of: a sleeper's deadline, the libOS's next
/// timer, one tick from now (preemption and console polling). Left alone when it is
/// already armed for something at least as early that has not passed — and is still
/// counting: the APIC and the TSC clock disagree by the calibration error, so the
/// timer may fire a little before `ARMED` by the clock, and must then be armed again.
pub fn arm_timer() {
    let now = clock::monotonic_ns();
    let want = sched::next_deadline()
        .unwrap_or(u64::MAX)
        .min(TIMER_DUE.load(Ordering::SeqCst))
        .min(crate::net::next_poll())
        .min(now + sched::TICK_NS);
    let armed = ARMED.load(Ordering::SeqCst);
    if armed > now && armed <= want && crate::apic::timer_running() {
        return;
    }
    sched::arm_timer(now, Some(want));
    ARMED.store(want.max(now + 1), Ordering::SeqCst);
}

/// The idle task's loop (the boot CPU's, on the boot stack, after the first guest
/// thread is made ready).
pub fn run() -> ! {
    loop {
        stdio::poll();
        crate::net::poll_if_due();
        let now = clock::monotonic_ns();
        sched::expire(now);
        if TIMERS_CHANGED.swap(false, Ordering::SeqCst) || TIMER_DUE.load(Ordering::SeqCst) <= now {
            run_timers();
        }
        if sched::others_ready() {
            sched::schedule();
            continue;
        }
        crate::net::plan();
        if !crate::net::ready_to_halt() {
            continue;
        }
        arm_timer();
        sched::halt();
    }
}
