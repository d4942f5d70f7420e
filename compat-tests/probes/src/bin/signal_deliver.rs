//! Signal delivery to handlers on one thread: SA_SIGINFO contents for raise / kill / tgkill /
//! sigqueue / rt_sigqueueinfo, the mask inside a handler (sa_mask, the signal itself,
//! SA_NODEFER, SA_RESETHAND) and uc_sigmask, pending signals and the order they are
//! delivered in on unblock (standard signals once, real-time ones queued with their
//! values), SIG_IGN discarding, SA_ONSTACK on a sigaltstack (SS_ONSTACK, EPERM,
//! SS_AUTODISARM), nested handlers, and the ucontext: registers of the interrupted code
//! readable and writable through uc_mcontext.
//!
//! Handlers only record into atomics; everything is printed from main afterwards.

use std::arch::asm;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};

use probes::sig::*;
use probes::Errno;

/// What one handler invocation saw.
struct Rec {
    sig: AtomicI32,
    info: [AtomicU64; 4],
    /// The thread's mask inside the handler.
    mask: AtomicU64,
    /// uc_sigmask (the mask to be restored).
    uc_mask: AtomicU64,
    /// sigaltstack's ss_flags inside the handler.
    ss_flags: AtomicI32,
    /// The address of a local of the handler (compared, never printed).
    local: AtomicUsize,
    pid_ok: AtomicBool,
    uid_ok: AtomicBool,
    /// What was pending inside the handler (after its action).
    pending: AtomicU64,
}

impl Rec {
    const fn new() -> Rec {
        Rec {
            sig: AtomicI32::new(0),
            info: [const { AtomicU64::new(0) }; 4],
            mask: AtomicU64::new(0),
            uc_mask: AtomicU64::new(0),
            ss_flags: AtomicI32::new(0),
            local: AtomicUsize::new(0),
            pid_ok: AtomicBool::new(false),
            uid_ok: AtomicBool::new(false),
            pending: AtomicU64::new(0),
        }
    }
    fn info(&self) -> Info {
        let w: Vec<u64> = self.info.iter().map(|a| a.load(SeqCst)).collect();
        Info {
            signo: w[0] as u32 as i32,
            errno: (w[0] >> 32) as u32 as i32,
            code: w[1] as u32 as i32,
            pid: w[2] as u32 as i32,
            uid: (w[2] >> 32) as u32,
            value: w[3],
            addr: w[2],
        }
    }
}

const N: usize = 32;
static LOG: [Rec; N] = [const { Rec::new() }; N];
static COUNT: AtomicUsize = AtomicUsize::new(0);
static EXITS: [AtomicI32; N] = [const { AtomicI32::new(0) }; N];
static EXIT_COUNT: AtomicUsize = AtomicUsize::new(0);
static DEPTH: AtomicU32 = AtomicU32::new(0);
static MAX_DEPTH: AtomicU32 = AtomicU32::new(0);
static ALT_LO: AtomicUsize = AtomicUsize::new(0);
static ALT_HI: AtomicUsize = AtomicUsize::new(0);

/// What the handler does after recording.
static ACTION: AtomicU32 = AtomicU32::new(0);
const NOTHING: u32 = 0;
/// The first invocation raises SIGUSR2.
const RAISE_USR2: u32 = 1;
/// The first invocation raises its own signal again.
const RAISE_SELF: u32 = 2;
/// Try to change / disable the alternate stack (EPERM while on it).
const CHANGE_ALTSTACK: u32 = 3;
/// Read and modify the interrupted registers.
const UCONTEXT: u32 = 4;

static ALTSTACK_CHANGE: AtomicI32 = AtomicI32::new(0);
static ALTSTACK_DISABLE: AtomicI32 = AtomicI32::new(0);

static UC_RIP: AtomicU64 = AtomicU64::new(0);
static UC_RSP: AtomicU64 = AtomicU64::new(0);
static UC_RAX: AtomicU64 = AtomicU64::new(0);
static UC_RDI: AtomicU64 = AtomicU64::new(0);
static UC_RSI: AtomicU64 = AtomicU64::new(0);
static UC_RDX: AtomicU64 = AtomicU64::new(0);
static UC_R13: AtomicU64 = AtomicU64::new(0);
static UC_FPREGS: AtomicBool = AtomicBool::new(false);
static UC_MXCSR: AtomicU32 = AtomicU32::new(0);
static UC_XMM7: AtomicU64 = AtomicU64::new(0);

const R12_BEFORE: u64 = 0x1212_1212_1212_1212;
const R12_SET_BY_HANDLER: u64 = 0x2121_2121_2121_2121;
const R13_MAGIC: u64 = 0x1313_1313_0000_1313;
const XMM6_BEFORE: u64 = 0x6666_6666_6666_6666;
const XMM6_SET_BY_HANDLER: u64 = 0x0606_0606_0606_0606;
const XMM7_BEFORE: u64 = 0x7777_7777_0000_7777;

fn reset() {
    COUNT.store(0, SeqCst);
    EXIT_COUNT.store(0, SeqCst);
    DEPTH.store(0, SeqCst);
    MAX_DEPTH.store(0, SeqCst);
    ACTION.store(NOTHING, SeqCst);
}

extern "C" fn record(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let depth = DEPTH.fetch_add(1, SeqCst) + 1;
    MAX_DEPTH.fetch_max(depth, SeqCst);
    let i = COUNT.fetch_add(1, SeqCst);
    let local = 0u8;
    let local_addr = std::hint::black_box(&local) as *const u8 as usize;
    if i < N {
        let r = &LOG[i];
        r.sig.store(sig, SeqCst);
        // SAFETY: the kernel passes a valid siginfo and ucontext to an SA_SIGINFO handler.
        let (inf, uc_mask) = unsafe {
            (
                Info::read(info),
                (&(*(ctx as *const libc::ucontext_t)).uc_sigmask as *const libc::sigset_t as *const u64).read(),
            )
        };
        r.info[0].store(inf.signo as u32 as u64 | ((inf.errno as u32 as u64) << 32), SeqCst);
        r.info[1].store(inf.code as u32 as u64, SeqCst);
        r.info[2].store(inf.addr, SeqCst);
        r.info[3].store(inf.value, SeqCst);
        r.pid_ok.store(inf.pid == getpid(), SeqCst);
        r.uid_ok.store(inf.uid == getuid(), SeqCst);
        r.mask.store(current_mask(), SeqCst);
        r.uc_mask.store(uc_mask, SeqCst);
        r.ss_flags.store(sigaltstack(None).1.flags, SeqCst);
        r.local.store(local_addr, SeqCst);
    }
    match ACTION.load(SeqCst) {
        RAISE_USR2 if i == 0 => {
            // SAFETY: raise is async-signal-safe.
            unsafe { libc::raise(SIGUSR2) };
        }
        RAISE_SELF if i == 0 => {
            // SAFETY: as above.
            unsafe { libc::raise(sig) };
        }
        CHANGE_ALTSTACK => {
            let lo = ALT_LO.load(SeqCst);
            let other = StackT { sp: lo, flags: 0, _pad: 0, size: 16384 };
            ALTSTACK_CHANGE.store(sigaltstack(Some(&other)).0 as i32, SeqCst);
            let off = StackT { flags: SS_DISABLE, ..other };
            ALTSTACK_DISABLE.store(sigaltstack(Some(&off)).0 as i32, SeqCst);
        }
        UCONTEXT => ucontext_action(ctx),
        _ => {}
    }
    if i < N {
        LOG[i].pending.store(pending(), SeqCst);
    }
    let e = EXIT_COUNT.fetch_add(1, SeqCst);
    if e < N {
        EXITS[e].store(sig, SeqCst);
    }
    DEPTH.fetch_sub(1, SeqCst);
}

fn ucontext_action(ctx: *mut libc::c_void) {
    let uc = ctx as *mut libc::ucontext_t;
    // SAFETY: `ctx` is the ucontext the kernel wrote for this delivery; the handler may read
    // and modify it (the modified registers are what sigreturn restores). fpregs, when not
    // NULL, points into the same signal frame.
    unsafe {
        let g = &mut (*uc).uc_mcontext.gregs;
        UC_RIP.store(g[libc::REG_RIP as usize] as u64, SeqCst);
        UC_RSP.store(g[libc::REG_RSP as usize] as u64, SeqCst);
        UC_RAX.store(g[libc::REG_RAX as usize] as u64, SeqCst);
        UC_RDI.store(g[libc::REG_RDI as usize] as u64, SeqCst);
        UC_RSI.store(g[libc::REG_RSI as usize] as u64, SeqCst);
        UC_RDX.store(g[libc::REG_RDX as usize] as u64, SeqCst);
        UC_R13.store(g[libc::REG_R13 as usize] as u64, SeqCst);
        g[libc::REG_R12 as usize] = R12_SET_BY_HANDLER as i64;
        let fp = (*uc).uc_mcontext.fpregs;
        UC_FPREGS.store(!fp.is_null(), SeqCst);
        if !fp.is_null() {
            UC_MXCSR.store((*fp).mxcsr, SeqCst);
            let x7 = (*fp)._xmm[7].element;
            UC_XMM7.store(x7[0] as u64 | ((x7[1] as u64) << 32), SeqCst);
            let v = XMM6_SET_BY_HANDLER;
            (*fp)._xmm[6].element = [v as u32, (v >> 32) as u32, 0, 0];
        }
        // Clobber xmm7: sigreturn must restore the interrupted value.
        asm!("xorps xmm7, xmm7", out("xmm7") _, options(nomem, nostack));
    }
}

fn count() -> usize {
    COUNT.load(SeqCst)
}

fn entries() -> Vec<&'static Rec> {
    LOG.iter().take(count().min(N)).collect()
}

fn entered() -> String {
    let v: Vec<String> = entries().iter().map(|r| sig_name(r.sig.load(SeqCst))).collect();
    format!("[{}]", v.join(", "))
}

fn returned() -> String {
    let n = EXIT_COUNT.load(SeqCst).min(N);
    let v: Vec<String> = EXITS.iter().take(n).map(|s| sig_name(s.load(SeqCst))).collect();
    format!("[{}]", v.join(", "))
}

fn res(r: Result<usize, Errno>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("Err({e})"),
    }
}

fn libc_res(r: i32) -> String {
    if r == 0 {
        "ok".into()
    } else {
        format!("Err({})", Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)))
    }
}

fn describe_first(how: &str, ret: String) {
    let ran = count();
    let r = &LOG[0];
    let inf = r.info();
    println!(
        "{how}: {ret}, handler ran before it returned: {}, sig {}, si_signo {}, si_errno {}, si_code {}, si_pid is getpid: {}, si_uid is getuid: {}",
        ran == 1,
        sig_name(r.sig.load(SeqCst)),
        sig_name(inf.signo),
        inf.errno,
        si_code_name(inf.code),
        r.pid_ok.load(SeqCst),
        r.uid_ok.load(SeqCst)
    );
}

fn sent_three_ways() {
    println!("== SA_SIGINFO handler for SIGUSR1 sent to self");
    install(SIGUSR1, record, SA_SIGINFO, 0);
    reset();
    // SAFETY: raise takes no pointers.
    let r = unsafe { libc::raise(SIGUSR1) };
    describe_first("raise", libc_res(r));
    reset();
    describe_first("kill(getpid)", res(kill(getpid(), SIGUSR1)));
    reset();
    describe_first("tgkill(getpid, gettid)", res(tgkill(getpid(), gettid(), SIGUSR1)));
    reset();
    // SAFETY: sigqueue takes no pointers (the value is passed by value).
    let r = unsafe { libc::sigqueue(getpid(), SIGUSR1, libc::sigval { sival_ptr: 42 as *mut libc::c_void }) };
    describe_first("sigqueue(value 42)", libc_res(r));
    println!("sigqueue: si_value {}", LOG[0].info().value);
    reset();
    describe_first("rt_sigqueueinfo(value 7)", res(queue_self(SIGUSR1, 7)));
    println!("rt_sigqueueinfo: si_value {}", LOG[0].info().value);
    reset();
    println!("kill(getpid, 0): {}, delivered nothing: {}", res(kill(getpid(), 0)), count() == 0);
}

fn masks_in_handler() {
    println!("== the mask inside a handler");
    let before = bit(SIGWINCH);
    set_mask(before);
    let sa_mask = bit(SIGUSR2) | bit(SIGTERM);
    for (name, flags) in
        [("plain", SA_SIGINFO), ("SA_NODEFER", SA_SIGINFO | SA_NODEFER), ("SA_RESETHAND", SA_SIGINFO | SA_RESETHAND)]
    {
        install(SIGUSR1, record, flags, sa_mask);
        reset();
        let r = kill(getpid(), SIGUSR1);
        let rec = &LOG[0];
        println!(
            "{name}: {}, ran {}, mask before {}, sa_mask {}, mask in handler {}, uc_sigmask is the mask before: {}, mask after {}",
            res(r),
            count(),
            mask_names(before),
            mask_names(sa_mask),
            mask_names(rec.mask.load(SeqCst)),
            rec.uc_mask.load(SeqCst) == before,
            mask_names(current_mask())
        );
    }
    let (_, flags) = action(SIGUSR1);
    println!(
        "after SA_RESETHAND delivery: {}, SA_SIGINFO still set: {}",
        disposition(SIGUSR1),
        flags & SA_SIGINFO != 0
    );
    set_mask(0);
}

fn pending_and_order() {
    println!("== blocked signals stay pending; delivery order on unblock");
    for s in [SIGUSR1, SIGUSR2, SIGTERM] {
        install(s, record, SA_SIGINFO, u64::MAX);
    }
    let set = bit(SIGUSR1) | bit(SIGUSR2) | bit(SIGTERM);
    block(set);
    reset();
    for s in [SIGUSR2, SIGTERM, SIGUSR1, SIGUSR1] {
        kill(getpid(), s).expect("kill");
    }
    println!("sent USR2, TERM, USR1, USR1 while blocked: handler ran: {}", count() > 0);
    println!("sigpending: {}", mask_names(pending()));
    unblock(set);
    println!("unblocked (sa_mask full): entered {}, max depth {}", entered(), MAX_DEPTH.load(SeqCst));
    println!("sigpending after: {}", mask_names(pending()));

    // With an empty sa_mask, unblocking lets Linux set up one frame per pending signal before
    // returning to user mode, each on top of the last: the last one set up runs first.
    for s in [SIGUSR1, SIGUSR2, SIGTERM] {
        install(s, record, SA_SIGINFO, 0);
    }
    block(set);
    reset();
    for s in [SIGUSR2, SIGTERM, SIGUSR1] {
        kill(getpid(), s).expect("kill");
    }
    unblock(set);
    println!("unblocked (sa_mask empty): entered {}, max depth {}", entered(), MAX_DEPTH.load(SeqCst));

    println!("== real-time signals queue, with their values");
    let (rt1, rt2) = (40, 41);
    for s in [rt1, rt2, SIGUSR1] {
        install(s, record, SA_SIGINFO, u64::MAX);
    }
    let set = bit(rt1) | bit(rt2) | bit(SIGUSR1);
    block(set);
    reset();
    let q = |sig: i32, v: usize| {
        // SAFETY: sigqueue takes no pointers.
        let r = unsafe { libc::sigqueue(getpid(), sig, libc::sigval { sival_ptr: v as *mut libc::c_void }) };
        assert_eq!(r, 0, "sigqueue");
    };
    q(rt2, 1);
    q(rt1, 2);
    queue_self(rt2, 3).expect("rt_sigqueueinfo");
    q(rt1, 4);
    kill(getpid(), rt1).expect("kill");
    queue_self(rt1, 5).expect("rt_sigqueueinfo");
    kill(getpid(), SIGUSR1).expect("kill");
    println!("sigpending: {}", mask_names(pending()));
    unblock(set);
    for r in entries() {
        let inf = r.info();
        let value = if inf.code == SI_QUEUE { format!(" value {}", inf.value) } else { String::new() };
        println!("  {} {}{value}", sig_name(r.sig.load(SeqCst)), si_code_name(inf.code));
    }
    println!("sigpending after: {}", mask_names(pending()));

    println!("== ignored signals");
    install(SIGUSR1, record, SA_SIGINFO, 0);
    block(bit(SIGUSR1));
    reset();
    kill(getpid(), SIGUSR1).expect("kill");
    println!("pending with a handler: {}", mask_names(pending()));
    set_disposition(SIGUSR1, SIG_IGN);
    println!("after setting SIG_IGN: pending {}", mask_names(pending()));
    kill(getpid(), SIGUSR1).expect("kill");
    println!("sent while ignored and blocked: pending {}", mask_names(pending()));
    unblock(bit(SIGUSR1));
    println!("unblocked: pending {}, handler ran: {}", mask_names(pending()), count() > 0);
    kill(getpid(), SIGUSR1).expect("kill");
    println!("sent while ignored: still alive, pending {}", mask_names(pending()));
    set_disposition(SIGUSR1, SIG_DFL);
    for s in [SIGWINCH, SIGCHLD] {
        println!("{} with SIG_DFL (ignored by default): kill {}", sig_name(s), res(kill(getpid(), s)));
    }
    block(bit(SIGWINCH));
    kill(getpid(), SIGWINCH).expect("kill");
    println!("SIGWINCH SIG_DFL while blocked: pending {}", mask_names(pending()));
    unblock(bit(SIGWINCH));
    println!("unblocked: pending {}", mask_names(pending()));
}

fn altstack() {
    println!("== SA_ONSTACK and sigaltstack");
    let (_, std_stack) = sigaltstack(None);
    const SIZE: usize = 64 * 1024;
    let lo = leak_map(2 * SIZE);
    ALT_LO.store(lo, SeqCst);
    ALT_HI.store(lo + SIZE, SeqCst);
    let in_alt = |a: usize| (lo..lo + SIZE).contains(&a);
    let ours = StackT { sp: lo, flags: 0, _pad: 0, size: SIZE };
    println!("sigaltstack set: {}", probes::outcome(sigaltstack(Some(&ours)).0));

    install(SIGUSR1, record, SA_SIGINFO | SA_ONSTACK, 0);
    reset();
    kill(getpid(), SIGUSR1).expect("kill");
    let r = &LOG[0];
    println!(
        "SA_ONSTACK: ss_flags in handler {}, handler's local on the alt stack: {}",
        r.ss_flags.load(SeqCst),
        in_alt(r.local.load(SeqCst))
    );
    println!("after: ss_flags {}", sigaltstack(None).1.flags);

    install(SIGUSR1, record, SA_SIGINFO, 0);
    reset();
    kill(getpid(), SIGUSR1).expect("kill");
    let r = &LOG[0];
    println!(
        "without SA_ONSTACK: ss_flags in handler {}, local on the alt stack: {}",
        r.ss_flags.load(SeqCst),
        in_alt(r.local.load(SeqCst))
    );

    install(SIGUSR1, record, SA_SIGINFO | SA_ONSTACK, 0);
    reset();
    ACTION.store(CHANGE_ALTSTACK, SeqCst);
    kill(getpid(), SIGUSR1).expect("kill");
    println!(
        "on the alt stack: changing it {}, disabling it {}",
        probes::outcome(ALTSTACK_CHANGE.load(SeqCst) as isize),
        probes::outcome(ALTSTACK_DISABLE.load(SeqCst) as isize)
    );
    let (_, now) = sigaltstack(None);
    println!("still ours after: {}", now == ours);

    install(SIGUSR2, record, SA_SIGINFO | SA_ONSTACK, 0);
    reset();
    ACTION.store(RAISE_USR2, SeqCst);
    kill(getpid(), SIGUSR1).expect("kill");
    let e = entries();
    let (a, b) = (e[0].local.load(SeqCst), e[1].local.load(SeqCst));
    println!(
        "nested on the alt stack: entered {}, both on it: {}, second below the first: {}, ss_flags in the second {}",
        entered(),
        in_alt(a) && in_alt(b),
        b < a,
        e[1].ss_flags.load(SeqCst)
    );

    let disarm = StackT { flags: SS_AUTODISARM, ..ours };
    println!("SS_AUTODISARM set: {}", probes::outcome(sigaltstack(Some(&disarm)).0));
    reset();
    kill(getpid(), SIGUSR1).expect("kill");
    let r = &LOG[0];
    println!(
        "SS_AUTODISARM: ss_flags in handler {}, local on the alt stack: {}",
        r.ss_flags.load(SeqCst),
        in_alt(r.local.load(SeqCst))
    );
    let (_, now) = sigaltstack(None);
    println!("after: restored: {}, ss_flags {:#x}", now.sp == lo && now.size == SIZE, now.flags);

    sigaltstack(Some(&std_stack));
    set_disposition(SIGUSR2, SIG_DFL);
}

fn nested() {
    println!("== nested handlers");
    install(SIGUSR1, record, SA_SIGINFO, 0);
    install(SIGUSR2, record, SA_SIGINFO, 0);
    reset();
    ACTION.store(RAISE_USR2, SeqCst);
    kill(getpid(), SIGUSR1).expect("kill");
    println!("USR1 raising USR2: entered {}, returned {}, max depth {}", entered(), returned(), MAX_DEPTH.load(SeqCst));

    reset();
    ACTION.store(RAISE_SELF, SeqCst);
    kill(getpid(), SIGUSR1).expect("kill");
    println!(
        "USR1 raising USR1: entered {}, max depth {}, pending in the first: {}",
        entered(),
        MAX_DEPTH.load(SeqCst),
        mask_names(LOG[0].pending.load(SeqCst))
    );

    install(SIGUSR1, record, SA_SIGINFO | SA_NODEFER, 0);
    reset();
    ACTION.store(RAISE_SELF, SeqCst);
    kill(getpid(), SIGUSR1).expect("kill");
    println!("with SA_NODEFER: entered {}, max depth {}", entered(), MAX_DEPTH.load(SeqCst));
    set_disposition(SIGUSR2, SIG_DFL);
}

fn ucontext() {
    println!("== ucontext: the interrupted registers");
    install(SIGUSR1, record, SA_SIGINFO, 0);
    reset();
    ACTION.store(UCONTEXT, SeqCst);
    let (pid, tid) = (getpid() as u64, gettid() as u64);
    let after: u64;
    let sp: u64;
    let ret: i64;
    let mut r12 = R12_BEFORE;
    let mut xmm6 = f64::from_bits(XMM6_BEFORE);
    let mut xmm7 = f64::from_bits(XMM7_BEFORE);
    // SAFETY: a tgkill to this thread; the handler changes r12 and xmm6 (declared inout)
    // and nothing else the compiler relies on (rcx/r11 are clobbered by syscall anyway).
    unsafe {
        asm!(
            "lea {after}, [rip + 2f]",
            "mov {sp}, rsp",
            "syscall",
            "2:",
            after = out(reg) after,
            sp = out(reg) sp,
            inlateout("rax") libc::SYS_tgkill as u64 => ret,
            in("rdi") pid,
            in("rsi") tid,
            in("rdx") SIGUSR1 as u64,
            inout("r12") r12,
            in("r13") R13_MAGIC,
            inout("xmm6") xmm6,
            inout("xmm7") xmm7,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    println!("tgkill returned {ret}, handler ran {}", count());
    println!("rip is the instruction after syscall: {}", UC_RIP.load(SeqCst) == after);
    println!("rsp is the interrupted rsp: {}", UC_RSP.load(SeqCst) == sp);
    println!("rax holds the syscall's result (0): {}", UC_RAX.load(SeqCst) == 0);
    println!(
        "rdi, rsi, rdx hold the arguments: {}",
        UC_RDI.load(SeqCst) == pid && UC_RSI.load(SeqCst) == tid && UC_RDX.load(SeqCst) == SIGUSR1 as u64
    );
    println!("r13 as set: {}", UC_R13.load(SeqCst) == R13_MAGIC);
    println!("fpregs present: {}, mxcsr {:#x}", UC_FPREGS.load(SeqCst), UC_MXCSR.load(SeqCst));
    println!("xmm7 in fpregs as set: {}", UC_XMM7.load(SeqCst) == XMM7_BEFORE);
    println!("r12 changed through uc_mcontext: {}", r12 == R12_SET_BY_HANDLER);
    println!("xmm6 changed through fpregs: {}", xmm6.to_bits() == XMM6_SET_BY_HANDLER);
    println!("xmm7 restored after the handler clobbered it: {}", xmm7.to_bits() == XMM7_BEFORE);
}

fn main() {
    set_mask(0);
    sent_three_ways();
    masks_in_handler();
    pending_and_order();
    altstack();
    nested();
    ucontext();
    set_disposition(SIGUSR1, SIG_DFL);
    println!("== done");
}
