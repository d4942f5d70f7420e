//! access / faccessat / faccessat2 and chdir / fchdir / getcwd: existence and read
//! checks, relative paths after chdir, getcwd after the working directory's parent is
//! renamed, and after the working directory itself is removed. Paths are printed
//! relative to the starting directory (natively a scratch copy, under unify `/work`).

use probes::fsutil::{must, section, v, TmpDir};
use probes::sys::{self, AT_FDCWD};

use libc::{AT_EACCESS, AT_SYMLINK_NOFOLLOW, F_OK, O_CREAT, O_DIRECTORY, O_RDONLY, O_WRONLY, R_OK, W_OK, X_OK};

/// getcwd relative to `start` (`.` for the start itself), or the errno.
fn rel(start: &str) -> String {
    match sys::getcwd() {
        Ok(c) if c == start => ".".to_string(),
        Ok(c) => match c.strip_prefix(start).and_then(|r| r.strip_prefix('/')) {
            Some(r) => r.to_string(),
            None => format!("outside the start directory (absolute: {})", c.starts_with('/')),
        },
        Err(e) => format!("Err({e})"),
    }
}

fn access() {
    section("access");
    std::fs::write("file", "x").unwrap();
    std::fs::create_dir("dir").unwrap();
    println!("F_OK file: {}", v(sys::access("file", F_OK)));
    println!("R_OK file: {}", v(sys::access("file", R_OK)));
    println!("R_OK|W_OK file: {}", v(sys::access("file", R_OK | W_OK)));
    println!("F_OK dir: {}", v(sys::access("dir", F_OK)));
    println!("R_OK|X_OK dir: {}", v(sys::access("dir", R_OK | X_OK)));
    println!("F_OK missing: {}", v(sys::access("missing", F_OK)));
    println!("R_OK missing: {}", v(sys::access("missing", R_OK)));
    println!("F_OK file/x: {}", v(sys::access("file/x", F_OK)));
    println!("F_OK file/: {}", v(sys::access("file/", F_OK)));
    println!("bad mode bits: {}", v(sys::access("file", 0x10)));
    let d = must("open dir", sys::open("dir", O_RDONLY | O_DIRECTORY, 0));
    std::fs::write("dir/inner", "y").unwrap();
    println!("faccessat relative to a dir fd: {}", v(sys::faccessat(d, "inner", R_OK)));
    println!("faccessat missing: {}", v(sys::faccessat(d, "nope", F_OK)));
    println!("faccessat bad dirfd: {}", v(sys::faccessat(999, "inner", F_OK)));
    println!("faccessat2 AT_EACCESS: {}", v(sys::faccessat2(d, "inner", R_OK, AT_EACCESS)));
    println!("faccessat2 AT_SYMLINK_NOFOLLOW: {}", v(sys::faccessat2(d, "inner", F_OK, AT_SYMLINK_NOFOLLOW)));
    println!("faccessat2 AT_EMPTY_PATH on a dir fd: {}", v(sys::faccessat2(d, "", F_OK, libc::AT_EMPTY_PATH)));
    println!("faccessat2 unknown flag: {}", v(sys::faccessat2(d, "inner", F_OK, 0x1)));
    sys::close(d);

    let tmp = TmpDir::new("fs_cwd");
    std::fs::write(tmp.at("plain"), "p").unwrap();
    sys::chmod(&tmp.at("plain"), 0o644);
    std::fs::write(tmp.at("script"), "s").unwrap();
    sys::chmod(&tmp.at("script"), 0o755);
    println!("X_OK on a 0644 file in /tmp: {}", v(sys::access(&tmp.at("plain"), X_OK)));
    println!("X_OK on a 0755 file in /tmp: {}", v(sys::access(&tmp.at("script"), X_OK)));
    sys::symlink("nowhere", &tmp.at("dangling"));
    println!("F_OK on a dangling symlink: {}", v(sys::access(&tmp.at("dangling"), F_OK)));
    println!(
        "faccessat2 AT_SYMLINK_NOFOLLOW on it: {}",
        v(sys::faccessat2(AT_FDCWD, &tmp.at("dangling"), F_OK, AT_SYMLINK_NOFOLLOW))
    );
}

fn chdirs(start: &str) {
    section("chdir and getcwd");
    std::fs::create_dir_all("a/b/c").unwrap();
    std::fs::write("a/b/c/leaf", "leaf").unwrap();
    println!("getcwd: {}", rel(start));
    println!("getcwd is absolute: {}", sys::getcwd().map(|c| c.starts_with('/')).unwrap_or(false));
    println!("chdir a/b: {}", v(sys::chdir("a/b")));
    println!("getcwd: {}", rel(start));
    println!("relative open c/leaf: {:?}", std::fs::read_to_string("c/leaf").unwrap_or_default());
    println!("relative ../../file exists: {}", std::path::Path::new("../../file").exists());
    println!("chdir ..: {}", v(sys::chdir("..")));
    println!("getcwd: {}", rel(start));
    println!("chdir ./b/./c/../c: {}", v(sys::chdir("./b/./c/../c")));
    println!("getcwd: {}", rel(start));
    println!("chdir to the start by absolute path: {}", v(sys::chdir(start)));
    println!("getcwd: {}", rel(start));
    println!("chdir missing: {}", v(sys::chdir("missing")));
    println!("chdir a file: {}", v(sys::chdir("file")));
    println!("chdir empty path: {}", v(sys::chdir("")));
    println!("getcwd unchanged by failures: {}", rel(start));
    let d = must("open a/b/c", sys::open("a/b/c", O_RDONLY | O_DIRECTORY, 0));
    let f = must("open file", sys::open("file", O_RDONLY, 0));
    println!("fchdir to a/b/c: {}", v(sys::fchdir(d)));
    println!("getcwd: {}", rel(start));
    println!("fchdir to a file fd: {}", v(sys::fchdir(f)));
    println!("fchdir bad fd: {}", v(sys::fchdir(999)));
    sys::close(f);
    sys::close(d);
    println!("getcwd into 1 byte: {}", v(sys::getcwd_sized(1)));
    println!("getcwd into 0 bytes: {}", v(sys::getcwd_sized(0)));
    let len = sys::getcwd().map(|c| c.len()).unwrap_or(0);
    println!("getcwd into exactly len+1 bytes: {}", sys::getcwd_sized(len + 1) == (len + 1) as isize);
    println!("getcwd into len bytes: {}", v(sys::getcwd_sized(len)));
    println!("std current_dir matches getcwd: {}", {
        let std_cwd = std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(std_cwd) == sys::getcwd()
    });

    section("renaming the parent of the working directory");
    println!("chdir START/a/b: {}", v(sys::chdir(&format!("{start}/a/b"))));
    println!("rename ../../a -> ../../z: {}", v(sys::rename("../../a", "../../z")));
    println!("getcwd: {}", rel(start));
    println!("relative paths still work: {:?}", std::fs::read_to_string("c/leaf").unwrap_or_default());
    println!("chdir ../..: {}", v(sys::chdir("../..")));
    println!("getcwd: {}", rel(start));

    section("removing the working directory");
    let home = must("open start", sys::open(".", O_RDONLY | O_DIRECTORY, 0));
    std::fs::create_dir("doomed").unwrap();
    println!("chdir doomed: {}", v(sys::chdir("doomed")));
    println!("rmdir ../doomed: {}", v(sys::rmdir("../doomed")));
    println!("getcwd: {}", rel(start));
    println!("create a file in it: {}", v(sys::open("new", O_CREAT | O_WRONLY, 0o644)));
    println!("stat .: {}", v(sys::stat(".").0));
    println!("fchdir back: {}", v(sys::fchdir(home)));
    println!("getcwd: {}", rel(start));
    sys::close(home);
}

fn main() {
    let start = sys::getcwd().expect("getcwd at start");
    access();
    chdirs(&start);
}
