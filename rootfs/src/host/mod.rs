//! The host side (feature `std`): a block device over a host file, and the image builder
//! (with how images that run a program are laid out, written and updated).

mod aliases;
mod file_device;
mod image;
mod output;
mod program;
mod reader;
mod rebuild;
mod source;
mod update;
mod writer;

pub use file_device::FileDevice;
pub use image::{BuildError, BuildReport, FileSource, ImageBuilder, Warning};
