//! `unify-hosted PROGRAM [ARGS...]`: runs a static Linux program on the libOS in this
//! process; the guest's environment is this process's. `UNIFY_NO_REWRITE` and
//! `UNIFY_NO_VDSO` turn those features off. The `unify` CLI is the friendlier front end.

use std::os::unix::ffi::OsStringExt;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: unify-hosted PROGRAM [ARGS...]");
        std::process::exit(2);
    };
    let mut argv = vec![program.clone().into_vec()];
    argv.extend(args.map(|a| a.into_vec()));
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            kv
        })
        .collect();
    let opts = libos_hosted::RunOptions {
        program: program.into(),
        argv,
        env,
        rewrite: std::env::var_os("UNIFY_NO_REWRITE").is_none(),
        host_vdso: std::env::var_os("UNIFY_NO_VDSO").is_none(),
        ..Default::default()
    };
    match libos_hosted::run(&opts) {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("unify-hosted: {e}");
            std::process::exit(126);
        }
    }
}
