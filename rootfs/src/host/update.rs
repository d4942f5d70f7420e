//! Copying an [`ImageBuilder`]'s content into an image that already exists (a kept image
//! that a run is to reuse), through the mounted volume.

use std::format;
use std::io;
use std::prelude::rust_2021::*;

use super::image::{normalize, BuildError, BuildReport, FileSource, ImageBuilder, Item};
use super::source;
use crate::{BlockDevice, FatVolume, FileKind, FsError};

fn guest(path: &str) -> impl FnOnce(FsError) -> BuildError + '_ {
    move |error| BuildError::Guest { path: path.to_string(), error }
}

/// Removes `path` and everything below it; nothing there is not an error.
fn remove_tree<D: BlockDevice>(vol: &FatVolume<D>, path: &str) -> Result<(), FsError> {
    match vol.stat(path) {
        Err(FsError::NotFound) => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.kind == FileKind::File => vol.remove_file(path),
        Ok(_) => {
            for e in vol.read_dir(path)? {
                remove_tree(vol, &format!("{path}/{}", e.name))?;
            }
            vol.remove_dir(path)
        }
    }
}

/// Writes `source` over the (empty) file `path`; returns the bytes written.
fn copy_in<D: BlockDevice>(vol: &FatVolume<D>, path: &str, source: &FileSource) -> Result<u64, BuildError> {
    let (mut reader, host_path) = source::open(source).map_err(|(path, error)| BuildError::Host { path, error })?;
    let mut failed: Option<io::Error> = None;
    let written = vol.write_stream(path, 0, &mut |out| loop {
        match reader.read(out) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                failed = Some(e);
                return Err(FsError::Io);
            }
        }
    });
    match (written, failed) {
        (_, Some(error)) => Err(BuildError::Host { path: host_path.unwrap_or_default(), error }),
        (r, None) => r.map_err(guest(path)),
    }
}

impl ImageBuilder {
    /// Copies this builder's content into the mounted volume `vol`, which keeps its size.
    ///
    /// Every path in `replace` is removed first, with everything below it (the root is
    /// never removed); then directories are created where missing and files are written,
    /// replacing files of the same name. A file where a directory is wanted, or the other
    /// way round, is [`BuildError::Conflict`]; content that does not fit is `NoSpace`.
    /// This goes through fatfs, so creating in large directories is quadratic (see the
    /// crate README); what was copied before an error stays.
    pub fn apply_to<D: BlockDevice>(&self, vol: &FatVolume<D>, replace: &[&str]) -> Result<BuildReport, BuildError> {
        for r in replace {
            let (path, comps) = normalize(r)?;
            if !comps.is_empty() {
                remove_tree(vol, &path).map_err(guest(&path))?;
            }
        }
        let mut report =
            BuildReport { size: vol.device().len(), cluster_size: 0, files: 0, dirs: 0, bytes: 0, free_bytes: 0 };
        for item in &self.items {
            let path = item.path();
            match item {
                Item::Dir { .. } => match vol.stat(path) {
                    Ok(m) if m.kind == FileKind::Dir => {}
                    Ok(_) => return Err(BuildError::Conflict { path: path.to_string() }),
                    Err(FsError::NotFound) => {
                        vol.create_dir(path).map_err(guest(path))?;
                        report.dirs += 1;
                    }
                    Err(e) => return Err(guest(path)(e)),
                },
                Item::File { source, size, mtime, .. } => {
                    match vol.stat(path) {
                        Ok(m) if m.kind == FileKind::Dir => {
                            return Err(BuildError::Conflict { path: path.to_string() })
                        }
                        Ok(_) => vol.truncate(path, 0).map_err(guest(path))?,
                        Err(FsError::NotFound) => vol.create_file(path, true).map_err(guest(path))?,
                        Err(e) => return Err(guest(path)(e)),
                    }
                    let written = copy_in(vol, path, source)?;
                    if written < *size {
                        // `write_stream` stops short (without error) when the volume fills;
                        // otherwise the host file shrank since it was added.
                        if vol.statfs().map_err(guest(path))?.free_clusters == 0 {
                            return Err(guest(path)(FsError::NoSpace));
                        }
                        let error = io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank while being copied");
                        let host_path = match source {
                            FileSource::Host(p) | FileSource::HostExtents { path: p, .. } => p.clone(),
                            FileSource::Bytes(_) => path.into(),
                        };
                        return Err(BuildError::Host { path: host_path, error });
                    }
                    vol.set_times(path, None, *mtime).map_err(guest(path))?;
                    report.files += 1;
                    report.bytes += written;
                }
            }
        }
        vol.flush().map_err(guest("/"))?;
        let stats = vol.statfs().map_err(guest("/"))?;
        report.cluster_size = stats.cluster_size;
        report.free_bytes = u64::from(stats.free_clusters) * u64::from(stats.cluster_size);
        Ok(report)
    }
}
