//! Root filesystem images for `run` and `build`: telling an image from a program, building
//! a new image (unnamed for one run, or into a file), and updating a kept one.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::Path;

use unify_rootfs::{BuildError, BuildReport, FatVolume, FileDevice, FsError, ImageBuilder, Manifest, MANIFEST_PATH};

use crate::fail::Failure;
use crate::volumes::{self, Volume};

/// What a path given to `unify run` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Program,
    Image,
}

/// Tells a FAT32 image from a program by its first sector; anything that is not an image
/// is taken for a program (the loader then says what is wrong with it).
pub fn detect(path: &Path) -> Result<Target, Failure> {
    let mut file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Failure::not_found(format!("{}: no such file", path.display())),
        _ => Failure::refused(format!("{}: cannot read: {e}", path.display())),
    })?;
    let mut header = Vec::with_capacity(512);
    let read = file.by_ref().take(512).read_to_end(&mut header);
    Ok(if read.is_ok() && ImageBuilder::is_image(&header) { Target::Image } else { Target::Program })
}

/// Checks that `path` is a program unify can load (static x86-64 ELF) before any image is
/// written, with the loader's one-line reason if not. Reads only what the loader looks at
/// (headers and segments, not symbols or debug information) when the headers say.
pub fn check_program(path: &Path) -> Result<(), Failure> {
    const PREFIX: u64 = 64 * 1024;
    let cannot_read = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => Failure::not_found(format!("{}: no such file", path.display())),
        _ => Failure::refused(format!("{}: cannot read: {e}", path.display())),
    };
    let mut file = File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::new();
    file.by_ref().take(PREFIX).read_to_end(&mut bytes).map_err(cannot_read)?;
    if bytes.len() as u64 == PREFIX {
        let rest = unify_loader::needed_len(&bytes).map_or(u64::MAX, |n| n.saturating_sub(PREFIX));
        file.take(rest).read_to_end(&mut bytes).map_err(cannot_read)?;
    }
    unify_loader::parse(&bytes).map_err(|e| Failure::refused(format!("{}: {e}", path.display())))?;
    Ok(())
}

/// A build error as one line, with the kind of failure it is.
pub fn failure(e: BuildError, context: &str) -> Failure {
    let msg = if context.is_empty() { e.to_string() } else { format!("{context}: {e}") };
    match e {
        BuildError::InvalidPath { .. } | BuildError::Conflict { .. } | BuildError::TooSmall { .. } => {
            Failure::usage(msg)
        }
        BuildError::Host { .. } | BuildError::Guest { .. } => Failure::failed(msg),
    }
}

/// What the command line puts into an image.
pub struct Content<'a> {
    pub volumes: &'a [Volume],
    pub workdir: Option<&'a str>,
    /// The program on the host and the manifest to store with it (its `program` is set
    /// when the program is added).
    pub program: Option<(&'a Path, Manifest)>,
}

impl Content<'_> {
    /// Adds everything to `b`: volumes, the working directory, then the program and
    /// manifest (last, so that the program wins over a volume file of the same name).
    fn fill(&self, b: &mut ImageBuilder, old: Option<Manifest>) -> Result<Manifest, Failure> {
        volumes::add_all(b, self.volumes)?;
        if let Some(w) = self.workdir {
            b.add_dir(w).map_err(|e| failure(e, &format!("-w {w}")))?;
        }
        match &self.program {
            Some((host, manifest)) => {
                let mut manifest = manifest.clone();
                if let Some(old) = old {
                    // What this command line does not set is kept.
                    (manifest.ports, manifest.memory, manifest.net, manifest.extra) =
                        (old.ports, old.memory, old.net, old.extra);
                }
                volumes::merge_read_only(&mut manifest.extra, self.volumes);
                b.add_program(host, manifest).map_err(|e| failure(e, ""))
            }
            None => {
                let mut manifest = old.ok_or_else(|| {
                    Failure::failed(format!("the image has no manifest ({MANIFEST_PATH}); give a PROGRAM to run"))
                })?;
                volumes::merge_read_only(&mut manifest.extra, self.volumes);
                b.add_mount_points().map_err(|e| failure(e, ""))?;
                b.set_manifest(&manifest).map_err(|e| failure(e, ""))?;
                Ok(manifest)
            }
        }
    }

    fn builder(&self, size: Option<u64>) -> Result<(ImageBuilder, Manifest), Failure> {
        let mut b = ImageBuilder::new(None);
        let manifest = self.fill(&mut b, None)?;
        b.set_size(Some(size.unwrap_or_else(|| ImageBuilder::run_image_size(b.content_size()))));
        Ok((b, manifest))
    }
}

/// Builds a new image in `$TMPDIR` that has no name: it disappears with the run.
pub fn build_temporary(content: &Content<'_>, size: Option<u64>) -> Result<(File, Manifest), Failure> {
    let (b, manifest) = content.builder(size)?;
    let (file, _) = b.build_unlinked(&std::env::temp_dir()).map_err(|e| failure(e, "image"))?;
    Ok((file, manifest))
}

/// Builds a new image at `path`, which appears only once complete; an existing `path` is
/// replaced only if `replace`.
pub fn build_file(
    content: &Content<'_>,
    size: Option<u64>,
    path: &Path,
    replace: bool,
) -> Result<(BuildReport, Manifest), Failure> {
    let (b, manifest) = content.builder(size)?;
    let report = b.build_new_file(path, replace).map_err(|e| match e {
        BuildError::Host { error, .. } if error.kind() == std::io::ErrorKind::AlreadyExists => {
            Failure::usage(format!("{}: already exists (--force replaces it)", path.display()))
        }
        e => failure(e, &path.display().to_string()),
    })?;
    Ok((report, manifest))
}

/// Opens a kept image for a run: read-write, and locked so that two runs cannot write it
/// at once (the lock lasts as long as the file stays open, i.e. the run).
pub fn open_kept(path: &Path) -> Result<File, Failure> {
    let shown = path.display();
    let file = OpenOptions::new().read(true).write(true).open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Failure::not_found(format!("{shown}: no such image")),
        _ => Failure::failed(format!("{shown}: cannot open the image: {e}")),
    })?;
    // SAFETY: flock takes a descriptor we own and no pointers.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(Failure::failed(format!("{shown}: the image is in use by another unify run")));
    }
    if detect(path)? != Target::Image {
        return Err(Failure::failed(format!("{shown}: not a unify image (no FAT32 boot sector)")));
    }
    Ok(file)
}

/// Copies `content` into the kept image `file` at `path` (see `unify run --help` for the
/// rules); returns the image to run from and the manifest it holds.
///
/// Without `-v` the few changes (the program, the manifest, `-w`) are made in place through
/// the filesystem. `-v` replaces whole trees, which through fatfs costs time quadratic in
/// the size of the directories touched, so the image is rebuilt instead: everything else
/// it holds is carried over, the new image replaces the old file once complete, and the
/// run gets the new file (locked like the old one).
pub fn update_kept(file: File, path: &Path, content: &Content<'_>) -> Result<(File, Manifest), Failure> {
    let shown = path.display().to_string();
    let damaged = |e: FsError| Failure::failed(format!("{shown}: {e}"));
    let dev = file.try_clone().and_then(|f| FileDevice::from_file(f, false));
    let vol = FatVolume::open(dev.map_err(|e| Failure::failed(format!("{shown}: {e}")))?).map_err(damaged)?;
    let old = match vol.read_file(MANIFEST_PATH) {
        Ok(text) => Some(Manifest::parse(&text).map_err(|e| Failure::failed(format!("{shown}: {e}")))?),
        Err(FsError::NotFound) => None,
        Err(e) => return Err(damaged(e)),
    };
    let replace: Vec<&str> = content.volumes.iter().map(|v| v.guest.as_str()).collect();
    if !replace.is_empty() {
        vol.unmount().map_err(damaged)?;
        match ImageBuilder::from_image(path, &replace) {
            Ok(mut b) => {
                let manifest = content.fill(&mut b, old)?;
                b.build_new_file(path, true).map_err(|e| failure(e, &shown))?;
                let rebuilt = open_kept(path)?;
                drop(file);
                return Ok((rebuilt, manifest));
            }
            // Something the direct reader does not follow: fall back to the filesystem.
            Err(BuildError::Guest { error: FsError::Corrupt, .. }) => {}
            Err(e) => return Err(failure(e, &shown)),
        }
        let dev = file.try_clone().and_then(|f| FileDevice::from_file(f, false));
        let vol = FatVolume::open(dev.map_err(|e| Failure::failed(format!("{shown}: {e}")))?).map_err(damaged)?;
        return apply(&vol, content, old, &replace, &shown).and_then(|m| {
            vol.unmount().map_err(damaged)?;
            Ok((file, m))
        });
    }
    let manifest = apply(&vol, content, old, &replace, &shown)?;
    vol.unmount().map_err(damaged)?;
    Ok((file, manifest))
}

/// Copies `content` into the mounted image through the filesystem.
fn apply(
    vol: &FatVolume<FileDevice>,
    content: &Content<'_>,
    old: Option<Manifest>,
    replace: &[&str],
    shown: &str,
) -> Result<Manifest, Failure> {
    let mut b = ImageBuilder::new(None);
    let manifest = content.fill(&mut b, old)?;
    b.apply_to(vol, replace).map_err(|e| failure(e, shown))?;
    Ok(manifest)
}
