//! `libos::Platform` for the VM: the scheduler, the page tables, the clocks, the serial
//! console and the exit device behind the libOS.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use libos::abi::{Rlimit, Timespec, Utsname};
use libos::context::GuestContext;
use libos::cpuset::CpuSet;
use libos::file::File;
use libos::futex::FutexOp;
use libos::limits::RLIMIT_NLIMITS;
use libos::mm::Prot;
use libos::platform::{ForeignMapping, HostInfo, ShmId};
use libos::rusage::{Rusage, RusageWho};
use libos::thread::{ThreadShared, ThreadStart};
use libos::time::ClockId;
use libos::{Errno, Kernel, Platform, SysResult};

use crate::sched::{self, Task};
use crate::{clock, exit, guest_memory, shm, stdio};

pub struct MetalPlatform;

pub static PLATFORM: MetalPlatform = MetalPlatform;

/// The libOS's timers may have a new earliest deadline: look at them before the CPU
/// next leaves the kernel.
pub static TIMERS_CHANGED: AtomicBool = AtomicBool::new(false);

/// The running task (a guest thread's, while the libOS serves it).
fn task() -> &'static mut Task {
    // SAFETY: the running task lives while it runs; only its own CPU path uses it.
    unsafe { &mut *sched::current() }
}

fn timespec(ns: u64) -> Timespec {
    Timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 }
}

fn uts_field(dst: &mut [u8; 65], src: &[u8]) {
    let n = src.len().min(64);
    dst[..n].copy_from_slice(&src[..n]);
}

/// Linux's limits for a process started by the kernel (init's), as a VM's program is.
fn default_rlimits() -> [Rlimit; RLIMIT_NLIMITS] {
    const INF: u64 = u64::MAX;
    let lim = |cur, max| Rlimit { rlim_cur: cur, rlim_max: max };
    let mut r = [lim(INF, INF); RLIMIT_NLIMITS];
    r[3] = lim(8 << 20, INF); // STACK
    r[4] = lim(0, INF); // CORE
    r[6] = lim(63_429, 63_429); // NPROC
    r[7] = lim(1024, 4096); // NOFILE
    r[8] = lim(8 << 20, 8 << 20); // MEMLOCK
    r[11] = lim(63_429, 63_429); // SIGPENDING
    r[12] = lim(819_200, 819_200); // MSGQUEUE
    r[13] = lim(0, 0); // NICE
    r[14] = lim(0, 0); // RTPRIO
    r
}

impl Platform for MetalPlatform {
    fn map_anonymous(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        guest_memory::map_anonymous(addr, len, prot)
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        guest_memory::unmap(addr, len)
    }

    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        guest_memory::protect(addr, len, prot)
    }

    fn move_pages(&self, old: u64, new: u64, len: u64) -> Result<(), Errno> {
        guest_memory::move_pages(old, new, len)
    }

    fn discard(&self, addr: u64, len: u64) -> Result<(), Errno> {
        guest_memory::discard(addr, len)
    }

    fn residency(&self, addr: u64, len: u64, out: &mut [u8]) -> Result<(), Errno> {
        guest_memory::residency(addr, len, out)
    }

    fn shm_create(&self, len: u64) -> Result<ShmId, Errno> {
        shm::create(len)
    }

    fn shm_resize(&self, id: ShmId, len: u64) -> Result<(), Errno> {
        shm::resize(id, len)
    }

    fn shm_read(&self, id: ShmId, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
        shm::read(id, offset, buf)
    }

    fn shm_write(&self, id: ShmId, offset: u64, data: &[u8]) -> Result<(), Errno> {
        shm::write(id, offset, data)
    }

    fn shm_map(&self, id: ShmId, offset: u64, addr: u64, len: u64, prot: Prot, shared: bool) -> Result<(), Errno> {
        shm::map(id, offset, addr, len, prot, shared)
    }

    fn shm_release(&self, id: ShmId) {
        shm::release(id);
    }

    fn now(&self, clock_id: ClockId) -> Timespec {
        match clock_id {
            ClockId::Realtime | ClockId::RealtimeCoarse | ClockId::RealtimeAlarm | ClockId::Tai => {
                timespec(clock::realtime_ns())
            }
            // CPU time is not accounted per task yet: the CPU clocks follow the monotonic
            // clock (docs/compat.md).
            _ => timespec(clock::monotonic_ns()),
        }
    }

    fn resolution(&self, clock_id: ClockId) -> Timespec {
        match clock_id {
            ClockId::RealtimeCoarse | ClockId::MonotonicCoarse => timespec(sched::TICK_NS),
            _ => timespec(1),
        }
    }

    fn sleep(&self, ns: u64) -> Result<(), Errno> {
        let deadline = clock::monotonic_ns().saturating_add(ns);
        while clock::monotonic_ns() < deadline {
            if self.interrupted() {
                return Err(Errno::EINTR);
            }
            sched::block(None, Some(deadline));
        }
        if self.interrupted() {
            return Err(Errno::EINTR);
        }
        Ok(())
    }

    fn wait_on(&self, word: &AtomicU32, expected: u32, timeout_ns: Option<u64>) {
        if word.load(Ordering::SeqCst) != expected || self.interrupted() {
            return;
        }
        let deadline = timeout_ns.map(|ns| clock::monotonic_ns().saturating_add(ns));
        sched::block(Some(word.as_ptr() as u64), deadline);
    }

    fn interrupted(&self) -> bool {
        task().thread.as_ref().is_some_and(|t| t.shared.hinted())
    }

    fn wake_all(&self, word: &AtomicU32) {
        sched::wake_word(word.as_ptr() as u64);
    }

    fn socket(&self, domain: i32, ty: i32, protocol: i32) -> Result<Arc<dyn File>, Errno> {
        crate::net::socket(domain, ty, protocol)
    }

    fn timers_changed(&self) {
        TIMERS_CHANGED.store(true, Ordering::SeqCst);
    }

    fn fill_random(&self, buf: &mut [u8]) {
        crate::random::fill(buf);
    }

    fn console(&self) -> [Arc<dyn File>; 3] {
        stdio::files()
    }

    fn cpu_mask(&self) -> u64 {
        1
    }

    fn host_info(&self) -> HostInfo {
        let mut uts = Utsname::default();
        uts_field(&mut uts.nodename, b"unify");
        uts_field(&mut uts.release, b"6.1.0-unify");
        uts_field(&mut uts.version, b"#1 SMP unify-kernel");
        uts_field(&mut uts.machine, b"x86_64");
        uts_field(&mut uts.domainname, b"(none)");
        let (total, free) = crate::heap::usage();
        // The program is the VM's only process; it gets pid 2, as the first child of an
        // init would (pid 1 would make it init, which Linux treats differently).
        HostInfo { uts, pid: 2, ppid: 1, uid: 0, gid: 0, total_ram: total, free_ram: free, rlimits: default_rlimits() }
    }

    fn cpuid(&self, leaf: u32, subleaf: u32) -> Option<[u32; 4]> {
        let r = crate::cpu::cpuid(leaf, subleaf);
        Some([r.eax, r.ebx, r.ecx, r.edx])
    }

    fn nameservers(&self) -> Vec<Vec<u8>> {
        // 10.0.2.3 on QEMU's user network, else the configured or leased ones.
        crate::net::nameservers()
    }

    fn log(&self, line: &str) {
        stdio::log_line(line);
    }

    fn foreign_mappings(&self) -> Vec<ForeignMapping> {
        crate::vdso::mappings()
    }

    fn settle_io(&self) {
        crate::net::poll_if_due();
    }

    fn exit_process(&self, status: i32) -> ! {
        // Data the guest's last sends left for the next poll goes out now.
        crate::net::poll_if_due();
        if let Some(kernel) = Kernel::try_get() {
            kernel.flush_for_exit();
        }
        exit::exit((status & 0xff) as u8, "the guest exited")
    }

    fn exit_by_signal(&self, sig: u32) -> ! {
        crate::net::poll_if_due();
        if let Some(kernel) = Kernel::try_get() {
            kernel.flush_for_exit();
        }
        exit::killed(sig)
    }

    fn spawn_thread(&self, start: ThreadStart) -> Result<(), Errno> {
        let parent = task();
        let ThreadStart { thread, stack } = start;
        let fs_base = thread.fs_base;
        let mut child = Task::new(Some(Box::new(thread)), crate::syscall::thread_start);
        child.tcb.regs = parent.tcb.regs;
        child.tcb.regs.rax = 0;
        if let Some(sp) = stack {
            child.tcb.regs.rsp = sp;
        }
        child.tcb.fx = parent.tcb.fx;
        child.tcb.fs_base = fs_base;
        if let Some(th) = child.thread.as_ref() {
            th.shared.set_platform_id(u64::from(th.tid));
        }
        sched::add(child);
        Ok(())
    }

    fn exit_thread(&self, _status: i32) -> ! {
        sched::exit_current()
    }

    fn futex(&self, op: &FutexOp) -> SysResult {
        crate::futex::run(op)
    }

    fn interrupt_thread(&self, thread: &ThreadShared) {
        if let Some(t) = sched::task_of(thread.tid) {
            sched::wake(t);
        }
    }

    fn current_thread(&self) -> Option<Arc<ThreadShared>> {
        task().thread.as_ref().map(|t| t.shared.clone())
    }

    fn syscall_context(&self) -> Option<GuestContext> {
        let t = task();
        t.thread.as_ref()?;
        Some(t.tcb.context())
    }

    fn resume_with(&self, ctx: &GuestContext) {
        let t = task();
        t.tcb.set_context(ctx);
        t.replaced = true;
    }

    fn yield_now(&self) {
        sched::yield_now();
    }

    fn affinity(&self, _thread: Option<u64>) -> Result<CpuSet, Errno> {
        Ok(CpuSet::from_mask(1))
    }

    fn set_affinity(&self, _thread: Option<u64>, set: &CpuSet) -> Result<(), Errno> {
        // Only CPU 0 exists: a set without it is refused, as Linux refuses a set of no
        // online CPU.
        if set.bytes()[0] & 1 == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    fn current_cpu(&self) -> (u32, u32) {
        (0, 0)
    }

    fn membarrier(&self, _global: bool) -> Result<(), Errno> {
        // One CPU: every other thread is off it, and a switch is a full barrier.
        Ok(())
    }

    fn rusage(&self, _who: RusageWho) -> Rusage {
        Rusage::default()
    }
}
