//! Rebuilding a kept image around new content: everything the image holds, except what the
//! new content replaces, goes into a new builder, read straight from the old image file
//! when the new one is built. Linear in the size of the image, where copying into it through
//! fatfs (`apply_to`) is quadratic in the size of the directories touched.

use std::path::Path;
use std::prelude::rust_2021::*;

use super::image::{fold, BuildError, FileSource, ImageBuilder};
use super::reader::read_tree;
use crate::{BlockDevice, FileDevice};

/// Whether `path` is `dir` or below it, as FAT compares names.
fn at_or_below(path: &str, dir: &str) -> bool {
    let (path, dir) = (fold(path), fold(dir.trim_end_matches('/')));
    dir.is_empty() || path == dir || path.strip_prefix(&dir).is_some_and(|rest| rest.starts_with('/'))
}

impl ImageBuilder {
    /// A builder holding what the image file `image` holds — every directory, and every
    /// file with its modification time, its bytes to be read from `image` when the new
    /// image is built — except what is at or below a path in `drop`. Its size is the old
    /// image's. Build it into a new file (e.g. [`ImageBuilder::build_new_file`] over
    /// `image`, which replaces it only once the new image is complete).
    pub fn from_image(image: &Path, drop: &[&str]) -> Result<ImageBuilder, BuildError> {
        let host = |error| BuildError::Host { path: image.to_path_buf(), error };
        let dev = FileDevice::open_read_only(image).map_err(host)?;
        let found = read_tree(&dev).map_err(|error| BuildError::Guest { path: "/".into(), error })?;
        let mut b = ImageBuilder::new(Some(dev.len()));
        for f in found {
            if drop.iter().any(|d| at_or_below(&f.path, d)) {
                continue;
            }
            if f.dir {
                b.add_dir(&f.path)?;
            } else {
                let source = FileSource::HostExtents { path: image.to_path_buf(), extents: f.extents };
                b.add_item(&f.path, source, f.size, Some(f.mtime))?;
            }
        }
        Ok(b)
    }
}
