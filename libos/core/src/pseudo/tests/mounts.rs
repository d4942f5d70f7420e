//! What `mount_all` mounts, where, and how the mounts relate.

use super::*;
use crate::pseudo::cgroupfs::CGROUP2_SUPER_MAGIC;
use crate::vfs::inode::magic;

#[test]
fn everything_is_mounted_where_linux_has_it() {
    let px = Px::new();
    let table: Vec<(String, &str, String)> =
        px.k.vfs
            .mounts()
            .into_iter()
            .map(|m| (String::from_utf8(m.mount_point).unwrap(), m.fs_type, String::from_utf8(m.source).unwrap()))
            .collect();
    let expect = [
        ("/", "tmpfs", "tmpfs"),
        ("/dev", "devtmpfs", "devtmpfs"),
        ("/dev/shm", "tmpfs", "tmpfs"),
        ("/proc", "proc", "proc"),
        ("/sys", "sysfs", "sysfs"),
        ("/sys/fs/cgroup", "cgroup2", "cgroup2"),
        ("/tmp", "tmpfs", "tmpfs"),
        ("/etc", "tmpfs", "tmpfs"),
    ];
    let expect: Vec<(String, &str, String)> = expect.iter().map(|(p, t, s)| ((*p).into(), *t, (*s).into())).collect();
    assert_eq!(table, expect);
}

#[test]
fn statfs_reports_each_filesystem_magic() {
    let px = Px::new();
    let magic_of = |p: &str| px.k.vfs.statfs(CWD, p.as_bytes()).unwrap().f_type;
    assert_eq!(magic_of("/dev"), magic::TMPFS_MAGIC);
    assert_eq!(magic_of("/dev/null"), magic::TMPFS_MAGIC);
    assert_eq!(magic_of("/dev/shm"), magic::TMPFS_MAGIC);
    assert_eq!(magic_of("/proc"), magic::PROC_SUPER_MAGIC);
    assert_eq!(magic_of("/proc/self/status"), magic::PROC_SUPER_MAGIC);
    assert_eq!(magic_of("/sys"), magic::SYSFS_MAGIC);
    assert_eq!(magic_of("/sys/fs/cgroup"), CGROUP2_SUPER_MAGIC);
    assert_eq!(magic_of("/tmp"), magic::TMPFS_MAGIC);
}

#[test]
fn dev_shm_and_tmp_are_separate_tmpfs_mounts() {
    let px = Px::new();
    px.open("/dev/shm/seg", O_WRONLY | O_CREAT).unwrap().write(b"shared").unwrap();
    px.open("/tmp/f", O_WRONLY | O_CREAT).unwrap();
    assert_eq!(px.read("/dev/shm/seg").unwrap(), b"shared");
    let vfs = &px.k.vfs;
    assert_eq!(err(vfs.rename(CWD, b"/dev/shm/seg", CWD, b"/tmp/seg", 0)), Errno::EXDEV);
    assert_eq!(err(vfs.rename(CWD, b"/dev/shm/seg", CWD, b"/seg", 0)), Errno::EXDEV);
    assert_eq!(err(vfs.rename(CWD, b"/tmp/f", CWD, b"/f", 0)), Errno::EXDEV);
    assert_eq!(px.stat("/dev/shm").unwrap().st_mode & 0o7777, 0o1777);
    assert_eq!(px.stat("/tmp").unwrap().st_mode & 0o7777, 0o1777);
    assert_ne!(px.stat("/dev/shm").unwrap().st_dev, px.stat("/tmp").unwrap().st_dev);
}

#[test]
fn the_root_lists_the_mount_points() {
    let px = Px::new();
    // The root is an empty tmpfs: every name is a mount point made up by the VFS,
    // which getdents of the root does not list; each resolves to its filesystem.
    for dir in ["/dev", "/proc", "/sys", "/tmp", "/etc"] {
        assert_eq!(kind(&px.stat(dir).unwrap()), crate::abi::mode::S_IFDIR, "{dir}");
    }
    assert_eq!(px.stat("/proc/..").unwrap().st_ino, px.stat("/").unwrap().st_ino);
    assert_eq!(px.stat("/sys/fs/cgroup/..").unwrap().st_ino, px.stat("/sys/fs").unwrap().st_ino);
}

#[test]
fn nothing_can_be_made_in_the_kernel_filesystems() {
    let px = Px::new();
    let vfs = &px.k.vfs;
    for dir in ["/proc", "/sys", "/dev", "/sys/fs/cgroup", "/proc/self"] {
        let file = alloc::format!("{dir}/new");
        assert_eq!(err(px.open(&file, O_WRONLY | O_CREAT)), Errno::EACCES, "{file}");
        assert_eq!(err(vfs.mkdir(CWD, file.as_bytes(), 0o755)), Errno::EPERM, "{file}");
        assert_eq!(err(vfs.symlink(b"x", CWD, file.as_bytes())), Errno::EPERM, "{file}");
    }
    assert_eq!(err(vfs.unlink(CWD, b"/dev/null")), Errno::EPERM);
    assert_eq!(err(vfs.unlink(CWD, b"/proc/meminfo")), Errno::EPERM);
    assert_eq!(err(vfs.rmdir(CWD, b"/proc/sys")), Errno::EPERM);
    assert_eq!(err(vfs.chmod(CWD, b"/proc/meminfo", 0o777, true)), Errno::EPERM);
}
