//! `unify-hosted PROGRAM [ARGS...]`: runs a static Linux program on the libOS in this
//! process, from a temporary root filesystem image that holds the program at `/bin/<name>`
//! (built in `$TMPDIR`, unlinked at once); the guest's environment is this process's and
//! its working directory `/`. `UNIFY_NO_REWRITE` and `UNIFY_NO_VDSO` turn those features
//! off. The `unify` CLI is the friendlier front end.

use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use unify_rootfs::{ImageBuilder, Manifest};

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
    let fail = |msg: String, code| -> ! {
        eprintln!("unify-hosted: {msg}");
        std::process::exit(code)
    };
    let mut image = ImageBuilder::new(None);
    let manifest = Manifest { argv, env, ..Manifest::default() };
    let manifest = image.add_program(Path::new(&program), manifest).unwrap_or_else(|e| fail(e.to_string(), 127));
    image.set_size(Some(ImageBuilder::run_image_size(image.content_size())));
    let (image, _) = image.build_unlinked(&std::env::temp_dir()).unwrap_or_else(|e| fail(e.to_string(), 126));
    let opts = libos_hosted::RunOptions {
        image,
        program: manifest.program.into_bytes(),
        argv: manifest.argv,
        env: manifest.env,
        cwd: manifest.cwd.into_bytes(),
        trace: false,
        stats: false,
        rewrite: std::env::var_os("UNIFY_NO_REWRITE").is_none(),
        host_vdso: std::env::var_os("UNIFY_NO_VDSO").is_none(),
        ports: Vec::new(),
    };
    match libos_hosted::run(&opts) {
        Ok(never) => match never {},
        Err(e) => fail(e.to_string(), 126),
    }
}
