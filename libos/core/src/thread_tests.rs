use super::*;
use crate::clone::ThreadSpec;

const SPEC: ThreadSpec = ThreadSpec {
    stack: Some(0x9000),
    tls: Some(0x7000),
    parent_tid: None,
    child_settid: None,
    child_cleartid: Some(0x60),
};

#[test]
fn the_first_thread_has_the_pid() {
    let g = ThreadGroup::new(100, 1);
    let t = g.leader();
    assert_eq!(t.tid, 100);
    assert_eq!(g.tids(), [100]);
    assert_eq!((g.live(), g.started()), (1, 1));
}

#[test]
fn tids_count_up_and_skip_the_pid_the_parent_and_live_ones() {
    let g = ThreadGroup::new(100, 102);
    let a = g.add().unwrap();
    let b = g.add().unwrap();
    assert_eq!((a.tid, b.tid), (101, 103), "102 is the parent's pid");
    assert_eq!(g.tids(), [100, 101, 103]);
    assert_eq!((g.live(), g.started()), (3, 3));
}

#[test]
fn tids_wrap_below_pid_max() {
    let g = ThreadGroup::new(PID_MAX - 2, 1);
    assert_eq!(g.add().unwrap().tid, PID_MAX - 1);
    assert_eq!(g.add().unwrap().tid, RESERVED_PIDS);
}

#[test]
fn an_abandoned_tid_is_forgotten() {
    let g = ThreadGroup::new(100, 1);
    let a = g.add().unwrap();
    g.abandon(a.tid);
    assert!(g.get(a.tid).is_none());
    assert_eq!((g.live(), g.started()), (1, 1));
}

#[test]
fn the_process_ends_with_the_last_threads_status() {
    let g = ThreadGroup::new(100, 1);
    let a = g.add().unwrap();
    let b = g.add().unwrap();
    assert_eq!(g.exit(a.tid, 1), ThreadExit::Others);
    assert_eq!(g.exit(100, 7), ThreadExit::Others);
    assert_eq!(g.exit(b.tid, 3), ThreadExit::Last(3), "the last thread's status, as Linux 6 reports it");
}

#[test]
fn the_leader_exiting_last_gives_its_own_status() {
    let g = ThreadGroup::new(100, 1);
    let a = g.add().unwrap();
    assert_eq!(g.exit(a.tid, 1), ThreadExit::Others);
    assert_eq!(g.exit(100, 4), ThreadExit::Last(4));
}

#[test]
fn a_child_inherits_the_mask_and_starts_without_altstack_or_robust_list() {
    let g = ThreadGroup::new(100, 1);
    let mut parent = g.leader();
    parent.sigmask = 0b1010;
    parent.fs_base = 0x5000;
    parent.gs_base = 0x6000;
    parent.set_robust_list(0x40, 24);
    parent.altstack.ss_flags = 0;
    parent.clear_child_tid = 0x50;
    let child = parent.child(g.add().unwrap(), &SPEC);
    assert_eq!(child.tid, 101);
    assert_eq!(child.sigmask, 0b1010);
    assert_eq!(child.fs_base, 0x7000);
    assert_eq!(child.gs_base, 0x6000);
    assert_eq!(child.clear_child_tid, 0x60);
    assert_eq!(child.robust_list, (0, 0));
    assert_eq!(child.altstack.ss_flags, SS_DISABLE);
    let inherit_tls = ThreadSpec { tls: None, child_cleartid: None, ..SPEC };
    let child = parent.child(g.add().unwrap(), &inherit_tls);
    assert_eq!((child.fs_base, child.clear_child_tid), (0x5000, 0));
}

#[test]
fn shared_state_is_visible_to_other_threads() {
    let g = ThreadGroup::new(100, 1);
    let mut t = g.leader();
    t.set_robust_list(0x1234, 24);
    let seen = g.get(100).unwrap();
    assert_eq!(seen.robust_head(), 0x1234);
    assert_eq!(seen.platform_id(), None);
    seen.set_platform_id(77);
    assert_eq!(t.shared.platform_id(), Some(77));
}

#[test]
fn membarrier_registration_is_per_process() {
    let g = ThreadGroup::new(100, 1);
    assert!(!g.membarrier_private_registered());
    g.register_membarrier_private();
    assert!(g.membarrier_private_registered());
}
