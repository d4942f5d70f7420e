//! [`Platform`] for one Linux process: guest memory is host memory inside the reserved
//! guest window, time and randomness come from the host kernel, the console is the
//! host's fds 0–2.

use std::sync::Arc;

use libos::abi::{set_uts_field, Rlimit, Timespec, Timeval, Utsname};
use libos::cpuset::CpuSet;
use libos::file::File;
use libos::futex::FutexOp;
use libos::limits::RLIMIT_NLIMITS;
use libos::mm::Prot;
use libos::platform::{HostInfo, Platform};
use libos::rusage::{Rusage, RusageWho};
use libos::thread::ThreadStart;
use libos::time::ClockId;
use libos::{Errno, SysResult};

use crate::console::HostFd;
use crate::entry::ensure_host_tls;
use crate::host;
use crate::stats;
use crate::{futex, thread};

pub struct HostedPlatform;

fn host_clock(clock: ClockId) -> libc::clockid_t {
    match clock {
        ClockId::Realtime => libc::CLOCK_REALTIME,
        ClockId::Monotonic => libc::CLOCK_MONOTONIC,
        ClockId::ProcessCputime => libc::CLOCK_PROCESS_CPUTIME_ID,
        ClockId::ThreadCputime => libc::CLOCK_THREAD_CPUTIME_ID,
        ClockId::MonotonicRaw => libc::CLOCK_MONOTONIC_RAW,
        ClockId::RealtimeCoarse => libc::CLOCK_REALTIME_COARSE,
        ClockId::MonotonicCoarse => libc::CLOCK_MONOTONIC_COARSE,
        ClockId::Boottime => libc::CLOCK_BOOTTIME,
        ClockId::RealtimeAlarm => libc::CLOCK_REALTIME_ALARM,
        ClockId::BoottimeAlarm => libc::CLOCK_BOOTTIME_ALARM,
        ClockId::Tai => libc::CLOCK_TAI,
    }
}

fn prot_bits(prot: Prot) -> i32 {
    prot.bits() as i32
}

/// Flags for backing guest memory: private, anonymous, at exactly this address, and
/// not charged against overcommit until touched (Rust runtimes reserve large regions).
const GUEST_MAP: i32 = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE;

/// Lets another host thread run (a raw syscall: no TLS).
pub fn host_yield() {
    // SAFETY: sched_yield takes no arguments.
    unsafe { host::raw_syscall4(libc::SYS_sched_yield, 0, 0, 0, 0) };
}

/// Backs `[addr, addr+len)` with fresh memory of `prot`.
pub fn host_map(addr: u64, len: u64, prot: i32) -> Result<(), Errno> {
    // SAFETY: the range lies in the guest window, which the libOS owns; MAP_FIXED
    // replaces only guest memory there.
    let p = unsafe { libc::mmap(addr as *mut _, len as usize, prot, GUEST_MAP, -1, 0) };
    if p == libc::MAP_FAILED {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

impl Platform for HostedPlatform {
    fn map_anonymous(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        ensure_host_tls();
        host_map(addr, len, prot_bits(prot))
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        ensure_host_tls();
        // Keep the window reserved: an inaccessible mapping, its memory given back.
        host_map(addr, len, libc::PROT_NONE)
    }

    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        ensure_host_tls();
        // SAFETY: guest window memory the libOS's map says is mapped.
        host::check(unsafe { libc::mprotect(addr as *mut _, len as usize, prot_bits(prot)) } as isize).map(|_| ())
    }

    fn move_pages(&self, old: u64, new: u64, len: u64) -> Result<(), Errno> {
        ensure_host_tls();
        // SAFETY: both ranges are in the guest window; the new one was just mapped.
        let moved = unsafe {
            libc::mremap(
                old as *mut _,
                len as usize,
                len as usize,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                new as *mut libc::c_void,
            )
        };
        if moved == libc::MAP_FAILED {
            // The old range spans several host mappings: copy instead.
            // SAFETY: both ranges are mapped (old readable: the libOS only moves its own
            // mappings, made readable for the copy) and do not overlap.
            unsafe {
                libc::mprotect(old as *mut _, len as usize, libc::PROT_READ);
                std::ptr::copy_nonoverlapping(old as *const u8, new as *mut u8, len as usize);
            }
        }
        host_map(old, len, libc::PROT_NONE)
    }

    fn discard(&self, addr: u64, len: u64) -> Result<(), Errno> {
        ensure_host_tls();
        // SAFETY: private anonymous guest memory; MADV_DONTNEED makes it read as zeros.
        host::check(unsafe { libc::madvise(addr as *mut _, len as usize, libc::MADV_DONTNEED) } as isize).map(|_| ())
    }

    fn residency(&self, addr: u64, len: u64, out: &mut [u8]) -> Result<(), Errno> {
        ensure_host_tls();
        // SAFETY: `out` has one byte per page of the range (the caller sized it).
        host::check(unsafe { libc::mincore(addr as *mut _, len as usize, out.as_mut_ptr()) } as isize).map(|_| ())
    }

    fn now(&self, clock: ClockId) -> Timespec {
        // The common clocks are answered by the vDSO without touching TLS (glibc's
        // wrapper writes errno only on failure, and these never fail); the others may
        // take a real syscall.
        if !matches!(
            clock,
            ClockId::Realtime
                | ClockId::Monotonic
                | ClockId::Boottime
                | ClockId::RealtimeCoarse
                | ClockId::MonotonicCoarse
        ) {
            ensure_host_tls();
        }
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: valid out-pointer.
        unsafe { libc::clock_gettime(host_clock(clock), &mut ts) };
        Timespec { tv_sec: ts.tv_sec, tv_nsec: ts.tv_nsec }
    }

    fn resolution(&self, clock: ClockId) -> Timespec {
        ensure_host_tls();
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: valid out-pointer.
        unsafe { libc::clock_getres(host_clock(clock), &mut ts) };
        Timespec { tv_sec: ts.tv_sec, tv_nsec: ts.tv_nsec }
    }

    fn sleep(&self, ns: u64) {
        ensure_host_tls();
        std::thread::sleep(std::time::Duration::from_nanos(ns));
    }

    fn fill_random(&self, buf: &mut [u8]) {
        ensure_host_tls();
        let mut done = 0;
        while done < buf.len() {
            // SAFETY: writes within `buf`.
            let r = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
            if r > 0 {
                done += r as usize;
            }
        }
    }

    fn console(&self) -> [Arc<dyn File>; 3] {
        ensure_host_tls();
        [Arc::new(HostFd(0)), Arc::new(HostFd(1)), Arc::new(HostFd(2))]
    }

    fn cpu_mask(&self) -> u64 {
        ensure_host_tls();
        // SAFETY: all-zero is a valid cpu_set_t; sched_getaffinity fills it.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid out-pointer of the size passed.
        let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
        if r != 0 {
            return 1;
        }
        // SAFETY: CPU_ISSET reads bit `i` (< CPU_SETSIZE) of a valid set.
        (0..64).filter(|&i| unsafe { libc::CPU_ISSET(i, &set) }).fold(0u64, |m, i| m | (1 << i))
    }

    fn host_info(&self) -> HostInfo {
        ensure_host_tls();
        host_info()
    }

    fn log(&self, line: &str) {
        ensure_host_tls();
        let mut text = String::with_capacity(line.len() + 1);
        text.push_str(line);
        text.push('\n');
        // One write so lines from the libOS do not interleave mid-line.
        // SAFETY: valid buffer.
        unsafe { libc::write(2, text.as_ptr().cast(), text.len()) };
    }

    fn exit_process(&self, status: i32) -> ! {
        ensure_host_tls();
        stats::report();
        // SAFETY: ends the process; nothing of the guest or libOS needs unwinding.
        unsafe { libc::_exit(status) }
    }

    fn exit_by_signal(&self, sig: u32) -> ! {
        ensure_host_tls();
        stats::report();
        let sig = sig as i32;
        // SAFETY: restores the default action, unblocks the signal and sends it to
        // this process, which the default action then ends.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
            libc::_exit(128 + sig)
        }
    }

    fn spawn_thread(&self, start: ThreadStart) -> Result<(), Errno> {
        thread::spawn(start)
    }

    fn exit_thread(&self, status: i32) -> ! {
        thread::exit_thread(status)
    }

    fn futex(&self, op: &FutexOp) -> SysResult {
        futex::futex(op)
    }

    fn yield_now(&self) {
        host_yield();
    }

    fn affinity(&self, thread: Option<u64>) -> Result<CpuSet, Errno> {
        let mut set = CpuSet::empty(0);
        let tid = thread.unwrap_or(0);
        let len = std::mem::size_of_val(&set.words) as u64;
        // SAFETY: an out-buffer of the size passed; the tid is a host thread of this
        // process (or 0, the caller). A raw syscall touches no TLS.
        let r = unsafe { host::raw_syscall4(libc::SYS_sched_getaffinity, tid, len, set.words.as_mut_ptr() as u64, 0) };
        set.size = host::raw_retry(|| r)?;
        Ok(set)
    }

    fn set_affinity(&self, thread: Option<u64>, set: &CpuSet) -> Result<(), Errno> {
        let tid = thread.unwrap_or(0);
        let len = std::mem::size_of_val(&set.words) as u64;
        // SAFETY: as in `affinity`; the kernel only reads the mask.
        let r = unsafe { host::raw_syscall4(libc::SYS_sched_setaffinity, tid, len, set.words.as_ptr() as u64, 0) };
        host::raw_retry(|| r).map(|_| ())
    }

    fn current_cpu(&self) -> (u32, u32) {
        let (mut cpu, mut node) = (0u32, 0u32);
        // SAFETY: two valid out-pointers; the cache argument is unused by Linux.
        unsafe { host::raw_syscall4(libc::SYS_getcpu, &raw mut cpu as u64, &raw mut node as u64, 0, 0) };
        (cpu, node)
    }

    fn membarrier(&self, global: bool) -> Result<(), Errno> {
        const GLOBAL: u64 = 1;
        const PRIVATE_EXPEDITED: u64 = 8;
        const REGISTER_PRIVATE_EXPEDITED: u64 = 16;
        static REGISTERED: std::sync::Once = std::sync::Once::new();
        let cmd = if global {
            GLOBAL
        } else {
            ensure_host_tls();
            // SAFETY: membarrier takes no pointers.
            REGISTERED.call_once(|| unsafe {
                host::raw_syscall4(libc::SYS_membarrier, REGISTER_PRIVATE_EXPEDITED, 0, 0, 0);
            });
            PRIVATE_EXPEDITED
        };
        // SAFETY: membarrier takes no pointers.
        let r = unsafe { host::raw_syscall4(libc::SYS_membarrier, cmd, 0, 0, 0) };
        host::raw_retry(|| r).map(|_| ())
    }

    fn rusage(&self, who: RusageWho) -> Rusage {
        ensure_host_tls();
        let who = match who {
            RusageWho::Process => libc::RUSAGE_SELF,
            RusageWho::Thread => libc::RUSAGE_THREAD,
            RusageWho::Children => libc::RUSAGE_CHILDREN,
        };
        // SAFETY: all-zero is a valid rusage; getrusage fills it.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: valid out-pointer.
        unsafe { libc::getrusage(who, &mut u) };
        let tv = |t: libc::timeval| Timeval { tv_sec: t.tv_sec, tv_usec: t.tv_usec };
        Rusage {
            utime: tv(u.ru_utime),
            stime: tv(u.ru_stime),
            maxrss: u.ru_maxrss,
            counters: [
                u.ru_ixrss,
                u.ru_idrss,
                u.ru_isrss,
                u.ru_minflt,
                u.ru_majflt,
                u.ru_nswap,
                u.ru_inblock,
                u.ru_oublock,
                u.ru_msgsnd,
                u.ru_msgrcv,
                u.ru_nsignals,
                u.ru_nvcsw,
                u.ru_nivcsw,
            ],
        }
    }
}

fn host_info() -> HostInfo {
    // SAFETY: all-zero is a valid utsname; uname fills it.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    unsafe { libc::uname(&mut u) };
    let field = |f: &[libc::c_char]| -> Vec<u8> { f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect() };
    let mut uts = Utsname::default();
    set_uts_field(&mut uts.nodename, &field(&u.nodename));
    set_uts_field(&mut uts.release, &field(&u.release));
    set_uts_field(&mut uts.version, &field(&u.version));
    set_uts_field(&mut uts.machine, &field(&u.machine));
    set_uts_field(&mut uts.domainname, &field(&u.domainname));
    // SAFETY: all-zero is a valid sysinfo; sysinfo fills it.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    unsafe { libc::sysinfo(&mut si) };
    let unit = u64::from(si.mem_unit.max(1));
    let mut rlimits = [Rlimit::default(); RLIMIT_NLIMITS];
    for (i, slot) in rlimits.iter_mut().enumerate() {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: valid out-pointer; i < RLIMIT_NLIMITS.
        unsafe { libc::getrlimit(i as _, &mut r) };
        *slot = Rlimit { rlim_cur: r.rlim_cur, rlim_max: r.rlim_max };
    }
    // SAFETY: these take no arguments and cannot fail.
    let (pid, ppid, uid, gid) = unsafe { (libc::getpid(), libc::getppid(), libc::getuid(), libc::getgid()) };
    HostInfo {
        uts,
        pid: pid as u32,
        ppid: ppid as u32,
        uid,
        gid,
        total_ram: si.totalram as u64 * unit,
        free_ram: si.freeram as u64 * unit,
        rlimits,
    }
}
