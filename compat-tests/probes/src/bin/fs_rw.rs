//! Data and offsets on a regular file in the working directory: read / write / pread64 /
//! pwrite64 / readv / writev / preadv / pwritev / lseek (SEEK_SET, SEEK_CUR, SEEK_END,
//! negative offsets, holes past the end), short reads at EOF, a large file, and the
//! offset shared between a descriptor and its dup but not between two opens.

use probes::fsutil::{must, section, v};
use probes::sys;

use libc::{O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, SEEK_CUR, SEEK_END, SEEK_SET};

fn show(buf: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(buf))
}

fn seeks(fd: i32) {
    section("lseek");
    println!("SEEK_END 0: {}", v(sys::lseek(fd, 0, SEEK_END)));
    println!("SEEK_SET 3: {}", v(sys::lseek(fd, 3, SEEK_SET)));
    println!("SEEK_CUR +2: {}", v(sys::lseek(fd, 2, SEEK_CUR)));
    println!("SEEK_CUR -1: {}", v(sys::lseek(fd, -1, SEEK_CUR)));
    println!("SEEK_END -4: {}", v(sys::lseek(fd, -4, SEEK_END)));
    println!("SEEK_SET -1: {}", v(sys::lseek(fd, -1, SEEK_SET)));
    println!("offset unchanged after EINVAL: {}", v(sys::lseek(fd, 0, SEEK_CUR)));
    println!("SEEK_CUR to before 0: {}", v(sys::lseek(fd, -100, SEEK_CUR)));
    println!("SEEK_END to before 0: {}", v(sys::lseek(fd, -100, SEEK_END)));
    println!("bad whence 7: {}", v(sys::lseek(fd, 0, 7)));
    println!("SEEK_SET past the end: {}", v(sys::lseek(fd, 100, SEEK_SET)));
    let mut buf = [0u8; 8];
    println!("read past the end: {}", v(sys::read(fd, &mut buf)));
    println!("lseek on a bad fd: {}", v(sys::lseek(999, 0, SEEK_SET)));
}

fn holes() {
    section("holes");
    let fd = must("hole", sys::open("hole", O_CREAT | O_RDWR | O_TRUNC, 0o644));
    sys::write(fd, b"head");
    println!("seek to 10000: {}", v(sys::lseek(fd, 10_000, SEEK_SET)));
    println!("size before the write: {}", sys::fstat(fd).1.st_size);
    println!("write tail: {}", v(sys::write(fd, b"tail")));
    println!("size: {}", sys::fstat(fd).1.st_size);
    let mut all = vec![0xffu8; 10_004];
    println!("pread all: {}", v(sys::pread(fd, &mut all, 0)));
    println!("head kept: {}", &all[..4] == b"head");
    println!("hole reads as zeros: {}", all[4..10_000].iter().all(|&b| b == 0));
    println!("tail: {}", show(&all[10_000..]));
    println!("pwrite far past the end: {}", v(sys::pwrite(fd, b"Z", 70_000)));
    println!("size: {}", sys::fstat(fd).1.st_size);
    let mut mid = [0xffu8; 16];
    println!("pread in the second hole: {}", v(sys::pread(fd, &mut mid, 40_000)));
    println!("zeros: {}", mid.iter().all(|&b| b == 0));
    println!("offset not moved by pread/pwrite: {}", v(sys::lseek(fd, 0, SEEK_CUR)));
    sys::close(fd);
}

fn vectors(fd: i32) {
    section("readv / writev / preadv / pwritev");
    sys::ftruncate(fd, 0);
    sys::lseek(fd, 0, SEEK_SET);
    println!("writev 3 parts: {}", v(sys::writev(fd, &[b"abc", b"", b"defgh"])));
    println!("writev 0 parts: {}", v(sys::writev(fd, &[])));
    println!("offset: {}", v(sys::lseek(fd, 0, SEEK_CUR)));
    println!("pwritev at 2: {}", v(sys::pwritev(fd, &[b"XY", b"Z"], 2)));
    println!("offset not moved by pwritev: {}", v(sys::lseek(fd, 0, SEEK_CUR)));
    sys::lseek(fd, 0, SEEK_SET);
    let (mut a, mut b, mut c) = ([0u8; 2], [0u8; 3], [0u8; 10]);
    let r = sys::readv(fd, &mut [&mut a, &mut b, &mut c]);
    println!("readv 2+3+10 from 0: {} -> {} {} {}", v(r), show(&a), show(&b), show(&c[..3]));
    let (mut a, mut b) = ([0u8; 4], [0u8; 4]);
    let r = sys::preadv(fd, &mut [&mut a, &mut b], 1);
    println!("preadv 4+4 at 1: {} -> {} {}", v(r), show(&a), show(&b[..3]));
    println!("preadv at EOF: {}", v(sys::preadv(fd, &mut [&mut [0u8; 4]], 8)));
    println!("preadv negative offset: {}", v(sys::preadv(fd, &mut [&mut [0u8; 4]], -1)));
    println!("pread negative offset: {}", v(sys::pread(fd, &mut [0u8; 4], -1)));
    println!("pwrite negative offset: {}", v(sys::pwrite(fd, b"x", -1)));
}

fn short_reads_and_large() {
    section("short reads, a large file");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let fd = must("big", sys::open("big", O_CREAT | O_RDWR | O_TRUNC, 0o644));
    let mut written = 0;
    while written < data.len() {
        let n = sys::write(fd, &data[written..(written + 1_000_000).min(data.len())]);
        if n <= 0 {
            println!("write failed: {}", v(n));
            break;
        }
        written += n as usize;
    }
    println!("written: {written}");
    println!("size: {}", sys::fstat(fd).1.st_size);
    sys::lseek(fd, 0, SEEK_SET);
    let mut back = vec![0u8; data.len() + 10];
    let mut got = 0;
    loop {
        let n = sys::read(fd, &mut back[got..]);
        if n <= 0 {
            println!("last read: {}", v(n));
            break;
        }
        got += n as usize;
    }
    println!("read back: {got}, equal: {}", back[..got] == data[..]);
    let mut tail = [0u8; 100];
    println!("pread 100 at size-30: {}", v(sys::pread(fd, &mut tail, data.len() as i64 - 30)));
    println!("pread at size: {}", v(sys::pread(fd, &mut tail, data.len() as i64)));
    println!("zero-length read: {}", v(sys::read(fd, &mut [])));
    println!("zero-length write: {}", v(sys::write(fd, &[])));
    sys::close(fd);
}

fn offsets_between_descriptors() {
    section("offsets between descriptors");
    std::fs::write("shared", "0123456789").unwrap();
    let a = must("a", sys::open("shared", O_RDONLY, 0));
    let b = must("b", sys::open("shared", O_RDONLY, 0));
    let d = must("dup", sys::dup(a));
    let mut buf = [0u8; 3];
    sys::read(a, &mut buf);
    println!("read 3 on a: {}", show(&buf));
    sys::read(d, &mut buf);
    println!("dup of a continues: {}", show(&buf));
    sys::read(b, &mut buf);
    println!("second open starts at 0: {}", show(&buf));
    println!(
        "offsets: a {} dup {} b {}",
        v(sys::lseek(a, 0, SEEK_CUR)),
        v(sys::lseek(d, 0, SEEK_CUR)),
        v(sys::lseek(b, 0, SEEK_CUR))
    );
    for fd in [a, b, d] {
        sys::close(fd);
    }
    // A write through one description is seen by a read through another.
    let w = must("w", sys::open("shared", O_RDWR, 0));
    let r = must("r", sys::open("shared", O_RDONLY, 0));
    sys::pwrite(w, b"ABC", 4);
    let mut all = [0u8; 10];
    sys::read(r, &mut all);
    println!("seen through the other open: {}", show(&all));
    sys::close(w);
    sys::close(r);
    let mut bad = [0u8; 1];
    println!("read on a closed fd: {}", v(sys::read(w, &mut bad)));
    println!("write on a closed fd: {}", v(sys::write(w, b"x")));
}

fn main() {
    let fd = must("data", sys::open("data", O_CREAT | O_RDWR | O_TRUNC, 0o644));
    section("read / write");
    println!("write 10: {}", v(sys::write(fd, b"0123456789")));
    println!("offset: {}", v(sys::lseek(fd, 0, SEEK_CUR)));
    let mut buf = [0u8; 4];
    println!("read at end: {}", v(sys::read(fd, &mut buf)));
    sys::lseek(fd, 0, SEEK_SET);
    println!("read 4: {} {}", v(sys::read(fd, &mut buf)), show(&buf));
    println!("write 2 at 4: {}", v(sys::write(fd, b"ab")));
    let mut rest = [0u8; 16];
    let n = sys::read(fd, &mut rest);
    println!("short read of the rest: {} {}", v(n), show(&rest[..n.max(0) as usize]));
    println!("pwrite at 8: {}", v(sys::pwrite(fd, b"XYZ", 8)));
    let mut all = [0u8; 16];
    let n = sys::pread(fd, &mut all, 0);
    println!("pread all: {} {}", v(n), show(&all[..n.max(0) as usize]));
    seeks(fd);
    vectors(fd);
    sys::close(fd);
    holes();
    short_reads_and_large();
    offsets_between_descriptors();
}
