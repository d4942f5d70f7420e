//! Pollees, observers and the registrations of a wait.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::file::events::{POLLIN, POLLOUT};

#[derive(Default)]
struct Counter {
    calls: AtomicU32,
    last: AtomicU32,
}

impl Observer for Counter {
    fn on_events(&self, events: u16) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.last.store(u32::from(events), Ordering::SeqCst);
    }
}

fn weak(c: &Arc<Counter>) -> Weak<dyn Observer> {
    Arc::downgrade(&(c.clone() as Arc<dyn Observer>))
}

#[test]
fn observers_hear_the_events_of_their_mask() {
    let p = Pollee::new();
    let all = Arc::new(Counter::default());
    let only_in = Arc::new(Counter::default());
    p.register(weak(&all), 0);
    p.register(weak(&only_in), POLLIN);
    p.notify(POLLOUT);
    assert_eq!(all.calls.load(Ordering::SeqCst), 1);
    assert_eq!(all.last.load(Ordering::SeqCst), u32::from(POLLOUT));
    assert_eq!(only_in.calls.load(Ordering::SeqCst), 0);
    p.notify(POLLIN | POLLOUT);
    assert_eq!(only_in.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn unregistered_and_dropped_observers_hear_nothing() {
    let p = Pollee::new();
    let a = Arc::new(Counter::default());
    let id = p.register(weak(&a), 0);
    p.unregister(id);
    p.notify(POLLIN);
    assert_eq!(a.calls.load(Ordering::SeqCst), 0);
    assert!(!p.observed());
    {
        let gone = Arc::new(Counter::default());
        p.register(weak(&gone), 0);
        assert!(p.observed());
    }
    assert!(!p.observed(), "a dropped observer does not count");
    p.notify(POLLIN);
}

#[test]
fn a_waker_moves_its_queue() {
    let p = Pollee::new();
    let w = Waker::new();
    p.register(Arc::downgrade(&(w.clone() as Arc<dyn Observer>)), 0);
    let before = w.queue.seq();
    p.notify(POLLIN);
    assert_ne!(w.queue.seq(), before);
}

#[test]
fn registrations_are_undone_when_the_wait_ends() {
    static P: Pollee = Pollee::new();
    let w = Waker::new();
    let obs: Weak<dyn Observer> = Arc::downgrade(&(w.clone() as Arc<dyn Observer>));
    {
        let mut regs = Registrations::new();
        regs.add_static(&P, obs.clone());
        regs.add_static(&P, obs.clone());
        assert!(P.observed());
        let n = P.observers.lock().len();
        assert_eq!(n, 1, "one registration per pollee");
    }
    assert!(!P.observed());
    let seen: Vec<u64> = P.observers.lock().iter().map(|(id, _, _)| *id).collect();
    assert!(seen.is_empty());
}

#[test]
fn readiness_changed_reaches_anything() {
    let w = Waker::new();
    let id = ANYTHING.register(Arc::downgrade(&(w.clone() as Arc<dyn Observer>)), 0);
    let before = w.queue.seq();
    readiness_changed();
    assert_ne!(w.queue.seq(), before);
    ANYTHING.unregister(id);
}
