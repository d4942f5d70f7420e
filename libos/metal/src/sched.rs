//! The scheduler: guest threads on one CPU, round robin, preempted by the APIC timer.
//!
//! Each guest thread is a [`Task`] with its own kernel stack. Kernel code runs with
//! interrupts off and is never preempted: a task leaves the CPU only when it blocks
//! (a futex, a sleep, a pipe, the console), yields, exits, or — in guest code — when
//! the timer fires and another task is ready (src/traps.rs). So a kernel lock is never
//! held across a switch by a task that could be preempted; and a lock held by a task
//! that blocks is waited for with `yield_now` (libOS locks spin, then yield).
//!
//! Waiting: a task blocks on a word address (the libOS's wait queues and futexes, via
//! `Platform::wait_on`) and/or until a deadline. `wake_word` wakes every task waiting
//! on a word; the timer wakes expired ones; `wake` (a signal) wakes a task whatever it
//! waits for — the waiter re-checks why it waited, as `wait_on`'s contract says.
//!
//! When nothing is ready the idle task polls the devices, runs the libOS's timers and
//! halts until the next interrupt.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::UnsafeCell;

use libos::Thread;

use crate::tcb::Tcb;
use crate::{apic, cpu};

/// The kernel stack of each task. Syscalls run here (the libOS's deepest paths — the
/// VFS with fatfs — stay well below it).
const KSTACK_SIZE: usize = 128 * 1024;
/// The time slice: a task in guest code is preempted after this long if another is
/// ready. Also the longest the idle task halts while it has devices to poll.
pub const TICK_NS: u64 = 10_000_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Running,
    Ready,
    Blocked,
    Dead,
}

/// A schedulable thread: a guest thread, or the idle task (no `thread`).
#[repr(C)]
pub struct Task {
    /// Must stay first: GS base points at it.
    pub tcb: Tcb,
    /// The guest thread's libOS record (None for the idle task).
    pub thread: Option<Box<Thread>>,
    /// RSP saved by `context_switch` while the task is off the CPU.
    saved_rsp: u64,
    state: State,
    /// The word address it waits on (0: none) and its deadline (u64::MAX: none).
    wait_word: u64,
    deadline: u64,
    /// The fault an exception handler recorded for the fault path (src/traps.rs).
    pub fault: Option<crate::traps::Fault>,
    /// Registers were replaced while serving the current syscall (`rt_sigreturn`): the
    /// way out must not store the syscall's result in RAX.
    pub replaced: bool,
    _kstack: Vec<u128>,
}

struct Sched {
    current: *mut Task,
    idle: *mut Task,
    ready: VecDeque<*mut Task>,
    /// (deadline ns, task address) of every task with a deadline.
    sleepers: BTreeMap<(u64, usize), ()>,
    /// Word address → tasks waiting on it.
    waiters: BTreeMap<u64, Vec<*mut Task>>,
    /// Guest tid → task.
    by_tid: BTreeMap<u32, *mut Task>,
    /// Tasks that ended, freed once the CPU has left their stacks.
    zombies: Vec<*mut Task>,
}

struct SchedCell(UnsafeCell<Option<Sched>>);
// SAFETY: one CPU, and every access happens with interrupts off (all kernel code runs
// so), never across a context switch (see `with`).
unsafe impl Sync for SchedCell {}
static SCHED: SchedCell = SchedCell(UnsafeCell::new(None));

/// Runs `f` on the scheduler state. `f` must not switch tasks or call back in.
fn with<R>(f: impl FnOnce(&mut Sched) -> R) -> R {
    // SAFETY: see SchedCell: single CPU, interrupts off, not re-entered (no function
    // here calls `with` from inside `f`).
    let s = unsafe { (*SCHED.0.get()).as_mut().expect("scheduler not started") };
    f(s)
}

extern "C" {
    fn context_switch(from: *mut u64, to: u64);
    fn task_trampoline();
}

impl Task {
    /// A new task that will run `entry(task)` on its kernel stack when first switched to.
    pub fn new(thread: Option<Box<Thread>>, entry: extern "C" fn(*mut Task) -> !) -> Box<Task> {
        let mut kstack = vec![0u128; KSTACK_SIZE / 16];
        let top = kstack.as_mut_ptr_range().end as u64;
        let mut task = Box::new(Task {
            tcb: Tcb::new(top),
            thread,
            saved_rsp: 0,
            state: State::Ready,
            wait_word: 0,
            deadline: u64::MAX,
            fault: None,
            replaced: false,
            _kstack: kstack,
        });
        task.tcb.self_ptr = &raw const task.tcb as u64;
        // The frame context_switch pops: r15, r14, r13, r12, rbx, rbp, then returns to
        // the trampoline, which calls r12(rbx). Two words of padding above put the
        // trampoline's RSP on a 16-byte boundary, as its `call` needs.
        let frame =
            [0, 0, 0, entry as *const () as u64, &raw mut *task as u64, 0, task_trampoline as *const () as u64, 0, 0];
        let sp = top - (frame.len() as u64) * 8;
        // SAFETY: the frame fits at the top of the new stack, which nothing else uses.
        unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), sp as *mut u64, frame.len()) };
        task.saved_rsp = sp;
        task
    }
}

/// Starts the scheduler with the calling code as the idle task (on the boot stack).
pub fn init() {
    let idle = Box::into_raw(Box::new(Task {
        tcb: Tcb::new(0),
        thread: None,
        saved_rsp: 0,
        state: State::Running,
        wait_word: 0,
        deadline: u64::MAX,
        fault: None,
        replaced: false,
        _kstack: Vec::new(),
    }));
    // SAFETY: the idle task is leaked: it lives for ever.
    unsafe { (*idle).tcb.self_ptr = &raw const (*idle).tcb as u64 };
    // SAFETY: set once, before any other access (see SchedCell).
    unsafe {
        *SCHED.0.get() = Some(Sched {
            current: idle,
            idle,
            ready: VecDeque::new(),
            sleepers: BTreeMap::new(),
            waiters: BTreeMap::new(),
            by_tid: BTreeMap::new(),
            zombies: Vec::new(),
        })
    };
    // SAFETY: the idle task's block is leaked.
    unsafe { set_gs_base((*idle).tcb.self_ptr) };
}

fn set_gs_base(v: u64) {
    // SAFETY: IA32_GS_BASE; GS is the kernel's (the guest has no use for it).
    unsafe { cpu::wrmsr(0xc000_0101, v) };
}

/// Loads the FS base (the guest's TLS pointer).
pub fn set_fs_base(v: u64) {
    // SAFETY: IA32_FS_BASE: any canonical value is accepted; the guest owns FS.
    unsafe { cpu::wrmsr(0xc000_0100, v) };
}

/// The running task.
pub fn current() -> *mut Task {
    with(|s| s.current)
}

/// Whether the idle task is the one running.
pub fn idle_running() -> bool {
    with(|s| s.current == s.idle)
}

/// Makes `task` (a new guest thread) ready to run.
pub fn add(task: Box<Task>) {
    let t = Box::into_raw(task);
    with(|s| {
        // SAFETY: a live task just created.
        if let Some(th) = unsafe { (*t).thread.as_ref() } {
            s.by_tid.insert(th.tid, t);
        }
        s.ready.push_back(t);
    });
}

/// The task of guest thread `tid`, if it is alive.
pub fn task_of(tid: u32) -> Option<*mut Task> {
    with(|s| s.by_tid.get(&tid).copied())
}

/// Whether any task other than the running one is ready.
pub fn others_ready() -> bool {
    with(|s| !s.ready.is_empty())
}

fn unregister(s: &mut Sched, t: *mut Task) {
    // SAFETY: `t` is a live task (callers hold it from the scheduler's own lists).
    let task = unsafe { &mut *t };
    if task.wait_word != 0 {
        if let Some(list) = s.waiters.get_mut(&task.wait_word) {
            list.retain(|&w| w != t);
            if list.is_empty() {
                s.waiters.remove(&task.wait_word);
            }
        }
        task.wait_word = 0;
    }
    if task.deadline != u64::MAX {
        s.sleepers.remove(&(task.deadline, t as usize));
        task.deadline = u64::MAX;
    }
}

fn make_ready(s: &mut Sched, t: *mut Task) {
    unregister(s, t);
    // SAFETY: a live task.
    let task = unsafe { &mut *t };
    if task.state == State::Blocked {
        task.state = State::Ready;
        s.ready.push_back(t);
    }
}

/// Wakes `task` from whatever it waits for (a signal for it arrived).
pub fn wake(task: *mut Task) {
    with(|s| make_ready(s, task));
}

/// Wakes every task waiting on `word`.
pub fn wake_word(word: u64) {
    with(|s| {
        if let Some(list) = s.waiters.remove(&word) {
            for t in list {
                // SAFETY: tasks in the wait lists are alive.
                unsafe { (*t).wait_word = 0 };
                make_ready(s, t);
            }
        }
    });
}

/// The earliest deadline of a blocked task.
pub fn next_deadline() -> Option<u64> {
    with(|s| s.sleepers.first_key_value().map(|(&(d, _), _)| d))
}

/// Wakes the tasks whose deadline has passed; returns the earliest deadline left.
pub fn expire(now: u64) -> Option<u64> {
    with(|s| {
        while let Some((&(deadline, addr), _)) = s.sleepers.first_key_value() {
            if deadline > now {
                return Some(deadline);
            }
            make_ready(s, addr as *mut Task);
        }
        None
    })
}

/// Blocks the running task until `wake_word(word)` (when given), `deadline` (monotonic
/// ns, when given), or `wake`. Returns at once if the word already moved is the
/// caller's business (it checks before calling, with interrupts off).
pub fn block(word: Option<u64>, deadline: Option<u64>) {
    with(|s| {
        let t = s.current;
        // SAFETY: the running task is alive.
        let task = unsafe { &mut *t };
        task.state = State::Blocked;
        if let Some(w) = word {
            task.wait_word = w;
            s.waiters.entry(w).or_default().push(t);
        }
        if let Some(d) = deadline {
            task.deadline = d;
            s.sleepers.insert((d, t as usize), ());
        }
    });
    schedule();
}

/// Lets the other ready tasks run first.
pub fn yield_now() {
    let any = with(|s| {
        if s.ready.is_empty() || s.current == s.idle {
            return false;
        }
        // SAFETY: the running task is alive.
        unsafe { (*s.current).state = State::Ready };
        s.ready.push_back(s.current);
        true
    });
    if any {
        schedule();
    }
}

/// Ends the running task: it is freed once another task runs.
pub fn exit_current() -> ! {
    with(|s| {
        let t = s.current;
        unregister(s, t);
        // SAFETY: the running task is alive until it is reaped.
        let task = unsafe { &mut *t };
        task.state = State::Dead;
        if let Some(th) = task.thread.as_ref() {
            s.by_tid.remove(&th.tid);
        }
        s.zombies.push(t);
    });
    schedule();
    unreachable!("a dead task was scheduled");
}

/// Switches to the next ready task, or to the idle task when none is. Returns when the
/// calling task runs again.
pub fn schedule() {
    let (from, to) = with(|s| {
        let cur = s.current;
        let next = match s.ready.pop_front() {
            Some(t) => t,
            None => s.idle,
        };
        if next == cur {
            // SAFETY: a live task.
            unsafe { (*cur).state = State::Running };
            return (cur, cur);
        }
        s.current = next;
        // SAFETY: a live task.
        unsafe { (*next).state = State::Running };
        (cur, next)
    });
    if from == to {
        return;
    }
    // SAFETY: both are live tasks; `to`'s saved RSP is a frame context_switch (or
    // Task::new) left; interrupts are off. The FS base is the guest's TLS of `to`.
    unsafe {
        set_gs_base((*to).tcb.self_ptr);
        if (*to).thread.is_some() {
            set_fs_base((*to).tcb.fs_base);
        }
        context_switch(&raw mut (*from).saved_rsp, (*to).saved_rsp);
    }
    reap();
}

/// Frees the tasks that ended (the CPU is on another stack now).
fn reap() {
    let dead = with(|s| {
        let cur = s.current;
        let (dead, keep): (Vec<_>, Vec<_>) = s.zombies.drain(..).partition(|&t| t != cur);
        s.zombies = keep;
        dead
    });
    for t in dead {
        // SAFETY: a dead task, off the CPU, in no list: this is the last reference.
        drop(unsafe { Box::from_raw(t) });
    }
}

/// Arms the timer for the earliest of `deadline` and one tick from now.
pub fn arm_timer(now: u64, deadline: Option<u64>) {
    let next = deadline.unwrap_or(u64::MAX).min(now + TICK_NS);
    apic::arm_in(next.saturating_sub(now).max(1));
}

/// Halts until the next interrupt, with interrupts on only while halted.
pub fn halt() {
    // SAFETY: `sti; hlt` enables interrupts only for the halt (an interrupt between
    // the two is held until hlt by sti's one-instruction shadow); `cli` right after.
    unsafe { core::arch::asm!("sti", "hlt", "cli", options(nomem, nostack)) };
}
