//! `unify`: run an unmodified static x86-64 Linux program on the unify library OS.

mod build;
mod cli;
mod fail;
mod image;
mod inspect;
mod network;
mod options;
mod ports;
mod run;
mod syscalls;
mod vm;
mod volumes;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse_from(cli::with_default_subcommand(std::env::args_os()));
    let code = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Build(args) => build::build(args),
        Command::Syscalls(args) => syscalls::print(args),
        Command::Inspect(args) => inspect::inspect(args),
    };
    std::process::exit(code);
}
