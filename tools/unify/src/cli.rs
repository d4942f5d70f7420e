//! The command line.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "unify", version, about = "Run unmodified static x86-64 Linux programs on the unify library OS")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a program (`unify PROGRAM ARGS...` is short for `unify run PROGRAM ARGS...`).
    Run(RunArgs),
    /// List the syscalls unify implements and how completely.
    Syscalls(SyscallsArgs),
    /// Check a program without running it: what the loader sees and what the rewriter does.
    Inspect(InspectArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Platform {
    /// Inside this Linux process.
    Hosted,
    /// As a VM under QEMU.
    Vm,
}

#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    /// Where the program runs.
    #[arg(long, value_enum, default_value = "hosted")]
    pub platform: Platform,
    /// Print one strace-style line per syscall on stderr.
    #[arg(long)]
    pub trace: bool,
    /// Print how many syscalls took the rewritten and the trap path, at exit.
    #[arg(long)]
    pub stats: bool,
    /// Do not rewrite syscall sites (every syscall takes the trap path).
    #[arg(long)]
    pub no_rewrite: bool,
    /// Do not give the program the host's vDSO (clock reads become syscalls, visible in --trace).
    #[arg(long)]
    pub no_vdso: bool,
    /// Set an environment variable for the program (KEY=VALUE, or KEY to pass unify's own value).
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<OsString>,
    /// The program (a static x86-64 Linux executable).
    pub program: PathBuf,
    /// Its arguments.
    #[arg(allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct SyscallsArgs {
    /// Print the table as Markdown (docs/syscalls.md is this output).
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The program to check.
    pub program: PathBuf,
}

const SUBCOMMANDS: &[&str] = &["run", "syscalls", "inspect", "help"];

/// Inserts `run` when the first argument is not a subcommand or an option, so that
/// `unify ./server 8080` means `unify run ./server 8080`.
pub fn with_default_subcommand(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if let Some(first) = args.get(1) {
        let s = first.to_string_lossy();
        if !s.starts_with('-') && !SUBCOMMANDS.contains(&s.as_ref()) {
            args.insert(1, OsString::from("run"));
        }
    }
    args
}
