//! Mounts: crossing in and out, EXDEV, EBUSY, made-up mount points, read-only mounts,
//! statfs and the mount table.

use alloc::vec;

use super::super::inode::magic;
use super::super::mount::st;
use super::*;

#[test]
fn a_mount_shadows_its_mount_point() {
    let (clock, _time) = test_clock();
    let root_fs = TmpFs::new(clock.clone());
    let vfs = Vfs::new(root_fs.clone(), MountFlags::default(), b"rootfs", clock.clone());
    vfs.mkdir(CWD, b"/mnt", 0o755).unwrap();
    let f = vfs.open(CWD, b"/mnt/under", O_CREAT | O_WRONLY, 0o644).unwrap();
    drop(f);
    let other = TmpFs::new(clock);
    vfs.mount(b"/mnt", other.clone(), MountFlags::default(), b"none").unwrap();
    assert_eq!(err(vfs.stat(CWD, b"/mnt/under", true)), Errno::ENOENT);
    let st = vfs.stat(CWD, b"/mnt", true).unwrap();
    assert_eq!(st.st_dev, other.dev());
    assert_ne!(st.st_dev, root_fs.dev());
    assert_eq!(st.st_mode, crate::abi::mode::S_IFDIR | 0o1777);
}

#[test]
fn dotdot_leaves_a_mount_for_the_parent_mount() {
    let fx = Fx::new();
    fx.mkdir("/tmp/x");
    fx.mkdir("/tmp/x/y");
    let root = fx.node("/");
    assert_eq!(fx.node("/tmp/.."), root);
    assert_eq!(fx.node("/tmp/x/../.."), root);
    assert_eq!(fx.node("/tmp/../tmp/x"), fx.node("/tmp/x"));
    fx.vfs.chdir(CWD, b"/tmp/x/y").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/tmp/x/y");
    assert_eq!(fx.node("../../.."), root);
    fx.vfs.chdir(CWD, b"../..").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/tmp");
    assert_eq!(fx.node("."), (fx.tmp_fs.dev(), 1));
    fx.vfs.chdir(CWD, b"..").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/");
    // A symlink on one filesystem into the other.
    fx.symlink("/tmp/x", "/tx");
    assert_eq!(fx.node("/tx/.."), fx.node("/tmp"));
    assert_eq!(fx.node("/tx/../.."), root);
}

#[test]
fn rename_and_link_across_mounts_are_exdev() {
    let fx = Fx::new();
    fx.write_file("/f", b"x");
    fx.mkdir("/d");
    fx.write_file("/tmp/g", b"y");
    assert_eq!(err(fx.vfs.rename(CWD, b"/f", CWD, b"/tmp/f", 0)), Errno::EXDEV);
    assert_eq!(err(fx.vfs.rename(CWD, b"/d", CWD, b"/tmp/d", 0)), Errno::EXDEV);
    assert_eq!(err(fx.vfs.rename(CWD, b"/tmp/g", CWD, b"/g", 0)), Errno::EXDEV);
    // EXDEV comes before the source is even looked up.
    assert_eq!(err(fx.vfs.rename(CWD, b"/missing", CWD, b"/tmp/x", 0)), Errno::EXDEV);
    let f = fx.lookup("/f");
    assert_eq!(err(fx.vfs.link(&f, CWD, b"/tmp/f")), Errno::EXDEV);
    // ... but an existing target is EEXIST first, as in Linux's linkat.
    assert_eq!(err(fx.vfs.link(&f, CWD, b"/tmp/g")), Errno::EEXIST);
    // Within one mount, fine.
    fx.vfs.rename(CWD, b"/tmp/g", CWD, b"/tmp/h", 0).unwrap();
    fx.vfs.link(&fx.lookup("/tmp/h"), CWD, b"/tmp/i").unwrap();
}

#[test]
fn mount_points_are_busy() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"");
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/tmp")), Errno::EBUSY);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/tmp/")), Errno::EBUSY);
    assert_eq!(err(fx.vfs.rename(CWD, b"/tmp", CWD, b"/tmp2", 0)), Errno::EBUSY);
    assert_eq!(err(fx.vfs.rename(CWD, b"/d", CWD, b"/tmp", 0)), Errno::EBUSY);
    assert_eq!(err(fx.vfs.rename(CWD, b"/d", CWD, b"/tmp", RENAME_EXCHANGE)), Errno::EBUSY);
    assert_eq!(err(fx.vfs.rename(CWD, b"/f", CWD, b"/tmp", 0)), Errno::EISDIR);
    assert_eq!(err(fx.vfs.unlink(CWD, b"/tmp")), Errno::EISDIR);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/tmp", 0o755)), Errno::EEXIST);
    // The root of the mount, seen from inside, is not a name in its parent.
    fx.vfs.chdir(CWD, b"/tmp").unwrap();
    assert_eq!(err(fx.vfs.rmdir(CWD, b".")), Errno::EINVAL);
    assert_eq!(err(fx.vfs.rename(CWD, b".", CWD, b"x", 0)), Errno::EBUSY);
}

#[test]
fn a_mount_point_the_filesystem_lacks_is_made_up() {
    let fx = Fx::new();
    let proc_fs = TmpFs::new(fx.clock.clone());
    fx.vfs.mount(b"/proc", proc_fs.clone(), MountFlags::default(), b"proc").unwrap();
    assert_eq!(fx.stat("/proc").unwrap().st_dev, proc_fs.dev());
    fx.write_file("/proc/cpuinfo", b"cpu");
    assert_eq!(fx.read_file("/proc/cpuinfo"), b"cpu");
    assert_eq!(fx.node("/proc/.."), fx.node("/"));
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/proc", 0o755)), Errno::EEXIST);
    assert_eq!(err(fx.open("/proc", O_CREAT | O_EXCL | O_WRONLY)), Errno::EEXIST);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/proc")), Errno::EBUSY);
    fx.vfs.chdir(CWD, b"/proc").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/proc");
    // Mount points need an existing parent, and a directory if they exist.
    assert_eq!(err(fx.vfs.mount(b"/nope/x", TmpFs::new(fx.clock.clone()), MountFlags::default(), b"")), Errno::ENOENT);
    fx.write_file("/file", b"");
    assert_eq!(err(fx.vfs.mount(b"/file", TmpFs::new(fx.clock.clone()), MountFlags::default(), b"")), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.mount(b"/", TmpFs::new(fx.clock.clone()), MountFlags::default(), b"")), Errno::EBUSY);
}

#[test]
fn mounts_stack_and_the_top_one_is_seen() {
    let fx = Fx::new();
    fx.write_file("/tmp/lower", b"");
    let upper = TmpFs::new(fx.clock.clone());
    fx.vfs.mount(b"/tmp", upper.clone(), MountFlags::default(), b"upper").unwrap();
    assert_eq!(fx.stat("/tmp").unwrap().st_dev, upper.dev());
    assert_eq!(err(fx.stat("/tmp/lower")), Errno::ENOENT);
    assert_eq!(fx.node("/tmp/.."), fx.node("/"));
    fx.vfs.chdir(CWD, b"/tmp").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/tmp");
    let paths: Vec<Vec<u8>> = fx.vfs.mounts().into_iter().map(|m| m.mount_point).collect();
    assert_eq!(paths, vec![b"/".to_vec(), b"/tmp".to_vec(), b"/tmp".to_vec()]);
}

#[test]
fn the_mount_table_describes_each_mount() {
    let fx = Fx::new();
    fx.mkdir("/tmp/inner");
    let inner = TmpFs::new(fx.clock.clone());
    fx.vfs.mount(b"/tmp/inner", inner.clone(), MountFlags::READ_ONLY, b"inner-src").unwrap();
    let mounts = fx.vfs.mounts();
    assert_eq!(mounts.len(), 3);
    let (root, tmp, inn) = (&mounts[0], &mounts[1], &mounts[2]);
    assert_eq!((root.id, root.parent_id, root.mount_point.as_slice(), root.fs_type), (1, 1, &b"/"[..], "tmpfs"));
    assert_eq!(root.source, b"rootfs");
    assert_eq!(root.dev, fx.root_fs.dev());
    assert_eq!((tmp.parent_id, tmp.mount_point.as_slice(), tmp.dev), (root.id, &b"/tmp"[..], fx.tmp_fs.dev()));
    assert_eq!((inn.parent_id, inn.mount_point.as_slice()), (tmp.id, &b"/tmp/inner"[..]));
    assert!(inn.flags.read_only);
    assert_eq!(inn.source, b"inner-src");
    // Renaming a directory above a mount point carries the mount along.
    fx.mkdir("/tmp/outer");
    fx.mkdir("/tmp/outer/m");
    fx.vfs.mount(b"/tmp/outer/m", TmpFs::new(fx.clock.clone()), MountFlags::default(), b"m").unwrap();
    fx.write_file("/tmp/outer/m/f", b"in m");
    fx.vfs.rename(CWD, b"/tmp/outer", CWD, b"/tmp/renamed", 0).unwrap();
    assert_eq!(fx.vfs.mounts()[3].mount_point, b"/tmp/renamed/m");
    assert_eq!(fx.read_file("/tmp/renamed/m/f"), b"in m");
}

#[test]
fn a_read_only_mount_refuses_every_change() {
    let fx = Fx::new();
    let ro = TmpFs::new(fx.clock.clone());
    // Populate it through the filesystem itself before mounting.
    let root = ro.root();
    let f = root.create(b"f", FileKind::Regular, 0o644, 0).unwrap();
    f.write_at(0, b"data").unwrap();
    root.create(b"d", FileKind::Directory, 0o755, 0).unwrap();
    fx.vfs.mount(b"/ro", ro, MountFlags::READ_ONLY, b"ro").unwrap();

    assert_eq!(fx.read_file("/ro/f"), b"data");
    fx.open("/ro/f", O_RDONLY | O_CREAT).unwrap();
    fx.open("/ro/d", O_RDONLY | O_DIRECTORY).unwrap();
    for flags in [O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND] {
        assert_eq!(err(fx.open("/ro/f", flags)), Errno::EROFS, "{flags:o}");
    }
    assert_eq!(err(fx.open("/ro/new", O_CREAT | O_WRONLY)), Errno::EROFS);
    assert_eq!(err(fx.open("/ro/d", O_WRONLY)), Errno::EISDIR);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/ro/new", 0o755)), Errno::EROFS);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/ro/d", 0o755)), Errno::EEXIST);
    assert_eq!(err(fx.vfs.mknod(CWD, b"/ro/p", crate::abi::mode::S_IFIFO | 0o644, 0)), Errno::EROFS);
    assert_eq!(err(fx.vfs.unlink(CWD, b"/ro/f")), Errno::EROFS);
    assert_eq!(err(fx.vfs.unlink(CWD, b"/ro/missing")), Errno::EROFS);
    assert_eq!(err(fx.vfs.rmdir(CWD, b"/ro/d")), Errno::EROFS);
    assert_eq!(err(fx.vfs.rename(CWD, b"/ro/f", CWD, b"/ro/g", 0)), Errno::EROFS);
    assert_eq!(err(fx.vfs.symlink(b"f", CWD, b"/ro/l")), Errno::EROFS);
    assert_eq!(err(fx.vfs.link(&fx.lookup("/ro/f"), CWD, b"/ro/g")), Errno::EROFS);
    assert_eq!(err(fx.vfs.chmod(CWD, b"/ro/f", 0o600, true)), Errno::EROFS);
    assert_eq!(err(fx.vfs.chown(CWD, b"/ro/f", 1, 1, true)), Errno::EROFS);
    assert_eq!(err(fx.vfs.utimens(CWD, b"/ro/f", None, true)), Errno::EROFS);
    assert_eq!(err(fx.vfs.truncate(CWD, b"/ro/f", 0)), Errno::EROFS);
    assert_eq!(err(fx.vfs.access(CWD, b"/ro/f", access::W_OK, true)), Errno::EROFS);
    fx.vfs.access(CWD, b"/ro/f", access::R_OK, true).unwrap();
    let sf = fx.vfs.statfs(CWD, b"/ro/f").unwrap();
    assert_eq!(sf.f_flags & st::ST_RDONLY, st::ST_RDONLY);
    // Untouched: the data and the names.
    assert_eq!(fx.read_file("/ro/f"), b"data");
    assert_eq!(fx.names("/ro"), ["d", "f"]);
}

#[test]
fn statfs_reports_the_filesystem_under_the_path() {
    let fx = Fx::new();
    fx.write_file("/tmp/f", b"x");
    let sf = fx.vfs.statfs(CWD, b"/tmp/f").unwrap();
    assert_eq!(sf.f_type, magic::TMPFS_MAGIC);
    assert_eq!((sf.f_bsize, sf.f_frsize, sf.f_namelen), (4096, 4096, 255));
    assert_eq!(sf.f_flags, st::ST_VALID | st::ST_RELATIME);
    // Unlimited tmpfs: zeros, as Linux's size=0 tmpfs reports.
    assert_eq!((sf.f_blocks, sf.f_bfree, sf.f_files), (0, 0, 0));
    assert_eq!(err(fx.vfs.statfs(CWD, b"/tmp/missing")), Errno::ENOENT);
    let d = fx.lookup("/tmp");
    assert_eq!(fx.vfs.statfs_dentry(&d).unwrap(), sf);
    assert_eq!(core::mem::size_of::<Statfs>(), 120);
    fx.vfs.sync_all().unwrap();
    fx.vfs.sync_fs(&d).unwrap();
}

#[test]
fn a_read_only_bind_refuses_changes_below_it_and_reads_as_before() {
    let (clock, _time) = test_clock();
    let vfs = Vfs::new(TmpFs::new(clock.clone()), MountFlags::default(), b"rootfs", clock);
    vfs.mkdir(CWD, b"/data", 0o755).unwrap();
    vfs.mkdir(CWD, b"/data/sub", 0o755).unwrap();
    let f = vfs.open(CWD, b"/data/sub/kept", O_CREAT | O_WRONLY, 0o644).unwrap();
    f.write(b"hello", false).unwrap();
    drop(f);
    let before = vfs.stat(CWD, b"/data/sub/kept", true).unwrap();

    vfs.bind_read_only(b"/data").unwrap();
    let after = vfs.stat(CWD, b"/data/sub/kept", true).unwrap();
    assert_eq!((after.st_ino, after.st_dev, after.st_size), (before.st_ino, before.st_dev, 5));
    assert_eq!(err(vfs.open(CWD, b"/data/sub/kept", O_WRONLY, 0)), Errno::EROFS);
    assert_eq!(err(vfs.open(CWD, b"/data/new", O_CREAT | O_WRONLY, 0o644)), Errno::EROFS);
    assert_eq!(err(vfs.unlink(CWD, b"/data/sub/kept")), Errno::EROFS);
    assert_eq!(err(vfs.mkdir(CWD, b"/data/sub/d", 0o755)), Errno::EROFS);
    assert!(vfs.open(CWD, b"/data/sub/kept", O_RDONLY, 0).is_ok());
    // Outside the bind nothing changed; moving a name out of it crosses mounts.
    vfs.mkdir(CWD, b"/other", 0o755).unwrap();
    assert_eq!(err(vfs.rename(CWD, b"/data/sub/kept", CWD, b"/other/kept", 0)), Errno::EXDEV);
    assert_eq!(err(vfs.bind_read_only(b"/data/sub/kept")), Errno::ENOTDIR);
    assert_eq!(err(vfs.bind_read_only(b"/missing")), Errno::ENOENT);
}
