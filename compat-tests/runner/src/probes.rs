//! Building the probe programs: the Rust probes with cargo (glibc, crt-static) and the C
//! probes with musl (`musl-gcc -static`, and a static-pie variant linked by hand since
//! musl-gcc's specs cannot produce one).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cases::{CProbe, Link, C_PROBES};

pub const RUST_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Where things are, all derived from the `compat-tests` directory.
#[derive(Clone, Debug)]
pub struct Paths {
    pub compat: PathBuf,
}

impl Paths {
    pub fn probes_manifest(&self) -> PathBuf {
        self.compat.join("probes/Cargo.toml")
    }
    pub fn probes_target(&self) -> PathBuf {
        self.compat.join("probes/target")
    }
    pub fn rust_bin(&self, name: &str) -> PathBuf {
        self.probes_target().join(RUST_TARGET).join("release").join(name)
    }
    pub fn c_sources(&self) -> PathBuf {
        self.compat.join("probes-c")
    }
    pub fn c_out(&self) -> PathBuf {
        self.probes_target().join("musl")
    }
    /// The working directory of the runs of cases without a fixture.
    pub fn work(&self) -> PathBuf {
        self.probes_target().join("work")
    }
    /// Committed fixture directories.
    pub fn fixtures(&self) -> PathBuf {
        self.compat.join("fixtures")
    }
    pub fn rg_cache(&self) -> PathBuf {
        self.compat.join(".cache/ripgrep")
    }
    pub fn rg_tree_cache(&self) -> PathBuf {
        self.compat.join(".cache/rg-tree")
    }
}

/// Builds all Rust probes. Cargo's own output goes to our stderr.
pub fn build_rust(paths: &Paths) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "--target", RUST_TARGET, "--manifest-path"])
        .arg(paths.probes_manifest())
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        // Would override RUSTFLAGS if inherited from an outer cargo.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", paths.probes_target())
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("running {}: {e}", cargo.to_string_lossy()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo build of the probes failed ({status})"))
    }
}

/// The result of building one C probe.
#[derive(Clone, Debug)]
pub enum CBuild {
    Built(PathBuf),
    /// The toolchain is missing: the cases are skipped.
    Unavailable(String),
    /// The toolchain is there but the build failed: the cases fail.
    Failed(String),
}

/// Builds every C probe (they are tiny: always rebuilt).
pub fn build_c(paths: &Paths) -> HashMap<&'static str, CBuild> {
    let mut out = HashMap::new();
    let musl_gcc = match which("musl-gcc") {
        Some(p) => p,
        None => {
            let why = "musl-gcc not found (apt-get install musl-tools)".to_string();
            for p in C_PROBES {
                out.insert(p.name, CBuild::Unavailable(why.clone()));
            }
            return out;
        }
    };
    if let Err(e) = fs::create_dir_all(paths.c_out()) {
        for p in C_PROBES {
            out.insert(p.name, CBuild::Failed(format!("creating {}: {e}", paths.c_out().display())));
        }
        return out;
    }
    for p in C_PROBES {
        let result = match p.link {
            Link::Static => build_static(paths, &musl_gcc, p),
            Link::StaticPie => build_static_pie(paths, &musl_gcc, p),
        };
        out.insert(p.name, result);
    }
    out
}

fn run_compiler(cmd: &mut Command) -> Result<(), String> {
    let o = cmd.stdin(Stdio::null()).output().map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    if o.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        Err(format!("{:?} failed: {}", cmd.get_program(), err.trim()))
    }
}

fn build_static(paths: &Paths, musl_gcc: &Path, p: &CProbe) -> CBuild {
    let out = paths.c_out().join(p.name);
    let r = run_compiler(
        Command::new(musl_gcc)
            .args(["-static", "-O2", "-Wall", "-Wextra", "-o"])
            .arg(&out)
            .arg(paths.c_sources().join(p.source)),
    );
    match r {
        Ok(()) => CBuild::Built(out),
        Err(e) => CBuild::Failed(e),
    }
}

/// musl static-pie: compile with musl-gcc (its headers), link with the system gcc
/// against musl's self-relocating `rcrt1.o` and `libc.a`.
fn build_static_pie(paths: &Paths, musl_gcc: &Path, p: &CProbe) -> CBuild {
    let Some(lib) = musl_lib_dir(musl_gcc) else {
        return CBuild::Unavailable("musl's rcrt1.o not found (needed for static-pie)".into());
    };
    let Some(gcc) = which("gcc") else {
        return CBuild::Unavailable("gcc not found (needed to link static-pie)".into());
    };
    let obj = paths.c_out().join(format!("{}.o", p.name));
    let out = paths.c_out().join(p.name);
    let gcc_file = |name: &str| -> Result<PathBuf, String> {
        let o = Command::new(&gcc).arg(format!("-print-file-name={name}")).output().map_err(|e| format!("gcc: {e}"))?;
        Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
    };
    let result = (|| -> Result<(), String> {
        run_compiler(
            Command::new(musl_gcc)
                .args(["-fPIE", "-O2", "-Wall", "-Wextra", "-c", "-o"])
                .arg(&obj)
                .arg(paths.c_sources().join(p.source)),
        )?;
        let libgcc = Command::new(&gcc).arg("-print-libgcc-file-name").output().map_err(|e| format!("gcc: {e}"))?;
        let libgcc = PathBuf::from(String::from_utf8_lossy(&libgcc.stdout).trim());
        run_compiler(
            Command::new(&gcc)
                .args(["-static-pie", "-nostdlib", "-o"])
                .arg(&out)
                .arg(lib.join("rcrt1.o"))
                .arg(lib.join("crti.o"))
                .arg(gcc_file("crtbeginS.o")?)
                .arg(&obj)
                .arg("-L")
                .arg(&lib)
                .arg("-lc")
                .arg(libgcc)
                .arg(gcc_file("crtendS.o")?)
                .arg(lib.join("crtn.o")),
        )
    })();
    match result {
        Ok(()) => CBuild::Built(out),
        Err(e) => CBuild::Failed(e),
    }
}

/// musl's library directory: where musl-gcc's specs file lives (Debian:
/// /usr/lib/x86_64-linux-musl), else a few usual install prefixes.
fn musl_lib_dir(musl_gcc: &Path) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(script) = fs::read_to_string(musl_gcc) {
        for tok in script.split(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
            if tok.ends_with("musl-gcc.specs") {
                if let Some(dir) = Path::new(tok).parent() {
                    candidates.push(dir.to_path_buf());
                }
            }
        }
    }
    for d in ["/usr/lib/x86_64-linux-musl", "/usr/lib/musl/lib", "/usr/local/musl/lib"] {
        candidates.push(PathBuf::from(d));
    }
    candidates.into_iter().find(|d| d.join("rcrt1.o").is_file() && d.join("libc.a").is_file())
}

/// Looks a program up in PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}
