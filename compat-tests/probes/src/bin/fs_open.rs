//! open / openat / creat / openat2 / close / close_range in the working directory:
//! creation flags, access modes, O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_CLOEXEC,
//! and the errnos of path lookup (ENOENT, ENOTDIR, EISDIR, EEXIST, ENAMETOOLONG, EBADF).

use probes::fsutil::{must, o, oc, section, v, TmpDir};
use probes::sys::{self, AT_FDCWD};
use probes::{check, Errno};

use libc::{
    FD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH,
    O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
};

fn content(path: &str) -> String {
    match std::fs::read(path) {
        Ok(b) => format!("{:?}", String::from_utf8_lossy(&b)),
        Err(e) => format!("Err({})", probes::fsutil::ioe(&e)),
    }
}

fn creation() {
    section("creation");
    let fd = sys::open("f1", O_CREAT | O_WRONLY, 0o644);
    println!("open O_CREAT new: {}", o(fd));
    let fd = must("open f1", fd);
    println!("write: {}", v(sys::write(fd, b"hello world")));
    println!("close: {}", v(sys::close(fd)));
    println!("close again: {}", v(sys::close(fd)));
    println!("content: {}", content("f1"));

    println!("O_CREAT|O_EXCL existing: {}", oc(sys::open("f1", O_CREAT | O_EXCL | O_WRONLY, 0o644)));
    let fd = sys::openat(AT_FDCWD, "f2", O_CREAT | O_EXCL | O_RDWR, 0o600);
    println!("openat O_CREAT|O_EXCL new: {}", o(fd));
    sys::close(must("f2", fd));
    println!("O_CREAT on existing (no O_EXCL): {}", oc(sys::open("f1", O_CREAT | O_RDONLY, 0o644)));

    let fd = must("trunc", sys::open("f1", O_WRONLY | O_TRUNC, 0));
    println!("after O_TRUNC: size {}", std::fs::metadata("f1").map(|m| m.len()).unwrap_or(99));
    sys::close(fd);

    let fd = sys::creat("f3", 0o644);
    println!("creat new: {}", o(fd));
    let fd = must("creat", fd);
    println!("creat is write-only: read {}", v(sys::read(fd, &mut [0u8; 4])));
    println!("creat: write {}", v(sys::write(fd, b"abc")));
    sys::close(fd);
    let fd = must("creat again", sys::creat("f3", 0o644));
    println!("creat existing truncates: size {}", std::fs::metadata("f3").map(|m| m.len()).unwrap_or(99));
    sys::close(fd);
}

fn access_modes() {
    section("access modes");
    let ro = must("ro", sys::open("f1", O_RDONLY, 0));
    println!("write to O_RDONLY: {}", v(sys::write(ro, b"x")));
    let flags = check(sys::fcntl(ro, F_GETFL, 0)).unwrap_or(0) as i32;
    println!("F_GETFL accmode O_RDONLY: {}", flags & libc::O_ACCMODE == O_RDONLY);
    sys::close(ro);
    let wo = must("wo", sys::open("f1", O_WRONLY, 0));
    println!("read from O_WRONLY: {}", v(sys::read(wo, &mut [0u8; 4])));
    sys::close(wo);
    println!("O_RDONLY|O_TRUNC then size: {}", {
        let fd = must("rdonly trunc", sys::open("f3", O_RDWR, 0));
        sys::write(fd, b"12345");
        sys::close(fd);
        let r = oc(sys::open("f3", O_RDONLY | O_TRUNC, 0));
        format!("{r}, size {}", std::fs::metadata("f3").map(|m| m.len()).unwrap_or(99))
    });
}

fn append() {
    section("O_APPEND");
    std::fs::write("ap", "0123456789").unwrap();
    let fd = must("ap", sys::open("ap", O_WRONLY | O_APPEND, 0));
    println!("lseek to 0: {}", v(sys::lseek(fd, 0, libc::SEEK_SET)));
    println!("write: {}", v(sys::write(fd, b"AB")));
    println!("offset after write: {}", v(sys::lseek(fd, 0, libc::SEEK_CUR)));
    println!("pwrite at 0 (appends on Linux): {}", v(sys::pwrite(fd, b"CD", 0)));
    sys::close(fd);
    println!("content: {}", content("ap"));
    let fd = must("ap rw", sys::open("ap", O_RDWR | O_APPEND, 0));
    let mut buf = [0u8; 4];
    println!("read from start: {} {:?}", v(sys::read(fd, &mut buf)), String::from_utf8_lossy(&buf));
    println!("write after read: {}", v(sys::write(fd, b"E")));
    sys::close(fd);
    println!("content: {}", content("ap"));
}

fn lookup_errors() {
    section("lookup errors");
    std::fs::create_dir("dir").unwrap();
    std::fs::write("dir/inner", "x").unwrap();
    println!("missing: {}", oc(sys::open("missing", O_RDONLY, 0)));
    println!("missing/child O_CREAT: {}", oc(sys::open("missing/child", O_CREAT | O_WRONLY, 0o644)));
    println!("file/x: {}", oc(sys::open("f1/x", O_RDONLY, 0)));
    println!("file/x O_CREAT: {}", oc(sys::open("f1/x", O_CREAT | O_WRONLY, 0o644)));
    println!("file/ (trailing slash): {}", oc(sys::open("f1/", O_RDONLY, 0)));
    println!("dir O_WRONLY: {}", oc(sys::open("dir", O_WRONLY, 0)));
    println!("dir O_RDWR: {}", oc(sys::open("dir", O_RDWR, 0)));
    println!("dir O_CREAT: {}", oc(sys::open("dir", O_CREAT | O_RDONLY, 0o644)));
    let d = sys::open("dir", O_RDONLY, 0);
    println!("dir O_RDONLY: {}", o(d));
    if let Ok(d) = check(d) {
        println!("read from a directory fd: {}", v(sys::read(d as i32, &mut [0u8; 8])));
        println!("openat relative to dir fd: {}", oc(sys::openat(d as i32, "inner", O_RDONLY, 0)));
        println!("openat relative to a file fd: {}", {
            let f = must("f1", sys::open("f1", O_RDONLY, 0));
            let r = oc(sys::openat(f, "inner", O_RDONLY, 0));
            sys::close(f);
            r
        });
        sys::close(d as i32);
    }
    println!("file O_DIRECTORY: {}", oc(sys::open("f1", O_DIRECTORY | O_RDONLY, 0)));
    println!("dir O_DIRECTORY: {}", oc(sys::open("dir", O_DIRECTORY | O_RDONLY, 0)));
    println!("missing O_DIRECTORY|O_CREAT: {}", oc(sys::open("nd", O_DIRECTORY | O_CREAT | O_RDONLY, 0o755)));
    println!("empty path: {}", oc(sys::open("", O_RDONLY, 0)));
    println!("openat bad dirfd: {}", oc(sys::openat(9999, "f1", O_RDONLY, 0)));
    println!("openat bad dirfd, absolute path: {}", oc(sys::openat(9999, "/", O_RDONLY, 0)));
    let long_name = "n".repeat(256);
    println!("component of 256 bytes: {}", oc(sys::open(&long_name, O_CREAT | O_WRONLY, 0o644)));
    let ok_name = "n".repeat(255);
    println!("component of 255 bytes: {}", oc(sys::open(&ok_name, O_CREAT | O_WRONLY, 0o644)));
    println!("unlink it: {}", v(sys::unlink(&ok_name)));
    let long_path = "a/".repeat(2048);
    println!("path of 4096 bytes: {}", oc(sys::open(&long_path, O_RDONLY, 0)));
}

fn special_flags() {
    section("O_PATH, O_NOFOLLOW, O_CLOEXEC");
    let fd = sys::open("f1", O_PATH, 0);
    println!("O_PATH open: {}", o(fd));
    let fd = must("O_PATH", fd);
    println!("O_PATH read: {}", v(sys::read(fd, &mut [0u8; 4])));
    println!("O_PATH write: {}", v(sys::write(fd, b"x")));
    println!("O_PATH fstat: {}", o(sys::fstat(fd).0));
    println!("O_PATH fstat size: {}", sys::fstat(fd).1.st_size);
    sys::close(fd);
    let d = must("O_PATH dir", sys::open("dir", O_PATH | O_DIRECTORY, 0));
    println!("openat relative to an O_PATH dir: {}", oc(sys::openat(d, "inner", O_RDONLY, 0)));
    sys::close(d);
    println!("O_NOFOLLOW on a regular file: {}", oc(sys::open("f1", O_NOFOLLOW | O_RDONLY, 0)));

    let fd = must("plain", sys::open("f1", O_RDONLY, 0));
    println!("F_GETFD without O_CLOEXEC: {}", v(sys::fcntl(fd, F_GETFD, 0)));
    println!("F_SETFD FD_CLOEXEC: {}", v(sys::fcntl(fd, F_SETFD, FD_CLOEXEC as usize)));
    println!("F_GETFD: {}", v(sys::fcntl(fd, F_GETFD, 0)));
    println!("F_SETFD 0: {}", v(sys::fcntl(fd, F_SETFD, 0)));
    println!("F_GETFD: {}", v(sys::fcntl(fd, F_GETFD, 0)));
    sys::close(fd);
    let fd = must("cloexec", sys::open("f1", O_RDONLY | O_CLOEXEC, 0));
    println!("F_GETFD with O_CLOEXEC: {}", v(sys::fcntl(fd, F_GETFD, 0)));
    let fl = check(sys::fcntl(fd, F_GETFL, 0)).unwrap_or(0) as i32;
    println!("O_CLOEXEC not in F_GETFL: {}", fl & O_CLOEXEC == 0);
    sys::close(fd);
}

fn fd_numbers_and_close() {
    section("descriptor numbers and close_range");
    let a = must("a", sys::open("f1", O_RDONLY, 0));
    let b = must("b", sys::open("f1", O_RDONLY, 0));
    let c = must("c", sys::open("f1", O_RDONLY, 0));
    println!("consecutive: {}", b == a + 1 && c == b + 1);
    sys::close(b);
    let d = must("d", sys::open("f1", O_RDONLY, 0));
    println!("lowest free reused: {}", d == b);
    println!("close_range CLOEXEC on [a, c]: {}", v(sys::close_range(a as u32, c as u32, libc::CLOSE_RANGE_CLOEXEC)));
    println!("FD_CLOEXEC set on all: {}", [a, d, c].iter().all(|&fd| sys::fcntl(fd, F_GETFD, 0) == 1));
    println!("close_range [a, c]: {}", v(sys::close_range(a as u32, c as u32, 0)));
    println!("all closed: {}", [a, d, c].iter().all(|&fd| sys::fcntl(fd, F_GETFD, 0) == -(libc::EBADF as isize)));
    println!("close_range first > last: {}", v(sys::close_range(10, 5, 0)));
    println!("close_range bad flags: {}", v(sys::close_range(a as u32, c as u32, 0x8000)));
    println!("close of never-opened fd: {}", v(sys::close(4000)));
    println!("close of -1: {}", v(sys::close(-1)));
}

fn openat2() {
    section("openat2");
    // unify may not have openat2 (ENOSYS); what matters is that a plain one either works
    // or says ENOSYS, so the programs that fall back to openat keep working.
    // SAFETY: `open_how` is plain integers: all-zero is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = O_RDONLY as u64;
    let r = sys::openat2(AT_FDCWD, "f1", &how);
    let fine = match check(r) {
        Ok(fd) => {
            sys::close(fd as i32);
            true
        }
        Err(Errno(e)) => e == libc::ENOSYS,
    };
    println!("openat2 plain: ok or ENOSYS: {fine}");
}

fn main() {
    // Everything here happens in the case's own fresh working directory, except the
    // trailing-slash check on a symlink, which needs /tmp.
    creation();
    access_modes();
    append();
    lookup_errors();
    special_flags();
    fd_numbers_and_close();
    openat2();
    section("symlinks (in /tmp)");
    let tmp = TmpDir::new("fs_open");
    std::fs::write(tmp.at("target"), "t").unwrap();
    sys::symlink(&tmp.at("target"), &tmp.at("link"));
    println!("O_NOFOLLOW on a symlink: {}", oc(sys::open(&tmp.at("link"), O_NOFOLLOW | O_RDONLY, 0)));
    println!("O_NOFOLLOW|O_PATH on a symlink: {}", {
        let r = sys::open(&tmp.at("link"), O_NOFOLLOW | O_PATH, 0);
        let s = o(r);
        if let Ok(fd) = check(r) {
            println!("  its fstat type: {}", probes::fsutil::ftype(sys::fstat(fd as i32).1.st_mode));
            sys::close(fd as i32);
        }
        s
    });
    println!("symlink followed: {}", oc(sys::open(&tmp.at("link"), O_RDONLY, 0)));
    println!("O_CREAT|O_EXCL on a symlink: {}", oc(sys::open(&tmp.at("link"), O_CREAT | O_EXCL | O_WRONLY, 0o644)));
    sys::symlink("dangling-target", &tmp.at("dangling"));
    println!("O_CREAT through a dangling symlink: {}", oc(sys::open(&tmp.at("dangling"), O_CREAT | O_WRONLY, 0o644)));
    println!("it created the target: {}", std::path::Path::new(&tmp.at("dangling-target")).is_file());
}
