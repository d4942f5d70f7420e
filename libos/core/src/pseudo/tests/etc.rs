//! The generated `/etc`.

use super::*;

#[test]
fn an_empty_root_gets_a_generated_etc_on_tmpfs() {
    let px = Px::new();
    let mut names = px.names("/etc");
    names.sort();
    assert_eq!(
        names,
        ["group", "hostname", "hosts", "localtime", "nsswitch.conf", "os-release", "passwd", "resolv.conf", "timezone"]
    );
    assert_eq!(px.stat("/etc").unwrap().st_mode & 0o7777, 0o755);
    assert_eq!(px.stat("/etc/hosts").unwrap().st_mode & 0o7777, 0o644);
    assert_eq!(
        px.text("/etc/hosts"),
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tfake\n"
    );
    assert_eq!(px.text("/etc/hostname"), "fake\n");
    assert_eq!(px.text("/etc/timezone"), "Etc/UTC\n");
    assert_eq!(px.read("/etc/localtime").unwrap(), crate::pseudo::tzif::utc());
    assert_eq!(px.text("/etc/resolv.conf"), "", "the fake platform names no DNS server");
    assert!(px.text("/etc/nsswitch.conf").contains("passwd: files\n"));
    assert!(px.text("/etc/nsswitch.conf").contains("hosts: files dns\n"));
    let os = px.text("/etc/os-release");
    assert!(os.contains("\nID=unify\n"));
    assert!(os.contains(&alloc::format!("VERSION_ID=\"{}\"", env!("CARGO_PKG_VERSION"))));
    // Writable, like any /etc.
    px.open("/etc/extra", O_WRONLY | O_CREAT).unwrap();
}

#[test]
fn the_guest_user_is_named() {
    let px = Px::new();
    assert_eq!(px.text("/etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n");
    assert_eq!(px.text("/etc/group"), "root:x:0:\nuser:x:1000:\n");
    let root = Px::rich();
    assert_eq!(root.text("/etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    assert_eq!(root.text("/etc/group"), "root:x:0:\n");
    assert_eq!(root.text("/etc/resolv.conf"), "nameserver 10.0.2.3\nnameserver fd00::3\n");
}

/// A kernel whose root already has an `/etc` holding `hosts`.
fn kernel_with_etc(read_only: bool) -> Kernel {
    let (_, mut kernel) = kernel_on(FakePlatform::new());
    let platform = kernel.platform;
    let clock: Clock = Arc::new(move || platform.now(ClockId::Realtime));
    let root = crate::vfs::TmpFs::new(clock.clone());
    let setup = crate::vfs::Vfs::new(root.clone(), Default::default(), b"image", clock.clone());
    setup.mkdir(CWD, b"/etc", 0o755).unwrap();
    let hosts = setup.open(CWD, b"/etc/hosts", O_WRONLY | O_CREAT, 0o644).unwrap();
    hosts.write(b"10.1.1.1 mine\n", false).unwrap();
    let flags = crate::vfs::MountFlags { read_only, ..Default::default() };
    kernel.vfs = crate::vfs::Vfs::new(root, flags, b"image", clock);
    kernel
}

#[test]
fn the_images_etc_keeps_its_files_and_gets_the_missing_ones() {
    let px = Px::with_kernel(kernel_with_etc(false));
    assert_eq!(px.text("/etc/hosts"), "10.1.1.1 mine\n");
    assert_eq!(px.text("/etc/timezone"), "Etc/UTC\n");
    // Written into the image: no mount at /etc.
    assert!(px.k.vfs.mounts().iter().all(|m| m.mount_point != b"/etc"));
}

#[test]
fn a_read_only_images_etc_is_left_alone() {
    let px = Px::with_kernel(kernel_with_etc(true));
    assert_eq!(px.text("/etc/hosts"), "10.1.1.1 mine\n");
    assert_eq!(err(px.stat("/etc/timezone")), Errno::ENOENT);
}
