//! `unify run`: picks or builds the image, then hands it to the platform.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use unify_rootfs::{ImageBuilder, Manifest};

use crate::cli::{Platform, RunArgs};
use crate::fail::{Failure, CANNOT_RUN};
use crate::image::{self, Content, Target};
use crate::options;
use crate::ports;
use crate::volumes::{self, Volume};

pub fn run(args: RunArgs) -> i32 {
    match args.platform {
        Platform::Vm => crate::vm::run(&args),
        Platform::Hosted => run_hosted(args),
    }
}

/// Options that only a VM has.
fn refuse_vm_options(args: &RunArgs) -> Result<(), Failure> {
    let given = [
        (args.memory.is_some(), "-m"),
        (args.net.is_some(), "--net"),
        (args.smp.is_some(), "--smp"),
        (args.accel.is_some(), "--accel"),
        (args.verbose, "--verbose"),
        (!args.kernel_args.is_empty(), "--kernel-arg"),
        (args.kernel.is_some(), "--kernel"),
    ];
    match given.iter().find(|(given, _)| *given) {
        Some((_, flag)) => Err(Failure::usage(format!("{flag} applies to --platform vm only"))),
        None => Ok(()),
    }
}

fn run_hosted(args: RunArgs) -> i32 {
    if let Err(f) = refuse_vm_options(&args) {
        return f.report(CANNOT_RUN);
    }
    let ports = match ports::parse_all(&args.publish) {
        Ok(p) => p,
        Err(f) => return f.report(CANNOT_RUN),
    };
    let Prepared { image, manifest, .. } = match prepare(&args) {
        Ok(ready) => ready,
        Err(f) => return f.report(CANNOT_RUN),
    };
    let opts = libos_hosted::RunOptions {
        image,
        program: manifest.program.into_bytes(),
        argv: manifest.argv,
        env: manifest.env,
        cwd: manifest.cwd.into_bytes(),
        trace: args.trace,
        stats: args.stats,
        rewrite: !args.no_rewrite,
        host_vdso: !args.no_vdso,
        ports,
    };
    match libos_hosted::run(&opts) {
        Ok(never) => match never {},
        Err(e) => Failure::refused(e.to_string()).report(CANNOT_RUN),
    }
}

/// The command line's options, checked.
struct Given {
    env: Vec<Vec<u8>>,
    workdir: Option<String>,
    size: Option<u64>,
}

/// The image to run from and the manifest to run it with.
pub struct Prepared {
    pub image: File,
    pub manifest: Manifest,
    /// The manifest is not the image's: `-e`, `-w` or arguments for one run of a kept
    /// image (the hosted platform runs it as it is; the VM hands it to the kernel).
    pub run_only: bool,
}

impl Prepared {
    fn as_built((image, manifest): (File, Manifest)) -> Prepared {
        Prepared { image, manifest, run_only: false }
    }
}

/// The image to run from and the manifest to run it with.
pub fn prepare(args: &RunArgs) -> Result<Prepared, Failure> {
    let ia = &args.image_args;
    let given = Given {
        env: options::guest_env(&ia.env)?,
        workdir: ia.workdir.as_deref().map(options::workdir).transpose()?,
        size: ia.size.as_deref().map(options::size).transpose()?,
    };
    let target = match &args.target {
        Some(t) => Some((t.as_path(), image::detect(t)?)),
        None => None,
    };
    match (&args.image, target) {
        (None, None) => Err(Failure::usage("give a PROGRAM or an IMAGE to run (see unify run --help)")),
        (Some(_), Some((_, Target::Image))) => Err(Failure::usage(
            "--image FILE and an IMAGE to run: give one of them (the program comes after --image FILE)",
        )),
        (None, Some((program, Target::Program))) => {
            let volumes = check(program, &ia.volumes)?;
            let content = program_content(program, &volumes, &given, &args.args);
            image::build_temporary(&content, given.size).map(Prepared::as_built)
        }
        (Some(file), Some((program, Target::Program))) => {
            let volumes = check(program, &ia.volumes)?;
            let content = program_content(program, &volumes, &given, &args.args);
            if !file.exists() {
                let (_, manifest) = image::build_file(&content, given.size, file, false)?;
                return Ok(Prepared::as_built((image::open_kept(file)?, manifest)));
            }
            refuse_size(&given, file)?;
            image::update_kept(image::open_kept(file)?, file, &content).map(Prepared::as_built)
        }
        (Some(file), None) => {
            if !file.exists() {
                return Err(Failure::not_found(format!(
                    "{}: no such image (give a PROGRAM to build it)",
                    file.display()
                )));
            }
            run_kept(file, &ia.volumes, &given, &[])
        }
        (None, Some((file, Target::Image))) => run_kept(file, &ia.volumes, &given, &args.args),
    }
}

/// The program's checks, before anything is written: loadable, a name FAT can store,
/// volumes that make sense with it.
fn check(program: &Path, specs: &[OsString]) -> Result<Vec<Volume>, Failure> {
    image::check_program(program)?;
    let guest = ImageBuilder::program_path(program).map_err(|e| Failure::usage(e.to_string()))?;
    volumes::parse(specs, Some(&guest))
}

/// An image for `program`: argv[0] is the program as typed, the environment exactly the
/// `-e` variables, the working directory `-w` or `/`.
fn program_content<'a>(program: &'a Path, volumes: &'a [Volume], given: &'a Given, args: &[OsString]) -> Content<'a> {
    let mut argv = vec![program.as_os_str().as_bytes().to_vec()];
    argv.extend(args.iter().map(|a| a.clone().into_vec()));
    let manifest = Manifest {
        argv,
        env: given.env.clone(),
        cwd: given.workdir.clone().unwrap_or_else(|| "/".into()),
        ..Manifest::default()
    };
    Content { volumes, workdir: given.workdir.as_deref(), program: Some((program, manifest)) }
}

fn refuse_size(given: &Given, file: &Path) -> Result<(), Failure> {
    match given.size {
        Some(_) => Err(Failure::usage(format!(
            "--size: {} exists and keeps its size (remove it to build a new one)",
            file.display()
        ))),
        None => Ok(()),
    }
}

/// Runs the program a kept image's manifest names, after copying in `-v`; `-e`, `-w` and
/// `args` change this run only (the image's manifest stays as it is).
fn run_kept(file: &Path, specs: &[OsString], given: &Given, args: &[OsString]) -> Result<Prepared, Failure> {
    refuse_size(given, file)?;
    let run_only = !args.is_empty() || !given.env.is_empty() || given.workdir.is_some();
    let volumes = volumes::parse(specs, None)?;
    let content = Content { volumes: &volumes, workdir: given.workdir.as_deref(), program: None };
    let (image, mut manifest) = image::update_kept(image::open_kept(file)?, file, &content)?;
    if !args.is_empty() {
        let argv0 = manifest.argv.first().cloned().unwrap_or_else(|| manifest.program.clone().into_bytes());
        manifest.argv = std::iter::once(argv0).chain(args.iter().map(|a| a.clone().into_vec())).collect();
    }
    manifest.env = options::override_env(manifest.env, given.env.clone());
    if let Some(w) = &given.workdir {
        manifest.cwd = w.clone();
    }
    Ok(Prepared { image, manifest, run_only })
}
