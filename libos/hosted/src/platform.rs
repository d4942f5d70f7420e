//! [`Platform`] for one Linux process: guest memory is host memory inside the reserved
//! guest window, time and randomness come from the host kernel, the console is the
//! host's fds 0–2.

use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use libos::abi::{set_uts_field, Rlimit, Timespec, Timeval, Utsname};
use libos::cpuset::CpuSet;
use libos::file::File;
use libos::futex::FutexOp;
use libos::limits::RLIMIT_NLIMITS;
use libos::mm::Prot;
use libos::platform::{ForeignMapping, HostInfo, IoEvent, IoHandle, IoSetId, IoSetOp, IoWait, Platform, ShmId};
use libos::rusage::{Rusage, RusageWho};
use libos::thread::ThreadStart;
use libos::time::ClockId;
use libos::{Errno, SysResult};

use crate::console::HostFd;
use crate::entry::ensure_host_tls;
use crate::host;
use crate::stats;
use crate::{entry, futex, net, ready, regs, signals, thread};

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

    // Shareable memory is a host memfd; every call is a raw host syscall (no TLS).

    fn shm_create(&self, len: u64) -> Result<ShmId, Errno> {
        // SAFETY: the name is a NUL-terminated string with static lifetime.
        let fd = host::raw_retry(|| unsafe {
            host::raw_syscall4(libc::SYS_memfd_create, c"unify-shm".as_ptr() as u64, libc::MFD_CLOEXEC as u64, 0, 0)
        })?;
        if let Err(e) = self.shm_resize(fd as ShmId, len) {
            self.shm_release(fd as ShmId);
            return Err(e);
        }
        Ok(fd as ShmId)
    }

    fn shm_resize(&self, id: ShmId, len: u64) -> Result<(), Errno> {
        // SAFETY: ftruncate on a memfd this platform made; no memory is passed.
        host::raw_retry(|| unsafe { host::raw_syscall4(libc::SYS_ftruncate, id, len, 0, 0) }).map(|_| ())
    }

    fn shm_read(&self, id: ShmId, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let mut done = 0;
        while done < buf.len() {
            let rest = &mut buf[done..];
            // SAFETY: `rest` is a live buffer of the length passed.
            let n = host::raw_retry(|| unsafe {
                host::raw_syscall4(
                    libc::SYS_pread64,
                    id,
                    rest.as_mut_ptr() as u64,
                    rest.len() as u64,
                    offset + done as u64,
                )
            })?;
            if n == 0 {
                // Past the object's end: zeros, as a mapping would show them.
                rest.fill(0);
                break;
            }
            done += n;
        }
        Ok(())
    }

    fn shm_write(&self, id: ShmId, offset: u64, data: &[u8]) -> Result<(), Errno> {
        let mut done = 0;
        while done < data.len() {
            let rest = &data[done..];
            // SAFETY: `rest` is a live buffer of the length passed.
            let n = host::raw_retry(|| unsafe {
                host::raw_syscall4(
                    libc::SYS_pwrite64,
                    id,
                    rest.as_ptr() as u64,
                    rest.len() as u64,
                    offset + done as u64,
                )
            })?;
            if n == 0 {
                return Err(Errno::EIO);
            }
            done += n;
        }
        Ok(())
    }

    fn shm_map(&self, id: ShmId, offset: u64, addr: u64, len: u64, prot: Prot, shared: bool) -> Result<(), Errno> {
        let kind = if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
        // SAFETY: the range lies in the guest window, which the libOS owns; MAP_FIXED
        // replaces only guest memory there.
        let r = unsafe {
            host::raw_syscall6(
                libc::SYS_mmap,
                addr,
                len,
                prot_bits(prot) as u64,
                (kind | libc::MAP_FIXED) as u64,
                id,
                offset,
            )
        };
        if (-4095..0).contains(&r) {
            return Err(Errno::from_number(-r as i32).unwrap_or(Errno::ENOMEM));
        }
        Ok(())
    }

    fn shm_release(&self, id: ShmId) {
        // SAFETY: closes a memfd this platform made; its mappings keep the memory.
        unsafe { host::raw_syscall4(libc::SYS_close, id, 0, 0, 0) };
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

    fn sleep(&self, ns: u64) -> Result<(), Errno> {
        let ts = libc::timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 };
        let mut left = ts;
        loop {
            let args = [&left as *const libc::timespec as u64, &mut left as *mut libc::timespec as u64, 0, 0, 0, 0];
            // A raw syscall through the interruptible path: no TLS, and a signal for
            // this thread ends it.
            match signals::interruptible(libc::SYS_nanosleep, args) {
                0 => return Ok(()),
                r if r == -(libc::EINTR as i64) && signals::interrupted() => return Err(Errno::EINTR),
                r if r == -(libc::EINTR as i64) => continue,
                _ => return Ok(()),
            }
        }
    }

    fn wait_on(&self, word: &AtomicU32, expected: u32, timeout_ns: Option<u64>) {
        let ts = timeout_ns
            .map(|ns| libc::timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 });
        let ts_ptr = ts.as_ref().map_or(0, |t| t as *const libc::timespec as u64);
        let op = (libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG) as u64;
        // `word` is a live, aligned u32 in this process; `ts_ptr` is null or a timespec
        // on this stack. Any outcome (woken, value changed, timed out, interrupted)
        // returns to a caller that re-checks.
        signals::interruptible(libc::SYS_futex, [word.as_ptr() as u64, op, u64::from(expected), ts_ptr, 0, 0]);
    }

    fn interrupted(&self) -> bool {
        signals::interrupted()
    }

    fn interrupt_thread(&self, thread: &libos::thread::ThreadShared) {
        signals::kick(thread);
    }

    fn current_thread(&self) -> Option<Arc<libos::thread::ThreadShared>> {
        let block = entry::block_if_guest()?;
        // SAFETY: the block's record is this thread's while it runs guest code.
        (!block.thread.is_null()).then(|| unsafe { (*block.thread).shared.clone() })
    }

    fn syscall_context(&self) -> Option<libos::context::GuestContext> {
        let block = entry::block_if_guest()?;
        // SAFETY: called while serving a syscall of this thread.
        Some(unsafe { regs::caller_regs(block) }.as_context())
    }

    fn resume_with(&self, ctx: &libos::context::GuestContext) {
        let Some(block) = entry::block_if_guest() else { return };
        if block.sigsys_uctx.is_null() {
            let mut regs = regs::GuestRegs { fs_base: block.guest_fs, ..Default::default() };
            regs.set_context(ctx);
            block.replacement = Some(Box::new(regs));
            if !block.hint.is_null() {
                // SAFETY: the hint lives in this thread's shared record.
                unsafe { &*block.hint }.store(1, std::sync::atomic::Ordering::SeqCst);
            }
        } else {
            // SAFETY: the SIGSYS frame of the syscall being served is live.
            unsafe { regs::to_signal_frame(ctx, &mut *block.sigsys_uctx) };
        }
    }

    fn wake_all(&self, word: &AtomicU32) {
        if ready::ring(word) {
            return;
        }
        // SAFETY: as in `wait_on`; FUTEX_WAKE only reads the address.
        unsafe {
            host::raw_syscall4(
                libc::SYS_futex,
                word.as_ptr() as u64,
                (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as u64,
                i32::MAX as u64,
                0,
            )
        };
    }

    fn wait_io(
        &self,
        word: &AtomicU32,
        expected: u32,
        io: &mut [IoWait],
        timeout_ns: Option<u64>,
    ) -> Result<(), Errno> {
        if io.is_empty() && timeout_ns != Some(0) {
            self.wait_on(word, expected, timeout_ns);
            return if signals::interrupted() { Err(Errno::EINTR) } else { Ok(()) };
        }
        ready::wait_io(word, expected, io, timeout_ns)
    }

    fn ioset_create(&self, wake: &AtomicU32) -> Result<IoSetId, Errno> {
        ready::ioset_create(wake)
    }

    fn ioset_ctl(&self, set: IoSetId, op: IoSetOp, handle: IoHandle, events: u32, key: u64) -> Result<(), Errno> {
        ready::ioset_ctl(set, op, handle, events, key)
    }

    fn ioset_wait(&self, set: IoSetId, out: &mut [IoEvent], timeout_ns: Option<u64>) -> Result<usize, Errno> {
        ready::ioset_wait(set, out, timeout_ns)
    }

    fn ioset_handle(&self, set: IoSetId) -> Option<IoHandle> {
        Some(ready::ioset_handle(set))
    }

    fn ioset_destroy(&self, set: IoSetId) {
        ready::ioset_destroy(set)
    }

    fn socket(&self, domain: i32, ty: i32, protocol: i32) -> Result<Arc<dyn File>, Errno> {
        Ok(net::HostSocket::open(domain, ty, protocol)?)
    }

    fn timers_changed(&self) {
        crate::timer_thread::timers_changed();
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

    /// The host's `/dev/tty`, opened on first use and kept: whether the host process
    /// has a controlling terminal is whether that open succeeds.
    fn controlling_tty(&self) -> Option<Arc<dyn File>> {
        ensure_host_tls();
        static HOST_TTY: OnceLock<Option<i32>> = OnceLock::new();
        let fd = *HOST_TTY.get_or_init(|| {
            // SAFETY: a NUL-terminated path; the fd is kept for the life of the process.
            let fd = unsafe { libc::open(c"/dev/tty".as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
            (fd >= 0).then_some(fd)
        });
        fd.map(|fd| Arc::new(HostFd(fd)) as Arc<dyn File>)
    }

    /// What the host's own `/proc/self/fd/N` says: the terminal, pipe or file the
    /// console is.
    fn console_name(&self, fd: u32) -> Option<Vec<u8>> {
        ensure_host_tls();
        let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
        Some(target.as_os_str().as_bytes().to_vec())
    }

    fn cpuid(&self, leaf: u32, subleaf: u32) -> Option<[u32; 4]> {
        // SAFETY: CPUID exists on every x86-64 CPU and only reads identification
        // registers. (Older compilers declare the intrinsic unsafe.)
        #[allow(unused_unsafe)]
        let r = unsafe { std::arch::x86_64::__cpuid_count(leaf, subleaf) };
        Some([r.eax, r.ebx, r.ecx, r.edx])
    }

    /// The host's name servers: guest sockets are host sockets, so the guest asks what
    /// the host asks (none if the host names none: both then use 127.0.0.1).
    fn nameservers(&self) -> Vec<Vec<u8>> {
        ensure_host_tls();
        let Ok(conf) = std::fs::read("/etc/resolv.conf") else { return Vec::new() };
        conf.split(|&b| b == b'\n')
            .filter_map(|line| {
                let mut words = line.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty());
                (words.next()? == b"nameserver").then(|| words.next().map(<[u8]>::to_vec)).flatten()
            })
            .collect()
    }

    /// The host's vDSO and its data pages (once lent to the guest) and the vsyscall
    /// page, as the host's `/proc/self/maps` lists them.
    fn foreign_mappings(&self) -> Vec<ForeignMapping> {
        ensure_host_tls();
        static HOST_MAPPINGS: OnceLock<Vec<ForeignMapping>> = OnceLock::new();
        let lent = VDSO_LENT.load(Ordering::Relaxed);
        let all = HOST_MAPPINGS.get_or_init(host_special_mappings);
        all.iter().filter(|m| lent || m.name == b"[vsyscall]").cloned().collect()
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
        if let Some(kernel) = libos::Kernel::try_get() {
            kernel.flush_for_exit();
        }
        stats::report();
        // SAFETY: ends the process; nothing of the guest or libOS needs unwinding.
        unsafe { libc::_exit(status) }
    }

    fn exit_by_signal(&self, sig: u32) -> ! {
        ensure_host_tls();
        if let Some(kernel) = libos::Kernel::try_get() {
            kernel.flush_for_exit();
        }
        stats::report();
        // The guest's core dump is not unify's: no core file of the unify process.
        crate::die_by_signal(sig as i32)
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

/// Set once the guest has been given the host's vDSO (`AT_SYSINFO_EHDR`).
static VDSO_LENT: AtomicBool = AtomicBool::new(false);

/// Records that the guest was given the host's vDSO: `/proc/self/maps` shows it.
pub fn note_vdso_lent() {
    VDSO_LENT.store(true, Ordering::Relaxed);
    if let Some(vdso) = host_special_mappings().into_iter().find(|m| m.name == b"[vdso]") {
        crate::signals::note_guest_code(vdso.start, vdso.end);
    }
}

/// The kernel-provided mappings of this process (`[vvar]`, `[vvar_vclock]`, `[vdso]`,
/// `[vsyscall]`), from its `/proc/self/maps`.
fn host_special_mappings() -> Vec<ForeignMapping> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return Vec::new() };
    let mut out = Vec::new();
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(range), Some(perms), Some(name)) = (fields.first(), fields.get(1), fields.get(5)) else { continue };
        if !matches!(*name, "[vvar]" | "[vvar_vclock]" | "[vdso]" | "[vsyscall]") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16)) else { continue };
        let bits = perms.bytes().zip([1u32, 2, 4]).filter(|&(c, _)| c != b'-').fold(0, |acc, (_, bit)| acc | bit);
        out.push(ForeignMapping { start, end, prot: Prot::from_bits_truncate(bits), name: name.as_bytes().to_vec() });
    }
    out
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
