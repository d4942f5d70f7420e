//! What `stat`, `statfs`, `chmod`, `chown` and `utimensat` show and do on a FAT volume
//! through `libos::vfs`, as under a default Linux vfat mount.

mod common;

use common::fat::*;
use libos::abi::{mode, Timespec};
use libos::vfs::inode::magic::MSDOS_SUPER_MAGIC;
use libos::vfs::oflags::*;
use libos::Errno;

#[test]
fn modes_owners_and_link_counts_are_vfat_defaults() {
    let fx = Fat::new();
    assert_eq!(fx.stat("/").unwrap().st_mtime, 0, "vfat's root has no times until changed");
    fx.mkdir("/d");
    fx.mkdir("/d/sub1");
    fx.mkdir("/d/sub2");
    fx.write_file("/d/f", b"12345");
    let f = fx.stat("/d/f").unwrap();
    assert_eq!(f.st_mode, mode::S_IFREG | 0o755);
    assert_eq!((f.st_uid, f.st_gid, f.st_nlink, f.st_size), (UID, GID, 1, 5));
    assert_eq!(f.st_blksize, 512, "the cluster size");
    assert_eq!(f.st_blocks, 1);
    let d = fx.stat("/d").unwrap();
    assert_eq!(d.st_mode, mode::S_IFDIR | 0o755);
    assert_eq!(d.st_nlink, 4, "2 + subdirectories");
    assert_eq!(d.st_size % 512, 0);
    assert!(d.st_size >= 512);
    assert_eq!(fx.stat("/").unwrap().st_nlink, 3);
    assert_eq!(fx.stat("/").unwrap().st_mtime, START_SECS as i64);
    assert_eq!(f.st_dev, fx.stat("/").unwrap().st_dev);
}

#[test]
fn chmod_and_chown_accept_only_what_vfat_can_represent() {
    let fx = Fat::new();
    fx.write_file("/f", b"");
    fx.mkdir("/d");
    let chmod = |p: &str, m| fx.vfs.chmod(CWD, p.as_bytes(), m, true);
    chmod("/f", 0o755).unwrap();
    chmod("/f", 0o555).unwrap();
    assert_eq!(fx.stat("/f").unwrap().st_mode & 0o7777, 0o555);
    chmod("/f", 0o777).unwrap();
    assert_eq!(fx.stat("/f").unwrap().st_mode & 0o7777, 0o755);
    for bad in [0o644, 0o700, 0o4755, 0o1777] {
        assert_eq!(err(chmod("/f", bad)), Errno::EPERM, "{bad:o}");
    }
    chmod("/d", 0o755).unwrap();
    assert_eq!(err(chmod("/d", 0o555)), Errno::EPERM);
    let chown = |p: &str, u, g| fx.vfs.chown(CWD, p.as_bytes(), u, g, true);
    chown("/f", UID, GID).unwrap();
    chown("/f", u32::MAX, u32::MAX).unwrap();
    assert_eq!(err(chown("/f", 0, u32::MAX)), Errno::EPERM);
    assert_eq!(err(chown("/d", u32::MAX, 0)), Errno::EPERM);
}

#[test]
fn times_have_fat_granularity_and_survive_a_remount() {
    let fx = Fat::new();
    fx.tick(1); // an odd second
    fx.write_file("/f", b"x");
    let st = fx.stat("/f").unwrap();
    assert_eq!(st.st_mtime, (START_SECS + 1) as i64 - 1, "2-second modification times");
    assert_eq!(st.st_mtime_nsec, 0);
    assert_eq!(st.st_ctime, st.st_mtime);
    assert_eq!(st.st_atime % 86_400, 0, "access dates");

    let t = |s: i64, ns| Timespec { tv_sec: s, tv_nsec: ns };
    fx.vfs.utimens(CWD, b"/f", Some([t(1_600_000_123, 5), t(1_500_000_001, 999)]), true).unwrap();
    let st = fx.stat("/f").unwrap();
    assert_eq!((st.st_atime, st.st_mtime), (1_599_955_200, 1_500_000_000));
    fx.tick(10);
    fx.vfs.utimens(CWD, b"/f", Some([t(0, libos::vfs::utime::UTIME_OMIT), t(100, 0)]), true).unwrap();
    assert_eq!(fx.stat("/f").unwrap().st_mtime, 315_532_800, "FAT starts in 1980");

    fx.tick(100);
    let before = fx.stat("/f").unwrap();
    let f = fx.open("/f", O_WRONLY).unwrap();
    f.write(b"y").unwrap();
    let after = fx.stat("/f").unwrap();
    assert!(after.st_mtime > before.st_mtime);
    let fx = fx.remount();
    let again = fx.stat("/f").unwrap();
    assert_eq!((again.st_mtime, again.st_atime), (after.st_mtime, after.st_atime));
}

#[test]
fn inode_numbers_are_stable_while_entries_exist() {
    let fx = Fat::new();
    fx.mkdir("/d");
    for i in 0..20 {
        fx.write_file(&format!("/d/f{i}"), b"");
    }
    let inos: Vec<u64> = (0..20).map(|i| fx.ino(&format!("/d/f{i}"))).collect();
    let mut unique = inos.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 20);
    // Nothing holds the nodes between these stats; the numbers stay.
    for (i, &ino) in inos.iter().enumerate() {
        assert_eq!(fx.ino(&format!("/d/f{i}")), ino);
        assert_eq!(fx.ino(&format!("/D/F{i}")), ino);
    }
    // getdents64 reports the same numbers.
    let dir = fx.open("/d", O_RDONLY | O_DIRECTORY).unwrap();
    for e in list_dir(&dir) {
        let name = String::from_utf8(e.name).unwrap();
        let expected = match name.as_str() {
            "." => fx.ino("/d"),
            ".." => fx.ino("/"),
            n => fx.ino(&format!("/d/{n}")),
        };
        assert_eq!(e.ino, expected, "{name}");
    }
    fx.vfs.rename(CWD, b"/d/f3", CWD, b"/moved", 0).unwrap();
    assert_eq!(fx.ino("/moved"), inos[3]);
    // On a fresh mount of a volume, a directory listed and stat'ed agree as well.
    let fx = fx.remount();
    let a = fx.ino("/d/f7");
    assert_eq!(fx.names("/d").len(), 19);
    assert_eq!(fx.ino("/d/f7"), a);
}

#[test]
fn statfs_says_msdos_with_vfat_limits() {
    let fx = Fat::new();
    let st = fx.vfs.statfs(CWD, b"/").unwrap();
    assert_eq!(st.f_type, MSDOS_SUPER_MAGIC);
    assert_eq!((st.f_bsize, st.f_frsize), (512, 512));
    assert_eq!(st.f_namelen, 1530);
    assert!(st.f_blocks > 65_525 && st.f_bfree <= st.f_blocks && st.f_bavail == st.f_bfree);
    let free = st.f_bfree;
    fx.write_file("/f", &[1u8; 5000]);
    assert_eq!(fx.vfs.statfs(CWD, b"/").unwrap().f_bfree, free - 10);
    assert_eq!(fx.vfs.mounts()[0].fs_type, "vfat");
}
