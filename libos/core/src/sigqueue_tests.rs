use super::*;
use crate::siginfo::{code, SigInfo};

fn user(sig: u32, pid: u32) -> SigInfo {
    SigInfo::sent(sig, code::SI_USER, pid, 0)
}

#[test]
fn a_standard_signal_is_pending_once() {
    let mut p = PendingSignals::default();
    assert_eq!(p.push(user(10, 1), 8), Ok(true));
    assert_eq!(p.push(user(10, 2), 8), Ok(false));
    assert_eq!(p.queued(), 1);
    let info = p.take_next(0).unwrap();
    assert_eq!(info.fields[0] as u32, 1, "the first sender's info is kept");
    assert_eq!(p.take_next(0), None);
    assert_eq!(p.mask(), 0);
}

#[test]
fn real_time_signals_queue_in_order_up_to_the_limit() {
    let mut p = PendingSignals::default();
    for pid in 1..=3 {
        assert_eq!(p.push(user(40, pid), 3), Ok(true));
    }
    assert_eq!(p.push(user(40, 4), 3), Err(Errno::EAGAIN));
    for pid in 1..=3 {
        assert_eq!(p.take_next(0).unwrap().fields[0] as u32, pid);
    }
    assert_eq!(p.mask(), 0);
}

#[test]
fn faults_come_first_then_the_lowest_number() {
    let mut p = PendingSignals::default();
    p.push(user(2, 0), 8).unwrap();
    p.push(user(15, 0), 8).unwrap();
    p.push(SigInfo::fault(11, code::SEGV_MAPERR, 0), 8).unwrap();
    assert_eq!(p.next(0), Some(11));
    assert_eq!(p.take_next(0).unwrap().signo(), 11);
    assert_eq!(p.next(0), Some(2));
    assert_eq!(p.next(bit(2)), Some(15), "a blocked signal waits");
    assert_eq!(p.next(bit(2) | bit(15)), None);
}

#[test]
fn discarding_drops_every_instance() {
    let mut p = PendingSignals::default();
    p.push(user(40, 1), 8).unwrap();
    p.push(user(40, 2), 8).unwrap();
    p.push(user(41, 3), 8).unwrap();
    p.discard(40);
    assert_eq!(p.mask(), bit(41));
    assert_eq!(p.queued(), 1);
}

#[test]
fn a_timer_signal_queues_beside_a_pending_standard_one() {
    let mut p = PendingSignals::default();
    assert_eq!(p.push(user(14, 1), 8), Ok(true));
    p.push_preallocated(SigInfo::timer(14, 3, 0, 0));
    assert_eq!(p.queued(), 2);
    assert_eq!(p.take_next(0).unwrap().si_code, code::SI_USER);
    assert_eq!(p.mask(), 1 << 13, "the timer's instance is still pending");
    assert_eq!(p.take_next(0).unwrap().si_code, code::SI_TIMER);
    assert_eq!(p.mask(), 0);
}
