//! The layout of an image that runs a program, shared by the `unify` CLI and `unify-hosted`:
//! the directories the libOS mounts over, the program at `/bin/<name>`, the manifest, and
//! the size such an image gets.

use std::format;
use std::path::Path;
use std::prelude::rust_2021::*;

use super::image::{BuildError, FileSource, ImageBuilder};
use crate::manifest::Manifest;
use crate::path::{same_name, validate_name};

const MIB: u64 = 1024 * 1024;

// The crate's public names are fixed in `lib.rs`; what belongs to images that run a program
// is reached through `ImageBuilder`.
impl ImageBuilder {
    /// Where the libOS mounts its own filesystems (devices, proc, sys, a tmpfs, the generated
    /// `/etc`). Every image that runs a program has them as empty directories; what the image
    /// holds below them is hidden at run time.
    pub const MOUNT_POINTS: [&'static str; 5] = ["/dev", "/etc", "/proc", "/sys", "/tmp"];

    /// The directory programs are copied to.
    pub const BIN_DIR: &'static str = "/bin";

    /// The manifest key (in [`Manifest::extra`]) naming a directory or file of the image
    /// that the libOS is to mount read-only, one line per path (`readonly=/data`).
    pub const READ_ONLY_KEY: &'static str = "readonly";

    /// The smallest image [`ImageBuilder::run_image_size`] picks: large enough for 4 KiB
    /// clusters (FAT32 needs 65,525 clusters; smaller volumes get 512-byte to 2 KiB
    /// clusters, whose chains are longer to walk). Image files are sparse, so the free space
    /// costs nothing on the host.
    pub const RUN_IMAGE_MIN_SIZE: u64 = 512 * MIB;

    /// The size of an image for running a program with `content` bytes of files (see
    /// [`ImageBuilder::content_size`]): twice the content (as much free space as content),
    /// at least [`ImageBuilder::RUN_IMAGE_MIN_SIZE`], in whole MiB.
    pub fn run_image_size(content: u64) -> u64 {
        content.saturating_mul(2).max(Self::RUN_IMAGE_MIN_SIZE).div_ceil(MIB) * MIB
    }

    /// The mount point `guest_path` is at or below, if any (compared as FAT compares names).
    pub fn mount_point_of(guest_path: &str) -> Option<&'static str> {
        let first = guest_path.split('/').find(|c| !c.is_empty() && *c != ".")?;
        Self::MOUNT_POINTS.into_iter().find(|m| same_name(&m[1..], first))
    }

    /// Where the program `host_program` goes in the image: `/bin/` and its file name.
    pub fn program_path(host_program: &Path) -> Result<String, BuildError> {
        let shown = host_program.display().to_string();
        let bad = |reason| BuildError::InvalidPath { path: shown.clone(), reason };
        let name = host_program.file_name().ok_or(bad("not a file name"))?;
        let name = name.to_str().ok_or(bad("the file name is not UTF-8"))?;
        validate_name(name)
            .map_err(|_| bad("FAT names cannot hold the characters \"*:<>?\\| or control characters"))?;
        Ok(format!("{}/{name}", Self::BIN_DIR))
    }

    /// Adds the empty directories the libOS mounts over ([`ImageBuilder::MOUNT_POINTS`]).
    pub fn add_mount_points(&mut self) -> Result<(), BuildError> {
        Self::MOUNT_POINTS.into_iter().try_for_each(|m| self.add_dir(m))
    }

    /// Makes this an image that runs `host_program`: the mount points, the program at
    /// [`ImageBuilder::program_path`], and `manifest` with its `program` set to that path
    /// (stored at [`MANIFEST_PATH`](crate::MANIFEST_PATH)). Returns the manifest as stored.
    ///
    /// Call it after adding the other content: a file added later at the same path would
    /// replace the program.
    pub fn add_program(&mut self, host_program: &Path, mut manifest: Manifest) -> Result<Manifest, BuildError> {
        self.add_mount_points()?;
        let guest = Self::program_path(host_program)?;
        self.add_file(&guest, FileSource::Host(host_program.to_path_buf()))?;
        manifest.program = guest;
        self.set_manifest(&manifest)?;
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type B = ImageBuilder;

    #[test]
    fn run_images_get_4k_clusters_and_room_to_grow() {
        assert_eq!(B::run_image_size(0), 512 * MIB);
        assert_eq!(B::run_image_size(300 * MIB + 1), 601 * MIB);
        assert_eq!(crate::default_cluster_size(B::RUN_IMAGE_MIN_SIZE), 4096);
    }

    #[test]
    fn mount_points_are_found_by_first_name() {
        assert_eq!(B::mount_point_of("/proc"), Some("/proc"));
        assert_eq!(B::mount_point_of("/Proc/self"), Some("/proc"));
        assert_eq!(B::mount_point_of("//tmp/"), Some("/tmp"));
        assert_eq!(B::mount_point_of("/procs"), None);
        assert_eq!(B::mount_point_of("/data/proc"), None);
        assert_eq!(B::mount_point_of("/"), None);
    }

    #[test]
    fn program_paths() {
        assert_eq!(B::program_path(Path::new("target/release/rg")).unwrap(), "/bin/rg");
        assert!(B::program_path(Path::new("what?")).is_err());
        assert!(B::program_path(Path::new("/")).is_err());
    }
}
