//! truncate / ftruncate (shrink, grow with zeros, the offset past the new end, errnos),
//! fallocate mode 0 (the size grows, the new range reads as zeros), and fsync /
//! fdatasync / sync / syncfs (they succeed on files and directories; errnos on pipes and
//! bad descriptors).

use probes::fsutil::{must, section, v};
use probes::sys;

use libc::{O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR};

fn size(p: &str) -> String {
    match std::fs::metadata(p) {
        Ok(m) => m.len().to_string(),
        Err(e) => format!("Err({})", probes::fsutil::ioe(&e)),
    }
}

fn truncates() {
    section("truncate");
    std::fs::write("t", "0123456789").unwrap();
    println!("truncate to 4: {}, size {}", v(sys::truncate("t", 4)), size("t"));
    println!("content: {:?}", std::fs::read("t").unwrap_or_default());
    println!("truncate to 8: {}, size {}", v(sys::truncate("t", 8)), size("t"));
    println!("content: {:?}", std::fs::read("t").unwrap_or_default());
    println!("truncate to 0: {}, size {}", v(sys::truncate("t", 0)), size("t"));
    println!("truncate to 1 MiB: {}, size {}", v(sys::truncate("t", 1 << 20)), size("t"));
    println!("all zeros: {}", std::fs::read("t").map(|b| b.iter().all(|&x| x == 0)).unwrap_or(false));
    println!("truncate negative: {}", v(sys::truncate("t", -1)));
    println!("truncate missing: {}", v(sys::truncate("missing", 0)));
    std::fs::create_dir("dir").unwrap();
    println!("truncate a directory: {}", v(sys::truncate("dir", 0)));
    println!("truncate t/x: {}", v(sys::truncate("t/x", 0)));

    section("ftruncate");
    let fd = must("open", sys::open("f", O_CREAT | O_RDWR, 0o644));
    sys::write(fd, b"abcdefghij");
    println!("offset before: {}", v(sys::lseek(fd, 0, SEEK_CUR)));
    println!("ftruncate to 3: {}", v(sys::ftruncate(fd, 3)));
    println!("fstat size: {}", sys::fstat(fd).1.st_size);
    println!("offset unchanged: {}", v(sys::lseek(fd, 0, SEEK_CUR)));
    println!("read at the old offset: {}", v(sys::read(fd, &mut [0u8; 4])));
    println!("write at the old offset: {}", v(sys::write(fd, b"Z")));
    let mut all = [0xffu8; 16];
    let n = sys::pread(fd, &mut all, 0);
    println!("content: {} {:?}", v(n), &all[..n.max(0) as usize]);
    println!("ftruncate to 20: {}, size {}", v(sys::ftruncate(fd, 20)), sys::fstat(fd).1.st_size);
    let mut tail = [0xffu8; 9];
    println!("grown tail reads as zeros: {} {}", v(sys::pread(fd, &mut tail, 11)), tail.iter().all(|&b| b == 0));
    println!("ftruncate negative: {}", v(sys::ftruncate(fd, -5)));
    sys::close(fd);
    let ro = must("ro", sys::open("f", O_RDONLY, 0));
    println!("ftruncate on an O_RDONLY fd: {}", v(sys::ftruncate(ro, 0)));
    sys::close(ro);
    let d = must("dir", sys::open("dir", O_RDONLY | O_DIRECTORY, 0));
    println!("ftruncate on a directory fd: {}", v(sys::ftruncate(d, 0)));
    sys::close(d);
    let (_, p) = sys::pipe();
    println!("ftruncate on a pipe: {}", v(sys::ftruncate(p[1], 0)));
    sys::close(p[0]);
    sys::close(p[1]);
    println!("ftruncate on a bad fd: {}", v(sys::ftruncate(999, 0)));
}

fn fallocates() {
    section("fallocate");
    let fd = must("open", sys::open("fa", O_CREAT | O_RDWR, 0o644));
    sys::write(fd, b"data");
    println!("fallocate mode 0, 0..8192: {}", v(sys::fallocate(fd, 0, 0, 8192)));
    println!("size: {}", sys::fstat(fd).1.st_size);
    let mut buf = [0xffu8; 8192];
    let n = sys::pread(fd, &mut buf, 0);
    println!(
        "read back: {}, data kept: {}, rest zeros: {}",
        v(n),
        &buf[..4] == b"data",
        buf[4..].iter().all(|&b| b == 0)
    );
    println!("fallocate inside the file: {}, size {}", v(sys::fallocate(fd, 0, 100, 100)), sys::fstat(fd).1.st_size);
    println!("fallocate len 0: {}", v(sys::fallocate(fd, 0, 0, 0)));
    println!("fallocate negative offset: {}", v(sys::fallocate(fd, 0, -1, 10)));
    sys::close(fd);
    let ro = must("ro", sys::open("fa", O_RDONLY, 0));
    println!("fallocate on an O_RDONLY fd: {}", v(sys::fallocate(ro, 0, 0, 10)));
    sys::close(ro);
    println!("fallocate on a bad fd: {}", v(sys::fallocate(999, 0, 0, 10)));
}

fn syncs() {
    section("sync");
    let fd = must("open", sys::open("s", O_CREAT | O_WRONLY, 0o644));
    sys::write(fd, b"sync me");
    println!("fsync: {}", v(sys::fsync(fd)));
    println!("fdatasync: {}", v(sys::fdatasync(fd)));
    println!("syncfs: {}", v(sys::syncfs(fd)));
    println!("sync: {}", v(sys::sync()));
    sys::close(fd);
    let ro = must("ro", sys::open("s", O_RDONLY, 0));
    println!("fsync on an O_RDONLY fd: {}", v(sys::fsync(ro)));
    sys::close(ro);
    let d = must("dir", sys::open(".", O_RDONLY | O_DIRECTORY, 0));
    println!("fsync on a directory: {}", v(sys::fsync(d)));
    sys::close(d);
    let (_, p) = sys::pipe();
    println!("fsync on a pipe: {}", v(sys::fsync(p[1])));
    println!("fdatasync on a pipe: {}", v(sys::fdatasync(p[1])));
    sys::close(p[0]);
    sys::close(p[1]);
    println!("fsync on a bad fd: {}", v(sys::fsync(999)));
    println!("syncfs on a bad fd: {}", v(sys::syncfs(999)));
    println!("data after syncing: {:?}", std::fs::read_to_string("s").unwrap_or_default());
}

fn main() {
    truncates();
    fallocates();
    syncs();
}
