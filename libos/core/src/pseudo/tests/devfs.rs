//! `/dev`.

use super::*;
use crate::abi::mode::{S_IFCHR, S_IFDIR, S_IFLNK};
use crate::vfs::makedev;

#[test]
fn the_devices_have_linux_numbers_and_modes() {
    let px = Px::new();
    for (name, major, minor, perm) in [
        ("null", 1, 3, 0o666),
        ("zero", 1, 5, 0o666),
        ("full", 1, 7, 0o666),
        ("random", 1, 8, 0o666),
        ("urandom", 1, 9, 0o666),
        ("tty", 5, 0, 0o666),
        ("console", 5, 1, 0o600),
    ] {
        let st = px.stat(&alloc::format!("/dev/{name}")).unwrap();
        assert_eq!(kind(&st), S_IFCHR, "{name}");
        assert_eq!(st.st_rdev, makedev(major, minor), "{name}");
        assert_eq!(st.st_mode & 0o7777, perm, "{name}");
        assert_eq!(st.st_dev, px.stat("/dev").unwrap().st_dev);
    }
    assert_eq!(
        px.names("/dev"),
        ["null", "zero", "full", "random", "urandom", "tty", "console", "stdin", "stdout", "stderr", "fd", "shm"]
    );
    assert_eq!(kind(&px.lstat("/dev/shm").unwrap()), S_IFDIR);
}

#[test]
fn null_swallows_and_ends() {
    let px = Px::new();
    let f = px.open("/dev/null", O_RDWR).unwrap();
    let mut buf = [7u8; 16];
    assert_eq!(f.read(&mut buf), Ok(0));
    assert_eq!(f.write(b"gone"), Ok(4));
    assert_eq!(f.file.pread(&mut buf, 100), Ok(0));
    assert_eq!(f.file.seek(100, 0), Ok(0));
    assert_eq!(f.file.stat().unwrap().st_rdev, makedev(1, 3));
    assert_eq!(buf, [7u8; 16]);
}

#[test]
fn zero_reads_zeros_and_full_refuses_writes() {
    let px = Px::new();
    let zero = px.open("/dev/zero", O_RDWR).unwrap();
    let mut buf = [7u8; 5000];
    assert_eq!(zero.read(&mut buf), Ok(5000));
    assert!(buf.iter().all(|&b| b == 0));
    assert_eq!(zero.write(b"x"), Ok(1));
    let full = px.open("/dev/full", O_RDWR).unwrap();
    let mut buf = [7u8; 8];
    assert_eq!(full.read(&mut buf), Ok(8));
    assert_eq!(buf, [0; 8]);
    assert_eq!(full.write(b"x"), Err(Errno::ENOSPC));
}

#[test]
fn random_devices_read_the_platform_generator() {
    let px = Px::new();
    for dev in ["/dev/random", "/dev/urandom"] {
        let f = px.open(dev, O_RDONLY).unwrap();
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        assert_eq!(f.read(&mut a), Ok(64));
        assert_eq!(f.read(&mut b), Ok(64));
        assert_ne!(a, b);
        assert!(a.iter().any(|&x| x != 0));
    }
    assert_eq!(px.open("/dev/urandom", O_WRONLY).unwrap().write(b"seed"), Ok(4));
}

#[test]
fn tty_is_enxio_without_a_controlling_terminal() {
    let px = Px::new();
    assert_eq!(err(px.open("/dev/tty", O_RDWR)), Errno::ENXIO);
    let rich = Px::rich();
    let tty = rich.open("/dev/tty", O_RDWR).unwrap();
    let mut buf = [0u8; 5];
    assert_eq!(tty.read(&mut buf), Ok(5));
    assert_eq!(&buf, b"typed");
}

#[test]
fn console_is_the_platform_console() {
    let platform = FakePlatform::new().leak();
    let px = Px::with_kernel(kernel_over(platform));
    let console = px.open("/dev/console", O_WRONLY).unwrap();
    assert_eq!(console.write(b"to the console"), Ok(14));
    assert_eq!(platform.console[1].output(), b"to the console");
}

/// A kernel over an already leaked fake platform.
fn kernel_over(platform: &'static FakePlatform) -> Kernel {
    let mm = crate::mm::MemoryMap::new(0x10_0000, 0x1_0000_0000, 0x8000_0000);
    let clock: Clock = Arc::new(move || platform.now(ClockId::Realtime));
    let vfs = crate::vfs::Vfs::new(crate::vfs::TmpFs::new(clock.clone()), Default::default(), b"tmpfs", clock);
    let setup = crate::kernel::ProcessSetup { exe_path: b"/p", argv: &[], env: &[], console_flags: [O_RDWR; 3], vfs };
    Kernel::new(platform, mm, setup)
}

#[test]
fn std_links_reach_the_fds() {
    let platform = FakePlatform::new().leak();
    let px = Px::with_kernel(kernel_over(platform));
    assert_eq!(px.link_text("/dev/stdin"), "/proc/self/fd/0");
    assert_eq!(px.link_text("/dev/stdout"), "/proc/self/fd/1");
    assert_eq!(px.link_text("/dev/stderr"), "/proc/self/fd/2");
    assert_eq!(px.link_text("/dev/fd"), "/proc/self/fd");
    assert_eq!(kind(&px.lstat("/dev/stdout").unwrap()), S_IFLNK);
    assert_eq!(px.lstat("/dev/stdout").unwrap().st_size, 15);
    // Opening /dev/stdout (even with O_CREAT|O_TRUNC, as `> /dev/stdout` does)
    // writes where fd 1 writes.
    let out = px.open("/dev/stdout", O_WRONLY | O_CREAT | O_TRUNC).unwrap();
    assert_eq!(out.write(b"hello"), Ok(5));
    assert_eq!(platform.console[1].output(), b"hello");
    assert_eq!(px.stat("/dev/stderr").unwrap().st_rdev, platform.console[2].stat().unwrap().st_rdev);
    // /dev/fd/N follows the fd table.
    let fd = px.open_fd("/dev/zero", O_RDONLY);
    assert_eq!(px.stat(&alloc::format!("/dev/fd/{fd}")).unwrap().st_rdev, makedev(1, 5));
    assert_eq!(px.names("/dev/fd"), ["0", "1", "2", alloc::format!("{fd}").as_str()]);
}

#[test]
fn dev_is_a_directory_that_cannot_be_written() {
    let px = Px::new();
    assert_eq!(err(px.open("/dev", O_RDWR)), Errno::EISDIR);
    assert_eq!(px.stat("/dev").unwrap().st_mode & 0o7777, 0o755);
    assert_eq!(err(px.open("/dev/missing", O_RDONLY)), Errno::ENOENT);
}
