//! What only a POSIX filesystem keeps, checked under /tmp (tmpfs under unify; the
//! working directory there is FAT, which has no modes, links or nanosecond times):
//! utimensat with explicit times (read back), UTIME_OMIT; chmod / fchmod / fchmodat
//! (mode read back); umask (previous value, modes of new files and directories);
//! symlink / symlinkat / readlink / readlinkat, loops (ELOOP), a symlink to a directory;
//! link / linkat (shared data, nlink, EPERM for a directory).

use probes::fsutil::{must, section, v, TmpDir};
use probes::sys::{self, AT_FDCWD};

use libc::{timespec, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, UTIME_OMIT};

fn mode(p: &str) -> String {
    let (r, st) = sys::stat(p);
    if r < 0 {
        v(r)
    } else {
        format!("{:04o}", st.st_mode & 0o7777)
    }
}

fn times(p: &str) -> String {
    let (r, st) = sys::lstat(p);
    if r < 0 {
        v(r)
    } else {
        format!("atime {}.{:09} mtime {}.{:09}", st.st_atime, st.st_atime_nsec, st.st_mtime, st.st_mtime_nsec)
    }
}

fn same_file(a: &str, b: &str) -> bool {
    let (x, y) = (sys::stat(a).1, sys::stat(b).1);
    x.st_dev == y.st_dev && x.st_ino == y.st_ino
}

fn ts(sec: i64, nsec: i64) -> timespec {
    timespec { tv_sec: sec, tv_nsec: nsec }
}

fn utimes(t: &TmpDir) {
    section("utimensat");
    let f = t.at("timed");
    std::fs::write(&f, "t").unwrap();
    let r = sys::utimensat(AT_FDCWD, &f, &[ts(1_000_000_000, 123_456_789), ts(1_500_000_000, 500_000_000)], 0);
    println!("set both: {}", v(r));
    println!("  {}", times(&f));
    let r = sys::utimensat(AT_FDCWD, &f, &[ts(0, UTIME_OMIT), ts(1_600_000_000, 1)], 0);
    println!("set mtime only (atime UTIME_OMIT): {}", v(r));
    println!("  {}", times(&f));
    let r = sys::utimensat(AT_FDCWD, &f, &[ts(0, UTIME_OMIT), ts(0, UTIME_OMIT)], 0);
    println!("both UTIME_OMIT: {}", v(r));
    println!("  {}", times(&f));
    println!("nsec out of range: {}", v(sys::utimensat(AT_FDCWD, &f, &[ts(1, 1_000_000_000), ts(1, 0)], 0)));
    println!("negative nsec: {}", v(sys::utimensat(AT_FDCWD, &f, &[ts(1, -1), ts(1, 0)], 0)));
    println!("missing file: {}", v(sys::utimensat(AT_FDCWD, &t.at("missing"), &[ts(1, 0), ts(1, 0)], 0)));
    println!("unknown flag: {}", v(sys::utimensat(AT_FDCWD, &f, &[ts(1, 0), ts(1, 0)], 0x2)));
    sys::symlink("timed", &t.at("timed-link"));
    let r = sys::utimensat(
        AT_FDCWD,
        &t.at("timed-link"),
        &[ts(2_000_000_000, 0), ts(2_000_000_000, 7)],
        AT_SYMLINK_NOFOLLOW,
    );
    println!("on a symlink with AT_SYMLINK_NOFOLLOW: {}", v(r));
    println!("  link: {}", times(&t.at("timed-link")));
    println!("  target unchanged: {}", times(&f));
    let fd = must("open", sys::open(&f, O_RDONLY, 0));
    let r = sys::utimensat(fd, "", &[ts(1_234_567_890, 0), ts(1_234_567_890, 0)], libc::AT_EMPTY_PATH);
    println!("through a fd with AT_EMPTY_PATH: {}", v(r));
    println!("  {}", times(&f));
    sys::close(fd);
}

fn modes(t: &TmpDir) {
    section("chmod");
    let f = t.at("moded");
    std::fs::write(&f, "m").unwrap();
    println!("chmod 0640: {}, mode {}", v(sys::chmod(&f, 0o640)), mode(&f));
    println!("chmod 0400: {}, mode {}", v(sys::chmod(&f, 0o400)), mode(&f));
    let fd = must("open", sys::open(&f, O_RDONLY, 0));
    println!("fchmod 0600: {}, mode {}", v(sys::fchmod(fd, 0o600)), mode(&f));
    sys::close(fd);
    let d = must("open tmp", sys::open(&t.path, O_RDONLY | libc::O_DIRECTORY, 0));
    println!("fchmodat 0751: {}, mode {}", v(sys::fchmodat(d, "moded", 0o751)), mode(&f));
    println!("chmod with high bits 0o171777 (only 07777 kept): {}, mode {}", v(sys::chmod(&f, 0o171_777)), mode(&f));
    sys::close(d);
    std::fs::create_dir(t.at("dir")).unwrap();
    println!("chmod a directory 0700: {}, mode {}", v(sys::chmod(&t.at("dir"), 0o700)), mode(&t.at("dir")));
    sys::symlink("moded", &t.at("mode-link"));
    println!("chmod through a symlink 0644: {}, target {}", v(sys::chmod(&t.at("mode-link"), 0o644)), mode(&f));
    println!("chmod missing: {}", v(sys::chmod(&t.at("missing"), 0o644)));
    println!("fchmod bad fd: {}", v(sys::fchmod(999, 0o644)));
    let (_, st) = sys::stat(&f);
    println!("file type kept: {}", probes::fsutil::ftype(st.st_mode));
}

fn umasks(t: &TmpDir) {
    section("umask");
    let original = sys::umask(0o077);
    println!("umask(022) returns what umask(077) set: {:o}", sys::umask(0o022));
    sys::umask(0o077);
    let fd = must("create", sys::open(&t.at("private"), O_CREAT | O_WRONLY, 0o666));
    sys::close(fd);
    println!("file created 0666 under 077: {}", mode(&t.at("private")));
    sys::mkdir(&t.at("private-dir"), 0o777);
    println!("directory created 0777 under 077: {}", mode(&t.at("private-dir")));
    sys::umask(0o027);
    let fd = must("create", sys::open(&t.at("group"), O_CREAT | O_WRONLY, 0o666));
    sys::close(fd);
    println!("file created 0666 under 027: {}", mode(&t.at("group")));
    println!("chmod ignores the umask: {}", {
        sys::chmod(&t.at("group"), 0o666);
        mode(&t.at("group"))
    });
    println!("umask high bits ignored: {:o}", {
        sys::umask(0o7777);
        sys::umask(0o027)
    });
    sys::umask(original as u32);
}

fn symlinks(t: &TmpDir) {
    section("symlinks");
    std::fs::write(t.at("target"), "target data").unwrap();
    println!("symlink: {}", v(sys::symlink("target", &t.at("l1"))));
    println!("readlink: {:?}", sys::readlink(&t.at("l1")));
    println!("read through it: {:?}", std::fs::read_to_string(t.at("l1")).unwrap_or_default());
    println!("symlink over an existing name: {}", v(sys::symlink("x", &t.at("l1"))));
    println!("symlink with an empty target: {}", v(sys::symlink("", &t.at("l-empty"))));
    println!("readlink of a regular file: {:?}", sys::readlink(&t.at("target")));
    println!("readlink missing: {:?}", sys::readlink(&t.at("missing")));
    let d = must("open tmp", sys::open(&t.path, O_RDONLY | libc::O_DIRECTORY, 0));
    println!("symlinkat: {}", v(sys::symlinkat("/absolute/elsewhere", d, "l2")));
    println!("readlinkat: {:?}", sys::readlinkat(d, "l2"));
    println!("readlinkat AT_EMPTY_PATH-style empty name on a dir fd: {:?}", sys::readlinkat(d, ""));
    sys::close(d);
    let long_target = "t".repeat(4000);
    println!("symlink to a 4000-byte target: {}", v(sys::symlink(&long_target, &t.at("l-long"))));
    println!("readlink gives it back: {}", sys::readlink(&t.at("l-long")).map(|s| s == long_target).unwrap_or(false));
    println!("symlink to a 4096-byte target: {}", v(sys::symlink(&"t".repeat(4096), &t.at("l-too-long"))));

    sys::symlink("loop-b", &t.at("loop-a"));
    sys::symlink("loop-a", &t.at("loop-b"));
    println!("open a loop: {}", v(sys::open(&t.at("loop-a"), O_RDONLY, 0)));
    println!("stat a loop: {}", v(sys::stat(&t.at("loop-a")).0));
    println!("lstat a loop: {}", v(sys::lstat(&t.at("loop-a")).0));
    let mut prev = "target".to_string();
    for i in 0..45 {
        let name = format!("chain{i:02}");
        sys::symlink(&prev, &t.at(&name));
        prev = name;
    }
    println!("chain of 10 links: {}", probes::fsutil::oc(sys::open(&t.at("chain09"), O_RDONLY, 0)));
    println!("chain of 40 links: {}", probes::fsutil::oc(sys::open(&t.at("chain39"), O_RDONLY, 0)));
    println!("chain of 41 links: {}", probes::fsutil::oc(sys::open(&t.at("chain40"), O_RDONLY, 0)));

    std::fs::create_dir(t.at("realdir")).unwrap();
    std::fs::write(t.at("realdir/inside"), "inside").unwrap();
    sys::symlink("realdir", &t.at("dirlink"));
    println!("path through a dir symlink: {:?}", std::fs::read_to_string(t.at("dirlink/inside")).unwrap_or_default());
    println!("lstat dirlink: {}", probes::fsutil::ftype(sys::lstat(&t.at("dirlink")).1.st_mode));
    println!(
        "lstat dirlink/ (trailing slash follows): {}",
        probes::fsutil::ftype(sys::lstat(&t.at("dirlink/")).1.st_mode)
    );
    println!("rmdir a dir symlink: {}", v(sys::rmdir(&t.at("dirlink"))));
    println!("unlink a dir symlink: {}", v(sys::unlink(&t.at("dirlink"))));
    println!("  the directory stays: {}", std::path::Path::new(&t.at("realdir/inside")).exists());
    println!(
        "unlink a symlink: {}, target stays: {}",
        v(sys::unlink(&t.at("l1"))),
        std::path::Path::new(&t.at("target")).exists()
    );
}

fn hard_links(t: &TmpDir) {
    section("hard links");
    let a = t.at("orig");
    std::fs::write(&a, "shared").unwrap();
    println!("link: {}", v(sys::link(&a, &t.at("second"))));
    println!("nlink: {}", sys::stat(&a).1.st_nlink);
    println!("same file: {}", same_file(&a, &t.at("second")));
    let fd = must("open", sys::open(&t.at("second"), O_RDWR, 0));
    sys::pwrite(fd, b"SH", 0);
    sys::close(fd);
    println!("write through one name, read through the other: {:?}", std::fs::read_to_string(&a).unwrap_or_default());
    println!("link over an existing name: {}", v(sys::link(&a, &t.at("second"))));
    println!("link a missing file: {}", v(sys::link(&t.at("missing"), &t.at("third"))));
    std::fs::create_dir(t.at("hdir")).unwrap();
    println!("link a directory: {}", v(sys::link(&t.at("hdir"), &t.at("hdir2"))));
    println!("unlink the first name: {}", v(sys::unlink(&a)));
    println!(
        "the second keeps the data: {:?}, nlink {}",
        std::fs::read_to_string(t.at("second")).unwrap_or_default(),
        sys::stat(&t.at("second")).1.st_nlink
    );
    sys::symlink("second", &t.at("sym"));
    println!(
        "linkat without AT_SYMLINK_FOLLOW links the symlink: {}",
        v(sys::linkat(AT_FDCWD, &t.at("sym"), AT_FDCWD, &t.at("sym-hard"), 0))
    );
    println!("  it is a symlink: {}", probes::fsutil::ftype(sys::lstat(&t.at("sym-hard")).1.st_mode));
    println!(
        "linkat AT_SYMLINK_FOLLOW links the target: {}",
        v(sys::linkat(AT_FDCWD, &t.at("sym"), AT_FDCWD, &t.at("followed"), AT_SYMLINK_FOLLOW))
    );
    println!(
        "  same file as second: {}, nlink {}",
        same_file(&t.at("followed"), &t.at("second")),
        sys::stat(&t.at("second")).1.st_nlink
    );
    println!("linkat unknown flag: {}", v(sys::linkat(AT_FDCWD, &t.at("second"), AT_FDCWD, &t.at("x"), 0x1)));
}

fn main() {
    let t = TmpDir::new("fs_tmp_meta");
    utimes(&t);
    modes(&t);
    umasks(&t);
    symlinks(&t);
    hard_links(&t);
}
