//! Why a command stopped: one line for the user and the kind of failure, which each
//! command turns into its exit status.

use std::fmt;

/// Exit status for a bad command line (as clap uses).
pub const USAGE: i32 = 2;
/// Exit status when the program or image cannot be found (as a shell reports it).
pub const NOT_FOUND: i32 = 127;
/// Exit status when the program exists but cannot be run (as a shell reports it).
pub const CANNOT_RUN: i32 = 126;
/// Exit status when the VM failed: the kernel reported its own failure, or the VM
/// stopped without reporting a status (as container runners use 125 for their own
/// failures).
pub const VM_FAILED: i32 = 125;
/// Exit status when `unify build` cannot write the image.
pub const FAILED: i32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bad argument or option value.
    Usage,
    /// The program or image does not exist.
    NotFound,
    /// The program is not something unify can run (the loader's refusal).
    Refused,
    /// Anything else: a host file cannot be read, the image is full or damaged.
    Failed,
}

#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub msg: String,
}

impl Failure {
    pub fn usage(msg: impl Into<String>) -> Failure {
        Failure { kind: Kind::Usage, msg: msg.into() }
    }

    pub fn not_found(msg: impl Into<String>) -> Failure {
        Failure { kind: Kind::NotFound, msg: msg.into() }
    }

    pub fn refused(msg: impl Into<String>) -> Failure {
        Failure { kind: Kind::Refused, msg: msg.into() }
    }

    pub fn failed(msg: impl Into<String>) -> Failure {
        Failure { kind: Kind::Failed, msg: msg.into() }
    }

    /// Prints the line and returns the exit status; `failed` is the status for
    /// [`Kind::Failed`] (126 when a run cannot start, 1 when a build cannot finish).
    pub fn report(&self, failed: i32) -> i32 {
        eprintln!("unify: {self}");
        match self.kind {
            Kind::Usage => USAGE,
            Kind::NotFound => NOT_FOUND,
            Kind::Refused => CANNOT_RUN,
            Kind::Failed => failed,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}
