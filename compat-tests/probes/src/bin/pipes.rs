//! pipe / pipe2 within one process: data through, FIONREAD, O_NONBLOCK (EAGAIN on an
//! empty pipe and on a full one), the capacity (F_GETPIPE_SZ), EOF once the write end
//! is closed, EPIPE once the read end is closed (SIGPIPE is ignored by Rust programs),
//! poll readiness and hang-up, fstat (fifo), lseek (ESPIPE), O_CLOEXEC, and errnos.

use probes::fsutil::{ftype, must, section, v};
use probes::sys;

use libc::{
    pollfd, FD_CLOEXEC, FIONREAD, F_GETFD, F_GETFL, F_GETPIPE_SZ, F_SETFL, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY,
    POLLERR, POLLHUP, POLLIN, POLLOUT, SEEK_CUR,
};

fn readable(fd: i32) -> String {
    let (r, n) = sys::ioctl_get_int(fd, FIONREAD);
    if r < 0 {
        v(r)
    } else {
        n.to_string()
    }
}

fn poll_one(fd: i32, events: i16) -> String {
    let mut p = [pollfd { fd, events, revents: 0 }];
    let r = sys::poll(&mut p, 0);
    let mut names = Vec::new();
    for (bit, name) in [(POLLIN, "POLLIN"), (POLLOUT, "POLLOUT"), (POLLHUP, "POLLHUP"), (POLLERR, "POLLERR")] {
        if p[0].revents & bit != 0 {
            names.push(name);
        }
    }
    format!("{} [{}]", v(r), names.join("|"))
}

fn main() {
    section("pipe");
    let (r, p) = sys::pipe();
    println!("pipe: {}", v(r));
    let (rd, wr) = (p[0], p[1]);
    println!("fstat: {} / {}", ftype(sys::fstat(rd).1.st_mode), ftype(sys::fstat(wr).1.st_mode));
    println!(
        "access modes: read end O_RDONLY {}, write end O_WRONLY {}",
        sys::fcntl(rd, F_GETFL, 0) as i32 & 3 == O_RDONLY,
        sys::fcntl(wr, F_GETFL, 0) as i32 & 3 == O_WRONLY
    );
    println!("FD_CLOEXEC: {}", v(sys::fcntl(rd, F_GETFD, 0)));
    println!("capacity (F_GETPIPE_SZ): {}", v(sys::fcntl(wr, F_GETPIPE_SZ, 0)));
    println!("empty: FIONREAD {}", readable(rd));
    println!("poll empty read end: {}", poll_one(rd, POLLIN));
    println!("poll write end: {}", poll_one(wr, POLLOUT));
    println!("write 11: {}", v(sys::write(wr, b"hello pipe!")));
    println!("FIONREAD: {}", readable(rd));
    println!("poll read end: {}", poll_one(rd, POLLIN));
    let mut buf = [0u8; 5];
    println!("read 5: {} {:?}", v(sys::read(rd, &mut buf)), String::from_utf8_lossy(&buf));
    println!("FIONREAD: {}", readable(rd));
    println!("writev: {}", v(sys::writev(wr, &[b"-ab", b"cd"])));
    let mut big = [0u8; 64];
    let n = sys::read(rd, &mut big);
    println!("read returns what is there: {} {:?}", v(n), String::from_utf8_lossy(&big[..n.max(0) as usize]));
    println!("read from the write end: {}", v(sys::read(wr, &mut buf)));
    println!("write to the read end: {}", v(sys::write(rd, b"x")));
    println!("lseek: {}", v(sys::lseek(rd, 0, SEEK_CUR)));
    println!("pread: {}", v(sys::pread(rd, &mut buf, 0)));
    println!("pwrite: {}", v(sys::pwrite(wr, b"x", 0)));
    println!("zero-length write: {}", v(sys::write(wr, &[])));

    section("O_NONBLOCK");
    println!("set O_NONBLOCK on the read end: {}", v(sys::fcntl(rd, F_SETFL, O_NONBLOCK as usize)));
    println!("read an empty pipe: {}", v(sys::read(rd, &mut buf)));
    sys::fcntl(wr, F_SETFL, O_NONBLOCK as usize);
    let chunk = [7u8; 4096];
    let mut total = 0usize;
    let last = loop {
        let n = sys::write(wr, &chunk);
        if n < 0 {
            break n;
        }
        total += n as usize;
        if total > 1 << 22 {
            break 0;
        }
    };
    println!("filled until: {} after {total} bytes", v(last));
    println!("that is the capacity: {}", total as isize == sys::fcntl(wr, F_GETPIPE_SZ, 0));
    println!("FIONREAD full: {}", readable(rd));
    println!("poll full write end: {}", poll_one(wr, POLLOUT));
    let mut drain = vec![0u8; 1 << 17];
    println!("drain: {}", v(sys::read(rd, &mut drain)));

    section("closing ends");
    sys::write(wr, b"last words");
    println!("close the write end: {}", v(sys::close(wr)));
    println!("poll read end: {}", poll_one(rd, POLLIN));
    let n = sys::read(rd, &mut big);
    println!("read what is left: {} {:?}", v(n), String::from_utf8_lossy(&big[..n.max(0) as usize]));
    println!("then EOF: {}", v(sys::read(rd, &mut big)));
    sys::close(rd);

    let (_, p) = sys::pipe();
    sys::close(p[0]);
    println!("write with the read end closed: {}", v(sys::write(p[1], b"nobody")));
    println!("poll write end: {}", poll_one(p[1], POLLOUT));
    sys::close(p[1]);

    let (_, p) = sys::pipe();
    let extra = must("dup", sys::dup(p[1]));
    sys::close(p[1]);
    sys::fcntl(p[0], F_SETFL, O_NONBLOCK as usize);
    println!("a dup of the write end keeps the pipe open: {}", v(sys::read(p[0], &mut buf)));
    sys::close(extra);
    println!("closing the dup gives EOF: {}", v(sys::read(p[0], &mut buf)));
    sys::close(p[0]);

    section("pipe2");
    let (r, p) = sys::pipe2(O_CLOEXEC | O_NONBLOCK);
    println!("pipe2 O_CLOEXEC|O_NONBLOCK: {}", v(r));
    println!(
        "FD_CLOEXEC on both: {}",
        sys::fcntl(p[0], F_GETFD, 0) == FD_CLOEXEC as isize && sys::fcntl(p[1], F_GETFD, 0) == FD_CLOEXEC as isize
    );
    println!(
        "O_NONBLOCK on both: {}",
        sys::fcntl(p[0], F_GETFL, 0) as i32 & O_NONBLOCK != 0 && sys::fcntl(p[1], F_GETFL, 0) as i32 & O_NONBLOCK != 0
    );
    println!("read empty: {}", v(sys::read(p[0], &mut buf)));
    sys::close(p[0]);
    sys::close(p[1]);
    println!("pipe2 with an unknown flag: {}", v(sys::pipe2(libc::O_CREAT).0));
    println!("pipe2 flags 0: {}", {
        let (r, p) = sys::pipe2(0);
        sys::close(p[0]);
        sys::close(p[1]);
        v(r)
    });
}
