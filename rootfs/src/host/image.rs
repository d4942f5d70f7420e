//! [`ImageBuilder`]: FAT32 images built from host files, in memory or into a file, without
//! mounting anything and without root.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::format;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::prelude::rust_2021::*;
use std::time::UNIX_EPOCH;

use super::writer::{write_items, Fresh};
use crate::manifest::{Manifest, MANIFEST_PATH};
use crate::path::{components, validate_name};
use crate::volume::{format as format_device, FormatOptions, MIN_VOLUME_SIZE};
use crate::{BlockDevice, FileDevice, FsError, MemDevice};

const MIB: u64 = 1024 * 1024;

/// The smallest image [`ImageBuilder`] picks by itself.
pub const MIN_AUTO_SIZE: u64 = 64 * MIB;

/// Where a file's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileSource {
    /// These bytes.
    Bytes(Vec<u8>),
    /// A host file, read (streamed) when the image is built.
    Host(PathBuf),
    /// Ranges of a host file, in order, as `(offset, length)`: a file inside another image.
    HostExtents {
        /// The host file.
        path: PathBuf,
        /// Where the bytes are.
        extents: Vec<(u64, u64)>,
    },
}

impl From<Vec<u8>> for FileSource {
    fn from(v: Vec<u8>) -> Self {
        FileSource::Bytes(v)
    }
}

impl From<&[u8]> for FileSource {
    fn from(v: &[u8]) -> Self {
        FileSource::Bytes(v.to_vec())
    }
}

impl From<PathBuf> for FileSource {
    fn from(p: PathBuf) -> Self {
        FileSource::Host(p)
    }
}

impl From<&Path> for FileSource {
    fn from(p: &Path) -> Self {
        FileSource::Host(p.to_path_buf())
    }
}

/// Something [`ImageBuilder::add_dir_tree`] left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// A symbolic link (FAT has none).
    Symlink(PathBuf),
    /// A FIFO, socket or device node.
    Special(PathBuf),
    /// A name FAT cannot hold (not UTF-8, a character FAT refuses, too long).
    BadName {
        /// The host path.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// A name equal, ignoring case, to one already added from the same directory (FAT
    /// ignores case).
    CaseCollision {
        /// The host path left out.
        path: PathBuf,
        /// The guest path it collides with.
        with: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Symlink(p) => write!(f, "{}: skipped: symbolic link (FAT has none)", p.display()),
            Warning::Special(p) => write!(f, "{}: skipped: not a regular file or directory", p.display()),
            Warning::BadName { path, reason } => write!(f, "{}: skipped: {reason}", path.display()),
            Warning::CaseCollision { path, with } => {
                write!(f, "{}: skipped: FAT ignores case and {with} is already there", path.display())
            }
        }
    }
}

/// Why an image could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// Reading a host file or writing the image file failed.
    Host {
        /// The host path.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
    /// The volume refused an operation (`NoSpace` when the content does not fit).
    Guest {
        /// The guest path.
        path: String,
        /// The error.
        error: FsError,
    },
    /// A guest path FAT cannot hold.
    InvalidPath {
        /// The guest path.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// A file where a directory is needed, or the other way round.
    Conflict {
        /// The guest path.
        path: String,
    },
    /// The requested size cannot hold a FAT32 volume.
    TooSmall {
        /// The requested size.
        size: u64,
        /// The minimum.
        min: u64,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Host { path, error } => write!(f, "{}: {error}", path.display()),
            BuildError::Guest { path, error: FsError::NoSpace } => {
                write!(f, "image: {path}: the image is full (give a larger size)")
            }
            BuildError::Guest { path, error } => write!(f, "image: {path}: {error}"),
            BuildError::InvalidPath { path, reason } => write!(f, "image path {path:?}: {reason}"),
            BuildError::Conflict { path } => {
                write!(f, "image path {path:?}: a file and a directory would have the same name")
            }
            BuildError::TooSmall { size, min } => {
                write!(f, "an image of {size} bytes is too small for FAT32 (at least {min})")
            }
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Host { error, .. } => Some(error),
            BuildError::Guest { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// What [`ImageBuilder::build_to_file`] made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildReport {
    /// Image size in bytes.
    pub size: u64,
    /// Bytes per cluster.
    pub cluster_size: u32,
    /// Files written (the manifest included).
    pub files: usize,
    /// Directories created.
    pub dirs: usize,
    /// File content bytes written.
    pub bytes: u64,
    /// Free bytes left in the image.
    pub free_bytes: u64,
}

#[derive(Clone, Debug)]
pub(super) enum Item {
    Dir { path: String },
    File { path: String, source: FileSource, size: u64, mtime: Option<i64> },
}

/// Builds a FAT32 image: the program, the user's files, the manifest.
///
/// Nothing is read or written until a `build_*` call: `add_*` record what goes where
/// (checking names and collecting sizes), `build_*` formats a volume with
/// `fatfs::format_volume` and writes the content directly in one pass (`writer`), streaming
/// host files in chunks (files of any size up to FAT's 4 GiB − 1 use constant memory). Parent directories are created as
/// needed. Adding a file twice keeps the last source.
#[derive(Clone, Debug, Default)]
pub struct ImageBuilder {
    size: Option<u64>,
    format: FormatOptions,
    pub(super) items: Vec<Item>,
    /// Upper-cased guest path → index in `items`.
    index: HashMap<String, usize>,
}

pub(super) fn fold(path: &str) -> String {
    path.chars().flat_map(char::to_uppercase).collect()
}

fn mtime_of(m: &fs::Metadata) -> Option<i64> {
    let t = m.modified().ok()?;
    Some(match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    })
}

fn host(path: &Path) -> impl FnOnce(io::Error) -> BuildError + '_ {
    move |error| BuildError::Host { path: path.to_path_buf(), error }
}

/// Bytes of directory entries for `name`: one 8.3 entry plus one per 13 UTF-16 units.
fn entry_bytes(name: &str) -> u64 {
    32 * (1 + name.encode_utf16().count().div_ceil(13) as u64)
}

/// Normalises a guest path to `/a/b` and checks every name.
pub(super) fn normalize(path: &str) -> Result<(String, Vec<String>), BuildError> {
    let bad = |reason| BuildError::InvalidPath { path: path.to_string(), reason };
    let comps = components(path).map_err(|e| match e {
        FsError::NameTooLong => bad("a name is longer than 255 bytes"),
        _ => bad("`..` is not allowed"),
    })?;
    for name in &comps {
        validate_name(name)
            .map_err(|_| bad("FAT names cannot hold the characters \"*/:<>?\\| or control characters"))?;
    }
    let comps: Vec<String> = comps.into_iter().map(str::to_string).collect();
    Ok((format!("/{}", comps.join("/")), comps))
}

impl ImageBuilder {
    /// A builder for an image of `size_bytes`, or of a size chosen from the content when
    /// `None`: content + 25 % + 32 MiB, at least 64 MiB, rounded up to a MiB.
    pub fn new(size_bytes: Option<u64>) -> ImageBuilder {
        ImageBuilder { size: size_bytes, ..ImageBuilder::default() }
    }

    /// Sets how the volume is formatted (cluster size, label).
    pub fn format_options(&mut self, opts: FormatOptions) -> &mut Self {
        self.format = opts;
        self
    }

    fn ensure_dirs(&mut self, comps: &[String]) -> Result<(), BuildError> {
        let mut path = String::new();
        for name in comps {
            path.push('/');
            path.push_str(name);
            match self.index.get(&fold(&path)) {
                Some(&i) => {
                    if matches!(self.items[i], Item::File { .. }) {
                        return Err(BuildError::Conflict { path });
                    }
                }
                None => {
                    self.index.insert(fold(&path), self.items.len());
                    self.items.push(Item::Dir { path: path.clone() });
                }
            }
        }
        Ok(())
    }

    /// Adds a directory (and its parents).
    pub fn add_dir(&mut self, guest_path: &str) -> Result<(), BuildError> {
        let (_, comps) = normalize(guest_path)?;
        self.ensure_dirs(&comps)
    }

    /// Adds a file at `guest_path` (absolute or relative to the root), creating its parent
    /// directories. A host file must be a regular file (symbolic links are followed here);
    /// its size is taken now and its modification time is kept.
    pub fn add_file(&mut self, guest_path: &str, source: impl Into<FileSource>) -> Result<(), BuildError> {
        let source = source.into();
        let (size, mtime) = match &source {
            FileSource::Bytes(b) => (b.len() as u64, None),
            FileSource::HostExtents { extents, .. } => (extents.iter().map(|e| e.1).sum(), None),
            FileSource::Host(p) => {
                let m = fs::metadata(p).map_err(host(p))?;
                if !m.is_file() {
                    let error = io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
                    return Err(BuildError::Host { path: p.clone(), error });
                }
                (m.len(), mtime_of(&m))
            }
        };
        self.add_item(guest_path, source, size, mtime)
    }

    pub(super) fn add_item(
        &mut self,
        guest: &str,
        source: FileSource,
        size: u64,
        mtime: Option<i64>,
    ) -> Result<(), BuildError> {
        let (path, comps) = normalize(guest)?;
        let Some((_, parents)) = comps.split_last() else {
            return Err(BuildError::InvalidPath { path, reason: "a file needs a name" });
        };
        self.ensure_dirs(parents)?;
        let item = Item::File { path: path.clone(), source, size, mtime };
        match self.index.get(&fold(&path)) {
            Some(&i) if matches!(self.items[i], Item::Dir { .. }) => Err(BuildError::Conflict { path }),
            Some(&i) => {
                self.items[i] = item;
                Ok(())
            }
            None => {
                self.index.insert(fold(&path), self.items.len());
                self.items.push(item);
                Ok(())
            }
        }
    }

    /// Copies the host directory tree `host_dir` to `guest_dir`: every regular file and
    /// directory, recursively, in name order, with modification times. Symbolic links,
    /// special files, names FAT cannot hold and names that differ only in case from one
    /// already taken are left out and returned as warnings.
    pub fn add_dir_tree(&mut self, host_dir: impl AsRef<Path>, guest_dir: &str) -> Result<Vec<Warning>, BuildError> {
        let host_dir = host_dir.as_ref();
        let m = fs::metadata(host_dir).map_err(host(host_dir))?;
        if !m.is_dir() {
            let error = io::Error::new(io::ErrorKind::InvalidInput, "not a directory");
            return Err(BuildError::Host { path: host_dir.to_path_buf(), error });
        }
        let (guest, comps) = normalize(guest_dir)?;
        self.ensure_dirs(&comps)?;
        let mut warnings = Vec::new();
        self.walk(host_dir, if guest == "/" { "" } else { &guest }, &mut warnings)?;
        Ok(warnings)
    }

    fn walk(&mut self, dir: &Path, guest: &str, warnings: &mut Vec<Warning>) -> Result<(), BuildError> {
        let mut entries = fs::read_dir(dir)
            .map_err(host(dir))?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<Vec<PathBuf>>>()
            .map_err(host(dir))?;
        entries.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        let mut taken = HashSet::new();
        for path in entries {
            let m = fs::symlink_metadata(&path).map_err(host(&path))?;
            let kind = m.file_type();
            if kind.is_symlink() {
                warnings.push(Warning::Symlink(path));
                continue;
            }
            if !kind.is_file() && !kind.is_dir() {
                warnings.push(Warning::Special(path));
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
                warnings.push(Warning::BadName { path, reason: "the name is not UTF-8" });
                continue;
            };
            match validate_name(&name) {
                Err(FsError::NameTooLong) => {
                    warnings.push(Warning::BadName { path, reason: "the name is longer than 255 bytes" });
                    continue;
                }
                Err(_) => {
                    let reason = "FAT names cannot hold the characters \"*:<>?\\| or control characters";
                    warnings.push(Warning::BadName { path, reason });
                    continue;
                }
                Ok(()) => {}
            }
            let child = format!("{guest}/{name}");
            if !taken.insert(fold(&name)) {
                let with = self.index.get(&fold(&child)).map_or(child.clone(), |&i| self.items[i].path().to_string());
                warnings.push(Warning::CaseCollision { path, with });
                continue;
            }
            if kind.is_dir() {
                self.add_dir(&child)?;
                self.walk(&path, &child, warnings)?;
            } else {
                self.add_item(&child, FileSource::Host(path), m.len(), mtime_of(&m))?;
            }
        }
        Ok(())
    }

    /// Stores `manifest` at [`MANIFEST_PATH`] (replacing an earlier one).
    pub fn set_manifest(&mut self, manifest: &Manifest) -> Result<(), BuildError> {
        self.add_file(MANIFEST_PATH, manifest.render())
    }

    /// Bytes the content takes on a volume with 4 KiB clusters (an upper bound for smaller
    /// clusters): file data rounded up to clusters, a cluster per directory, the directory
    /// entries.
    pub fn content_size(&self) -> u64 {
        let cluster = 4096;
        let mut total = cluster; // the root directory
        for item in &self.items {
            let path = item.path();
            total += entry_bytes(path.rsplit('/').next().unwrap_or(path));
            total += match item {
                Item::Dir { .. } => cluster,
                Item::File { size, .. } => size.div_ceil(cluster) * cluster,
            };
        }
        total
    }

    /// Sets the image size (`None`: chosen from the content, as [`ImageBuilder::new`] says).
    pub fn set_size(&mut self, size_bytes: Option<u64>) -> &mut Self {
        self.size = size_bytes;
        self
    }

    /// The image size `build_*` will use.
    pub fn image_size(&self) -> u64 {
        if let Some(size) = self.size {
            return size;
        }
        let content = self.content_size();
        (content + content / 4 + 32 * MIB).max(MIN_AUTO_SIZE).div_ceil(MIB) * MIB
    }

    /// Builds the image into `path` (created or truncated; sparse where the volume is
    /// empty). The file is written with ordinary writes and not fsynced.
    pub fn build_to_file(&self, path: impl AsRef<Path>) -> Result<BuildReport, BuildError> {
        let path = path.as_ref();
        let size = self.checked_size()?;
        let dev = FileDevice::create(path, size).map_err(host(path))?;
        let (_, report) = self.build_on_zeroed(dev)?;
        Ok(report)
    }

    /// Builds the image in memory.
    pub fn build_in_memory(&self) -> Result<Vec<u8>, BuildError> {
        let size = self.checked_size()?;
        let size = usize::try_from(size).map_err(|_| BuildError::TooSmall { size, min: MIN_VOLUME_SIZE })?;
        let (dev, _) = self.build_on_zeroed(MemDevice::new(size))?;
        Ok(dev.into_vec())
    }

    pub(super) fn checked_size(&self) -> Result<u64, BuildError> {
        let size = self.image_size();
        if size < MIN_VOLUME_SIZE {
            return Err(BuildError::TooSmall { size, min: MIN_VOLUME_SIZE });
        }
        Ok(size)
    }

    /// Formats `dev` and writes everything onto it.
    ///
    /// The volume is formatted with `fatfs::format_volume`; the content is then laid out and
    /// written directly (see `writer`), in time linear in the number of names and bytes,
    /// whatever the size of the directories.
    pub fn build_on<D: BlockDevice + Send + Sync>(&self, dev: D) -> Result<(D, BuildReport), BuildError> {
        self.build(dev, false)
    }

    /// [`ImageBuilder::build_on`] for a device that holds only zeros (a new sparse file, new
    /// memory): `format` runs on a stage in memory (see `writer::Fresh`), which saves it
    /// some 2,500 small writes for a 512 MiB volume.
    pub(super) fn build_on_zeroed<D: BlockDevice + Send + Sync>(&self, dev: D) -> Result<(D, BuildReport), BuildError> {
        self.build(dev, true)
    }

    fn build<D: BlockDevice + Send + Sync>(&self, dev: D, zeroed: bool) -> Result<(D, BuildReport), BuildError> {
        let size = dev.len();
        let root = |error| BuildError::Guest { path: "/".into(), error };
        if zeroed {
            let stage = Fresh::new(&dev);
            format_device(&stage, &self.format).map_err(root)?;
            stage.commit().map_err(|e| root(e.into()))?;
        } else {
            format_device(&dev, &self.format).map_err(root)?;
        }
        let now = std::time::SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let w = write_items(&dev, &self.items, self.format.volume_label, now)?;
        let report = BuildReport {
            size,
            cluster_size: w.cluster_size,
            files: w.files,
            dirs: w.dirs,
            bytes: w.bytes,
            free_bytes: u64::from(w.free_clusters) * u64::from(w.cluster_size),
        };
        Ok((dev, report))
    }
}

impl Item {
    pub(super) fn path(&self) -> &str {
        match self {
            Item::Dir { path } | Item::File { path, .. } => path,
        }
    }
}
