//! `siginfo_t` (x86-64, 128 bytes) and the default action of each signal.

/// `si_code` values.
pub mod code {
    /// Sent by `kill`.
    pub const SI_USER: i32 = 0;
    /// Sent by the kernel.
    pub const SI_KERNEL: i32 = 0x80;
    /// Sent by `sigqueue`/`rt_sigqueueinfo`.
    pub const SI_QUEUE: i32 = -1;
    /// A POSIX timer expired.
    pub const SI_TIMER: i32 = -2;
    /// Sent by `tkill`/`tgkill`.
    pub const SI_TKILL: i32 = -6;
    /// SIGSEGV: no mapping at the address.
    pub const SEGV_MAPERR: i32 = 1;
    /// SIGSEGV: a mapping without the needed permission.
    pub const SEGV_ACCERR: i32 = 2;
    /// SIGBUS: a non-existent physical address (past the end of a mapped file).
    pub const BUS_ADRERR: i32 = 2;
    /// SIGILL: illegal opcode.
    pub const ILL_ILLOPN: i32 = 2;
    /// SIGFPE: integer divide by zero.
    pub const FPE_INTDIV: i32 = 1;
    /// SIGTRAP: a breakpoint (`int3`).
    pub const TRAP_BRKPT: i32 = 1;
}

/// `siginfo_t`: number, errno, code, then a union whose layout depends on the code.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigInfo {
    pub si_signo: i32,
    pub si_errno: i32,
    pub si_code: i32,
    pub pad: i32,
    /// The union: `[0]` holds `si_pid | si_uid << 32` (kill, queue), or `si_addr`
    /// (faults), or `si_tid | si_overrun << 32` (timers); `[1]` holds `si_value` or,
    /// for faults, `si_addr_lsb` and friends.
    pub fields: [u64; 14],
}

impl SigInfo {
    fn new(signo: u32, code: i32) -> SigInfo {
        SigInfo { si_signo: signo as i32, si_errno: 0, si_code: code, pad: 0, fields: [0; 14] }
    }

    /// What `kill` (SI_USER) or `tgkill` (SI_TKILL) from `pid`/`uid` sends.
    pub fn sent(signo: u32, code: i32, pid: u32, uid: u32) -> SigInfo {
        let mut info = SigInfo::new(signo, code);
        info.fields[0] = u64::from(pid) | u64::from(uid) << 32;
        info
    }

    /// What a fault at `addr` raises (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP).
    pub fn fault(signo: u32, code: i32, addr: u64) -> SigInfo {
        let mut info = SigInfo::new(signo, code);
        info.fields[0] = addr;
        info
    }

    /// What the kernel itself sends (SI_KERNEL), e.g. SIGSEGV when a frame cannot be
    /// written.
    pub fn kernel(signo: u32) -> SigInfo {
        SigInfo::new(signo, code::SI_KERNEL)
    }

    /// A POSIX timer's expiry: timer id, overrun count and the `sigev_value`.
    pub fn timer(signo: u32, timer_id: i32, overrun: i32, value: u64) -> SigInfo {
        let mut info = SigInfo::new(signo, code::SI_TIMER);
        info.fields[0] = u64::from(timer_id as u32) | u64::from(overrun as u32) << 32;
        info.fields[1] = value;
        info
    }

    /// `si_tid` of a timer's signal: the timer's id.
    pub fn timer_id(&self) -> i32 {
        self.fields[0] as u32 as i32
    }

    /// `si_overrun` of a timer's signal.
    pub fn overrun(&self) -> i32 {
        (self.fields[0] >> 32) as u32 as i32
    }

    /// Sets `si_overrun` of a timer's signal.
    pub fn set_overrun(&mut self, overrun: i32) {
        self.fields[0] = (self.fields[0] & 0xffff_ffff) | u64::from(overrun as u32) << 32;
    }

    /// `si_sys_private` of a timer's signal (after `si_value`): the kernel's own mark,
    /// cleared before the guest sees the signal. The libOS keeps there the arming the
    /// signal belongs to, as Linux does.
    pub fn sys_private(&self) -> u32 {
        self.fields[2] as u32
    }

    /// Sets `si_sys_private` (see [`SigInfo::sys_private`]).
    pub fn set_sys_private(&mut self, mark: u32) {
        self.fields[2] = (self.fields[2] & !0xffff_ffff) | u64::from(mark);
    }

    pub fn signo(&self) -> u32 {
        self.si_signo as u32
    }

    /// `si_addr` of a fault.
    pub fn addr(&self) -> u64 {
        self.fields[0]
    }
}

/// The names of signals 1–31, as `kill -l` lists them.
const NAMES: [&str; 31] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// A signal's name for messages: `SIGSEGV`, or `SIGRTMIN+3` for the real-time ones.
pub fn signal_name(sig: u32) -> alloc::string::String {
    match sig {
        1..=31 => alloc::string::String::from(NAMES[sig as usize - 1]),
        32..=64 => alloc::format!("SIGRTMIN+{}", sig - 32),
        _ => alloc::format!("signal {sig}"),
    }
}

/// What happens to a signal nobody handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    /// The process ends, killed by the signal.
    Terminate,
    /// The process ends and dumps core (a shell reports "core dumped"; the status is
    /// the same 128+N).
    Core,
    Ignore,
    /// The process stops (job control).
    Stop,
    /// A stopped process continues.
    Continue,
}

/// The default action of signal `sig` (1-based), as `signal(7)` lists it.
pub const fn default_action(sig: u32) -> DefaultAction {
    match sig {
        // SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGSEGV SIGXCPU SIGXFSZ SIGSYS
        3 | 4 | 5 | 6 | 7 | 8 | 11 | 24 | 25 | 31 => DefaultAction::Core,
        // SIGCHLD SIGURG SIGWINCH
        17 | 23 | 28 => DefaultAction::Ignore,
        // SIGCONT
        18 => DefaultAction::Continue,
        // SIGSTOP SIGTSTP SIGTTIN SIGTTOU
        19..=22 => DefaultAction::Stop,
        _ => DefaultAction::Terminate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_kernel() {
        assert_eq!(core::mem::size_of::<SigInfo>(), 128);
        assert_eq!(core::mem::offset_of!(SigInfo, fields), 16);
    }

    #[test]
    fn default_actions_follow_signal_7() {
        assert_eq!(default_action(11), DefaultAction::Core);
        assert_eq!(default_action(6), DefaultAction::Core);
        assert_eq!(default_action(2), DefaultAction::Terminate);
        assert_eq!(default_action(13), DefaultAction::Terminate);
        assert_eq!(default_action(34), DefaultAction::Terminate);
        assert_eq!(default_action(17), DefaultAction::Ignore);
        assert_eq!(default_action(18), DefaultAction::Continue);
        assert_eq!(default_action(20), DefaultAction::Stop);
    }

    #[test]
    fn names_follow_kill_l() {
        assert_eq!(signal_name(11), "SIGSEGV");
        assert_eq!(signal_name(31), "SIGSYS");
        assert_eq!(signal_name(34), "SIGRTMIN+2");
    }

    #[test]
    fn senders_are_encoded_as_linux_does() {
        let info = SigInfo::sent(10, code::SI_TKILL, 1234, 1000);
        assert_eq!(info.fields[0] as u32, 1234);
        assert_eq!((info.fields[0] >> 32) as u32, 1000);
        assert_eq!(SigInfo::fault(11, code::SEGV_MAPERR, 0xdead).addr(), 0xdead);
    }

    #[test]
    fn timer_fields_sit_where_linux_puts_them() {
        // _timer: si_tid at 16, si_overrun at 20, si_value at 24, si_sys_private at 32.
        let mut info = SigInfo::timer(34, 7, 0, 0x1122_3344_5566_7788);
        info.set_overrun(-1);
        info.set_overrun(9);
        info.set_sys_private(5);
        let raw: [u32; 10] = words(&info);
        assert_eq!(raw, [34, 0, code::SI_TIMER as u32, 0, 7, 9, 0x5566_7788, 0x1122_3344, 5, 0]);
        assert_eq!((info.timer_id(), info.overrun(), info.sys_private()), (7, 9, 5));
    }

    /// The first forty bytes of `info` as Linux's 32-bit words.
    fn words(info: &SigInfo) -> [u32; 10] {
        let mut w = [0u32; 10];
        w[0] = info.si_signo as u32;
        w[1] = info.si_errno as u32;
        w[2] = info.si_code as u32;
        w[3] = info.pad as u32;
        for i in 0..3 {
            w[4 + 2 * i] = info.fields[i] as u32;
            w[5 + 2 * i] = (info.fields[i] >> 32) as u32;
        }
        w
    }
}
