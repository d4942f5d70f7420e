//! The open-file object: positions, pread/pwrite, every lseek whence and its errors,
//! FIONREAD, directories.

use super::super::file::whence::*;
use super::super::file::FIONREAD;
use super::*;

const P: u64 = 4096;

#[test]
fn reads_and_writes_move_the_position() {
    let fx = Fx::new();
    let f = fx.open("/f", O_RDWR | O_CREAT).unwrap();
    assert_eq!(f.write(b"hello world"), Ok(11));
    assert_eq!(f.file.seek(0, SEEK_CUR), Ok(11));
    let mut buf = [0u8; 5];
    assert_eq!(f.read(&mut buf), Ok(0), "at the end");
    f.file.seek(6, SEEK_SET).unwrap();
    assert_eq!(f.read(&mut buf), Ok(5));
    assert_eq!(&buf, b"world");
    // pread/pwrite leave the position alone.
    assert_eq!(f.file.pread(&mut buf, 0), Ok(5));
    assert_eq!(&buf, b"hello");
    assert_eq!(f.file.pwrite(b"J", 0), Ok(1));
    assert_eq!(f.file.seek(0, SEEK_CUR), Ok(11));
    assert_eq!(fx.read_file("/f"), b"Jello world");
    assert_eq!(f.file.pread(&mut buf, 100), Ok(0));
    assert_eq!(f.read(&mut []), Ok(0));
}

#[test]
fn writing_past_the_end_leaves_a_hole_of_zeros() {
    let fx = Fx::new();
    let f = fx.open("/f", O_RDWR | O_CREAT).unwrap();
    f.file.seek(10_000, SEEK_SET).unwrap();
    assert_eq!(f.write(b"end"), Ok(3));
    let data = fx.read_file("/f");
    assert_eq!(data.len(), 10_003);
    assert!(data[..10_000].iter().all(|&b| b == 0));
    assert_eq!(&data[10_000..], b"end");
    let st = f.file.stat().unwrap();
    assert_eq!(st.st_blocks, 8, "only the page written to is stored");
}

#[test]
fn transfers_ending_past_i64_max_are_einval() {
    let fx = Fx::new();
    let f = fx.open("/f", O_RDWR | O_CREAT).unwrap();
    let max = i64::MAX as u64;
    assert_eq!(err(f.file.pwrite(b"xy", max - 1)), Errno::EINVAL);
    assert_eq!(err(f.file.pread(&mut [0u8; 2], max)), Errno::EINVAL);
    assert_eq!(f.file.pwrite(b"x", max - 1), Ok(1));
    assert_eq!(f.file.stat().unwrap().st_size, i64::MAX);
    assert_eq!(f.file.pwrite(b"", max), Ok(0));
    // At the tmpfs level, writing at the maximum size is EFBIG.
    let inode = f.file.dentry().unwrap().inode().clone();
    assert_eq!(err(inode.write_at(max, b"x")), Errno::EFBIG);
    assert_eq!(err(inode.truncate(max + 1)), Errno::EFBIG);
}

#[test]
fn lseek_set_cur_end_and_their_errors() {
    let fx = Fx::new();
    fx.write_file("/f", &[7u8; 100]);
    let f = fx.open("/f", O_RDONLY).unwrap();
    assert_eq!(f.file.seek(10, SEEK_SET), Ok(10));
    assert_eq!(f.file.seek(5, SEEK_CUR), Ok(15));
    assert_eq!(f.file.seek(-15, SEEK_CUR), Ok(0));
    assert_eq!(f.file.seek(-1, SEEK_END), Ok(99));
    assert_eq!(f.file.seek(50, SEEK_END), Ok(150), "past the end is allowed");
    assert_eq!(err(f.file.seek(-1, SEEK_SET)), Errno::EINVAL);
    assert_eq!(err(f.file.seek(-151, SEEK_CUR)), Errno::EINVAL);
    assert_eq!(err(f.file.seek(-101, SEEK_END)), Errno::EINVAL);
    assert_eq!(err(f.file.seek(i64::MAX, SEEK_CUR)), Errno::EINVAL, "overflow");
    assert_eq!(err(f.file.seek(0, 5)), Errno::EINVAL);
    // A failed seek leaves the position where it was.
    assert_eq!(f.file.seek(0, SEEK_CUR), Ok(150));
    assert_eq!(f.file.seek(i64::MAX, SEEK_SET), Ok(i64::MAX as u64));
}

#[test]
fn seek_data_and_seek_hole_on_a_sparse_file() {
    let fx = Fx::new();
    let f = fx.open("/f", O_RDWR | O_CREAT).unwrap();
    f.file.pwrite(b"head", 0).unwrap();
    f.file.pwrite(b"mid", 3 * P + 5).unwrap();
    f.file.pwrite(b"tail", 4 * P).unwrap();
    let end = 4 * P + 4;
    let seek = |off: i64, whence: u32| f.file.seek(off, whence);
    assert_eq!(seek(0, SEEK_DATA), Ok(0));
    assert_eq!(seek(2, SEEK_DATA), Ok(2));
    assert_eq!(seek(10, SEEK_HOLE), Ok(P));
    assert_eq!(seek(P as i64, SEEK_DATA), Ok(3 * P));
    assert_eq!(seek(P as i64 + 1, SEEK_HOLE), Ok(P + 1), "already in a hole");
    assert_eq!(seek(3 * P as i64, SEEK_HOLE), Ok(end), "pages 3 and 4 are contiguous data up to the end");
    assert_eq!(seek(end as i64 - 1, SEEK_DATA), Ok(end - 1));
    assert_eq!(err(seek(end as i64, SEEK_DATA)), Errno::ENXIO);
    assert_eq!(err(seek(end as i64, SEEK_HOLE)), Errno::ENXIO);
    assert_eq!(err(seek(-1, SEEK_DATA)), Errno::ENXIO);
    assert_eq!(err(seek(-1, SEEK_HOLE)), Errno::ENXIO);
    // Grown by truncate: the new tail is a hole up to the end, with no data in it.
    f.file.dentry().unwrap().inode().truncate(10 * P).unwrap();
    assert_eq!(seek(5 * P as i64, SEEK_HOLE), Ok(5 * P));
    assert_eq!(seek(4 * P as i64 + 10, SEEK_HOLE), Ok(5 * P));
    assert_eq!(err(seek(5 * P as i64, SEEK_DATA)), Errno::ENXIO);
    // SEEK_DATA/HOLE move the position.
    assert_eq!(f.file.seek(0, SEEK_CUR), Ok(5 * P));
}

#[test]
fn directories_seek_only_by_cookie() {
    let fx = Fx::new();
    fx.mkdir("/d");
    let d = fx.open("/d", O_RDONLY).unwrap();
    assert_eq!(d.file.seek(1, SEEK_SET), Ok(1));
    assert_eq!(d.file.seek(1, SEEK_CUR), Ok(2));
    assert_eq!(err(d.file.seek(0, SEEK_END)), Errno::EINVAL);
    assert_eq!(err(d.file.seek(0, SEEK_DATA)), Errno::EINVAL);
    assert_eq!(err(d.file.seek(0, SEEK_HOLE)), Errno::EINVAL);
    assert_eq!(err(d.file.seek(-1, SEEK_SET)), Errno::EINVAL);
    assert_eq!(err(d.file.seek(-3, SEEK_CUR)), Errno::EINVAL);
    let mut buf = [0u8; 16];
    assert_eq!(err(d.read(&mut buf)), Errno::EISDIR);
    assert_eq!(err(d.file.pread(&mut buf, 0)), Errno::EISDIR);
    assert_eq!(err(d.file.ioctl(FIONREAD, 0, &mut buf)), Errno::ENOTTY);
}

#[test]
fn getdents_on_a_file_is_enotdir() {
    let fx = Fx::new();
    fx.write_file("/f", b"x");
    let f = fx.open("/f", O_RDONLY).unwrap();
    assert_eq!(err(f.file.getdents64(&mut [0u8; 256])), Errno::ENOTDIR);
}

#[test]
fn fionread_is_what_is_left_to_read() {
    let fx = Fx::new();
    fx.write_file("/f", &[1u8; 1000]);
    let f = fx.open("/f", O_RDONLY).unwrap();
    let mut arg = [0u8; 4];
    assert_eq!(f.file.ioctl(FIONREAD, 0, &mut arg), Ok(0));
    assert_eq!(i32::from_ne_bytes(arg), 1000);
    f.file.seek(990, SEEK_SET).unwrap();
    f.file.ioctl(FIONREAD, 0, &mut arg).unwrap();
    assert_eq!(i32::from_ne_bytes(arg), 10);
    f.file.seek(2000, SEEK_SET).unwrap();
    f.file.ioctl(FIONREAD, 0, &mut arg).unwrap();
    assert_eq!(i32::from_ne_bytes(arg), 0);
    assert_eq!(err(f.file.ioctl(0x5401, 0, &mut arg)), Errno::ENOTTY);
}

#[test]
fn fstat_matches_stat_and_follows_changes() {
    let fx = Fx::new();
    let f = fx.open("/f", O_RDWR | O_CREAT).unwrap();
    f.write(b"12345").unwrap();
    assert_eq!(f.file.stat().unwrap(), fx.stat("/f").unwrap());
    assert_eq!(f.file.stat().unwrap().st_size, 5);
}

#[test]
fn threads_sharing_a_description_never_read_the_same_bytes() {
    extern crate std;
    let fx = Fx::new();
    let data: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 251) as u8).collect();
    fx.write_file("/f", &data);
    let f = fx.open("/f", O_RDONLY).unwrap();
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let f = f.clone();
                s.spawn(move || {
                    let mut total = 0;
                    let mut buf = [0u8; 333];
                    loop {
                        match f.read(&mut buf).unwrap() {
                            0 => return total,
                            n => total += n,
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(counts.iter().sum::<usize>(), data.len(), "every byte read exactly once");
}
