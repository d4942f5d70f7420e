//! Signal actions, masks and alternate stacks against Linux's rules.

extern crate std;

use super::*;
use crate::testing::{kernel_on, FakePlatform};

const SIGUSR1: i32 = 10;
const SIGINT: i32 = 2;

fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

fn handler(h: u64, flags: u64, mask: u64) -> KernelSigaction {
    KernelSigaction { handler: h, flags, restorer: 0x40_1000, mask }
}

#[test]
fn exchange_returns_the_old_action() {
    let mut s = SignalActions::default();
    assert_eq!(s.exchange(SIGUSR1, None), Ok(KernelSigaction::default()));
    let act = handler(0x40_2000, sa::SA_SIGINFO | sa::SA_RESTORER, bit(2));
    assert_eq!(s.exchange(SIGUSR1, Some(act)), Ok(KernelSigaction::default()));
    assert_eq!(s.exchange(SIGUSR1, None), Ok(act));
    assert_eq!(s.get(SIGUSR1), Some(&act));
    assert_eq!(s.exchange(SIGUSR1, Some(KernelSigaction::default())), Ok(act));
    assert_eq!(s.get(SIGUSR1), Some(&KernelSigaction::default()));
    // Other signals are untouched.
    assert_eq!(s.get(SIGINT), Some(&KernelSigaction::default()));
}

#[test]
fn sigkill_and_sigstop_are_readable_but_not_settable() {
    let mut s = SignalActions::default();
    for sig in [SIGKILL, SIGSTOP] {
        assert_eq!(s.exchange(sig as i32, None), Ok(KernelSigaction::default()));
        assert_eq!(s.exchange(sig as i32, Some(handler(SIG_IGN, 0, 0))), Err(Errno::EINVAL));
        assert_eq!(s.exchange(sig as i32, Some(KernelSigaction::default())), Err(Errno::EINVAL));
        assert_eq!(s.get(sig as i32), Some(&KernelSigaction::default()));
    }
}

#[test]
fn signal_numbers_outside_1_to_64_are_einval() {
    let mut s = SignalActions::default();
    for sig in [0, 65, -1, i32::MIN, i32::MAX] {
        assert_eq!(s.exchange(sig, None), Err(Errno::EINVAL), "{sig}");
        assert_eq!(s.exchange(sig, Some(handler(SIG_IGN, 0, 0))), Err(Errno::EINVAL), "{sig}");
        assert_eq!(s.get(sig), None);
        assert_eq!(check_signal(sig), Err(Errno::EINVAL));
    }
    assert_eq!(check_signal(1), Ok(0));
    assert_eq!(check_signal(64), Ok(63));
    assert!(s.exchange(64, Some(handler(SIG_IGN, 0, 0))).is_ok());
}

#[test]
fn action_masks_never_hold_sigkill_or_sigstop() {
    let mut s = SignalActions::default();
    s.exchange(SIGUSR1, Some(handler(0x40_2000, 0, u64::MAX))).unwrap();
    let mask = s.get(SIGUSR1).unwrap().mask;
    assert_eq!(mask, !(bit(SIGKILL) | bit(SIGSTOP)));
}

#[test]
fn unknown_sa_flags_are_dropped() {
    // Linux keeps only UAPI_SA_FLAGS (on x86-64 that includes SA_RESTORER and
    // SA_EXPOSE_TAGBITS) so that a program can probe with SA_UNSUPPORTED.
    let mut s = SignalActions::default();
    let known = sa::SA_NOCLDSTOP
        | sa::SA_NOCLDWAIT
        | sa::SA_SIGINFO
        | sa::SA_EXPOSE_TAGBITS
        | sa::SA_RESTORER
        | sa::SA_ONSTACK
        | sa::SA_RESTART
        | sa::SA_NODEFER
        | sa::SA_RESETHAND;
    s.exchange(SIGUSR1, Some(handler(0x40_2000, u64::MAX, 0))).unwrap();
    assert_eq!(s.get(SIGUSR1).unwrap().flags, known);
    s.exchange(SIGUSR1, Some(handler(0x40_2000, sa::SA_UNSUPPORTED | 0x20 | sa::SA_RESTART, 0))).unwrap();
    assert_eq!(s.get(SIGUSR1).unwrap().flags, sa::SA_RESTART);
}

#[test]
fn apply_mask_how() {
    let m = bit(2) | bit(10);
    assert_eq!(apply_mask(m, SIG_BLOCK, bit(15)), Ok(m | bit(15)));
    assert_eq!(apply_mask(m, SIG_UNBLOCK, bit(2) | bit(15)), Ok(bit(10)));
    assert_eq!(apply_mask(m, SIG_SETMASK, bit(15)), Ok(bit(15)));
    assert_eq!(apply_mask(m, SIG_SETMASK, 0), Ok(0));
    for how in [-1, 3, 100] {
        assert_eq!(apply_mask(m, how, 0), Err(Errno::EINVAL), "how {how}");
    }
    // SIGKILL and SIGSTOP never get in, whichever way.
    let all = !(bit(SIGKILL) | bit(SIGSTOP));
    assert_eq!(apply_mask(0, SIG_BLOCK, u64::MAX), Ok(all));
    assert_eq!(apply_mask(0, SIG_SETMASK, u64::MAX), Ok(all));
    assert_eq!(apply_mask(u64::MAX, SIG_UNBLOCK, 0), Ok(all));
}

fn stack(sp: u64, size: u64, flags: i32) -> StackT {
    StackT { ss_sp: sp, ss_flags: flags, pad: 0, ss_size: size }
}

#[test]
fn altstack_install() {
    let ss = stack(0x7000_0000, 8192, 0);
    assert_eq!(validate_altstack(&ss, false), Ok(ss));
    // SS_ONSTACK is accepted as a mode and not kept (Linux reports it only while on it).
    assert_eq!(validate_altstack(&stack(0x7000_0000, 8192, SS_ONSTACK), false), Ok(ss));
    // SS_AUTODISARM is kept.
    assert_eq!(
        validate_altstack(&stack(0x7000_0000, 8192, SS_AUTODISARM), false),
        Ok(stack(0x7000_0000, 8192, SS_AUTODISARM))
    );
    assert_eq!(validate_altstack(&stack(0x7000_0000, MINSIGSTKSZ, 0), false).map(|s| s.ss_size), Ok(MINSIGSTKSZ));
}

#[test]
fn altstack_too_small_is_enomem() {
    assert_eq!(validate_altstack(&stack(0x7000_0000, MINSIGSTKSZ - 1, 0), false), Err(Errno::ENOMEM));
    assert_eq!(validate_altstack(&stack(0x7000_0000, 0, SS_ONSTACK), false), Err(Errno::ENOMEM));
}

#[test]
fn altstack_bad_flags_are_einval() {
    for flags in [4, 8, SS_ONSTACK | SS_DISABLE, 0x10 | SS_AUTODISARM, -1] {
        assert_eq!(validate_altstack(&stack(0x7000_0000, 8192, flags), false), Err(Errno::EINVAL), "{flags:#x}");
    }
}

#[test]
fn altstack_disable() {
    // Linux ignores sp and size and records an empty stack.
    let got = validate_altstack(&stack(0x7000_0000, 10, SS_DISABLE), false).unwrap();
    assert_eq!(got, stack(0, 0, SS_DISABLE));
    // SS_AUTODISARM is remembered with SS_DISABLE (Linux reports 0x80000002 back).
    let got = validate_altstack(&stack(0, 0, SS_DISABLE | SS_AUTODISARM), false).unwrap();
    assert_eq!(got, stack(0, 0, SS_DISABLE | SS_AUTODISARM));
}

#[test]
fn altstack_cannot_change_while_on_it() {
    assert_eq!(validate_altstack(&stack(0x7000_0000, 8192, 0), true), Err(Errno::EPERM));
    assert_eq!(validate_altstack(&stack(0, 0, SS_DISABLE), true), Err(Errno::EPERM));
}

#[test]
fn broken_pipe_is_epipe_when_sigpipe_is_ignored_or_blocked() {
    let (_, k) = kernel_on(FakePlatform::new());
    let mut t = k.threads.leader();
    k.signals.lock().exchange(SIGPIPE as i32, Some(handler(SIG_IGN, 0, 0))).unwrap();
    assert_eq!(broken_pipe(&k, &t), Errno::EPIPE);
    assert_eq!(k.pending_for(&t), 0, "an ignored SIGPIPE is dropped");
    k.signals.lock().exchange(SIGPIPE as i32, Some(KernelSigaction::default())).unwrap();
    t.set_sigmask(&k, bit(SIGPIPE));
    assert_eq!(broken_pipe(&k, &t), Errno::EPIPE);
    assert_eq!(k.pending_for(&t), bit(SIGPIPE), "a blocked SIGPIPE stays pending");
    // A handler: the write fails with EPIPE and the signal waits for delivery.
    k.signals.lock().exchange(SIGPIPE as i32, Some(handler(0x40_2000, 0, 0))).unwrap();
    t.set_sigmask(&k, 0);
    assert_eq!(k.next_signal(&mut t).map(|(i, _)| i.signo()), Some(SIGPIPE));
    assert_eq!(broken_pipe(&k, &t), Errno::EPIPE);
    assert_eq!(k.next_signal(&mut t).map(|(i, _)| i.signo()), Some(SIGPIPE));
}

#[test]
#[should_panic(expected = "exit_by_signal(13)")]
fn broken_pipe_with_the_default_action_kills_the_process() {
    let (_, k) = kernel_on(FakePlatform::new());
    let mut t = k.threads.leader();
    t.set_sigmask(&k, bit(SIGUSR1 as u32));
    broken_pipe(&k, &t);
}

#[test]
fn the_fake_platform_reports_how_the_process_ended() {
    let p = FakePlatform::new();
    let err =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| crate::Platform::exit_process(&p, 3))).unwrap_err();
    assert_eq!(err.downcast_ref::<std::string::String>().map(|s| s.as_str()), Some("exit_process(3)"));
}
