//! A directory of a mounted filesystem, mounted again elsewhere (or over itself) with
//! its own flags: what `mount --bind -o ro DIR DIR` makes. The platforms use it for
//! the read-only volumes an image's manifest names.

use alloc::sync::Arc;

use super::inode::{FileSystem, Inode, Statfs};
use crate::Errno;

/// The subtree under `root`, a directory of `fs`.
pub struct Subtree {
    fs: Arc<dyn FileSystem>,
    root: Arc<dyn Inode>,
}

impl Subtree {
    pub fn new(fs: Arc<dyn FileSystem>, root: Arc<dyn Inode>) -> Arc<Subtree> {
        Arc::new(Subtree { fs, root })
    }
}

impl FileSystem for Subtree {
    fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }
    fn fs_type(&self) -> &'static str {
        self.fs.fs_type()
    }
    fn statfs(&self) -> Result<Statfs, Errno> {
        self.fs.statfs()
    }
    fn sync(&self) -> Result<(), Errno> {
        self.fs.sync()
    }
    /// The filesystem itself is unmounted through its own mount.
    fn unmount(&self) -> Result<(), Errno> {
        Ok(())
    }
}
