//! Linux x86-64 ABI structures, laid out exactly as the kernel lays them out.
//!
//! These are plain `#[repr(C)]` values with no padding holes the guest could observe
//! uninitialised: every field is explicit. `syscall-shim` marks them `Pod` so they can be
//! copied to and from guest memory.

/// `struct timespec`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

impl Timespec {
    pub const ZERO: Timespec = Timespec { tv_sec: 0, tv_nsec: 0 };

    pub const fn from_nanos(ns: u64) -> Timespec {
        Timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 }
    }

    /// Nanoseconds, saturating; `None` for a negative or non-normalised value.
    pub fn to_nanos(self) -> Option<u64> {
        if self.tv_sec < 0 || !(0..1_000_000_000).contains(&self.tv_nsec) {
            return None;
        }
        Some((self.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(self.tv_nsec as u64))
    }

    /// Whether Linux accepts this as a sleep duration or deadline (EINVAL otherwise).
    pub fn is_valid(self) -> bool {
        self.tv_sec >= 0 && (0..1_000_000_000).contains(&self.tv_nsec)
    }
}

/// `struct timeval`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

/// `struct timezone` (always zero on Linux today).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timezone {
    pub tz_minuteswest: i32,
    pub tz_dsttime: i32,
}

/// `struct itimerspec` (`timer_settime`, `timer_gettime`): the interval first.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Itimerspec {
    pub it_interval: Timespec,
    pub it_value: Timespec,
}

/// `struct itimerval` (`setitimer`, `getitimer`): the interval first.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Itimerval {
    pub it_interval: Timeval,
    pub it_value: Timeval,
}

/// The kernel's `struct sigevent` (64 bytes): `sigev_value`, `sigev_signo`,
/// `sigev_notify`, then a union of which the kernel reads only `_tid`
/// (`SIGEV_THREAD_ID`); libc's `SIGEV_THREAD` function and attributes live in the rest,
/// which the kernel never looks at.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sigevent {
    pub sigev_value: u64,
    pub sigev_signo: i32,
    pub sigev_notify: i32,
    pub sigev_tid: i32,
    pub pad: [i32; 11],
}

/// `struct stat` for x86-64 (144 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub pad0: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atime: i64,
    pub st_atime_nsec: i64,
    pub st_mtime: i64,
    pub st_mtime_nsec: i64,
    pub st_ctime: i64,
    pub st_ctime_nsec: i64,
    pub reserved: [i64; 3],
}

/// File type bits of `st_mode`.
pub mod mode {
    pub const S_IFMT: u32 = 0o170000;
    pub const S_IFSOCK: u32 = 0o140000;
    pub const S_IFLNK: u32 = 0o120000;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFBLK: u32 = 0o060000;
    pub const S_IFDIR: u32 = 0o040000;
    pub const S_IFCHR: u32 = 0o020000;
    pub const S_IFIFO: u32 = 0o010000;
}

/// `struct new_utsname`: six 65-byte NUL-padded fields.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utsname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub machine: [u8; 65],
    pub domainname: [u8; 65],
}

impl Default for Utsname {
    fn default() -> Self {
        Utsname {
            sysname: [0; 65],
            nodename: [0; 65],
            release: [0; 65],
            version: [0; 65],
            machine: [0; 65],
            domainname: [0; 65],
        }
    }
}

/// Copies `s` into a NUL-padded utsname field, truncating to 64 bytes.
pub fn set_uts_field(field: &mut [u8; 65], s: &[u8]) {
    let n = s.len().min(64);
    field.fill(0);
    field[..n].copy_from_slice(&s[..n]);
}

/// `struct sysinfo` (112 bytes on x86-64).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sysinfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub pad: u16,
    pub pad2: u32,
    pub totalhigh: u64,
    pub freehigh: u64,
    pub mem_unit: u32,
    pub reserved: [u8; 4],
}

/// `struct rlimit64`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rlimit {
    pub rlim_cur: u64,
    pub rlim_max: u64,
}

/// `RLIM_INFINITY`.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// The kernel's `struct sigaction` for `rt_sigaction` (not libc's).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelSigaction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// `stack_t` for `sigaltstack`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackT {
    pub ss_sp: u64,
    pub ss_flags: i32,
    pub pad: i32,
    pub ss_size: u64,
}

/// `struct iovec`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Iovec {
    pub base: u64,
    pub len: u64,
}

/// `struct pollfd`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

/// `struct epoll_event`: packed on x86-64 (12 bytes).
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

/// `struct msghdr` (56 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Msghdr {
    pub name: u64,
    pub namelen: u32,
    pub pad0: u32,
    pub iov: u64,
    pub iovlen: u64,
    pub control: u64,
    pub controllen: u64,
    pub flags: i32,
    pub pad1: u32,
}

/// `struct mmsghdr` (64 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mmsghdr {
    pub hdr: Msghdr,
    pub len: u32,
    pub pad: u32,
}

/// `struct winsize` (TIOCGWINSZ).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Winsize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}

/// The kernel's `struct termios` (TCGETS/TCSETS; 36 bytes, not glibc's 60).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; 19],
}

#[cfg(test)]
mod tests {
    use core::mem::{offset_of, size_of};

    use super::*;

    #[test]
    fn sizes_match_the_kernel() {
        assert_eq!(size_of::<Stat>(), 144);
        assert_eq!(size_of::<Utsname>(), 390);
        assert_eq!(size_of::<Sysinfo>(), 112);
        assert_eq!(size_of::<KernelSigaction>(), 32);
        assert_eq!(size_of::<StackT>(), 24);
        assert_eq!(size_of::<Termios>(), 36);
        assert_eq!(size_of::<Timespec>(), 16);
        assert_eq!(size_of::<Timeval>(), 16);
        assert_eq!(size_of::<Timezone>(), 8);
        assert_eq!(size_of::<Rlimit>(), 16);
        assert_eq!(size_of::<Iovec>(), 16);
        assert_eq!(size_of::<PollFd>(), 8);
        assert_eq!(size_of::<Winsize>(), 8);
        assert_eq!(size_of::<Itimerspec>(), 32);
        assert_eq!(size_of::<Itimerval>(), 32);
        assert_eq!(size_of::<Sigevent>(), 64);
    }

    #[test]
    fn offsets_match_the_kernel() {
        assert_eq!(offset_of!(Stat, st_mode), 24);
        assert_eq!(offset_of!(Stat, st_rdev), 40);
        assert_eq!(offset_of!(Stat, st_size), 48);
        assert_eq!(offset_of!(Stat, st_atime), 72);
        assert_eq!(offset_of!(Stat, st_ctime_nsec), 112);
        assert_eq!(offset_of!(Sysinfo, procs), 80);
        assert_eq!(offset_of!(Sysinfo, totalhigh), 88);
        assert_eq!(offset_of!(Sysinfo, mem_unit), 104);
        assert_eq!(offset_of!(KernelSigaction, mask), 24);
        assert_eq!(offset_of!(StackT, ss_flags), 8);
        assert_eq!(offset_of!(StackT, ss_size), 16);
        assert_eq!(offset_of!(Termios, c_line), 16);
        assert_eq!(offset_of!(Termios, c_cc), 17);
        assert_eq!(offset_of!(Utsname, machine), 260);
        assert_eq!(offset_of!(PollFd, revents), 6);
        assert_eq!(offset_of!(Itimerspec, it_value), 16);
        assert_eq!(offset_of!(Itimerval, it_value), 16);
        assert_eq!(offset_of!(Sigevent, sigev_signo), 8);
        assert_eq!(offset_of!(Sigevent, sigev_notify), 12);
        assert_eq!(offset_of!(Sigevent, sigev_tid), 16);
    }

    #[test]
    fn timespec_conversions() {
        assert_eq!(Timespec::from_nanos(1_500_000_001), Timespec { tv_sec: 1, tv_nsec: 500_000_001 });
        assert_eq!(Timespec { tv_sec: 2, tv_nsec: 5 }.to_nanos(), Some(2_000_000_005));
        assert_eq!(Timespec { tv_sec: -1, tv_nsec: 0 }.to_nanos(), None);
        assert_eq!(Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 }.to_nanos(), None);
        assert_eq!(Timespec { tv_sec: 0, tv_nsec: -1 }.to_nanos(), None);
        assert_eq!(Timespec { tv_sec: i64::MAX, tv_nsec: 0 }.to_nanos(), Some(u64::MAX));
        assert!(Timespec::ZERO.is_valid());
        assert!(!Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 }.is_valid());
        assert!(Timespec { tv_sec: 1, tv_nsec: 0 } > Timespec { tv_sec: 0, tv_nsec: 999_999_999 });
    }

    #[test]
    fn uts_fields_are_nul_padded_and_truncated() {
        let mut f = [0xffu8; 65];
        set_uts_field(&mut f, b"Linux");
        assert_eq!(&f[..6], b"Linux\0");
        assert!(f[5..].iter().all(|&b| b == 0));
        set_uts_field(&mut f, &[b'x'; 100]);
        assert!(f[..64].iter().all(|&b| b == b'x'));
        assert_eq!(f[64], 0);
    }
}
