//! `open` flags: O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_APPEND,
//! O_TMPFILE, directories for writing, the umask, the status flags.

use crate::abi::mode::*;

use super::*;

#[test]
fn creat_excl_and_trunc() {
    let fx = Fx::new();
    assert_eq!(err(fx.open("/n", O_RDONLY)), Errno::ENOENT);
    let f = fx.open("/n", O_CREAT | O_WRONLY).unwrap();
    assert_eq!(f.write(b"hello"), Ok(5));
    assert_eq!(err(fx.open("/n", O_CREAT | O_EXCL | O_WRONLY)), Errno::EEXIST);
    // O_CREAT on an existing file opens it, untouched.
    fx.open("/n", O_CREAT | O_RDONLY).unwrap();
    assert_eq!(fx.read_file("/n"), b"hello");
    fx.open("/n", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(fx.stat("/n").unwrap().st_size, 0);
    // Linux truncates even when the access mode is O_RDONLY.
    fx.write_file("/n", b"again");
    fx.open("/n", O_RDONLY | O_TRUNC).unwrap();
    assert_eq!(fx.stat("/n").unwrap().st_size, 0);
    // O_CREAT | O_EXCL makes a new file; a file made with mode 0 opens anyway.
    let g = fx.open_mode("/g", O_CREAT | O_EXCL | O_RDWR, 0).unwrap();
    assert_eq!(g.write(b"x"), Ok(1));
    assert_eq!(fx.mode("/g"), S_IFREG);
}

#[test]
fn o_trunc_keeps_the_data_of_other_openers_consistent() {
    let fx = Fx::new();
    fx.write_file("/f", b"0123456789");
    let reader = fx.open("/f", O_RDONLY).unwrap();
    let mut b = [0u8; 4];
    assert_eq!(reader.read(&mut b), Ok(4));
    fx.open("/f", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(reader.read(&mut b), Ok(0));
}

#[test]
fn the_umask_masks_new_modes() {
    let fx = Fx::new();
    assert_eq!(fx.vfs.umask(), 0o022);
    fx.open_mode("/a", O_CREAT | O_WRONLY, 0o777).unwrap();
    assert_eq!(fx.mode("/a"), S_IFREG | 0o755);
    assert_eq!(fx.vfs.set_umask(0o077), 0o022);
    assert_eq!(fx.vfs.set_umask(0o7077), 0o077);
    assert_eq!(fx.vfs.umask(), 0o077);
    fx.open_mode("/b", O_CREAT | O_WRONLY, 0o666).unwrap();
    assert_eq!(fx.mode("/b"), S_IFREG | 0o600);
    fx.open_mode("/c", O_CREAT | O_WRONLY, 0o104755).unwrap();
    assert_eq!(fx.mode("/c"), S_IFREG | 0o4700, "set-uid survives; the type bits are ignored");
    fx.vfs.mkdir(CWD, b"/d", 0o7777).unwrap();
    assert_eq!(fx.mode("/d"), S_IFDIR | 0o1700, "mkdir keeps only the sticky bit of the special bits");
    fx.vfs.mknod(CWD, b"/p", S_IFIFO | 0o666, 0).unwrap();
    assert_eq!(fx.mode("/p"), S_IFIFO | 0o600);
    fx.symlink("x", "/l");
    assert_eq!(fx.mode("/l"), S_IFLNK | 0o777, "symlinks ignore the umask");
}

#[test]
fn directories_cannot_be_opened_for_writing() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"");
    fx.open("/d", O_RDONLY).unwrap();
    fx.open("/d", O_RDONLY | O_DIRECTORY).unwrap();
    fx.open("/d/", O_RDONLY).unwrap();
    for flags in [O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_ACCMODE, O_WRONLY | O_DIRECTORY] {
        assert_eq!(err(fx.open("/d", flags)), Errno::EISDIR, "{flags:o}");
    }
    assert_eq!(err(fx.open("/f", O_RDONLY | O_DIRECTORY)), Errno::ENOTDIR);
    assert_eq!(err(fx.open("/f/", O_RDONLY)), Errno::ENOTDIR);
}

#[test]
fn o_creat_on_directories_and_dots_is_eisdir() {
    let fx = Fx::new();
    fx.mkdir("/d");
    fx.write_file("/f", b"");
    for path in ["/d", "/d/", "/", ".", "..", "/d/.", "/tmp", "/new/", "/f/"] {
        assert_eq!(err(fx.open(path, O_CREAT | O_WRONLY)), Errno::EISDIR, "{path}");
        assert_eq!(err(fx.open(path, O_CREAT | O_RDONLY)), Errno::EISDIR, "{path}");
    }
    // ... except that O_EXCL on an existing name says EEXIST.
    assert_eq!(err(fx.open("/d", O_CREAT | O_EXCL | O_WRONLY)), Errno::EEXIST);
    // Linux ≥ 6.4: O_CREAT | O_DIRECTORY is EINVAL, whatever the path.
    assert_eq!(err(fx.open("/new", O_CREAT | O_DIRECTORY | O_RDONLY)), Errno::EINVAL);
    assert_eq!(err(fx.open("/d", O_CREAT | O_DIRECTORY | O_RDONLY)), Errno::EINVAL);
    assert_eq!(err(fx.open("/missing/x", O_CREAT | O_WRONLY)), Errno::ENOENT);
}

#[test]
fn o_nofollow_and_symlinks_under_o_creat() {
    let fx = Fx::new();
    fx.write_file("/f", b"target");
    fx.mkdir("/d");
    fx.symlink("/f", "/lf");
    fx.symlink("/d", "/ld");
    fx.symlink("/made", "/dangling");
    fx.symlink("/nodir/x", "/dangling-deep");
    assert_eq!(fx.read_file("/lf"), b"target");
    assert_eq!(err(fx.open("/lf", O_RDONLY | O_NOFOLLOW)), Errno::ELOOP);
    assert_eq!(err(fx.open("/lf", O_RDONLY | O_NOFOLLOW | O_DIRECTORY)), Errno::ENOTDIR);
    assert_eq!(err(fx.open("/ld", O_RDONLY | O_NOFOLLOW)), Errno::ELOOP);
    // A trailing slash follows even with O_NOFOLLOW.
    fx.open("/ld/", O_RDONLY | O_NOFOLLOW).unwrap();
    // Only the last component is affected.
    fx.write_file("/d/in", b"");
    fx.open("/ld/in", O_RDONLY | O_NOFOLLOW).unwrap();
    // O_CREAT follows a link to an existing file, or creates the missing target...
    fx.open("/lf", O_CREAT | O_WRONLY).unwrap();
    let f = fx.open("/dangling", O_CREAT | O_WRONLY).unwrap();
    assert_eq!(f.write(b"via link"), Ok(8));
    assert_eq!(fx.read_file("/made"), b"via link");
    assert_eq!(err(fx.open("/dangling-deep", O_CREAT | O_WRONLY)), Errno::ENOENT);
    // ... except with O_EXCL (never follows: EEXIST) or O_NOFOLLOW (ELOOP).
    assert_eq!(err(fx.open("/lf", O_CREAT | O_EXCL | O_WRONLY)), Errno::EEXIST);
    fx.vfs.unlink(CWD, b"/made").unwrap();
    assert_eq!(err(fx.open("/dangling", O_CREAT | O_EXCL | O_WRONLY)), Errno::EEXIST);
    assert_eq!(err(fx.open("/dangling", O_CREAT | O_NOFOLLOW | O_WRONLY)), Errno::ELOOP);
    assert_eq!(err(fx.stat("/made")), Errno::ENOENT);
    // O_CREAT through a link to a directory: EISDIR.
    assert_eq!(err(fx.open("/ld", O_CREAT | O_WRONLY)), Errno::EISDIR);
}

#[test]
fn o_path_names_without_opening() {
    let fx = Fx::new();
    fx.write_file("/f", b"content");
    fx.mkdir("/d");
    fx.symlink("/f", "/l");
    // O_PATH | O_NOFOLLOW opens the link itself.
    let l = fx.open("/l", O_PATH | O_NOFOLLOW).unwrap();
    assert_eq!(l.file.stat().unwrap().st_mode & S_IFMT, S_IFLNK);
    assert_eq!(l.flags(), O_PATH | O_NOFOLLOW);
    let mut buf = [0u8; 4];
    assert_eq!(err(l.read(&mut buf)), Errno::EBADF);
    // O_PATH ignores the access mode, O_TRUNC and O_CREAT.
    let f = fx.open("/f", O_PATH | O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC).unwrap();
    assert_eq!(fx.read_file("/f"), b"content");
    assert_eq!(f.flags(), O_PATH);
    assert_eq!(err(f.write(b"x")), Errno::EBADF);
    assert_eq!(err(f.read(&mut buf)), Errno::EBADF);
    assert_eq!(err(f.file.pread(&mut buf, 0)), Errno::EBADF);
    assert_eq!(err(f.file.seek(0, 0)), Errno::EBADF);
    assert_eq!(err(f.file.ioctl(super::super::file::FIONREAD, 0, &mut buf)), Errno::EBADF);
    assert_eq!(f.file.stat().unwrap().st_size, 7);
    let d = fx.open("/d", O_PATH | O_RDWR).unwrap();
    assert_eq!(err(d.file.getdents64(&mut [0u8; 256])), Errno::EBADF);
    fx.vfs.fchdir(&d.file.dentry().unwrap()).unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/d");
    assert_eq!(err(fx.open("/f", O_PATH | O_DIRECTORY)), Errno::ENOTDIR);
    assert_eq!(err(fx.open("/missing", O_PATH)), Errno::ENOENT);
}

#[test]
fn o_append_writes_at_the_end_whatever_the_position() {
    let fx = Fx::new();
    fx.write_file("/log", b"");
    let appender = fx.open("/log", O_WRONLY | O_APPEND).unwrap();
    let other = fx.open("/log", O_RDWR).unwrap();
    assert_eq!(appender.write(b"one "), Ok(4));
    assert_eq!(other.write(b"XYZWVU"), Ok(6));
    assert_eq!(appender.write(b"two"), Ok(3));
    assert_eq!(fx.read_file("/log"), b"XYZWVUtwo");
    // After an append the position is the end.
    assert_eq!(appender.file.seek(0, 1), Ok(9));
    appender.file.seek(0, 0).unwrap();
    assert_eq!(appender.write(b"!"), Ok(1));
    assert_eq!(appender.file.seek(0, 1), Ok(10));
    assert_eq!(fx.read_file("/log"), b"XYZWVUtwo!");
    // F_SETFL can turn O_APPEND off and on.
    appender.set_flags(0).unwrap();
    appender.file.seek(0, 0).unwrap();
    assert_eq!(appender.write(b"x"), Ok(1));
    assert_eq!(fx.read_file("/log"), b"xYZWVUtwo!");
    appender.set_flags(O_APPEND).unwrap();
    assert_eq!(appender.write(b"?"), Ok(1));
    assert_eq!(fx.read_file("/log"), b"xYZWVUtwo!?");
}

#[test]
fn o_tmpfile_is_validated_then_unsupported() {
    let fx = Fx::new();
    fx.write_file("/f", b"");
    assert_eq!(err(fx.open("/tmp", O_TMPFILE | O_RDWR)), Errno::EOPNOTSUPP);
    assert_eq!(err(fx.open("/tmp", O_TMPFILE | O_WRONLY)), Errno::EOPNOTSUPP);
    assert_eq!(err(fx.open("/tmp", O_TMPFILE | O_RDONLY)), Errno::EINVAL);
    assert_eq!(err(fx.open("/tmp", O_TMPFILE | O_CREAT | O_RDWR)), Errno::EINVAL);
    assert_eq!(err(fx.open("/tmp", O_TMPFILE_BIT | O_RDWR)), Errno::EINVAL);
    assert_eq!(err(fx.open("/f", O_TMPFILE | O_RDWR)), Errno::ENOTDIR);
    assert_eq!(err(fx.open("/missing", O_TMPFILE | O_RDWR)), Errno::ENOENT);
}

#[test]
fn special_files_open_through_their_inode() {
    let fx = Fx::new();
    fx.vfs.mknod(CWD, b"/fifo", S_IFIFO | 0o644, 0).unwrap();
    fx.vfs.mknod(CWD, b"/sock", S_IFSOCK | 0o644, 0).unwrap();
    fx.vfs.mknod(CWD, b"/null", S_IFCHR | 0o666, makedev(1, 3)).unwrap();
    // No driver behind them in a plain tmpfs: ENXIO, as Linux says for a socket or a
    // device without a driver.
    assert_eq!(err(fx.open("/sock", O_RDWR)), Errno::ENXIO);
    assert_eq!(err(fx.open("/null", O_RDWR)), Errno::ENXIO);
    // O_TRUNC is ignored for them (no truncate attempted), O_PATH works.
    assert_eq!(err(fx.open("/null", O_WRONLY | O_TRUNC)), Errno::ENXIO);
    fx.open("/null", O_PATH).unwrap();
    assert_eq!(fx.stat("/null").unwrap().st_rdev, makedev(1, 3));
}

#[test]
fn a_fifo_opens_onto_one_pipe_shared_by_its_openers() {
    let fx = Fx::new();
    fx.vfs.mknod(CWD, b"/fifo", S_IFIFO | 0o644, 0).unwrap();
    // No reader yet: a non-blocking writer is ENXIO; a non-blocking reader opens.
    assert_eq!(err(fx.open("/fifo", O_WRONLY | O_NONBLOCK)), Errno::ENXIO);
    let r = fx.open("/fifo", O_RDONLY | O_NONBLOCK).unwrap();
    // No writer has been there yet: not a hang-up, just nothing to read.
    assert_eq!(r.file.poll(crate::file::events::POLLHUP), 0);
    let w = fx.open("/fifo", O_WRONLY | O_NONBLOCK).unwrap();
    assert_eq!(w.write(b"through"), Ok(7));
    let mut buf = [0u8; 16];
    assert_eq!(r.read(&mut buf), Ok(7));
    assert_eq!(&buf[..7], b"through");
    // The ends report the node; O_RDWR opens both sides without waiting.
    let st = r.file.stat().unwrap();
    assert_eq!(st.st_mode & S_IFMT, S_IFIFO);
    assert_eq!(st.st_ino, fx.stat("/fifo").unwrap().st_ino);
    let rw = fx.open("/fifo", O_RDWR).unwrap();
    drop(w);
    assert_eq!(rw.write(b"x"), Ok(1));
    drop(rw);
    assert_eq!(r.read(&mut buf), Ok(1));
    // Every writer gone, after one came: end of file and a hang-up.
    assert_eq!(r.read(&mut buf), Ok(0));
    assert_eq!(r.file.poll(crate::file::events::POLLHUP), crate::file::events::POLLHUP);
}

#[test]
fn status_flags_are_what_f_getfl_reports() {
    let fx = Fx::new();
    fx.mkdir("/d");
    let f = fx.open("/new", O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_APPEND | O_CLOEXEC).unwrap();
    assert_eq!(f.flags(), O_WRONLY | O_APPEND | O_LARGEFILE);
    // What glibc's opendir passes, and what F_GETFL then shows on Linux: 0x18800.
    let d = fx.open("/d", O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_CLOEXEC).unwrap();
    assert_eq!(d.flags(), 0x18800);
    assert_eq!(status_flags(O_PATH | O_RDWR | O_NOFOLLOW | O_CLOEXEC), O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

#[test]
fn each_open_has_its_own_position_dups_share_one() {
    let fx = Fx::new();
    fx.write_file("/f", b"abcdef");
    let a = fx.open("/f", O_RDONLY).unwrap();
    let b = fx.open("/f", O_RDONLY).unwrap();
    let mut buf = [0u8; 2];
    a.read(&mut buf).unwrap();
    assert_eq!(&buf, b"ab");
    b.read(&mut buf).unwrap();
    assert_eq!(&buf, b"ab");
    let dup = a.clone();
    dup.read(&mut buf).unwrap();
    assert_eq!(&buf, b"cd");
    a.read(&mut buf).unwrap();
    assert_eq!(&buf, b"ef");
}
