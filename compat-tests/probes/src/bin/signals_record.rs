//! Signal state that is recorded, never delivered: rt_sigaction round trips and error
//! cases, what Rust's std installed at start-up, rt_sigprocmask, sigaltstack, kill with
//! signal 0.

use probes::*;

#[repr(C)]
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
struct KSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

#[repr(C)]
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
struct StackT {
    sp: usize,
    flags: i32,
    _pad: i32,
    size: usize,
}

const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;
const SA_SIGINFO: u64 = 0x4;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTART: u64 = 0x1000_0000;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_NODEFER: u64 = 0x4000_0000;

const SIGKILL: usize = 9;
const SIGUSR1: usize = 10;
const SIGSEGV: usize = 11;
const SIGUSR2: usize = 12;
const SIGPIPE: usize = 13;
const SIGTERM: usize = 15;
const SIGBUS: usize = 7;
const SIGSTOP: usize = 19;
const SIGRTMIN: usize = 34;

const SIG_BLOCK: usize = 0;
const SIG_UNBLOCK: usize = 1;
const SIG_SETMASK: usize = 2;

const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;

const fn bit(sig: usize) -> u64 {
    1 << (sig - 1)
}

fn names(mask: u64) -> String {
    let list: Vec<String> = (1..=64)
        .filter(|&s| mask & bit(s) != 0)
        .map(|s| match s {
            7 => "SIGBUS".into(),
            9 => "SIGKILL".into(),
            10 => "SIGUSR1".into(),
            12 => "SIGUSR2".into(),
            15 => "SIGTERM".into(),
            19 => "SIGSTOP".into(),
            n => format!("sig{n}"),
        })
        .collect();
    format!("[{}]", list.join(", "))
}

extern "C" fn handler(_sig: i32, _info: *mut u8, _ctx: *mut u8) {}
extern "C" fn restorer() {}

fn sigaction(sig: usize, act: Option<&KSigaction>, old: Option<&mut KSigaction>) -> isize {
    sigaction_raw(
        sig,
        act.map_or(0, |a| a as *const _ as usize),
        old.map_or(0, |o| o as *mut _ as usize),
        8,
    )
}

fn sigaction_raw(sig: usize, act: usize, old: usize, size: usize) -> isize {
    // SAFETY: `act` / `old` are NULL, valid `KSigaction`s, or deliberately bad pointers
    // (which the kernel rejects with EFAULT). No signal is ever delivered to the dummy
    // handler: the probe never raises one.
    unsafe { syscall!(nr::RT_SIGACTION, sig, act, old, size) }
}

fn get(sig: usize) -> KSigaction {
    let mut old = KSigaction::default();
    sigaction(sig, None, Some(&mut old));
    old
}

fn describe(a: &KSigaction) -> String {
    match a.handler {
        SIG_DFL => "SIG_DFL".into(),
        SIG_IGN => "SIG_IGN".into(),
        _ => format!(
            "handler, SA_SIGINFO {}, SA_ONSTACK {}",
            a.flags & SA_SIGINFO != 0,
            a.flags & SA_ONSTACK != 0
        ),
    }
}

fn sigaction_section() {
    println!("== what std installed at start-up");
    println!("SIGSEGV: {}", describe(&get(SIGSEGV)));
    println!("SIGBUS: {}", describe(&get(SIGBUS)));
    println!("SIGPIPE: {}", describe(&get(SIGPIPE)));
    println!("SIGUSR1: {}", describe(&get(SIGUSR1)));

    println!("== rt_sigaction round trip");
    let flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_RESTORER;
    let act = KSigaction {
        handler: handler as *const () as usize,
        flags,
        restorer: restorer as *const () as usize,
        mask: bit(SIGUSR2) | bit(SIGTERM),
    };
    let mut old = KSigaction {
        handler: 77,
        ..Default::default()
    };
    println!(
        "set SIGUSR1: {}",
        outcome(sigaction(SIGUSR1, Some(&act), Some(&mut old)))
    );
    println!("old action was SIG_DFL: {}", old.handler == SIG_DFL);
    let got = get(SIGUSR1);
    println!("handler round trip: {}", got.handler == act.handler);
    println!("restorer round trip: {}", got.restorer == act.restorer);
    println!("flags read back: {:#x}", got.flags);
    println!("mask read back: {}", names(got.mask));

    let act2 = KSigaction {
        flags: SA_SIGINFO | SA_RESTORER | SA_NODEFER | 0x400,
        mask: bit(SIGKILL) | bit(SIGSTOP) | bit(SIGUSR1),
        ..act
    };
    let mut old = KSigaction::default();
    sigaction(SIGUSR1, Some(&act2), Some(&mut old));
    println!("old action returned on replace: {}", old == got);
    let got2 = get(SIGUSR1);
    println!(
        "flags read back: {:#x} (unknown bit 0x400 cleared: {})",
        got2.flags,
        got2.flags & 0x400 == 0
    );
    println!(
        "SIGKILL/SIGSTOP stripped from sa_mask: {}",
        names(got2.mask)
    );

    let ign = KSigaction {
        handler: SIG_IGN,
        ..Default::default()
    };
    println!(
        "set SIGUSR2 SIG_IGN: {}",
        outcome(sigaction(SIGUSR2, Some(&ign), None))
    );
    println!("SIGUSR2 now: {}", describe(&get(SIGUSR2)));
    println!(
        "set SIGRTMIN: {}",
        outcome(sigaction(SIGRTMIN, Some(&act), None))
    );
    println!(
        "set signal 64: {}",
        outcome(sigaction(64, Some(&act), None))
    );
    println!(
        "signal 64 handler round trip: {}",
        get(64).handler == act.handler
    );

    let dfl = KSigaction::default();
    for s in [SIGUSR1, SIGUSR2, SIGRTMIN, 64] {
        sigaction(s, Some(&dfl), None);
    }
    println!("restored SIGUSR1: {}", describe(&get(SIGUSR1)));

    println!("== rt_sigaction errors");
    println!(
        "set SIGKILL: {}",
        outcome(sigaction(SIGKILL, Some(&act), None))
    );
    println!(
        "set SIGSTOP: {}",
        outcome(sigaction(SIGSTOP, Some(&act), None))
    );
    let mut o = KSigaction::default();
    println!(
        "get SIGKILL: {}, {}",
        outcome(sigaction(SIGKILL, None, Some(&mut o))),
        describe(&o)
    );
    println!("signal 0: {}", outcome(sigaction(0, Some(&act), None)));
    println!("signal 65: {}", outcome(sigaction(65, Some(&act), None)));
    println!(
        "sigsetsize 4: {}",
        outcome(sigaction_raw(SIGUSR1, &act as *const _ as usize, 0, 4))
    );
    println!(
        "sigsetsize 16: {}",
        outcome(sigaction_raw(SIGUSR1, &act as *const _ as usize, 0, 16))
    );
    println!(
        "bad act pointer: {}",
        outcome(sigaction_raw(SIGUSR1, unmapped_page(), 0, 8))
    );
    println!(
        "bad oldact pointer: {}",
        outcome(sigaction_raw(SIGUSR1, 0, unmapped_page(), 8))
    );
    println!(
        "SIGUSR1 untouched by the failures: {}",
        describe(&get(SIGUSR1))
    );
}

fn sigprocmask(how: usize, set: Option<u64>, size: usize) -> (isize, u64) {
    let mut old: u64 = 0xdead;
    let setv = set.unwrap_or(0);
    let setp = if set.is_some() {
        &setv as *const u64 as usize
    } else {
        0
    };
    // SAFETY: `set` is NULL or a valid 8-byte mask; `old` is a valid 8-byte mask.
    let r = unsafe { syscall!(nr::RT_SIGPROCMASK, how, setp, &mut old as *mut u64, size) };
    (r, old)
}

fn current_mask() -> u64 {
    sigprocmask(SIG_BLOCK, None, 8).1
}

fn sigprocmask_section() {
    println!("== rt_sigprocmask");
    let (r, initial) = sigprocmask(SIG_BLOCK, None, 8);
    println!("get: {}, initial mask: {}", outcome(r), names(initial));
    let (r, old) = sigprocmask(SIG_BLOCK, Some(bit(SIGUSR1) | bit(SIGUSR2)), 8);
    println!(
        "block USR1|USR2: {}, old: {}, now: {}",
        outcome(r),
        names(old),
        names(current_mask())
    );
    let (r, _) = sigprocmask(SIG_UNBLOCK, Some(bit(SIGUSR1)), 8);
    println!(
        "unblock USR1: {}, now: {}",
        outcome(r),
        names(current_mask())
    );
    let (r, _) = sigprocmask(
        SIG_SETMASK,
        Some(bit(SIGKILL) | bit(SIGSTOP) | bit(SIGTERM)),
        8,
    );
    println!(
        "setmask KILL|STOP|TERM: {}, now (KILL/STOP dropped): {}",
        outcome(r),
        names(current_mask())
    );
    let (r, _) = sigprocmask(3, Some(bit(SIGUSR1)), 8);
    println!("invalid how 3: {}", outcome(r));
    let (r, _) = sigprocmask(SIG_BLOCK, Some(bit(SIGUSR1)), 4);
    println!("sigsetsize 4: {}", outcome(r));
    let (r, _) = sigprocmask(3, None, 8);
    println!("invalid how with NULL set: {}", outcome(r));
    // SAFETY: deliberately bad pointers: the kernel returns EFAULT.
    let r = unsafe {
        syscall!(
            nr::RT_SIGPROCMASK,
            SIG_BLOCK,
            unmapped_page(),
            0usize,
            8usize
        )
    };
    println!("bad set pointer: {}", outcome(r));
    // SAFETY: as above.
    let r = unsafe {
        syscall!(
            nr::RT_SIGPROCMASK,
            SIG_BLOCK,
            0usize,
            unmapped_page(),
            8usize
        )
    };
    println!("bad oldset pointer: {}", outcome(r));
    let (r, _) = sigprocmask(SIG_SETMASK, Some(initial), 8);
    println!("restore: {}, now: {}", outcome(r), names(current_mask()));
}

fn sigaltstack(new: Option<&StackT>) -> (isize, StackT) {
    let mut old = StackT::default();
    let newp = new.map_or(0, |n| n as *const StackT as usize);
    // SAFETY: `new` is NULL or a valid stack_t describing `STACK` (or a deliberately
    // invalid one the kernel rejects); `old` is a valid stack_t. No signal is delivered
    // while the probe runs, so the stack memory is never used by the kernel.
    let r = unsafe { syscall!(nr::SIGALTSTACK, newp, &mut old as *mut StackT) };
    (r, old)
}

static mut STACK: [u8; 65536] = [0; 65536];

fn sigaltstack_section() {
    println!("== sigaltstack");
    let (r, initial) = sigaltstack(None);
    println!(
        "get: {}, std's stack enabled: {}, size >= 2048: {}",
        outcome(r),
        initial.flags == 0,
        initial.size >= 2048
    );
    let sp = std::ptr::addr_of_mut!(STACK) as usize;
    let ours = StackT {
        sp,
        flags: 0,
        _pad: 0,
        size: 65536,
    };
    let (r, old) = sigaltstack(Some(&ours));
    println!(
        "set 64 KiB: {}, old returned: {}",
        outcome(r),
        old == initial
    );
    let (_, now) = sigaltstack(None);
    println!(
        "round trip: sp {}, size {}, flags {}",
        now.sp == sp,
        now.size == 65536,
        now.flags
    );
    let (r, _) = sigaltstack(Some(&StackT {
        flags: SS_DISABLE,
        ..ours
    }));
    let (_, now) = sigaltstack(None);
    println!(
        "SS_DISABLE: {}, flags now {}, size now {}",
        outcome(r),
        now.flags,
        now.size
    );
    let (r, _) = sigaltstack(Some(&StackT { size: 1024, ..ours }));
    println!("size 1024: {}", outcome(r));
    let (r, _) = sigaltstack(Some(&StackT {
        flags: 0x10,
        ..ours
    }));
    println!("invalid flags 0x10: {}", outcome(r));
    let (r, _) = sigaltstack(Some(&StackT {
        flags: SS_ONSTACK,
        ..ours
    }));
    println!("legacy SS_ONSTACK flag accepted: {}", outcome(r));
    let (r, _) = sigaltstack(Some(&StackT {
        flags: SS_AUTODISARM,
        ..ours
    }));
    let (_, now) = sigaltstack(None);
    println!(
        "SS_AUTODISARM: {}, read back: {}",
        outcome(r),
        now.flags == SS_AUTODISARM
    );
    // SAFETY: deliberately bad pointer: the kernel returns EFAULT.
    let r = unsafe { syscall!(nr::SIGALTSTACK, unmapped_page(), 0usize) };
    println!("bad pointer: {}", outcome(r));
    let (r, _) = sigaltstack(Some(&initial));
    let (_, now) = sigaltstack(None);
    println!(
        "restore std's stack: {}, restored: {}",
        outcome(r),
        now == initial
    );
}

fn kill_section() {
    println!("== kill / tgkill with signal 0");
    // SAFETY: these take no pointers; signal 0 only checks, it delivers nothing.
    unsafe {
        let pid = syscall!(nr::GETPID);
        let tid = syscall!(nr::GETTID);
        println!("kill(self, 0): {}", outcome(syscall!(62, pid, 0usize)));
        println!(
            "tgkill(self, self, 0): {}",
            outcome(syscall!(234, pid, tid, 0usize))
        );
        println!("kill(self, 65): {}", outcome(syscall!(62, pid, 65usize)));
    }
}

fn main() {
    sigaction_section();
    sigprocmask_section();
    sigaltstack_section();
    kill_section();
}
