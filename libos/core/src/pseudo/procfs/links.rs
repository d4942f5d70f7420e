//! `/proc/<pid>/cwd`, `root` and `exe`: magic links to the working directory, the root
//! and the executable.
//!
//! `readlink` gives the path (the working directory with " (deleted)" once removed;
//! the executable's path as the program was started); following one reaches the
//! directory or file itself, so `ls /proc/self/cwd/` lists the working directory even
//! after it was renamed, and `stat("/proc/self/exe")` stats the program (ENOENT if the
//! program is not in the guest's filesystem, as when the hosted platform runs a file
//! from the host).

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::pseudo::node::Attr;
use crate::vfs::inode::{FileKind, Inode, Metadata};
use crate::vfs::{At, Dentry};
use crate::{Errno, Kernel};

/// Which of the three links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Which {
    Cwd,
    Root,
    Exe,
}

/// One of the process's magic links.
pub(super) struct ProcessLink {
    attr: Attr,
    k: &'static Kernel,
    which: Which,
}

impl ProcessLink {
    pub fn new(attr: Attr, k: &'static Kernel, which: Which) -> Arc<ProcessLink> {
        Arc::new(ProcessLink { attr, k, which })
    }
}

impl Inode for ProcessLink {
    fn kind(&self) -> FileKind {
        FileKind::Symlink
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        Ok(self.attr.metadata(FileKind::Symlink, 1))
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        let vfs = &self.k.vfs;
        Ok(match self.which {
            Which::Cwd => {
                let (mut path, deleted) = vfs.path_of(&vfs.cwd());
                if deleted {
                    path.extend_from_slice(b" (deleted)");
                }
                path
            }
            Which::Root => b"/".to_vec(),
            Which::Exe => self.k.exe_path.clone(),
        })
    }

    fn jump_target(&self, _link: &Arc<Dentry>) -> Result<Option<Arc<Dentry>>, Errno> {
        let vfs = &self.k.vfs;
        Ok(Some(match self.which {
            Which::Cwd => vfs.cwd(),
            Which::Root => vfs.root(),
            Which::Exe => vfs.lookup(&At::Cwd, &self.k.exe_path, true)?,
        }))
    }
}
