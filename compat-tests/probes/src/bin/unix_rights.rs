//! Ancillary data on AF_UNIX socket pairs: SCM_RIGHTS (a pipe, an eventfd and a file
//! passed and used, files kept open in flight, the rights boundary of a stream read,
//! MSG_PEEK, MSG_CTRUNC with the files that did not fit closed, MSG_CMSG_CLOEXEC, no
//! control buffer, a control buffer the kernel cannot write, zero-length sends, the
//! limits and the errnos of a bad control buffer), SCM_CREDENTIALS (SO_PASSCRED,
//! credentials on every message, what may be claimed, streams not joining different
//! senders' credentials, truncation), SO_PEERCRED — on stream, datagram and seqpacket
//! pairs.
//!
//! Fds are never printed (only whether they work, their flags and how many are open),
//! nor pids (only whether they are this process's or a thread's).

use probes::fsutil::{must, section, v, TmpDir};
use probes::net::*;
use probes::syscall;

const SCM_RIGHTS: i32 = 1;
const SCM_CREDENTIALS: i32 = 2;
const HDR: usize = 16;

fn align(n: usize) -> usize {
    (n + 7) & !7
}

/// One control message: header, data, padding to the next one.
fn cmsg(level: i32, ty: i32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HDR + align(data.len()));
    out.extend_from_slice(&((HDR + data.len()) as u64).to_ne_bytes());
    out.extend_from_slice(&level.to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(data);
    out.resize(HDR + align(data.len()), 0);
    out
}

fn rights(fds: &[i32]) -> Vec<u8> {
    let data: Vec<u8> = fds.iter().flat_map(|fd| fd.to_ne_bytes()).collect();
    cmsg(libc::SOL_SOCKET, SCM_RIGHTS, &data)
}

fn creds(pid: i32, uid: u32, gid: u32) -> Vec<u8> {
    let mut data = Vec::new();
    data.extend_from_slice(&pid.to_ne_bytes());
    data.extend_from_slice(&uid.to_ne_bytes());
    data.extend_from_slice(&gid.to_ne_bytes());
    cmsg(libc::SOL_SOCKET, SCM_CREDENTIALS, &data)
}

/// Raw sendmsg of `data` with a control buffer at `ctl` (address, length).
fn send_raw(fd: i32, data: &[u8], ctl: (usize, usize), flags: i32) -> isize {
    let iov = libc::iovec { iov_base: data.as_ptr() as *mut _, iov_len: data.len() };
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &iov as *const _ as *mut _;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.0 as *mut _;
    msg.msg_controllen = ctl.1;
    // SAFETY: the kernel reads the msghdr, the one iovec and the control buffer (or
    // refuses an address it cannot read).
    unsafe { syscall!(libc::SYS_sendmsg as usize, fd as isize, &msg as *const libc::msghdr, flags as isize) }
}

fn send_ctl(fd: i32, data: &[u8], control: &[u8], flags: i32) -> isize {
    send_raw(fd, data, (control.as_ptr() as usize, control.len()), flags)
}

/// The fds of `/proc/self/fd` (to show that none leak).
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

/// A receive: its data, msg_flags, msg_controllen and what the control buffer holds,
/// described; received fds are checked with `use_fd` and closed.
struct Got {
    text: String,
    fds: Vec<i32>,
}

/// Receives into a buffer of `size` with a control buffer of `ctl` bytes (`None`: a
/// NULL `msg_control`; `Some(usize::MAX)`: an address the kernel cannot write).
fn recv_with(fd: i32, size: usize, ctl: Option<usize>, flags: i32) -> Got {
    let mut buf = vec![0u8; size];
    let mut control = vec![0xaau8; 1024];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: size };
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    match ctl {
        None => {}
        Some(usize::MAX) => {
            msg.msg_control = probes::unmapped_page() as *mut _;
            msg.msg_controllen = 64;
        }
        Some(n) => {
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = n;
        }
    }
    // SAFETY: the kernel writes the data, the control buffer and the msghdr's lengths
    // and flags, all of which are ours (or refused).
    let r = unsafe {
        syscall!(
            libc::SYS_recvmsg as usize,
            fd as isize,
            &mut msg as *mut libc::msghdr,
            (flags | libc::MSG_DONTWAIT) as isize
        )
    };
    if r < 0 {
        return Got { text: v(r), fds: Vec::new() };
    }
    let n = r as usize;
    let mut text = format!(
        "{} {:?} flags {:#x} controllen {}",
        v(r),
        String::from_utf8_lossy(&buf[..n.min(size)]),
        msg.msg_flags,
        msg.msg_controllen
    );
    let mut fds = Vec::new();
    let total = if ctl.is_some_and(|c| c != usize::MAX) { msg.msg_controllen } else { 0 };
    let mut at = 0;
    while at + HDR <= total {
        let len = u64::from_ne_bytes(control[at..at + 8].try_into().unwrap()) as usize;
        let level = i32::from_ne_bytes(control[at + 8..at + 12].try_into().unwrap());
        let ty = i32::from_ne_bytes(control[at + 12..at + 16].try_into().unwrap());
        let data = &control[at + HDR..at + len.clamp(HDR, total - at)];
        match (level, ty) {
            (libc::SOL_SOCKET, SCM_RIGHTS) => {
                let got: Vec<i32> = data.chunks_exact(4).map(|c| i32::from_ne_bytes(c.try_into().unwrap())).collect();
                let cloexec: Vec<String> = got.iter().map(|&f| fcntl(f, libc::F_GETFD, 0).to_string()).collect();
                text += &format!(" [RIGHTS len {len}: {} fds, FD_CLOEXEC {}]", got.len(), cloexec.join(","));
                fds.extend(got);
            }
            (libc::SOL_SOCKET, SCM_CREDENTIALS) if data.len() >= 12 => {
                let word = |i: usize| u32::from_ne_bytes(data[i..i + 4].try_into().unwrap());
                text += &format!(" [CREDENTIALS len {len}: pid {} uid {} gid {}]", who(word(0)), word(4), word(8));
            }
            _ => text += &format!(" [level {level} type {ty} len {len}]"),
        }
        at += align(len.max(HDR));
    }
    Got { text, fds }
}

/// A pid as this probe may print it.
fn who(pid: u32) -> String {
    if pid == std::process::id() {
        "mine".into()
    } else if pid == 0 {
        "0".into()
    } else {
        "another".into()
    }
}

/// Receives, prints, closes what came.
fn show(what: &str, fd: i32, size: usize, ctl: Option<usize>, flags: i32) {
    let g = recv_with(fd, size, ctl, flags);
    println!("{what}: {}", g.text);
    for f in g.fds {
        close(f);
    }
}

fn pair(ty: i32) -> (i32, i32) {
    let (r, sv) = socketpair(libc::AF_UNIX, ty, 0);
    must("socketpair", r);
    (sv[0], sv[1])
}

fn pipe() -> (i32, i32) {
    let (r, p) = probes::sys::pipe();
    must("pipe", r);
    (p[0], p[1])
}

fn one_fd(g: &Got) -> i32 {
    assert_eq!(g.fds.len(), 1, "{}", g.text);
    g.fds[0]
}

fn passing(ty: i32, name: &str) {
    section(&format!("{name}: files in flight"));
    let (a, b) = pair(ty);
    // A pipe's read end: the sender closes its own before it is received.
    let (pr, pw) = pipe();
    println!("send a pipe: {}", v(send_ctl(a, b"pipe", &rights(&[pr]), 0)));
    close(pr);
    println!("write into the pipe: {}", v(write(pw, b"through the pipe")));
    let g = recv_with(b, 64, Some(64), 0);
    println!("receive: {}", g.text);
    let got = one_fd(&g);
    let mut buf = [0u8; 32];
    let n = read(got, &mut buf);
    println!("read the received end: {} {:?}", v(n), String::from_utf8_lossy(&buf[..n.max(0) as usize]));
    close(got);
    close(pw);

    // An eventfd: written through the received fd, read through the original.
    let efd = must("eventfd", eventfd(0));
    println!("send an eventfd: {}", v(send_ctl(a, b"event", &rights(&[efd]), 0)));
    let g = recv_with(b, 64, Some(64), 0);
    println!("receive: {}", g.text);
    let got = one_fd(&g);
    println!("write 5 through it: {}", v(write(got, &5u64.to_ne_bytes())));
    let mut c = [0u8; 8];
    println!("read the original: {} {}", v(read(efd, &mut c)), u64::from_ne_bytes(c));
    close(got);
    close(efd);

    // A file: one open file description, so one offset.
    let dir = TmpDir::new(&format!("rights-{name}"));
    let path = dir.at("f");
    let file = must("open", probes::sys::open(&path, libc::O_RDWR | libc::O_CREAT, 0o600));
    println!("send a file: {}", v(send_ctl(a, b"file", &rights(&[file]), 0)));
    let g = recv_with(b, 64, Some(64), 0);
    println!("receive: {}", g.text);
    let got = one_fd(&g);
    println!("write through it: {}", v(write(got, b"0123456789")));
    println!("the original's offset: {}", v(probes::sys::lseek(file, 0, libc::SEEK_CUR)));
    let (_, s1) = probes::sys::fstat(file);
    let (_, s2) = probes::sys::fstat(got);
    println!("same file: {}", s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev);
    println!("F_GETFL: {:#o}", fcntl(got, libc::F_GETFL, 0));
    close(got);
    close(file);

    // Closing the receiving socket closes what was in flight to it.
    let (c, d) = pair(ty);
    let (pr, pw) = pipe();
    println!("send a pipe's write end: {}", v(send_ctl(c, b"w", &rights(&[pw]), 0)));
    close(pw);
    close(d);
    let mut buf = [0u8; 4];
    println!("after the receiver closed, the pipe reads: {}", v(read(pr, &mut buf)));
    close(pr);
    close(c);

    // Zero bytes.
    let (pr, pw) = pipe();
    println!("zero bytes with a file: {}", v(send_ctl(a, b"", &rights(&[pr]), 0)));
    show("receive", b, 64, Some(64), 0);
    close(pr);
    close(pw);
    close(a);
    close(b);
}

fn truncation(ty: i32, name: &str) {
    section(&format!("{name}: MSG_CTRUNC and MSG_CMSG_CLOEXEC"));
    let (a, b) = pair(ty);
    let (pr, pw) = pipe();
    let three = rights(&[pr, pw, pr]);
    let before = open_fds();
    for (what, ctl) in [
        ("control 20", Some(20)),
        ("control 24", Some(24)),
        ("control 16", Some(16)),
        ("control 0", Some(0)),
        ("no control", None),
        ("control unwritable", Some(usize::MAX)),
    ] {
        must("sendmsg", send_ctl(a, b"xy", &three, 0));
        show(what, b, 64, ctl, 0);
    }
    println!("open fds as before: {}", open_fds() == before);
    must("sendmsg", send_ctl(a, b"xy", &three, 0));
    show("MSG_CMSG_CLOEXEC", b, 64, Some(64), libc::MSG_CMSG_CLOEXEC);
    must("sendmsg", send_ctl(a, b"xy", &three, 0));
    show("MSG_PEEK", b, 64, Some(64), libc::MSG_PEEK);
    show("then read", b, 64, Some(64), 0);
    println!("open fds as before: {}", open_fds() == before);
    close(pr);
    close(pw);
    close(a);
    close(b);
}

fn stream_bounds() {
    section("stream: rights boundaries");
    let (a, b) = pair(libc::SOCK_STREAM);
    let (pr, pw) = pipe();
    must("send", send(a, b"aaa", 0));
    must("sendmsg", send_ctl(a, b"bbb", &rights(&[pr]), 0));
    must("send", send(a, b"ccc", 0));
    show("read 100", b, 100, Some(64), 0);
    show("read 100 again", b, 100, Some(64), 0);
    must("sendmsg", send_ctl(a, b"dddd", &rights(&[pr]), 0));
    must("send", send(a, b"eee", 0));
    show("read 2", b, 2, Some(64), 0);
    show("read 100", b, 100, Some(64), 0);
    must("sendmsg", send_ctl(a, b"ff", &rights(&[pr]), 0));
    must("sendmsg", send_ctl(a, b"gg", &rights(&[pw]), 0));
    show("peek 100", b, 100, Some(64), libc::MSG_PEEK);
    show("read 100", b, 100, Some(64), 0);
    show("read 100 without control", b, 100, None, 0);
    must("send", send(a, b"hhh", 0));
    must("sendmsg", send_ctl(a, b"iii", &rights(&[pr]), 0));
    show("peek 3", b, 3, Some(64), libc::MSG_PEEK);
    show("read 100", b, 100, Some(64), 0);
    println!("read() of a message with files: {}", {
        must("sendmsg", send_ctl(a, b"jj", &rights(&[pr]), 0));
        let mut buf = [0u8; 8];
        v(read(b, &mut buf))
    });
    close(pr);
    close(pw);
    close(a);
    close(b);
}

fn errors() {
    section("errors");
    let (a, b) = pair(libc::SOCK_DGRAM);
    let (pr, pw) = pipe();
    let many = vec![pr; 254];
    println!("253 files: {}", v(send_ctl(a, b"m", &rights(&many[..253]), 0)));
    show("receive them", b, 8, None, 0);
    println!("254 files: {}", v(send_ctl(a, b"m", &rights(&many), 0)));
    let two: Vec<u8> = [rights(&many[..200]), rights(&many[..200])].concat();
    println!("200 + 200 files: {}", v(send_ctl(a, b"m", &two, 0)));
    let both: Vec<u8> = [rights(&[pr]), rights(&[pw])].concat();
    println!("two SCM_RIGHTS messages: {}", v(send_ctl(a, b"m", &both, 0)));
    show("receive", b, 8, Some(64), 0);
    println!("a closed fd: {}", v(send_ctl(a, b"m", &rights(&[pr, 999]), 0)));
    println!("fd -1: {}", v(send_ctl(a, b"m", &rights(&[-1]), 0)));
    println!("no fds: {}", v(send_ctl(a, b"m", &rights(&[]), 0)));
    show("receive", b, 8, Some(64), 0);
    let mut bad = rights(&[pr]);
    bad[..8].copy_from_slice(&8u64.to_ne_bytes());
    println!("cmsg_len 8: {}", v(send_ctl(a, b"m", &bad, 0)));
    bad[..8].copy_from_slice(&0u64.to_ne_bytes());
    println!("cmsg_len 0: {}", v(send_ctl(a, b"m", &bad, 0)));
    bad[..8].copy_from_slice(&25u64.to_ne_bytes());
    println!("cmsg_len past the buffer: {}", v(send_ctl(a, b"m", &bad, 0)));
    let ok = rights(&[pr]);
    println!("a 15-byte tail after a message: {}", v(send_ctl(a, b"m", &[&ok[..], &[0u8; 15]].concat(), 0)));
    show("receive", b, 8, Some(64), 0);
    println!("15 bytes of control: {}", v(send_ctl(a, b"m", &[0u8; 15], 0)));
    show("receive", b, 8, Some(64), 0);
    println!("another level: {}", v(send_ctl(a, b"m", &cmsg(6, 1, &[0; 4]), 0)));
    show("receive", b, 8, Some(64), 0);
    println!("type 77: {}", v(send_ctl(a, b"m", &cmsg(libc::SOL_SOCKET, 77, &[0; 4]), 0)));
    println!("type 3 (SCM_SECURITY): {}", v(send_ctl(a, b"m", &cmsg(libc::SOL_SOCKET, 3, &[0; 4]), 0)));
    println!("type 77 with MSG_OOB: {}", v(send_ctl(a, b"m", &cmsg(libc::SOL_SOCKET, 77, &[0; 4]), libc::MSG_OOB)));
    println!("files with MSG_OOB: {}", v(send_ctl(a, b"m", &rights(&[pr]), libc::MSG_OOB)));
    println!("NULL control of 16 bytes: {}", v(send_raw(a, b"m", (0, 16), 0)));
    println!("unmapped control: {}", v(send_raw(a, b"m", (probes::unmapped_page(), 16), 0)));
    show("nothing was sent", b, 8, Some(64), 0);
    close(pr);
    close(pw);
    close(a);
    close(b);
}

fn credentials(ty: i32, name: &str) {
    section(&format!("{name}: credentials"));
    let (a, b) = pair(ty);
    let (uid, gid) = (getuid(), getgid());
    println!("uid and gid are 0: {}", uid == 0 && gid == 0);
    let (r, val, len) = getsockopt_int(b, libc::SOL_SOCKET, libc::SO_PASSCRED);
    println!("SO_PASSCRED: {} {val} len {len}", v(r));
    must("send", send(a, b"before", 0));
    println!("set SO_PASSCRED 2: {}", v(setsockopt_int(b, libc::SOL_SOCKET, libc::SO_PASSCRED, 2)));
    let (r, val, _) = getsockopt_int(b, libc::SOL_SOCKET, libc::SO_PASSCRED);
    println!("SO_PASSCRED: {} {val}", v(r));
    println!("set SO_PASSCRED, 2 bytes: {}", v(setsockopt_bytes(b, libc::SOL_SOCKET, libc::SO_PASSCRED, &[1, 0])));
    let mut two = [0u8; 2];
    println!("get SO_PASSCRED, 2 bytes: {:?}", getsockopt_bytes(b, libc::SOL_SOCKET, libc::SO_PASSCRED, &mut two));
    must("send", send(a, b"after", 0));
    show("sent before SO_PASSCRED", b, 64, Some(64), 0);
    show("sent after", b, 64, Some(64), 0);
    let (pr, pw) = pipe();
    must("sendmsg", send_ctl(a, b"both", &rights(&[pr]), 0));
    show("credentials and a file", b, 64, Some(64), 0);
    for (what, ctl) in [("control 32", Some(32)), ("control 20", Some(20)), ("no control", None)] {
        must("sendmsg", send_ctl(a, b"cut", &rights(&[pr]), 0));
        show(what, b, 64, ctl, 0);
    }
    must("send", send(a, b"plain", 0));
    show("control unwritable", b, 64, Some(usize::MAX), 0);

    let me = std::process::id() as i32;
    println!("SCM_CREDENTIALS of mine: {}", v(send_ctl(a, b"c", &creds(me, uid, gid), 0)));
    show("receive", b, 64, Some(64), 0);
    println!("uid 1234 gid 5678: {}", v(send_ctl(a, b"c", &creds(me, 1234, 5678), 0)));
    show("receive", b, 64, Some(64), 0);
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        tx.send(probes::sig::gettid()).unwrap();
        let _ = done_rx.recv();
    });
    let tid = rx.recv().unwrap();
    println!("a thread's tid: {}", v(send_ctl(a, b"t", &creds(tid, uid, gid), 0)));
    show("receive", b, 64, Some(64), 0);
    done_tx.send(()).unwrap();
    t.join().unwrap();
    println!("no such pid: {}", v(send_ctl(a, b"c", &creds(i32::MAX, uid, gid), 0)));
    println!("pid 0: {}", v(send_ctl(a, b"c", &creds(0, uid, gid), 0)));
    println!("uid -1: {}", v(send_ctl(a, b"c", &creds(me, u32::MAX, gid), 0)));
    println!("gid -1: {}", v(send_ctl(a, b"c", &creds(me, uid, u32::MAX), 0)));
    let mut long = creds(me, uid, gid);
    long[..8].copy_from_slice(&32u64.to_ne_bytes());
    println!("cmsg_len 32: {}", v(send_ctl(a, b"c", &long, 0)));
    long[..8].copy_from_slice(&24u64.to_ne_bytes());
    println!("cmsg_len 24: {}", v(send_ctl(a, b"c", &long, 0)));
    show("nothing was sent", b, 64, Some(64), 0);

    if ty == libc::SOCK_STREAM {
        must("send", send(a, b"k1", 0));
        must("sendmsg", send_ctl(a, b"k2", &creds(me, 1234, 5678), 0));
        must("send", send(a, b"k3", 0));
        show("different credentials are not joined", b, 64, Some(64), 0);
        show("next", b, 64, Some(64), 0);
        show("next", b, 64, Some(64), 0);
    }

    println!("SO_PASSCRED off: {}", v(setsockopt_int(b, libc::SOL_SOCKET, libc::SO_PASSCRED, 0)));
    must("sendmsg", send_ctl(a, b"given", &creds(me, uid, gid), 0));
    show("given credentials, receiver without SO_PASSCRED", b, 64, Some(64), 0);
    must("setsockopt", setsockopt_int(a, libc::SOL_SOCKET, libc::SO_PASSCRED, 1));
    must("send", send(a, b"sender passes", 0));
    show("the sender has SO_PASSCRED", b, 64, Some(64), 0);

    let mut pc = [0u8; 16];
    let (r, len) = getsockopt_bytes(b, libc::SOL_SOCKET, libc::SO_PEERCRED, &mut pc);
    let word = |i: usize| u32::from_ne_bytes(pc[i..i + 4].try_into().unwrap());
    println!("SO_PEERCRED: {} len {len} pid {} uid {} gid {}", v(r), who(word(0)), word(4), word(8));

    if ty == libc::SOCK_STREAM {
        must("setsockopt", setsockopt_int(b, libc::SOL_SOCKET, libc::SO_PASSCRED, 1));
        must("shutdown", shutdown(a, libc::SHUT_WR));
        show("end of file", b, 64, Some(64), 0);
    }
    close(pr);
    close(pw);
    close(a);
    close(b);
}

fn getuid() -> u32 {
    // SAFETY: no arguments.
    unsafe { syscall!(libc::SYS_getuid as usize) as u32 }
}

fn getgid() -> u32 {
    // SAFETY: no arguments.
    unsafe { syscall!(libc::SYS_getgid as usize) as u32 }
}

const KINDS: [(i32, &str); 3] =
    [(libc::SOCK_STREAM, "stream"), (libc::SOCK_DGRAM, "dgram"), (libc::SOCK_SEQPACKET, "seqpacket")];

fn main() {
    for (ty, name) in KINDS {
        passing(ty, name);
        truncation(ty, name);
    }
    stream_bounds();
    errors();
    for (ty, name) in KINDS {
        credentials(ty, name);
    }
}
