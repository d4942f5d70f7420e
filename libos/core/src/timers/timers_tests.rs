//! The timer bookkeeping against Linux's rules, clocks given by hand.

extern crate std;

use std::vec::Vec;

use super::*;
use crate::siginfo::code;

const MS: u64 = 1_000_000;
const SIGRT: u32 = 34;

fn signal(value: u64) -> Notify {
    Notify::Signal { signo: SIGRT, value, target: SignalTarget::Process }
}

fn val(value: u64, interval: u64) -> TimerValue {
    TimerValue { value, interval }
}

/// A `send` that records what it is given and answers `answer`.
fn recorder(
    sent: &mut Vec<(SignalTarget, SigInfo)>,
    answer: Delivery,
) -> impl FnMut(SignalTarget, SigInfo) -> Delivery + '_ {
    move |target, info| {
        sent.push((target, info));
        answer
    }
}

#[test]
fn ids_count_up_and_skip_those_in_use() {
    let mut t = Timers::new();
    let ids: Vec<i32> = (0..3).map(|_| t.allocate_id()).collect();
    assert_eq!(ids, [0, 1, 2]);
    for &id in &ids {
        t.insert(id, PosixTimer::new(TimerClock::Monotonic, Notify::None));
    }
    t.remove(1).unwrap();
    assert_eq!(t.allocate_id(), 3, "a freed id is not reused at once");
    // Near the top the counter wraps to 0, skipping the ids still in use.
    t.next_id = i32::MAX as u32;
    assert_eq!(t.allocate_id(), i32::MAX);
    assert_eq!(t.allocate_id(), 1, "0 and 2 are in use, 1 was freed");
    assert_eq!(t.remove(1), Err(Errno::EINVAL));
    assert_eq!(t.get_mut(7).err(), Some(Errno::EINVAL));
}

#[test]
fn forward_moves_past_now_by_whole_intervals() {
    let mut e = 100;
    assert_eq!(forward(&mut e, 99, 10), 0);
    assert_eq!(e, 100);
    assert_eq!(forward(&mut e, 100, 10), 1, "an expiry exactly now counts");
    assert_eq!(e, 110);
    assert_eq!(forward(&mut e, 135, 10), 3);
    assert_eq!(e, 140);
    let mut far = KTIME_MAX - 5;
    forward(&mut far, KTIME_MAX, 10);
    assert_eq!(far, KTIME_MAX, "saturates");
}

#[test]
fn clocks_for_timers_follow_linux() {
    let ok = [(0, TimerClock::Realtime), (1, TimerClock::Monotonic), (2, TimerClock::ProcessCpu)];
    for (raw, clock) in ok.into_iter().chain([(7, TimerClock::Boottime), (11, TimerClock::Tai)]) {
        assert_eq!(TimerClock::for_timer(raw, 4242), Ok(clock), "{raw}");
    }
    // No timers on the raw and coarse clocks; no RTC for the alarm clocks; thread CPU
    // clocks not offered.
    for raw in [3, 4, 5, 6, 8, 9] {
        assert_eq!(TimerClock::for_timer(raw, 4242), Err(Errno::EOPNOTSUPP), "{raw}");
    }
    for raw in [10, 12, 16, i32::MAX] {
        assert_eq!(TimerClock::for_timer(raw, 4242), Err(Errno::EINVAL), "{raw}");
    }
    // glibc's CLOCK_PROCESS_CPUTIME_ID for timers: MAKE_PROCESS_CPUCLOCK(0, SCHED) = -6;
    // by pid; PROF (type 0) too.
    let by_pid = |pid: i32, kind: i32| (!pid << 3) | kind;
    assert_eq!(TimerClock::for_timer(-6, 4242), Ok(TimerClock::ProcessCpu));
    assert_eq!(TimerClock::for_timer(by_pid(4242, 2), 4242), Ok(TimerClock::ProcessCpu));
    assert_eq!(TimerClock::for_timer(by_pid(0, 0), 4242), Ok(TimerClock::ProcessCpu));
    assert_eq!(TimerClock::for_timer(by_pid(77, 2), 4242), Err(Errno::EINVAL), "another process");
    assert_eq!(TimerClock::for_timer(-2, 4242), Err(Errno::EOPNOTSUPP), "the thread CPU clock");
    assert_eq!(TimerClock::for_timer(by_pid(0, 3), 4242), Err(Errno::EINVAL), "an fd clock");
    assert!(TimerClock::ProcessCpu.is_cpu() && TimerClock::UserCpu.is_cpu() && !TimerClock::Tai.is_cpu());
}

#[test]
fn arming_reads_back_the_time_left_and_the_interval() {
    let mut t = PosixTimer::new(TimerClock::Monotonic, signal(0));
    assert_eq!(t.get(1000), val(0, 0));
    assert_eq!(t.due(), None);
    assert_eq!(t.set(val(5 * MS, 2 * MS), false, 1000), val(0, 0));
    assert_eq!(t.get(1000 + MS), val(4 * MS, 2 * MS));
    assert_eq!(t.due(), Some(1000 + 5 * MS));
    // Re-arming returns the old setting; absolute times are on the timer's clock.
    assert_eq!(t.set(val(9 * MS, 0), true, 2 * MS), val(1000 + 3 * MS, 2 * MS));
    assert_eq!(t.get(4 * MS), val(5 * MS, 0));
    // Due but not fired yet: 1 ns, so that the guest does not see it disarmed.
    assert_eq!(t.get(10 * MS), val(1, 0));
    // A zero value disarms, and the interval goes with it.
    t.set(val(0, 3 * MS), false, 10 * MS);
    assert_eq!(t.get(10 * MS), val(0, 0));
    assert_eq!(t.due(), None);
}

#[test]
fn an_absolute_time_in_the_past_is_due_at_once() {
    let mut t = PosixTimer::new(TimerClock::Realtime, signal(0));
    t.set(val(5, 0), true, 1000);
    assert_eq!(t.due(), Some(5));
    assert_eq!(t.get(1000), val(1, 0));
}

#[test]
fn sigev_none_timers_never_fire_but_read_back() {
    let mut t = PosixTimer::new(TimerClock::Monotonic, Notify::None);
    t.set(val(MS, 0), false, 0);
    assert_eq!(t.due(), None, "nothing to send, nothing to wake for");
    assert_eq!(t.get(MS / 2), val(MS / 2, 0));
    assert_eq!(t.get(2 * MS), val(0, 0), "an expired one-shot shows 0");
    // Disarmed, it shows what its last arming had left (Linux reads the old expiry).
    t.set(val(3 * MS, 0), false, 0);
    t.set(val(0, 0), false, MS);
    assert_eq!(t.get(MS), val(2 * MS, 0));
    t.set(val(MS, 300_000), false, 0);
    // Periodic: moved forward past now at every look.
    assert_eq!(t.get(10 * MS + 1), val(300_000 - 1, 300_000));
    assert_eq!(t.overrun(), 0, "nothing was delivered, so no overrun is reported");
}

#[test]
fn a_periodic_timer_stops_while_its_signal_is_pending_and_counts_overruns() {
    let mut t = PosixTimer::new(TimerClock::Monotonic, signal(77));
    t.set(val(MS, MS), false, 0);
    let mut sent = Vec::new();
    t.fire(5, MS, &mut recorder(&mut sent, Delivery::Queued));
    let (target, mut info) = sent[0];
    assert_eq!(target, SignalTarget::Process);
    assert_eq!((info.signo(), info.si_code, info.timer_id(), info.fields[1]), (SIGRT, code::SI_TIMER, 5, 77));
    assert_eq!(info.overrun(), 0);
    assert_eq!(t.due(), None, "no further expiry until the signal is taken");
    // While pending, gettime shows the expiry to come.
    assert_eq!(t.get(MS + MS / 2), val(MS / 2, MS));
    assert_eq!(t.overrun(), 0, "the overrun is reported only with a signal");
    // Taken at 10.5 ms: the expiries at 2..=10 ms were missed.
    assert_eq!(t.taken(&mut info, 10 * MS + MS / 2), Some(true));
    assert_eq!(info.overrun(), 9);
    assert_eq!(info.sys_private(), 0, "the libOS's mark does not reach the guest");
    assert_eq!(t.overrun(), 9);
    assert_eq!(t.due(), Some(11 * MS));
    // The next signal carries its own count.
    let mut sent = Vec::new();
    t.fire(5, 11 * MS, &mut recorder(&mut sent, Delivery::Queued));
    let mut info = sent[0].1;
    assert_eq!(t.taken(&mut info, 11 * MS + 1), Some(true));
    assert_eq!(info.overrun(), 0);
    assert_eq!(t.overrun(), 0);
}

#[test]
fn rearming_makes_a_pending_signal_stale() {
    let mut t = PosixTimer::new(TimerClock::Monotonic, signal(0));
    t.set(val(MS, MS), false, 0);
    let mut sent = Vec::new();
    t.fire(0, MS, &mut recorder(&mut sent, Delivery::Queued));
    t.set(val(100 * MS, 0), false, 2 * MS);
    let mut info = sent[0].1;
    assert_eq!(t.taken(&mut info, 3 * MS), None, "dropped when taken");
    assert_eq!(t.due(), Some(102 * MS), "the new arming stands");
    // Disarming does the same.
    t.set(val(MS, 0), false, 0);
    let mut sent = Vec::new();
    t.fire(0, MS, &mut recorder(&mut sent, Delivery::Queued));
    t.set(val(0, 0), false, 2 * MS);
    assert_eq!(t.taken(&mut sent[0].1.clone(), 3 * MS), None);
}

#[test]
fn a_one_shot_timer_is_done_once_fired() {
    let mut t = PosixTimer::new(TimerClock::Boottime, signal(0));
    t.set(val(MS, 0), false, 0);
    let mut sent = Vec::new();
    t.fire(0, 2 * MS, &mut recorder(&mut sent, Delivery::Queued));
    assert_eq!(t.due(), None);
    assert_eq!(t.get(3 * MS), val(0, 0), "pending or not, an expired one-shot shows 0");
    let mut info = sent[0].1;
    assert_eq!(t.taken(&mut info, 5 * MS), Some(false));
    assert_eq!(info.overrun(), 0);
}

#[test]
fn an_ignored_periodic_signal_is_tried_again_later() {
    let mut t = PosixTimer::new(TimerClock::Monotonic, signal(0));
    t.set(val(MS, MS), false, 0);
    let mut sent = Vec::new();
    t.fire(0, MS, &mut recorder(&mut sent, Delivery::Ignored));
    assert_eq!(t.due(), Some(MS + IGNORED_RETRY_NS), "not every millisecond");
    assert_eq!(t.get(MS + MS / 4), val(3 * MS / 4, MS), "but it keeps its schedule");
    // Once the signal is no longer ignored, it is queued at the next try.
    t.fire(0, MS + IGNORED_RETRY_NS, &mut recorder(&mut sent, Delivery::Queued));
    assert_eq!(sent.len(), 2);
    assert_eq!(t.due(), None);
    // A one-shot whose signal is ignored is simply done.
    t.set(val(MS, 0), false, 0);
    t.fire(0, MS, &mut recorder(&mut sent, Delivery::Ignored));
    assert_eq!((t.due(), t.get(MS)), (None, val(0, 0)));
}

#[test]
fn a_timer_whose_thread_is_gone_stops() {
    let target = SignalTarget::Thread(99);
    let mut t = PosixTimer::new(TimerClock::Monotonic, Notify::Signal { signo: SIGRT, value: 0, target });
    t.set(val(MS, MS), false, 0);
    let mut sent = Vec::new();
    t.fire(0, MS, &mut recorder(&mut sent, Delivery::NoTarget));
    assert_eq!(sent[0].0, target);
    assert_eq!(t.due(), None);
}

#[test]
fn real_itimer_fires_once_then_waits_for_its_sigalrm() {
    let mut r = RealItimer::default();
    assert_eq!(r.set(val(5 * MS, MS), 0), val(0, 0));
    assert_eq!(r.get(MS), val(4 * MS, MS));
    assert_eq!(r.get(5 * MS), val(1000, MS), "due, not fired: 1 µs");
    r.fire();
    assert_eq!(r.get(6 * MS), val(0, MS), "fired and not taken: 0 left");
    assert_eq!(r.due(), None);
    assert!(r.sigalrm_taken(7 * MS + 1));
    assert_eq!(r.due(), Some(8 * MS));
    assert!(!r.sigalrm_taken(7 * MS + 2), "already running");
    // Disarming forgets the interval; a one-shot is not re-armed by a SIGALRM.
    assert_eq!(r.set(val(0, MS), 8 * MS), val(1000, MS), "the old value: due now, 1 µs");
    assert_eq!(r.get(9 * MS), val(0, 0));
    r.set(val(MS, 0), 0);
    r.fire();
    assert!(!r.sigalrm_taken(2 * MS));
}

#[test]
fn cpu_itimers_add_a_tick_and_step_by_their_interval() {
    let mut c = CpuItimer::default();
    assert_eq!(c.set(val(5_000, 3_000), 100), val(0, 0));
    assert_eq!(c.get(100), val(5_000 + TICK_NSEC, 3_000));
    assert_eq!(c.due(), Some(100 + 5_000 + TICK_NSEC));
    assert_eq!(c.get(100 + 6_000 + TICK_NSEC), val(TICK_NSEC, 3_000), "overdue: a tick");
    c.fire();
    assert_eq!(c.due(), Some(100 + 8_000 + TICK_NSEC), "one interval on, no catching up");
    assert_eq!(c.set(val(0, 0), 100 + 9_000 + TICK_NSEC), val(TICK_NSEC, 3_000));
    assert_eq!(c.due(), None);
    c.set(val(1, 0), 0);
    c.fire();
    assert_eq!(c.due(), None, "a one-shot is done");
}

#[test]
fn alarm_rounds_what_is_left_as_linux_does() {
    assert_eq!(alarm_seconds(0), 0);
    assert_eq!(alarm_seconds(1), 1, "never 0 while pending");
    assert_eq!(alarm_seconds(400 * MS), 1);
    assert_eq!(alarm_seconds(1_400 * MS), 1);
    assert_eq!(alarm_seconds(1_500 * MS), 2);
    assert_eq!(alarm_seconds(1_999_999_999), 2);
    assert_eq!(alarm_seconds(5_000 * MS), 5);
}

#[test]
fn expire_fires_what_is_due_with_linux_siginfo() {
    let mut t = Timers::new();
    let id = t.allocate_id();
    t.insert(id, PosixTimer::new(TimerClock::Realtime, signal(1)));
    t.get_mut(id).unwrap().set(val(10 * MS, 0), false, 0);
    t.real.set(val(2 * MS, 0), 0);
    t.prof.set(val(MS, 0), 0);
    t.virt.set(val(MS, 0), 0);
    let clocks = |now: u64| move |c: TimerClock| if c.is_cpu() { now / 2 } else { now };
    let mut sent = Vec::new();
    t.expire(&clocks(MS), &mut recorder(&mut sent, Delivery::Queued));
    assert!(sent.is_empty());
    t.expire(&clocks(3 * MS), &mut recorder(&mut sent, Delivery::Queued));
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].1.signo(), sent[0].1.si_code), (14, code::SI_KERNEL), "ITIMER_REAL: SIGALRM from the kernel");
    t.expire(&clocks(20 * MS), &mut recorder(&mut sent, Delivery::Queued));
    let got: Vec<(u32, i32)> = sent.iter().map(|(_, i)| (i.signo(), i.si_code)).collect();
    assert_eq!(got, [(14, code::SI_KERNEL), (SIGRT, code::SI_TIMER), (26, code::SI_KERNEL), (27, code::SI_KERNEL)]);
    assert!(sent.iter().all(|(target, _)| *target == SignalTarget::Process));
    assert_eq!(t.next_timeout(&clocks(20 * MS), 2), None, "nothing left armed");
}

#[test]
fn next_timeout_is_the_nearest_deadline() {
    let mut t = Timers::new();
    let clocks = |c: TimerClock| if c.is_cpu() { 0 } else { 100 * MS };
    assert_eq!(t.next_timeout(&clocks, 2), None);
    t.real.set(val(30 * MS, 0), 100 * MS);
    assert_eq!(t.next_timeout(&clocks, 2), Some(30 * MS));
    let id = t.allocate_id();
    t.insert(id, PosixTimer::new(TimerClock::Monotonic, signal(0)));
    t.get_mut(id).unwrap().set(val(20 * MS, 0), false, 100 * MS);
    assert_eq!(t.next_timeout(&clocks, 2), Some(20 * MS));
    // 12 ms of CPU time left (a tick added) on 2 CPUs: look again in 6 ms at the latest.
    t.prof.set(val(8 * MS, 0), 0);
    assert_eq!(t.next_timeout(&clocks, 2), Some(6 * MS));
    // But never more often than every tick.
    t.virt.set(val(1, 0), 0);
    assert_eq!(t.next_timeout(&clocks, 64), Some(TICK_NSEC));
    // A SIGEV_NONE timer is nothing to wait for.
    let mut quiet = Timers::new();
    quiet.insert(0, PosixTimer::new(TimerClock::Monotonic, Notify::None));
    quiet.get_mut(0).unwrap().set(val(MS, 0), false, 0);
    assert_eq!(quiet.next_timeout(&clocks, 2), None);
}
