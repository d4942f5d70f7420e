//! `/proc/<pid>/fd/` and `/proc/<pid>/fdinfo/`.

use alloc::format;
use alloc::string::ToString;

use super::*;
use crate::abi::mode::{S_IFCHR, S_IFLNK};

#[test]
fn fd_lists_the_open_fds_as_links() {
    let px = Px::new();
    assert_eq!(px.names("/proc/self/fd"), ["0", "1", "2"]);
    let fd = px.open_fd("/dev/null", O_WRONLY);
    assert_eq!(px.names("/proc/self/fd"), ["0", "1", "2", &fd.to_string()]);
    let path = format!("/proc/self/fd/{fd}");
    let st = px.lstat(&path).unwrap();
    assert_eq!(kind(&st), S_IFLNK);
    assert_eq!(st.st_mode & 0o777, 0o300, "write-only: l-wx------");
    assert_eq!(st.st_size, 64);
    assert_eq!(px.lstat("/proc/self/fd/0").unwrap().st_mode & 0o777, 0o700);
    assert_eq!(px.stat("/proc/self/fd").unwrap().st_mode & 0o7777, 0o500);
    assert_eq!(px.link_text(&path), "/dev/null");
    px.k.fds.lock().remove(fd).unwrap();
    assert_eq!(px.names("/proc/self/fd"), ["0", "1", "2"]);
    assert_eq!(err(px.lstat(&path)), Errno::ENOENT);
}

#[test]
fn a_closed_or_malformed_fd_is_enoent() {
    let px = Px::new();
    for name in ["99", "-1", "01", "x", "4294967296"] {
        let path = format!("/proc/self/fd/{name}");
        assert_eq!(err(px.lstat(&path)), Errno::ENOENT, "{name}");
        assert_eq!(err(px.readlink(&path)), Errno::ENOENT, "{name}");
        assert_eq!(err(px.open(&path, O_RDONLY)), Errno::ENOENT, "{name}");
        assert_eq!(err(px.stat(&format!("/proc/self/fdinfo/{name}"))), Errno::ENOENT, "{name}");
    }
}

#[test]
fn a_file_in_the_tree_is_reopened_by_its_dentry() {
    let px = Px::new();
    px.open("/tmp/data", O_WRONLY | O_CREAT).unwrap().write(b"0123456789").unwrap();
    let fd = px.open_fd("/tmp/data", O_RDONLY);
    let path = format!("/proc/self/fd/{fd}");
    assert_eq!(px.link_text(&path), "/tmp/data");
    // A new open: its own position, and it may write where the fd may not.
    let open = px.k.fds.lock().get(fd).unwrap();
    let mut four = [0u8; 4];
    open.read(&mut four).unwrap();
    assert_eq!(px.read(&path).unwrap(), b"0123456789");
    px.open(&path, O_WRONLY).unwrap().write(b"ab").unwrap();
    assert_eq!(px.read("/tmp/data").unwrap(), b"ab23456789");
    // Renamed, then removed: the link follows, and still reaches the file.
    px.k.vfs.rename(CWD, b"/tmp/data", CWD, b"/tmp/moved", 0).unwrap();
    assert_eq!(px.link_text(&path), "/tmp/moved");
    px.k.vfs.unlink(CWD, b"/tmp/moved").unwrap();
    assert_eq!(px.link_text(&path), "/tmp/moved (deleted)");
    assert_eq!(px.read(&path).unwrap(), b"ab23456789");
    assert_eq!(px.stat(&path).unwrap().st_nlink, 0);
}

#[test]
fn a_directory_fd_can_be_walked_through() {
    let px = Px::new();
    px.k.vfs.mkdir(CWD, b"/tmp/d", 0o755).unwrap();
    px.open("/tmp/d/inside", O_WRONLY | O_CREAT).unwrap();
    let fd = px.open_fd("/tmp/d", O_RDONLY | O_DIRECTORY);
    assert_eq!(px.names(&format!("/proc/self/fd/{fd}")), ["inside"]);
    assert!(px.stat(&format!("/proc/self/fd/{fd}/inside")).is_ok());
    assert_eq!(err(px.stat("/proc/self/fd/0/x")), Errno::ENOTDIR);
}

#[test]
fn the_console_is_named_and_reached_as_the_object_itself() {
    let px = Px::new();
    // The fake console's stat says /dev/pts/0.
    assert_eq!(px.link_text("/proc/self/fd/1"), "/dev/pts/0");
    let st = px.stat("/proc/self/fd/1").unwrap();
    assert_eq!(kind(&st), S_IFCHR);
    assert_eq!(st.st_rdev, 136 << 8);
    // A platform that names its console is believed, wherever the fd moves.
    let rich = Px::rich();
    assert_eq!(rich.link_text("/proc/self/fd/2"), "/host/console2");
    let console = rich.k.fds.lock().get(2).unwrap();
    let moved = rich.k.fds.lock().insert_from(10, console, false).unwrap();
    assert_eq!(rich.link_text(&format!("/proc/self/fd/{moved}")), "/host/console2");
}

#[test]
fn opening_a_console_fd_shares_the_console_file() {
    let platform = FakePlatform::new().leak();
    let (_, kernel) = kernel_with(platform);
    let px = Px::with_kernel(kernel);
    let f = px.open("/proc/self/fd/2", O_WRONLY).unwrap();
    f.write(b"err").unwrap();
    assert_eq!(platform.console[2].output(), b"err");
    let o_path = px.k.vfs.open(CWD, b"/proc/self/fd/2", O_PATH, 0).unwrap();
    assert_eq!(kind(&o_path.stat().unwrap()), S_IFCHR);
}

/// A kernel over an already leaked platform.
fn kernel_with(platform: &'static FakePlatform) -> ((), Kernel) {
    let mm = crate::mm::MemoryMap::new(0x10_0000, 0x1_0000_0000, 0x8000_0000);
    let clock: Clock = Arc::new(move || platform.now(ClockId::Realtime));
    let vfs = crate::vfs::Vfs::new(crate::vfs::TmpFs::new(clock.clone()), Default::default(), b"tmpfs", clock);
    let setup = crate::kernel::ProcessSetup { exe_path: b"/p", argv: &[], env: &[], console_flags: [O_RDWR; 3], vfs };
    ((), Kernel::new(platform, mm, setup))
}

#[test]
fn pipes_and_sockets_are_named_by_type_and_sockets_cannot_be_opened() {
    let px = Px::new();
    for (mode, name) in [(crate::abi::mode::S_IFIFO, "pipe"), (crate::abi::mode::S_IFSOCK, "socket")] {
        let file: Arc<dyn File> = Arc::new(Typed { mode, ino: 777 });
        let fd = px.k.fds.lock().insert(OpenFile::new(file, O_RDWR), false).unwrap();
        let path = format!("/proc/self/fd/{fd}");
        assert_eq!(px.link_text(&path), format!("{name}:[777]"));
        assert_eq!(px.stat(&path).unwrap().st_ino, 777);
        if name == "pipe" {
            assert!(px.open(&path, O_RDONLY).is_ok());
        } else {
            assert_eq!(err(px.open(&path, O_RDONLY)), Errno::ENXIO);
        }
    }
}

/// A stream that is only a `stat`.
struct Typed {
    mode: u32,
    ino: u64,
}

impl File for Typed {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_mode: self.mode | 0o600, st_ino: self.ino, st_nlink: 1, ..Stat::default() })
    }
}

#[test]
fn fdinfo_shows_position_flags_mount_and_inode() {
    let px = Px::new();
    px.open("/tmp/f", O_WRONLY | O_CREAT).unwrap().write(b"abcdef").unwrap();
    let fd = px.open_fd("/tmp/f", O_RDONLY | O_CLOEXEC);
    let open = px.k.fds.lock().get(fd).unwrap();
    let mut three = [0u8; 3];
    open.read(&mut three).unwrap();
    let ino = px.stat("/tmp/f").unwrap().st_ino;
    let tmp_mount = px.k.vfs.lookup(CWD, b"/tmp", true).unwrap().mount().id();
    assert_eq!(
        px.text(&format!("/proc/self/fdinfo/{fd}")),
        format!("pos:\t3\nflags:\t02100000\nmnt_id:\t{tmp_mount}\nino:\t{ino}\n")
    );
    assert_eq!(px.names("/proc/self/fdinfo"), ["0", "1", "2", &fd.to_string()]);
    assert_eq!(px.stat(&format!("/proc/self/fdinfo/{fd}")).unwrap().st_mode & 0o7777, 0o444);
    assert!(px.text("/proc/self/fdinfo/0").starts_with("pos:\t0\nflags:\t02\n"));
}

#[test]
fn listing_resumes_by_fd_number_as_fds_come_and_go() {
    let px = Px::new();
    let fds: Vec<i32> = (0..5).map(|_| px.open_fd("/dev/null", O_RDONLY)).collect();
    let dir = px.open("/proc/self/fd", O_RDONLY | O_DIRECTORY).unwrap();
    // Read ".", "..", "0", "1" and stop there.
    let mut small = [0u8; 24 * 4];
    let n = dir.file.getdents64(&mut small).unwrap();
    assert_eq!(n, 96);
    px.k.fds.lock().remove(2).unwrap();
    px.k.fds.lock().remove(fds[0]).unwrap();
    let rest = read_names(&dir);
    let expect: Vec<String> = fds[1..].iter().map(|fd| fd.to_string()).collect();
    assert_eq!(rest, expect);
}

/// The names left in an open directory.
fn read_names(dir: &OpenFile) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = dir.file.getdents64(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        let mut at = 0;
        while at < n {
            let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
            let name = &buf[at + 19..at + reclen];
            out.push(String::from_utf8(name[..name.iter().position(|&b| b == 0).unwrap()].to_vec()).unwrap());
            at += reclen;
        }
    }
}
