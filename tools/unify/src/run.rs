//! `unify run`.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::cli::{Platform, RunArgs};

/// Exit status when the program cannot be found (as a shell reports it).
const NOT_FOUND: i32 = 127;
/// Exit status when the program exists but cannot be run.
const CANNOT_RUN: i32 = 126;

pub fn run(args: RunArgs) -> i32 {
    if args.platform == Platform::Vm {
        eprintln!("unify: the VM platform is not available in this build yet; use --platform hosted");
        return CANNOT_RUN;
    }
    if !args.program.exists() {
        eprintln!("unify: {}: no such file", args.program.display());
        return NOT_FOUND;
    }
    let env = match guest_env(&args.env) {
        Ok(env) => env,
        Err(msg) => {
            eprintln!("unify: {msg}");
            return 2;
        }
    };
    let mut argv = vec![args.program.as_os_str().as_bytes().to_vec()];
    argv.extend(args.args.into_iter().map(OsString::into_vec));
    let opts = libos_hosted::RunOptions {
        program: args.program,
        argv,
        env,
        trace: args.trace,
        stats: args.stats,
        rewrite: !args.no_rewrite,
        host_vdso: !args.no_vdso,
    };
    match libos_hosted::run(&opts) {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("unify: {e}");
            CANNOT_RUN
        }
    }
}

/// The guest's environment: exactly the `-e` variables, as `docker run -e` does;
/// `-e KEY` passes unify's own value of KEY (and nothing if it is unset).
fn guest_env(specs: &[OsString]) -> Result<Vec<Vec<u8>>, String> {
    let mut env = Vec::new();
    for spec in specs {
        let bytes = spec.as_bytes();
        if bytes.is_empty() || bytes[0] == b'=' {
            return Err(format!("-e {}: expected KEY=VALUE or KEY", spec.to_string_lossy()));
        }
        if bytes.contains(&b'=') {
            env.push(bytes.to_vec());
        } else if let Some(value) = std::env::var_os(spec) {
            let mut kv = bytes.to_vec();
            kv.push(b'=');
            kv.extend_from_slice(value.as_bytes());
            env.push(kv);
        }
    }
    Ok(env)
}
