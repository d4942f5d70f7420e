//! The machine-wide files of `/proc` and `/proc/sys`, and their agreement with the
//! syscalls that report the same things.

use alloc::string::ToString;

use super::*;

#[test]
fn the_root_lists_the_machine_and_the_process() {
    let px = Px::new();
    let pid = px.pid().to_string();
    let names = px.names("/proc");
    for name in [
        "cpuinfo",
        "meminfo",
        "stat",
        "uptime",
        "loadavg",
        "version",
        "filesystems",
        "mounts",
        "sys",
        "self",
        "thread-self",
        &pid,
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    assert_eq!(px.link_text("/proc/self"), pid);
    assert_eq!(px.link_text("/proc/thread-self"), alloc::format!("{pid}/task/{pid}"));
    assert_eq!(px.link_text("/proc/mounts"), "self/mounts");
    assert_eq!(px.lstat("/proc/self").unwrap().st_size, 0);
    assert_eq!(px.stat("/proc").unwrap().st_ino, 1);
    assert_eq!(px.stat("/proc/self").unwrap().st_ino, px.stat(&alloc::format!("/proc/{pid}")).unwrap().st_ino);
    assert_eq!(err(px.stat("/proc/1")), Errno::ENOENT);
    assert_eq!(err(px.stat("/proc/0")), Errno::ENOENT);
}

#[test]
fn proc_is_empty_until_attached() {
    let (_, kernel) = kernel_on(FakePlatform::new());
    let k: &'static Kernel = Box::leak(Box::new(kernel));
    let platform = k.platform;
    let clock: Clock = Arc::new(move || platform.now(ClockId::Realtime));
    let mounts = mount_all(&k.vfs, platform, clock).unwrap();
    assert_eq!(err(k.vfs.stat(CWD, b"/proc/self", true)), Errno::ENOENT);
    assert_eq!(err(k.vfs.stat(CWD, b"/proc/meminfo", true)), Errno::ENOENT);
    mounts.attach(k);
    assert!(k.vfs.stat(CWD, b"/proc/meminfo", true).is_ok());
}

#[test]
fn files_are_regular_with_size_zero_and_read_only() {
    let px = Px::new();
    for f in ["/proc/meminfo", "/proc/cpuinfo", "/proc/self/status", "/proc/sys/vm/overcommit_memory"] {
        let st = px.stat(f).unwrap();
        assert_eq!(kind(&st), crate::abi::mode::S_IFREG, "{f}");
        assert_eq!(st.st_size, 0, "{f}");
        assert_eq!(st.st_blksize, 1024, "{f}");
        assert_eq!(err(px.open(f, O_WRONLY)), Errno::EACCES, "{f}");
        assert_eq!(err(px.open(f, O_RDWR)), Errno::EACCES, "{f}");
        assert_eq!(err(px.open(f, O_WRONLY | O_TRUNC)), Errno::EACCES, "{f}");
        assert_eq!(err(px.k.vfs.truncate(CWD, f.as_bytes(), 0)), Errno::EACCES, "{f}");
    }
    assert_eq!(px.stat("/proc/meminfo").unwrap().st_mode & 0o7777, 0o444);
}

#[test]
fn meminfo_and_uptime_agree_with_sysinfo() {
    let px = Px::new();
    let uptime = px.k.platform.now(ClockId::Boottime).tv_sec;
    let si = crate::ident::sysinfo(&px.k.host, uptime);
    let kb = |key: &str| px.field("/proc/meminfo", key).trim_end_matches(" kB").trim().parse::<u64>().unwrap();
    assert_eq!(kb("MemTotal") * 1024, si.totalram);
    assert_eq!(kb("MemFree") * 1024, si.freeram);
    assert_eq!(kb("SwapTotal"), si.totalswap);
    assert!(px.text("/proc/meminfo").starts_with("MemTotal:        8388608 kB\nMemFree:         4194304 kB\n"));
    let text = px.text("/proc/uptime");
    let first = text.split(' ').next().unwrap();
    assert_eq!(first.split('.').next().unwrap().parse::<i64>().unwrap(), si.uptime);
    assert_eq!(text, "1000.00 1000.00\n", "2 CPUs for 1000 s, 1000 s of them busy");
}

#[test]
fn cpuinfo_lists_the_cpus_of_the_affinity_mask() {
    let px = Px::new();
    let text = px.text("/proc/cpuinfo");
    let processors: Vec<&str> = text.lines().filter(|l| l.starts_with("processor")).collect();
    assert_eq!(processors, ["processor\t: 0", "processor\t: 1"]);
    assert_eq!(processors.len() as u32, px.k.platform.cpu_mask().count_ones());
    assert!(text.contains("siblings\t: 2\ncore id\t\t: 1\ncpu cores\t: 2\n"));
    assert!(text.ends_with("power management:\n\n"));
    assert!(!text.contains("vendor_id"), "the fake platform has no CPUID");
}

#[test]
fn cpuinfo_describes_the_cpu_from_cpuid() {
    let px = Px::rich();
    let text = px.text("/proc/cpuinfo");
    let blocks: Vec<&str> = text.split("\n\n").filter(|b| !b.is_empty()).collect();
    assert_eq!(blocks.len(), 3, "CPUs 0, 2, 3 of mask 0b1101");
    let expected = "processor\t: 2\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\
        model name\t: Fake(R) CPU @ 2.20GHz\nstepping\t: 7\ncpu MHz\t\t: 2200.000\ncache size\t: 16384 KB\n\
        physical id\t: 0\nsiblings\t: 3\ncore id\t\t: 1\ncpu cores\t: 3\nfpu\t\t: yes\nfpu_exception\t: yes\n\
        cpuid level\t: 22\nwp\t\t: yes\nflags\t\t: fpu sse2 avx2\nclflush size\t: 64\ncache_alignment\t: 64\n\
        address sizes\t: 39 bits physical, 48 bits virtual\npower management:";
    assert_eq!(blocks[1], expected);
}

#[test]
fn stat_counts_time_per_cpu_and_the_boot_time() {
    let px = Px::rich();
    let text = px.text("/proc/stat");
    let lines: Vec<&str> = text.lines().collect();
    // Boot time + uptime = now: 1_700_000_000 - 1000. The process used no CPU time on
    // the fake platform's clock (1000 s), so 3 CPUs × 1000 s are idle... minus the
    // process clock, which reads 1000 s too: 300000 - 100000 ticks.
    assert_eq!(lines[0], "cpu  100000 0 0 200000 0 0 0 0 0 0");
    assert_eq!(lines[1], "cpu0 33334 0 0 66667 0 0 0 0 0 0");
    assert_eq!(lines[2], "cpu2 33333 0 0 66667 0 0 0 0 0 0");
    assert_eq!(lines[3], "cpu3 33333 0 0 66666 0 0 0 0 0 0");
    assert!(text.contains("\nbtime 1699999000\n"));
    assert!(text.contains("\nprocesses 1\nprocs_running 1\n"));
}

#[test]
fn loadavg_version_and_filesystems() {
    let px = Px::new();
    assert_eq!(px.text("/proc/loadavg"), alloc::format!("0.00 0.00 0.00 1/1 {}\n", px.pid()));
    assert_eq!(px.text("/proc/version"), "Linux version 6.1.0-fake (unify) #1 SMP\n");
    let fs = px.text("/proc/filesystems");
    for t in ["\tproc\n", "\tsysfs\n", "\ttmpfs\n", "\tdevtmpfs\n", "\tcgroup2\n", "\tvfat\n"] {
        assert!(fs.contains(t), "{t}");
    }
}

#[test]
fn sysctls() {
    let px = Px::new();
    assert_eq!(px.text("/proc/sys/vm/overcommit_memory"), "0\n");
    assert_eq!(px.text("/proc/sys/kernel/ostype"), "Linux\n");
    assert_eq!(px.text("/proc/sys/kernel/osrelease"), "6.1.0-fake\n");
    assert_eq!(px.text("/proc/sys/kernel/hostname"), "fake\n");
    assert_eq!(px.text("/proc/sys/kernel/pid_max"), "4194304\n");
    assert_eq!(px.text("/proc/sys/kernel/threads-max"), "65536\n");
    assert_eq!(px.text("/proc/sys/kernel/cap_last_cap"), "40\n");
    assert_eq!(px.text("/proc/sys/fs/nr_open"), "1048576\n");
    let boot_id = px.text("/proc/sys/kernel/random/boot_id");
    assert_eq!(boot_id.len(), 37);
    assert_eq!(px.text("/proc/sys/kernel/random/boot_id"), boot_id, "one boot id per boot");
    let (a, b) = (px.text("/proc/sys/kernel/random/uuid"), px.text("/proc/sys/kernel/random/uuid"));
    assert_ne!(a, b, "a new uuid per read");
    assert_eq!(&a[14..15], "4");
    assert_eq!(px.names("/proc/sys"), ["fs", "kernel", "vm"]);
    assert_eq!(err(px.write("/proc/sys/kernel/hostname", b"other")), Errno::EACCES);
}

#[test]
fn reads_in_pieces_see_one_snapshot_and_seek_like_seq_file() {
    let px = Px::new();
    let f = px.open("/proc/self/status", O_RDONLY).unwrap();
    let mut first = [0u8; 10];
    assert_eq!(f.read(&mut first), Ok(10));
    px.k.vfs.set_umask(0o077);
    let mut rest = read_all(&f).unwrap();
    let mut whole = first.to_vec();
    whole.append(&mut rest);
    let text = String::from_utf8(whole).unwrap();
    assert!(text.contains("Umask:\t0022\n"), "the snapshot is from the open");
    assert!(px.text("/proc/self/status").contains("Umask:\t0077\n"));
    assert_eq!(f.file.seek(0, crate::vfs::file::whence::SEEK_SET), Ok(0));
    assert_eq!(f.file.seek(3, crate::vfs::file::whence::SEEK_CUR), Ok(3));
    assert_eq!(f.file.seek(0, crate::vfs::file::whence::SEEK_END), Err(Errno::EINVAL));
    assert_eq!(f.file.seek(-5, crate::vfs::file::whence::SEEK_CUR), Err(Errno::EINVAL));
    let mut buf = [0u8; 4];
    assert_eq!(f.file.pread(&mut buf, 0), Ok(4));
    assert_eq!(&buf, b"Name");
}
