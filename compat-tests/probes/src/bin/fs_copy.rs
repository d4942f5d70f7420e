//! Kernel-side copies and a file ioctl: sendfile (file to pipe and file to file, with
//! and without an offset pointer: the pointer advances, the file offset does not),
//! copy_file_range (explicit offsets and the file offsets, EOF, errnos), and
//! ioctl(FIONREAD) on a regular file (bytes from the offset to the end).

use probes::fsutil::{must, section, v};
use probes::sys;

use libc::{FIONREAD, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, SEEK_CUR, SEEK_SET};

fn content(p: &str) -> String {
    format!("{:?}", String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()))
}

fn sendfiles() {
    section("sendfile");
    std::fs::write("src", "0123456789abcdefghij").unwrap();
    let src = must("src", sys::open("src", O_RDONLY, 0));
    let (_, p) = sys::pipe();
    println!("file -> pipe, 8 bytes, no offset: {}", v(sys::sendfile(p[1], src, None, 8)));
    println!("  file offset advanced: {}", v(sys::lseek(src, 0, SEEK_CUR)));
    let mut off: i64 = 15;
    println!("file -> pipe, 10 bytes at offset 15: {}", v(sys::sendfile(p[1], src, Some(&mut off), 10)));
    println!("  offset pointer now {off}, file offset still {}", v(sys::lseek(src, 0, SEEK_CUR)));
    let mut buf = [0u8; 32];
    let n = sys::read(p[0], &mut buf);
    println!("pipe got: {} {:?}", v(n), String::from_utf8_lossy(&buf[..n.max(0) as usize]));
    let mut off: i64 = 20;
    println!("at EOF: {}", v(sys::sendfile(p[1], src, Some(&mut off), 10)));
    let mut off: i64 = -1;
    println!("negative offset: {}", v(sys::sendfile(p[1], src, Some(&mut off), 10)));
    println!("from a bad fd: {}", v(sys::sendfile(p[1], 999, None, 10)));
    println!("to a bad fd: {}", v(sys::sendfile(999, src, None, 10)));
    println!("to a read-only fd: {}", v(sys::sendfile(src, src, None, 10)));
    sys::close(p[0]);
    sys::close(p[1]);

    let dst = must("dst", sys::open("dst", O_CREAT | O_WRONLY | O_TRUNC, 0o644));
    sys::lseek(src, 0, SEEK_SET);
    println!("file -> file, whole: {}", v(sys::sendfile(dst, src, None, 100)));
    println!("  dst: {}", content("dst"));
    let mut off: i64 = 2;
    println!("file -> file, 3 bytes from offset 2: {}", v(sys::sendfile(dst, src, Some(&mut off), 3)));
    println!("  dst: {}", content("dst"));
    sys::close(dst);
    sys::close(src);
}

fn copy_ranges() {
    section("copy_file_range");
    std::fs::write("cin", "ABCDEFGHIJKLMNOPQRSTUVWXYZ").unwrap();
    let fin = must("cin", sys::open("cin", O_RDONLY, 0));
    let fout = must("cout", sys::open("cout", O_CREAT | O_RDWR | O_TRUNC, 0o644));
    println!("10 bytes, file offsets: {}", v(sys::copy_file_range(fin, None, fout, None, 10)));
    println!("  offsets: in {} out {}", v(sys::lseek(fin, 0, SEEK_CUR)), v(sys::lseek(fout, 0, SEEK_CUR)));
    println!("  cout: {}", content("cout"));
    let (mut oi, mut oo) = (20i64, 2i64);
    println!("4 bytes, in at 20, out at 2: {}", v(sys::copy_file_range(fin, Some(&mut oi), fout, Some(&mut oo), 4)));
    println!(
        "  pointers now {oi} {oo}; file offsets in {} out {}",
        v(sys::lseek(fin, 0, SEEK_CUR)),
        v(sys::lseek(fout, 0, SEEK_CUR))
    );
    println!("  cout: {}", content("cout"));
    let mut oi = 24i64;
    println!("past EOF of the source, short: {}", v(sys::copy_file_range(fin, Some(&mut oi), fout, None, 100)));
    let mut oi = 26i64;
    println!("at EOF: {}", v(sys::copy_file_range(fin, Some(&mut oi), fout, None, 100)));
    let mut oo = 40i64;
    println!("to beyond the end of the target: {}", v(sys::copy_file_range(fin, None, fout, Some(&mut oo), 2)));
    println!(
        "  cout size {}, hole zero: {}",
        sys::fstat(fout).1.st_size,
        std::fs::read("cout").map(|b| b[20..40].iter().all(|&x| x == 0)).unwrap_or(false)
    );
    println!("flags != 0: {}", {
        // SAFETY: no offset pointers; the call fails on its flags before copying.
        let r =
            unsafe { probes::syscall!(libc::SYS_copy_file_range as usize, fin, 0usize, fout, 0usize, 1usize, 1usize) };
        v(r)
    });
    println!("to a read-only fd: {}", v(sys::copy_file_range(fin, None, fin, None, 1)));
    let (_, p) = sys::pipe();
    println!("from a pipe: {}", v(sys::copy_file_range(p[0], None, fout, None, 1)));
    sys::close(p[0]);
    sys::close(p[1]);
    let d = must("dir", sys::open(".", O_RDONLY, 0));
    println!("from a directory: {}", v(sys::copy_file_range(d, None, fout, None, 1)));
    sys::close(d);
    let same = must("same", sys::open("cin", O_RDWR, 0));
    let (mut a, mut b) = (0i64, 4i64);
    println!(
        "overlapping range in the same file: {}",
        v(sys::copy_file_range(same, Some(&mut a), same, Some(&mut b), 8))
    );
    let (mut a, mut b) = (0i64, 20i64);
    println!(
        "non-overlapping range in the same file: {}",
        v(sys::copy_file_range(same, Some(&mut a), same, Some(&mut b), 4))
    );
    println!("  cin: {}", content("cin"));
    sys::close(same);
    sys::close(fin);
    sys::close(fout);
}

fn fionread() {
    section("FIONREAD on a file");
    std::fs::write("fio", vec![b'f'; 1000]).unwrap();
    let fd = must("fio", sys::open("fio", O_RDONLY, 0));
    let (r, n) = sys::ioctl_get_int(fd, FIONREAD);
    println!("at 0: {} {n}", v(r));
    sys::lseek(fd, 600, SEEK_SET);
    let (r, n) = sys::ioctl_get_int(fd, FIONREAD);
    println!("at 600: {} {n}", v(r));
    sys::lseek(fd, 1000, SEEK_SET);
    let (r, n) = sys::ioctl_get_int(fd, FIONREAD);
    println!("at the end: {} {n}", v(r));
    sys::close(fd);
    let d = must("dir", sys::open(".", O_RDONLY, 0));
    println!("on a directory: {}", v(sys::ioctl_get_int(d, FIONREAD).0));
    sys::close(d);
}

fn main() {
    sendfiles();
    copy_ranges();
    fionread();
}
