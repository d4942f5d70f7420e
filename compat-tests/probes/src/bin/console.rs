//! The standard fds as the runner sets them up (pipes, not a terminal): fstat, terminal
//! ioctls (ENOTTY), lseek (ESPIPE), fcntl flags, poll, writev, reading stdin.

use probes::*;
use std::io::{BufRead, IsTerminal};

#[repr(C)]
#[derive(Default)]
struct Stat {
    st_dev: u64,
    st_ino: u64,
    st_nlink: u64,
    st_mode: u32,
    st_uid: u32,
    st_gid: u32,
    _pad0: i32,
    st_rdev: u64,
    st_size: i64,
    st_blksize: i64,
    st_blocks: i64,
    st_times: [i64; 6],
    _unused: [i64; 3],
}

#[repr(C)]
struct Pollfd {
    fd: i32,
    events: i16,
    revents: i16,
}

#[repr(C)]
struct Iovec {
    base: *const u8,
    len: usize,
}

const TCGETS: usize = 0x5401;
const TIOCGWINSZ: usize = 0x5413;
const F_GETFD: usize = 1;
const F_GETFL: usize = 3;
const O_ACCMODE: usize = 3;
const O_APPEND: usize = 0o2000;
const O_NONBLOCK: usize = 0o4000;
const POLLOUT: i16 = 4;
const POLLNVAL: i16 = 0x20;
const SEEK_CUR: usize = 1;

fn file_type(mode: u32) -> &'static str {
    match mode & 0o170000 {
        0o010000 => "fifo",
        0o020000 => "char device",
        0o040000 => "directory",
        0o060000 => "block device",
        0o100000 => "regular file",
        0o120000 => "symlink",
        0o140000 => "socket",
        _ => "unknown",
    }
}

fn fstat(fd: usize) -> (isize, Stat) {
    let mut st = Stat::default();
    // SAFETY: the kernel writes one `struct stat` (144 bytes, matching `Stat`).
    let r = unsafe { syscall!(nr::FSTAT, fd, &mut st as *mut Stat) };
    (r, st)
}

fn fcntl(fd: usize, cmd: usize) -> isize {
    // SAFETY: F_GETFD / F_GETFL take no pointer.
    unsafe { syscall!(nr::FCNTL, fd, cmd) }
}

fn accmode(flags: usize) -> &'static str {
    match flags & O_ACCMODE {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "?",
    }
}

fn main() {
    println!("== fstat");
    for fd in 0..3 {
        let (r, st) = fstat(fd);
        println!("fd {fd}: {}, type {}", outcome(r), file_type(st.st_mode));
    }
    println!("fd 3: {}", outcome(fstat(3).0));
    println!("fd 99: {}", outcome(fstat(99).0));

    println!("== ioctl");
    for fd in 0..3usize {
        let mut buf = [0u8; 64];
        // SAFETY: TCGETS writes a `struct termios` (60 bytes) and TIOCGWINSZ a
        // `struct winsize` (8 bytes); `buf` has room for either.
        let (a, b) = unsafe {
            (
                syscall!(nr::IOCTL, fd, TCGETS, buf.as_mut_ptr()),
                syscall!(nr::IOCTL, fd, TIOCGWINSZ, buf.as_mut_ptr()),
            )
        };
        println!("fd {fd}: TCGETS {}, TIOCGWINSZ {}", outcome(a), outcome(b));
    }
    let mut buf = [0u8; 64];
    // SAFETY: as above; the fd is invalid so nothing is written.
    let r = unsafe { syscall!(nr::IOCTL, 99usize, TCGETS, buf.as_mut_ptr()) };
    println!("fd 99: TCGETS {}", outcome(r));
    println!(
        "IsTerminal: stdin {}, stdout {}, stderr {}",
        std::io::stdin().is_terminal(),
        std::io::stdout().is_terminal(),
        std::io::stderr().is_terminal()
    );

    println!("== lseek");
    for fd in 0..3usize {
        // SAFETY: lseek takes no pointer.
        let r = unsafe { syscall!(nr::LSEEK, fd, 0usize, SEEK_CUR) };
        println!("fd {fd}: {}", outcome(r));
    }
    // SAFETY: lseek takes no pointer.
    let r = unsafe { syscall!(nr::LSEEK, 99usize, 0usize, SEEK_CUR) };
    println!("fd 99: {}", outcome(r));

    println!("== fcntl");
    for fd in 0..3usize {
        let fl = fcntl(fd, F_GETFL);
        let fd_flags = fcntl(fd, F_GETFD);
        match check(fl) {
            Ok(fl) => println!(
                "fd {fd}: F_GETFL {} append {} nonblock {}; F_GETFD {}",
                accmode(fl),
                fl & O_APPEND != 0,
                fl & O_NONBLOCK != 0,
                outcome_val(fd_flags)
            ),
            Err(e) => println!("fd {fd}: F_GETFL Err({e})"),
        }
    }
    println!("fd 99: F_GETFL {}", outcome(fcntl(99, F_GETFL)));

    println!("== poll");
    let mut fds = [
        Pollfd {
            fd: 1,
            events: POLLOUT,
            revents: 0,
        },
        Pollfd {
            fd: 99,
            events: POLLOUT,
            revents: 0,
        },
    ];
    // SAFETY: the kernel reads and updates 2 `struct pollfd`s.
    let r = unsafe { syscall!(nr::POLL, fds.as_mut_ptr(), 2usize, 0usize) };
    println!("poll fd 1 + fd 99: {}", outcome_val(r));
    println!("fd 1 POLLOUT: {}", fds[0].revents & POLLOUT != 0);
    println!("fd 99 POLLNVAL: {}", fds[1].revents == POLLNVAL);
    let mut neg = [Pollfd {
        fd: -1,
        events: POLLOUT,
        revents: 7,
    }];
    // SAFETY: as above, one entry.
    let r = unsafe { syscall!(nr::POLL, neg.as_mut_ptr(), 1usize, 0usize) };
    println!(
        "negative fd ignored: {}, revents cleared: {}",
        outcome_val(r),
        neg[0].revents == 0
    );
    let t0 = std::time::Instant::now();
    // SAFETY: no fds: the call just sleeps.
    let r = unsafe { syscall!(nr::POLL, 0usize, 0usize, 10usize) };
    println!(
        "poll no fds 10ms: {}, elapsed >= 10ms: {}",
        outcome_val(r),
        t0.elapsed().as_millis() >= 10
    );

    println!("== writev");
    flush();
    let parts: [&[u8]; 4] = [b"writev: ", b"part one, ", b"", b"part two\n"];
    let iov: Vec<Iovec> = parts
        .iter()
        .map(|p| Iovec {
            base: p.as_ptr(),
            len: p.len(),
        })
        .collect();
    // SAFETY: each iovec points at a live byte slice of the given length.
    let r = unsafe { syscall!(nr::WRITEV, 1usize, iov.as_ptr(), iov.len()) };
    println!("writev 4 iovecs: {}", outcome_val(r));
    // SAFETY: zero iovecs: nothing is read.
    let r = unsafe { syscall!(nr::WRITEV, 1usize, iov.as_ptr(), 0usize) };
    println!("writev 0 iovecs: {}", outcome_val(r));
    // SAFETY: rejected on the count before anything is read.
    let r = unsafe { syscall!(nr::WRITEV, 1usize, iov.as_ptr(), 1025usize) };
    println!("writev 1025 iovecs: {}", outcome_val(r));
    // SAFETY: as above.
    let r = unsafe { syscall!(nr::WRITEV, 1usize, iov.as_ptr(), -1isize) };
    println!("writev -1 iovecs: {}", outcome_val(r));
    // SAFETY: writing a live buffer to stderr.
    let r = unsafe { syscall!(nr::WRITEV, 2usize, iov.as_ptr(), iov.len()) };
    println!("writev to stderr: {}", outcome_val(r));
    // SAFETY: the kernel checks the fd first.
    let r = unsafe { syscall!(nr::WRITE, 0usize, b"x".as_ptr(), 1usize) };
    println!("write to stdin (read end): {}", outcome_val(r));

    println!("== stdin");
    let mut lines = 0;
    for line in std::io::stdin().lock().lines() {
        match line {
            Ok(l) => println!("stdin line: {l:?}"),
            Err(e) => println!("stdin error: {:?}", e.kind()),
        }
        lines += 1;
    }
    println!("stdin lines: {lines}, then EOF");
    let mut b = [0u8; 8];
    // SAFETY: the kernel writes at most 8 bytes into `b`.
    let r = unsafe { syscall!(nr::READ, 0usize, b.as_mut_ptr(), 8usize) };
    println!("read after EOF: {}", outcome_val(r));
}
