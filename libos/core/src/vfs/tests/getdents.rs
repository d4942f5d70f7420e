//! `getdents64`: record layout, small buffers, resuming, and directories that change
//! while they are listed.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;

use super::super::file::whence::*;
use super::super::file::{dirent64_len, encode_dirent64};
use super::super::inode::DirEntry;
use super::*;

const DT_DIR: u8 = 4;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;

#[test]
fn records_are_laid_out_as_linux_dirent64() {
    assert_eq!(dirent64_len(1), 24);
    assert_eq!(dirent64_len(4), 24);
    assert_eq!(dirent64_len(5), 32);
    assert_eq!(dirent64_len(255), 280);
    let mut buf = [0xaau8; 32];
    let entry = DirEntry { ino: 0x0102_0304_0506_0708, kind: FileKind::Regular, name: b"hello", next: 9 };
    assert_eq!(encode_dirent64(&entry, &mut buf), 32);
    assert_eq!(&buf[0..8], &0x0102_0304_0506_0708u64.to_le_bytes());
    assert_eq!(&buf[8..16], &9i64.to_le_bytes());
    assert_eq!(&buf[16..18], &32u16.to_le_bytes());
    assert_eq!(buf[18], DT_REG);
    assert_eq!(&buf[19..24], b"hello");
    assert!(buf[24..].iter().all(|&b| b == 0), "NUL and padding");
}

#[test]
fn a_listing_has_dots_types_inodes_and_offsets() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.mkdir("/d/sub");
    fx.write_file("/d/file", b"");
    fx.symlink("file", "/d/link");
    let list = list_dir(&fx.open("/d", O_RDONLY | O_DIRECTORY).unwrap());
    let names: Vec<&[u8]> = list.iter().map(|e| e.name.as_slice()).collect();
    assert_eq!(names, [&b"."[..], b"..", b"sub", b"file", b"link"], "creation order");
    assert_eq!(list[0].ino, fx.ino("/d"));
    assert_eq!(list[1].ino, fx.ino("/"));
    assert_eq!(list[2].ino, fx.ino("/d/sub"));
    assert_eq!(list[3].ino, fx.ino("/d/file"));
    let kinds: Vec<u8> = list.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [DT_DIR, DT_DIR, DT_DIR, DT_REG, DT_LNK]);
    assert!(list.windows(2).all(|w| w[0].off < w[1].off), "d_off increases");
    // The root of a mount is its own `..` (the filesystem's view, as in Linux).
    let tmp = list_dir(&fx.open("/tmp", O_RDONLY).unwrap());
    assert_eq!((tmp[1].name.as_slice(), tmp[1].ino), (&b".."[..], tmp[0].ino));
}

#[test]
fn five_thousand_entries_through_small_buffers() {
    let fx = Fx::new();
    fx.mkdir("/tmp/big");
    let count = 5000;
    for i in 0..count {
        drop(fx.open(&format!("/tmp/big/file-{i:05}"), O_CREAT | O_WRONLY).unwrap());
    }
    let dir = fx.open("/tmp/big", O_RDONLY | O_DIRECTORY).unwrap();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut calls = 0;
    let mut last_off = -1i64;
    // Buffer sizes cycle from "one record" up; a "file-NNNNN" record is 32 bytes.
    let mut buf = vec![0u8; 200];
    loop {
        let size = 32 + (calls * 7) % 150;
        let n = dir.file.getdents64(&mut buf[..size]).unwrap();
        calls += 1;
        if n == 0 {
            break;
        }
        for e in parse_dirents(&buf[..n]) {
            assert!(e.off > last_off);
            last_off = e.off;
            if e.name != b"." && e.name != b".." {
                assert_eq!(e.kind, DT_REG);
            }
            seen.push(e.name);
        }
    }
    assert_eq!(seen.len(), count + 2);
    let unique: BTreeSet<Vec<u8>> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), count + 2, "every name exactly once");
    for i in 0..count {
        assert!(unique.contains(format!("file-{i:05}").as_bytes()));
    }
    assert!(calls > count / 6, "small buffers took many calls ({calls})");
    assert_eq!(dir.file.getdents64(&mut buf), Ok(0), "stays at the end");
    assert_eq!(fx.names("/tmp/big").len(), count);
    assert_eq!(fx.stat("/tmp/big").unwrap().st_size, (count as i64 + 2) * 20);
}

#[test]
fn a_buffer_too_small_for_the_next_record_is_einval() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/d/ten-chars", b"");
    let dir = fx.open("/d", O_RDONLY).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(err(dir.file.getdents64(&mut buf[..8])), Errno::EINVAL);
    assert_eq!(err(dir.file.getdents64(&mut buf[..0])), Errno::EINVAL);
    // "." and ".." need 24 bytes each; "ten-chars" needs 32.
    assert_eq!(dir.file.getdents64(&mut buf[..24]), Ok(24));
    assert_eq!(parse_dirents(&buf[..24])[0].name, b".");
    assert_eq!(dir.file.getdents64(&mut buf[..47]), Ok(24));
    assert_eq!(parse_dirents(&buf[..24])[0].name, b"..");
    assert_eq!(err(dir.file.getdents64(&mut buf[..31])), Errno::EINVAL);
    // The position did not move: a big enough buffer gets the entry.
    assert_eq!(dir.file.getdents64(&mut buf[..32]), Ok(32));
    assert_eq!(parse_dirents(&buf[..32])[0].name, b"ten-chars");
    assert_eq!(dir.file.getdents64(&mut buf[..8]), Ok(0), "at the end even a tiny buffer gets 0");
}

#[test]
fn d_off_resumes_and_zero_rewinds() {
    let fx = Fx::new();
    fx.mkdir("/d");
    for name in ["a", "b", "c", "d"] {
        fx.write_file(&format!("/d/{name}"), b"");
    }
    let dir = fx.open("/d", O_RDONLY).unwrap();
    let all = list_dir(&dir);
    assert_eq!(all.len(), 6);
    // Seeking to the d_off of an entry resumes right after it.
    dir.file.seek(all[2].off, SEEK_SET).unwrap();
    let rest = list_dir(&dir);
    assert_eq!(rest, all[3..].to_vec());
    dir.file.seek(0, SEEK_SET).unwrap();
    assert_eq!(list_dir(&dir), all);
    // The position reported after a listing is the last d_off.
    assert_eq!(dir.file.seek(0, SEEK_CUR), Ok(all[5].off as u64));
}

#[test]
fn changes_during_a_listing_never_repeat_or_skip_survivors() {
    let fx = Fx::new();
    fx.mkdir("/d");
    for i in 0..100 {
        fx.write_file(&format!("/d/{i:03}"), b"");
    }
    let dir = fx.open("/d", O_RDONLY).unwrap();
    let mut buf = vec![0u8; 24 * 30];
    let n = dir.file.getdents64(&mut buf).unwrap();
    let first = parse_dirents(&buf[..n]);
    let seen_first: BTreeSet<String> = first.iter().map(|e| String::from_utf8(e.name.clone()).unwrap()).collect();
    assert_eq!(seen_first.len(), 30);
    // Remove some listed and some unlisted names, add new ones, rename one ahead.
    for i in (0..100).step_by(3) {
        fx.vfs.unlink(CWD, format!("/d/{i:03}").as_bytes()).unwrap();
    }
    for i in 0..10 {
        fx.write_file(&format!("/d/new{i}"), b"");
    }
    fx.vfs.rename(CWD, b"/d/050", CWD, b"/d/renamed", 0).unwrap();
    let mut rest = Vec::new();
    loop {
        let n = dir.file.getdents64(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        rest.extend(parse_dirents(&buf[..n]).into_iter().map(|e| String::from_utf8(e.name).unwrap()));
    }
    let rest_set: BTreeSet<String> = rest.iter().cloned().collect();
    assert_eq!(rest_set.len(), rest.len(), "no repeats after the change");
    assert!(rest_set.is_disjoint(&seen_first), "nothing listed twice");
    for i in 0..100 {
        let name = format!("{i:03}");
        let removed = i % 3 == 0;
        if removed || i == 50 {
            assert!(!rest_set.contains(&name), "{name} is gone");
        } else if !seen_first.contains(&name) {
            assert!(rest_set.contains(&name), "survivor {name} listed");
        }
    }
    for i in 0..10 {
        assert!(rest_set.contains(&format!("new{i}")), "entries added later show up at the end");
    }
    assert!(rest_set.contains("renamed"));
}

#[test]
fn listing_a_removed_directory_is_enoent() {
    let fx = Fx::new();
    fx.mkdir("/d");
    let dir = fx.open("/d", O_RDONLY).unwrap();
    fx.vfs.rmdir(CWD, b"/d").unwrap();
    assert_eq!(err(dir.file.getdents64(&mut [0u8; 256])), Errno::ENOENT);
}

#[test]
fn concurrent_listers_each_see_everything() {
    extern crate std;
    let fx = Fx::new();
    fx.mkdir("/d");
    for i in 0..300 {
        fx.write_file(&format!("/d/{i}"), b"");
    }
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let dir = fx.open("/d", O_RDONLY).unwrap();
                s.spawn(move || list_dir(&dir).len())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(counts, [302; 4]);
}
