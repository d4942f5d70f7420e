//! dup / dup2 / dup3 / fcntl(F_DUPFD, F_DUPFD_CLOEXEC): the lowest free number, the
//! shared offset and status flags, FD_CLOEXEC not inherited (unless asked for), dup2
//! onto an open descriptor, dup2 of a descriptor onto itself, and the errnos.

use probes::fsutil::{must, section, v};
use probes::sys;

use libc::{
    FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, O_APPEND, O_CLOEXEC, O_CREAT, O_RDONLY,
    O_RDWR, SEEK_CUR, SEEK_SET,
};

/// `true` if the call returned `want`, else `false` or the errno.
fn is(r: isize, want: isize) -> String {
    if r < 0 {
        v(r)
    } else {
        (r == want).to_string()
    }
}

fn main() {
    std::fs::write("one", "0123456789").unwrap();
    std::fs::write("two", "abcdefghij").unwrap();
    let a = must("open one", sys::open("one", O_RDWR | O_CLOEXEC, 0));

    section("dup");
    let d = must("dup", sys::dup(a));
    println!("dup is the next number: {}", d == a + 1);
    println!(
        "FD_CLOEXEC on the original: {}, on the dup: {}",
        v(sys::fcntl(a, F_GETFD, 0)),
        v(sys::fcntl(d, F_GETFD, 0))
    );
    let mut buf = [0u8; 4];
    sys::read(a, &mut buf);
    println!("offset shared: {}", v(sys::lseek(d, 0, SEEK_CUR)));
    sys::lseek(d, 7, SEEK_SET);
    println!("seek through the dup moves the original: {}", v(sys::lseek(a, 0, SEEK_CUR)));
    sys::fcntl(d, F_SETFL, O_APPEND as usize);
    println!(
        "status flags shared (O_APPEND set through the dup): {}",
        sys::fcntl(a, F_GETFL, 0) as i32 & O_APPEND != 0
    );
    sys::fcntl(a, F_SETFL, 0);
    println!("dup of a bad fd: {}", v(sys::dup(999)));
    println!("closing a dup leaves the original usable: {}", {
        let b = must("dup", sys::dup(a));
        sys::close(b);
        v(sys::pread(a, &mut buf, 0))
    });

    section("dup2");
    let b = must("open two", sys::open("two", O_RDONLY, 0));
    println!("dup2 onto an open fd: {}", is(sys::dup2(a, b), b as isize));
    sys::lseek(a, 0, SEEK_SET);
    let n = sys::read(b, &mut buf);
    println!("it now reads the other file: {} {:?}", v(n), String::from_utf8_lossy(&buf));
    println!("dup2 onto itself: {}", is(sys::dup2(a, a), a as isize));
    println!("dup2 of a bad fd onto itself: {}", v(sys::dup2(999, 999)));
    println!("dup2 of a bad fd: {}", v(sys::dup2(999, b)));
    println!("  the target stays open: {}", v(sys::fcntl(b, F_GETFD, 0)));
    println!("dup2 to 1000: {}", is(sys::dup2(a, 1000), 1000));
    println!("dup2 to a negative fd: {}", v(sys::dup2(a, -1)));
    println!("dup2 beyond RLIMIT_NOFILE: {}", v(sys::dup2(a, 1 << 30)));
    sys::fcntl(1000, F_SETFD, FD_CLOEXEC as usize);
    println!("dup2 clears FD_CLOEXEC on the target: {}", {
        sys::dup2(b, 1000);
        v(sys::fcntl(1000, F_GETFD, 0))
    });
    sys::close(1000);

    section("dup3");
    println!("dup3 onto itself: {}", v(sys::dup3(a, a, 0)));
    println!(
        "dup3 O_CLOEXEC: {}, FD_CLOEXEC {}",
        is(sys::dup3(a, 500, O_CLOEXEC), 500),
        v(sys::fcntl(500, F_GETFD, 0))
    );
    println!("dup3 0 over it: {}, FD_CLOEXEC {}", is(sys::dup3(a, 500, 0), 500), v(sys::fcntl(500, F_GETFD, 0)));
    println!("dup3 unknown flag: {}", v(sys::dup3(a, 501, O_CREAT)));
    println!("dup3 of a bad fd: {}", v(sys::dup3(999, 501, 0)));
    sys::close(500);

    section("F_DUPFD");
    let r = sys::fcntl(a, F_DUPFD, 100);
    println!("F_DUPFD 100: {}", is(r, 100));
    let r2 = sys::fcntl(a, F_DUPFD, 100);
    println!("F_DUPFD 100 again gives 101: {}", is(r2, 101));
    println!("F_DUPFD FD_CLOEXEC: {}", v(sys::fcntl(r as i32, F_GETFD, 0)));
    let r3 = sys::fcntl(a, F_DUPFD_CLOEXEC, 100);
    println!("F_DUPFD_CLOEXEC 100: {}, FD_CLOEXEC {}", is(r3, 102), v(sys::fcntl(r3 as i32, F_GETFD, 0)));
    println!("F_DUPFD 0: the lowest free: {}", {
        let low = sys::fcntl(a, F_DUPFD, 0);
        let want = sys::dup(a);
        sys::close(low as i32);
        sys::close(want as i32);
        low + 1 == want
    });
    println!("F_DUPFD negative: {}", v(sys::fcntl(a, F_DUPFD, usize::MAX)));
    println!("F_DUPFD beyond RLIMIT_NOFILE: {}", v(sys::fcntl(a, F_DUPFD, 1 << 30)));
    for fd in [r, r2, r3] {
        sys::close(fd as i32);
    }
    sys::close(a);
    sys::close(b);
    sys::close(d);
}
