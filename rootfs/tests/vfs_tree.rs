//! The tree of a FAT volume through `libos::vfs`: walking, creating, removing, renaming,
//! and vfat's names. Expected errnos are Linux vfat's.

mod common;

use common::fat::*;
use libos::vfs::oflags::*;
use libos::vfs::rename_flags::*;
use libos::Errno;

#[test]
fn paths_walk_through_directories() {
    let fx = Fat::new();
    fx.mkdir("/a");
    fx.mkdir("/a/b");
    fx.write_file("/a/b/c.txt", b"deep");
    assert_eq!(fx.read_file("/a/b/../b/./c.txt"), b"deep");
    assert_eq!(fx.ino("/a/b/.."), fx.ino("/a"));
    assert_eq!(fx.ino("/.."), fx.ino("/"));
    assert_eq!(fx.ino("/"), 1, "vfat's root is inode 1");
    assert_eq!(err(fx.stat("/a/missing/c.txt")), Errno::ENOENT);
    assert_eq!(err(fx.stat("/a/b/c.txt/x")), Errno::ENOTDIR);
    fx.vfs.chdir(CWD, b"/a/b").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/a/b");
    assert_eq!(fx.read_file("c.txt"), b"deep");
    fx.unmount_and_check();
}

#[test]
fn create_exclusive_and_existing() {
    let fx = Fat::new();
    fx.open("/f", O_WRONLY | O_CREAT | O_EXCL).unwrap();
    assert_eq!(err(fx.open("/f", O_WRONLY | O_CREAT | O_EXCL)), Errno::EEXIST);
    assert_eq!(err(fx.open("/F", O_WRONLY | O_CREAT | O_EXCL)), Errno::EEXIST, "names ignore case");
    fx.open("/F", O_WRONLY | O_CREAT).unwrap();
    assert_eq!(fx.names("/"), ["f"]);
    fx.mkdir("/d");
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/D", 0o755)), Errno::EEXIST);
    assert_eq!(err(fx.open("/d", O_WRONLY | O_CREAT)), Errno::EISDIR);
    assert_eq!(err(fx.vfs.mknod(CWD, b"/fifo", 0o10644, 0)), Errno::EPERM, "vfat has no mknod");
    assert_eq!(err(fx.vfs.symlink(b"/f", CWD, b"/link")), Errno::EPERM);
    let f = fx.vfs.lookup(CWD, b"/f", true).unwrap();
    assert_eq!(err(fx.vfs.link(&f, CWD, b"/hard")), Errno::EPERM);
}

#[test]
fn lookups_ignore_case_and_keep_the_stored_case() {
    let fx = Fat::new();
    fx.write_file("/Hello World.TXT", b"hi");
    assert_eq!(fx.read_file("/hello world.txt"), b"hi");
    assert_eq!(fx.ino("/HELLO WORLD.TXT"), fx.ino("/Hello World.TXT"));
    assert_eq!(fx.names("/"), ["Hello World.TXT"]);
    // FAT also answers to the 8.3 alias fatfs made for the long name.
    assert_eq!(fx.read_file("/HELLOW~1.TXT"), b"hi");
    // Trailing dots are dropped, as vfat drops them.
    assert_eq!(fx.read_file("/hello world.txt..."), b"hi");
    fx.write_file("/trail.", b"t");
    assert_eq!(fx.names("/"), ["Hello World.TXT", "trail"]);
}

#[test]
fn names_vfat_cannot_store_are_einval() {
    let fx = Fat::new();
    for bad in ["/a:b", "/a*b", "/what?", "/x\\y", "/p|q", "/<a>", "/q\"", "/tab\tname", "/space "] {
        assert_eq!(err(fx.open(bad, O_WRONLY | O_CREAT)), Errno::EINVAL, "{bad:?}");
        assert_eq!(err(fx.stat(bad)), Errno::ENOENT, "{bad:?}");
    }
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/bad\xff", 0o755)), Errno::EINVAL);
    assert_eq!(err(fx.open("/...", O_WRONLY | O_CREAT)), Errno::ENOENT);
    let long = "n".repeat(255);
    fx.write_file(&format!("/{long}"), b"long");
    assert_eq!(fx.read_file(&format!("/{}", long.to_uppercase())), b"long");
    assert_eq!(err(fx.open(&format!("/{long}x"), O_WRONLY | O_CREAT)), Errno::ENAMETOOLONG);
    let unicode = "Grüße, 世界 [1] & (2) + {3}; =";
    fx.write_file(&format!("/{unicode}"), b"u");
    assert_eq!(fx.read_file(&format!("/{}", unicode.to_uppercase())), b"u");
    fx.unmount_and_check();
}

#[test]
fn unlink_and_rmdir_errnos() {
    let fx = Fat::new();
    fx.mkdir("/d");
    fx.write_file("/d/f", b"x");
    fx.write_file("/g", b"y");
    assert_eq!(err(fx.vfs.unlink(CWD, b"/d")), Errno::EISDIR);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/g")), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/d")), Errno::ENOTEMPTY);
    assert_eq!(err(fx.vfs.unlink(CWD, b"/missing")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/missing")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/d/.")), Errno::EINVAL);
    fx.vfs.unlink(CWD, b"/D/F").unwrap();
    fx.vfs.rmdir(CWD, b"/D").unwrap();
    fx.vfs.unlink(CWD, b"/g").unwrap();
    assert!(fx.names("/").is_empty());
    let fx = fx.remount();
    assert!(fx.names("/").is_empty());
    fx.unmount_and_check();
}

#[test]
fn a_removed_working_directory_is_empty_and_dead() {
    let fx = Fat::new();
    fx.mkdir("/gone");
    fx.vfs.chdir(CWD, b"/gone").unwrap();
    fx.vfs.rmdir(CWD, b"/gone").unwrap();
    assert_eq!(err(fx.open("x", O_WRONLY | O_CREAT)), Errno::ENOENT);
    assert_eq!(err(fx.stat("x")), Errno::ENOENT);
    assert_eq!(fx.vfs.stat(CWD, b".", true).unwrap().st_nlink, 0);
    fx.vfs.chdir(CWD, b"/").unwrap();
    fx.mkdir("/gone");
    assert!(fx.names("/gone").is_empty());
}

#[test]
fn rename_replaces_and_refuses_as_linux_does() {
    let fx = Fat::new();
    fx.write_file("/a", b"A");
    fx.write_file("/b", b"B");
    fx.mkdir("/d");
    fx.mkdir("/e");
    fx.write_file("/e/inside", b"");
    fx.mkdir("/empty");
    let rename = |a: &str, b: &str, flags| fx.vfs.rename(CWD, a.as_bytes(), CWD, b.as_bytes(), flags);

    assert_eq!(err(rename("/a", "/b", RENAME_NOREPLACE)), Errno::EEXIST);
    assert_eq!(err(rename("/a", "/b", RENAME_EXCHANGE)), Errno::EINVAL);
    assert_eq!(err(rename("/d", "/e", 0)), Errno::ENOTEMPTY);
    assert_eq!(err(rename("/d", "/a", 0)), Errno::ENOTDIR);
    assert_eq!(err(rename("/a", "/d", 0)), Errno::EISDIR);
    assert_eq!(err(rename("/d", "/d/sub", 0)), Errno::EINVAL);
    assert_eq!(err(rename("/missing", "/z", 0)), Errno::ENOENT);

    let ino_a = fx.ino("/a");
    rename("/a", "/b", 0).unwrap();
    assert_eq!(fx.read_file("/b"), b"A");
    assert_eq!(fx.ino("/b"), ino_a, "a node keeps its number across a rename");
    assert_eq!(err(fx.stat("/a")), Errno::ENOENT);

    rename("/d", "/empty", 0).unwrap();
    rename("/b", "/empty/moved", RENAME_NOREPLACE).unwrap();
    assert_eq!(fx.read_file("/empty/moved"), b"A");
    // A name and another spelling of it are one node: nothing to do.
    rename("/empty/moved", "/empty/MOVED", 0).unwrap();
    assert_eq!(fx.names("/empty"), ["moved"]);
    let mut names = fx.names("/");
    names.sort();
    assert_eq!(names, ["e", "empty"]);

    let fx = fx.remount();
    assert_eq!(fx.read_file("/empty/moved"), b"A");
    assert_eq!(fx.read_file("/e/inside"), b"");
    fx.unmount_and_check();
}

#[test]
fn renamed_files_keep_working_through_open_descriptors() {
    let fx = Fat::new();
    fx.mkdir("/from");
    fx.mkdir("/to");
    let f = fx.open("/from/file", O_RDWR | O_CREAT).unwrap();
    f.write(b"before ").unwrap();
    fx.vfs.rename(CWD, b"/from/file", CWD, b"/to/file", 0).unwrap();
    f.write(b"after").unwrap();
    fx.vfs.rename(CWD, b"/from", CWD, b"/to/from", 0).unwrap();
    fx.write_file("/to/from/new", b"n");
    assert_eq!(fx.read_file("/to/file"), b"before after");
    let fx = fx.remount();
    assert_eq!(fx.read_file("/to/file"), b"before after");
    assert_eq!(fx.read_file("/to/from/new"), b"n");
    fx.unmount_and_check();
}

#[test]
fn directories_read_from_the_volume_move_with_their_dotdot() {
    let fx = Fat::new();
    fx.mkdir("/x");
    fx.mkdir("/x/y");
    fx.write_file("/x/y/f", b"f");
    fx.mkdir("/z");
    let fx = fx.remount();
    fx.vfs.rename(CWD, b"/x/y", CWD, b"/z/y", 0).unwrap();
    fx.vfs.rename(CWD, b"/z", CWD, b"/x/z", 0).unwrap();
    assert_eq!(fx.read_file("/x/z/y/f"), b"f");
    assert_eq!(fx.ino("/x/z/y/.."), fx.ino("/x/z"));
    fx.unmount_and_check();
}

#[cfg(feature = "std")]
#[test]
fn an_image_from_the_builder_mounts_and_checks_clean() {
    let mut b = unify_rootfs::ImageBuilder::new(None);
    b.add_file("/bin/tool", b"#!".to_vec()).unwrap();
    b.add_file("/usr/share/doc/Long Name Here.txt", b"doc".to_vec()).unwrap();
    b.add_dir("/var/empty").unwrap();
    let dev = std::sync::Arc::new(unify_rootfs::MemDevice::from_vec(b.build_in_memory().unwrap()));
    fsck(&dev);
    let fx = Fat::on(dev);
    assert_eq!(fx.read_file("/usr/share/doc/long name here.txt"), b"doc");
    assert_eq!(fx.ino("/usr/share/.."), fx.ino("/usr"));
    fx.vfs.rename(CWD, b"/usr/share", CWD, b"/var/empty/share", 0).unwrap();
    fx.mkdir("/var/empty/share/new");
    fx.unmount_and_check();
}
