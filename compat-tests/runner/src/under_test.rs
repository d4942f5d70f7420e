//! The side under test: how a native command line becomes a run under unify
//! (`unify run --platform hosted|vm [-v DIR:/work -w /work] [-e K=V]... -- BINARY ARGS...`),
//! or simply a second native run (to check that the probes themselves are deterministic).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cases::GUEST_WORK;
use crate::exec::Spec;

/// Platforms `unify run` can be asked for.
pub const PLATFORMS: &[&str] = &["hosted", "vm"];

#[derive(Clone, Debug)]
pub enum UnderTest {
    Unify {
        binary: PathBuf,
        platform: String,
        /// Extra flags for `unify run` (e.g. `--trace`), placed before the `-e`s.
        extra_args: Vec<String>,
    },
    /// Run natively a second time.
    Native,
}

impl UnderTest {
    /// The name used in messages (`native "..." vs hosted "..."`).
    pub fn label(&self) -> String {
        match self {
            UnderTest::Unify { platform, .. } => platform.clone(),
            UnderTest::Native => "rerun".to_string(),
        }
    }

    /// Prefix of the lines unify itself writes to stderr (not the guest's output).
    pub fn diagnostic_prefix(&self) -> Option<&'static str> {
        match self {
            UnderTest::Unify { .. } => Some("unify: "),
            UnderTest::Native => None,
        }
    }

    /// Turns the native command line into this side's. The environment of the unify
    /// process is the same as the native one, and every variable is also passed with
    /// `-e`, so the guest sees the same set whether unify forwards its own environment
    /// or not.
    ///
    /// `work` is this side's own copy of the case's working directory, if the case has
    /// one: a second native run simply runs in it; unify gets it as a volume at
    /// [`GUEST_WORK`] and that as the guest's working directory.
    pub fn spec(&self, native: &Spec, work: Option<&Path>) -> Spec {
        let cwd = work.map_or_else(|| native.cwd.clone(), Path::to_path_buf);
        match self {
            UnderTest::Native => Spec { cwd, ..native.clone() },
            UnderTest::Unify { binary, platform, extra_args } => {
                let mut args: Vec<OsString> = vec!["run".into(), "--platform".into(), platform.into()];
                args.extend(extra_args.iter().map(OsString::from));
                if let Some(dir) = work {
                    let mut volume = dir.as_os_str().to_os_string();
                    volume.push(format!(":{GUEST_WORK}"));
                    args.extend(["-v".into(), volume, "-w".into(), GUEST_WORK.into()]);
                }
                for (k, v) in &native.env {
                    args.push("-e".into());
                    args.push(format!("{k}={v}").into());
                }
                args.push("--".into());
                args.push(native.program.clone().into_os_string());
                args.extend(native.args.iter().cloned());
                Spec { program: binary.clone(), args, cwd, ..native.clone() }
            }
        }
    }
}

/// Checks the `--platform` values (each once); the VM needs QEMU, which is looked for
/// on `path` (`$PATH`) so that a missing one stops the suite at once instead of failing
/// every case.
pub fn check_platforms(platforms: &[String], path: Option<&std::ffi::OsStr>) -> Result<(), String> {
    if platforms.is_empty() {
        return Err("--platform: give at least one of hosted, vm".into());
    }
    for (i, p) in platforms.iter().enumerate() {
        if !PLATFORMS.contains(&p.as_str()) {
            return Err(format!("unknown --platform '{p}': expected one of {}", PLATFORMS.join(", ")));
        }
        if platforms[..i].contains(p) {
            return Err(format!("--platform {p} is given twice"));
        }
    }
    if platforms.iter().any(|p| p == "vm") {
        let qemu = path.is_some_and(|path| std::env::split_paths(path).any(|d| d.join(QEMU).is_file()));
        if !qemu {
            return Err(format!("--platform vm needs {QEMU}: install the Debian package qemu-system-x86"));
        }
    }
    Ok(())
}

/// What `unify run --platform vm` boots the kernel with.
const QEMU: &str = "qemu-system-x86_64";

/// The default unify binary: the newest of `<target>/release/unify` and
/// `<target>/debug/unify`, where `<target>` is `$CARGO_TARGET_DIR` or
/// `<workspace>/target`.
pub fn find_unify(workspace: &Path) -> Result<PathBuf, String> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => workspace.join(t),
        None => workspace.join("target"),
    };
    let candidates = [target.join("release/unify"), target.join("debug/unify")];
    newest(&candidates).ok_or_else(|| {
        format!(
            "no unify binary at {} or {}: build it (cargo build -p unify) or pass --unify PATH",
            candidates[0].display(),
            candidates[1].display()
        )
    })
}

fn newest(paths: &[PathBuf]) -> Option<PathBuf> {
    paths
        .iter()
        .filter_map(|p| {
            let m = std::fs::metadata(p).ok()?;
            m.is_file().then(|| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), p.clone()))
        })
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn native() -> Spec {
        Spec {
            program: "/p/hello".into(),
            args: vec!["a".into(), "".into(), "--x".into()],
            env: vec![("LANG".into(), "C".into()), ("K".into(), "v w".into())],
            stdin: Some(b"in".to_vec()),
            cwd: "/w".into(),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn unify_command_line() {
        let u = UnderTest::Unify {
            binary: "/t/unify".into(),
            platform: "hosted".into(),
            extra_args: vec!["--trace".into()],
        };
        let s = u.spec(&native(), None);
        assert_eq!(s.program, PathBuf::from("/t/unify"));
        let args: Vec<String> = s.args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(
            args,
            ["run", "--platform", "hosted", "--trace", "-e", "LANG=C", "-e", "K=v w", "--", "/p/hello", "a", "", "--x"]
        );
        assert_eq!(s.env, native().env);
        assert_eq!(s.stdin.as_deref(), Some(&b"in"[..]));
        assert_eq!(s.cwd, PathBuf::from("/w"));
        assert_eq!(u.label(), "hosted");
    }

    #[test]
    fn unify_with_a_work_directory() {
        let u = UnderTest::Unify { binary: "/t/unify".into(), platform: "hosted".into(), extra_args: vec![] };
        let s = u.spec(&native(), Some(Path::new("/runs/case/hosted")));
        let args: Vec<String> = s.args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(
            args,
            [
                "run",
                "--platform",
                "hosted",
                "-v",
                "/runs/case/hosted:/work",
                "-w",
                "/work",
                "-e",
                "LANG=C",
                "-e",
                "K=v w",
                "--",
                "/p/hello",
                "a",
                "",
                "--x"
            ]
        );
        assert_eq!(s.cwd, PathBuf::from("/runs/case/hosted"));
    }

    #[test]
    fn native_again_is_identical() {
        let s = UnderTest::Native.spec(&native(), None);
        assert_eq!(s.program, native().program);
        assert_eq!(s.args, native().args);
        assert_eq!(s.cwd, native().cwd);
        let s = UnderTest::Native.spec(&native(), Some(Path::new("/runs/x/rerun")));
        assert_eq!(s.args, native().args);
        assert_eq!(s.cwd, PathBuf::from("/runs/x/rerun"));
    }

    #[test]
    fn platforms() {
        let list = |ps: &[&str]| ps.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let no_path = Some(std::ffi::OsStr::new("/nonexistent"));
        assert!(check_platforms(&list(&["hosted"]), no_path).is_ok());
        assert!(check_platforms(&list(&["xen"]), no_path).unwrap_err().contains("unknown --platform"));
        assert!(check_platforms(&list(&["hosted", "hosted"]), no_path).unwrap_err().contains("twice"));
        assert!(check_platforms(&[], no_path).is_err());
        let err = check_platforms(&list(&["hosted", "vm"]), no_path).unwrap_err();
        assert!(err.contains("qemu-system-x86"), "{err}");

        let dir = std::env::temp_dir().join(format!("compat-runner-qemu-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(QEMU), "").unwrap();
        assert!(check_platforms(&list(&["hosted", "vm"]), Some(dir.as_os_str())).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn vm_command_line() {
        let u = UnderTest::Unify { binary: "/t/unify".into(), platform: "vm".into(), extra_args: vec![] };
        let args: Vec<String> = u.spec(&native(), None).args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args[..3], ["run", "--platform", "vm"]);
        assert_eq!(u.label(), "vm");
    }

    #[test]
    fn newest_wins() {
        let dir = std::env::temp_dir().join(format!("compat-runner-newest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::write(&a, "a").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&b, "b").unwrap();
        assert_eq!(newest(&[a.clone(), b.clone()]), Some(b.clone()));
        assert_eq!(newest(&[a.clone(), dir.join("missing")]), Some(a));
        assert_eq!(newest(&[dir.join("missing")]), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
