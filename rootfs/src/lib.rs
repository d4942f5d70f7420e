//! unify's root filesystem: FAT32 volumes through [fatfs](https://docs.rs/fatfs/0.3.6).
//!
//! * The `no_std + alloc` core, for the libOS: [`BlockDevice`] (what a volume is stored
//!   on; [`SliceDevice`] for a mapped image), [`FatFs`] (a volume as a `libos::vfs`
//!   filesystem with Linux vfat's behaviour: what the libOS mounts at `/`), [`FatVolume`]
//!   (operations by path with Linux errnos, for tools and tests), [`format`], and the image
//!   [`Manifest`].
//! * With the `std` feature, for the tools: [`FileDevice`] (an image file as a block device)
//!   and [`ImageBuilder`] (FAT32 images from host files, never mounting, never root).
//!
//! # fatfs in `no_std`
//!
//! fatfs 0.3.6 is the current release. Built without `std` it takes its io traits from the
//! crates.io `core_io`, which no longer builds; `rootfs/core_io` stands in for it through
//! `[patch.crates-io]`. Built without `std` and with `alloc` (long file names need `alloc`),
//! fatfs also declares `#![feature(alloc)]` — a feature stable since Rust 1.36, which stable
//! compilers still refuse to see declared — so that build needs `RUSTC_BOOTSTRAP=fatfs` (for
//! that one crate). With this crate's `std` feature fatfs uses `std::io` instead and builds
//! on any stable compiler. The code here is the same either way: `fio` below is whichever
//! io fatfs was built with. See `rootfs/README.md`.

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// The io traits fatfs was built with: `std::io` when fatfs has its `std` feature (which
// this crate's `std` feature turns on), else `core_io`.
#[cfg(not(feature = "std"))]
pub(crate) use core_io as fio;
#[cfg(feature = "std")]
pub(crate) use std::io as fio;

mod blockio;
mod device;
mod error;
mod fat;
mod fnv;
pub mod manifest;
pub mod path;
mod slice_device;
pub mod time;
pub mod vfs;
mod volume;

#[cfg(feature = "std")]
mod host;

pub use device::{BlockDevice, MemDevice};
pub use error::{errno, FsError, IoError};
pub use manifest::{Manifest, ManifestError, PortMapping, Protocol, MANIFEST_PATH};
pub use slice_device::{FlushFn, SliceDevice};
pub use vfs::{FatFs, FatInode, MountOptions};
pub use volume::{
    default_cluster_size, format, DirEntry, FatVolume, FileKind, FormatOptions, Metadata, StatFs, VolumeOptions,
    MAX_FILE_SIZE, MIN_VOLUME_SIZE,
};

#[cfg(feature = "std")]
pub use host::{BuildError, BuildReport, FileDevice, FileSource, ImageBuilder, Warning};
