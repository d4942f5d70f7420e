//! Dentries: names for inodes, and the memory of how the walker got somewhere.
//!
//! An inode does not know its own name or parent (a file may have several names, and
//! a filesystem such as FAT cannot cheaply answer "what is my parent"). But `..`,
//! `getcwd`, `/proc/self/cwd` and `/proc/self/fd/N` all need exactly that. So, as Linux
//! does, the VFS keeps a [`Dentry`] for every name it has resolved and still uses: the
//! inode, the parent dentry, the name in that parent, and the [`Mount`].
//!
//! # Why dentries and not stored path strings
//!
//! A working directory kept as a string goes stale when a directory above it is
//! renamed, and `..` computed on strings is wrong after a symlink (`/a/link/..` is the
//! parent of the link's *target*). A dentry follows the tree itself: parents are strong
//! references (a dentry keeps its ancestors alive), and [`super::Vfs`] moves or detaches
//! the dentries it finds when it renames or removes a name. Reconstructing a path is
//! a climb to the root, one name per level, crossing from each mounted root to the
//! dentry it covers.
//!
//! # The cache
//!
//! Each directory dentry keeps a map from names to its children, held *weakly*: the
//! cache never keeps a dentry alive, it only lets a later lookup of the same name find
//! the dentry that open files and the cwd already use, so a rename made through one
//! updates what the others report. A lookup always asks the filesystem (so pseudo
//! filesystems whose entries come and go are never shadowed by stale entries) and then
//! reuses the cached dentry if it names the same node. Mount points are the exception:
//! they are held alive by their mount and answered from the cache, which is how a mount
//! on a name the filesystem lacks (`/proc` on a FAT root) works. Dead entries are pruned
//! as the map grows.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use super::inode::{same_node, FileKind, Inode};
use super::mount::Mount;

/// A name for an inode: the node, where it hangs in the tree, and which mount it is in.
pub struct Dentry {
    inode: Arc<dyn Inode>,
    mount: Arc<Mount>,
    /// For the root of a mount other than `/`: the mount point it covers.
    covers: Option<Arc<Dentry>>,
    link: spin::Mutex<Link>,
    children: spin::Mutex<Children>,
    /// The root of the mount attached here, if this dentry is a mount point.
    mounted: spin::Mutex<Option<Arc<Dentry>>>,
}

struct Link {
    /// `None` for the root of a mount.
    parent: Option<Arc<Dentry>>,
    name: Vec<u8>,
    /// The name was removed (unlink, rmdir, replaced by a rename).
    unlinked: bool,
}

struct Children {
    map: BTreeMap<Vec<u8>, Weak<Dentry>>,
    /// Prune dead entries when the map reaches this size.
    prune_at: usize,
}

const MIN_PRUNE: usize = 32;

impl Dentry {
    /// The root dentry of a mount of `inode`; `covers` is the mount point (none for `/`).
    pub(crate) fn new_root(inode: Arc<dyn Inode>, mount: Arc<Mount>, covers: Option<Arc<Dentry>>) -> Arc<Dentry> {
        Dentry::make(inode, mount, covers, None, Vec::new())
    }

    /// A dentry for an object that has no name in the tree (a pipe or the console
    /// behind `/proc/self/fd/N`): the answer of a magic link, in the mount of the link.
    /// It has no parent; it is never cached.
    pub(crate) fn new_detached(inode: Arc<dyn Inode>, mount: Arc<Mount>) -> Arc<Dentry> {
        Dentry::make(inode, mount, None, None, Vec::new())
    }

    fn make(
        inode: Arc<dyn Inode>,
        mount: Arc<Mount>,
        covers: Option<Arc<Dentry>>,
        parent: Option<Arc<Dentry>>,
        name: Vec<u8>,
    ) -> Arc<Dentry> {
        Arc::new(Dentry {
            inode,
            mount,
            covers,
            link: spin::Mutex::new(Link { parent, name, unlinked: false }),
            children: spin::Mutex::new(Children { map: BTreeMap::new(), prune_at: MIN_PRUNE }),
            mounted: spin::Mutex::new(None),
        })
    }

    pub fn inode(&self) -> &Arc<dyn Inode> {
        &self.inode
    }

    pub fn kind(&self) -> FileKind {
        self.inode.kind()
    }

    pub fn is_dir(&self) -> bool {
        self.kind() == FileKind::Directory
    }

    /// The mount this name is in.
    pub fn mount(&self) -> &Arc<Mount> {
        &self.mount
    }

    /// Whether `self` and `other` are in the same mount (EXDEV otherwise).
    pub fn same_mount(&self, other: &Dentry) -> bool {
        Arc::ptr_eq(&self.mount, &other.mount)
    }

    /// The name in the parent (empty for the root of a mount).
    pub fn name(&self) -> Vec<u8> {
        self.link.lock().name.clone()
    }

    /// The parent in the same mount (`None` for the root of a mount).
    pub fn parent(&self) -> Option<Arc<Dentry>> {
        self.link.lock().parent.clone()
    }

    /// For the root of a mount: the mount point it covers.
    pub fn covers(&self) -> Option<&Arc<Dentry>> {
        self.covers.as_ref()
    }

    /// Whether the name was removed (the node may live on through open files).
    pub fn is_unlinked(&self) -> bool {
        self.link.lock().unlinked
    }

    /// The root of the mount on this dentry, if any.
    pub fn mounted(&self) -> Option<Arc<Dentry>> {
        self.mounted.lock().clone()
    }

    pub fn is_mountpoint(&self) -> bool {
        self.mounted.lock().is_some()
    }

    pub(crate) fn set_mounted(&self, root: Arc<Dentry>) {
        *self.mounted.lock() = Some(root);
    }

    /// The live cached child called `name`, if any.
    pub(crate) fn cached(&self, name: &[u8]) -> Option<Arc<Dentry>> {
        self.children.lock().map.get(name).and_then(Weak::upgrade)
    }

    /// The dentry for child `name`, which the filesystem says is `inode`: the cached
    /// one if it names the same node, else a new one (which replaces it in the cache).
    pub(crate) fn child(self: &Arc<Self>, name: &[u8], inode: Arc<dyn Inode>) -> Arc<Dentry> {
        let mut children = self.children.lock();
        if let Some(existing) = children.map.get(name).and_then(Weak::upgrade) {
            if same_node(&existing.inode, &inode) {
                return existing;
            }
        }
        let child = Dentry::make(inode, self.mount.clone(), None, Some(self.clone()), name.to_vec());
        children.insert(name, &child);
        child
    }

    /// Marks the name removed and forgets it in the parent's cache.
    pub(crate) fn detach(self: &Arc<Self>) {
        let (parent, name) = {
            let mut link = self.link.lock();
            link.unlinked = true;
            (link.parent.clone(), link.name.clone())
        };
        if let Some(parent) = parent {
            parent.children.lock().remove_if_same(&name, self);
        }
    }

    /// Moves this name to `new_name` in `new_parent` (after a rename).
    pub(crate) fn move_to(self: &Arc<Self>, new_parent: &Arc<Dentry>, new_name: &[u8]) {
        let (old_parent, old_name) = {
            let link = self.link.lock();
            (link.parent.clone(), link.name.clone())
        };
        if let Some(old_parent) = old_parent {
            old_parent.children.lock().remove_if_same(&old_name, self);
        }
        {
            let mut link = self.link.lock();
            link.parent = Some(new_parent.clone());
            link.name = new_name.to_vec();
        }
        new_parent.children.lock().insert(new_name, self);
    }

    /// Whether `self` is `other` or one of its ancestors within their mount.
    pub fn is_ancestor_of(self: &Arc<Self>, other: &Arc<Dentry>) -> bool {
        let mut cur = Some(other.clone());
        while let Some(d) = cur {
            if Arc::ptr_eq(&d, self) {
                return true;
            }
            cur = d.parent();
        }
        false
    }
}

impl Children {
    fn insert(&mut self, name: &[u8], child: &Arc<Dentry>) {
        self.map.insert(name.to_vec(), Arc::downgrade(child));
        if self.map.len() >= self.prune_at {
            self.map.retain(|_, w| w.strong_count() > 0);
            self.prune_at = (self.map.len() * 2).max(MIN_PRUNE);
        }
    }

    fn remove_if_same(&mut self, name: &[u8], child: &Arc<Dentry>) {
        if self.map.get(name).is_some_and(|w| core::ptr::eq(w.as_ptr(), Arc::as_ptr(child))) {
            self.map.remove(name);
        }
    }
}

impl core::fmt::Debug for Dentry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let link = self.link.lock();
        f.debug_struct("Dentry")
            .field("name", &alloc::string::String::from_utf8_lossy(&link.name))
            .field("kind", &self.inode.kind())
            .field("mount", &self.mount.id())
            .field("unlinked", &link.unlinked)
            .finish()
    }
}
