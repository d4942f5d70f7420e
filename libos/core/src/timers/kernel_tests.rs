//! The timer syscalls on a kernel over the fake platform, whose clocks move only when
//! the libOS sleeps.

extern crate std;

use std::string::String;

use super::*;
use crate::abi::{KernelSigaction, Rlimit};
use crate::signal::sa;
use crate::testing::{kernel_on, FakePlatform, EXIT_BY_SIGNAL};
use crate::Platform;

const MS: u64 = 1_000_000;
const SIGUSR1: u32 = 10;
const SIGRT: u32 = 40;

fn ts(ns: u64) -> Timespec {
    Timespec::from_nanos(ns)
}

fn spec(value: u64, interval: u64) -> Itimerspec {
    Itimerspec { it_value: ts(value), it_interval: ts(interval) }
}

fn sigev(notify: i32, signo: i32, value: u64, tid: i32) -> Sigevent {
    Sigevent { sigev_value: value, sigev_signo: signo, sigev_notify: notify, sigev_tid: tid, pad: [0; 11] }
}

fn handled(k: &Kernel, sig: u32) {
    let act =
        KernelSigaction { handler: 0x40_2000, flags: sa::SA_SIGINFO | sa::SA_RESTORER, restorer: 0x40_1000, mask: 0 };
    k.signals.lock().exchange(sig as i32, Some(act)).unwrap();
}

fn all(sig: u32) -> u64 {
    1 << (sig - 1)
}

#[test]
fn create_decodes_the_sigevent_as_linux_does() {
    let (p, k) = kernel_on(FakePlatform::new());
    let pid = p.host.pid as i32;
    // NULL: SIGALRM to the process with the id as its value.
    assert_eq!(k.timer_create(1, None), Ok(0));
    assert_eq!(
        k.timers.lock().get_mut(0).unwrap().notify,
        Notify::Signal { signo: 14, value: 0, target: SignalTarget::Process }
    );
    assert_eq!(k.timer_create(1, Some(sigev(SIGEV_THREAD_ID, SIGRT as i32, 5, pid))), Ok(1));
    assert_eq!(
        k.timers.lock().get_mut(1).unwrap().notify,
        Notify::Signal { signo: SIGRT, value: 5, target: SignalTarget::Thread(pid as u32) }
    );
    // SIGEV_THREAD is a process signal to the kernel (libc does the rest); SIGEV_NONE
    // does not care about the signal number.
    assert_eq!(k.timer_create(0, Some(sigev(SIGEV_THREAD, 10, 0, 0))), Ok(2));
    assert_eq!(k.timer_create(7, Some(sigev(SIGEV_NONE, 1000, 0, 0))), Ok(3));
    assert_eq!(k.timers.lock().get_mut(3).unwrap().notify, Notify::None);
    // Bad clocks fail before an id is used up; bad sigevents after.
    assert_eq!(k.timer_create(4, None), Err(Errno::EOPNOTSUPP));
    assert_eq!(k.timer_create(12, None), Err(Errno::EINVAL));
    for bad in [
        sigev(SIGEV_SIGNAL, 0, 0, 0),
        sigev(SIGEV_SIGNAL, 65, 0, 0),
        sigev(SIGEV_THREAD_ID, 10, 0, 1),
        sigev(SIGEV_THREAD_ID, 0, 0, pid),
        sigev(SIGEV_THREAD_ID, 10, 0, -1),
        sigev(5, 10, 0, pid),
        sigev(99, 10, 0, 0),
    ] {
        assert_eq!(k.timer_create(1, Some(bad)), Err(Errno::EINVAL), "{bad:?}");
    }
    assert_eq!(k.timer_create(1, None), Ok(11), "seven ids were used up");
    // The alarm clocks are refused after the id is handed out.
    assert_eq!(k.timer_create(8, None), Err(Errno::EOPNOTSUPP));
    assert_eq!(k.timer_create(9, Some(sigev(99, 0, 0, 0))), Err(Errno::EINVAL), "the sigevent is checked first");
    assert_eq!(k.timer_create(1, None), Ok(14));
}

#[test]
fn timers_count_against_rlimit_sigpending() {
    let (_, k) = kernel_on(FakePlatform::new());
    k.limits.lock().exchange(RLIMIT_SIGPENDING, Some(Rlimit { rlim_cur: 2, rlim_max: 2 })).unwrap();
    k.timer_create(1, None).unwrap();
    k.timer_create(1, None).unwrap();
    assert_eq!(k.timer_create(1, None), Err(Errno::EAGAIN));
    k.timer_delete(0).unwrap();
    assert_eq!(k.timer_create(1, None), Ok(2));
}

const RLIMIT_SIGPENDING: u32 = 11;

#[test]
fn settime_gettime_and_errors() {
    let (p, k) = kernel_on(FakePlatform::new());
    let id = k.timer_create(1, None).unwrap();
    assert_eq!(k.timer_settime(id, 0, spec(5 * MS, MS)), Ok(spec(0, 0)));
    assert_eq!(p.timers_changed.load(core::sync::atomic::Ordering::Relaxed), 1, "the platform was told");
    p.sleep(2 * MS).unwrap();
    assert_eq!(k.timer_gettime(id), Ok(spec(3 * MS, MS)));
    assert_eq!(k.timer_settime(id, 0, spec(0, 0)), Ok(spec(3 * MS, MS)));
    assert_eq!(k.timer_gettime(id), Ok(spec(0, 0)));
    // Absolute on the timer's clock.
    let now = p.now(ClockId::Monotonic).to_nanos().unwrap();
    k.timer_settime(id, TIMER_ABSTIME | 0x100, spec(now + 7 * MS, 0)).unwrap();
    assert_eq!(k.timer_gettime(id), Ok(spec(7 * MS, 0)));
    let bad = Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 };
    let neg = Timespec { tv_sec: -1, tv_nsec: 0 };
    for new in [Itimerspec { it_value: bad, ..spec(0, 0) }, Itimerspec { it_interval: neg, ..spec(0, 0) }] {
        assert_eq!(k.timer_settime(id, 0, new), Err(Errno::EINVAL));
    }
    assert_eq!(k.timer_settime(77, 0, spec(MS, 0)), Err(Errno::EINVAL));
    assert_eq!(k.timer_gettime(-1), Err(Errno::EINVAL));
    assert_eq!(k.timer_getoverrun(77), Err(Errno::EINVAL));
    assert_eq!(k.timer_delete(77), Err(Errno::EINVAL));
    k.timer_delete(id).unwrap();
    assert_eq!(k.timer_gettime(id), Err(Errno::EINVAL));
}

#[test]
fn an_expiry_queues_a_signal_with_overruns_counted_until_taken() {
    let (p, k) = kernel_on(FakePlatform::new());
    handled(&k, SIGRT);
    let mut t = k.threads.leader();
    t.set_sigmask(&k, all(SIGRT));
    let id = k.timer_create(1, Some(sigev(SIGEV_SIGNAL, SIGRT as i32, 0xabc, 0))).unwrap();
    k.timer_settime(id, 0, spec(MS, MS)).unwrap();
    assert_eq!(k.run_timers(), Some(MS), "nothing due yet: wait a millisecond");
    p.sleep(MS).unwrap();
    assert_eq!(k.run_timers(), None, "fired; stopped while its signal is pending");
    assert_eq!(k.pending_for(&t), all(SIGRT));
    p.sleep(9 * MS + MS / 2).unwrap();
    assert_eq!(k.run_timers(), None);
    let changed = p.timers_changed.load(core::sync::atomic::Ordering::Relaxed);
    let info = k.take_signal_in(&t.shared, all(SIGRT)).unwrap();
    assert_eq!((info.si_code, info.timer_id(), info.fields[1]), (code::SI_TIMER, id, 0xabc));
    assert_eq!(info.overrun(), 9);
    assert_eq!(info.sys_private(), 0);
    assert_eq!(k.timer_getoverrun(id), Ok(9));
    assert_eq!(
        p.timers_changed.load(core::sync::atomic::Ordering::Relaxed),
        changed + 1,
        "re-armed: the platform was told"
    );
    assert_eq!(k.run_timers(), Some(MS / 2), "running again from the next interval");
    // A handled signal taken for delivery re-arms the same way.
    p.sleep(MS / 2).unwrap();
    k.run_timers();
    t.set_sigmask(&k, 0);
    let (info, _) = k.next_signal(&mut t).unwrap();
    assert_eq!((info.signo(), info.overrun()), (SIGRT, 0));
    assert!(k.timers.lock().get_mut(id).unwrap().due().is_some());
}

#[test]
fn a_stale_or_deleted_timers_signal_is_dropped_when_taken() {
    let (p, k) = kernel_on(FakePlatform::new());
    let mut t = k.threads.leader();
    t.set_sigmask(&k, all(SIGRT));
    let id = k.timer_create(1, Some(sigev(SIGEV_SIGNAL, SIGRT as i32, 0, 0))).unwrap();
    k.timer_settime(id, 0, spec(MS, 0)).unwrap();
    p.sleep(MS).unwrap();
    k.run_timers();
    k.timer_settime(id, 0, spec(100 * MS, 0)).unwrap();
    assert_eq!(k.pending_for(&t), all(SIGRT), "still pending, as on Linux");
    assert_eq!(k.take_signal_in(&t.shared, all(SIGRT)), None, "but dropped when taken");
    // So is a deleted timer's.
    k.timer_settime(id, 0, spec(MS, 0)).unwrap();
    p.sleep(100 * MS).unwrap();
    k.run_timers();
    k.timer_delete(id).unwrap();
    assert_eq!(k.pending_for(&t), all(SIGRT));
    assert_eq!(k.take_signal_in(&t.shared, all(SIGRT)), None);
    assert_eq!(k.pending_for(&t), 0);
    // A timer signal the guest queued itself passes untouched.
    let forged = SigInfo::timer(SIGRT, 5, 3, 9);
    k.send_signal(SignalTarget::Process, forged).unwrap();
    assert_eq!(k.take_signal_in(&t.shared, all(SIGRT)), Some(forged));
}

#[test]
fn thread_directed_timers_reach_their_thread() {
    let (p, k) = kernel_on(FakePlatform::new());
    let mut t = k.threads.leader();
    let ev = sigev(SIGEV_THREAD_ID, SIGUSR1 as i32, 0, t.tid as i32);
    let id = k.timer_create(0, Some(ev)).unwrap();
    t.set_sigmask(&k, all(SIGUSR1));
    k.timer_settime(id, 0, spec(MS, 0)).unwrap();
    p.sleep(MS).unwrap();
    k.run_timers();
    assert_eq!(t.shared.pending.lock().mask(), all(SIGUSR1));
    assert_eq!(k.sigpending.lock().mask(), 0);
    let info = k.take_signal_in(&t.shared, all(SIGUSR1)).unwrap();
    assert_eq!((info.signo(), info.si_code, info.timer_id()), (SIGUSR1, code::SI_TIMER, id));
}

#[test]
fn sigev_none_timers_are_only_looked_at() {
    let (p, k) = kernel_on(FakePlatform::new());
    let id = k.timer_create(1, Some(sigev(SIGEV_NONE, 0, 0, 0))).unwrap();
    k.timer_settime(id, 0, spec(MS, 300_000)).unwrap();
    assert_eq!(k.run_timers(), None);
    p.sleep(10 * MS).unwrap();
    let now = k.timer_gettime(id).unwrap();
    assert!(now.it_value.tv_nsec > 0 && now.it_value.tv_nsec <= 300_000, "{now:?}");
    assert_eq!(k.timer_getoverrun(id), Ok(0));
}

#[test]
fn an_unhandled_sigalrm_ends_the_process_from_the_timer() {
    let (p, k) = kernel_on(FakePlatform::new());
    assert_eq!(k.alarm(1), 0);
    p.sleep(999 * MS).unwrap();
    assert_eq!(k.run_timers(), Some(MS));
    p.sleep(MS).unwrap();
    let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| k.run_timers()));
    let text = died.unwrap_err().downcast_ref::<String>().cloned().unwrap_or_default();
    assert_eq!(text, std::format!("{EXIT_BY_SIGNAL}14)"));
}

#[test]
fn itimers_and_alarm_through_the_kernel() {
    let (p, k) = kernel_on(FakePlatform::new());
    let tv = |sec, usec| Timeval { tv_sec: sec, tv_usec: usec };
    let new = Itimerval { it_value: tv(2, 500), it_interval: tv(0, 7) };
    assert_eq!(k.setitimer(0, new), Ok(Itimerval::default()));
    assert_eq!(k.getitimer(0), Ok(new), "the time has not moved");
    p.sleep(1_600 * MS).unwrap();
    assert_eq!(k.alarm(5), 1, "0.4005 s left rounds up to 1");
    assert_eq!(k.getitimer(0), Ok(Itimerval { it_value: tv(5, 0), it_interval: tv(0, 0) }));
    p.sleep(3_400 * MS).unwrap();
    assert_eq!(k.alarm(0), 2, "1.6 s left rounds to 2");
    assert_eq!(k.getitimer(0), Ok(Itimerval::default()));
    for bad in [tv(0, 1_000_000), tv(0, -1), tv(-1, 0)] {
        assert_eq!(k.setitimer(0, Itimerval { it_value: bad, ..new }), Err(Errno::EINVAL));
        assert_eq!(k.setitimer(0, Itimerval { it_interval: bad, ..new }), Err(Errno::EINVAL));
    }
    assert_eq!(k.setitimer(3, new), Err(Errno::EINVAL));
    assert_eq!(k.getitimer(-1), Err(Errno::EINVAL));
    // ITIMER_PROF runs on the process CPU clock, with a tick added.
    k.setitimer(2, Itimerval { it_value: tv(0, 5), it_interval: tv(0, 3) }).unwrap();
    let prof = k.getitimer(2).unwrap();
    assert_eq!(prof, Itimerval { it_value: tv(0, 4_005), it_interval: tv(0, 3) });
}

#[test]
fn a_periodic_itimer_real_runs_again_when_its_sigalrm_is_taken() {
    let (p, k) = kernel_on(FakePlatform::new());
    handled(&k, 14);
    let mut t = k.threads.leader();
    let tv = |usec| Timeval { tv_sec: 0, tv_usec: usec };
    k.setitimer(0, Itimerval { it_value: tv(1000), it_interval: tv(1000) }).unwrap();
    p.sleep(MS).unwrap();
    assert_eq!(k.run_timers(), None);
    assert_eq!(k.getitimer(0).unwrap().it_value, tv(0), "fired, SIGALRM pending: 0 left");
    let (info, _) = k.next_signal(&mut t).unwrap();
    assert_eq!((info.signo(), info.si_code), (14, code::SI_KERNEL));
    assert_eq!(k.getitimer(0).unwrap().it_value, tv(1000), "running again");
    assert_eq!(k.run_timers(), Some(MS));
}
