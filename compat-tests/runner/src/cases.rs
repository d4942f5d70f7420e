//! The case list: which program runs with which arguments, environment and stdin, and
//! what is compared. One case = one native run + one run under unify.

use std::fmt;

use crate::exec::Status;
use crate::rgtree::{NO_MATCH, PATTERN};

/// The program a case runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// A Rust probe: a `[[bin]]` of `compat-tests/probes` (glibc, crt-static).
    Rust(&'static str),
    /// A C probe built against musl: the name of an entry of [`C_PROBES`].
    C(&'static str),
    /// ripgrep's static-pie `rg` from its musllinux wheel.
    Ripgrep,
    /// A server of `compat-tests/servers` (tokio): started, driven by a client, stopped
    /// with SIGINT (see `servers.rs`).
    Server(&'static str),
}

impl Program {
    pub fn describe(&self) -> String {
        match self {
            Program::Rust(n) => format!("probes/{n}"),
            Program::C(n) => format!("probes-c/{n}"),
            Program::Ripgrep => "rg".to_string(),
            Program::Server(n) => format!("servers/{n}"),
        }
    }
}

/// How a C probe is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `musl-gcc -static -O2`: ET_EXEC.
    Static,
    /// musl static-pie (rcrt1.o, self-relocating): ET_DYN without PT_INTERP.
    StaticPie,
}

/// A C probe binary: built from `compat-tests/probes-c/<source>`.
#[derive(Clone, Copy, Debug)]
pub struct CProbe {
    pub name: &'static str,
    pub source: &'static str,
    pub link: Link,
}

pub const C_PROBES: &[CProbe] = &[
    CProbe { name: "hello_musl", source: "hello_musl.c", link: Link::Static },
    CProbe { name: "hello_musl_pie", source: "hello_musl.c", link: Link::StaticPie },
    CProbe { name: "args_musl", source: "args_musl.c", link: Link::Static },
    CProbe { name: "mmap_musl", source: "mmap_musl.c", link: Link::Static },
    CProbe { name: "fs_stdio_musl", source: "fs_stdio_musl.c", link: Link::Static },
    CProbe { name: "fs_dir_musl", source: "fs_dir_musl.c", link: Link::Static },
    CProbe { name: "threads_musl", source: "threads_musl.c", link: Link::Static },
    CProbe { name: "signalfd_musl", source: "signalfd_musl.c", link: Link::Static },
    CProbe { name: "signals_musl", source: "signals_musl.c", link: Link::Static },
    CProbe { name: "faults_musl", source: "faults_musl.c", link: Link::Static },
];

#[derive(Clone, Debug)]
pub struct Case {
    pub name: &'static str,
    pub program: Program,
    pub args: &'static [&'static str],
    /// Extra environment variables (on top of [`BASE_ENV`]).
    pub env: &'static [(&'static str, &'static str)],
    /// Bytes written to the program's stdin (a pipe, closed afterwards), or `None` for
    /// /dev/null (rg, for one, reads a piped stdin instead of searching its directory).
    pub stdin: Option<&'static str>,
    /// Compare stderr too (only for programs whose stderr is deterministic).
    pub compare_stderr: bool,
    /// How the program must end natively (checks the probe itself).
    pub expect: Expected,
    /// The working directory the program runs in.
    pub fixture: Fixture,
    /// Compare stdout as a sorted set of lines (for programs whose line order depends on
    /// thread scheduling, such as rg searching a tree with several threads).
    pub sort_stdout: bool,
    /// A server case run under unify with `-p HOST:8080` (see `servers.rs`).
    pub publish: bool,
    /// Platforms the case does not apply to, each with the reason (see [`Case::skip_on`]).
    pub not_on: [Option<(&'static str, &'static str)>; MAX_NOT_ON],
    /// A known difference on one platform (see [`Case::differs_on`]).
    pub differs: Option<KnownDifference>,
}

/// stdout lines that differ from native on one platform for a documented reason
/// (docs/compat.md): on that platform, lines starting with `line_prefix` are left out
/// of the comparison on both sides; everything else must still match.
#[derive(Clone, Copy, Debug)]
pub struct KnownDifference {
    pub platform: &'static str,
    pub line_prefix: &'static str,
    pub reason: &'static str,
}

/// How many platforms a case can be marked not applicable to.
pub const MAX_NOT_ON: usize = 2;

/// How a case's native run must end: an exit status, or death by a signal (a probe that
/// faults without a handler, aborts, or gets SIGPIPE). The run under test must end the
/// same way: unify, when its guest dies by a signal, kills itself with that signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Exit(i32),
    Killed(i32),
}

impl Expected {
    pub fn matches(self, status: &Status) -> bool {
        match (self, status) {
            (Expected::Exit(a), Status::Exited(b)) => a == *b,
            (Expected::Killed(a), Status::Signaled(b)) => a == *b,
            _ => false,
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Exit(c) => write!(f, "exit {c}"),
            Expected::Killed(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// The working directory of a case's runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fixture {
    /// The shared scratch directory `probes/target/work`, the same for both runs (for
    /// programs that write no files).
    Shared,
    /// A fresh empty directory for each run.
    Empty,
    /// A fresh copy of `compat-tests/fixtures/<name>` for each run.
    Dir(&'static str),
    /// The generated ripgrep tree (see `rgtree.rs`), copied once per runner invocation
    /// and shared by the runs of every case that has it: those cases run rg, which
    /// writes nothing, and copying its 2,200 files for each run costs seconds.
    RgTree,
}

/// Where a case's own working directory appears inside unify (`unify run -v COPY:GUEST_WORK
/// -w GUEST_WORK`). Natively the program runs in the copy itself.
pub const GUEST_WORK: &str = "/work";

/// Every run gets a cleared environment plus these and the case's own variables.
pub const BASE_ENV: &[(&str, &str)] = &[("LANG", "C")];

impl Case {
    const fn new(name: &'static str, program: Program) -> Case {
        Case {
            name,
            program,
            args: &[],
            env: &[],
            stdin: Some(""),
            compare_stderr: false,
            expect: Expected::Exit(0),
            fixture: Fixture::Shared,
            sort_stdout: false,
            publish: false,
            not_on: [None; MAX_NOT_ON],
            differs: None,
        }
    }
    const fn rust(name: &'static str) -> Case {
        Case::new(name, Program::Rust(name))
    }
    const fn args(mut self, args: &'static [&'static str]) -> Case {
        self.args = args;
        self
    }
    const fn env(mut self, env: &'static [(&'static str, &'static str)]) -> Case {
        self.env = env;
        self
    }
    const fn stdin(mut self, stdin: &'static str) -> Case {
        self.stdin = Some(stdin);
        self
    }
    /// The tree cases: rg searches its working directory only when stdin is not a pipe.
    const fn rg_tree(mut self) -> Case {
        self.stdin = None;
        self.fixture = Fixture::RgTree;
        self
    }
    const fn stderr(mut self) -> Case {
        self.compare_stderr = true;
        self
    }
    const fn status(mut self, status: i32) -> Case {
        self.expect = Expected::Exit(status);
        self
    }
    /// Natively the program dies by signal `sig` (and must under unify too).
    const fn killed(mut self, sig: i32) -> Case {
        self.expect = Expected::Killed(sig);
        self
    }
    /// Runs in a fresh empty directory of its own (the probe creates files).
    const fn scratch(self) -> Case {
        self.fixture(Fixture::Empty)
    }
    const fn fixture(mut self, fixture: Fixture) -> Case {
        self.fixture = fixture;
        self
    }
    const fn sorted(mut self) -> Case {
        self.sort_stdout = true;
        self
    }
    const fn publish(mut self) -> Case {
        self.publish = true;
        self
    }
    /// The case does not apply to `platform` (a `unify run --platform` value), for
    /// `reason`: it is reported as such there, not run.
    const fn skip_on(mut self, platform: &'static str, reason: &'static str) -> Case {
        let mut i = 0;
        while self.not_on[i].is_some() {
            i += 1;
        }
        self.not_on[i] = Some((platform, reason));
        self
    }

    /// On `platform`, stdout lines starting with `line_prefix` differ for `reason`
    /// (docs/compat.md lists each): they are left out of the comparison there.
    const fn differs_on(mut self, platform: &'static str, line_prefix: &'static str, reason: &'static str) -> Case {
        self.differs = Some(KnownDifference { platform, line_prefix, reason });
        self
    }

    /// The known difference of the case on `platform`, if any.
    pub fn known_difference(&self, platform: &str) -> Option<KnownDifference> {
        self.differs.filter(|d| d.platform == platform)
    }

    /// Why the case does not apply to `platform`, if it does not.
    pub fn not_applicable(&self, platform: &str) -> Option<&'static str> {
        self.not_on.iter().flatten().find(|(p, _)| *p == platform).map(|(_, why)| *why)
    }

    /// The full environment of a run: [`BASE_ENV`] then the case's variables.
    pub fn full_env(&self) -> Vec<(String, String)> {
        BASE_ENV.iter().chain(self.env.iter()).map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    pub fn matches(&self, filters: &[String]) -> bool {
        filters.is_empty() || filters.iter().any(|f| self.name.contains(f.as_str()))
    }
}

/// Why the servers without `-p` do not apply to the VM: the host reaches a VM's ports only
/// through QEMU's port forwarding (`unify run -p`), which their `_publish` twins test.
const VM_PORTS: &str = "the host reaches a VM's ports only through -p (the _publish case)";

const PROBE_ENV: &[(&str, &str)] =
    &[("UNIFY_PROBE_X", "value of x"), ("UNIFY_PROBE_EMPTY", ""), ("UNIFY_PROBE_UNICODE", "grüße ✓")];

const PROBE_ARGS: &[&str] = &["one", "two words", "", "ünïcödé", "--flag=x", "-"];

pub const CASES: &[Case] = &[
    Case::rust("hello").stderr(),
    Case::new("args_env", Program::Rust("args_env")).args(PROBE_ARGS).env(PROBE_ENV).stderr(),
    Case::new("args_env_none", Program::Rust("args_env")).stderr(),
    Case::new("exit_codes_0", Program::Rust("exit_codes")).args(&["0"]).stderr(),
    Case::new("exit_codes_3", Program::Rust("exit_codes")).args(&["3"]).status(3).stderr(),
    Case::new("exit_codes_255", Program::Rust("exit_codes")).args(&["255"]).status(255).stderr(),
    Case::new("exit_codes_256", Program::Rust("exit_codes")).args(&["256"]).status(0).stderr(),
    Case::new("exit_codes_raw_42", Program::Rust("exit_codes")).args(&["42", "raw"]).status(42).stderr(),
    Case::rust("panic").status(101).stderr(),
    Case::rust("alloc").stderr(),
    Case::rust("mmap_churn").stderr(),
    Case::rust("clocks").stderr(),
    Case::rust("random").stderr(),
    Case::rust("ids_uname").stderr(),
    Case::rust("console").stdin("first line\nsecond line\n").stderr(),
    Case::rust("signals_record").stderr(),
    Case::rust("efault").stdin("data for read(2)\n").stderr(),
    Case::new("hello_musl", Program::C("hello_musl")).status(7).stderr(),
    Case::new("hello_musl_pie", Program::C("hello_musl_pie")).status(7).stderr(),
    Case::new("args_musl", Program::C("args_musl")).args(PROBE_ARGS).env(PROBE_ENV).stderr(),
    Case::new("mmap_musl", Program::C("mmap_musl")).stderr(),
    // Files, directories and descriptors. Each runs in a fresh empty directory of its own
    // (unify: mapped at /work), prints errno names and contents, never what differs
    // between filesystems (inode numbers, modes on disk, times, listing order).
    Case::rust("fs_open").scratch().stderr(),
    Case::rust("fs_rw").scratch().stderr(),
    Case::rust("fs_stat").scratch().stderr(),
    Case::rust("fs_getdents").scratch().stderr(),
    Case::new("fs_getdents_tmp", Program::Rust("fs_getdents")).args(&["/tmp"]).scratch().stderr(),
    Case::rust("fs_dirs").scratch().stderr(),
    Case::rust("fs_rename").scratch().stderr(),
    Case::rust("fs_cwd").scratch().stderr(),
    Case::rust("fs_truncate").scratch().stderr(),
    Case::rust("fs_tmp_meta").scratch().stderr(),
    Case::rust("fs_copy").scratch().stderr(),
    Case::rust("fd_dup").scratch().stderr(),
    Case::rust("fd_fcntl").scratch().stderr(),
    Case::rust("fd_locks").scratch().stderr(),
    Case::rust("pipes").stderr(),
    Case::rust("memfd").stderr(),
    Case::rust("mmap_file").scratch().stderr(),
    Case::rust("dev_files").scratch().stderr(),
    Case::new("proc_self", Program::Rust("proc_self")).args(&["first", "second arg"]).scratch().stderr(),
    Case::rust("proc_system").stderr(),
    Case::rust("std_fs").fixture(Fixture::Dir("basic")).stderr(),
    Case::new("fs_stdio_musl", Program::C("fs_stdio_musl")).scratch().stderr(),
    Case::new("fs_dir_musl", Program::C("fs_dir_musl")).scratch().stderr(),
    Case::rust("threads_std").stderr(),
    Case::rust("threads_sync").stderr(),
    Case::rust("futex_stress").stderr(),
    Case::rust("futex_ops").stderr(),
    Case::rust("thread_syscalls").stderr().differs_on(
        "vm",
        "sched_getaffinity: returns the kernel's mask size",
        "the VM has one CPU: its mask is 8 bytes, the host's 32 (docs/compat.md)",
    ),
    Case::new("thread_exit_group", Program::Rust("thread_exit")).args(&["group"]).status(3).stderr(),
    Case::new("thread_exit_leader", Program::Rust("thread_exit")).args(&["leader"]).status(11).stderr(),
    Case::new("thread_exit_worker", Program::Rust("thread_exit")).args(&["worker"]).stderr(),
    Case::rust("thread_churn").stderr(),
    Case::rust("rayon_sum").stderr(),
    Case::rust("mmap_threads").stderr(),
    Case::new("threads_musl", Program::C("threads_musl")).stderr(),
    Case::new("signalfd_musl", Program::C("signalfd_musl")).stderr(),
    // Signals, faults and timers. The cases with `.killed(N)` die by signal N natively;
    // unify must end the same way (it kills itself with the guest's signal; its one-line
    // `unify: ...` report of a fault is not compared).
    Case::rust("signal_deliver").stderr(),
    Case::rust("signal_wait").stderr(),
    Case::rust("sigpipe").stderr(),
    Case::new("sigpipe_blocked", Program::Rust("sigpipe")).args(&["blocked"]).stderr(),
    Case::new("sigpipe_default", Program::Rust("sigpipe")).args(&["default"]).killed(13).stderr(),
    Case::new("stack_overflow_main", Program::Rust("stack_overflow")).args(&["main"]).killed(6).stderr(),
    Case::new("stack_overflow_thread", Program::Rust("stack_overflow")).args(&["thread"]).killed(6).stderr(),
    Case::rust("timers").stderr(),
    Case::rust("pidfd").stderr(),
    // The fd event machinery and sockets: loopback only, ports never printed, every
    // wait bounded.
    Case::rust("eventfd").stderr(),
    Case::rust("timerfd").stderr(),
    Case::rust("epoll").stderr(),
    Case::rust("select_poll").stderr(),
    Case::rust("socketpair").stderr(),
    Case::rust("unix_rights").stderr(),
    Case::rust("sockets_inet").stderr(),
    // Real servers on tokio: a client drives them, SIGINT stops them (servers.rs).
    Case::new("http_server", Program::Server("http_server")).skip_on("vm", VM_PORTS),
    Case::new("http_server_publish", Program::Server("http_server")).publish(),
    Case::new("udp_echo", Program::Server("udp_echo")).skip_on("vm", VM_PORTS),
    Case::new("udp_echo_publish", Program::Server("udp_echo")).publish(),
    Case::new("timers_die", Program::Rust("timers")).args(&["die"]).killed(14).stderr(),
    Case::new("signals_musl", Program::C("signals_musl")).stderr(),
    Case::new("faults_musl", Program::C("faults_musl")).scratch().stderr().differs_on(
        "vm",
        "hlt:",
        "the guest runs in ring 0, where hlt waits instead of faulting (docs/compat.md)",
    ),
    Case::new("faults_musl_null", Program::C("faults_musl")).args(&["null"]).killed(11).stderr(),
    Case::new("faults_musl_null_blocked", Program::C("faults_musl")).args(&["null_blocked"]).killed(11).stderr(),
    Case::new("faults_musl_null_ignored", Program::C("faults_musl")).args(&["null_ignored"]).killed(11).stderr(),
    Case::new("faults_musl_segv_thread", Program::C("faults_musl")).args(&["segv_thread"]).killed(11).stderr(),
    Case::new("faults_musl_bus", Program::C("faults_musl")).args(&["bus"]).scratch().killed(7).stderr(),
    Case::new("faults_musl_fpe", Program::C("faults_musl")).args(&["fpe"]).killed(8).stderr(),
    Case::new("faults_musl_ill", Program::C("faults_musl")).args(&["ill"]).killed(4).stderr(),
    Case::new("faults_musl_abort", Program::C("faults_musl")).args(&["abort"]).killed(6).stderr(),
    Case::new("faults_musl_abort_handled", Program::C("faults_musl")).args(&["abort_handled"]).killed(6).stderr(),
    Case::new("rg_version", Program::Ripgrep).args(&["--version"]).stderr(),
    Case::new("rg_help", Program::Ripgrep).args(&["--help"]).stderr(),
    Case::new("rg_stdin", Program::Ripgrep).args(&["-n", "b.r"]).stdin("foo\nbar\nbaz\nbär\n").stderr(),
    Case::new("rg_no_match", Program::Ripgrep).args(&["zzz"]).stdin("foo\n").status(1).stderr(),
    // rg over the generated tree (rgtree.rs), in a fresh copy of it per run. rg searches
    // with several threads, so the order of its lines is compared only with --sort.
    Case::new("rg_tree_n", Program::Ripgrep).args(&["-n", PATTERN]).rg_tree().sorted().stderr(),
    Case::new("rg_tree_files", Program::Ripgrep).args(&["--files"]).rg_tree().sorted().stderr(),
    Case::new("rg_tree_count", Program::Ripgrep).args(&["-c", PATTERN]).rg_tree().sorted().stderr(),
    Case::new("rg_tree_no_match", Program::Ripgrep).args(&[NO_MATCH]).rg_tree().status(1).stderr(),
    Case::new("rg_tree_j4", Program::Ripgrep).args(&["-n", "-j4", PATTERN]).rg_tree().sorted().stderr(),
    Case::new("rg_tree_l", Program::Ripgrep).args(&["-l", PATTERN]).rg_tree().sorted().stderr(),
    Case::new("rg_tree_sort_path", Program::Ripgrep).args(&["--sort", "path", "-n", PATTERN]).rg_tree().stderr(),
    Case::new("rg_tree_everything", Program::Ripgrep)
        .args(&["--sort", "path", "--hidden", "--no-ignore", "--binary", "-c", "-i", PATTERN])
        .rg_tree()
        .stderr(),
    Case::new("rg_tree_mmap", Program::Ripgrep)
        .args(&["--mmap", "-n", "-w", PATTERN, "large/large_file.txt"])
        .rg_tree()
        .stderr(),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::Path;

    fn find_c_probe(name: &str) -> Option<&'static CProbe> {
        C_PROBES.iter().find(|c| c.name == name)
    }

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for c in CASES {
            assert!(seen.insert(c.name), "duplicate case {}", c.name);
        }
        let mut seen = HashSet::new();
        for c in C_PROBES {
            assert!(seen.insert(c.name), "duplicate C probe {}", c.name);
        }
    }

    #[test]
    fn programs_exist() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let manifest = std::fs::read_to_string(root.join("probes/Cargo.toml")).unwrap();
        for c in CASES {
            match c.program {
                Program::Rust(bin) => {
                    let entry = format!("name = \"{bin}\"");
                    assert!(manifest.contains(&entry), "{}: no [[bin]] {bin}", c.name);
                    assert!(root.join(format!("probes/src/bin/{bin}.rs")).is_file());
                }
                Program::C(name) => {
                    let p = find_c_probe(name).unwrap_or_else(|| panic!("{}: no C probe {name}", c.name));
                    assert!(root.join("probes-c").join(p.source).is_file());
                }
                Program::Ripgrep => {}
                Program::Server(bin) => {
                    let manifest = std::fs::read_to_string(root.join("servers/Cargo.toml")).unwrap();
                    assert!(manifest.contains(&format!("name = \"{bin}\"")), "{}: no server {bin}", c.name);
                    assert!(root.join(format!("servers/src/bin/{bin}.rs")).is_file());
                }
            }
            if let Fixture::Dir(d) = c.fixture {
                assert!(root.join("fixtures").join(d).is_dir(), "{}: no fixtures/{d}", c.name);
            }
        }
    }

    #[test]
    fn filters() {
        let c = &CASES[0];
        assert!(c.matches(&[]));
        assert!(c.matches(&["hel".into()]));
        assert!(c.matches(&["zzz".into(), "ello".into()]));
        assert!(!c.matches(&["zzz".into()]));
    }

    #[test]
    fn expected_status() {
        assert!(Expected::Exit(0).matches(&Status::Exited(0)));
        assert!(!Expected::Exit(0).matches(&Status::Exited(1)));
        assert!(!Expected::Exit(11).matches(&Status::Signaled(11)));
        assert!(Expected::Killed(11).matches(&Status::Signaled(11)));
        assert!(!Expected::Killed(11).matches(&Status::Signaled(6)));
        assert!(!Expected::Killed(13).matches(&Status::Exited(128 + 13)));
        assert!(!Expected::Killed(6).matches(&Status::TimedOut));
        assert_eq!(Expected::Killed(6).to_string(), "killed by signal 6");
        assert_eq!(Expected::Exit(3).to_string(), "exit 3");
        let c = CASES.iter().find(|c| c.name == "sigpipe_default").unwrap();
        assert_eq!(c.expect, Expected::Killed(13));
        let c = CASES.iter().find(|c| c.name == "panic").unwrap();
        assert_eq!(c.expect, Expected::Exit(101));
    }

    #[test]
    fn not_applicable_cases() {
        let c = CASES.iter().find(|c| c.name == "http_server").unwrap();
        assert_eq!(c.not_applicable("vm"), Some(VM_PORTS));
        assert_eq!(c.not_applicable("hosted"), None);
        let c = Case::rust("x").skip_on("vm", "a").skip_on("hosted", "b");
        assert_eq!((c.not_applicable("vm"), c.not_applicable("hosted")), (Some("a"), Some("b")));
        for c in CASES {
            for (platform, _) in c.not_on.iter().flatten() {
                assert!(crate::under_test::PLATFORMS.contains(platform), "{}: no platform {platform}", c.name);
            }
        }
    }

    #[test]
    fn env_starts_with_base() {
        let c = CASES.iter().find(|c| c.name == "args_env").unwrap();
        let env = c.full_env();
        assert_eq!(env[0], ("LANG".to_string(), "C".to_string()));
        assert!(env.iter().any(|(k, _)| k == "UNIFY_PROBE_X"));
    }
}
