//! argv and the environment as the program sees them. The runner gives a cleared
//! environment plus the case's variables, so the full sorted environment is printed.

use std::env;
use std::path::Path;

fn main() {
    let args: Vec<_> = env::args_os().collect();
    println!("argc: {}", args.len());
    let argv0 = args
        .first()
        .map(|a| Path::new(a).file_name().unwrap_or(a.as_os_str()).to_owned());
    println!("argv[0] basename: {argv0:?}");
    for (i, a) in args.iter().enumerate().skip(1) {
        println!("argv[{i}]: {a:?}");
    }

    let mut vars: Vec<_> = env::vars_os().collect();
    vars.sort();
    println!("env count: {}", vars.len());
    for (k, v) in &vars {
        println!("env {k:?} = {v:?}");
    }
    println!("UNIFY_PROBE_X: {:?}", env::var("UNIFY_PROBE_X"));
    println!("UNIFY_PROBE_EMPTY: {:?}", env::var("UNIFY_PROBE_EMPTY"));
    println!(
        "UNIFY_PROBE_MISSING: {:?}",
        env::var_os("UNIFY_PROBE_MISSING")
    );
}
