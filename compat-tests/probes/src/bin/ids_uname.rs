//! Identity and system information: uname (stable fields only), pids and tids, user and
//! group ids (relations only, so a VM run compares too), sysinfo sanity, resource
//! limits, the thread name via prctl, and the CPU affinity mask.

use probes::*;

#[repr(C)]
struct Utsname {
    sysname: [u8; 65],
    nodename: [u8; 65],
    release: [u8; 65],
    version: [u8; 65],
    machine: [u8; 65],
    domainname: [u8; 65],
}

fn field(f: &[u8; 65]) -> String {
    let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
    String::from_utf8_lossy(&f[..end]).into_owned()
}

#[repr(C)]
#[derive(Default)]
struct Sysinfo {
    uptime: i64,
    loads: [u64; 3],
    totalram: u64,
    freeram: u64,
    sharedram: u64,
    bufferram: u64,
    totalswap: u64,
    freeswap: u64,
    procs: u16,
    pad: u16,
    totalhigh: u64,
    freehigh: u64,
    mem_unit: u32,
    _f: [u8; 4],
}

#[repr(C)]
#[derive(Default, Clone, Copy, PartialEq, Eq)]
struct Rlimit {
    cur: u64,
    max: u64,
}

const RLIM_INFINITY: u64 = u64::MAX;
const RLIMIT_STACK: usize = 3;
const RLIMIT_NOFILE: usize = 7;
const PR_SET_NAME: usize = 15;
const PR_GET_NAME: usize = 16;

fn uname_section() {
    println!("== uname");
    // SAFETY: `Utsname` is plain bytes; all-zero is a valid value.
    let mut u: Utsname = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes one `struct utsname` (6 × 65 bytes) into `u`.
    let r = unsafe { syscall!(nr::UNAME, &mut u as *mut Utsname) };
    println!("uname: {}", outcome(r));
    println!("sysname: {:?}", field(&u.sysname));
    println!("machine: {:?}", field(&u.machine));
    println!("nodename non-empty: {}", !field(&u.nodename).is_empty());
    let release = field(&u.release);
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().and_then(|s| s.parse::<u32>().ok());
    let minor = parts.next().and_then(|s| s.parse::<u32>().ok());
    println!(
        "release looks like N.M: {}",
        major.is_some() && minor.is_some()
    );
    println!("release major >= 3: {}", major.unwrap_or(0) >= 3);
    println!("version non-empty: {}", !field(&u.version).is_empty());
}

fn ids_section() {
    println!("== ids");
    // SAFETY: these calls take no arguments and cannot fail.
    let (pid, tid, ppid, uid, euid, gid, egid) = unsafe {
        (
            syscall!(nr::GETPID),
            syscall!(nr::GETTID),
            syscall!(nr::GETPPID),
            syscall!(nr::GETUID),
            syscall!(nr::GETEUID),
            syscall!(nr::GETGID),
            syscall!(nr::GETEGID),
        )
    };
    println!("getpid > 0: {}", pid > 0);
    println!("gettid == getpid (main thread): {}", tid == pid);
    println!("getppid > 0: {}", ppid > 0);
    println!("getppid != getpid: {}", ppid != pid);
    println!(
        "std::process::id() == getpid: {}",
        std::process::id() as isize == pid
    );
    println!("uid == euid: {}", uid == euid);
    println!("gid == egid: {}", gid == egid);
    println!("uid, gid valid: {}", uid >= 0 && gid >= 0);
}

fn sysinfo_section() {
    println!("== sysinfo");
    let mut si = Sysinfo::default();
    // SAFETY: the kernel writes one `struct sysinfo` (112 bytes, matching `Sysinfo`).
    let r = unsafe { syscall!(nr::SYSINFO, &mut si as *mut Sysinfo) };
    println!("sysinfo: {}", outcome(r));
    println!("uptime > 0: {}", si.uptime > 0);
    println!("totalram > 0: {}", si.totalram > 0);
    println!("freeram <= totalram: {}", si.freeram <= si.totalram);
    println!("freeswap <= totalswap: {}", si.freeswap <= si.totalswap);
    println!("procs >= 1: {}", si.procs >= 1);
    println!("mem_unit >= 1: {}", si.mem_unit >= 1);
    let total = si.totalram as u128 * si.mem_unit as u128;
    println!("total memory >= 64 MiB: {}", total >= 64 << 20);
}

fn prlimit(res: usize, new: Option<&Rlimit>) -> (isize, Rlimit) {
    let mut old = Rlimit::default();
    let newp = new.map_or(0, |n| n as *const Rlimit as usize);
    // SAFETY: `new` (if any) is read and `old` written, both `struct rlimit64`.
    let r = unsafe { syscall!(nr::PRLIMIT64, 0usize, res, newp, &mut old as *mut Rlimit) };
    (r, old)
}

fn rlimit_section() {
    println!("== prlimit64");
    for &(name, res) in &[
        ("RLIMIT_STACK", RLIMIT_STACK),
        ("RLIMIT_NOFILE", RLIMIT_NOFILE),
    ] {
        let (r, l) = prlimit(res, None);
        let sane = l.cur <= l.max || l.max == RLIM_INFINITY;
        println!(
            "{name}: {}, cur <= max: {sane}, cur finite: {}",
            outcome(r),
            l.cur != RLIM_INFINITY
        );
        let mut legacy = Rlimit::default();
        // SAFETY: getrlimit writes one `struct rlimit`.
        let r = unsafe { syscall!(97, res, &mut legacy as *mut Rlimit) };
        println!("{name}: getrlimit {} agrees: {}", outcome(r), legacy == l);
    }
    let (_, stack) = prlimit(RLIMIT_STACK, None);
    println!("stack soft limit >= 128 KiB: {}", stack.cur >= 128 << 10);
    let (_, nofile) = prlimit(RLIMIT_NOFILE, None);
    println!("nofile soft limit >= 64: {}", nofile.cur >= 64);

    let lowered = Rlimit {
        cur: 64,
        max: nofile.max,
    };
    let (r, old) = prlimit(RLIMIT_NOFILE, Some(&lowered));
    println!(
        "lower NOFILE soft limit to 64: {}, old value returned: {}",
        outcome(r),
        old == nofile
    );
    let (_, now) = prlimit(RLIMIT_NOFILE, None);
    println!("read back 64: {}", now.cur == 64);
    let (r, _) = prlimit(RLIMIT_NOFILE, Some(&nofile));
    println!("restore: {}", outcome(r));
    let bad = Rlimit { cur: 10, max: 5 };
    println!(
        "soft > hard: {}",
        outcome(prlimit(RLIMIT_NOFILE, Some(&bad)).0)
    );
    println!("invalid resource 99: {}", outcome(prlimit(99, None).0));
}

fn get_name() -> (isize, String) {
    let mut buf = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes into `buf`.
    let r = unsafe { syscall!(nr::PRCTL, PR_GET_NAME, buf.as_mut_ptr()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(16);
    (r, String::from_utf8_lossy(&buf[..end]).into_owned())
}

fn set_name(name: &[u8]) -> isize {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes; `name` ends in NUL.
    unsafe { syscall!(nr::PRCTL, PR_SET_NAME, name.as_ptr()) }
}

fn prctl_section() {
    println!("== prctl");
    let (r, initial) = get_name();
    println!("PR_GET_NAME initial: {}, {:?}", outcome(r), initial);
    println!(
        "PR_SET_NAME \"probe-name\": {}",
        outcome(set_name(b"probe-name\0"))
    );
    let (r, name) = get_name();
    println!("PR_GET_NAME: {}, {:?}", outcome(r), name);
    println!(
        "PR_SET_NAME 20 chars: {}",
        outcome(set_name(b"0123456789abcdefghij\0"))
    );
    println!("PR_GET_NAME (truncated to 15): {:?}", get_name().1);
    println!("std thread name: {:?}", std::thread::current().name());
    // SAFETY: an unknown option reads nothing.
    let r = unsafe { syscall!(nr::PRCTL, 9999usize, 0usize, 0usize, 0usize, 0usize) };
    println!("unknown option 9999: {}", outcome(r));
}

fn affinity_section() {
    println!("== sched_getaffinity");
    let mut mask = [0u64; 16];
    // SAFETY: the kernel writes at most 128 bytes into `mask`.
    let r = unsafe { syscall!(nr::SCHED_GETAFFINITY, 0usize, 128usize, mask.as_mut_ptr()) };
    let count: u32 = mask.iter().map(|w| w.count_ones()).sum();
    println!(
        "sched_getaffinity: ok: {}, size multiple of 8: {}",
        r > 0,
        r > 0 && r % 8 == 0
    );
    println!("cpus >= 1: {}", count >= 1);
    let par = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(0);
    println!("count == available_parallelism: {}", count == par);
    // SAFETY: fails on the size check before writing.
    let r = unsafe { syscall!(nr::SCHED_GETAFFINITY, 0usize, 1usize, mask.as_mut_ptr()) };
    println!("size 1: {}", outcome(r));
    // SAFETY: deliberately bad pointer: the kernel returns EFAULT.
    let r = unsafe { syscall!(nr::SCHED_GETAFFINITY, 0usize, 128usize, unmapped_page()) };
    println!("bad pointer: {}", outcome(r));
}

fn main() {
    uname_section();
    ids_section();
    sysinfo_section();
    rlimit_section();
    prctl_section();
    affinity_section();
}
