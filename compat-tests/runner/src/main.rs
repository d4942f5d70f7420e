//! compat-runner: builds the probe programs, runs every case natively and under unify,
//! and diffs what they print (stdout, exit status, and stderr where it is deterministic).
//!
//! ```text
//! cargo run -p compat-runner -- [--unify PATH] [--filter SUBSTR]... [--list]
//! ```
//!
//! One line per case (`PASS name`, `FAIL name: reason`, `SKIP name: reason`), then
//! `N passed, M failed[, K skipped]`. Exit status 1 if any case failed, 2 if the suite
//! could not run at all.
//!
//! Both runs get the same cleared environment (`LANG=C` plus the case's variables), the
//! same stdin (a pipe fed with the case's bytes, or /dev/null) and the same working directory: a shared
//! scratch directory, or for cases with a fixture a fresh copy of it per run (unify gets
//! its copy as `-v COPY:/work -w /work`). Lines that unify itself writes to stderr
//! (`unify: ...`, e.g. "syscall X is not implemented") are left out of the stderr
//! comparison and shown under a FAIL line.

mod cases;
mod diff;
mod exec;
mod fixture;
mod probes;
mod rgtree;
mod ripgrep;
mod under_test;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use cases::{Case, Fixture, Program, CASES};
use exec::{Outcome, Spec};
use probes::{CBuild, Paths};
use under_test::UnderTest;

#[derive(Parser, Debug)]
#[command(name = "compat-runner", about = "Run the compat probes natively and under unify and diff what they observe")]
struct Cli {
    /// The unify binary [default: the newest of target/release/unify and target/debug/unify]
    #[arg(long, value_name = "PATH")]
    unify: Option<PathBuf>,

    /// Platform for `unify run --platform` (only `hosted` for now)
    #[arg(long, default_value = "hosted")]
    platform: String,

    /// Run only the cases whose name contains SUBSTR (repeatable: any of them)
    #[arg(long, value_name = "SUBSTR")]
    filter: Vec<String>,

    /// List the cases (after --filter) and exit
    #[arg(long)]
    list: bool,

    /// Seconds before a single run is killed and reported as timed out
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    timeout: u64,

    /// Extra flag for `unify run`, e.g. --unify-arg=--trace (repeatable)
    #[arg(long = "unify-arg", value_name = "ARG", allow_hyphen_values = true)]
    unify_args: Vec<String>,

    /// Use this rg binary instead of fetching ripgrep's wheel from PyPI
    #[arg(long, value_name = "PATH")]
    rg: Option<PathBuf>,

    /// Compare two native runs instead of native vs unify (checks the probes are
    /// deterministic; needs no unify)
    #[arg(long)]
    native_twice: bool,

    /// On failure, also show the command lines and the full stderr of both runs
    #[arg(short, long)]
    verbose: bool,

    /// Fetch rg (if not cached), print its path and exit (for tools/demo and tools/bench)
    #[arg(long)]
    fetch_rg: bool,

    /// Generate the rg cases' tree (if not cached), print its path and exit (for tools/bench-rg)
    #[arg(long)]
    make_rg_tree: bool,
}

/// What a case runs with, once built or fetched.
struct Prepared {
    binary: PathBuf,
    /// The directory each run gets a fresh copy of (`None`: an empty one).
    fixture: Option<PathBuf>,
}

/// How a case ended up.
#[derive(Clone)]
enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

fn workspace_root() -> PathBuf {
    // compat-tests/runner → the workspace
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("compat-runner: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode, String> {
    under_test::check_platform(&cli.platform)?;
    if cli.fetch_rg {
        let paths = Paths { compat: workspace_root().join("compat-tests") };
        let rg = ripgrep::ensure(&paths.rg_cache())?;
        let rg = rg.canonicalize().unwrap_or(rg);
        println!("{}", rg.display());
        return Ok(ExitCode::SUCCESS);
    }
    if cli.make_rg_tree {
        let paths = Paths { compat: workspace_root().join("compat-tests") };
        println!("{}", rgtree::ensure(&paths.rg_tree_cache())?.display());
        return Ok(ExitCode::SUCCESS);
    }
    let selected: Vec<&Case> = CASES.iter().filter(|c| c.matches(&cli.filter)).collect();
    if selected.is_empty() {
        return Err(format!("no case matches --filter {:?} (see --list)", cli.filter));
    }
    if cli.list {
        for c in &selected {
            let args: Vec<String> = c.args.iter().map(|a| format!("{a:?}")).collect();
            let mut notes = Vec::new();
            if c.compare_stderr {
                notes.push("stdout+stderr".to_string());
            }
            if c.sort_stdout {
                notes.push("sorted".to_string());
            }
            if c.expect != cases::Expected::Exit(0) {
                notes.push(c.expect.to_string());
            }
            match c.fixture {
                Fixture::Shared => {}
                Fixture::Empty => notes.push("cwd: empty".to_string()),
                Fixture::Dir(d) => notes.push(format!("cwd: fixtures/{d}")),
                Fixture::RgTree => notes.push("cwd: rg tree".to_string()),
            }
            let notes = if notes.is_empty() { String::new() } else { format!("  [{}]", notes.join(", ")) };
            println!("{:<24} {} {}{notes}", c.name, c.program.describe(), args.join(" "));
        }
        return Ok(ExitCode::SUCCESS);
    }

    let under_test = if cli.native_twice {
        UnderTest::Native
    } else {
        let binary = match &cli.unify {
            // The runs happen in a scratch directory: make the path absolute.
            Some(p) if p.is_file() => p.canonicalize().unwrap_or_else(|_| p.clone()),
            Some(p) => return Err(format!("--unify {}: no such file", p.display())),
            None => under_test::find_unify(&workspace_root())?,
        };
        UnderTest::Unify { binary, platform: cli.platform.clone(), extra_args: cli.unify_args.clone() }
    };

    let paths = Paths { compat: workspace_root().join("compat-tests") };
    let binaries = prepare(cli, &paths, &selected)?;
    std::fs::create_dir_all(paths.work()).map_err(|e| format!("creating {}: {e}", paths.work().display()))?;

    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for case in &selected {
        let mut details = Vec::new();
        let verdict = match &binaries[case.name] {
            Err(v) => v.clone(),
            Ok(prepared) => match run_case(cli, &paths, &under_test, case, prepared) {
                Ok(None) => Verdict::Pass,
                Ok(Some((msg, d))) => {
                    details = d;
                    Verdict::Fail(msg)
                }
                Err(e) => Verdict::Fail(e),
            },
        };
        match verdict {
            Verdict::Pass => {
                passed += 1;
                println!("PASS {}", case.name);
            }
            Verdict::Fail(why) => {
                failed += 1;
                println!("FAIL {}: {why}", case.name);
                for line in &details {
                    println!("{line}");
                }
            }
            Verdict::Skip(why) => {
                skipped += 1;
                println!("SKIP {}: {why}", case.name);
            }
        }
        let _ = std::io::stdout().flush();
    }

    if failed == 0 {
        fixture::remove(&fixture::runs_base())?;
    } else if fixture::runs_base().is_dir() {
        println!("the working directories of the failed runs are kept in {}", fixture::runs_base().display());
    }
    let mut summary = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped"));
    }
    println!("{summary}");
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Runs one case on both sides. `Ok(None)`: it passes; `Ok(Some((reasons, details)))`:
/// it fails; `Err`: its working directories could not be prepared.
fn run_case(
    cli: &Cli,
    paths: &Paths,
    under_test: &UnderTest,
    case: &Case,
    prepared: &Prepared,
) -> Result<Option<(String, Vec<String>)>, String> {
    let label = under_test.label();
    let run_dir = fixture::runs_base().join(case.name);
    let (native_cwd, other_cwd) = if case.fixture == Fixture::Shared {
        (paths.work(), None)
    } else if case.fixture == Fixture::RgTree {
        let tree = prepared.fixture.clone().ok_or("the rg tree is missing")?;
        (tree.clone(), Some(tree))
    } else {
        let (a, b) = (run_dir.join("native"), run_dir.join(&label));
        fixture::fresh(prepared.fixture.as_deref(), &a)?;
        fixture::fresh(prepared.fixture.as_deref(), &b)?;
        (a, Some(b))
    };
    let native = Spec {
        program: prepared.binary.clone(),
        args: case.args.iter().map(Into::into).collect(),
        env: case.full_env(),
        stdin: case.stdin.map(|s| s.as_bytes().to_vec()),
        cwd: native_cwd,
        timeout: Duration::from_secs(cli.timeout),
    };
    let other = under_test.spec(&native, other_cwd.as_deref());
    let a = exec::run(&native);
    let b = exec::run(&other);
    let exp = diff::Expectation {
        status: case.expect,
        compare_stderr: case.compare_stderr,
        sort_stdout: case.sort_stdout,
        diagnostic_prefix: under_test.diagnostic_prefix(),
    };
    let reasons = diff::compare(&exp, "native", &a, &label, &b);
    if reasons.is_empty() {
        // Kept on failure, to look at what the runs left behind.
        fixture::remove(&run_dir)?;
        Ok(None)
    } else {
        Ok(Some((reasons.join("; "), failure_details(cli.verbose, &label, &native, &other, &a, &b))))
    }
}

/// Builds or fetches what the selected cases need; maps each case to its binary and
/// fixture, or to the verdict it gets without running (skipped: tool missing; failed:
/// build broke).
fn prepare(
    cli: &Cli,
    paths: &Paths,
    selected: &[&Case],
) -> Result<HashMap<&'static str, Result<Prepared, Verdict>>, String> {
    let needs = |f: fn(&Program) -> bool| selected.iter().any(|c| f(&c.program));
    if needs(|p| matches!(p, Program::Rust(_))) {
        eprintln!("compat-runner: building the Rust probes");
        probes::build_rust(paths)?;
    }
    let c_builds = if needs(|p| matches!(p, Program::C(_))) {
        eprintln!("compat-runner: building the C probes (musl)");
        probes::build_c(paths)
    } else {
        HashMap::new()
    };
    let rg = if needs(|p| matches!(p, Program::Ripgrep)) {
        match &cli.rg {
            Some(p) if p.is_file() => Ok(p.clone()),
            Some(p) => Err(format!("--rg {}: no such file", p.display())),
            None => {
                eprintln!("compat-runner: getting rg ({})", ripgrep::REQUIREMENT);
                ripgrep::ensure(&paths.rg_cache())
            }
        }
    } else {
        Err("not needed".into())
    };

    let rg_tree = if selected.iter().any(|c| c.fixture == Fixture::RgTree) {
        eprintln!("compat-runner: getting the rg tree");
        rgtree::ensure(&paths.rg_tree_cache()).and_then(|cached| {
            let copy = fixture::runs_base().join("rg-tree");
            fixture::fresh(Some(&cached), &copy)?;
            Ok(copy)
        })
    } else {
        Err("not needed".into())
    };

    let mut map = HashMap::new();
    for c in selected {
        let fixture = match c.fixture {
            Fixture::Shared | Fixture::Empty => Ok(None),
            Fixture::Dir(name) => {
                let dir = paths.fixtures().join(name);
                if dir.is_dir() {
                    Ok(Some(dir))
                } else {
                    Err(Verdict::Fail(format!("no fixture directory {}", dir.display())))
                }
            }
            Fixture::RgTree => rg_tree.clone().map(Some).map_err(Verdict::Fail),
        };
        let bin = match c.program {
            Program::Rust(name) => Ok(paths.rust_bin(name)),
            Program::C(name) => match c_builds.get(name) {
                Some(CBuild::Built(p)) => Ok(p.clone()),
                Some(CBuild::Unavailable(why)) => Err(Verdict::Skip(why.clone())),
                Some(CBuild::Failed(why)) => Err(Verdict::Fail(format!("build failed: {why}"))),
                None => Err(Verdict::Fail(format!("no C probe named {name}"))),
            },
            Program::Ripgrep => rg.clone().map_err(|e| Verdict::Skip(format!("rg unavailable: {e}"))),
        };
        let prepared = bin.and_then(|binary| fixture.map(|fixture| Prepared { binary, fixture }));
        map.insert(c.name, prepared);
    }
    Ok(map)
}

/// What helps to understand a failure, printed under the FAIL line: the stderr of the
/// run under test (its tail, or all of it with --verbose), and with --verbose the
/// command lines and the native stderr.
fn failure_details(verbose: bool, label: &str, native: &Spec, other: &Spec, a: &Outcome, b: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    if verbose {
        out.push(format!("    native command: {}", native.display()));
        out.push(format!("    {label} command: {}", other.display()));
        stream_lines(&mut out, "native stderr", &a.stderr, usize::MAX);
    }
    let max = if verbose { usize::MAX } else { 12 };
    stream_lines(&mut out, &format!("{label} stderr"), &b.stderr, max);
    out
}

fn stream_lines(out: &mut Vec<String>, name: &str, data: &[u8], max_lines: usize) {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(max_lines);
    if skip > 0 {
        out.push(format!("    {name} | ... ({skip} earlier lines)"));
    }
    for l in &lines[skip..] {
        out.push(format!("    {name} | {l}"));
    }
}
