//! mkdir / mkdirat / rmdir / unlink / unlinkat in the working directory: creation and
//! removal, and the errnos Linux gives on every filesystem (EEXIST, ENOENT, ENOTDIR,
//! ENOTEMPTY, EINVAL for ".", EISDIR for unlink of a directory), plus a file that is
//! unlinked while open (still readable through its descriptor).

use probes::fsutil::{must, section, v};
use probes::sys::{self, AT_FDCWD};

use libc::{AT_REMOVEDIR, O_DIRECTORY, O_RDONLY, O_RDWR};

fn exists(p: &str) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

fn mkdirs() {
    section("mkdir");
    std::fs::write("file", "content").unwrap();
    println!("mkdir d: {}", v(sys::mkdir("d", 0o755)));
    println!("is a directory: {}", std::path::Path::new("d").is_dir());
    println!("mkdir d again: {}", v(sys::mkdir("d", 0o755)));
    println!("mkdir over a file: {}", v(sys::mkdir("file", 0o755)));
    println!("mkdir missing/x: {}", v(sys::mkdir("missing/x", 0o755)));
    println!("mkdir file/x: {}", v(sys::mkdir("file/x", 0o755)));
    println!("mkdir empty path: {}", v(sys::mkdir("", 0o755)));
    println!("mkdir with a trailing slash: {}", v(sys::mkdir("d2/", 0o755)));
    println!("mkdir d/nested: {}", v(sys::mkdir("d/nested", 0o755)));
    println!("mkdir d/nested/../sibling: {}", v(sys::mkdir("d/nested/../sibling", 0o755)));
    println!("mkdir .: {}", v(sys::mkdir(".", 0o755)));
    println!("mkdir name of 256 bytes: {}", v(sys::mkdir(&"m".repeat(256), 0o755)));
    let dfd = must("open d", sys::open("d", O_RDONLY | O_DIRECTORY, 0));
    println!("mkdirat relative to a dir fd: {}", v(sys::mkdirat(dfd, "viafd", 0o755)));
    println!("  created d/viafd: {}", exists("d/viafd"));
    println!("mkdirat AT_FDCWD: {}", v(sys::mkdirat(AT_FDCWD, "d3", 0o755)));
    println!("mkdirat bad dirfd: {}", v(sys::mkdirat(999, "x", 0o755)));
    let f = must("open file", sys::open("file", O_RDONLY, 0));
    println!("mkdirat relative to a file fd: {}", v(sys::mkdirat(f, "x", 0o755)));
    sys::close(f);
    sys::close(dfd);
    let mut listing: Vec<String> =
        std::fs::read_dir("d").unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    listing.sort();
    println!("d contains: {listing:?}");
}

fn rmdirs() {
    section("rmdir");
    println!("rmdir missing: {}", v(sys::rmdir("missing")));
    println!("rmdir a file: {}", v(sys::rmdir("file")));
    println!("rmdir non-empty: {}", v(sys::rmdir("d")));
    println!("rmdir .: {}", v(sys::rmdir(".")));
    println!("rmdir d/.: {}", v(sys::rmdir("d/.")));
    println!("rmdir d/..: {}", v(sys::rmdir("d/..")));
    println!("rmdir file/x: {}", v(sys::rmdir("file/x")));
    println!("rmdir with a trailing slash: {}", v(sys::rmdir("d2/")));
    println!("rmdir d3: {}", v(sys::rmdir("d3")));
    println!("  gone: {}", !exists("d3"));
    println!("unlinkat AT_REMOVEDIR on an empty dir: {}", v(sys::unlinkat(AT_FDCWD, "d/viafd", AT_REMOVEDIR)));
    println!("unlinkat AT_REMOVEDIR on a file: {}", v(sys::unlinkat(AT_FDCWD, "file", AT_REMOVEDIR)));
    println!("unlinkat AT_REMOVEDIR non-empty: {}", v(sys::unlinkat(AT_FDCWD, "d", AT_REMOVEDIR)));
}

fn unlinks() {
    section("unlink");
    std::fs::write("u1", "1").unwrap();
    std::fs::write("d/u2", "2").unwrap();
    println!("unlink a file: {}", v(sys::unlink("u1")));
    println!("  gone: {}", !exists("u1"));
    println!("unlink it again: {}", v(sys::unlink("u1")));
    println!("unlink a directory: {}", v(sys::unlink("d/sibling")));
    println!("unlink file/ (trailing slash): {}", v(sys::unlink("file/")));
    println!("unlink file/x: {}", v(sys::unlink("file/x")));
    println!("unlink empty path: {}", v(sys::unlink("")));
    let dfd = must("open d", sys::open("d", O_RDONLY | O_DIRECTORY, 0));
    println!("unlinkat relative to a dir fd: {}", v(sys::unlinkat(dfd, "u2", 0)));
    println!("unlinkat a directory without AT_REMOVEDIR: {}", v(sys::unlinkat(dfd, "nested", 0)));
    println!("unlinkat bad flags: {}", v(sys::unlinkat(dfd, "nested", 0x1)));
    println!("unlinkat bad dirfd: {}", v(sys::unlinkat(999, "x", 0)));
    sys::close(dfd);

    section("unlink while open");
    std::fs::write("open-file", "still here").unwrap();
    let fd = must("open", sys::open("open-file", O_RDWR, 0));
    println!("unlink: {}", v(sys::unlink("open-file")));
    println!("name gone: {}", !exists("open-file"));
    let mut buf = [0u8; 32];
    let n = sys::read(fd, &mut buf);
    println!("read through the fd: {} {:?}", v(n), String::from_utf8_lossy(&buf[..n.max(0) as usize]));
    println!("write through the fd: {}", v(sys::write(fd, b"!")));
    let (r, st) = sys::fstat(fd);
    println!("fstat: {}, nlink {}, size {}", v(r), st.st_nlink, st.st_size);
    println!("new file under the same name: {}", { std::fs::write("open-file", "new").is_ok() });
    let n = sys::pread(fd, &mut buf, 0);
    println!("old fd still sees the old data: {:?}", String::from_utf8_lossy(&buf[..n.max(0) as usize]));
    sys::close(fd);
    println!("new file content: {:?}", std::fs::read_to_string("open-file").unwrap_or_default());
}

fn main() {
    mkdirs();
    rmdirs();
    unlinks();
    section("cleanup");
    println!("remove_dir_all d: {}", std::fs::remove_dir_all("d").is_ok());
    let mut left: Vec<String> =
        std::fs::read_dir(".").unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    println!("left: {left:?}");
}
