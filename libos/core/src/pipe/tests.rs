//! The pipe ring and its ends: capacities, atomicity, packets, EOF/EPIPE, poll, FIFOs.

extern crate std;

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::abi::mode;
use crate::file::events::*;
use crate::file::File;

fn pair() -> (Arc<PipeEnd>, Arc<PipeEnd>) {
    PipeEnd::pair(Timespec { tv_sec: 5, tv_nsec: 6 }, 1000, 100, false)
}

#[test]
fn data_comes_out_in_order_and_a_read_takes_what_is_there() {
    let (r, w) = pair();
    assert_eq!(w.write(b"hello ", true), Ok(6));
    assert_eq!(w.write(b"world", true), Ok(5));
    let mut buf = [0u8; 64];
    assert_eq!(r.read(&mut buf[..3], true), Ok(3));
    assert_eq!(&buf[..3], b"hel");
    assert_eq!(r.read(&mut buf, true), Ok(8));
    assert_eq!(&buf[..8], b"lo world");
    assert_eq!(r.read(&mut buf, true), Err(Errno::EAGAIN));
}

#[test]
fn a_new_pipe_holds_64_kib_written_a_byte_at_a_time() {
    let (r, w) = pair();
    let mut n = 0;
    while w.write(b"x", true) == Ok(1) {
        n += 1;
    }
    assert_eq!(n, 65536);
    assert_eq!(w.write(b"x", true), Err(Errno::EAGAIN));
    assert_eq!(r.pipe().available(), 65536);
    assert_eq!(w.poll(POLLOUT), 0);
}

#[test]
fn the_sub_page_part_of_a_write_tops_up_the_last_buffer_first() {
    let (r, w) = pair();
    // Sixteen 1-byte writes of a page plus one fill all sixteen slots.
    let mut big = vec![b'a'; PIPE_BUF + 1];
    big[0] = b'b';
    for _ in 0..8 {
        assert_eq!(w.write(&big, true), Ok(PIPE_BUF + 1));
    }
    // 8 × (4096 + 1): the remainders merged into the previous page where they fit.
    assert_eq!(r.pipe().available(), 8 * (PIPE_BUF + 1));
    let free_slots = DEFAULT_SLOTS - r.pipe().state.lock().bufs.len();
    assert!(free_slots > 0);
    let mut buf = vec![0u8; 10];
    assert_eq!(r.read(&mut buf, true), Ok(10));
    assert_eq!(buf[0], b'b');
}

#[test]
fn nonblocking_writes_are_partial_above_pipe_buf_and_atomic_at_or_below() {
    let (_r, w) = pair();
    let data = vec![7u8; 70000];
    assert_eq!(w.write(&data, true), Ok(65536));
    let (_r2, w2) = pair();
    assert_eq!(w2.write(&vec![1u8; 65536 - 100], true), Ok(65536 - 100));
    // 100 bytes left in the last page: a 200-byte write does not fit in it and no
    // slot is free, so nothing is written.
    assert_eq!(w2.write(&[2u8; 200], true), Err(Errno::EAGAIN));
    assert_eq!(w2.write(&[2u8; 100], true), Ok(100));
}

#[test]
fn eof_when_the_writers_are_gone_and_epipe_when_the_readers_are() {
    let (r, w) = pair();
    w.write(b"ab", true).unwrap();
    drop(w);
    let mut buf = [0u8; 8];
    assert_eq!(r.read(&mut buf, false), Ok(2));
    assert_eq!(r.read(&mut buf, false), Ok(0));
    assert_eq!(r.poll(POLLIN | POLLHUP), POLLHUP);
    let (r, w) = pair();
    drop(r);
    assert_eq!(w.write(b"x", false), Err(Errno::EPIPE));
    assert_eq!(w.poll(POLLOUT | POLLERR), POLLOUT | POLLERR);
}

#[test]
fn empty_reads_and_writes_succeed_at_once() {
    let (r, w) = pair();
    assert_eq!(r.read(&mut [], false), Ok(0));
    assert_eq!(w.write(&[], false), Ok(0));
}

#[test]
fn poll_reports_each_side() {
    let (r, w) = pair();
    assert_eq!(r.poll(POLLIN | POLLRDNORM | POLLHUP | POLLERR), 0);
    assert_eq!(w.poll(POLLOUT | POLLWRNORM | POLLHUP | POLLERR), POLLOUT | POLLWRNORM);
    w.write(b"x", true).unwrap();
    assert_eq!(r.poll(POLLIN | POLLRDNORM), POLLIN | POLLRDNORM);
}

#[test]
fn packets_are_read_one_at_a_time_and_truncated() {
    let (r, w) = PipeEnd::pair(Timespec::ZERO, 0, 0, true);
    w.write(b"first", true).unwrap();
    w.write(b"second", true).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(r.read(&mut buf, true), Ok(5));
    assert_eq!(r.read(&mut buf[..3], true), Ok(3));
    assert_eq!(&buf[..3], b"sec");
    // The rest of "second" was dropped.
    assert_eq!(r.read(&mut buf, true), Err(Errno::EAGAIN));
    // Turning packet mode off: the next writes merge into stream data again.
    w.set_direct(false).unwrap();
    w.write(b"ab", true).unwrap();
    w.write(b"cd", true).unwrap();
    assert_eq!(r.read(&mut buf, true), Ok(4));
}

#[test]
fn set_capacity_rounds_and_refuses_as_linux() {
    let (r, w) = pair();
    let p = r.pipe();
    assert_eq!(p.capacity(), 65536);
    assert_eq!(p.set_capacity(1, false), Ok(4096));
    assert_eq!(p.set_capacity(5000, false), Ok(8192));
    assert_eq!(p.set_capacity(1 << 20, false), Ok(1 << 20));
    assert_eq!(p.set_capacity((1 << 20) + 1, false), Err(Errno::EPERM));
    assert_eq!(p.set_capacity((1 << 20) + 1, true), Ok(2 << 20));
    assert_eq!(p.set_capacity(u32::MAX, true), Err(Errno::EINVAL));
    assert_eq!(p.set_capacity(8192, false), Ok(8192));
    w.write(&[0u8; 8192], true).unwrap();
    assert_eq!(p.set_capacity(4096, false), Err(Errno::EBUSY));
    assert_eq!(w.write(b"x", true), Err(Errno::EAGAIN));
}

#[test]
fn fstat_and_names_of_an_anonymous_pipe() {
    let (r, w) = pair();
    let st = r.stat().unwrap();
    assert_eq!(st.st_mode, mode::S_IFIFO | 0o600);
    assert_eq!((st.st_nlink, st.st_uid, st.st_gid, st.st_size), (1, 1000, 100, 0));
    assert_eq!(st.st_ino, w.stat().unwrap().st_ino);
    assert_eq!(st.st_mtime, 5);
    let (r2, _w2) = pair();
    assert_ne!(r2.stat().unwrap().st_ino, st.st_ino);
    let name = r.anon_name().unwrap();
    assert_eq!(name, alloc::format!("pipe:[{}]", st.st_ino).into_bytes());
    assert_eq!(r.statfs().unwrap().f_type, crate::vfs::inode::magic::PIPEFS_MAGIC);
    assert_eq!(r.seek(0, 1), Err(Errno::ESPIPE));
    assert_eq!(r.pread(&mut [0u8; 1], 0), Err(Errno::ESPIPE));
}

#[test]
fn fionread_counts_the_bytes_on_both_ends() {
    let (r, w) = pair();
    w.write(&[1u8; 5000], true).unwrap();
    let mut out = [0u8; 4];
    assert_eq!(r.ioctl(0x541b, 0, &mut out), Ok(0));
    assert_eq!(i32::from_ne_bytes(out), 5000);
    assert_eq!(w.ioctl(0x541b, 0, &mut out), Ok(0));
    assert_eq!(i32::from_ne_bytes(out), 5000);
    assert_eq!(r.ioctl(0x5401, 0, &mut out), Err(Errno::ENOTTY));
}

#[test]
fn a_blocked_reader_is_woken_by_a_writer_in_another_thread() {
    let (r, w) = pair();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 16];
        let n = r.read(&mut buf, false).unwrap();
        (buf[..n].to_vec(), r.read(&mut buf, false))
    });
    std::thread::sleep(std::time::Duration::from_millis(20));
    w.write(b"wake", false).unwrap();
    drop(w);
    let (data, eof) = reader.join().unwrap();
    assert_eq!(data, b"wake");
    assert_eq!(eof, Ok(0));
}

#[test]
fn a_blocked_writer_finishes_once_a_reader_drains() {
    let (r, w) = pair();
    let total = 200_000;
    let writer = std::thread::spawn(move || w.write(&vec![9u8; total], false));
    let mut got = 0;
    let mut buf = vec![0u8; 7000];
    while got < total {
        got += r.read(&mut buf, false).unwrap();
    }
    assert_eq!(writer.join().unwrap(), Ok(total));
    assert_eq!(got, total);
}

#[test]
fn a_blocked_writer_gets_epipe_or_its_count_when_the_reader_goes() {
    let (r, w) = pair();
    w.write(&[0u8; 65536], true).unwrap();
    let writer = std::thread::spawn(move || w.write(b"more", false));
    std::thread::sleep(std::time::Duration::from_millis(20));
    drop(r);
    assert_eq!(writer.join().unwrap(), Err(Errno::EPIPE));
}

#[test]
fn pipe_buf_writes_from_two_threads_never_interleave() {
    let (r, w) = pair();
    let w2 = w.clone();
    let a = std::thread::spawn(move || {
        for _ in 0..50 {
            w.write(&[b'a'; PIPE_BUF], false).unwrap();
        }
    });
    let b = std::thread::spawn(move || {
        for _ in 0..50 {
            w2.write(&[b'b'; PIPE_BUF], false).unwrap();
        }
    });
    let mut data: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 3000];
    while data.len() < 100 * PIPE_BUF {
        let n = r.read(&mut buf, false).unwrap();
        data.extend_from_slice(&buf[..n]);
    }
    a.join().unwrap();
    b.join().unwrap();
    for chunk in data.chunks(PIPE_BUF) {
        assert!(chunk.iter().all(|&c| c == chunk[0]), "a PIPE_BUF write was split");
    }
}
