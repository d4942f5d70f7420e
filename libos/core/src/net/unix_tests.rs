//! AF_UNIX socket pairs: streams, datagrams, seqpackets, shutdown, closing, options.

use alloc::vec;
use alloc::vec::Vec;

use super::super::scm::{Scm, Ucred};

use super::*;

fn stream() -> (Arc<UnixSocket>, Arc<UnixSocket>) {
    pair(Kind::Stream, 42, 1000, 100)
}

fn send(s: &UnixSocket, data: &[u8], flags: u32) -> SysResult {
    s.sendmsg(&SendMsg { bufs: &[data], addr: None, control: &[], scm: None, flags }, true)
}

fn recv(s: &UnixSocket, buf: &mut [u8], flags: u32) -> Result<Received, Errno> {
    s.recvmsg(&mut [buf], &mut [], flags, true)
}

#[test]
fn a_stream_carries_bytes_both_ways() {
    let (a, b) = stream();
    assert_eq!(send(&a, b"hello ", 0), Ok(6));
    assert_eq!(send(&a, b"world", 0), Ok(5));
    let mut buf = [0u8; 64];
    assert_eq!(recv(&b, &mut buf[..3], MSG_PEEK).map(|r| r.len), Ok(3));
    assert_eq!(recv(&b, &mut buf, 0).map(|r| r.len), Ok(11), "a read takes what is there");
    assert_eq!(&buf[..11], b"hello world");
    assert_eq!(recv(&b, &mut buf, 0), Err(Errno::EAGAIN));
    assert_eq!(b.write(b"back", true), Ok(4));
    assert_eq!(a.read(&mut buf, true), Ok(4));
}

#[test]
fn scattered_reads_fill_the_buffers_in_turn() {
    let (a, b) = stream();
    send(&a, b"abcdef", 0).unwrap();
    let (mut x, mut y) = ([0u8; 2], [0u8; 8]);
    let r = b.recvmsg(&mut [&mut x[..], &mut y[..]], &mut [], 0, true).unwrap();
    assert_eq!(r.len, 6);
    assert_eq!((&x, &y[..4]), (b"ab", &b"cdef"[..]));
}

#[test]
fn shutdown_reaches_the_peer() {
    let (a, b) = stream();
    assert_eq!(a.shutdown(7), Err(Errno::EINVAL));
    send(&a, b"last", 0).unwrap();
    a.shutdown(SHUT_WR).unwrap();
    assert_eq!(send(&a, b"more", 0), Err(Errno::EPIPE));
    assert_eq!(b.poll(POLLIN | POLLRDHUP | POLLHUP) & (POLLIN | POLLRDHUP | POLLHUP), POLLIN | POLLRDHUP);
    let mut buf = [0u8; 8];
    assert_eq!(recv(&b, &mut buf, 0).map(|r| r.len), Ok(4), "queued data first");
    assert_eq!(recv(&b, &mut buf, 0).map(|r| r.len), Ok(0), "then end of file");
    assert_eq!(send(&b, b"reply", 0), Ok(5), "the other way still works");
}

#[test]
fn closing_an_end_ends_the_stream() {
    let (a, b) = stream();
    send(&b, b"unread", 0).unwrap();
    send(&a, b"for b", 0).unwrap();
    drop(a);
    let mut buf = [0u8; 8];
    assert_eq!(recv(&b, &mut buf, 0).map(|r| r.len), Ok(5));
    assert_eq!(recv(&b, &mut buf, 0), Err(Errno::ECONNRESET), "a left data unread");
    assert_eq!(recv(&b, &mut buf, 0).map(|r| r.len), Ok(0));
    assert_eq!(send(&b, b"x", 0), Err(Errno::EPIPE));
    assert_eq!(send(&b, b"", 0), Err(Errno::EPIPE), "even an empty one: the close shut b down");
    assert_eq!(b.poll(POLLHUP | POLLOUT) & POLLHUP, POLLHUP);
}

#[test]
fn datagrams_keep_their_bounds() {
    let (a, b) = pair(Kind::Dgram, 1, 0, 0);
    send(&a, b"first", 0).unwrap();
    send(&a, b"", 0).unwrap();
    send(&a, b"third one", 0).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(b.ioctl(SIOCINQ, 0, &mut buf[..4]), Ok(0));
    assert_eq!(i32::from_ne_bytes(buf[..4].try_into().unwrap()), 5);
    assert_eq!(recv(&b, &mut buf, 0).map(|r| (r.len, r.flags)), Ok((5, 0)));
    assert_eq!(recv(&b, &mut buf, 0).map(|r| r.len), Ok(0), "an empty datagram");
    let mut small = [0u8; 3];
    assert_eq!(recv(&b, &mut small, MSG_PEEK | MSG_TRUNC).map(|r| (r.len, r.flags)), Ok((9, MSG_TRUNC)));
    assert_eq!(recv(&b, &mut small, 0).map(|r| (r.len, r.flags)), Ok((3, MSG_TRUNC)));
    assert_eq!(&small, b"thi");
    assert_eq!(recv(&b, &mut buf, 0), Err(Errno::EAGAIN), "the rest of it is gone");
}

#[test]
fn datagrams_larger_than_the_buffer_are_emsgsize() {
    let (a, _b) = pair(Kind::Dgram, 1, 0, 0);
    let big = vec![0u8; DEFAULT_BUF];
    assert_eq!(send(&a, &big, 0), Err(Errno::EMSGSIZE));
    assert_eq!(send(&a, &big[..DEFAULT_BUF - 32], 0), Ok(DEFAULT_BUF - 32));
    assert_eq!(send(&a, b"x", 0), Err(Errno::EAGAIN), "the buffer is used up");
}

#[test]
fn a_datagram_peer_that_closed_is_refused_then_gone() {
    let (a, b) = pair(Kind::Dgram, 1, 0, 0);
    drop(b);
    assert_eq!(send(&a, b"x", 0), Err(Errno::ECONNREFUSED));
    assert_eq!(send(&a, b"x", 0), Err(Errno::ENOTCONN));
    assert_eq!(a.peername(), Err(Errno::ENOTCONN));
}

#[test]
fn seqpackets_end_like_streams() {
    let (a, b) = pair(Kind::SeqPacket, 1, 0, 0);
    send(&a, b"rec", 0).unwrap();
    drop(a);
    let mut buf = [0u8; 8];
    assert_eq!(recv(&b, &mut buf, 0).map(|r| (r.len, r.flags)), Ok((3, 0)), "no MSG_EOR, as Linux");
    assert_eq!(recv(&b, &mut buf, 0).map(|r| r.len), Ok(0));
    assert_eq!(send(&b, b"x", 0), Err(Errno::EPIPE));
}

#[test]
fn a_stream_fills_up() {
    let (a, b) = stream();
    let chunk = vec![1u8; 65536];
    let mut total = 0;
    loop {
        match send(&a, &chunk, 0) {
            Ok(n) => total += n,
            Err(e) => {
                assert_eq!(e, Errno::EAGAIN);
                break;
            }
        }
        assert!(total < 4 * DEFAULT_BUF, "never full");
    }
    assert!(total >= DEFAULT_BUF);
    assert_eq!(a.poll(POLLOUT), 0);
    let mut sink = vec![0u8; total];
    assert_eq!(recv(&b, &mut sink, 0).map(|r| r.len), Ok(total));
    assert_eq!(a.poll(POLLOUT), POLLOUT);
}

#[test]
fn options() {
    let (a, _b) = stream();
    let mut v = [0u8; 16];
    let get = |name, v: &mut [u8]| a.getsockopt(SOL_SOCKET, name, v);
    assert_eq!(get(SO_TYPE, &mut v), Ok(4));
    assert_eq!(i32::from_ne_bytes(v[..4].try_into().unwrap()), SOCK_STREAM);
    assert_eq!(get(SO_SNDBUF, &mut v), Ok(4));
    assert_eq!(i32::from_ne_bytes(v[..4].try_into().unwrap()), DEFAULT_BUF as i32);
    a.setsockopt(SOL_SOCKET, SO_SNDBUF, &1000i32.to_ne_bytes()).unwrap();
    get(SO_SNDBUF, &mut v).unwrap();
    assert_eq!(i32::from_ne_bytes(v[..4].try_into().unwrap()), 4608, "doubled, at least the minimum");
    a.setsockopt(SOL_SOCKET, SO_SNDBUF, &100_000i32.to_ne_bytes()).unwrap();
    get(SO_SNDBUF, &mut v).unwrap();
    assert_eq!(i32::from_ne_bytes(v[..4].try_into().unwrap()), 200_000);
    assert_eq!(a.setsockopt(SOL_SOCKET, SO_SNDBUF, &[1, 0]), Err(Errno::EINVAL));
    assert_eq!(get(SO_PEERCRED, &mut v), Ok(12));
    assert_eq!(u32::from_ne_bytes(v[..4].try_into().unwrap()), 42);
    assert_eq!(get(SO_ERROR, &mut v[..2]), Ok(2), "a short buffer gets the start of the value");
    assert_eq!(get(999, &mut v), Err(Errno::ENOPROTOOPT));
    assert_eq!(a.getsockopt(6, 1, &mut v), Err(Errno::EOPNOTSUPP));
    assert_eq!(a.setsockopt(6, 1, &[0; 4]), Err(Errno::EOPNOTSUPP));
}

#[test]
fn names_and_connection_calls() {
    let (a, _b) = stream();
    assert_eq!(a.sockname().unwrap().as_bytes(), &(AF_UNIX as u16).to_ne_bytes());
    assert_eq!(a.peername().unwrap().len, 2);
    assert_eq!(a.listen(1), Err(Errno::EINVAL));
    assert_eq!(a.connect(&[2, 0, 0, 1], false), Err(Errno::EINVAL), "not an AF_UNIX name");
    assert_eq!(a.connect(&[1, 0, b'/'], false), Err(Errno::ENOSYS), "names are not supported");
    assert!(a.accept(true).is_err());
    assert_eq!(a.stat().unwrap().st_mode, crate::abi::mode::S_IFSOCK | 0o777);
    assert!(a.anon_name().unwrap().starts_with(b"socket:["));
}

fn file() -> Arc<OpenFile> {
    OpenFile::new(crate::eventfd::EventFd::new(0, false), crate::file::oflags::O_RDWR)
}

fn send_scm(s: &UnixSocket, data: &[u8], scm: &Scm) -> SysResult {
    s.sendmsg(&SendMsg { bufs: &[data], addr: None, control: &[], scm: Some(scm), flags: 0 }, true)
}

fn with_rights(files: &[&Arc<OpenFile>]) -> Scm {
    Scm { rights: files.iter().map(|f| Arc::clone(f)).collect(), creds: None }
}

/// A read: (count, text, number of files, credentials).
fn read_all(s: &UnixSocket, n: usize, flags: u32) -> (usize, alloc::string::String, usize, Option<Ucred>) {
    let mut buf = vec![0u8; n];
    let r = recv(s, &mut buf, flags).unwrap();
    let scm = r.scm.unwrap_or_default();
    (r.len, alloc::string::String::from_utf8_lossy(&buf[..r.len.min(n)]).into(), scm.rights.len(), scm.creds)
}

#[test]
fn a_stream_read_stops_after_the_segment_with_files() {
    let (a, b) = stream();
    let f = file();
    send(&a, b"aaa", 0).unwrap();
    send_scm(&a, b"bbb", &with_rights(&[&f])).unwrap();
    send(&a, b"ccc", 0).unwrap();
    assert_eq!(read_all(&b, 100, 0), (6, "aaabbb".into(), 1, None), "joined up to the files");
    assert_eq!(read_all(&b, 100, 0), (3, "ccc".into(), 0, None));

    send_scm(&a, b"dddd", &with_rights(&[&f])).unwrap();
    send(&a, b"eee", 0).unwrap();
    assert_eq!(read_all(&b, 2, 0), (2, "dd".into(), 1, None), "the files go with the first read");
    assert_eq!(read_all(&b, 100, 0), (5, "ddeee".into(), 0, None));

    send(&a, b"hhh", 0).unwrap();
    send_scm(&a, b"iii", &with_rights(&[&f, &f])).unwrap();
    assert_eq!(read_all(&b, 3, MSG_PEEK), (3, "hhh".into(), 2, None), "a peek walks on to the next files");
    assert_eq!(read_all(&b, 100, MSG_PEEK).2, 2, "copies: the files stay queued");
    assert_eq!(read_all(&b, 100, 0), (6, "hhhiii".into(), 2, None));
    assert_eq!(Arc::strong_count(&f), 1, "dropped reads close their files");

    assert_eq!(send_scm(&a, b"", &with_rights(&[&f])), Ok(0));
    assert_eq!(recv(&b, &mut [0u8; 4], 0), Err(Errno::EAGAIN), "a zero-length stream send carries nothing");
    assert_eq!(Arc::strong_count(&f), 1);
}

#[test]
fn datagrams_carry_their_own_files() {
    let (a, b) = pair(Kind::Dgram, 42, 1000, 100);
    let f = file();
    send_scm(&a, b"", &with_rights(&[&f])).unwrap();
    send_scm(&a, b"two", &with_rights(&[&f, &f])).unwrap();
    assert_eq!(read_all(&b, 8, MSG_PEEK), (0, "".into(), 1, None));
    assert_eq!(read_all(&b, 8, 0), (0, "".into(), 1, None), "an empty datagram brings its file");
    assert_eq!(read_all(&b, 1, 0), (1, "t".into(), 2, None));
    assert_eq!(Arc::strong_count(&f), 1);
}

#[test]
fn files_in_flight_close_with_the_receiver() {
    let (a, b) = stream();
    let f = file();
    send_scm(&a, b"x", &with_rights(&[&f])).unwrap();
    assert_eq!(Arc::strong_count(&f), 2, "kept open while queued");
    drop(b);
    assert_eq!(Arc::strong_count(&f), 1);
    // An end in flight to its own peer: closing the peer closes it too, with the pair's
    // lock released first.
    let (c, d) = stream();
    let d_file: Arc<OpenFile> = OpenFile::new(d.clone(), crate::file::oflags::O_RDWR);
    send_scm(&d, b"y", &with_rights(&[&d_file])).unwrap();
    let weak = Arc::downgrade(&d);
    drop((d_file, d));
    assert!(weak.upgrade().is_some(), "kept open in flight");
    drop(c);
    assert!(weak.upgrade().is_none());
}

#[test]
fn credentials_come_with_every_message_to_a_reader_that_passes_them() {
    let (a, b) = stream();
    let on = 1i32.to_ne_bytes();
    let mut v = [0u8; 4];
    assert_eq!(b.getsockopt(SOL_SOCKET, SO_PASSCRED, &mut v), Ok(4));
    assert_eq!(v, [0; 4]);
    send(&a, b"before", 0).unwrap();
    b.setsockopt(SOL_SOCKET, SO_PASSCRED, &on).unwrap();
    b.getsockopt(SOL_SOCKET, SO_PASSCRED, &mut v).unwrap();
    assert_eq!(i32::from_ne_bytes(v), 1);
    send(&a, b"after", 0).unwrap();
    let mine = Ucred { pid: 42, uid: 1000, gid: 100 };
    assert_eq!(read_all(&b, 100, 0), (6, "before".into(), 0, Some(Ucred::NOBODY)), "not joined with different ones");
    assert_eq!(read_all(&b, 100, 0), (5, "after".into(), 0, Some(mine)));
    let other = Ucred { pid: 42, uid: 1234, gid: 5678 };
    send(&a, b"k1", 0).unwrap();
    send_scm(&a, b"k2", &Scm { rights: Vec::new(), creds: Some(other) }).unwrap();
    send(&a, b"k3", 0).unwrap();
    assert_eq!(read_all(&b, 100, 0).3, Some(mine));
    assert_eq!(read_all(&b, 100, 0), (2, "k2".into(), 0, Some(other)));
    assert_eq!(read_all(&b, 100, 0), (2, "k3".into(), 0, Some(mine)));
    a.shutdown(SHUT_WR).unwrap();
    assert_eq!(read_all(&b, 100, 0), (0, "".into(), 0, Some(Ucred::ZERO)), "end of file: a zeroed cookie");

    let (c, d) = pair(Kind::SeqPacket, 42, 1000, 100);
    c.setsockopt(SOL_SOCKET, SO_PASSCRED, &on).unwrap();
    send(&c, b"m", 0).unwrap();
    assert_eq!(read_all(&d, 8, 0).3, None, "attached (the sender passes them) but not asked for");
    d.setsockopt(SOL_SOCKET, SO_PASSCRED, &on).unwrap();
    send(&c, b"n", 0).unwrap();
    assert_eq!(read_all(&d, 8, 0).3, Some(mine));
}

#[test]
fn raw_control_bytes_are_not_taken() {
    let (a, _b) = stream();
    let msg = SendMsg { bufs: &[b"x"], addr: None, control: &[0; 16], scm: None, flags: 0 };
    assert_eq!(a.sendmsg(&msg, true), Err(Errno::EOPNOTSUPP));
}

#[test]
fn small_writes_share_segments_but_files_start_their_own() {
    let (a, b) = stream();
    for _ in 0..1000 {
        send(&a, b"x", 0).unwrap();
    }
    let f = file();
    send_scm(&a, b"with", &with_rights(&[&f])).unwrap();
    send(&a, b"after", 0).unwrap();
    assert_eq!(b.pair.sides.lock()[b.me].queue.len(), 3, "the bytes, the files' segment, what came after");
    assert_eq!(read_all(&b, 2000, 0), (1004, "x".repeat(1000) + "with", 1, None));
    assert_eq!(read_all(&b, 2000, 0), (5, "after".into(), 0, None));
}
