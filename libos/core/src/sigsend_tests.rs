//! Sending and taking signals against Linux's rules.

extern crate std;

use std::string::String;

use super::*;
use crate::abi::KernelSigaction;
use crate::siginfo::code;
use crate::signal::sa;
use crate::testing::{kernel_on, FakePlatform, EXIT_BY_SIGNAL};

const SIGUSR1: u32 = 10;
const SIGUSR2: u32 = 12;
const SIGTERM: u32 = 15;
const SIGCHLD: u32 = 17;
const SIGRT: u32 = 40;

fn handled(k: &Kernel, sig: u32) -> KernelSigaction {
    let act =
        KernelSigaction { handler: 0x40_2000, flags: sa::SA_SIGINFO | sa::SA_RESTORER, restorer: 0x40_1000, mask: 0 };
    k.signals.lock().exchange(sig as i32, Some(act)).unwrap();
    act
}

fn user(sig: u32) -> SigInfo {
    SigInfo::sent(sig, code::SI_USER, 1, 2)
}

fn panic_text(e: std::boxed::Box<dyn core::any::Any + Send>) -> String {
    e.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn a_handled_signal_is_taken_with_its_action() {
    let (_, k) = kernel_on(FakePlatform::new());
    let act = handled(&k, SIGUSR1);
    let mut t = k.threads.leader();
    k.send_signal(SignalTarget::Process, user(SIGUSR1)).unwrap();
    assert!(t.shared.hinted());
    assert!(k.signal_deliverable(&t));
    let (info, got) = k.next_signal(&mut t).unwrap();
    assert_eq!((info.signo(), got), (SIGUSR1, act));
    assert!(k.next_signal(&mut t).is_none());
    assert!(!t.shared.hinted(), "looking clears the hint");
}

#[test]
fn ignored_signals_are_dropped_unless_blocked() {
    let (_, k) = kernel_on(FakePlatform::new());
    let mut t = k.threads.leader();
    k.send_signal(SignalTarget::Process, user(SIGCHLD)).unwrap();
    assert_eq!(k.pending_for(&t), 0, "SIGCHLD's default is to ignore it");
    t.set_sigmask(&k, 1 << (SIGCHLD - 1));
    k.send_signal(SignalTarget::Process, user(SIGCHLD)).unwrap();
    assert_eq!(k.pending_for(&t), 1 << (SIGCHLD - 1), "a blocked ignored signal stays pending");
    t.set_sigmask(&k, 0);
    assert!(t.shared.hinted(), "unblocking a pending signal tells the thread");
    assert!(k.next_signal(&mut t).is_none(), "and taking it does nothing");
}

#[test]
fn blocked_signals_wait_and_standard_ones_do_not_queue() {
    let (_, k) = kernel_on(FakePlatform::new());
    handled(&k, SIGUSR1);
    handled(&k, SIGRT);
    let mut t = k.threads.leader();
    t.set_sigmask(&k, 1 << (SIGUSR1 - 1) | 1 << (SIGRT - 1));
    for _ in 0..3 {
        k.send_signal(SignalTarget::Thread(t.tid), user(SIGUSR1)).unwrap();
        k.send_signal(SignalTarget::Thread(t.tid), user(SIGRT)).unwrap();
    }
    assert!(!t.shared.hinted());
    assert!(k.next_signal(&mut t).is_none());
    t.set_sigmask(&k, 0);
    let mut taken = std::vec::Vec::new();
    while let Some((info, _)) = k.next_signal(&mut t) {
        taken.push(info.signo());
    }
    assert_eq!(taken, [SIGUSR1, SIGRT, SIGRT, SIGRT]);
}

#[test]
fn a_killing_default_ends_the_process_from_the_sender() {
    let (_, k) = kernel_on(FakePlatform::new());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = k.send_signal(SignalTarget::Process, user(SIGTERM));
    }));
    assert_eq!(panic_text(r.unwrap_err()), std::format!("{EXIT_BY_SIGNAL}{SIGTERM})"));
}

#[test]
fn a_blocked_killing_signal_waits_and_kills_when_taken() {
    let (_, k) = kernel_on(FakePlatform::new());
    let mut t = k.threads.leader();
    t.set_sigmask(&k, 1 << (SIGTERM - 1));
    k.send_signal(SignalTarget::Process, user(SIGTERM)).unwrap();
    t.set_sigmask(&k, 0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| k.next_signal(&mut t)));
    assert_eq!(panic_text(r.unwrap_err()), std::format!("{EXIT_BY_SIGNAL}{SIGTERM})"));
}

#[test]
fn process_signals_go_to_a_thread_that_does_not_block_them() {
    let (_, k) = kernel_on(FakePlatform::new());
    handled(&k, SIGUSR2);
    let mut leader = k.threads.leader();
    leader.set_sigmask(&k, 1 << (SIGUSR2 - 1));
    let other = k.threads.add().unwrap();
    k.send_signal(SignalTarget::Process, user(SIGUSR2)).unwrap();
    assert!(other.hinted());
    assert!(!leader.shared.hinted());
}

#[test]
fn sigtimedwait_takes_only_what_it_waits_for() {
    let (_, k) = kernel_on(FakePlatform::new());
    handled(&k, SIGUSR1);
    handled(&k, SIGUSR2);
    let mut t = k.threads.leader();
    t.set_sigmask(&k, 1 << (SIGUSR1 - 1) | 1 << (SIGUSR2 - 1));
    k.send_signal(SignalTarget::Process, user(SIGUSR1)).unwrap();
    k.send_signal(SignalTarget::Thread(t.tid), user(SIGUSR2)).unwrap();
    assert_eq!(k.take_signal_in(&t.shared, 1 << (SIGUSR1 - 1)).map(|i| i.signo()), Some(SIGUSR1));
    assert_eq!(k.take_signal_in(&t.shared, 1 << (SIGUSR1 - 1)), None);
    assert_eq!(k.pending_for(&t), 1 << (SIGUSR2 - 1));
}

#[test]
fn a_missing_thread_is_esrch() {
    let (_, k) = kernel_on(FakePlatform::new());
    assert_eq!(k.send_signal(SignalTarget::Thread(999_999), user(SIGUSR1)), Err(Errno::ESRCH));
}
