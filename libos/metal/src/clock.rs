//! The kernel's clocks: monotonic time from the TSC, wall-clock time from the host's
//! `CLOCK_REALTIME` at launch (`unify.time=NS` on the command line) plus the time since
//! `init`. The monotonic clock continues the host's (`unify.monotonic=NS`) when given,
//! else starts at 0; either way both lag the host's by QEMU's start-up and early boot
//! (tens of ms). The VM has no other source the guest would agree with: microvm's
//! RTC has one-second resolution.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::cpu::rdtsc;

/// Nanoseconds per TSC tick, as a binary fraction: ns = ticks * MULT >> SHIFT (the
/// guest's vDSO computes the same from the same numbers, src/vdso.rs).
static MULT: AtomicU64 = AtomicU64::new(1 << SHIFT);
const SHIFT: u32 = 32;
static TSC_ZERO: AtomicU64 = AtomicU64::new(0);
/// The monotonic clock's value at `init` (the host's `CLOCK_MONOTONIC` when unify
/// passes it, so that "a second ago" is a valid time right after boot, as on a host
/// that has been up a while).
static MONOTONIC_AT_ZERO: AtomicU64 = AtomicU64::new(0);
/// The realtime clock's value at monotonic time 0, in ns.
static REALTIME_AT_ZERO: AtomicU64 = AtomicU64::new(0);

/// Starts the monotonic clock at 0 now, counting at `tsc_hz`; `realtime_ns` is the wall
/// clock at this instant (0 when the host gave none).
pub fn init(tsc_hz: u64, realtime_ns: u64, monotonic_ns: u64) {
    MULT.store(((1_000_000_000u128 << SHIFT) / u128::from(tsc_hz.max(1))) as u64, Ordering::Relaxed);
    TSC_ZERO.store(rdtsc(), Ordering::Relaxed);
    REALTIME_AT_ZERO.store(realtime_ns, Ordering::Relaxed);
    MONOTONIC_AT_ZERO.store(monotonic_ns, Ordering::Relaxed);
}

/// Nanoseconds since `init`.
fn since_init() -> u64 {
    let ticks = rdtsc().saturating_sub(TSC_ZERO.load(Ordering::Relaxed));
    ((u128::from(ticks) * u128::from(MULT.load(Ordering::Relaxed))) >> SHIFT) as u64
}

/// What the vDSO's clocks are made of, in the order of its `struct vdso_clock`:
/// the TSC at boot, MULT, SHIFT, and the monotonic and realtime clocks at boot.
pub fn vdso_clock() -> [u64; 5] {
    [
        TSC_ZERO.load(Ordering::Relaxed),
        MULT.load(Ordering::Relaxed),
        u64::from(SHIFT),
        MONOTONIC_AT_ZERO.load(Ordering::Relaxed),
        REALTIME_AT_ZERO.load(Ordering::Relaxed),
    ]
}

/// The monotonic clock, in ns.
pub fn monotonic_ns() -> u64 {
    MONOTONIC_AT_ZERO.load(Ordering::Relaxed).saturating_add(since_init())
}

/// Nanoseconds since the Unix epoch.
pub fn realtime_ns() -> u64 {
    REALTIME_AT_ZERO.load(Ordering::Relaxed).saturating_add(since_init())
}
