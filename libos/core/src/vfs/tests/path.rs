//! Path resolution: `.`, `..`, slashes, trailing slashes, lengths, symlinks, dirfds.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::*;

#[test]
fn dots_and_repeated_slashes() {
    let fx = Fx::new();
    fx.mkdir("/a");
    fx.mkdir("/a/b");
    let b = fx.ino("/a/b");
    assert_eq!(fx.ino("/a//b"), b);
    assert_eq!(fx.ino("///a/./b/"), b);
    assert_eq!(fx.ino("/a/b/../b/."), b);
    assert_eq!(fx.ino("/a/b/.//..//b//"), b);
    assert_eq!(fx.ino("//"), fx.ino("/"));
    assert_eq!(fx.ino("/."), fx.ino("/"));
    assert_eq!(fx.ino("/a/.."), fx.ino("/"));
}

#[test]
fn dotdot_at_the_root_stays_there() {
    let fx = Fx::new();
    fx.mkdir("/a");
    let root = fx.node("/");
    assert_eq!(fx.node("/.."), root);
    assert_eq!(fx.node("/../../.."), root);
    assert_eq!(fx.node("/../a/../.."), root);
    assert_eq!(fx.ino("/../../a"), fx.ino("/a"));
    fx.vfs.chdir(CWD, b"/").unwrap();
    assert_eq!(fx.node(".."), root);
}

#[test]
fn empty_path_is_enoent_everywhere() {
    let fx = Fx::new();
    assert_eq!(err(fx.stat("")), Errno::ENOENT);
    assert_eq!(err(fx.lstat("")), Errno::ENOENT);
    assert_eq!(err(fx.open("", O_RDONLY)), Errno::ENOENT);
    assert_eq!(err(fx.open("", O_CREAT | O_WRONLY)), Errno::ENOENT);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"", 0o755)), Errno::ENOENT);
    assert_eq!(err(fx.vfs.unlink(CWD, b"")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.rename(CWD, b"", CWD, b"/x", 0)), Errno::ENOENT);
    assert_eq!(err(fx.vfs.readlink(CWD, b"")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.chdir(CWD, b"")), Errno::ENOENT);
}

#[test]
fn trailing_slash_needs_a_directory() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"x");
    assert!(fx.stat("/d/").is_ok());
    assert!(fx.stat("/d//").is_ok());
    assert_eq!(err(fx.stat("/f/")), Errno::ENOTDIR);
    assert_eq!(err(fx.lstat("/f/")), Errno::ENOTDIR);
    assert_eq!(err(fx.stat("/f/.")), Errno::ENOTDIR);
    assert_eq!(err(fx.stat("/f/..")), Errno::ENOTDIR);
    assert_eq!(err(fx.stat("/missing/")), Errno::ENOENT);
    assert_eq!(err(fx.open("/f/", O_RDONLY)), Errno::ENOTDIR);
}

#[test]
fn a_file_in_the_middle_is_enotdir_a_hole_is_enoent() {
    let fx = Fx::new();
    fx.write_file("/f", b"x");
    assert_eq!(err(fx.stat("/f/x")), Errno::ENOTDIR);
    assert_eq!(err(fx.stat("/f/x/y")), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/f/x", 0o755)), Errno::ENOTDIR);
    assert_eq!(err(fx.open("/f/x", O_CREAT | O_WRONLY)), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.unlink(CWD, b"/f/x")), Errno::ENOTDIR);
    assert_eq!(err(fx.stat("/missing/x")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/missing/x", 0o755)), Errno::ENOENT);
}

#[test]
fn components_longer_than_name_max_are_enametoolong() {
    let fx = Fx::new();
    let ok = "n".repeat(NAME_MAX);
    let long = "n".repeat(NAME_MAX + 1);
    fx.mkdir(&format!("/{ok}"));
    assert!(fx.stat(&format!("/{ok}")).is_ok());
    fx.write_file(&format!("/{ok}/{ok}"), b"");
    assert_eq!(err(fx.stat(&format!("/{long}"))), Errno::ENAMETOOLONG);
    assert_eq!(err(fx.stat(&format!("/{long}/x"))), Errno::ENAMETOOLONG);
    assert_eq!(err(fx.vfs.mkdir(CWD, format!("/{long}").as_bytes(), 0o755)), Errno::ENAMETOOLONG);
    assert_eq!(err(fx.open(&format!("/{long}"), O_CREAT | O_WRONLY)), Errno::ENAMETOOLONG);
    assert_eq!(err(fx.vfs.symlink(b"t", CWD, format!("/{long}").as_bytes())), Errno::ENAMETOOLONG);
    assert_eq!(err(fx.vfs.unlink(CWD, format!("/{long}").as_bytes())), Errno::ENAMETOOLONG);
    // The walk stops at the first missing directory before it reaches the long name.
    assert_eq!(err(fx.stat(&format!("/missing/{long}"))), Errno::ENOENT);
}

#[test]
fn paths_of_path_max_bytes_are_enametoolong() {
    let fx = Fx::new();
    fx.mkdir("/a");
    // 2047 × "./" + "a" = 4095 bytes: the longest path Linux accepts.
    let longest = format!("{}a", "./".repeat(2047));
    assert_eq!(longest.len(), PATH_MAX - 1);
    assert_eq!(fx.ino(&longest), fx.ino("/a"));
    let too_long = format!("/{longest}");
    assert_eq!(err(fx.stat(&too_long)), Errno::ENAMETOOLONG);
    assert_eq!(err(fx.open(&too_long, O_RDONLY)), Errno::ENAMETOOLONG);
    assert_eq!(err(fx.vfs.mkdir(CWD, too_long.as_bytes(), 0o755)), Errno::ENAMETOOLONG);
    assert_eq!(err(fx.stat(&"/".repeat(PATH_MAX))), Errno::ENAMETOOLONG);
}

#[test]
fn symlinks_resolve_from_the_link_directory() {
    let fx = Fx::new();
    fx.mkdir("/a");
    fx.mkdir("/a/b");
    fx.write_file("/a/b/f", b"data");
    fx.symlink("b", "/a/rel");
    fx.symlink("/a/b", "/abs");
    fx.symlink("../a/b/f", "/a/up");
    assert_eq!(fx.ino("/a/rel"), fx.ino("/a/b"));
    assert_eq!(fx.ino("/abs/f"), fx.ino("/a/b/f"));
    assert_eq!(fx.ino("/a/up"), fx.ino("/a/b/f"));
    assert_eq!(fx.read_file("/a/rel/f"), b"data");
    // `..` after a symlink is the parent of the target, not of the link.
    assert_eq!(fx.ino("/abs/.."), fx.ino("/a"));
    assert_eq!(fx.ino("/a/rel/.."), fx.ino("/a"));
    // lstat sees the link itself: mode 0777, size = the target's length.
    let st = fx.lstat("/abs").unwrap();
    assert_eq!(st.st_mode, crate::abi::mode::S_IFLNK | 0o777);
    assert_eq!(st.st_size, 4);
}

#[test]
fn the_last_component_follows_only_when_asked_or_with_a_trailing_slash() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"x");
    fx.symlink("/d", "/ld");
    fx.symlink("/f", "/lf");
    fx.symlink("/nothing", "/dangling");
    let link = crate::abi::mode::S_IFLNK;
    assert_eq!(fx.mode("/ld") & crate::abi::mode::S_IFMT, link);
    assert_eq!(fx.lstat("/ld/").unwrap().st_ino, fx.ino("/d"));
    assert_eq!(err(fx.lstat("/lf/")), Errno::ENOTDIR);
    assert_eq!(err(fx.stat("/lf/")), Errno::ENOTDIR);
    assert_eq!(err(fx.stat("/dangling")), Errno::ENOENT);
    assert!(fx.lstat("/dangling").is_ok());
    assert_eq!(err(fx.lstat("/dangling/")), Errno::ENOENT);
}

#[test]
fn symlink_loops_are_eloop() {
    let fx = Fx::new();
    fx.symlink("loop2", "/loop1");
    fx.symlink("loop1", "/loop2");
    fx.symlink("self", "/self");
    fx.symlink("/dir-loop/x", "/dir-loop");
    for path in ["/loop1", "/loop2", "/self", "/loop1/x", "/dir-loop", "/self/"] {
        assert_eq!(err(fx.stat(path)), Errno::ELOOP, "{path}");
    }
    assert_eq!(err(fx.open("/loop1", O_RDONLY)), Errno::ELOOP);
    assert_eq!(err(fx.open("/loop1", O_CREAT | O_WRONLY)), Errno::ELOOP);
    assert_eq!(err(fx.vfs.chdir(CWD, b"/self")), Errno::ELOOP);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/self/x", 0o755)), Errno::ELOOP);
    // Not following the last component sees the link.
    assert!(fx.lstat("/loop1").is_ok());
    assert_eq!(fx.vfs.readlink(CWD, b"/loop1").unwrap(), b"loop2");
}

#[test]
fn forty_symlinks_resolve_the_forty_first_is_eloop() {
    let fx = Fx::new();
    fx.write_file("/f", b"end");
    // l1 -> f, l2 -> l1, ..., l41 -> l40.
    fx.symlink("f", "/l1");
    for i in 2..=41 {
        fx.symlink(&format!("l{}", i - 1), &format!("/l{i}"));
    }
    assert_eq!(fx.ino("/l40"), fx.ino("/f"));
    assert_eq!(fx.read_file("/l40"), b"end");
    assert_eq!(err(fx.stat("/l41")), Errno::ELOOP);
    // The budget is per resolution: links in the middle count too.
    fx.mkdir("/d");
    fx.symlink("/d", "/d1");
    for i in 2..=41 {
        fx.symlink(&format!("/d{}", i - 1), &format!("/d{i}"));
    }
    assert!(fx.stat("/d40/.").is_ok());
    assert_eq!(err(fx.stat("/d41/.")), Errno::ELOOP);
    // 20 + 20 links in one path are fine, 20 + 21 are not.
    let mut w = super::super::path::Walker::new(fx.vfs.root());
    w.resolve(&fx.vfs.root(), b"/d20/../l20", true).unwrap();
    assert_eq!(w.links_followed(), 40);
    assert_eq!(err(fx.stat("/d20/../l21")), Errno::ELOOP);
}

#[test]
fn symlinks_with_trailing_slashes_and_empty_targets() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"");
    // A target ending in "/" must itself be a directory.
    fx.symlink("/f/", "/to-f-slash");
    fx.symlink("/d/", "/to-d-slash");
    assert_eq!(err(fx.stat("/to-f-slash")), Errno::ENOTDIR);
    assert_eq!(fx.ino("/to-d-slash"), fx.ino("/d"));
    // Linux refuses to make a symlink with an empty target.
    assert_eq!(err(fx.vfs.symlink(b"", CWD, b"/empty")), Errno::ENOENT);
    // A link to "/" resolves to the root.
    fx.symlink("/", "/to-root");
    assert_eq!(fx.ino("/to-root"), fx.ino("/"));
    assert_eq!(fx.ino("/to-root/d"), fx.ino("/d"));
}

#[test]
fn dirfds_anchor_relative_paths_only() {
    let fx = Fx::new();
    fx.mkdir("/a");
    fx.write_file("/a/f", b"");
    let a = At::Dir(fx.lookup("/a"));
    let f = At::Dir(fx.vfs.lookup(CWD, b"/a/f", true).unwrap());
    assert_eq!(fx.vfs.stat(&a, b"f", true).unwrap().st_ino, fx.ino("/a/f"));
    assert_eq!(fx.vfs.stat(&a, b".", true).unwrap().st_ino, fx.ino("/a"));
    assert_eq!(fx.vfs.stat(&a, b"..", true).unwrap().st_ino, fx.ino("/"));
    // A dirfd that is not a directory: ENOTDIR for relative paths, ignored for
    // absolute ones.
    assert_eq!(err(fx.vfs.stat(&f, b"x", true)), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.stat(&f, b".", true)), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.open(&f, b"x", O_CREAT | O_WRONLY, 0o644)), Errno::ENOTDIR);
    assert_eq!(fx.vfs.stat(&f, b"/a", true).unwrap().st_ino, fx.ino("/a"));
    fx.vfs.mkdir(&a, b"sub", 0o755).unwrap();
    assert!(fx.stat("/a/sub").is_ok());
}

#[test]
fn lookup_parent_classifies_the_last_component() {
    let fx = Fx::new();
    fx.mkdir("/a");
    let p = fx.vfs.lookup_parent(CWD, b"/a//b//").unwrap();
    assert_eq!(p.last, Last::Name(b"b".to_vec()));
    assert!(p.trailing_slash);
    assert_eq!(p.dir.name(), b"a");
    let p = fx.vfs.lookup_parent(CWD, b"/a/.").unwrap();
    assert_eq!((p.last, p.trailing_slash), (Last::Dot, false));
    let p = fx.vfs.lookup_parent(CWD, b"a/..").unwrap();
    assert_eq!(p.last, Last::DotDot);
    let p = fx.vfs.lookup_parent(CWD, b"///").unwrap();
    assert_eq!(p.last, Last::Root);
    // The parent must exist and be a directory.
    assert_eq!(err(fx.vfs.lookup_parent(CWD, b"/missing/b")), Errno::ENOENT);
}

#[test]
fn cwd_relative_resolution_and_getcwd() {
    let fx = Fx::new();
    fx.mkdir("/a");
    fx.mkdir("/a/b");
    fx.write_file("/a/f", b"");
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/");
    fx.vfs.chdir(CWD, b"/a/b").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/a/b");
    assert_eq!(fx.ino("../f"), fx.ino("/a/f"));
    fx.vfs.chdir(CWD, b"..").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/a");
    assert_eq!(err(fx.vfs.chdir(CWD, b"f")), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.chdir(CWD, b"missing")), Errno::ENOENT);
    assert_eq!(err(fx.vfs.fchdir(&fx.lookup("/a/f"))), Errno::ENOTDIR);
    // Through a symlink, getcwd reports the real path.
    fx.symlink("/a/b", "/lb");
    fx.vfs.chdir(CWD, b"/lb").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/a/b");
    fx.vfs.fchdir(&fx.vfs.root()).unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/");
}

#[test]
fn getcwd_of_a_removed_directory_is_enoent() {
    let fx = Fx::new();
    fx.mkdir("/gone");
    fx.vfs.chdir(CWD, b"/gone").unwrap();
    fx.vfs.rmdir(CWD, b"/gone").unwrap();
    assert_eq!(err(fx.vfs.getcwd()), Errno::ENOENT);
    // The directory still exists for us, empty and unlinked; nothing can be made in it.
    let st = fx.stat(".").unwrap();
    assert_eq!(st.st_nlink, 0);
    assert_eq!(err(fx.open("x", O_CREAT | O_WRONLY)), Errno::ENOENT);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"x", 0o755)), Errno::ENOENT);
    assert_eq!(err(fx.stat("x")), Errno::ENOENT);
    // `..` still leads back.
    assert_eq!(fx.ino(".."), fx.ino("/"));
}

#[test]
fn path_of_names_open_files_and_marks_deleted_ones() {
    let fx = Fx::new();
    fx.mkdir("/tmp/d");
    fx.write_file("/tmp/d/f", b"x");
    let f = fx.open("/tmp/d/f", O_RDONLY).unwrap();
    let d = f.file.dentry().unwrap();
    assert_eq!(fx.vfs.path_of(&d), (b"/tmp/d/f".to_vec(), false));
    fx.vfs.unlink(CWD, b"/tmp/d/f").unwrap();
    assert_eq!(fx.vfs.path_of(&d), (b"/tmp/d/f".to_vec(), true));
    let names: Vec<String> = fx.names("/tmp/d");
    assert!(names.is_empty());
}
