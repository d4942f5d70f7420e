//! compat-runner: builds the probe programs, runs every case natively and under unify,
//! and diffs what they print (stdout, exit status, and stderr where it is deterministic).
//!
//! ```text
//! cargo run -p compat-runner -- [--unify PATH] [--platform hosted,vm] [--filter SUBSTR]... [--list]
//! ```
//!
//! Each case runs natively once and then on each platform asked for. One line per case
//! and platform (`PASS name`, `FAIL name: reason`, `SKIP name: reason`; with several
//! platforms the platform follows the name: `PASS name [vm]`), then a table of passed,
//! failed and skipped cases per platform (with the cases marked not applicable to a
//! platform and why), then `N passed, M failed[, K skipped]` over all. Exit status 1 if
//! any case failed, 2 if the suite could not run at all.
//!
//! Every run has a time limit (`--timeout`): a run past it is killed with its process
//! group and its case fails. unify's VM dies with unify (QEMU is started with
//! PR_SET_PDEATHSIG), so a hung VM fails its case, not the suite.
//!
//! Both runs get the same cleared environment (`LANG=C` plus the case's variables), the
//! same stdin (a pipe fed with the case's bytes, or /dev/null) and the same working directory: a shared
//! scratch directory, or for cases with a fixture a fresh copy of it per run (unify gets
//! its copy as `-v COPY:/work -w /work`). Lines that unify itself writes to stderr
//! (`unify: ...`, e.g. "syscall X is not implemented") are left out of the stderr
//! comparison and shown under a FAIL line.

mod cases;
mod client;
mod diff;
mod exec;
mod fixture;
mod probes;
mod rgtree;
mod ripgrep;
mod servers;
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

    /// Platforms for `unify run --platform`, comma-separated: hosted, vm. Each case runs
    /// natively once and on each of them.
    #[arg(long, default_value = "hosted", value_delimiter = ',', value_name = "PLATFORM,...")]
    platform: Vec<String>,

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

/// How a case ended up on one platform.
#[derive(Clone)]
enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
    /// Marked as not applicable to the platform (`Case::skip_on`), with the reason.
    NotApplicable(&'static str),
}

/// The verdicts of one platform.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
    /// The cases not applicable here, and why.
    not_applicable: Vec<(&'static str, &'static str)>,
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
    if !cli.native_twice && !cli.fetch_rg && !cli.make_rg_tree && !cli.list {
        under_test::check_platforms(&cli.platform, std::env::var_os("PATH").as_deref())?;
    }
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
            if c.publish {
                notes.push(format!("unify -p HOST:{}", servers::GUEST_PORT));
            }
            for (platform, _) in c.not_on.iter().flatten() {
                notes.push(format!("not on {platform}"));
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

    let sides: Vec<UnderTest> = if cli.native_twice {
        vec![UnderTest::Native]
    } else {
        let binary = match &cli.unify {
            // The runs happen in a scratch directory: make the path absolute.
            Some(p) if p.is_file() => p.canonicalize().unwrap_or_else(|_| p.clone()),
            Some(p) => return Err(format!("--unify {}: no such file", p.display())),
            None => under_test::find_unify(&workspace_root())?,
        };
        cli.platform
            .iter()
            .map(|p| UnderTest::Unify {
                binary: binary.clone(),
                platform: p.clone(),
                extra_args: cli.unify_args.clone(),
            })
            .collect()
    };
    let labels: Vec<String> = sides.iter().map(UnderTest::label).collect();

    let paths = Paths { compat: workspace_root().join("compat-tests") };
    let binaries = prepare(cli, &paths, &selected)?;
    std::fs::create_dir_all(paths.work()).map_err(|e| format!("creating {}: {e}", paths.work().display()))?;

    let mut tallies: Vec<Tally> = sides.iter().map(|_| Tally::default()).collect();
    for case in &selected {
        let results: Vec<(Verdict, Vec<String>)> = match &binaries[case.name] {
            Err(v) => sides.iter().map(|_| (v.clone(), Vec::new())).collect(),
            Ok(prepared) => run_case(cli, &paths, &sides, case, prepared),
        };
        for (i, (verdict, details)) in results.into_iter().enumerate() {
            let name = if sides.len() > 1 { format!("{} [{}]", case.name, labels[i]) } else { case.name.to_string() };
            let tally = &mut tallies[i];
            match verdict {
                Verdict::Pass => {
                    tally.passed += 1;
                    println!("PASS {name}");
                }
                Verdict::Fail(why) => {
                    tally.failed += 1;
                    println!("FAIL {name}: {why}");
                    for line in &details {
                        println!("{line}");
                    }
                }
                Verdict::Skip(why) => {
                    tally.skipped += 1;
                    println!("SKIP {name}: {why}");
                }
                Verdict::NotApplicable(why) => {
                    tally.skipped += 1;
                    tally.not_applicable.push((case.name, why));
                    println!("SKIP {name}: not applicable on {}: {why}", labels[i]);
                }
            }
        }
        let _ = std::io::stdout().flush();
    }

    let failed: usize = tallies.iter().map(|t| t.failed).sum();
    if failed == 0 {
        fixture::remove(&fixture::runs_base())?;
    } else if fixture::runs_base().is_dir() {
        println!("the working directories of the failed runs are kept in {}", fixture::runs_base().display());
    }
    print!("{}", table(&labels, &tallies));
    let passed: usize = tallies.iter().map(|t| t.passed).sum();
    let skipped: usize = tallies.iter().map(|t| t.skipped).sum();
    let mut summary = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped"));
    }
    println!("{summary}");
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The per-platform table, then the cases not applicable to each platform.
fn table(labels: &[String], tallies: &[Tally]) -> String {
    let width = labels.iter().map(String::len).max().unwrap_or(0).max("platform".len());
    let mut out = format!("{:<width$}  {:>6}  {:>6}  {:>7}\n", "platform", "passed", "failed", "skipped");
    for (label, t) in labels.iter().zip(tallies) {
        let na = match t.not_applicable.len() {
            0 => String::new(),
            n => format!("  ({n} not applicable)"),
        };
        out.push_str(&format!("{label:<width$}  {:>6}  {:>6}  {:>7}{na}\n", t.passed, t.failed, t.skipped));
    }
    for (label, t) in labels.iter().zip(tallies) {
        if !t.not_applicable.is_empty() {
            out.push_str(&format!("not applicable on {label}:\n"));
            for (name, why) in &t.not_applicable {
                out.push_str(&format!("  {name}: {why}\n"));
            }
        }
    }
    out
}

/// Runs one case natively and then on each side (the native run is shared, except by
/// the server cases, which run their native side per comparison). Returns each side's
/// verdict with the details to print under a FAIL line.
fn run_case(
    cli: &Cli,
    paths: &Paths,
    sides: &[UnderTest],
    case: &Case,
    prepared: &Prepared,
) -> Vec<(Verdict, Vec<String>)> {
    let applies = |side: &UnderTest| match side {
        UnderTest::Unify { platform, .. } => case.not_applicable(platform),
        UnderTest::Native => None,
    };
    if let Program::Server(_) = case.program {
        return sides
            .iter()
            .map(|side| match applies(side) {
                Some(why) => (Verdict::NotApplicable(why), Vec::new()),
                None => verdict(servers::run_case(&prepared.binary, side, case.publish)),
            })
            .collect();
    }
    let run_dir = fixture::runs_base().join(case.name);
    let native = match native_run(cli, paths, case, prepared, &run_dir) {
        Ok(n) => n,
        Err(e) => return sides.iter().map(|_| (Verdict::Fail(e.clone()), Vec::new())).collect(),
    };
    let results: Vec<(Verdict, Vec<String>)> = sides
        .iter()
        .map(|side| match applies(side) {
            Some(why) => (Verdict::NotApplicable(why), Vec::new()),
            None => verdict(compare_side(cli, case, prepared, &native, side, &run_dir)),
        })
        .collect();
    if results.iter().all(|(v, _)| !matches!(v, Verdict::Fail(_))) {
        // Kept on failure, to look at what the runs left behind.
        if let Err(e) = fixture::remove(&run_dir) {
            eprintln!("compat-runner: {e}");
        }
    }
    results
}

fn verdict(result: Result<Option<(String, Vec<String>)>, String>) -> (Verdict, Vec<String>) {
    match result {
        Ok(None) => (Verdict::Pass, Vec::new()),
        Ok(Some((msg, details))) => (Verdict::Fail(msg), details),
        Err(e) => (Verdict::Fail(e), Vec::new()),
    }
}

/// The native run of a case: its command line and what it did.
struct NativeRun {
    spec: Spec,
    outcome: Outcome,
}

fn native_run(cli: &Cli, paths: &Paths, case: &Case, prepared: &Prepared, run_dir: &Path) -> Result<NativeRun, String> {
    let cwd = match case.fixture {
        Fixture::Shared => paths.work(),
        Fixture::RgTree => prepared.fixture.clone().ok_or("the rg tree is missing")?,
        Fixture::Empty | Fixture::Dir(_) => {
            let dir = run_dir.join("native");
            fixture::fresh(prepared.fixture.as_deref(), &dir)?;
            dir
        }
    };
    let spec = Spec {
        program: prepared.binary.clone(),
        args: case.args.iter().map(Into::into).collect(),
        env: case.full_env(),
        stdin: case.stdin.map(|s| s.as_bytes().to_vec()),
        cwd,
        timeout: Duration::from_secs(cli.timeout),
    };
    let outcome = exec::run(&spec);
    Ok(NativeRun { spec, outcome })
}

/// Runs the case on one side and compares it with the native run. `Ok(None)`: it
/// passes; `Ok(Some((reasons, details)))`: it fails; `Err`: its working directory could
/// not be prepared.
fn compare_side(
    cli: &Cli,
    case: &Case,
    prepared: &Prepared,
    native: &NativeRun,
    side: &UnderTest,
    run_dir: &Path,
) -> Result<Option<(String, Vec<String>)>, String> {
    let label = side.label();
    let work = match case.fixture {
        Fixture::Shared => None,
        Fixture::RgTree => Some(prepared.fixture.clone().ok_or("the rg tree is missing")?),
        Fixture::Empty | Fixture::Dir(_) => {
            let dir = run_dir.join(&label);
            fixture::fresh(prepared.fixture.as_deref(), &dir)?;
            Some(dir)
        }
    };
    let other = side.spec(&native.spec, work.as_deref());
    let b = exec::run(&other);
    let exp = diff::Expectation {
        status: case.expect,
        compare_stderr: case.compare_stderr,
        sort_stdout: case.sort_stdout,
        diagnostic_prefix: side.diagnostic_prefix(),
    };
    let known = match side {
        UnderTest::Unify { platform, .. } => case.known_difference(platform),
        UnderTest::Native => None,
    };
    let reasons = match known {
        Some(k) => {
            let (n, u) = (without_lines(&native.outcome, k.line_prefix), without_lines(&b, k.line_prefix));
            let reasons = diff::compare(&exp, "native", &n, &label, &u);
            if reasons.is_empty() {
                println!("  ({} on {label}: lines starting {:?} not compared: {})", case.name, k.line_prefix, k.reason);
            }
            reasons
        }
        None => diff::compare(&exp, "native", &native.outcome, &label, &b),
    };
    if reasons.is_empty() {
        Ok(None)
    } else {
        let details = failure_details(cli.verbose, &label, &native.spec, &other, &native.outcome, &b);
        Ok(Some((reasons.join("; "), details)))
    }
}

/// `outcome` with the stdout lines that start with `prefix` left out.
fn without_lines(outcome: &exec::Outcome, prefix: &str) -> exec::Outcome {
    let stdout = outcome
        .stdout
        .split_inclusive(|&b| b == b'\n')
        .filter(|line| !line.starts_with(prefix.as_bytes()))
        .flatten()
        .copied()
        .collect();
    exec::Outcome { status: outcome.status.clone(), stdout, stderr: outcome.stderr.clone() }
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
    let servers_built = if needs(|p| matches!(p, Program::Server(_))) {
        eprintln!("compat-runner: building the servers");
        servers::build(paths)
    } else {
        Err("not needed".into())
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
            Program::Server(name) => match &servers_built {
                Ok(()) => Ok(servers::binary(paths, name)),
                Err(e) => Err(Verdict::Fail(e.clone())),
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_per_platform() {
        let labels = ["hosted".to_string(), "vm".to_string()];
        let tallies = [
            Tally { passed: 95, failed: 0, skipped: 0, not_applicable: vec![] },
            Tally { passed: 3, failed: 90, skipped: 2, not_applicable: vec![("http_server", "why")] },
        ];
        assert_eq!(
            table(&labels, &tallies),
            "platform  passed  failed  skipped\n\
             hosted        95       0        0\n\
             vm             3      90        2  (1 not applicable)\n\
             not applicable on vm:\n  http_server: why\n"
        );
    }
}
