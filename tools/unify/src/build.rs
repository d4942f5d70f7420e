//! `unify build`: writes an image that runs a program.

use std::os::unix::ffi::OsStringExt;

use unify_rootfs::{ImageBuilder, Manifest};

use crate::cli::BuildArgs;
use crate::fail::{Failure, FAILED};
use crate::image::{self, Content};
use crate::network;
use crate::options::{self, human};
use crate::volumes;

pub fn build(args: BuildArgs) -> i32 {
    match build_image(&args) {
        Ok(line) => {
            println!("{line}");
            0
        }
        Err(f) => f.report(FAILED),
    }
}

/// Builds the image; returns the line to print.
fn build_image(args: &BuildArgs) -> Result<String, Failure> {
    let ia = &args.image_args;
    let env = options::guest_env(&ia.env)?;
    let workdir = ia.workdir.as_deref().map(options::workdir).transpose()?;
    let size = ia.size.as_deref().map(options::size).transpose()?;
    if let Some(spec) = &args.net {
        network::parse(spec).map_err(|why| Failure::usage(format!("--net {spec}: {why}")))?;
    }
    image::check_program(&args.binary)?;
    if !args.force && std::fs::symlink_metadata(&args.output).is_ok() {
        return Err(Failure::usage(format!("{}: already exists (--force replaces it)", args.output.display())));
    }
    let guest = ImageBuilder::program_path(&args.binary).map_err(|e| Failure::usage(e.to_string()))?;
    let volumes = volumes::parse(&ia.volumes, Some(&guest))?;
    // argv[0] is the program's path in the image: the image runs without the host.
    let mut argv = vec![guest.clone().into_bytes()];
    argv.extend(args.args.iter().map(|a| a.clone().into_vec()));
    let manifest = Manifest {
        argv,
        env,
        cwd: workdir.clone().unwrap_or_else(|| "/".into()),
        net: args.net.clone(),
        ..Manifest::default()
    };
    let content =
        Content { volumes: &volumes, workdir: workdir.as_deref(), program: Some((args.binary.as_path(), manifest)) };
    let (report, manifest) = image::build_file(&content, size, &args.output, args.force)?;
    Ok(format!(
        "{}: {} image, {} files ({}) in {} directories, runs {}",
        args.output.display(),
        human(report.size),
        report.files,
        human(report.bytes),
        report.dirs,
        manifest.program
    ))
}
