//! The case list: which program runs with which arguments, environment and stdin, and
//! what is compared. One case = one native run + one run under unify.

/// The program a case runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// A Rust probe: a `[[bin]]` of `compat-tests/probes` (glibc, crt-static).
    Rust(&'static str),
    /// A C probe built against musl: the name of an entry of [`C_PROBES`].
    C(&'static str),
    /// ripgrep's static-pie `rg` from its musllinux wheel.
    Ripgrep,
}

impl Program {
    pub fn describe(&self) -> String {
        match self {
            Program::Rust(n) => format!("probes/{n}"),
            Program::C(n) => format!("probes-c/{n}"),
            Program::Ripgrep => "rg".to_string(),
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
    CProbe { name: "threads_musl", source: "threads_musl.c", link: Link::Static },
];

#[derive(Clone, Debug)]
pub struct Case {
    pub name: &'static str,
    pub program: Program,
    pub args: &'static [&'static str],
    /// Extra environment variables (on top of [`BASE_ENV`]).
    pub env: &'static [(&'static str, &'static str)],
    /// Bytes written to the program's stdin (a pipe, closed afterwards).
    pub stdin: &'static str,
    /// Compare stderr too (only for programs whose stderr is deterministic).
    pub compare_stderr: bool,
    /// The exit status the program must have natively (checks the probe itself).
    pub expect_status: i32,
}

/// Every run gets a cleared environment plus these and the case's own variables.
pub const BASE_ENV: &[(&str, &str)] = &[("LANG", "C")];

impl Case {
    const fn new(name: &'static str, program: Program) -> Case {
        Case { name, program, args: &[], env: &[], stdin: "", compare_stderr: false, expect_status: 0 }
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
        self.stdin = stdin;
        self
    }
    const fn stderr(mut self) -> Case {
        self.compare_stderr = true;
        self
    }
    const fn status(mut self, status: i32) -> Case {
        self.expect_status = status;
        self
    }

    /// The full environment of a run: [`BASE_ENV`] then the case's variables.
    pub fn full_env(&self) -> Vec<(String, String)> {
        BASE_ENV.iter().chain(self.env.iter()).map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    pub fn matches(&self, filters: &[String]) -> bool {
        filters.is_empty() || filters.iter().any(|f| self.name.contains(f.as_str()))
    }
}

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
    Case::rust("threads_std").stderr(),
    Case::rust("threads_sync").stderr(),
    Case::rust("futex_stress").stderr(),
    Case::rust("futex_ops").stderr(),
    Case::rust("thread_syscalls").stderr(),
    Case::new("thread_exit_group", Program::Rust("thread_exit")).args(&["group"]).status(3).stderr(),
    Case::new("thread_exit_leader", Program::Rust("thread_exit")).args(&["leader"]).status(11).stderr(),
    Case::new("thread_exit_worker", Program::Rust("thread_exit")).args(&["worker"]).stderr(),
    Case::rust("thread_churn").stderr(),
    Case::rust("rayon_sum").stderr(),
    Case::rust("mmap_threads").stderr(),
    Case::new("threads_musl", Program::C("threads_musl")).stderr(),
    Case::new("rg_version", Program::Ripgrep).args(&["--version"]).stderr(),
    Case::new("rg_help", Program::Ripgrep).args(&["--help"]).stderr(),
    Case::new("rg_stdin", Program::Ripgrep).args(&["-n", "b.r"]).stdin("foo\nbar\nbaz\nbär\n").stderr(),
    Case::new("rg_no_match", Program::Ripgrep).args(&["zzz"]).stdin("foo\n").status(1).stderr(),
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
    fn env_starts_with_base() {
        let c = CASES.iter().find(|c| c.name == "args_env").unwrap();
        let env = c.full_env();
        assert_eq!(env[0], ("LANG".to_string(), "C".to_string()));
        assert!(env.iter().any(|(k, _)| k == "UNIFY_PROBE_X"));
    }
}
