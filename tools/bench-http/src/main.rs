//! bench-http: the compat suite's HTTP server (tokio's multi-threaded runtime + hyper,
//! compat-tests/servers) natively, hosted on unify, as a unify VM and in a Linux VM, in
//! one run (issue 6).
//!
//! A benchmark, not a test: it prints figures. The four servers run at once; the load
//! generator, `http_load`, sends rounds of requests to each in turn (a different side
//! first each round, so other load on this shared machine shifts them alike), after one
//! untimed warm-up round each. The VMs run under TCG, which is slow, so they get their
//! own, smaller number of rounds. Printed: the median requests/s and p99 latency of each
//! side's rounds, hosted/native, VM/Linux VM and VM/native, the exact command lines and
//! how the two VMs' QEMU flags differ. See README.md.

mod client;
mod flags;
mod load;
mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use clap::Parser;

use bench_vm::debian;
use bench_vm::linuxvm::shell_line;
use load::{Round, Spread};
use server::{Kind, Server, Setup};

#[derive(Parser, Debug)]
#[command(
    about = "The tokio + hyper HTTP server natively, hosted, as a unify VM and in a Linux VM, loaded by http_load"
)]
struct Args {
    /// Timed rounds of native and hosted (after one untimed warm-up round each).
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    /// Requests per round for native and hosted.
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Timed rounds of each VM (after one untimed warm-up round each).
    #[arg(long, default_value_t = 5)]
    vm_rounds: usize,
    /// Requests per round for each VM (TCG is slow).
    #[arg(long, default_value_t = 5000)]
    vm_requests: usize,
    /// Keep-alive connections, on every side.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// The load generator: bench-http's own client (connections opened one at a time
    /// before the clock starts), or compat-tests' http_load (all at once: QEMU's
    /// forwarded port, with its backlog of 1, then makes VM rounds take from 1 s to
    /// minutes).
    #[arg(long, value_enum, default_value = "client")]
    load_tool: LoadTool,
    /// The sides to run, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "native,hosted,vm,linux-vm")]
    sides: Vec<Kind>,
    /// Memory of each VM, MiB (unify -m, QEMU -m).
    #[arg(long, default_value_t = 256)]
    mem: u32,
    /// The unify binary (default: target/release/unify, built first with
    /// `cargo build --release -p unify`).
    #[arg(long, value_name = "PATH")]
    unify: Option<PathBuf>,
    /// The server (default: compat-tests/servers' http_server, built first).
    #[arg(long, value_name = "PATH")]
    server: Option<PathBuf>,
    /// http_load for --load-tool http-load (default: compat-tests/servers' http_load, built first).
    #[arg(long, value_name = "PATH")]
    load: Option<PathBuf>,
    /// Build nothing: use the binaries as they are.
    #[arg(long)]
    no_build: bool,
    /// bench-vm's cache: Debian's kernel, the initramfs images (default: target/bench-vm).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Seconds a server may take to answer its first request (a VM boots in that time).
    #[arg(long, default_value_t = 60)]
    boot_timeout: u64,
    /// Seconds one load round may take before it is killed and counts as failed.
    #[arg(long, default_value_t = 120)]
    round_timeout: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LoadTool {
    /// bench-http's client (src/client.rs).
    Client,
    /// compat-tests/servers' http_load.
    HttpLoad,
}

/// One side of the benchmark and what it measured.
struct Side {
    kind: Kind,
    requests: usize,
    rounds_wanted: usize,
    port: u16,
    command: Vec<String>,
    qemu: Option<Vec<String>>,
    server: Option<Server>,
    ready: Option<Duration>,
    rounds: Vec<Round>,
    errors: Vec<String>,
    /// Why the side is out (it did not start, serve, or survive).
    failed: Option<String>,
    /// How its server stopped.
    stopped: Option<Result<String, String>>,
}

impl Side {
    fn fail(&mut self, why: String) {
        eprintln!("bench-http: {}: {why}", self.kind.label());
        if self.failed.is_none() {
            self.failed = Some(why);
        }
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(mut s) = self.server.take() {
            self.stopped = Some(s.stop(Duration::from_secs(20)));
        }
    }

    fn rps(&self) -> Option<Spread> {
        load::spread(self.rounds.iter().map(|r| r.rps).collect())
    }

    fn p99_ms(&self) -> Option<Spread> {
        load::spread(self.rounds.iter().map(|r| r.p99_us as f64 / 1000.0).collect())
    }

    fn p50_ms(&self) -> Option<f64> {
        load::median(self.rounds.iter().map(|r| r.p50_us as f64 / 1000.0).collect())
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench-http: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Runs the benchmark; Ok(false) if a side failed or a server did not stop cleanly.
fn run(args: Args) -> Result<bool, String> {
    let began = Instant::now();
    let root = workspace();
    let cache = args.cache.clone().unwrap_or_else(|| root.join("target/bench-vm"));
    let servers_bin = root.join("compat-tests/servers/target/x86_64-unknown-linux-gnu/release");
    let mut kinds: Vec<Kind> = Vec::new();
    for k in &args.sides {
        if !kinds.contains(k) {
            kinds.push(*k);
        }
    }

    if !args.no_build {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let needs_unify = kinds.iter().any(|k| matches!(k, Kind::Hosted | Kind::Vm));
        if args.unify.is_none() && needs_unify {
            build(Command::new(&cargo).current_dir(&root).args(["build", "--release", "-q", "-p", "unify"]))?;
        }
        if args.server.is_none() || (args.load.is_none() && args.load_tool == LoadTool::HttpLoad) {
            build(
                Command::new(&cargo)
                    .current_dir(&root)
                    .env("RUSTFLAGS", "-C target-feature=+crt-static")
                    .args(["build", "--release", "-q", "--target", "x86_64-unknown-linux-gnu", "--manifest-path"])
                    .arg(root.join("compat-tests/servers/Cargo.toml")),
            )?;
        }
    }
    let unify = args.unify.clone().unwrap_or_else(|| root.join("target/release/unify"));
    let server = args.server.clone().unwrap_or_else(|| servers_bin.join("http_server"));
    let loader = args.load.clone().unwrap_or_else(|| servers_bin.join("http_load"));
    let needed = if args.load_tool == LoadTool::HttpLoad { vec![&server, &loader] } else { vec![&server] };
    for p in needed {
        if !p.is_file() {
            return Err(format!("no {} (build compat-tests/servers: see compat-tests/README.md)", p.display()));
        }
    }
    let setup = Setup { unify: &unify, server: &server, mem_mib: args.mem, cache: &cache };

    let mut sides: Vec<Side> = kinds
        .iter()
        .map(|&kind| Side {
            kind,
            requests: if kind.is_vm() { args.vm_requests } else { args.requests },
            rounds_wanted: if kind.is_vm() { args.vm_rounds } else { args.rounds },
            port: 0,
            command: Vec::new(),
            qemu: None,
            server: None,
            ready: None,
            rounds: Vec::new(),
            errors: Vec::new(),
            failed: None,
            stopped: None,
        })
        .collect();

    // Start every server, then wait for all of them together (so that each one's
    // "serving after" is its own: the VMs boot meanwhile).
    let kernel = if kinds.contains(&Kind::LinuxVm) { Some(debian::kernel(&cache, false)) } else { None };
    for side in sides.iter_mut() {
        let started = (|| {
            if matches!(side.kind, Kind::Hosted | Kind::Vm) && !unify.is_file() {
                return Err(format!("no {} (cargo build --release -p unify)", unify.display()));
            }
            let kernel = match (&kernel, side.kind) {
                (Some(Err(e)), Kind::LinuxVm) => return Err(format!("Debian's kernel: {e}")),
                (Some(Ok(k)), _) => Some(k),
                _ => None,
            };
            Server::start(side.kind, server::free_port()?, &setup, kernel)
        })();
        match started {
            Ok(s) => {
                side.port = s.port;
                side.command = s.command.clone();
                side.server = Some(s);
            }
            Err(e) => side.fail(format!("did not start: {e}")),
        }
    }
    let boot_timeout = Duration::from_secs(args.boot_timeout);
    let readiness: Vec<Option<Result<Duration, String>>> = std::thread::scope(|scope| {
        let waits: Vec<_> = sides
            .iter_mut()
            .map(|side| side.server.as_mut().map(|s| scope.spawn(move || s.wait_ready(boot_timeout))))
            .collect();
        waits.into_iter().map(|w| w.map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())))).collect()
    });
    for (side, ready) in sides.iter_mut().zip(readiness) {
        match ready {
            Some(Ok(t)) => {
                side.ready = Some(t);
                side.qemu = side.server.as_ref().and_then(|s| s.qemu.clone());
                eprintln!(
                    "bench-http: {} serving on 127.0.0.1:{} after {:.0} ms",
                    side.kind.label(),
                    side.port,
                    t.as_secs_f64() * 1000.0
                );
            }
            Some(Err(e)) => side.fail(format!("not serving: {e}")),
            None => {}
        }
    }

    // One untimed round each.
    let round_timeout = Duration::from_secs(args.round_timeout);
    let load_round = |port: u16, requests: usize| match args.load_tool {
        LoadTool::Client => client::round(port, requests, args.connections, round_timeout),
        LoadTool::HttpLoad => load::round(&loader, port, requests, args.connections, round_timeout),
    };
    for side in sides.iter_mut().filter(|s| s.server.is_some()) {
        if let Err(e) = load_round(side.port, side.requests) {
            side.fail(format!("warm-up round: {e}"));
        }
    }

    let total_rounds = sides.iter().map(|s| s.rounds_wanted).max().unwrap_or(0);
    for r in 0..total_rounds {
        let active: Vec<usize> =
            (0..sides.len()).filter(|&i| sides[i].server.is_some() && r < sides[i].rounds_wanted).collect();
        if active.is_empty() {
            break;
        }
        let mut progress = Vec::new();
        for k in 0..active.len() {
            let side = &mut sides[active[(k + r) % active.len()]];
            match load_round(side.port, side.requests) {
                Ok(round) => {
                    progress.push(format!("{} {:.0}/s p99 {:.2} ms", side.kind.label(), round.rps, ms(round.p99_us)));
                    side.rounds.push(round);
                }
                Err(e) => {
                    progress.push(format!("{} failed", side.kind.label()));
                    side.errors.push(e);
                    if let Some(Err(died)) = side.server.as_mut().map(|s| s.running()) {
                        side.fail(format!("the server ended during round {}: {died}", r + 1));
                    }
                }
            }
        }
        eprintln!("bench-http: round {}/{total_rounds}: {}", r + 1, progress.join(", "));
    }
    for side in sides.iter_mut() {
        side.stop();
    }

    report(&args, &sides, &loader);
    println!("total: {:.1} s", began.elapsed().as_secs_f64());
    Ok(sides.iter().all(|s| s.failed.is_none() && s.errors.is_empty() && s.stopped.as_ref().is_some_and(|r| r.is_ok())))
}

fn build(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// 52311.4 → "52,311".
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn report(args: &Args, sides: &[Side], loader: &Path) {
    let find = |k: Kind| sides.iter().find(|s| s.kind == k);
    println!();
    println!(
        "http_server (tokio multi-threaded runtime + hyper, compat-tests/servers); the sides ran at once, \
         their rounds interleaved"
    );
    let tool = match args.load_tool {
        LoadTool::Client => {
            "bench-http's client (HTTP/1.1 keep-alive, one GET / in flight per connection, one epoll thread; \
             the connections opened one at a time, each checked with one untimed GET, before the clock starts)"
        }
        LoadTool::HttpLoad => {
            "http_load (compat-tests/servers: hyper's HTTP/1.1 client on tokio, keep-alive, one GET / in \
             flight per connection; the connections opened at once, inside the timed part)"
        }
    };
    println!("load: {tool}");
    println!(
        "      {} connections; native and hosted {} requests x {} rounds, VMs {} requests x {} rounds; one untimed \
         warm-up round each; figures are medians over rounds",
        args.connections, args.requests, args.rounds, args.vm_requests, args.vm_rounds
    );
    println!();
    println!(
        "{:<9} {:>30}   {:>26}   {:>7}   {:>6}   {:>13}",
        "side", "requests/s median (min-max)", "p99 ms median (min-max)", "p50 ms", "rounds", "serving after"
    );
    for s in sides {
        let rps = s
            .rps()
            .map_or("-".into(), |r| format!("{} ({}-{})", thousands(r.median), thousands(r.min), thousands(r.max)));
        let p99 = s.p99_ms().map_or("-".into(), |p| format!("{:.2} ({:.2}-{:.2})", p.median, p.min, p.max));
        let p50 = s.p50_ms().map_or("-".into(), |p| format!("{p:.2}"));
        let ready = s.ready.map_or("-".into(), |t| format!("{:.0} ms", t.as_secs_f64() * 1000.0));
        println!(
            "{:<9} {:>30}   {:>26}   {:>7}   {:>6}   {:>13}",
            s.kind.label(),
            rps,
            p99,
            p50,
            format!("{}/{}", s.rounds.len(), s.rounds_wanted),
            ready
        );
    }
    for s in sides {
        if let Some(why) = &s.failed {
            println!("{:<9} FAILED: {why}", s.kind.label());
        }
        if let Some(e) = s.errors.first() {
            println!("{:<9} {} round(s) failed; the first: {e}", s.kind.label(), s.errors.len());
        }
    }

    println!();
    println!("{:<20} {:>11} {:>13}", "ratio of medians", "throughput", "p99 latency");
    let ratio = |a: Kind, b: Kind, target: Option<(f64, &str)>| {
        let (Some(sa), Some(sb)) = (find(a), find(b)) else { return };
        let what = format!("{} / {}", a.label(), b.label());
        let (Some(ra), Some(rb), Some(pa), Some(pb)) = (sa.rps(), sb.rps(), sa.p99_ms(), sb.p99_ms()) else {
            println!("{what:<20} {:>11} {:>13}   (a side has no figures)", "-", "-");
            return;
        };
        let t = ra.median / rb.median;
        let verdict = target.map_or(String::new(), |(min, text)| {
            format!("   target {text}: {}", if t >= min { "met" } else { "NOT met" })
        });
        println!("{what:<20} {:>10.2}x {:>12.2}x{verdict}", t, pa.median / pb.median);
    };
    ratio(Kind::Hosted, Kind::Native, Some((0.9, "hosted >= 0.9x native")));
    ratio(Kind::Vm, Kind::LinuxVm, Some((1.5, "VM >= 1.5x the Linux VM")));
    ratio(Kind::Vm, Kind::Native, None);
    ratio(Kind::LinuxVm, Kind::Native, None);

    println!();
    println!("command lines (PORT: the side's free host port; the server listens on 8080 in the guest):");
    for s in sides.iter().filter(|s| !s.command.is_empty()) {
        println!("  {:<9} {}", s.kind.label(), shell_line(&s.command[0], &s.command[1..]));
        if s.kind == Kind::Vm {
            match &s.qemu {
                Some(q) => println!("  {:<9}   its QEMU: {}", "", shell_line(&q[0], &q[1..])),
                None => println!("  {:<9}   its QEMU: (not seen)", ""),
            }
        }
    }
    if args.load_tool == LoadTool::HttpLoad {
        let load_args = ["127.0.0.1:PORT".to_string(), "REQUESTS".to_string(), args.connections.to_string()];
        println!("  {:<9} {}", "load", shell_line(&loader.display().to_string(), &load_args));
    }

    if let (Some(u), Some(l)) =
        (find(Kind::Vm).and_then(|s| s.qemu.as_ref()), find(Kind::LinuxVm).and_then(|s| s.qemu.as_ref()))
    {
        let (both, only_u, only_l) = flags::compare(&u[1..], &l[1..]);
        println!();
        println!("QEMU flags, unify's VM against the Linux VM:");
        println!("  both:           {}", flags::line(&both));
        println!("  unify VM only:  {}", flags::line(&only_u));
        println!("  Linux VM only:  {}", flags::line(&only_l));
        println!("  why they differ:");
        for why in flags::WHY {
            println!("  - {why}");
        }
    }

    println!();
    println!("stopped:");
    for s in sides {
        match &s.stopped {
            Some(Ok(how)) => println!("  {:<9} {how}", s.kind.label()),
            Some(Err(e)) => println!("  {:<9} NOT cleanly: {e}", s.kind.label()),
            None => println!("  {:<9} (never ran)", s.kind.label()),
        }
    }
}
