//! `/proc/<pid>/`: the process's own files.

use alloc::format;
use alloc::string::ToString;

use super::*;
use crate::mm::{Vma, VmaKind};

/// Gives the kernel a program image, a heap and a stack, as a loader would.
fn with_memory(px: &Px) {
    let mut mm = px.k.mm.write();
    let image = |start, end, prot| Vma { start, end, prot, shared: false, kind: VmaKind::Image };
    mm.record(image(0x40_0000, 0x40_1000, Prot::READ)).unwrap();
    mm.record(image(0x40_1000, 0x40_3000, Prot::from_bits_truncate(5))).unwrap();
    mm.record(image(0x40_3000, 0x40_4000, Prot::RW)).unwrap();
    mm.set_brk_start(0x40_4000);
    mm.record(Vma { start: 0x40_4000, end: 0x40_6000, prot: Prot::RW, shared: false, kind: VmaKind::Heap }).unwrap();
    mm.record(Vma { start: 0xff00_0000, end: 0xff80_0000, prot: Prot::RW, shared: false, kind: VmaKind::Stack })
        .unwrap();
    mm.record(Vma { start: 0x7000_0000, end: 0x7000_2000, prot: Prot::RW, shared: false, kind: VmaKind::Anonymous })
        .unwrap();
}

#[test]
fn the_process_directory_lists_linux_files() {
    let px = Px::new();
    let names = px.names("/proc/self");
    for n in [
        "task",
        "fd",
        "fdinfo",
        "environ",
        "status",
        "limits",
        "cmdline",
        "stat",
        "statm",
        "maps",
        "mounts",
        "mountinfo",
        "cgroup",
        "comm",
        "cwd",
        "root",
        "exe",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    let st = px.stat("/proc/self").unwrap();
    assert_eq!((st.st_uid, st.st_gid), (1000, 1000));
    assert_eq!(st.st_mode & 0o7777, 0o555);
    assert_eq!(px.stat("/proc/self/environ").unwrap().st_mode & 0o7777, 0o400);
    assert_eq!(px.stat("/proc/self/comm").unwrap().st_mode & 0o7777, 0o644);
    let pid = px.pid();
    assert_eq!(px.names("/proc/self/task"), [pid.to_string()]);
    let thread = format!("/proc/self/task/{pid}");
    assert!(px.names(&thread).iter().all(|n| n != "task"));
    assert_eq!(px.text(&format!("{thread}/comm")), "fake-test\n");
    assert_eq!(
        px.stat("/proc/thread-self/status").unwrap().st_ino,
        px.stat(&format!("{thread}/status")).unwrap().st_ino
    );
}

#[test]
fn status_describes_the_process() {
    let px = Px::new();
    with_memory(&px);
    let f = |k: &str| px.field("/proc/self/status", k);
    assert_eq!(f("Name"), "fake-test");
    assert_eq!(f("Umask"), "0022");
    assert_eq!(f("State"), "R (running)");
    assert_eq!(f("Pid"), "4242");
    assert_eq!(f("PPid"), "1");
    assert_eq!(f("Uid"), "1000\t1000\t1000\t1000");
    assert_eq!(f("Gid"), "1000\t1000\t1000\t1000");
    assert_eq!(f("FDSize"), "64");
    assert_eq!(f("Threads"), "1");
    assert_eq!(f("VmSize"), format!("{} kB", (0x6000 + 0x80_0000 + 0x2000) / 1024));
    assert_eq!(f("VmRSS"), f("VmSize"), "the fake platform says every page is resident");
    assert_eq!(f("VmExe"), "8 kB");
    assert_eq!(f("VmStk"), "8192 kB");
    assert_eq!(f("VmData"), "20 kB", "the data segment, the heap and the anonymous mapping");
    assert_eq!(f("Cpus_allowed"), "3");
    assert_eq!(f("Cpus_allowed_list"), "0-1");
    assert_eq!(f("CapEff"), "0000000000000000");
    assert_eq!(f("CapBnd"), "000001ffffffffff");
    assert_eq!(f("SigIgn"), "0000000000000000");
    let text = px.text("/proc/self/status");
    assert!(text.contains("\nVmRSS:\t    8224 kB\n"), "{text}");
    // A root guest holds every capability.
    let rich = Px::rich();
    assert_eq!(rich.field("/proc/self/status", "CapEff"), "000001ffffffffff");
    assert_eq!(rich.field("/proc/self/status", "Cpus_allowed"), "d");
    assert_eq!(rich.field("/proc/self/status", "Cpus_allowed_list"), "0,2-3");
}

#[test]
fn status_shows_signal_dispositions() {
    let px = Px::new();
    let ignore = crate::abi::KernelSigaction { handler: crate::signal::SIG_IGN, ..Default::default() };
    let catch = crate::abi::KernelSigaction { handler: 0x40_1000, ..Default::default() };
    {
        let mut s = px.k.signals.lock();
        s.exchange(13, Some(ignore)).unwrap();
        s.exchange(11, Some(catch)).unwrap();
        s.exchange(7, Some(catch)).unwrap();
    }
    assert_eq!(px.field("/proc/self/status", "SigIgn"), "0000000000001000");
    assert_eq!(px.field("/proc/self/status", "SigCgt"), "0000000000000440");
    let stat = px.text("/proc/self/stat");
    let fields: Vec<&str> = stat.split(' ').collect();
    assert_eq!(fields[33 - 1], "4096");
    assert_eq!(fields[34 - 1], "1088");
}

#[test]
fn stat_has_52_fields_in_linux_order() {
    let px = Px::new();
    with_memory(&px);
    let text = px.text("/proc/self/stat");
    assert!(text.starts_with("4242 (fake-test) R 1 4242 4242 0 -1 0 "), "{text}");
    assert!(text.ends_with(" 0\n"));
    let fields: Vec<&str> = text.trim_end().split(' ').collect();
    assert_eq!(fields.len(), 52);
    let field = |n: usize| fields[n - 1];
    assert_eq!(field(14), "100000", "utime: 1000 s of CPU on the fake clock, in ticks");
    assert_eq!(field(20), "1", "num_threads");
    assert_eq!(field(22), "100000", "starttime: the kernel started at 1000 s of boot time");
    assert_eq!(field(23), (0x6000 + 0x80_0000 + 0x2000).to_string(), "vsize");
    assert_eq!(field(24), ((0x6000 + 0x80_0000 + 0x2000) / 4096).to_string(), "rss in pages");
    assert_eq!(field(25), u64::MAX.to_string(), "rsslim");
    assert_eq!((field(26), field(27)), ("4198400", "4206592"), "start_code, end_code");
    assert_eq!(field(28), 0xff80_0000u64.to_string(), "startstack");
    assert_eq!(field(38), "17", "exit_signal");
    assert_eq!((field(45), field(46), field(47)), ("4206592", "4210688", "4210688"), "data, brk");
    // statm: size resident shared text lib data dt, in pages.
    let pages = (0x6000 + 0x80_0000 + 0x2000) / 4096;
    assert_eq!(px.text("/proc/self/statm"), format!("{pages} {pages} 4 2 0 {} 0\n", 5 + 0x800));
}

#[test]
fn maps_lists_every_mapping_with_its_name() {
    let px = Px::new();
    with_memory(&px);
    // The program is in the tree: its segments carry its device and inode.
    px.k.vfs.mkdir(CWD, b"/usr", 0o755).unwrap();
    px.k.vfs.mkdir(CWD, b"/usr/bin", 0o755).unwrap();
    px.open("/usr/bin/fake-test", O_WRONLY | O_CREAT).unwrap();
    let exe = px.stat("/usr/bin/fake-test").unwrap();
    let dev =
        format!("{:02x}:{:02x}", crate::pseudo::format::major(exe.st_dev), crate::pseudo::format::minor(exe.st_dev));
    let text = px.text("/proc/self/maps");
    let lines: Vec<&str> = text.lines().collect();
    let pad = |head: String, name: &str| format!("{head}{}{name}", " ".repeat(73 - head.len()));
    assert_eq!(lines[0], pad(format!("00400000-00401000 r--p 00000000 {dev} {} ", exe.st_ino), "/usr/bin/fake-test"));
    assert_eq!(lines[1], pad(format!("00401000-00403000 r-xp 00001000 {dev} {} ", exe.st_ino), "/usr/bin/fake-test"));
    assert_eq!(lines[2], pad(format!("00403000-00404000 rw-p 00003000 {dev} {} ", exe.st_ino), "/usr/bin/fake-test"));
    assert_eq!(lines[3], pad("00404000-00406000 rw-p 00000000 00:00 0 ".into(), "[heap]"));
    assert_eq!(lines[4], "70000000-70002000 rw-p 00000000 00:00 0 ");
    assert_eq!(lines[5], pad("ff000000-ff800000 rw-p 00000000 00:00 0 ".into(), "[stack]"));
    assert_eq!(lines.len(), 6);
}

#[test]
fn maps_ends_with_the_platform_mappings() {
    let px = Px::rich();
    let text = px.text("/proc/self/maps");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0 ") && lines[0].ends_with(" [vvar]"));
    assert!(lines[1].starts_with("7ffff7fc5000-7ffff7fc7000 r-xp ") && lines[1].ends_with(" [vdso]"));
}

#[test]
fn cmdline_environ_and_cgroup() {
    let (_, kernel) = kernel_on(FakePlatform::new());
    let mut kernel = kernel;
    kernel.cmdline = b"prog\0-v\0".to_vec();
    kernel.environ = b"A=1\0B=2\0".to_vec();
    let px = Px::with_kernel(kernel);
    assert_eq!(px.read("/proc/self/cmdline").unwrap(), b"prog\0-v\0");
    assert_eq!(px.read("/proc/self/environ").unwrap(), b"A=1\0B=2\0");
    assert_eq!(px.text("/proc/self/cgroup"), "0::/\n");
}

#[test]
fn comm_can_be_renamed_through_the_file() {
    let px = Px::new();
    assert_eq!(px.text("/proc/self/comm"), "fake-test\n");
    // `echo worker > /proc/self/comm`: the newline is kept, as on Linux.
    assert_eq!(px.open("/proc/self/comm", O_WRONLY | O_CREAT | O_TRUNC).unwrap().write(b"worker\n"), Ok(7));
    assert_eq!(px.text("/proc/self/comm"), "worker\n\n");
    assert_eq!(px.write("/proc/self/comm", b"a-very-long-thread-name"), Ok(23));
    assert_eq!(px.text("/proc/self/comm"), "a-very-long-thr\n");
    assert_eq!(&px.k.comm.lock()[..], b"a-very-long-thr\0");
    assert_eq!(px.field("/proc/self/status", "Name"), "a-very-long-thr");
    assert!(px.text("/proc/self/stat").starts_with("4242 (a-very-long-thr) R"));
}

#[test]
fn limits_is_linux_table() {
    let px = Px::new();
    let text = px.text("/proc/self/limits");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Limit                     Soft Limit           Hard Limit           Units     ");
    assert_eq!(lines[1], "Max cpu time              unlimited            unlimited            seconds   ");
    assert_eq!(lines[4], "Max stack size            8388608              unlimited            bytes     ");
    assert_eq!(lines[8], "Max open files            1024                 1048576              files     ");
    assert_eq!(lines[14], "Max nice priority         0                    0                    ");
    assert_eq!(lines.len(), 17);
}

#[test]
fn mountinfo_and_mounts_describe_the_namespace() {
    let px = Px::new();
    let info = px.text("/proc/self/mountinfo");
    let lines: Vec<&str> = info.lines().collect();
    assert_eq!(lines.len(), 8);
    assert!(lines[0].starts_with("1 1 0:"), "{}", lines[0]);
    assert!(lines[0].ends_with(" / / rw,relatime - tmpfs tmpfs rw"), "{}", lines[0]);
    let proc_line = lines.iter().find(|l| l.contains(" /proc ")).unwrap();
    assert!(proc_line.ends_with(" / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw"), "{proc_line}");
    let cgroup = lines.iter().find(|l| l.contains(" /sys/fs/cgroup ")).unwrap();
    assert!(cgroup.ends_with(" - cgroup2 cgroup2 rw"), "{cgroup}");
    // Parent ids name the mount the mount point is in.
    let id_of =
        |path: &str| lines.iter().find(|l| l.split(' ').nth(4) == Some(path)).unwrap().split(' ').next().unwrap();
    let parent_of =
        |path: &str| lines.iter().find(|l| l.split(' ').nth(4) == Some(path)).unwrap().split(' ').nth(1).unwrap();
    assert_eq!(parent_of("/sys/fs/cgroup"), id_of("/sys"));
    assert_eq!(parent_of("/dev/shm"), id_of("/dev"));
    // The major:minor is that of the mounted root.
    let st = px.stat("/proc").unwrap();
    let dev = format!("{}:{}", crate::pseudo::format::major(st.st_dev), crate::pseudo::format::minor(st.st_dev));
    assert_eq!(proc_line.split(' ').nth(2), Some(dev.as_str()));
    let mounts = px.text("/proc/mounts");
    assert!(
        mounts.starts_with("tmpfs / tmpfs rw,relatime 0 0\ndevtmpfs /dev devtmpfs rw,nosuid,relatime 0 0\n"),
        "{mounts}"
    );
    assert!(mounts.contains("\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"));
    assert_eq!(px.text("/proc/self/mounts"), mounts);
}

#[test]
fn cwd_root_and_exe_are_magic_links() {
    let px = Px::new();
    let vfs = &px.k.vfs;
    vfs.mkdir(CWD, b"/work", 0o755).unwrap();
    px.open("/work/file", O_WRONLY | O_CREAT).unwrap();
    vfs.chdir(CWD, b"/work").unwrap();
    assert_eq!(px.link_text("/proc/self/cwd"), "/work");
    assert_eq!(px.link_text("/proc/self/root"), "/");
    assert_eq!(px.link_text("/proc/self/exe"), "/usr/bin/fake-test");
    assert_eq!(px.names("/proc/self/cwd"), ["file"]);
    assert_eq!(px.stat("/proc/self/cwd/file").unwrap().st_ino, px.stat("/work/file").unwrap().st_ino);
    assert_eq!(px.stat("/proc/self/root").unwrap().st_ino, px.stat("/").unwrap().st_ino);
    assert_eq!(px.stat("/proc/self/root/proc/self/cwd").unwrap().st_ino, px.stat("/work").unwrap().st_ino);
    // The working directory moves and goes; the link follows it.
    vfs.rename(CWD, b"/work", CWD, b"/moved", 0).unwrap();
    assert_eq!(px.link_text("/proc/self/cwd"), "/moved");
    vfs.unlink(CWD, b"/moved/file").unwrap();
    vfs.rmdir(CWD, b"/moved").unwrap();
    assert_eq!(px.link_text("/proc/self/cwd"), "/moved (deleted)");
    assert_eq!(px.stat("/proc/self/cwd").unwrap().st_nlink, 0);
    // The program is not in the tree yet: following exe fails; then it is.
    assert_eq!(err(px.stat("/proc/self/exe")), Errno::ENOENT);
    vfs.mkdir(CWD, b"/usr", 0o755).unwrap();
    vfs.mkdir(CWD, b"/usr/bin", 0o755).unwrap();
    px.open("/usr/bin/fake-test", O_WRONLY | O_CREAT).unwrap().write(b"\x7fELF").unwrap();
    assert_eq!(px.stat("/proc/self/exe").unwrap().st_ino, px.stat("/usr/bin/fake-test").unwrap().st_ino);
    assert_eq!(px.read("/proc/self/exe").unwrap(), b"\x7fELF");
    assert_eq!(kind(&px.lstat("/proc/self/exe").unwrap()), crate::abi::mode::S_IFLNK);
}
