//! Shared helpers for the probe programs: raw `syscall` wrappers (so a probe exercises
//! exactly the system call it names, bypassing libc and the vDSO), syscall numbers,
//! errno names and a few constants.
//!
//! Output rule for every probe: print what is observed as *properties* (`ok`,
//! `Err(EINVAL)`, `elapsed >= 20ms: true`), never addresses, timings or random values,
//! so two runs, natively and under unify, print the same bytes.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod fsutil;
pub mod sig;
pub mod sys;

use std::arch::asm;
use std::fmt;
use std::io::Write;

/// x86-64 Linux syscall numbers used by the probes.
pub mod nr {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const FSTAT: usize = 5;
    pub const POLL: usize = 7;
    pub const LSEEK: usize = 8;
    pub const MMAP: usize = 9;
    pub const MPROTECT: usize = 10;
    pub const MUNMAP: usize = 11;
    pub const BRK: usize = 12;
    pub const RT_SIGACTION: usize = 13;
    pub const RT_SIGPROCMASK: usize = 14;
    pub const IOCTL: usize = 16;
    pub const WRITEV: usize = 20;
    pub const MREMAP: usize = 25;
    pub const MINCORE: usize = 27;
    pub const MADVISE: usize = 28;
    pub const NANOSLEEP: usize = 35;
    pub const GETPID: usize = 39;
    pub const EXIT: usize = 60;
    pub const UNAME: usize = 63;
    pub const FCNTL: usize = 72;
    pub const GETTIMEOFDAY: usize = 96;
    pub const SYSINFO: usize = 99;
    pub const GETUID: usize = 102;
    pub const GETGID: usize = 104;
    pub const GETEUID: usize = 107;
    pub const GETEGID: usize = 108;
    pub const GETPPID: usize = 110;
    pub const SIGALTSTACK: usize = 131;
    pub const PRCTL: usize = 157;
    pub const GETTID: usize = 186;
    pub const TIME: usize = 201;
    pub const SCHED_GETAFFINITY: usize = 204;
    pub const CLOCK_GETTIME: usize = 228;
    pub const CLOCK_GETRES: usize = 229;
    pub const CLOCK_NANOSLEEP: usize = 230;
    pub const PRLIMIT64: usize = 302;
    pub const GETRANDOM: usize = 318;
}

/// Raw `syscall` with up to six arguments. Returns the kernel's raw return value
/// (`-errno` on failure).
///
/// # Safety
///
/// The caller must make sure the system call, with these arguments, does not break
/// memory safety of the program (e.g. unmapping memory still in use, or the kernel
/// writing through a pointer into live Rust data of the wrong type). Passing
/// deliberately bad pointers is fine: the kernel checks them and returns EFAULT.
#[inline(always)]
pub unsafe fn syscall6(
    n: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the `syscall` instruction clobbers only rax (result), rcx and r11; all
    // of them are declared. The caller upholds the contract about the arguments.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a1,
            in("rsi") a2,
            in("rdx") a3,
            in("r10") a4,
            in("r8") a5,
            in("r9") a6,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// `syscall!(NR, a, b, ...)`: raw syscall with 0..=6 arguments, each cast with `as usize`.
/// Expands to an `unsafe` call: use it inside an `unsafe` block.
#[macro_export]
macro_rules! syscall {
    ($n:expr) => { $crate::syscall6($n, 0, 0, 0, 0, 0, 0) };
    ($n:expr, $a:expr) => { $crate::syscall6($n, $a as usize, 0, 0, 0, 0, 0) };
    ($n:expr, $a:expr, $b:expr) => { $crate::syscall6($n, $a as usize, $b as usize, 0, 0, 0, 0) };
    ($n:expr, $a:expr, $b:expr, $c:expr) => {
        $crate::syscall6($n, $a as usize, $b as usize, $c as usize, 0, 0, 0)
    };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr) => {
        $crate::syscall6($n, $a as usize, $b as usize, $c as usize, $d as usize, 0, 0)
    };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr) => {
        $crate::syscall6($n, $a as usize, $b as usize, $c as usize, $d as usize, $e as usize, 0)
    };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr) => {
        $crate::syscall6(
            $n, $a as usize, $b as usize, $c as usize, $d as usize, $e as usize, $f as usize,
        )
    };
}

/// A Linux errno value. Both `Display` and `Debug` show its name (`EINVAL`), so
/// `{:?}` of a `Result<_, Errno>` prints `Err(EINVAL)`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Errno {
    pub fn name(self) -> &'static str {
        errno_name(self.0)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        if name == "E?" {
            write!(f, "E?{}", self.0)
        } else {
            f.write_str(name)
        }
    }
}

/// Splits a raw syscall return into `Ok(value)` / `Err(errno)` the way libc does
/// (values in -4095..=-1 are errors).
pub fn check(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// `"ok"` or the errno name, hiding the success value (which may be an address).
pub fn outcome(ret: isize) -> String {
    match check(ret) {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("Err({e})"),
    }
}

/// Like [`outcome`] but shows the success value (for counts and other stable values).
pub fn outcome_val(ret: isize) -> String {
    match check(ret) {
        Ok(v) => format!("Ok({v})"),
        Err(e) => format!("Err({e})"),
    }
}

pub fn errno_name(e: i32) -> &'static str {
    match e {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        8 => "ENOEXEC",
        9 => "EBADF",
        10 => "ECHILD",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        15 => "ENOTBLK",
        16 => "EBUSY",
        17 => "EEXIST",
        18 => "EXDEV",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        25 => "ENOTTY",
        26 => "ETXTBSY",
        27 => "EFBIG",
        28 => "ENOSPC",
        29 => "ESPIPE",
        30 => "EROFS",
        31 => "EMLINK",
        32 => "EPIPE",
        33 => "EDOM",
        34 => "ERANGE",
        35 => "EDEADLK",
        36 => "ENAMETOOLONG",
        37 => "ENOLCK",
        38 => "ENOSYS",
        39 => "ENOTEMPTY",
        40 => "ELOOP",
        42 => "ENOMSG",
        61 => "ENODATA",
        75 => "EOVERFLOW",
        77 => "EBADFD",
        84 => "EILSEQ",
        88 => "ENOTSOCK",
        95 => "EOPNOTSUPP",
        110 => "ETIMEDOUT",
        122 => "EDQUOT",
        _ => "E?",
    }
}

/// Flushes Rust's stdout so raw `write(1, ...)` output that follows stays in order.
pub fn flush() {
    let _ = std::io::stdout().flush();
}

/// An address that is guaranteed unmapped: a page mapped and then unmapped again.
/// (NULL alone is not enough: a libOS might special-case it.)
pub fn unmapped_page() -> usize {
    // SAFETY: mapping and unmapping a fresh anonymous page touches no existing memory.
    unsafe {
        let p = syscall!(
            nr::MMAP,
            0,
            4096,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1isize,
            0
        );
        let p = check(p).expect("mmap of one page");
        check(syscall!(nr::MUNMAP, p, 4096)).expect("munmap of one page");
        p
    }
}

/// A canonical but kernel-half address: always EFAULT from user mode.
pub const KERNEL_ADDR: usize = 0xffff_8000_0000_0000;

pub const PROT_NONE: usize = 0;
pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
pub const PROT_EXEC: usize = 4;
pub const MAP_SHARED: usize = 0x01;
pub const MAP_PRIVATE: usize = 0x02;
pub const MAP_FIXED: usize = 0x10;
pub const MAP_ANONYMOUS: usize = 0x20;
pub const MAP_NORESERVE: usize = 0x4000;
pub const MAP_FIXED_NOREPLACE: usize = 0x10_0000;
pub const PAGE: usize = 4096;

/// `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

impl Timespec {
    pub fn as_nanos(self) -> i128 {
        self.tv_sec as i128 * 1_000_000_000 + self.tv_nsec as i128
    }
    pub fn from_nanos(n: i128) -> Self {
        Timespec {
            tv_sec: (n / 1_000_000_000) as i64,
            tv_nsec: (n % 1_000_000_000) as i64,
        }
    }
}

pub const CLOCK_REALTIME: usize = 0;
pub const CLOCK_MONOTONIC: usize = 1;
pub const CLOCK_PROCESS_CPUTIME_ID: usize = 2;
pub const CLOCK_THREAD_CPUTIME_ID: usize = 3;
pub const CLOCK_MONOTONIC_RAW: usize = 4;
pub const CLOCK_REALTIME_COARSE: usize = 5;
pub const CLOCK_MONOTONIC_COARSE: usize = 6;
pub const CLOCK_BOOTTIME: usize = 7;

/// `clock_gettime` through the raw syscall (not the vDSO).
pub fn clock_gettime(clock: usize) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    // SAFETY: the kernel writes one `struct timespec` into `ts`, which is exactly that.
    let r = unsafe { syscall!(nr::CLOCK_GETTIME, clock, &mut ts as *mut Timespec) };
    check(r).map(|_| ts)
}
