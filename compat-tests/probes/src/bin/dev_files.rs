//! The device files programs use: /dev/null (reads EOF, swallows writes), /dev/zero
//! (zeros, also through mmap), /dev/full (zeros, writes fail with ENOSPC), /dev/urandom
//! and /dev/random (full reads of the requested size), /dev/stdout and /dev/stderr
//! (writes reach the streams), /dev/fd/N (the same file as fd N), their file type and
//! device numbers (fixed by Linux), and lseek on them.

use probes::fsutil::{ftype, must, o, section, v};
use probes::sys;

use libc::{MAP_PRIVATE, O_RDONLY, O_RDWR, O_WRONLY, PROT_READ, PROT_WRITE, SEEK_CUR, SEEK_END, SEEK_SET};

fn node(path: &str) -> String {
    let (r, st) = sys::stat(path);
    if r < 0 {
        return v(r);
    }
    let (major, minor) = (libc::major(st.st_rdev), libc::minor(st.st_rdev));
    if st.st_mode & libc::S_IFMT == libc::S_IFCHR {
        format!("char device {major}:{minor}")
    } else {
        ftype(st.st_mode).to_string()
    }
}

fn null() {
    section("/dev/null");
    println!("stat: {}", node("/dev/null"));
    let fd = must("open", sys::open("/dev/null", O_RDWR, 0));
    let mut buf = [7u8; 16];
    println!("read: {}", v(sys::read(fd, &mut buf)));
    println!("write 16: {}", v(sys::write(fd, &buf)));
    println!("write 1 MiB: {}", v(sys::write(fd, &vec![1u8; 1 << 20])));
    println!("lseek SEEK_SET 100: {}", v(sys::lseek(fd, 100, SEEK_SET)));
    println!("lseek SEEK_END: {}", v(sys::lseek(fd, 0, SEEK_END)));
    println!("pread: {}", v(sys::pread(fd, &mut buf, 10)));
    println!("fstat size: {}", sys::fstat(fd).1.st_size);
    sys::close(fd);
}

fn zero() {
    section("/dev/zero");
    println!("stat: {}", node("/dev/zero"));
    let fd = must("open", sys::open("/dev/zero", O_RDWR, 0));
    let mut buf = vec![0xaau8; 100_000];
    println!("read 100000: {}, all zeros: {}", v(sys::read(fd, &mut buf)), buf.iter().all(|&b| b == 0));
    println!("write: {}", v(sys::write(fd, b"ignored")));
    println!("lseek: {}", v(sys::lseek(fd, 0, SEEK_CUR)));
    let m = sys::mmap(8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    println!("mmap MAP_PRIVATE: {}", o(m));
    if m >= 0 {
        // SAFETY: `m` is a fresh readable and writable mapping of 8192 bytes.
        let zeros = unsafe {
            let p = m as *mut u8;
            *p.add(100) = 5;
            *p == 0 && *p.add(8191) == 0 && *p.add(100) == 5
        };
        println!("zero-filled and writable: {zeros}");
        // SAFETY: the mapping was made above and is not used after this.
        unsafe { sys::munmap(m as usize, 8192) };
    }
    sys::close(fd);
}

fn full() {
    section("/dev/full");
    println!("stat: {}", node("/dev/full"));
    let fd = must("open", sys::open("/dev/full", O_RDWR, 0));
    let mut buf = [0xaau8; 64];
    println!("read 64: {}, all zeros: {}", v(sys::read(fd, &mut buf)), buf.iter().all(|&b| b == 0));
    println!("write: {}", v(sys::write(fd, b"no room")));
    println!("write 0 bytes: {}", v(sys::write(fd, &[])));
    sys::close(fd);
}

fn random() {
    section("/dev/urandom and /dev/random");
    for path in ["/dev/urandom", "/dev/random"] {
        println!("stat {path}: {}", node(path));
        let fd = must(path, sys::open(path, O_RDONLY, 0));
        let mut a = [0u8; 64];
        let mut b = vec![0u8; 1 << 20];
        println!("{path}: read 64: {}", v(sys::read(fd, &mut a)));
        println!("{path}: read 1 MiB: {}", v(sys::read(fd, &mut b)));
        println!("{path}: not all zero: {}", a.iter().any(|&x| x != 0) && b.iter().any(|&x| x != 0));
        sys::close(fd);
    }
    let fd = must("urandom w", sys::open("/dev/urandom", O_WRONLY, 0));
    println!("write to /dev/urandom (mixes in entropy): {}", v(sys::write(fd, b"more entropy")));
    sys::close(fd);
}

fn streams() {
    section("/dev/stdout, /dev/stderr, /dev/fd");
    probes::flush();
    let fd = sys::open("/dev/stdout", O_WRONLY, 0);
    println!("open /dev/stdout: {}", o(fd));
    if fd >= 0 {
        probes::flush();
        println!("  write: {}", v(sys::write(fd as i32, b"  a line through /dev/stdout\n")));
        sys::close(fd as i32);
    }
    let fd = sys::open("/dev/stderr", O_WRONLY, 0);
    println!("open /dev/stderr: {}", o(fd));
    if fd >= 0 {
        println!("  write: {}", v(sys::write(fd as i32, b"a line through /dev/stderr\n")));
        sys::close(fd as i32);
    }
    std::fs::write("via-fd", "through /dev/fd").unwrap();
    let f = must("via-fd", sys::open("via-fd", O_RDONLY, 0));
    let again = sys::open(&format!("/dev/fd/{f}"), O_RDONLY, 0);
    println!("open /dev/fd/N: {}", o(again));
    if again >= 0 {
        let mut buf = [0u8; 32];
        let n = sys::read(again as i32, &mut buf);
        println!("  reads the same file: {:?}", String::from_utf8_lossy(&buf[..n.max(0) as usize]));
        let (a, b) = (sys::fstat(f).1, sys::fstat(again as i32).1);
        println!("  same inode: {}", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
        println!("  its own offset: {}", v(sys::lseek(f, 0, SEEK_CUR)));
        sys::close(again as i32);
    }
    println!("stat /dev/fd/N: {}", node(&format!("/dev/fd/{f}")));
    sys::close(f);
    println!("open /dev/fd/N of a closed fd: {}", v(sys::open(&format!("/dev/fd/{f}"), O_RDONLY, 0)));
    println!("/dev is a directory: {}", node("/dev"));
    println!("/dev/nonexistent: {}", node("/dev/nonexistent-device"));
}

fn main() {
    null();
    zero();
    full();
    random();
    streams();
}
