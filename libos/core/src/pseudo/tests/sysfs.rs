//! `/sys` and the cgroup v2 root at `/sys/fs/cgroup`.

use alloc::string::ToString;

use super::*;

#[test]
fn cpu_lists_match_the_affinity_mask() {
    let px = Px::new();
    for f in ["online", "possible", "present"] {
        assert_eq!(px.text(&alloc::format!("/sys/devices/system/cpu/{f}")), "0-1\n");
    }
    let names = px.names("/sys/devices/system/cpu");
    assert_eq!(names, ["online", "possible", "present", "cpu0", "cpu1"]);
    let rich = Px::rich();
    assert_eq!(rich.text("/sys/devices/system/cpu/online"), "0,2-3\n");
    assert!(rich.stat("/sys/devices/system/cpu/cpu2").is_ok());
    assert_eq!(err(rich.stat("/sys/devices/system/cpu/cpu1")), Errno::ENOENT);
}

#[test]
fn transparent_hugepages_are_madvise() {
    let px = Px::new();
    assert_eq!(px.text("/sys/kernel/mm/transparent_hugepage/enabled"), "always [madvise] never\n");
    assert_eq!(px.text("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"), "2097152\n");
    let st = px.stat("/sys/kernel/mm/transparent_hugepage/enabled").unwrap();
    assert_eq!(st.st_size, 4096, "sysfs attributes say 4096");
    assert_eq!(st.st_mode & 0o7777, 0o644);
    assert_eq!(err(px.write("/sys/kernel/mm/transparent_hugepage/enabled", b"never")), Errno::EACCES);
}

#[test]
fn the_sys_tree() {
    let px = Px::new();
    assert_eq!(px.names("/sys"), ["devices", "fs", "kernel"]);
    assert_eq!(px.stat("/sys").unwrap().st_mode & 0o7777, 0o555);
    assert_eq!(px.stat("/sys/fs").unwrap().st_nlink, 3);
    assert_eq!(px.stat("/sys/devices/system/cpu/..").unwrap().st_ino, px.stat("/sys/devices/system").unwrap().st_ino);
}

#[test]
fn the_cgroup_root_has_no_limits() {
    let px = Px::new();
    assert_eq!(px.text("/sys/fs/cgroup/cpu.max"), "max 100000\n");
    assert_eq!(px.text("/sys/fs/cgroup/cpu.weight"), "100\n");
    assert_eq!(px.text("/sys/fs/cgroup/memory.max"), "max\n");
    assert_eq!(px.text("/sys/fs/cgroup/pids.max"), "max\n");
    assert_eq!(px.text("/sys/fs/cgroup/cgroup.controllers"), "cpuset cpu memory pids\n");
    assert_eq!(px.text("/sys/fs/cgroup/cgroup.procs"), px.pid().to_string() + "\n");
    assert_eq!(px.text("/sys/fs/cgroup/cpuset.cpus.effective"), "0-1\n");
    assert_eq!(err(px.write("/sys/fs/cgroup/cpu.max", b"50000 100000")), Errno::EACCES);
}

#[test]
fn the_cgroup_is_found_the_way_rust_std_finds_it() {
    let px = Px::new();
    // std reads /proc/self/cgroup: "0::<path>" is cgroup v2 ...
    let cgroup = px.text("/proc/self/cgroup");
    let path = cgroup.trim_end().strip_prefix("0::").unwrap();
    // ... /proc/self/mountinfo names where cgroup2 is mounted ...
    let info = px.text("/proc/self/mountinfo");
    let line = info.lines().find(|l| l.split(" - ").nth(1).is_some_and(|t| t.starts_with("cgroup2 "))).unwrap();
    let mount_point = line.split(' ').nth(4).unwrap();
    assert_eq!(mount_point, "/sys/fs/cgroup");
    // ... and cpu.max there says there is no quota.
    let cpu_max = alloc::format!("{mount_point}{path}cpu.max");
    assert_eq!(px.text(&cpu_max), "max 100000\n");
}
