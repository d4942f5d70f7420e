//! The host side (feature `std`): a block device over a host file, and the image builder.

mod file_device;
mod image;
mod short_name;
mod writer;

pub use file_device::FileDevice;
pub use image::{BuildError, BuildReport, FileSource, ImageBuilder, Warning};
