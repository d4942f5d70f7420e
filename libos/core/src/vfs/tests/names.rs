//! Making and removing names: mkdir, mknod, rmdir, unlink, link, symlink, readlink.

use alloc::format;

use crate::abi::mode::*;

use super::*;

#[test]
fn mkdir_refuses_what_exists() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"");
    fx.symlink("/nowhere", "/dangling");
    for path in ["/d", "/d/", "/f", "/dangling", "/", ".", "..", "/d/.", "/d/..", "/tmp"] {
        assert_eq!(err(fx.vfs.mkdir(CWD, path.as_bytes(), 0o755)), Errno::EEXIST, "{path}");
    }
    assert_eq!(err(fx.stat("/nowhere")), Errno::ENOENT, "mkdir does not follow a dangling link");
    // A trailing slash is fine for mkdir.
    fx.vfs.mkdir(CWD, b"/e//", 0o755).unwrap();
    assert_eq!(fx.mode("/e"), S_IFDIR | 0o755);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/missing/x", 0o755)), Errno::ENOENT);
}

#[test]
fn directory_link_counts() {
    let fx = Fx::new();
    let root_links = fx.stat("/").unwrap().st_nlink;
    fx.mkdir("/d");
    assert_eq!(fx.stat("/").unwrap().st_nlink, root_links + 1);
    assert_eq!(fx.stat("/d").unwrap().st_nlink, 2);
    fx.mkdir("/d/a");
    fx.mkdir("/d/b");
    fx.write_file("/d/f", b"");
    assert_eq!(fx.stat("/d").unwrap().st_nlink, 4, "2 + one per subdirectory; files do not count");
    fx.vfs.rmdir(CWD, b"/d/a").unwrap();
    assert_eq!(fx.stat("/d").unwrap().st_nlink, 3);
}

#[test]
fn rmdir_errors() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.mkdir("/full");
    fx.write_file("/full/f", b"");
    fx.write_file("/f", b"");
    fx.symlink("/d", "/ld");
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/d/.")), Errno::EINVAL);
    assert_eq!(err(fx.vfs.rmdir(CWD, b".")), Errno::EINVAL);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/d/..")), Errno::ENOTEMPTY);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/")), Errno::EBUSY);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/f")), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/ld")), Errno::ENOTDIR, "the link is not followed");
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/ld/")), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/full")), Errno::ENOTEMPTY);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/missing")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/f/x")), Errno::ENOTDIR);
    fx.vfs.rmdir(CWD, b"/d/").unwrap();
    assert_eq!(err(fx.stat("/d")), Errno::ENOENT);
    assert_eq!(err(fx.stat("/ld")), Errno::ENOENT);
}

#[test]
fn unlink_errors() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"");
    fx.symlink("/f", "/lf");
    for path in ["/d", "/d/", "/", ".", "..", "/d/.", "/tmp"] {
        assert_eq!(err(fx.vfs.unlink(CWD, path.as_bytes())), Errno::EISDIR, "{path}");
    }
    assert_eq!(err(fx.vfs.unlink(CWD, b"/f/")), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.unlink(CWD, b"/missing/")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.unlink(CWD, b"/missing")), Errno::ENOENT);
    // Unlinking a symlink removes the link, not its target.
    fx.vfs.unlink(CWD, b"/lf").unwrap();
    assert!(fx.stat("/f").is_ok());
    assert_eq!(err(fx.lstat("/lf")), Errno::ENOENT);
    fx.vfs.unlink(CWD, b"/f").unwrap();
    assert_eq!(err(fx.stat("/f")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.unlink(CWD, b"/f")), Errno::ENOENT);
}

#[test]
fn an_unlinked_file_lives_on_while_open() {
    let fx = Fx::new();
    fx.write_file("/f", b"still here");
    let f = fx.open("/f", O_RDWR).unwrap();
    fx.vfs.unlink(CWD, b"/f").unwrap();
    assert_eq!(f.file.stat().unwrap().st_nlink, 0);
    let mut buf = [0u8; 32];
    assert_eq!(f.read(&mut buf), Ok(10));
    assert_eq!(f.write(b"!"), Ok(1));
    assert_eq!(f.file.pread(&mut buf, 0), Ok(11));
    assert_eq!(&buf[..11], b"still here!");
    // The name is free again, for a new node.
    fx.write_file("/f", b"new");
    assert_ne!(fx.ino("/f"), f.file.stat().unwrap().st_ino);
}

#[test]
fn hard_links_share_the_node_and_count_names() {
    let fx = Fx::new();
    fx.write_file("/f", b"shared");
    fx.mkdir("/d");
    let f = fx.lookup("/f");
    fx.vfs.link(&f, CWD, b"/d/g").unwrap();
    assert_eq!(fx.ino("/d/g"), fx.ino("/f"));
    assert_eq!(fx.stat("/f").unwrap().st_nlink, 2);
    fx.write_file("/d/g", b"changed");
    assert_eq!(fx.read_file("/f"), b"changed");
    fx.vfs.unlink(CWD, b"/f").unwrap();
    assert_eq!(fx.stat("/d/g").unwrap().st_nlink, 1);
    assert_eq!(fx.read_file("/d/g"), b"changed");
    // Errors.
    let g = fx.lookup("/d/g");
    assert_eq!(err(fx.vfs.link(&g, CWD, b"/d/g")), Errno::EEXIST);
    assert_eq!(err(fx.vfs.link(&g, CWD, b"/d")), Errno::EEXIST);
    assert_eq!(err(fx.vfs.link(&g, CWD, b"/d/.")), Errno::EEXIST);
    assert_eq!(err(fx.vfs.link(&g, CWD, b"/new/")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.link(&g, CWD, b"/missing/x")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.link(&fx.lookup("/d"), CWD, b"/d2")), Errno::EPERM);
    // A link to a symlink: the link itself, unless followed (AT_SYMLINK_FOLLOW).
    fx.symlink("/d/g", "/sl");
    let link_itself = fx.vfs.lookup(CWD, b"/sl", false).unwrap();
    fx.vfs.link(&link_itself, CWD, b"/sl2").unwrap();
    assert_eq!(fx.mode("/sl2") & S_IFMT, S_IFLNK);
    fx.vfs.link(&fx.lookup("/sl"), CWD, b"/g2").unwrap();
    assert_eq!(fx.ino("/g2"), fx.ino("/d/g"));
    assert_eq!(fx.stat("/d/g").unwrap().st_nlink, 2);
}

#[test]
fn a_fully_unlinked_file_cannot_be_linked_again() {
    let fx = Fx::new();
    fx.write_file("/f", b"");
    let f = fx.open("/f", O_RDONLY).unwrap();
    fx.vfs.unlink(CWD, b"/f").unwrap();
    assert_eq!(err(fx.vfs.link(&f.file.dentry().unwrap(), CWD, b"/back")), Errno::ENOENT);
}

#[test]
fn symlink_and_readlink() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"");
    fx.symlink("some/where", "/l");
    assert_eq!(fx.vfs.readlink(CWD, b"/l").unwrap(), b"some/where");
    let target = "t".repeat(PATH_MAX - 1);
    fx.symlink(&target, "/long");
    assert_eq!(fx.vfs.readlink(CWD, b"/long").unwrap(), target.as_bytes());
    assert_eq!(err(fx.vfs.symlink(format!("{target}t").as_bytes(), CWD, b"/too-long")), Errno::ENAMETOOLONG);
    assert_eq!(err(fx.vfs.symlink(b"x", CWD, b"/l")), Errno::EEXIST);
    assert_eq!(err(fx.vfs.symlink(b"x", CWD, b"/d")), Errno::EEXIST);
    assert_eq!(err(fx.vfs.symlink(b"x", CWD, b"/new/")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.symlink(b"x", CWD, b"/")), Errno::EEXIST);
    assert_eq!(err(fx.vfs.readlink(CWD, b"/f")), Errno::EINVAL);
    assert_eq!(err(fx.vfs.readlink(CWD, b"/d")), Errno::EINVAL);
    assert_eq!(err(fx.vfs.readlink(CWD, b"/missing")), Errno::ENOENT);
    // A trailing slash follows the link: readlink then sees what it points to.
    fx.symlink("/d", "/ld");
    assert_eq!(err(fx.vfs.readlink(CWD, b"/ld/")), Errno::EINVAL);
    // Links in the middle of the path are followed as usual.
    fx.symlink("x", "/d/inner");
    assert_eq!(fx.vfs.readlink(CWD, b"/ld/inner").unwrap(), b"x");
}

#[test]
fn mknod_types() {
    let fx = Fx::new();
    fx.vfs.mknod(CWD, b"/reg0", 0o644, 0).unwrap();
    fx.vfs.mknod(CWD, b"/reg", S_IFREG | 0o644, 0).unwrap();
    fx.vfs.mknod(CWD, b"/fifo", S_IFIFO | 0o644, 0).unwrap();
    fx.vfs.mknod(CWD, b"/sock", S_IFSOCK | 0o644, 0).unwrap();
    fx.vfs.mknod(CWD, b"/blk", S_IFBLK | 0o644, makedev(8, 0)).unwrap();
    assert_eq!(fx.mode("/reg0"), S_IFREG | 0o644);
    assert_eq!(fx.mode("/reg"), S_IFREG | 0o644);
    assert_eq!(fx.mode("/fifo"), S_IFIFO | 0o644);
    assert_eq!(fx.mode("/sock"), S_IFSOCK | 0o644);
    assert_eq!(fx.stat("/blk").unwrap().st_rdev, makedev(8, 0));
    assert_eq!(fx.stat("/fifo").unwrap().st_rdev, 0);
    // Directories are EPERM and unknown types EINVAL, before the path is looked at.
    assert_eq!(err(fx.vfs.mknod(CWD, b"/missing/d", S_IFDIR | 0o755, 0)), Errno::EPERM);
    assert_eq!(err(fx.vfs.mknod(CWD, b"/missing/l", S_IFLNK | 0o777, 0)), Errno::EINVAL);
    assert_eq!(err(fx.vfs.mknod(CWD, b"/missing/x", 0o170000, 0)), Errno::EINVAL);
    assert_eq!(err(fx.vfs.mknod(CWD, b"/fifo", S_IFIFO | 0o644, 0)), Errno::EEXIST);
    assert_eq!(err(fx.vfs.mknod(CWD, b"/x/", S_IFIFO | 0o644, 0)), Errno::ENOENT);
}

#[test]
fn makedev_matches_glibc() {
    assert_eq!(makedev(1, 3), 0x103);
    assert_eq!(makedev(0, 32), 0x20);
    assert_eq!(makedev(8, 0x123), 0x0010_0823);
    assert_eq!(makedev(0x1234, 5), 0x0000_1000_0002_3405);
}
