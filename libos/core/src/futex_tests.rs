use super::op::*;
use super::*;

const ADDR: u64 = 0x1000;
const ADDR2: u64 = 0x2000;

fn args(op: u32) -> FutexArgs {
    FutexArgs { uaddr: ADDR, op, val: 1, timeout: None, val2: 0, uaddr2: ADDR2, val3: 0 }
}

fn ts(sec: i64, nsec: i64) -> Timespec {
    Timespec { tv_sec: sec, tv_nsec: nsec }
}

#[test]
fn wait_is_relative_on_the_monotonic_clock_with_any_bitset() {
    let a = FutexArgs { val: 7, timeout: Some(ts(1, 5)), ..args(FUTEX_WAIT) };
    assert_eq!(
        decode(&a),
        Ok(FutexOp::Wait {
            addr: ADDR,
            expected: 7,
            bitset: FUTEX_BITSET_MATCH_ANY,
            timeout: Some(FutexTimeout::Relative(ts(1, 5))),
            private: false,
        })
    );
}

#[test]
fn wait_without_timeout_waits_forever() {
    let a = FutexArgs { val3: 0, ..args(FUTEX_WAIT | FUTEX_PRIVATE_FLAG) };
    assert!(matches!(decode(&a), Ok(FutexOp::Wait { timeout: None, private: true, .. })));
}

#[test]
fn wait_bitset_is_absolute_on_the_chosen_clock() {
    let a = FutexArgs { val3: 0b10, timeout: Some(ts(9, 0)), ..args(FUTEX_WAIT_BITSET) };
    assert!(matches!(
        decode(&a),
        Ok(FutexOp::Wait {
            bitset: 0b10,
            timeout: Some(FutexTimeout::Absolute { clock: ClockId::Monotonic, at: Timespec { tv_sec: 9, tv_nsec: 0 } }),
            ..
        })
    ));
    let a = FutexArgs { val3: 1, timeout: Some(ts(9, 0)), ..args(FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME) };
    assert!(matches!(
        decode(&a),
        Ok(FutexOp::Wait { timeout: Some(FutexTimeout::Absolute { clock: ClockId::Realtime, .. }), .. })
    ));
}

#[test]
fn realtime_clock_only_for_wait_bitset() {
    // Linux ≥ 4.5 briefly allowed it on FUTEX_WAIT; current kernels give ENOSYS.
    assert_eq!(decode(&args(FUTEX_WAIT | FUTEX_CLOCK_REALTIME)), Err(Errno::ENOSYS));
    assert_eq!(decode(&args(FUTEX_WAKE | FUTEX_CLOCK_REALTIME)), Err(Errno::ENOSYS));
    assert_eq!(decode(&args(FUTEX_REQUEUE | FUTEX_CLOCK_REALTIME)), Err(Errno::ENOSYS));
}

#[test]
fn an_invalid_timeout_is_einval_before_anything_else() {
    for bad in [ts(-1, 0), ts(0, 1_000_000_000), ts(0, -1)] {
        let a = FutexArgs { timeout: Some(bad), ..args(FUTEX_WAIT) };
        assert_eq!(decode(&a), Err(Errno::EINVAL));
        // Even where the clock flag would give ENOSYS next.
        let a = FutexArgs { timeout: Some(bad), ..args(FUTEX_WAIT | FUTEX_CLOCK_REALTIME) };
        assert_eq!(decode(&a), Err(Errno::EINVAL));
    }
    // A zero timeout is valid (it times out at once).
    let a = FutexArgs { timeout: Some(ts(0, 0)), ..args(FUTEX_WAIT) };
    assert!(decode(&a).is_ok());
}

#[test]
fn a_zero_bitset_is_einval() {
    assert_eq!(decode(&args(FUTEX_WAIT_BITSET)), Err(Errno::EINVAL));
    assert_eq!(decode(&args(FUTEX_WAKE_BITSET)), Err(Errno::EINVAL));
    let a = FutexArgs { val3: 4, ..args(FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG) };
    assert_eq!(decode(&a), Ok(FutexOp::Wake { addr: ADDR, count: 1, bitset: 4, private: true }));
}

#[test]
fn wake_ignores_val3_and_matches_every_waiter() {
    let a = FutexArgs { val: 0, val3: 0, ..args(FUTEX_WAKE) };
    assert_eq!(decode(&a), Ok(FutexOp::Wake { addr: ADDR, count: 0, bitset: u32::MAX, private: false }));
}

#[test]
fn requeue_counts_must_not_be_negative() {
    let a = FutexArgs { val: u32::MAX, ..args(FUTEX_REQUEUE) };
    assert_eq!(decode(&a), Err(Errno::EINVAL));
    let a = FutexArgs { val2: 0x8000_0000, ..args(FUTEX_CMP_REQUEUE) };
    assert_eq!(decode(&a), Err(Errno::EINVAL));
    let a = FutexArgs { val: 1, val2: i32::MAX as u32, val3: 5, ..args(FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG) };
    assert_eq!(
        decode(&a),
        Ok(FutexOp::Requeue {
            addr: ADDR,
            addr2: ADDR2,
            wake: 1,
            requeue: i32::MAX as u32,
            expected: Some(5),
            private: true
        })
    );
    let a = FutexArgs { val3: 5, ..args(FUTEX_REQUEUE) };
    assert!(matches!(decode(&a), Ok(FutexOp::Requeue { expected: None, .. })));
}

#[test]
fn the_fourth_argument_is_a_timeout_only_for_waits_and_pi_locks() {
    for op in [FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_WAIT_REQUEUE_PI] {
        assert!(takes_timeout(op | FUTEX_PRIVATE_FLAG), "{op}");
    }
    for op in [FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP, FUTEX_WAKE_BITSET, FUTEX_UNLOCK_PI] {
        assert!(!takes_timeout(op), "{op}");
    }
    // A "timeout" that was really a count is not validated as one.
    let a = FutexArgs { timeout: Some(ts(-1, -1)), val2: 3, ..args(FUTEX_REQUEUE) };
    assert!(decode(&a).is_ok());
}

#[test]
fn pi_operations_fd_and_unknown_numbers_are_enosys() {
    for cmd in [
        FUTEX_FD,
        FUTEX_LOCK_PI,
        FUTEX_UNLOCK_PI,
        FUTEX_TRYLOCK_PI,
        FUTEX_WAIT_REQUEUE_PI,
        FUTEX_CMP_REQUEUE_PI,
        FUTEX_LOCK_PI2,
        14,
        99,
    ] {
        assert_eq!(decode(&args(cmd | FUTEX_PRIVATE_FLAG)), Err(Errno::ENOSYS), "{cmd}");
    }
    assert!(is_pi(FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG));
    assert!(!is_pi(FUTEX_WAKE_OP));
}

#[test]
fn addresses_in_check_order() {
    assert_eq!(decode(&args(FUTEX_WAKE)).unwrap().addresses(), ([ADDR, 0], 1));
    assert_eq!(decode(&args(FUTEX_WAKE_OP)).unwrap().addresses(), ([ADDR, ADDR2], 2));
    assert_eq!(decode(&args(FUTEX_REQUEUE)).unwrap().addresses(), ([ADDR, ADDR2], 2));
}

/// `FUTEX_OP(op, oparg, cmp, cmparg)` from linux/futex.h.
const fn futex_op(op: u32, oparg: u32, cmp: u32, cmparg: u32) -> u32 {
    ((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff)
}

#[test]
fn wake_op_operations() {
    let add = WakeOp::decode(futex_op(1, 3, 0, 0));
    assert_eq!(add.apply(10), Ok(13));
    assert_eq!(WakeOp::decode(futex_op(0, 7, 0, 0)).apply(10), Ok(7));
    assert_eq!(WakeOp::decode(futex_op(2, 0b100, 0, 0)).apply(0b001), Ok(0b101));
    assert_eq!(WakeOp::decode(futex_op(3, 0b100, 0, 0)).apply(0b101), Ok(0b001));
    assert_eq!(WakeOp::decode(futex_op(4, 0b110, 0, 0)).apply(0b101), Ok(0b011));
    assert_eq!(WakeOp::decode(futex_op(5, 1, 0, 0)).apply(0), Err(Errno::ENOSYS));
    assert_eq!(WakeOp::decode(futex_op(7, 1, 0, 0)).apply(0), Err(Errno::ENOSYS));
}

#[test]
fn wake_op_operands_are_12_bit_signed_and_shift_is_modulo_32() {
    // oparg 0xfff is -1: adding it decrements.
    assert_eq!(WakeOp::decode(futex_op(1, 0xfff, 0, 0)).apply(5), Ok(4));
    // FUTEX_OP_OPARG_SHIFT (8 in the op field): set 1 << 4.
    assert_eq!(WakeOp::decode(futex_op(8, 4, 0, 0)).apply(0), Ok(16));
    // A shift of 40 is taken as 8, as Linux does.
    assert_eq!(WakeOp::decode(futex_op(8, 40, 0, 0)).apply(0), Ok(256));
    // cmparg is signed too: old value -1 compared with cmparg 0xfff (-1).
    assert_eq!(WakeOp::decode(futex_op(0, 0, 0, 0xfff)).compare(u32::MAX), Ok(true));
}

#[test]
fn wake_op_comparisons() {
    let cmp = |c: u32, old: u32, arg: u32| WakeOp::decode(futex_op(0, 0, c, arg)).compare(old);
    assert_eq!(cmp(0, 3, 3), Ok(true));
    assert_eq!(cmp(1, 3, 3), Ok(false));
    assert_eq!(cmp(2, 2, 3), Ok(true));
    assert_eq!(cmp(3, 3, 3), Ok(true));
    assert_eq!(cmp(4, 3, 3), Ok(false));
    assert_eq!(cmp(5, 3, 3), Ok(true));
    assert_eq!(cmp(6, 3, 3), Err(Errno::ENOSYS));
    assert_eq!(cmp(15, 3, 3), Err(Errno::ENOSYS));
}
