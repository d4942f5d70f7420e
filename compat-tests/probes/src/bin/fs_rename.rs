//! rename / renameat / renameat2 in the working directory: moving and replacing files
//! and directories, RENAME_NOREPLACE, the errnos (ENOENT, EEXIST, ENOTEMPTY, EISDIR,
//! ENOTDIR, EINVAL for a directory into itself), an open file renamed under its fd,
//! RENAME_EXCHANGE and hard-linked names in /tmp, and EXDEV from /dev/shm (tmpfs) into
//! the working directory.

use probes::fsutil::{must, section, v, TmpDir};
use probes::sys::{self, AT_FDCWD};

use libc::{O_DIRECTORY, O_RDONLY, RENAME_EXCHANGE, RENAME_NOREPLACE};

fn read(p: &str) -> String {
    match std::fs::read_to_string(p) {
        Ok(s) => format!("{s:?}"),
        Err(e) => format!("Err({})", probes::fsutil::ioe(&e)),
    }
}

fn exists(p: &str) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

fn files() {
    section("files");
    std::fs::write("a", "A").unwrap();
    std::fs::write("b", "B").unwrap();
    println!("rename a -> c: {}", v(sys::rename("a", "c")));
    println!("  a gone: {}, c: {}", !exists("a"), read("c"));
    println!("rename c -> b (replaces): {}", v(sys::rename("c", "b")));
    println!("  c gone: {}, b: {}", !exists("c"), read("b"));
    println!("rename b -> b: {}", v(sys::rename("b", "b")));
    println!("  b: {}", read("b"));
    println!("rename missing: {}", v(sys::rename("missing", "x")));
    println!("rename into a missing dir: {}", v(sys::rename("b", "nodir/x")));
    println!("rename to name/ (trailing slash): {}", v(sys::rename("b", "x/")));
    println!("rename onto file/x: {}", v(sys::rename("b", "b/x")));
    println!("rename to a 256-byte name: {}", v(sys::rename("b", &"n".repeat(256))));
    println!("rename empty path: {}", v(sys::rename("", "x")));
    std::fs::write("e", "E").unwrap();
    println!(
        "renameat2 NOREPLACE onto existing: {}",
        v(sys::renameat2(AT_FDCWD, "e", AT_FDCWD, "b", RENAME_NOREPLACE))
    );
    println!("  both kept: {} {}", read("e"), read("b"));
    println!(
        "renameat2 NOREPLACE to a new name: {}",
        v(sys::renameat2(AT_FDCWD, "e", AT_FDCWD, "f", RENAME_NOREPLACE))
    );
    println!("  e gone: {}, f: {}", !exists("e"), read("f"));
    println!(
        "renameat2 NOREPLACE|EXCHANGE: {}",
        v(sys::renameat2(AT_FDCWD, "f", AT_FDCWD, "b", RENAME_NOREPLACE | RENAME_EXCHANGE))
    );
    println!("renameat2 unknown flag: {}", v(sys::renameat2(AT_FDCWD, "f", AT_FDCWD, "g", 0x100)));
    println!("renameat2 flags 0: {}", v(sys::renameat2(AT_FDCWD, "f", AT_FDCWD, "g", 0)));
    println!("  g: {}", read("g"));
}

fn directories() {
    section("directories");
    std::fs::create_dir_all("d1/sub").unwrap();
    std::fs::write("d1/sub/file", "deep").unwrap();
    std::fs::create_dir("empty").unwrap();
    std::fs::create_dir_all("full/x").unwrap();
    println!("rename d1 -> d2: {}", v(sys::rename("d1", "d2")));
    println!("  contents moved: {}", read("d2/sub/file"));
    println!("rename d2 onto an empty dir: {}", v(sys::rename("d2", "empty")));
    println!("  empty now holds: {}", read("empty/sub/file"));
    println!("rename empty onto a non-empty dir: {}", v(sys::rename("empty", "full")));
    println!("rename a file onto a dir: {}", v(sys::rename("g", "full")));
    println!("rename a dir onto a file: {}", v(sys::rename("full", "g")));
    println!("rename a dir into its own subdir: {}", v(sys::rename("empty", "empty/sub/inside")));
    println!("rename a dir onto its own subdir: {}", v(sys::rename("empty", "empty/sub")));
    println!("rename a dir to itself: {}", v(sys::rename("empty", "empty")));
    println!("rename with trailing slashes: {}", v(sys::rename("full/", "full2/")));
    println!("rename . : {}", v(sys::rename(".", "dot")));
    println!("rename onto .. : {}", v(sys::rename("full2", "..")));
    println!(
        "renameat2 NOREPLACE dir onto dir: {}",
        v(sys::renameat2(AT_FDCWD, "full2", AT_FDCWD, "empty", RENAME_NOREPLACE))
    );
    let a = must("open empty", sys::open("empty", O_RDONLY | O_DIRECTORY, 0));
    let b = must("open full2", sys::open("full2", O_RDONLY | O_DIRECTORY, 0));
    println!("renameat between dir fds: {}", v(sys::renameat(a, "sub/file", b, "moved")));
    println!("  full2/moved: {}", read("full2/moved"));
    println!("renameat bad dirfd: {}", v(sys::renameat(999, "x", b, "y")));
    sys::close(a);
    sys::close(b);
}

fn open_file_renamed() {
    section("open file renamed");
    std::fs::write("held", "held data").unwrap();
    let fd = must("open held", sys::open("held", O_RDONLY, 0));
    println!("rename held -> moved-away: {}", v(sys::rename("held", "moved-away")));
    let mut buf = [0u8; 16];
    let n = sys::read(fd, &mut buf);
    println!("read through the fd: {} {:?}", v(n), String::from_utf8_lossy(&buf[..n.max(0) as usize]));
    std::fs::write("victim", "old victim").unwrap();
    let victim = must("open victim", sys::open("victim", O_RDONLY, 0));
    println!("rename moved-away onto victim: {}", v(sys::rename("moved-away", "victim")));
    let n = sys::pread(victim, &mut buf, 0);
    println!("replaced file still readable through its fd: {:?}", String::from_utf8_lossy(&buf[..n.max(0) as usize]));
    println!("victim now: {}", read("victim"));
    sys::close(fd);
    sys::close(victim);
}

fn in_tmp() {
    section("in /tmp");
    let tmp = TmpDir::new("fs_rename");
    std::fs::write(tmp.at("x"), "X").unwrap();
    std::fs::write(tmp.at("y"), "Y").unwrap();
    let r = sys::renameat2(AT_FDCWD, &tmp.at("x"), AT_FDCWD, &tmp.at("y"), RENAME_EXCHANGE);
    println!("RENAME_EXCHANGE: {}", v(r));
    println!("  x {} y {}", read(&tmp.at("x")), read(&tmp.at("y")));
    let r = sys::renameat2(AT_FDCWD, &tmp.at("x"), AT_FDCWD, &tmp.at("none"), RENAME_EXCHANGE);
    println!("RENAME_EXCHANGE with a missing target: {}", v(r));
    std::fs::create_dir(tmp.at("dir")).unwrap();
    let r = sys::renameat2(AT_FDCWD, &tmp.at("x"), AT_FDCWD, &tmp.at("dir"), RENAME_EXCHANGE);
    println!("RENAME_EXCHANGE file and dir: {}", v(r));
    println!("  dir is now a file: {}", std::path::Path::new(&tmp.at("dir")).is_file());
    sys::link(&tmp.at("y"), &tmp.at("y2"));
    println!("rename onto a hard link of itself: {}", v(sys::rename(&tmp.at("y"), &tmp.at("y2"))));
    println!("  both names kept: {} {}", exists(&tmp.at("y")), exists(&tmp.at("y2")));
    sys::symlink("y", &tmp.at("sym"));
    println!("rename a symlink: {}", v(sys::rename(&tmp.at("sym"), &tmp.at("sym2"))));
    println!("  the link moved, not the target: {} {}", read(&tmp.at("sym2")), exists(&tmp.at("y")));
}

fn cross_device() {
    section("across filesystems");
    let shm = format!("/dev/shm/unify-probe-fs_rename-{}", std::process::id());
    match std::fs::write(&shm, "from shm") {
        Ok(()) => {
            println!("rename /dev/shm file into the working directory: {}", v(sys::rename(&shm, "from-shm")));
            println!(
                "rename a working-directory file into /dev/shm: {}",
                v(sys::rename("victim", &format!("{shm}.2")))
            );
            let _ = std::fs::remove_file(&shm);
            let _ = std::fs::remove_file(format!("{shm}.2"));
        }
        Err(e) => println!("no /dev/shm: {}", probes::fsutil::ioe(&e)),
    }
}

fn main() {
    files();
    directories();
    open_file_renamed();
    in_tmp();
    cross_device();
    let mut left: Vec<String> =
        std::fs::read_dir(".").unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    println!("left: {left:?}");
}
