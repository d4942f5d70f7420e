//! The thread syscalls directly: clone and clone3 with a hand-made thread (registers
//! inherited, RAX = 0 in the child, CLONE_PARENT_SETTID / CHILD_SETTID /
//! CHILD_CLEARTID), clone3's argument checks, gettid, set_tid_address, robust lists
//! (and a glibc robust mutex whose owner dies), sched_yield, affinity, scheduler
//! queries, getcpu, membarrier.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::thread;

use probes::*;

const SYS_CLONE: usize = 56;
const SYS_CLONE3: usize = 435;
const SYS_SCHED_YIELD: usize = 24;
const SYS_SCHED_SETAFFINITY: usize = 203;
const SYS_SCHED_GETPARAM: usize = 143;
const SYS_SCHED_GETSCHEDULER: usize = 145;
const SYS_SET_TID_ADDRESS: usize = 218;
const SYS_SET_ROBUST_LIST: usize = 273;
const SYS_GET_ROBUST_LIST: usize = 274;
const SYS_GETCPU: usize = 309;
const SYS_MEMBARRIER: usize = 324;
const SYS_FUTEX: usize = 202;

const CLONE_VM: usize = 0x100;
const CLONE_FS: usize = 0x200;
const CLONE_FILES: usize = 0x400;
const CLONE_SIGHAND: usize = 0x800;
const CLONE_THREAD: usize = 0x10000;
const CLONE_SYSVSEM: usize = 0x40000;
const CLONE_PARENT_SETTID: usize = 0x10_0000;
const CLONE_CHILD_CLEARTID: usize = 0x20_0000;
const CLONE_CHILD_SETTID: usize = 0x100_0000;
const THREAD_FLAGS: usize = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;

/// What the hand-made child records.
#[repr(C)]
struct Marker {
    /// The value the parent left in R13 (callee-saved: must survive into the child).
    r13: u64,
    /// The child's gettid.
    tid: u64,
    /// The value the parent left in RDX, an argument register Linux preserves too.
    rdx_seen: u64,
}

/// Starts a thread with the raw syscall `nr` (clone or clone3) whose code, right after
/// the syscall, records registers in `marker` and exits. Returns the parent's result.
///
/// # Safety
/// `a0..a4` must make a valid thread-creating clone/clone3 call whose child stack is
/// private memory that stays mapped until the child has exited.
unsafe fn raw_thread(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, marker: &Marker) -> isize {
    let ret: isize;
    // SAFETY: the child runs only the instructions below on its own stack, touching
    // only `marker` (through r12) before exit(0); the parent continues normally.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov [r12], r13",
            "mov [r12 + 16], rdx",
            "mov eax, 186",
            "syscall",
            "mov [r12 + 8], rax",
            "mov eax, 60",
            "xor edi, edi",
            "syscall",
            "ud2",
            "2:",
            inlateout("rax") nr as isize => ret,
            in("rdi") a0,
            in("rsi") a1,
            inlateout("rdx") a2 => _,
            in("r10") a3,
            in("r8") a4,
            in("r12") marker as *const Marker,
            in("r13") 0x1234_5678_9abc_u64,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    ret
}

/// Waits until the kernel clears `ctid` (CLONE_CHILD_CLEARTID) — how pthread_join waits.
fn join_ctid(ctid: &AtomicU32) {
    loop {
        let v = ctid.load(Ordering::SeqCst);
        if v == 0 {
            return;
        }
        // SAFETY: waits on a live, aligned u32 (shared, as the kernel's wake is).
        unsafe { syscall!(SYS_FUTEX, ctid.as_ptr(), 0usize, v as usize, 0usize) };
    }
}

fn stack() -> (usize, usize) {
    // SAFETY: a fresh private anonymous mapping for the child's stack.
    let p =
        unsafe { syscall!(nr::MMAP, 0, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1isize, 0) };
    (check(p).expect("stack mapping"), 64 * PAGE)
}

fn raw_clone() {
    let marker = Marker { r13: 0, tid: 0, rdx_seen: 0 };
    let ptid = AtomicU32::new(0);
    let ctid = AtomicU32::new(0xffff);
    let (lo, len) = stack();
    let flags = THREAD_FLAGS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID;
    // SAFETY: a thread clone on its own stack; `marker` and `ctid` outlive the child
    // (joined below through CLONE_CHILD_CLEARTID).
    let tid =
        unsafe { raw_thread(SYS_CLONE, flags, lo + len, ptid.as_ptr() as usize, ctid.as_ptr() as usize, 0, &marker) };
    join_ctid(&ctid);
    let m = &marker;
    println!("clone: returned a tid: {}", tid > 0);
    println!("clone: CLONE_PARENT_SETTID wrote it: {}", ptid.load(Ordering::SeqCst) as isize == tid);
    println!("clone: child's gettid is it: {}", m.tid as isize == tid);
    println!("clone: child kept callee-saved R13: {}", m.r13 == 0x1234_5678_9abc);
    println!("clone: child kept RDX (the parent_tid argument): {}", m.rdx_seen == ptid.as_ptr() as u64);
    println!("clone: CLONE_CHILD_CLEARTID zeroed the word at exit: {}", ctid.load(Ordering::SeqCst) == 0);
    // SAFETY: the child has exited (its tid word was cleared).
    unsafe { syscall!(nr::MUNMAP, lo, len) };

    // clone3 with the same meaning; the stack is given as (lowest address, size).
    let marker = Marker { r13: 0, tid: 0, rdx_seen: 0 };
    let ptid = AtomicU32::new(0);
    let ctid = AtomicU32::new(0xffff);
    let (lo, len) = stack();
    let args: [u64; 11] = [
        (THREAD_FLAGS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID) as u64,
        0,
        ctid.as_ptr() as u64,
        ptid.as_ptr() as u64,
        0,
        lo as u64,
        len as u64,
        0,
        0,
        0,
        0,
    ];
    // SAFETY: as above, through clone3 (RDX is 0 here: clone3 has two arguments).
    let tid = unsafe { raw_thread(SYS_CLONE3, args.as_ptr() as usize, 88, 0, 0, 0, &marker) };
    join_ctid(&ctid);
    println!("clone3: returned a tid: {}", tid > 0);
    println!(
        "clone3: parent tid written, child's gettid matches: {} {}",
        ptid.load(Ordering::SeqCst) as isize == tid,
        marker.tid as isize == tid
    );
    println!("clone3: child kept R13: {}", marker.r13 == 0x1234_5678_9abc);
    // SAFETY: the child has exited.
    unsafe { syscall!(nr::MUNMAP, lo, len) };
}

fn clone3_errors() {
    let c3 = |args: &[u64], size: usize| {
        // SAFETY: clone3 with arguments it must reject before creating anything.
        outcome_val(unsafe { syscall!(SYS_CLONE3, args.as_ptr(), size) })
    };
    let mut args = [0u64; 12];
    args[0] = THREAD_FLAGS as u64;
    println!("clone3 size 0: {}", c3(&args, 0));
    println!("clone3 size 63: {}", c3(&args, 63));
    println!("clone3 size > page: {}", c3(&args, 4097));
    args[11] = 1;
    println!("clone3 unknown trailing field nonzero: {}", c3(&args, 96));
    args[11] = 0;
    args[6] = 4096; // stack_size without a stack
    println!("clone3 stack_size without stack: {}", c3(&args, 88));
    args[6] = 0;
    args[4] = 17; // a thread with an exit signal
    println!("clone3 thread with exit_signal: {}", c3(&args, 88));
    args[4] = 0;
    args[0] = (CLONE_VM | CLONE_THREAD) as u64;
    println!("clone3 CLONE_THREAD without CLONE_SIGHAND: {}", c3(&args, 88));
    args[0] = (THREAD_FLAGS | 0x40_0000) as u64;
    println!("clone3 CLONE_DETACHED: {}", c3(&args, 88));
    args[0] = (THREAD_FLAGS as u64) | (1 << 40);
    println!("clone3 unknown flag bit: {}", c3(&args, 88));
    // SAFETY: clone3 with an unmapped argument block: EFAULT before anything else.
    println!("clone3 args unmapped: {}", outcome_val(unsafe { syscall!(SYS_CLONE3, unmapped_page(), 88usize) }));
    // SAFETY: legacy clone with inconsistent flags: EINVAL before anything else.
    let r = unsafe { syscall!(SYS_CLONE, CLONE_VM | CLONE_THREAD, 0usize, 0usize, 0usize, 0usize) };
    println!("clone CLONE_THREAD without CLONE_SIGHAND: {}", outcome_val(r));
}

fn tids_and_robust_lists() {
    // SAFETY: gettid/getpid take no arguments.
    let (tid, pid) = unsafe { (syscall!(nr::GETTID), syscall!(nr::GETPID)) };
    println!("main: gettid == getpid: {}", tid == pid);
    let word = AtomicU32::new(0);
    // SAFETY: set_tid_address records the pointer and returns the tid.
    let r = unsafe { syscall!(SYS_SET_TID_ADDRESS, word.as_ptr()) };
    println!("set_tid_address returns the tid: {}", r == tid);
    let (mut head, mut len) = (0u64, 0u64);
    // SAFETY: get_robust_list writes one pointer and one length.
    let r = unsafe { syscall!(SYS_GET_ROBUST_LIST, 0usize, &mut head as *mut u64, &mut len as *mut u64) };
    println!("get_robust_list(0): {}, glibc registered a head: {}, len {len}", outcome_val(r), head != 0);
    let old_head = head;
    // SAFETY: as above, for the thread by tid.
    let r = unsafe { syscall!(SYS_GET_ROBUST_LIST, tid, &mut head as *mut u64, &mut len as *mut u64) };
    println!("get_robust_list(own tid) same head: {} {}", outcome_val(r), head == old_head);
    // SAFETY: as above; the tid does not exist.
    let r = unsafe { syscall!(SYS_GET_ROBUST_LIST, 0x3fff_fff0usize, &mut head as *mut u64, &mut len as *mut u64) };
    println!("get_robust_list(no such tid): {}", outcome_val(r));
    // SAFETY: a bad length is refused before anything is recorded.
    let r = unsafe { syscall!(SYS_SET_ROBUST_LIST, old_head, 23usize) };
    println!("set_robust_list len 23: {}", outcome_val(r));
    // SAFETY: re-registers glibc's own head.
    let r = unsafe { syscall!(SYS_SET_ROBUST_LIST, old_head, 24usize) };
    println!("set_robust_list again: {}", outcome_val(r));
    // Another thread's list, by its tid: that thread's own head.
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let h = thread::spawn(move || {
        let (mut head, mut len) = (0u64, 0u64);
        // SAFETY: as above.
        unsafe { syscall!(SYS_GET_ROBUST_LIST, 0usize, &mut head as *mut u64, &mut len as *mut u64) };
        // SAFETY: gettid takes no arguments.
        tx.send((unsafe { syscall!(nr::GETTID) }, head)).unwrap();
        done_rx.recv().unwrap();
    });
    let (other_tid, other_head) = rx.recv().unwrap();
    // SAFETY: as above.
    let r = unsafe { syscall!(SYS_GET_ROBUST_LIST, other_tid, &mut head as *mut u64, &mut len as *mut u64) };
    println!(
        "get_robust_list(other thread): {}, its own head: {}",
        outcome_val(r),
        head == other_head && head != old_head
    );
    done_tx.send(()).unwrap();
    h.join().unwrap();
}

extern "C" {
    fn pthread_mutexattr_init(attr: *mut u32) -> i32;
    fn pthread_mutexattr_setrobust(attr: *mut u32, robust: i32) -> i32;
    fn pthread_mutex_init(m: *mut u64, attr: *const u32) -> i32;
    fn pthread_mutex_lock(m: *mut u64) -> i32;
    fn pthread_mutex_unlock(m: *mut u64) -> i32;
    fn pthread_mutex_consistent(m: *mut u64) -> i32;
}

/// A glibc robust mutex locked by a thread that exits: the next locker gets
/// EOWNERDEAD (through the kernel's — here the libOS's — robust-list walk at exit).
fn robust_mutex() {
    struct M(std::cell::UnsafeCell<[u64; 5]>);
    // SAFETY: only used through the pthread functions, which synchronise.
    unsafe impl Sync for M {}
    static MUTEX: M = M(std::cell::UnsafeCell::new([0; 5]));
    let m = MUTEX.0.get().cast::<u64>();
    let mut attr = 0u32;
    // SAFETY: a pthread_mutexattr_t is 4 bytes and a pthread_mutex_t 40 on x86-64.
    unsafe {
        pthread_mutexattr_init(&mut attr);
        pthread_mutexattr_setrobust(&mut attr, 1);
        pthread_mutex_init(m, &attr);
    }
    let mp = m as usize;
    // SAFETY: locks the mutex and exits still holding it.
    let r = thread::spawn(move || unsafe { pthread_mutex_lock(mp as *mut u64) }).join().unwrap();
    println!("robust mutex: locked by a thread that then exited: {r}");
    // SAFETY: the owner is gone; glibc reports EOWNERDEAD (130).
    let r = unsafe { pthread_mutex_lock(m) };
    println!("robust mutex: next lock: {}", if r == 130 { "EOWNERDEAD".to_string() } else { r.to_string() });
    // SAFETY: make it consistent and release it.
    let (c, u) = unsafe { (pthread_mutex_consistent(m), pthread_mutex_unlock(m)) };
    println!("robust mutex: consistent {c}, unlock {u}");
}

fn sched() {
    // SAFETY: sched_yield takes no arguments.
    println!("sched_yield: {}", outcome_val(unsafe { syscall!(SYS_SCHED_YIELD) }));
    let mut mask = [0u64; 16];
    let get = |pid: usize, len: usize, mask: &mut [u64; 16]| {
        // SAFETY: the kernel writes at most `len` (<= 128) bytes into `mask`.
        unsafe { syscall!(nr::SCHED_GETAFFINITY, pid, len, mask.as_mut_ptr()) }
    };
    let r = get(0, 128, &mut mask);
    let cpus: u32 = mask.iter().map(|w| w.count_ones()).sum();
    println!(
        "sched_getaffinity: returns the kernel's mask size {} bytes, {} CPU(s) >= 1: {}",
        outcome_val(r),
        cpus,
        cpus >= 1
    );
    println!("sched_getaffinity len 4: {}", outcome_val(get(0, 4, &mut mask)));
    println!("sched_getaffinity len 12: {}", outcome_val(get(0, 12, &mut mask)));
    println!("sched_getaffinity unknown pid: {}", outcome_val(get(0x3fff_fff0, 128, &mut mask)));
    let first = mask[0] & mask[0].wrapping_neg();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = thread::spawn(move || {
        let one = [first, 0u64];
        // SAFETY: the kernel reads 16 bytes of `one`.
        let r = unsafe { syscall!(SYS_SCHED_SETAFFINITY, 0usize, 16usize, one.as_ptr()) };
        let mut now = [0u64; 16];
        // SAFETY: as above.
        unsafe { syscall!(nr::SCHED_GETAFFINITY, 0usize, 128usize, now.as_mut_ptr()) };
        let (mut cpu, mut node) = (u32::MAX, u32::MAX);
        // SAFETY: getcpu writes two u32s.
        let g = unsafe { syscall!(SYS_GETCPU, &mut cpu as *mut u32, &mut node as *mut u32, 0usize) };
        // SAFETY: gettid takes no arguments.
        tx.send(unsafe { syscall!(nr::GETTID) }).unwrap();
        (outcome_val(r), now[0] == first, outcome_val(g), u64::from(cpu) < 64 && (1u64 << cpu) == first)
    });
    let other = rx.recv().unwrap();
    let res = h.join().unwrap();
    println!("sched_setaffinity to one CPU in a thread: {}, its mask is that CPU: {}", res.0, res.1);
    println!("getcpu there: {}, runs on that CPU: {}", res.2, res.3);
    let _ = other;
    let zero = [0u64; 1];
    // SAFETY: the kernel reads 8 bytes.
    let r = unsafe { syscall!(SYS_SCHED_SETAFFINITY, 0usize, 8usize, zero.as_ptr()) };
    println!("sched_setaffinity empty mask: {}", outcome_val(r));
    // SAFETY: the mask pointer is unmapped: EFAULT.
    let r = unsafe { syscall!(SYS_SCHED_SETAFFINITY, 0usize, 8usize, unmapped_page()) };
    println!("sched_setaffinity unmapped mask: {}", outcome_val(r));

    // SAFETY: sched_getscheduler takes a pid.
    let sg = |pid: isize| outcome_val(unsafe { syscall!(SYS_SCHED_GETSCHEDULER, pid) });
    println!("sched_getscheduler(0): {} (SCHED_OTHER is 0)", sg(0));
    println!("sched_getscheduler(-1): {}", sg(-1));
    println!("sched_getscheduler(no such tid): {}", sg(0x3fff_fff0));
    let mut prio = -1i32;
    // SAFETY: sched_getparam writes one int.
    let r = unsafe { syscall!(SYS_SCHED_GETPARAM, 0usize, &mut prio as *mut i32) };
    println!("sched_getparam(0): {}, priority {prio}", outcome_val(r));
    // SAFETY: NULL param: EINVAL.
    println!("sched_getparam NULL: {}", outcome_val(unsafe { syscall!(SYS_SCHED_GETPARAM, 0usize, 0usize) }));

    let (mut cpu, mut node) = (u32::MAX, u32::MAX);
    // SAFETY: getcpu writes two u32s.
    let r = unsafe { syscall!(SYS_GETCPU, &mut cpu as *mut u32, &mut node as *mut u32, 0usize) };
    println!("getcpu: {}, cpu in the affinity mask: {}, node 0: {}", outcome_val(r), mask_has(cpu), node == 0);
    // SAFETY: NULL pointers are skipped.
    println!("getcpu(NULL, NULL): {}", outcome_val(unsafe { syscall!(SYS_GETCPU, 0usize, 0usize, 0usize) }));
    // SAFETY: an unmapped pointer: EFAULT.
    println!("getcpu(unmapped): {}", outcome_val(unsafe { syscall!(SYS_GETCPU, unmapped_page(), 0usize, 0usize) }));
}

fn mask_has(cpu: u32) -> bool {
    let mut mask = [0u64; 16];
    // SAFETY: the kernel writes at most 128 bytes.
    unsafe { syscall!(nr::SCHED_GETAFFINITY, 0usize, 128usize, mask.as_mut_ptr()) };
    cpu < 1024 && mask[(cpu / 64) as usize] & (1 << (cpu % 64)) != 0
}

fn membarrier() {
    // SAFETY: membarrier takes no pointers.
    let mb = |cmd: usize, flags: usize| unsafe { syscall!(SYS_MEMBARRIER, cmd, flags, 0usize) };
    let q = mb(0, 0);
    let has = |bit: isize| q >= 0 && q & bit != 0;
    println!(
        "membarrier QUERY: GLOBAL {}, PRIVATE_EXPEDITED {}, REGISTER_PRIVATE_EXPEDITED {}",
        has(1),
        has(8),
        has(16)
    );
    println!("membarrier QUERY with flags: {}", outcome_val(mb(0, 1)));
    println!("membarrier PRIVATE_EXPEDITED unregistered: {}", outcome_val(mb(8, 0)));
    println!("membarrier REGISTER_PRIVATE_EXPEDITED: {}", outcome_val(mb(16, 0)));
    let counter = std::sync::Arc::new(AtomicU64::new(0));
    let c2 = counter.clone();
    let stop = std::sync::Arc::new(AtomicU32::new(0));
    let s2 = stop.clone();
    let h = thread::spawn(move || {
        while s2.load(Ordering::Relaxed) == 0 {
            c2.fetch_add(1, Ordering::Relaxed);
        }
    });
    println!("membarrier PRIVATE_EXPEDITED registered, with a busy thread: {}", outcome_val(mb(8, 0)));
    stop.store(1, Ordering::Relaxed);
    h.join().unwrap();
    println!("membarrier GLOBAL: {}", outcome_val(mb(1, 0)));
    println!("membarrier unknown command 1<<20: {}", outcome_val(mb(1 << 20, 0)));
}

fn main() {
    raw_clone();
    clone3_errors();
    tids_and_robust_lists();
    robust_mutex();
    sched();
    membarrier();
}
