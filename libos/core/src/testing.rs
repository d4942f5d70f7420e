//! A fake [`Platform`] for unit tests.
//!
//! [`FakePlatform`] records every memory operation that reaches it, so a test can assert
//! exactly what the libOS asked of the hardware; its clocks stand still except when the
//! libOS sleeps (which advances them by the time slept, so timeouts end); its random bytes
//! are a fixed sequence; its console is three [`MemFile`]s; and ending the process panics
//! with a message that names the status, for `#[should_panic(expected = ...)]`.
//!
//! Waits ([`Platform::wait_on`]) behave as the trait's default — a sleep, which only
//! advances the clocks — unless the platform was made with
//! [`FakePlatform::with_real_waits`], for tests with real threads: then a wait without
//! a timeout blocks its thread until [`Platform::wake_all`] or
//! [`FakePlatform::interrupt`], a thread can be marked as having a signal to take
//! ([`Platform::interrupted`]), and a test can run code inside the next wait
//! ([`FakePlatform::on_next_wait`]).

extern crate std;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::ThreadId;

use crate::abi::{mode, Stat, Timespec, Utsname};
use crate::cpuset::CpuSet;
use crate::file::{events, File};
use crate::futex::{FutexOp, FutexTimeout};
use crate::limits::Limits;
use crate::mm::Prot;
use crate::platform::{HostInfo, Platform};
use crate::rusage::{Rusage, RusageWho};
use crate::thread::ThreadStart;
use crate::time::ClockId;
use crate::{Errno, Kernel, SysResult};

/// One call that reached the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Map { addr: u64, len: u64, prot: Prot },
    Unmap { addr: u64, len: u64 },
    Protect { addr: u64, len: u64, prot: Prot },
    Move { old: u64, new: u64, len: u64 },
    Discard { addr: u64, len: u64 },
    Sleep { ns: u64 },
    ShmMap { id: u64, offset: u64, addr: u64, len: u64, prot: Prot, shared: bool },
}

/// What `now(Realtime)` reads before any sleep: 2023-11-14T22:13:20Z.
pub(crate) const REALTIME_START: Timespec = Timespec { tv_sec: 1_700_000_000, tv_nsec: 0 };
/// What the other clocks read before any sleep.
pub(crate) const MONOTONIC_START: Timespec = Timespec { tv_sec: 1000, tv_nsec: 0 };
/// The start of the panic message of [`FakePlatform::exit_process`]: `"exit_process(3)"`.
pub(crate) const EXIT_PROCESS: &str = "exit_process(";
/// The start of the panic message of [`FakePlatform::exit_by_signal`]: `"exit_by_signal(13)"`.
pub(crate) const EXIT_BY_SIGNAL: &str = "exit_by_signal(";
/// The start of the panic message of [`FakePlatform::exit_thread`]: `"exit_thread(0)"`.
pub(crate) const EXIT_THREAD: &str = "exit_thread(";

/// A platform that records instead of acting.
pub(crate) struct FakePlatform {
    ops: spin::Mutex<Vec<Op>>,
    /// Nanoseconds slept so far; every clock has advanced by this much.
    slept_ns: AtomicU64,
    /// While set, `map_anonymous` fails with ENOMEM (and is not recorded).
    pub fail_map: AtomicBool,
    rng: AtomicU64,
    /// The console: stdin, stdout, stderr.
    pub console: [Arc<MemFile>; 3],
    pub host: HostInfo,
    pub log: spin::Mutex<Vec<String>>,
    /// Shareable memory objects by id (`shm_*`); released ones are gone.
    pub shm: spin::Mutex<alloc::collections::BTreeMap<u64, Vec<u8>>>,
    next_shm: AtomicU64,
    /// How many times the libOS said a timer deadline may have moved.
    pub timers_changed: AtomicU64,
    /// Whether waits are real ([`FakePlatform::with_real_waits`]).
    real_waits: bool,
    /// Where a real wait without a timeout blocks: every `wake_all` and `interrupt`
    /// wakes every such wait, which looks at its word again.
    waits: (std::sync::Mutex<()>, std::sync::Condvar),
    /// Threads with a signal to take ([`FakePlatform::interrupt`]).
    interrupted: spin::Mutex<Vec<ThreadId>>,
    /// Run by the next real wait ([`FakePlatform::on_next_wait`]).
    on_wait: spin::Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl FakePlatform {
    /// An unprivileged guest (uid 1000) with Linux's default limits and an empty stdin.
    pub fn new() -> FakePlatform {
        let mut uts = Utsname::default();
        crate::abi::set_uts_field(&mut uts.sysname, b"Linux");
        crate::abi::set_uts_field(&mut uts.nodename, b"fake");
        crate::abi::set_uts_field(&mut uts.release, b"6.1.0-fake");
        crate::abi::set_uts_field(&mut uts.version, b"#1 SMP");
        crate::abi::set_uts_field(&mut uts.machine, b"x86_64");
        FakePlatform {
            ops: spin::Mutex::new(Vec::new()),
            slept_ns: AtomicU64::new(0),
            fail_map: AtomicBool::new(false),
            rng: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
            console: [MemFile::new(b""), MemFile::new(b""), MemFile::new(b"")],
            host: HostInfo {
                uts,
                pid: 4242,
                ppid: 1,
                uid: 1000,
                gid: 1000,
                total_ram: 8 << 30,
                free_ram: 4 << 30,
                rlimits: Limits::linux_defaults(),
            },
            log: spin::Mutex::new(Vec::new()),
            shm: spin::Mutex::new(alloc::collections::BTreeMap::new()),
            next_shm: AtomicU64::new(1),
            timers_changed: AtomicU64::new(0),
            real_waits: false,
            waits: (std::sync::Mutex::new(()), std::sync::Condvar::new()),
            interrupted: spin::Mutex::new(Vec::new()),
            on_wait: spin::Mutex::new(None),
        }
    }

    /// A platform whose waits are real, for tests with real threads. A wait without a
    /// timeout blocks its thread until the word moves from the expected value (looked
    /// at after each [`Platform::wake_all`]) or the thread is
    /// [interrupted](FakePlatform::interrupt). A wait with a timeout is still a sleep
    /// of the whole timeout (the clocks only move when the libOS sleeps), unless the
    /// word has moved or the thread is interrupted.
    pub fn with_real_waits() -> FakePlatform {
        FakePlatform { real_waits: true, ..FakePlatform::new() }
    }

    /// Marks `thread` as having a signal to take: [`Platform::interrupted`] is true on
    /// it from now on (until [`FakePlatform::clear_interrupt`]), and a real wait it is
    /// blocked in returns, as `Platform::interrupt_thread` makes it on a real platform.
    pub fn interrupt(&self, thread: ThreadId) {
        self.interrupted.lock().push(thread);
        self.notify_waits();
    }

    /// Undoes [`FakePlatform::interrupt`] (the signal was taken).
    pub fn clear_interrupt(&self, thread: ThreadId) {
        self.interrupted.lock().retain(|&t| t != thread);
    }

    /// Runs `f` once, on the waiting thread, at the start of the next real wait,
    /// before the wait looks at its word: what another thread might do while the
    /// caller is about to sleep, made deterministic.
    pub fn on_next_wait(&self, f: impl FnOnce() + Send + 'static) {
        *self.on_wait.lock() = Some(Box::new(f));
    }

    fn notify_waits(&self) {
        let _held = self.waits.0.lock().unwrap_or_else(|e| e.into_inner());
        self.waits.1.notify_all();
    }

    /// The same, with `stdin` serving `input`.
    pub fn with_stdin(input: &[u8]) -> FakePlatform {
        let mut p = FakePlatform::new();
        p.console[0] = MemFile::new(input);
        p
    }

    /// Leaks `self` for the `&'static dyn Platform` that [`crate::Kernel::new`] wants.
    pub fn leak(self) -> &'static FakePlatform {
        alloc::boxed::Box::leak(alloc::boxed::Box::new(self))
    }

    /// The calls recorded so far (and forgets them).
    pub fn take_ops(&self) -> Vec<Op> {
        core::mem::take(&mut *self.ops.lock())
    }

    /// The calls recorded so far.
    pub fn ops(&self) -> Vec<Op> {
        self.ops.lock().clone()
    }

    /// Total nanoseconds slept.
    pub fn slept_ns(&self) -> u64 {
        self.slept_ns.load(Ordering::Relaxed)
    }

    fn record(&self, op: Op) {
        self.ops.lock().push(op);
    }
}

impl Default for FakePlatform {
    fn default() -> Self {
        FakePlatform::new()
    }
}

fn advance(start: Timespec, ns: u64) -> Timespec {
    let total = start.to_nanos().expect("start times are valid").saturating_add(ns);
    Timespec::from_nanos(total)
}

impl Platform for FakePlatform {
    fn map_anonymous(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        if self.fail_map.load(Ordering::Relaxed) {
            return Err(Errno::ENOMEM);
        }
        self.record(Op::Map { addr, len, prot });
        Ok(())
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        self.record(Op::Unmap { addr, len });
        Ok(())
    }

    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        self.record(Op::Protect { addr, len, prot });
        Ok(())
    }

    fn move_pages(&self, old: u64, new: u64, len: u64) -> Result<(), Errno> {
        self.record(Op::Move { old, new, len });
        Ok(())
    }

    fn discard(&self, addr: u64, len: u64) -> Result<(), Errno> {
        self.record(Op::Discard { addr, len });
        Ok(())
    }

    fn residency(&self, _addr: u64, _len: u64, out: &mut [u8]) -> Result<(), Errno> {
        // Everything is resident.
        out.fill(1);
        Ok(())
    }

    fn shm_create(&self, len: u64) -> Result<u64, Errno> {
        let id = self.next_shm.fetch_add(1, Ordering::Relaxed);
        self.shm.lock().insert(id, alloc::vec![0u8; len as usize]);
        Ok(id)
    }

    fn shm_resize(&self, id: u64, len: u64) -> Result<(), Errno> {
        self.shm.lock().get_mut(&id).ok_or(Errno::EBADF)?.resize(len as usize, 0);
        Ok(())
    }

    fn shm_read(&self, id: u64, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let shm = self.shm.lock();
        let obj = shm.get(&id).ok_or(Errno::EBADF)?;
        let start = offset as usize;
        buf.copy_from_slice(obj.get(start..start + buf.len()).ok_or(Errno::EINVAL)?);
        Ok(())
    }

    fn shm_write(&self, id: u64, offset: u64, data: &[u8]) -> Result<(), Errno> {
        let mut shm = self.shm.lock();
        let obj = shm.get_mut(&id).ok_or(Errno::EBADF)?;
        let start = offset as usize;
        obj.get_mut(start..start + data.len()).ok_or(Errno::EINVAL)?.copy_from_slice(data);
        Ok(())
    }

    fn shm_map(&self, id: u64, offset: u64, addr: u64, len: u64, prot: Prot, shared: bool) -> Result<(), Errno> {
        self.shm.lock().get(&id).ok_or(Errno::EBADF)?;
        self.record(Op::ShmMap { id, offset, addr, len, prot, shared });
        Ok(())
    }

    fn shm_release(&self, id: u64) {
        self.shm.lock().remove(&id);
    }

    fn now(&self, clock: ClockId) -> Timespec {
        let start = match clock {
            ClockId::Realtime | ClockId::RealtimeCoarse | ClockId::RealtimeAlarm | ClockId::Tai => REALTIME_START,
            _ => MONOTONIC_START,
        };
        advance(start, self.slept_ns())
    }

    fn resolution(&self, clock: ClockId) -> Timespec {
        match clock {
            ClockId::RealtimeCoarse | ClockId::MonotonicCoarse => Timespec::from_nanos(4_000_000),
            _ => Timespec::from_nanos(1),
        }
    }

    fn sleep(&self, ns: u64) -> Result<(), Errno> {
        self.record(Op::Sleep { ns });
        self.slept_ns.fetch_add(ns, Ordering::Relaxed);
        Ok(())
    }

    fn wait_on(&self, word: &AtomicU32, expected: u32, timeout_ns: Option<u64>) {
        if !self.real_waits {
            // The trait's default.
            if word.load(Ordering::Acquire) == expected {
                let _ = self.sleep(timeout_ns.unwrap_or(10_000_000));
            }
            return;
        }
        let hook = self.on_wait.lock().take();
        if let Some(f) = hook {
            f();
        }
        match timeout_ns {
            Some(ns) => {
                if word.load(Ordering::Acquire) == expected && !self.interrupted() {
                    let _ = self.sleep(ns);
                }
            }
            None => {
                let mut held = self.waits.0.lock().unwrap_or_else(|e| e.into_inner());
                while word.load(Ordering::Acquire) == expected && !self.interrupted() {
                    held = self.waits.1.wait(held).unwrap_or_else(|e| e.into_inner());
                }
            }
        }
    }

    fn interrupted(&self) -> bool {
        let me = std::thread::current().id();
        self.interrupted.lock().contains(&me)
    }

    fn wake_all(&self, _word: &AtomicU32) {
        // The word was changed before this call; a real wait checks it with the
        // condition variable's lock held, so it cannot miss this notification.
        self.notify_waits();
    }

    fn timers_changed(&self) {
        self.timers_changed.fetch_add(1, Ordering::Relaxed);
    }

    fn fill_random(&self, buf: &mut [u8]) {
        for b in buf {
            // xorshift64: deterministic, which is all a test needs.
            let mut x = self.rng.load(Ordering::Relaxed);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.rng.store(x, Ordering::Relaxed);
            *b = x as u8;
        }
    }

    fn console(&self) -> [Arc<dyn File>; 3] {
        let [a, b, c] = &self.console;
        [a.clone(), b.clone(), c.clone()]
    }

    fn cpu_mask(&self) -> u64 {
        0b11
    }

    fn host_info(&self) -> HostInfo {
        self.host.clone()
    }

    fn log(&self, line: &str) {
        self.log.lock().push(line.to_string());
    }

    fn exit_process(&self, status: i32) -> ! {
        panic!("{EXIT_PROCESS}{status})");
    }

    fn exit_by_signal(&self, sig: u32) -> ! {
        panic!("{EXIT_BY_SIGNAL}{sig})");
    }

    fn spawn_thread(&self, _start: ThreadStart) -> Result<(), Errno> {
        // The fake runs no guest code.
        Err(Errno::EAGAIN)
    }

    fn exit_thread(&self, status: i32) -> ! {
        panic!("{EXIT_THREAD}{status})");
    }

    fn futex(&self, op: &FutexOp) -> SysResult {
        // One thread: a wake finds nobody; a wait sleeps out its timeout.
        match *op {
            FutexOp::Wait { timeout: Some(FutexTimeout::Relative(t)), .. } => {
                let _ = self.sleep(t.to_nanos().unwrap_or(0));
                Err(Errno::ETIMEDOUT)
            }
            FutexOp::Wait { timeout: Some(FutexTimeout::Absolute { clock, at }), .. } => {
                let now = self.now(clock).to_nanos().unwrap_or(0);
                let _ = self.sleep(at.to_nanos().unwrap_or(0).saturating_sub(now));
                Err(Errno::ETIMEDOUT)
            }
            FutexOp::Wait { timeout: None, .. } => panic!("a futex wait with no timeout and no other thread"),
            _ => Ok(0),
        }
    }

    fn yield_now(&self) {}

    fn affinity(&self, _thread: Option<u64>) -> Result<CpuSet, Errno> {
        Ok(CpuSet::from_mask(self.cpu_mask()))
    }

    fn set_affinity(&self, _thread: Option<u64>, set: &CpuSet) -> Result<(), Errno> {
        if set.words[0] & self.cpu_mask() == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    fn current_cpu(&self) -> (u32, u32) {
        (0, 0)
    }

    fn membarrier(&self, _global: bool) -> Result<(), Errno> {
        Ok(())
    }

    fn rusage(&self, _who: RusageWho) -> Rusage {
        Rusage::default()
    }
}

/// An in-memory character device: reads come from a preset buffer (then end of file),
/// writes are captured.
pub(crate) struct MemFile {
    input: spin::Mutex<(Vec<u8>, usize)>,
    output: spin::Mutex<Vec<u8>>,
    /// Every `set_nonblocking` call, in order.
    pub nonblocking_calls: spin::Mutex<Vec<bool>>,
    /// While set, `set_nonblocking` fails with EINVAL.
    pub refuse_nonblocking: AtomicBool,
}

impl MemFile {
    pub fn new(input: &[u8]) -> Arc<MemFile> {
        Arc::new(MemFile {
            input: spin::Mutex::new((input.to_vec(), 0)),
            output: spin::Mutex::new(Vec::new()),
            nonblocking_calls: spin::Mutex::new(Vec::new()),
            refuse_nonblocking: AtomicBool::new(false),
        })
    }

    /// Everything written so far.
    pub fn output(&self) -> Vec<u8> {
        self.output.lock().clone()
    }

    fn unread(&self) -> usize {
        let input = self.input.lock();
        input.0.len() - input.1
    }
}

impl File for MemFile {
    fn read(&self, buf: &mut [u8], _nonblock: bool) -> SysResult {
        let mut input = self.input.lock();
        let (data, pos) = &mut *input;
        let n = buf.len().min(data.len() - *pos);
        buf[..n].copy_from_slice(&data[*pos..*pos + n]);
        *pos += n;
        Ok(n)
    }

    fn write(&self, buf: &[u8], _nonblock: bool) -> SysResult {
        self.output.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            st_mode: mode::S_IFCHR | 0o620,
            st_rdev: 136 << 8, // /dev/pts/0
            st_nlink: 1,
            st_blksize: 1024,
            ..Stat::default()
        })
    }

    fn poll(&self, wanted: u16) -> u16 {
        let mut ready = events::POLLOUT | events::POLLWRNORM;
        if self.unread() > 0 {
            ready |= events::POLLIN | events::POLLRDNORM;
        }
        wanted & ready
    }

    fn set_nonblocking(&self, on: bool) -> Result<(), Errno> {
        if self.refuse_nonblocking.load(Ordering::Relaxed) {
            return Err(Errno::EINVAL);
        }
        self.nonblocking_calls.lock().push(on);
        Ok(())
    }
}

/// A deterministic xorshift64 generator for randomized tests.
pub(crate) struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A [`Kernel`] over `platform`, with fds 0-2 its console opened read-write (as a
/// terminal is), and a small memory window.
pub(crate) fn kernel_on(platform: FakePlatform) -> (&'static FakePlatform, Kernel) {
    let platform = platform.leak();
    let mm = crate::mm::MemoryMap::new(0x10_0000, 0x1_0000_0000, 0x8000_0000);
    let rw = crate::file::oflags::O_RDWR;
    let clock: crate::vfs::Clock = alloc::sync::Arc::new(move || platform.now(crate::time::ClockId::Realtime));
    let root = crate::vfs::TmpFs::new(clock.clone());
    let vfs = crate::vfs::Vfs::new(root, crate::vfs::MountFlags::default(), b"tmpfs", clock);
    let setup = crate::kernel::ProcessSetup {
        exe_path: b"/usr/bin/fake-test",
        argv: &[b"fake-test".to_vec()],
        env: &[],
        console_flags: [rw, rw, rw],
        vfs,
    };
    (platform, Kernel::new(platform, mm, setup))
}
