//! stat / lstat / fstat / newfstatat / statx / statfs / fstatfs: what every filesystem
//! reports the same way (file type, size, nlink of a regular file, that the same file
//! has the same identity through different calls), AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW,
//! statx masks, and the errnos. Never inode numbers, devices, modes on disk, owners,
//! block counts or times: those differ between filesystems.

use probes::fsutil::{ftype, must, o, section, v, TmpDir};
use probes::sys::{self, AT_FDCWD};

use libc::{
    AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, O_CREAT, O_PATH, O_RDONLY, O_WRONLY, STATX_BASIC_STATS, STATX_SIZE, STATX_TYPE,
};

fn describe(r: isize, st: &libc::stat) -> String {
    if r < 0 {
        return v(r);
    }
    if st.st_mode & libc::S_IFMT == libc::S_IFREG {
        format!("{}, size {}, nlink {}", ftype(st.st_mode), st.st_size, st.st_nlink)
    } else {
        ftype(st.st_mode).to_string()
    }
}

fn same_file(a: &libc::stat, b: &libc::stat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

fn main() {
    std::fs::write("file", "twelve bytes").unwrap();
    std::fs::write("empty", "").unwrap();
    std::fs::create_dir("dir").unwrap();
    std::fs::write("dir/inner", "x").unwrap();

    section("stat family");
    let (r, st_file) = sys::stat("file");
    println!("stat file: {}", describe(r, &st_file));
    let (r, st) = sys::stat("empty");
    println!("stat empty: {}", describe(r, &st));
    let (r, st_dir) = sys::stat("dir");
    println!("stat dir: {}", describe(r, &st_dir));
    let (r, st) = sys::lstat("file");
    println!("lstat file: {}", describe(r, &st));
    println!("lstat is the same file as stat: {}", same_file(&st, &st_file));
    let (r, st) = sys::stat(".");
    println!("stat .: {}", describe(r, &st));
    let (r, st) = sys::stat("dir/..");
    println!("stat dir/.. is .: {} {}", describe(r, &st), same_file(&st, &sys::stat(".").1));
    let (r, st) = sys::stat("dir/");
    println!("stat dir/ (trailing slash): {}", describe(r, &st));
    println!("stat file/ (trailing slash): {}", v(sys::stat("file/").0));
    println!("stat missing: {}", v(sys::stat("missing").0));
    println!("stat file/x: {}", v(sys::stat("file/x").0));
    println!("stat empty path: {}", v(sys::stat("").0));
    println!("stat /: {}", describe(sys::stat("/").0, &sys::stat("/").1));

    let fd = must("open", sys::open("file", O_RDONLY, 0));
    let (r, st) = sys::fstat(fd);
    println!("fstat file: {}", describe(r, &st));
    println!("fstat is the same file: {}", same_file(&st, &st_file));
    println!("st_blksize > 0: {}", st.st_blksize > 0);
    println!("fstat bad fd: {}", v(sys::fstat(999).0));
    let w = must("open w", sys::open("file", O_WRONLY, 0));
    sys::pwrite(w, b"...and more", 12);
    println!("fstat sees a write through another fd: {}", describe(sys::fstat(fd).0, &sys::fstat(fd).1));
    sys::close(w);

    section("newfstatat");
    let dfd = must("open dir", sys::open("dir", O_RDONLY | libc::O_DIRECTORY, 0));
    let (r, st) = sys::fstatat(dfd, "inner", 0);
    println!("relative to a dir fd: {}", describe(r, &st));
    let (r, st) = sys::fstatat(AT_FDCWD, "dir/inner", 0);
    println!("AT_FDCWD: {}", describe(r, &st));
    let (r, st) = sys::fstatat(fd, "", AT_EMPTY_PATH);
    println!("AT_EMPTY_PATH on a file fd: {}", describe(r, &st));
    let (r, st) = sys::fstatat(dfd, "", AT_EMPTY_PATH);
    println!("AT_EMPTY_PATH on a dir fd: {}", describe(r, &st));
    println!("empty path without AT_EMPTY_PATH: {}", v(sys::fstatat(fd, "", 0).0));
    println!("relative path on a file fd: {}", v(sys::fstatat(fd, "inner", 0).0));
    println!("bad dirfd: {}", v(sys::fstatat(999, "inner", 0).0));
    println!("bad dirfd, absolute path: {}", o(sys::fstatat(999, "/", 0).0));
    println!("unknown flag: {}", v(sys::fstatat(AT_FDCWD, "file", 0x4000_0000).0));
    let p = must("O_PATH", sys::open("file", O_PATH, 0));
    let (r, st) = sys::fstatat(p, "", AT_EMPTY_PATH);
    println!("AT_EMPTY_PATH on an O_PATH fd: {}", describe(r, &st));
    sys::close(p);

    section("statx");
    let (r, stx) = sys::statx(AT_FDCWD, "file", 0, STATX_BASIC_STATS);
    println!("statx file: {}", o(r));
    println!(
        "  type and size in the mask: {}, {}, size {}",
        stx.stx_mask & STATX_TYPE != 0,
        ftype(stx.stx_mode as u32),
        stx.stx_size
    );
    let (r, stx) = sys::statx(fd, "", AT_EMPTY_PATH, STATX_SIZE);
    println!("statx AT_EMPTY_PATH: {}, size {}", o(r), stx.stx_size);
    let (r, stx) = sys::statx(dfd, "inner", 0, STATX_TYPE);
    println!("statx relative to a dir fd: {}, {}", o(r), ftype(stx.stx_mode as u32));
    let (r, stx) = sys::statx(AT_FDCWD, "dir", 0, STATX_BASIC_STATS);
    println!("statx dir: {}, {}", o(r), ftype(stx.stx_mode as u32));
    println!("statx missing: {}", v(sys::statx(AT_FDCWD, "missing", 0, STATX_BASIC_STATS).0));
    println!("statx reserved mask bit: {}", v(sys::statx(AT_FDCWD, "file", 0, 0x8000_0000).0));
    println!("statx bad flags: {}", v(sys::statx(AT_FDCWD, "file", 0x4000_0000, STATX_BASIC_STATS).0));
    println!("statx empty path without AT_EMPTY_PATH: {}", v(sys::statx(fd, "", 0, STATX_BASIC_STATS).0));
    sys::close(dfd);

    section("statfs");
    println!("statfs .: {}", o(sys::statfs(".")));
    println!("fstatfs: {}", o(sys::fstatfs(fd)));
    println!("statfs missing: {}", v(sys::statfs("missing")));
    println!("fstatfs bad fd: {}", v(sys::fstatfs(999)));
    sys::close(fd);

    section("symlinks (in /tmp)");
    let tmp = TmpDir::new("fs_stat");
    std::fs::write(tmp.at("t"), "target!").unwrap();
    sys::symlink("t", &tmp.at("l"));
    let (r, st) = sys::lstat(&tmp.at("l"));
    println!("lstat symlink: {}, size is the target's length: {}", describe(r, &st), st.st_size == 1);
    let (r, st) = sys::stat(&tmp.at("l"));
    println!("stat symlink: {}", describe(r, &st));
    let (r, st) = sys::fstatat(AT_FDCWD, &tmp.at("l"), AT_SYMLINK_NOFOLLOW);
    println!("newfstatat AT_SYMLINK_NOFOLLOW: {}", describe(r, &st));
    let (r, stx) = sys::statx(AT_FDCWD, &tmp.at("l"), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS);
    println!("statx AT_SYMLINK_NOFOLLOW: {}, {}", o(r), ftype(stx.stx_mode as u32));
    sys::symlink("nowhere", &tmp.at("dangling"));
    println!("stat dangling: {}", v(sys::stat(&tmp.at("dangling")).0));
    println!("lstat dangling: {}", describe(sys::lstat(&tmp.at("dangling")).0, &sys::lstat(&tmp.at("dangling")).1));
    let fd = must("create", sys::open(&tmp.at("n"), O_CREAT | O_WRONLY, 0o644));
    sys::close(fd);
    sys::link(&tmp.at("n"), &tmp.at("n2"));
    println!("hard link: nlink {}", sys::stat(&tmp.at("n")).1.st_nlink);
}
