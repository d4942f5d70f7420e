//! Tests of the pseudo-filesystems, through the [`Vfs`] as the syscall layer uses it.
//!
//! Every test mounts everything with [`mount_all`] on a fresh kernel over a fake
//! platform ([`Px`]); [`Rich`] is a platform that also answers the optional
//! questions (CPUID, terminal, console names, DNS, foreign mappings).

mod devfs;
mod etc;
mod mounts;
mod procfs_fd;
mod procfs_process;
mod procfs_system;
mod sysfs;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::{mount_all, PseudoMounts};
use crate::abi::{Stat, Timespec};
use crate::cpuset::CpuSet;
use crate::file::{File, OpenFile};
use crate::futex::FutexOp;
use crate::mm::Prot;
use crate::platform::{ForeignMapping, HostInfo, Platform};
use crate::rusage::{Rusage, RusageWho};
use crate::testing::{kernel_on, FakePlatform, MemFile};
use crate::thread::ThreadStart;
use crate::time::ClockId;
use crate::vfs::oflags::*;
use crate::vfs::{At, Clock};
use crate::{Errno, Kernel, SysResult};

const CWD: &At = &At::Cwd;

/// A kernel with everything mounted and procfs attached.
struct Px {
    k: &'static Kernel,
    _mounts: PseudoMounts,
}

impl Px {
    fn new() -> Px {
        Px::on(FakePlatform::new())
    }

    fn on(platform: FakePlatform) -> Px {
        let (_, kernel) = kernel_on(platform);
        Px::with_kernel(kernel)
    }

    /// Everything mounted on `kernel`'s namespace (whose platform the kernel holds).
    fn with_kernel(kernel: Kernel) -> Px {
        let k: &'static Kernel = Box::leak(Box::new(kernel));
        let platform = k.platform;
        let clock: Clock = Arc::new(move || platform.now(ClockId::Realtime));
        let mounts = mount_all(&k.vfs, platform, clock).expect("mount_all on a fresh root");
        mounts.attach(k);
        Px { k, _mounts: mounts }
    }

    /// A kernel over [`Rich`].
    fn rich() -> Px {
        Px::with_kernel(rich_kernel(Rich::new()))
    }

    fn open(&self, path: &str, flags: u32) -> Result<Arc<OpenFile>, Errno> {
        let file = self.k.vfs.open(CWD, path.as_bytes(), flags, 0o644)?;
        Ok(OpenFile::new(file, status_flags(flags)))
    }

    /// Opens `path` and installs it as an fd, as `openat` does.
    fn open_fd(&self, path: &str, flags: u32) -> i32 {
        let open = self.open(path, flags).unwrap();
        self.k.fds.lock().insert(open, flags & O_CLOEXEC != 0).unwrap()
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, Errno> {
        read_all(&*self.open(path, O_RDONLY)?)
    }

    fn text(&self, path: &str) -> String {
        String::from_utf8(self.read(path).unwrap()).unwrap()
    }

    fn write(&self, path: &str, data: &[u8]) -> Result<usize, Errno> {
        self.open(path, O_WRONLY)?.write(data)
    }

    fn readlink(&self, path: &str) -> Result<Vec<u8>, Errno> {
        self.k.vfs.readlink(CWD, path.as_bytes())
    }

    fn link_text(&self, path: &str) -> String {
        String::from_utf8(self.readlink(path).unwrap()).unwrap()
    }

    fn stat(&self, path: &str) -> Result<Stat, Errno> {
        self.k.vfs.stat(CWD, path.as_bytes(), true)
    }

    fn lstat(&self, path: &str) -> Result<Stat, Errno> {
        self.k.vfs.stat(CWD, path.as_bytes(), false)
    }

    /// The names in directory `path`, without `.` and `..`, in listing order.
    fn names(&self, path: &str) -> Vec<String> {
        let dir = self.open(path, O_RDONLY | O_DIRECTORY).unwrap();
        let mut names = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            let n = dir.file.getdents64(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            let mut at = 0;
            while at < n {
                let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
                let name = &buf[at + 19..at + reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap()];
                if name != b"." && name != b".." {
                    names.push(String::from_utf8(name.to_vec()).unwrap());
                }
                at += reclen;
            }
        }
        names
    }

    fn pid(&self) -> u32 {
        self.k.identity.pid
    }

    /// The value of `key` in a `Key:\tvalue` file.
    fn field(&self, path: &str, key: &str) -> String {
        let text = self.text(path);
        let prefix = alloc::format!("{key}:");
        let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("{key} in {path}"));
        line[prefix.len()..].trim().into()
    }
}

/// Reads an open file to its end.
fn read_all(f: &OpenFile) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut buf = [0u8; 700];
    loop {
        match f.read(&mut buf)? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// The errno of a result that must fail.
#[track_caller]
fn err<T>(r: Result<T, Errno>) -> Errno {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// The `S_IFMT` bits of a mode.
fn kind(st: &Stat) -> u32 {
    st.st_mode & crate::abi::mode::S_IFMT
}

/// A platform that answers every optional question: a fake CPU (`CPUID`), a
/// controlling terminal, console names, two DNS servers and a lent vDSO.
struct Rich {
    base: &'static FakePlatform,
    pub tty: Arc<MemFile>,
}

/// CPUID of the fake CPU: "GenuineIntel", family 6 model 0x55 stepping 7,
/// `fpu sse2 avx2` and an L3 of 16 MiB.
fn fake_cpuid(leaf: u32, subleaf: u32) -> Option<[u32; 4]> {
    let text = |s: &[u8; 16]| {
        let w = |i: usize| u32::from_le_bytes(s[4 * i..4 * i + 4].try_into().unwrap());
        [w(0), w(1), w(2), w(3)]
    };
    Some(match (leaf, subleaf) {
        // Max leaf 0x16; "Genu" "ineI" "ntel" in ebx, edx, ecx.
        (0, _) => [0x16, 0x756e_6547, 0x6c65_746e, 0x4965_6e69],
        // Family 6, model 0x55 (ext 5, base 5), stepping 7; CLFLUSH 8 × 8 bytes;
        // EDX fpu (0) sse2 (26).
        (1, _) => [0x0005_0657, 8 << 8, 0, 1 | (1 << 26)],
        // Deterministic cache parameters: L1d (level 1), L3 (level 3) of
        // 16 ways × 1 partition × 64 bytes × 16384 sets = 16 MiB, then the end.
        (4, 0) => [1 | (1 << 5), (7 << 22) | 63, 63, 0],
        (4, 1) => [3 | (3 << 5), (15 << 22) | 63, 16383, 0],
        (4, _) => [0, 0, 0, 0],
        (7, 0) => [0, 1 << 5, 0, 0],
        (0x16, _) => [2200, 3000, 100, 0],
        (0x8000_0000, _) => [0x8000_0008, 0, 0, 0],
        (0x8000_0002, _) => text(b"Fake(R) CPU @ 2."),
        (0x8000_0003, _) => text(b"20GHz\0\0\0\0\0\0\0\0\0\0\0"),
        (0x8000_0004, _) => [0; 4],
        (0x8000_0008, _) => [0x3027, 0, 0, 0],
        _ => [0; 4],
    })
}

impl Rich {
    fn new() -> Rich {
        Rich { base: FakePlatform::new().leak(), tty: MemFile::new(b"typed") }
    }
}

fn rich_kernel(rich: Rich) -> Kernel {
    let platform: &'static Rich = Box::leak(Box::new(rich));
    let mm = crate::mm::MemoryMap::new(0x10_0000, 0x1_0000_0000, 0x8000_0000);
    let clock: Clock = Arc::new(move || platform.now(ClockId::Realtime));
    let root = crate::vfs::TmpFs::new(clock.clone());
    let vfs = crate::vfs::Vfs::new(root, crate::vfs::MountFlags::default(), b"tmpfs", clock);
    let rw = O_RDWR;
    let setup = crate::kernel::ProcessSetup {
        exe_path: b"/bin/rich",
        argv: &[b"rich".to_vec()],
        env: &[],
        console_flags: [rw, rw, rw],
        vfs,
    };
    Kernel::new(platform, mm, setup)
}

impl Platform for Rich {
    fn map_anonymous(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        self.base.map_anonymous(addr, len, prot)
    }
    fn unmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        self.base.unmap(addr, len)
    }
    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        self.base.protect(addr, len, prot)
    }
    fn move_pages(&self, old: u64, new: u64, len: u64) -> Result<(), Errno> {
        self.base.move_pages(old, new, len)
    }
    fn discard(&self, addr: u64, len: u64) -> Result<(), Errno> {
        self.base.discard(addr, len)
    }
    fn residency(&self, addr: u64, len: u64, out: &mut [u8]) -> Result<(), Errno> {
        self.base.residency(addr, len, out)
    }
    fn now(&self, clock: ClockId) -> Timespec {
        self.base.now(clock)
    }
    fn resolution(&self, clock: ClockId) -> Timespec {
        self.base.resolution(clock)
    }
    fn sleep(&self, ns: u64) -> Result<(), crate::Errno> {
        self.base.sleep(ns)
    }
    fn fill_random(&self, buf: &mut [u8]) {
        self.base.fill_random(buf)
    }
    fn console(&self) -> [Arc<dyn File>; 3] {
        self.base.console()
    }
    fn cpu_mask(&self) -> u64 {
        0b1101
    }
    fn host_info(&self) -> HostInfo {
        let mut h = self.base.host_info();
        h.uid = 0;
        h.gid = 0;
        h
    }
    fn log(&self, line: &str) {
        self.base.log(line)
    }
    fn exit_process(&self, status: i32) -> ! {
        self.base.exit_process(status)
    }
    fn exit_by_signal(&self, sig: u32) -> ! {
        self.base.exit_by_signal(sig)
    }
    fn spawn_thread(&self, start: ThreadStart) -> Result<(), Errno> {
        self.base.spawn_thread(start)
    }
    fn exit_thread(&self, status: i32) -> ! {
        self.base.exit_thread(status)
    }
    fn futex(&self, op: &FutexOp) -> SysResult {
        self.base.futex(op)
    }
    fn yield_now(&self) {
        self.base.yield_now()
    }
    fn affinity(&self, thread: Option<u64>) -> Result<CpuSet, Errno> {
        self.base.affinity(thread)
    }
    fn set_affinity(&self, thread: Option<u64>, set: &CpuSet) -> Result<(), Errno> {
        self.base.set_affinity(thread, set)
    }
    fn current_cpu(&self) -> (u32, u32) {
        self.base.current_cpu()
    }
    fn membarrier(&self, global: bool) -> Result<(), Errno> {
        self.base.membarrier(global)
    }
    fn rusage(&self, who: RusageWho) -> Rusage {
        self.base.rusage(who)
    }
    fn controlling_tty(&self) -> Option<Arc<dyn File>> {
        Some(self.tty.clone())
    }
    fn console_name(&self, fd: u32) -> Option<Vec<u8>> {
        Some(alloc::format!("/host/console{fd}").into_bytes())
    }
    fn cpuid(&self, leaf: u32, subleaf: u32) -> Option<[u32; 4]> {
        fake_cpuid(leaf, subleaf)
    }
    fn nameservers(&self) -> Vec<Vec<u8>> {
        vec![b"10.0.2.3".to_vec(), b"fd00::3".to_vec()]
    }
    fn foreign_mappings(&self) -> Vec<ForeignMapping> {
        vec![
            ForeignMapping {
                start: 0x7fff_f7fc_1000,
                end: 0x7fff_f7fc_5000,
                prot: Prot::READ,
                name: b"[vvar]".to_vec(),
            },
            ForeignMapping {
                start: 0x7fff_f7fc_5000,
                end: 0x7fff_f7fc_7000,
                prot: Prot::from_bits_truncate(5),
                name: b"[vdso]".to_vec(),
            },
        ]
    }
}
