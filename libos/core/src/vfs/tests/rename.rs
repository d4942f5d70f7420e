//! `renameat2`: replacement rules, flags, subtrees, and the names that follow along.

use crate::abi::mode::*;

use super::*;

fn rename(fx: &Fx, old: &str, new: &str, flags: u32) -> Result<(), Errno> {
    fx.vfs.rename(CWD, old.as_bytes(), CWD, new.as_bytes(), flags)
}

#[test]
fn a_file_moves_and_keeps_its_node() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"data");
    let ino = fx.ino("/f");
    rename(&fx, "/f", "/d/g", 0).unwrap();
    assert_eq!(err(fx.stat("/f")), Errno::ENOENT);
    assert_eq!(fx.ino("/d/g"), ino);
    assert_eq!(fx.read_file("/d/g"), b"data");
    // To the same name: nothing happens.
    rename(&fx, "/d/g", "/d/g", 0).unwrap();
    assert_eq!(fx.ino("/d/g"), ino);
}

#[test]
fn replacing_a_file_drops_the_old_one() {
    let fx = Fx::new();
    fx.write_file("/a", b"new");
    fx.write_file("/b", b"old");
    let old = fx.open("/b", O_RDONLY).unwrap();
    rename(&fx, "/a", "/b", 0).unwrap();
    assert_eq!(fx.read_file("/b"), b"new");
    assert_eq!(err(fx.stat("/a")), Errno::ENOENT);
    // The replaced file lives on for whoever has it open, with no name left.
    assert_eq!(old.file.stat().unwrap().st_nlink, 0);
    let mut buf = [0u8; 8];
    assert_eq!(old.read(&mut buf), Ok(3));
    assert_eq!(&buf[..3], b"old");
    assert!(fx.vfs.path_of(&old.file.dentry().unwrap()).1, "shown as deleted");
}

#[test]
fn directory_and_file_replacement_rules() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.mkdir("/empty");
    fx.mkdir("/full");
    fx.write_file("/full/x", b"");
    fx.write_file("/f", b"");
    assert_eq!(err(rename(&fx, "/d", "/f", 0)), Errno::ENOTDIR);
    assert_eq!(err(rename(&fx, "/f", "/d", 0)), Errno::EISDIR);
    assert_eq!(err(rename(&fx, "/d", "/full", 0)), Errno::ENOTEMPTY);
    let d = fx.ino("/d");
    rename(&fx, "/d", "/empty", 0).unwrap();
    assert_eq!(fx.ino("/empty"), d);
    assert_eq!(err(fx.stat("/d")), Errno::ENOENT);
}

#[test]
fn a_directory_cannot_move_under_itself() {
    let fx = Fx::new();
    fx.mkdir("/a");
    fx.mkdir("/a/b");
    fx.mkdir("/a/b/c");
    assert_eq!(err(rename(&fx, "/a", "/a/x", 0)), Errno::EINVAL);
    assert_eq!(err(rename(&fx, "/a", "/a/b/c/x", 0)), Errno::EINVAL);
    assert_eq!(err(rename(&fx, "/a", "/a/b/c", 0)), Errno::EINVAL);
    assert_eq!(err(rename(&fx, "/a/b", "/a/b/c/x", RENAME_NOREPLACE)), Errno::EINVAL);
    // Over an ancestor of itself: the target is not empty.
    assert_eq!(err(rename(&fx, "/a/b/c", "/a", 0)), Errno::ENOTEMPTY);
    assert_eq!(err(rename(&fx, "/a/b/c", "/a/b", 0)), Errno::ENOTEMPTY);
    assert_eq!(err(rename(&fx, "/a/b/c", "/a", RENAME_EXCHANGE)), Errno::EINVAL);
    // Through a symlink, the same.
    fx.symlink("/a/b", "/lb");
    assert_eq!(err(rename(&fx, "/a", "/lb/x", 0)), Errno::EINVAL);
    // Sideways is fine.
    fx.mkdir("/z");
    rename(&fx, "/a/b", "/z/b", 0).unwrap();
    assert!(fx.stat("/z/b/c").is_ok());
}

#[test]
fn dots_and_the_root_are_busy() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"");
    assert_eq!(err(rename(&fx, "/d/.", "/e", 0)), Errno::EBUSY);
    assert_eq!(err(rename(&fx, "/d/..", "/e", 0)), Errno::EBUSY);
    assert_eq!(err(rename(&fx, "/", "/e", 0)), Errno::EBUSY);
    assert_eq!(err(rename(&fx, "/f", "/d/.", 0)), Errno::EBUSY);
    assert_eq!(err(rename(&fx, "/f", "/", 0)), Errno::EBUSY);
    assert_eq!(err(rename(&fx, "/f", "/d/..", RENAME_NOREPLACE)), Errno::EEXIST);
}

#[test]
fn missing_names() {
    let fx = Fx::new();
    fx.write_file("/f", b"");
    assert_eq!(err(rename(&fx, "/missing", "/x", 0)), Errno::ENOENT);
    assert_eq!(err(rename(&fx, "/f", "/missing/x", 0)), Errno::ENOENT);
    assert_eq!(err(rename(&fx, "/missing/f", "/x", 0)), Errno::ENOENT);
    assert_eq!(err(rename(&fx, "/f/x", "/x", 0)), Errno::ENOTDIR);
}

#[test]
fn trailing_slashes_demand_directories() {
    let fx = Fx::new();
    fx.write_file("/f", b"");
    fx.mkdir("/d");
    assert_eq!(err(rename(&fx, "/f/", "/g", 0)), Errno::ENOTDIR);
    assert_eq!(err(rename(&fx, "/f", "/g/", 0)), Errno::ENOTDIR);
    rename(&fx, "/d/", "/e/", 0).unwrap();
    assert!(fx.stat("/e").is_ok());
}

#[test]
fn noreplace() {
    let fx = Fx::new();
    fx.write_file("/a", b"a");
    fx.write_file("/b", b"b");
    assert_eq!(err(rename(&fx, "/a", "/b", RENAME_NOREPLACE)), Errno::EEXIST);
    assert_eq!(err(rename(&fx, "/a", "/a", RENAME_NOREPLACE)), Errno::EEXIST);
    rename(&fx, "/a", "/c", RENAME_NOREPLACE).unwrap();
    assert_eq!(fx.read_file("/c"), b"a");
    assert_eq!(fx.read_file("/b"), b"b");
}

#[test]
fn exchange_swaps_two_names() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.mkdir("/d/sub");
    fx.mkdir("/e");
    fx.write_file("/e/f", b"file");
    let (d, f) = (fx.ino("/d/sub"), fx.ino("/e/f"));
    rename(&fx, "/d/sub", "/e/f", RENAME_EXCHANGE).unwrap();
    assert_eq!(fx.ino("/d/sub"), f);
    assert_eq!(fx.ino("/e/f"), d);
    assert_eq!(fx.mode("/e/f") & S_IFMT, S_IFDIR);
    // The moved directory's `..` and the parents' link counts follow.
    assert_eq!(fx.ino("/e/f/.."), fx.ino("/e"));
    assert_eq!(fx.stat("/d").unwrap().st_nlink, 2);
    assert_eq!(fx.stat("/e").unwrap().st_nlink, 3);
    // Both must exist; flags that cannot go together are EINVAL.
    assert_eq!(err(rename(&fx, "/d/sub", "/e/none", RENAME_EXCHANGE)), Errno::ENOENT);
    assert_eq!(err(rename(&fx, "/d/sub", "/e/f", RENAME_EXCHANGE | RENAME_NOREPLACE)), Errno::EINVAL);
    assert_eq!(err(rename(&fx, "/d/sub", "/e/f", RENAME_EXCHANGE | RENAME_WHITEOUT)), Errno::EINVAL);
    // A trailing slash on a non-directory side is ENOTDIR.
    assert_eq!(err(rename(&fx, "/e/f", "/d/sub/", RENAME_EXCHANGE)), Errno::ENOTDIR);
    // Within one directory.
    fx.write_file("/d/x", b"x");
    fx.write_file("/d/y", b"y");
    rename(&fx, "/d/x", "/d/y", RENAME_EXCHANGE).unwrap();
    assert_eq!(fx.read_file("/d/x"), b"y");
    assert_eq!(fx.read_file("/d/y"), b"x");
}

#[test]
fn unknown_and_unsupported_flags_are_einval() {
    let fx = Fx::new();
    fx.write_file("/a", b"");
    assert_eq!(err(rename(&fx, "/a", "/b", 8)), Errno::EINVAL);
    assert_eq!(err(rename(&fx, "/a", "/b", 1 << 31)), Errno::EINVAL);
    // tmpfs here has no whiteouts: the filesystem says EINVAL.
    assert_eq!(err(rename(&fx, "/a", "/b", RENAME_WHITEOUT)), Errno::EINVAL);
    assert!(fx.stat("/a").is_ok());
}

#[test]
fn two_names_of_one_node_succeed_and_change_nothing() {
    let fx = Fx::new();
    fx.write_file("/f", b"");
    fx.vfs.link(&fx.lookup("/f"), CWD, b"/g").unwrap();
    rename(&fx, "/f", "/g", 0).unwrap();
    assert!(fx.stat("/f").is_ok());
    assert!(fx.stat("/g").is_ok());
    assert_eq!(fx.stat("/g").unwrap().st_nlink, 2);
}

#[test]
fn moving_a_directory_fixes_dotdot_and_link_counts() {
    let fx = Fx::new();
    fx.mkdir("/a");
    fx.mkdir("/b");
    fx.mkdir("/a/m");
    rename(&fx, "/a/m", "/b/m", 0).unwrap();
    assert_eq!(fx.ino("/b/m/.."), fx.ino("/b"));
    assert_eq!(fx.stat("/a").unwrap().st_nlink, 2);
    assert_eq!(fx.stat("/b").unwrap().st_nlink, 3);
    // Replacing an empty directory removes one subdirectory from the target's parent.
    fx.mkdir("/a/m2");
    rename(&fx, "/a/m2", "/b/m", 0).unwrap();
    assert_eq!(fx.stat("/a").unwrap().st_nlink, 2);
    assert_eq!(fx.stat("/b").unwrap().st_nlink, 3);
}

#[test]
fn names_in_use_follow_a_rename() {
    let fx = Fx::new();
    fx.mkdir("/a");
    fx.mkdir("/a/b");
    fx.write_file("/a/b/f", b"");
    let f = fx.open("/a/b/f", O_RDONLY).unwrap();
    let dir = fx.open("/a/b", O_RDONLY).unwrap();
    fx.vfs.chdir(CWD, b"/a/b").unwrap();
    rename(&fx, "/a", "/z", 0).unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/z/b");
    assert_eq!(fx.vfs.path_of(&f.file.dentry().unwrap()).0, b"/z/b/f");
    assert_eq!(fx.vfs.path_of(&dir.file.dentry().unwrap()).0, b"/z/b");
    rename(&fx, "/z/b/f", "/z/g", 0).unwrap();
    assert_eq!(fx.vfs.path_of(&f.file.dentry().unwrap()), (b"/z/g".to_vec(), false));
    // `..` from the cwd follows too.
    assert_eq!(fx.ino(".."), fx.ino("/z"));
    // Exchanged names swap.
    fx.mkdir("/p");
    fx.mkdir("/q");
    let p = fx.open("/p", O_RDONLY).unwrap();
    let q = fx.open("/q", O_RDONLY).unwrap();
    rename(&fx, "/p", "/q", RENAME_EXCHANGE).unwrap();
    assert_eq!(fx.vfs.path_of(&p.file.dentry().unwrap()).0, b"/q");
    assert_eq!(fx.vfs.path_of(&q.file.dentry().unwrap()).0, b"/p");
    // Relative lookups through the renamed directory work with new names only.
    assert_eq!(err(fx.stat("/a/b")), Errno::ENOENT);
    assert!(fx.stat("/z/b").is_ok());
}

#[test]
fn a_symlink_moves_as_a_link() {
    let fx = Fx::new();
    fx.write_file("/f", b"");
    fx.symlink("f", "/l");
    fx.mkdir("/d");
    rename(&fx, "/l", "/d/l", 0).unwrap();
    assert_eq!(fx.vfs.readlink(CWD, b"/d/l").unwrap(), b"f");
    // Relative targets now resolve from the new place.
    assert_eq!(err(fx.stat("/d/l")), Errno::ENOENT);
}

#[test]
fn rename_updates_directory_times() {
    let fx = Fx::new();
    fx.mkdir("/a");
    fx.mkdir("/b");
    fx.write_file("/a/f", b"");
    fx.tick(1_000_000_000);
    rename(&fx, "/a/f", "/b/f", 0).unwrap();
    let now = fx.now();
    for p in ["/a", "/b"] {
        let st = fx.stat(p).unwrap();
        assert_eq!((st.st_mtime, st.st_ctime), (now.tv_sec, now.tv_sec), "{p}");
    }
    assert_eq!(fx.stat("/b/f").unwrap().st_ctime, now.tv_sec);
}
