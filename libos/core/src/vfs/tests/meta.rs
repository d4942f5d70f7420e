//! Metadata: stat fields, timestamps, utimensat, chmod, chown, access, truncate.

use super::super::utime::{UTIME_NOW, UTIME_OMIT};
use crate::abi::mode::*;

use super::*;

const SEC: u64 = 1_000_000_000;

fn ts(sec: i64, nsec: i64) -> Timespec {
    Timespec { tv_sec: sec, tv_nsec: nsec }
}

#[test]
fn stat_of_each_kind() {
    let fx = Fx::new();
    fx.write_file("/f", &[1u8; 5000]);
    fx.mkdir("/d");
    fx.symlink("/f", "/l");
    let f = fx.stat("/f").unwrap();
    assert_eq!(f.st_mode, S_IFREG | 0o644);
    assert_eq!((f.st_size, f.st_blocks, f.st_blksize, f.st_nlink), (5000, 16, 4096, 1));
    assert_eq!((f.st_uid, f.st_gid, f.st_dev), (0, 0, fx.root_fs.dev()));
    let d = fx.stat("/d").unwrap();
    assert_eq!((d.st_mode, d.st_size, d.st_nlink), (S_IFDIR | 0o755, 40, 2));
    let l = fx.lstat("/l").unwrap();
    assert_eq!((l.st_mode, l.st_size), (S_IFLNK | 0o777, 2));
    assert_eq!(fx.stat("/l").unwrap(), f);
    assert_eq!(fx.stat("/tmp").unwrap().st_dev, fx.tmp_fs.dev());
    let md = fx.vfs.metadata(CWD, b"/f", true).unwrap();
    assert_eq!((md.kind, md.size), (FileKind::Regular, 5000));
    assert_eq!(md.to_stat(), f);
}

#[test]
fn sparse_files_use_only_the_pages_written() {
    let fx = Fx::new();
    fx.write_file("/s", b"");
    fx.vfs.truncate(CWD, b"/s", 1 << 30).unwrap();
    let st = fx.stat("/s").unwrap();
    assert_eq!((st.st_size, st.st_blocks), (1 << 30, 0));
    let f = fx.open("/s", O_RDWR).unwrap();
    f.file.pwrite(b"x", 512 << 20).unwrap();
    assert_eq!(fx.stat("/s").unwrap().st_blocks, 8);
    let mut buf = [9u8; 16];
    assert_eq!(f.file.pread(&mut buf, (512 << 20) - 8), Ok(16));
    assert_eq!(buf, [0, 0, 0, 0, 0, 0, 0, 0, b'x', 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn timestamps_follow_linux_rules() {
    let fx = Fx::new();
    fx.mkdir("/d");
    let t0 = fx.now();
    fx.write_file("/d/f", b"abc");
    let st = fx.stat("/d/f").unwrap();
    assert_eq!((st.st_atime, st.st_mtime, st.st_ctime), (t0.tv_sec, t0.tv_sec, t0.tv_sec));

    fx.tick(SEC);
    let t1 = fx.now();
    let f = fx.open("/d/f", O_RDWR).unwrap();
    f.write(b"x").unwrap();
    let st = fx.stat("/d/f").unwrap();
    assert_eq!((st.st_atime, st.st_mtime, st.st_ctime), (t0.tv_sec, t1.tv_sec, t1.tv_sec));

    // relatime: a read refreshes atime when it is not newer than mtime...
    fx.tick(SEC);
    let t2 = fx.now();
    f.read(&mut [0u8; 1]).unwrap();
    assert_eq!(fx.stat("/d/f").unwrap().st_atime, t2.tv_sec);
    // ... but not again within a day.
    fx.tick(SEC);
    f.file.pread(&mut [0u8; 1], 0).unwrap();
    assert_eq!(fx.stat("/d/f").unwrap().st_atime, t2.tv_sec);
    fx.tick(24 * 3600 * SEC);
    let t3 = fx.now();
    f.file.pread(&mut [0u8; 1], 0).unwrap();
    assert_eq!(fx.stat("/d/f").unwrap().st_atime, t3.tv_sec);

    // chmod changes ctime only; creating and removing names touch the directory.
    fx.tick(SEC);
    let t4 = fx.now();
    fx.vfs.chmod(CWD, b"/d/f", 0o600, true).unwrap();
    let st = fx.stat("/d/f").unwrap();
    assert_eq!((st.st_mtime, st.st_ctime), (t1.tv_sec, t4.tv_sec));
    fx.tick(SEC);
    let t5 = fx.now();
    fx.write_file("/d/g", b"");
    let d = fx.stat("/d").unwrap();
    assert_eq!((d.st_mtime, d.st_ctime), (t5.tv_sec, t5.tv_sec));
    fx.tick(SEC);
    let t6 = fx.now();
    fx.vfs.unlink(CWD, b"/d/g").unwrap();
    assert_eq!(fx.stat("/d").unwrap().st_mtime, t6.tv_sec);
    // A link changes the node's ctime.
    fx.tick(SEC);
    let t7 = fx.now();
    fx.vfs.link(&fx.lookup("/d/f"), CWD, b"/d/h").unwrap();
    assert_eq!(fx.stat("/d/f").unwrap().st_ctime, t7.tv_sec);
    // Nanoseconds are kept.
    fx.tick(123);
    fx.write_file("/d/ns", b"");
    assert_eq!(fx.stat("/d/ns").unwrap().st_mtime_nsec, 123);
}

#[test]
fn utimensat() {
    let fx = Fx::new();
    fx.write_file("/f", b"");
    fx.tick(10 * SEC);
    let now = fx.now();
    fx.vfs.utimens(CWD, b"/f", Some([ts(100, 5), ts(200, 6)]), true).unwrap();
    let st = fx.stat("/f").unwrap();
    assert_eq!((st.st_atime, st.st_atime_nsec, st.st_mtime, st.st_mtime_nsec), (100, 5, 200, 6));
    assert_eq!(st.st_ctime, now.tv_sec, "ctime becomes now");
    fx.vfs.utimens(CWD, b"/f", Some([ts(0, UTIME_OMIT), ts(0, UTIME_NOW)]), true).unwrap();
    let st = fx.stat("/f").unwrap();
    assert_eq!((st.st_atime, st.st_mtime), (100, now.tv_sec));
    fx.tick(SEC);
    fx.vfs.utimens(CWD, b"/f", None, true).unwrap();
    let st = fx.stat("/f").unwrap();
    assert_eq!((st.st_atime, st.st_mtime), (now.tv_sec + 1, now.tv_sec + 1));
    // Both omitted: nothing at all changes, not even ctime.
    fx.tick(SEC);
    fx.vfs.utimens(CWD, b"/f", Some([ts(0, UTIME_OMIT), ts(5, UTIME_OMIT)]), true).unwrap();
    assert_eq!(fx.stat("/f").unwrap().st_ctime, now.tv_sec + 1);
    // A bad tv_nsec is EINVAL before the path is looked at.
    for bad in [1_000_000_000, -1, UTIME_NOW + 1] {
        assert_eq!(err(fx.vfs.utimens(CWD, b"/missing", Some([ts(0, 0), ts(0, bad)]), true)), Errno::EINVAL);
    }
    assert_eq!(err(fx.vfs.utimens(CWD, b"/missing", None, true)), Errno::ENOENT);
    // AT_SYMLINK_NOFOLLOW sets the link's own times.
    fx.symlink("/f", "/l");
    fx.vfs.utimens(CWD, b"/l", Some([ts(1, 0), ts(2, 0)]), false).unwrap();
    assert_eq!(fx.lstat("/l").unwrap().st_mtime, 2);
    assert_eq!(fx.stat("/f").unwrap().st_mtime, now.tv_sec + 1);
    // futimens on an open file's dentry.
    let f = fx.open("/f", O_RDONLY).unwrap();
    fx.vfs.utimens_dentry(&f.file.dentry().unwrap(), Some([ts(7, 0), ts(8, 0)])).unwrap();
    assert_eq!(f.file.stat().unwrap().st_mtime, 8);
}

#[test]
fn chmod_keeps_the_type_and_refuses_symlinks_without_follow() {
    let fx = Fx::new();
    fx.write_file("/f", b"");
    fx.symlink("/f", "/l");
    fx.vfs.chmod(CWD, b"/f", 0o104751, true).unwrap();
    assert_eq!(fx.mode("/f"), S_IFREG | 0o4751);
    fx.vfs.chmod(CWD, b"/l", 0o600, true).unwrap();
    assert_eq!(fx.mode("/f"), S_IFREG | 0o600);
    assert_eq!(err(fx.vfs.chmod(CWD, b"/l", 0o600, false)), Errno::EOPNOTSUPP);
    assert_eq!(fx.mode("/l"), S_IFLNK | 0o777);
    assert_eq!(err(fx.vfs.chmod(CWD, b"/missing", 0o600, true)), Errno::ENOENT);
    let d = fx.lookup("/tmp");
    fx.vfs.chmod_dentry(&d, 0o700).unwrap();
    assert_eq!(fx.mode("/tmp"), S_IFDIR | 0o700);
}

#[test]
fn chown_sets_ids_and_drops_setuid() {
    let fx = Fx::new();
    fx.write_file("/f", b"");
    fx.mkdir("/d");
    fx.vfs.chown(CWD, b"/f", 1000, 100, true).unwrap();
    let st = fx.stat("/f").unwrap();
    assert_eq!((st.st_uid, st.st_gid), (1000, 100));
    fx.vfs.chown(CWD, b"/f", u32::MAX, 5, true).unwrap();
    let st = fx.stat("/f").unwrap();
    assert_eq!((st.st_uid, st.st_gid), (1000, 5));
    // Set-uid goes; set-gid goes only together with group-execute.
    fx.vfs.chmod(CWD, b"/f", 0o6755, true).unwrap();
    fx.vfs.chown(CWD, b"/f", 0, 0, true).unwrap();
    assert_eq!(fx.mode("/f"), S_IFREG | 0o755);
    fx.vfs.chmod(CWD, b"/f", 0o6745, true).unwrap();
    fx.vfs.chown(CWD, b"/f", u32::MAX, u32::MAX, true).unwrap();
    assert_eq!(fx.mode("/f"), S_IFREG | 0o2745);
    // Directories keep theirs.
    fx.vfs.chmod(CWD, b"/d", 0o2775, true).unwrap();
    fx.vfs.chown(CWD, b"/d", 1, 1, true).unwrap();
    assert_eq!(fx.mode("/d"), S_IFDIR | 0o2775);
    // lchown changes the link.
    fx.symlink("/f", "/l");
    fx.vfs.chown(CWD, b"/l", 42, 42, false).unwrap();
    assert_eq!(fx.lstat("/l").unwrap().st_uid, 42);
    assert_eq!(fx.stat("/l").unwrap().st_uid, 0);
}

#[test]
fn access_as_root() {
    use super::super::access::*;
    let fx = Fx::new();
    fx.write_file("/f", b"");
    fx.mkdir("/d");
    fx.symlink("/nowhere", "/dangling");
    fx.vfs.chmod(CWD, b"/f", 0o000, true).unwrap();
    fx.vfs.chmod(CWD, b"/d", 0o000, true).unwrap();
    fx.vfs.access(CWD, b"/f", F_OK, true).unwrap();
    fx.vfs.access(CWD, b"/f", R_OK | W_OK, true).unwrap();
    assert_eq!(err(fx.vfs.access(CWD, b"/f", X_OK, true)), Errno::EACCES);
    fx.vfs.access(CWD, b"/d", R_OK | W_OK | X_OK, true).unwrap();
    fx.vfs.chmod(CWD, b"/f", 0o010, true).unwrap();
    fx.vfs.access(CWD, b"/f", X_OK, true).unwrap();
    assert_eq!(err(fx.vfs.access(CWD, b"/missing", F_OK, true)), Errno::ENOENT);
    assert_eq!(err(fx.vfs.access(CWD, b"/f", 8, true)), Errno::EINVAL);
    assert_eq!(err(fx.vfs.access(CWD, b"/missing", 8, true)), Errno::EINVAL, "mode is checked first");
    assert_eq!(err(fx.vfs.access(CWD, b"/dangling", F_OK, true)), Errno::ENOENT);
    fx.vfs.access(CWD, b"/dangling", F_OK, false).unwrap();
    assert_eq!(err(fx.vfs.access(CWD, b"/f/", F_OK, true)), Errno::ENOTDIR);
}

#[test]
fn truncate_rules() {
    let fx = Fx::new();
    fx.write_file("/f", b"0123456789");
    fx.mkdir("/d");
    fx.symlink("/f", "/l");
    fx.vfs.mknod(CWD, b"/p", S_IFIFO | 0o644, 0).unwrap();
    assert_eq!(err(fx.vfs.truncate(CWD, b"/f", -1)), Errno::EINVAL);
    assert_eq!(err(fx.vfs.truncate(CWD, b"/missing", -1)), Errno::EINVAL);
    assert_eq!(err(fx.vfs.truncate(CWD, b"/missing", 0)), Errno::ENOENT);
    assert_eq!(err(fx.vfs.truncate(CWD, b"/d", 0)), Errno::EISDIR);
    assert_eq!(err(fx.vfs.truncate(CWD, b"/p", 0)), Errno::EINVAL);
    fx.vfs.truncate(CWD, b"/l", 4).unwrap();
    assert_eq!(fx.read_file("/f"), b"0123");
    // Shrinking drops the data for good: growing again reads zeros.
    fx.vfs.truncate(CWD, b"/f", 6).unwrap();
    assert_eq!(fx.read_file("/f"), b"0123\0\0");
    let d = fx.lookup("/f");
    fx.vfs.truncate_dentry(&d, 0).unwrap();
    assert_eq!(fx.stat("/f").unwrap().st_size, 0);
    assert_eq!(err(fx.vfs.truncate_dentry(&fx.lookup("/d"), 0)), Errno::EISDIR);
}

#[test]
fn truncate_across_page_boundaries_zeroes_the_tail() {
    let fx = Fx::new();
    fx.write_file("/f", &[0xffu8; 3 * 4096]);
    fx.vfs.truncate(CWD, b"/f", 4096 + 100).unwrap();
    assert_eq!(fx.stat("/f").unwrap().st_blocks, 16);
    fx.vfs.truncate(CWD, b"/f", 3 * 4096).unwrap();
    let data = fx.read_file("/f");
    assert!(data[..4196].iter().all(|&b| b == 0xff));
    assert!(data[4196..].iter().all(|&b| b == 0));
}
