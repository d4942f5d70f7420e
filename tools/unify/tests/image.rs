//! Root filesystem images from the command line: `unify build`, `unify run IMAGE`,
//! `--image`, `-v`, `-w`, and what is (not) left on disk. Image contents are checked with
//! `FatVolume`; a few runs check what the guest is given.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use unify_rootfs::{FatVolume, FileDevice, FileKind, ImageBuilder, Manifest, MANIFEST_PATH};

/// unify with the hosted platform as the default (`UNIFY_PLATFORM`): these tests are
/// about images, and the VM platform's own tests are in vm.rs.
fn unify() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_unify"));
    c.env("UNIFY_PLATFORM", "hosted");
    c
}

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(tag: &str) -> Scratch {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("unify-image-tests-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// A static C program that prints its argv and environment, one per line, and exits 5.
fn echo_program(dir: &Path) -> PathBuf {
    let src = dir.join("echo.c");
    let exe = dir.join("echo");
    std::fs::write(
        &src,
        "#include <stdio.h>\nextern char **environ;\nint main(int c, char **v) { for (int i = 0; i < c; i++) \
         printf(\"arg %s\\n\", v[i]); for (char **e = environ; *e; e++) printf(\"env %s\\n\", *e); return 5; }\n",
    )
    .unwrap();
    support::build_c(&src, &exe)
}

/// A data tree: two directories, a few files.
fn data_tree(dir: &Path) -> PathBuf {
    let root = dir.join("site");
    std::fs::create_dir_all(root.join("css")).unwrap();
    std::fs::write(root.join("index.html"), "<h1>hi</h1>\n").unwrap();
    std::fs::write(root.join("css/main.css"), "h1 { color: red }\n").unwrap();
    root
}

fn open(image: &Path) -> FatVolume<FileDevice> {
    FatVolume::open(FileDevice::open_read_only(image).unwrap()).unwrap()
}

fn manifest(vol: &FatVolume<FileDevice>) -> Manifest {
    Manifest::parse(&vol.read_file(MANIFEST_PATH).unwrap()).unwrap()
}

fn read_only_paths(m: &Manifest) -> Vec<String> {
    m.extra
        .iter()
        .filter(|(k, _)| k == ImageBuilder::READ_ONLY_KEY)
        .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
        .collect()
}

/// A refusal: the status, exactly one line on stderr, nothing on stdout.
fn assert_refused(out: &Output, status: i32, mentions: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(status), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "exactly one line on stderr, got: {stderr:?}");
    assert!(stderr.starts_with("unify: ") && stderr.contains(mentions), "{stderr:?} should mention {mentions:?}");
    assert!(out.stdout.is_empty(), "{:?}", String::from_utf8_lossy(&out.stdout));
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn build_then_run_image_round_trips_the_manifest() {
    let dir = scratch("build");
    let exe = echo_program(&dir);
    let site = data_tree(&dir);
    let img = dir.join("app.img");
    let out = unify()
        .arg("build")
        .arg(&exe)
        .arg("-o")
        .arg(&img)
        .arg("-v")
        .arg(format!("{}:/srv/site:ro", site.display()))
        .args(["-w", "/srv/work", "-e", "GREETING=hello world", "--", "--flag", "two words"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout(&out);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.starts_with(&format!("{}: 512 MiB image, ", img.display())) && line.contains("runs /bin/echo"),
        "{line}"
    );

    let vol = open(&img);
    let m = manifest(&vol);
    assert_eq!(m.program, "/bin/echo");
    assert_eq!(m.argv, [b"/bin/echo".to_vec(), b"--flag".to_vec(), b"two words".to_vec()]);
    assert_eq!(m.env, [b"GREETING=hello world".to_vec()]);
    assert_eq!(m.cwd, "/srv/work");
    assert_eq!(read_only_paths(&m), ["/srv/site"]);
    assert_eq!(vol.read_file("/bin/echo").unwrap(), std::fs::read(&exe).unwrap());
    assert_eq!(vol.read_file("/srv/site/css/main.css").unwrap(), b"h1 { color: red }\n");
    assert_eq!(vol.stat("/srv/work").unwrap().kind, FileKind::Dir, "-w is created");
    for d in ImageBuilder::MOUNT_POINTS {
        assert_eq!(vol.stat(d).unwrap().kind, FileKind::Dir, "{d}");
        assert!(vol.read_dir(d).unwrap().is_empty(), "{d}");
    }
    drop(vol);

    // `unify run IMAGE` runs what the manifest says; ARGS replace argv[1..] and -e adds
    // to (or replaces in) the manifest's environment, for this run only.
    let out = unify().arg("run").arg(&img).output().unwrap();
    assert_eq!(stdout(&out), "arg /bin/echo\narg --flag\narg two words\nenv GREETING=hello world\n");
    assert_eq!(out.status.code(), Some(5));
    let out = unify().args(["-e", "GREETING=hi", "-e", "X=1"]).arg(&img).arg("other").output().unwrap();
    assert_eq!(stdout(&out), "arg /bin/echo\narg other\nenv GREETING=hi\nenv X=1\n");
    assert_eq!(manifest(&open(&img)), m, "a run without PROGRAM leaves the manifest alone");
}

#[test]
fn build_refuses_dynamic_programs_and_existing_outputs() {
    let dir = scratch("refuse");
    let img = dir.join("ls.img");
    let out = unify().args(["build", "/bin/ls", "-o"]).arg(&img).output().unwrap();
    assert_refused(&out, 126, "dynamically linked");
    assert!(!img.exists(), "nothing written");

    let exe = echo_program(&dir);
    std::fs::write(&img, "precious").unwrap();
    let out = unify().arg("build").arg(&exe).arg("-o").arg(&img).output().unwrap();
    assert_refused(&out, 2, "already exists");
    assert_eq!(std::fs::read(&img).unwrap(), b"precious");

    let out = unify().arg("build").arg(&exe).arg("-o").arg(&img).arg("--force").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(manifest(&open(&img)).program, "/bin/echo");

    let out = unify().args(["build", "/no/such/program", "-o"]).arg(dir.join("x.img")).output().unwrap();
    assert_refused(&out, 127, "no such file");
    let names: Vec<_> = std::fs::read_dir(&*dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 3, "echo.c, echo, ls.img and nothing else: {names:?}");
}

#[test]
fn volumes_copy_files_and_directories() {
    let dir = scratch("volumes");
    let exe = echo_program(&dir);
    let site = data_tree(&dir);
    std::os::unix::fs::symlink("index.html", site.join("link")).unwrap();
    let conf = dir.join("app.conf");
    std::fs::write(&conf, "key = value\n").unwrap();
    let img = dir.join("v.img");
    let out = unify()
        .arg("build")
        .arg(&exe)
        .arg("-o")
        .arg(&img)
        .arg("-v")
        .arg(format!("{}:/data", site.display()))
        .arg("-v")
        .arg(format!("{}:/config/app.conf:ro", conf.display()))
        .arg("-v")
        .arg(format!("{}:/data/extra.conf:rw", conf.display()))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.lines().all(|l| l.starts_with("unify: warning: ")), "{stderr}");
    assert!(stderr.contains("link: skipped: symbolic link"), "{stderr}");

    let vol = open(&img);
    assert_eq!(vol.read_file("/data/index.html").unwrap(), b"<h1>hi</h1>\n");
    assert_eq!(vol.read_file("/data/css/main.css").unwrap(), b"h1 { color: red }\n");
    assert_eq!(vol.read_file("/data/extra.conf").unwrap(), b"key = value\n");
    assert_eq!(vol.read_file("/config/app.conf").unwrap(), b"key = value\n");
    assert!(vol.stat("/data/link").is_err());
    assert_eq!(read_only_paths(&manifest(&vol)), ["/config/app.conf"]);
}

#[test]
fn bad_volumes_and_workdirs_are_one_line_usage_errors() {
    let dir = scratch("bad");
    let exe = echo_program(&dir);
    let site = data_tree(&dir);
    let odd = dir.join("odd");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join("what?.txt"), "").unwrap();
    let s = site.display();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["-v".into(), format!("{}/missing:/data", dir.display())], "no such file or directory"),
        (vec!["-v".into(), format!("{s}:data")], "must be absolute"),
        (vec!["-v".into(), format!("{s}")], "expected HOSTPATH:GUESTPATH"),
        (vec!["-v".into(), format!("{s}:/data"), "-v".into(), format!("{s}:/DATA")], "already given by -v"),
        (vec!["-v".into(), format!("{s}:/da*ta")], "FAT cannot store"),
        (vec!["-v".into(), format!("{}:/odd", odd.display())], "what?.txt"),
        (vec!["-v".into(), format!("{s}:/proc/site")], "mounted over by the libOS"),
        (vec!["-v".into(), format!("{s}:/bin/echo")], "where the program goes"),
        (vec!["-v".into(), format!("{s}:/.unify")], "reserved"),
        (vec!["-w".into(), "relative".into()], "must be absolute"),
        (vec!["-w".into(), "/tmp/below".into()], "mounted over"),
        (vec!["--size".into(), "12M".into()], "too small"),
    ];
    for (args, mentions) in cases {
        let out = unify().arg("run").args(&args).arg(&exe).output().unwrap();
        assert_refused(&out, 2, mentions);
        let img = dir.join("never.img");
        let out = unify().arg("build").arg(&exe).arg("-o").arg(&img).args(&args).output().unwrap();
        assert_refused(&out, 2, mentions);
        assert!(!img.exists(), "{args:?}: nothing written");
    }
}

#[test]
fn a_kept_image_is_built_once_then_reused() {
    let dir = scratch("kept");
    let exe = echo_program(&dir);
    let site = data_tree(&dir);
    let img = dir.join("kept.img");
    let volume = format!("{}:/data", site.display());

    // Built on first use: argv[0] as typed.
    let out =
        unify().arg("--image").arg(&img).args(["-v", &volume, "-e", "A=1", "--"]).arg(&exe).arg("x").output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout(&out), format!("arg {}\narg x\nenv A=1\n", exe.display()));
    let m = manifest(&open(&img));
    assert_eq!(m.argv, [exe.as_os_str().as_encoded_bytes().to_vec(), b"x".to_vec()]);

    // Reused without PROGRAM: the manifest's program, argv and env.
    let out = unify().arg("run").arg("--image").arg(&img).output().unwrap();
    assert_eq!(stdout(&out), format!("arg {}\narg x\nenv A=1\n", exe.display()));
    let out = unify().arg("run").arg("--image").arg(&img).args(["--size", "1G"]).output().unwrap();
    assert_refused(&out, 2, "keeps its size");

    // -v replaces what is at its guest path: files gone from the host are gone from the image.
    std::fs::remove_file(site.join("index.html")).unwrap();
    std::fs::write(site.join("new.txt"), "new\n").unwrap();
    let out = unify().arg("run").arg("--image").arg(&img).args(["-v", &format!("{volume}:ro")]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    let vol = open(&img);
    assert!(vol.stat("/data/index.html").is_err());
    assert_eq!(vol.read_file("/data/new.txt").unwrap(), b"new\n");
    assert_eq!(read_only_paths(&manifest(&vol)), ["/data"]);
    assert_eq!(manifest(&vol).argv, m.argv, "no PROGRAM: the manifest's run is unchanged");
    drop(vol);

    // A PROGRAM given again replaces /bin/<name> and the manifest's argv, env and cwd.
    let out = unify().arg("--image").arg(&img).args(["-w", "/data", "--"]).arg(&exe).output().unwrap();
    assert_eq!(stdout(&out), format!("arg {}\n", exe.display()));
    let m = manifest(&open(&img));
    assert_eq!((m.argv.len(), m.env.len(), m.cwd.as_str()), (1, 0, "/data"));
    assert_eq!(read_only_paths(&m), ["/data"], "read-only marks stay until -v replaces the path");

    // Not an image: refused, untouched.
    let out = unify().arg("--image").arg(&exe).arg(&exe).output().unwrap();
    assert_refused(&out, 126, "not a unify image");
    let out = unify().arg("run").arg("--image").arg(dir.join("missing.img")).output().unwrap();
    assert_refused(&out, 127, "no such image");
    let out = unify().arg("run").arg("--image").arg(&img).arg(&img).output().unwrap();
    assert_refused(&out, 2, "give one of them");
}

#[test]
fn a_kept_image_in_use_is_refused() {
    let dir = scratch("locked");
    let exe = echo_program(&dir);
    let img = dir.join("locked.img");
    assert!(unify().arg("build").arg(&exe).arg("-o").arg(&img).output().unwrap().status.success());
    let held = std::fs::File::open(&img).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&held), libc::LOCK_EX) }, 0);
    let out = unify().arg(&img).output().unwrap();
    assert_refused(&out, 126, "in use by another unify run");
    drop(held);
    assert_eq!(unify().arg(&img).output().unwrap().status.code(), Some(5));
}

#[test]
fn temporary_images_leave_nothing_in_tmpdir() {
    let dir = scratch("tmpdir");
    let exe = echo_program(&dir);
    let site = data_tree(&dir);
    let tmpdir = dir.join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    let out =
        unify().env("TMPDIR", &tmpdir).arg("-v").arg(format!("{}:/data", site.display())).arg(&exe).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    // A build that fails (the content does not fit the size asked for).
    std::fs::write(site.join("big"), vec![7u8; 40 << 20]).unwrap();
    let out = unify()
        .env("TMPDIR", &tmpdir)
        .args(["--size", "34M", "-v"])
        .arg(format!("{}:/data", site.display()))
        .arg(&exe)
        .output()
        .unwrap();
    assert_refused(&out, 126, "the image is full");
    assert_eq!(std::fs::read_dir(&tmpdir).unwrap().count(), 0, "nothing left in TMPDIR");
}

#[test]
fn argv0_is_the_program_as_typed() {
    let dir = scratch("argv0");
    echo_program(&dir);
    let out = unify().current_dir(&*dir).args(["./echo", "a"]).output().unwrap();
    assert_eq!(stdout(&out), "arg ./echo\narg a\n");
}
