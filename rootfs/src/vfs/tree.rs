//! Changes to the tree: create, remove, rename — each a fatfs call plus the same change
//! to the kept listings and nodes.
//!
//! fatfs finds entries by scanning the directory, so each of these costs a pass over the
//! directory or a few (fatfs's own duplicate check and short-name generation); the listing
//! has answered existence and type questions before fatfs is called, which is what makes
//! the errnos Linux's. fatfs writes a renamed entry in a new place, so a node's kept handle
//! is found again afterwards (a handle remembers where its entry is).

use alloc::string::String;

use libos::vfs::rename_flags::RENAME_NOREPLACE;
use libos::vfs::FileKind;
use libos::Errno;

use super::errno::io;
use super::listing::Child;
use super::names::{alias_is_upper_case, fold, Name};
use super::state::{Body, Life, Node, State, ROOT_INO};

impl State {
    /// Makes `name` in directory `dir`: a regular file or a directory (EPERM for the other
    /// kinds, which vfat cannot store). Returns the new node's inode number.
    pub fn create(&mut self, dir: u64, name: &Name<'_>, kind: FileKind) -> Result<u64, Errno> {
        if self.listing(dir)?.find(&name.key).is_some() {
            return Err(Errno::EEXIST);
        }
        let handle = self.node(dir)?.dir_handle()?.clone();
        let now = self.now();
        let body = match kind {
            FileKind::Regular => Body::File(io(handle.create_file(name.text))?),
            FileKind::Directory => Body::Dir { dir: io(handle.create_dir(name.text))?, listing: None },
            _ => return Err(Errno::EPERM),
        };
        let mut node = Node::new(kind, dir, String::from(name.text), body, now);
        if let Body::Dir { listing, .. } = &mut node.body {
            *listing = Some(super::listing::Listing::new());
        }
        let alias_key = if kind == FileKind::Regular && alias_is_upper_case(name.text) {
            None
        } else {
            let entry = self.find_entry(&handle, &name.key)?;
            if kind == FileKind::Directory {
                node.cluster = super::raw::first_cluster(&entry);
                self.raw.fix_new_dir(node.cluster, self.node(dir)?.cluster)?;
            }
            let alias = fold(&entry.short_file_name());
            (alias != name.key).then_some(alias)
        };
        let ino = self.add_node(node);
        let child = Child { name: String::from(name.text), alias_key, ino, kind };
        self.listing(dir)?.insert(name.key.clone(), child);
        self.node_mut(dir)?.touch_modified(now);
        Ok(ino)
    }

    /// `unlink` (`want` a regular file: EISDIR for a directory) or `rmdir` (`want` a
    /// directory: ENOTDIR, ENOTEMPTY) of `key` in `dir`.
    pub fn remove(&mut self, dir: u64, key: &str, want: FileKind) -> Result<(), Errno> {
        let (cookie, ino) = self.child(dir, key)?;
        match (want, self.node(ino)?.kind) {
            (FileKind::Directory, FileKind::Regular) => return Err(Errno::ENOTDIR),
            (FileKind::Regular, FileKind::Directory) => return Err(Errno::EISDIR),
            (FileKind::Directory, _) if !self.listing(ino)?.is_empty() => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        self.drop_entry(dir, cookie, ino)?;
        let now = self.now();
        self.node_mut(dir)?.touch_modified(now);
        Ok(())
    }

    /// Removes entry `cookie` (node `ino`, a file or an empty directory) of `dir`. A file
    /// is unlinked: its entry is settled at the next call (see [`Life`]). A directory goes
    /// from the volume at once; if still in use it becomes a removed directory (lookups and
    /// listings in it are ENOENT).
    fn drop_entry(&mut self, dir: u64, cookie: u64, ino: u64) -> Result<(), Errno> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        node.settle()?;
        if node.kind == FileKind::Regular {
            node.life = Life::Unlinked { hidden: false };
            node.touch_changed(now);
            self.dead.push(ino);
        } else {
            let in_use = node.handle.strong_count() > 0;
            let name = node.name.clone();
            io(self.node(dir)?.dir_handle()?.remove(&name))?;
            if in_use {
                let node = self.node_mut(ino)?;
                node.life = Life::Removed;
                node.touch_changed(now);
                self.dead.push(ino);
            } else {
                self.nodes.remove(&ino);
            }
        }
        self.listing(dir)?.remove(cookie);
        Ok(())
    }

    /// Moves `old_key` of `old_dir` to `new_name` in `new_dir`, with the rules of
    /// [`libos::vfs::Inode::rename`]. `RENAME_NOREPLACE` is supported; `RENAME_EXCHANGE`
    /// (not atomic with fatfs), `RENAME_WHITEOUT` and unknown flags are EINVAL.
    pub fn rename(
        &mut self,
        old_dir: u64,
        old_key: &str,
        new_dir: u64,
        new_name: &Name<'_>,
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !RENAME_NOREPLACE != 0 {
            return Err(Errno::EINVAL);
        }
        let (old_cookie, ino) = self.child(old_dir, old_key)?;
        self.listing(new_dir)?;
        let kind = self.node(ino)?.kind;
        if kind == FileKind::Directory && self.is_within(new_dir, ino)? {
            return Err(Errno::EINVAL);
        }
        if let Some(target_cookie) = self.listing(new_dir)?.find(&new_name.key) {
            let target = self.listing(new_dir)?.get(target_cookie).map(|c| c.ino).ok_or(Errno::EIO)?;
            if target == ino {
                // Two names of one node (a name and its alias, or another case).
                return Ok(());
            }
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            match (kind, self.node(target)?.kind) {
                (FileKind::Directory, FileKind::Regular) => return Err(Errno::ENOTDIR),
                (FileKind::Regular, FileKind::Directory) => return Err(Errno::EISDIR),
                (FileKind::Directory, _) if !self.listing(target)?.is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
            // fatfs renames only onto a free name: the target goes first (not atomic).
            self.drop_entry(new_dir, target_cookie, target)?;
            if self.release(target)? {
                self.dead.retain(|&d| d != target);
            }
        }
        let from = self.node(old_dir)?.dir_handle()?.clone();
        let to = self.node(new_dir)?.dir_handle()?.clone();
        let node = self.node_mut(ino)?;
        node.settle()?;
        let old_name = node.name.clone();
        io(from.rename(&old_name, &to, new_name.text))?;

        let entry = self.find_entry(&to, &new_name.key)?;
        let alias = fold(&entry.short_file_name());
        let now = self.now();
        let node = self.node_mut(ino)?;
        match &mut node.body {
            Body::File(f) => *f = entry.to_file(),
            Body::Dir { dir, .. } => *dir = entry.to_dir(),
        }
        (node.parent, node.name) = (new_dir, String::from(new_name.text));
        node.touch_changed(now);
        if kind == FileKind::Directory && old_dir != new_dir {
            let cluster = node.cluster;
            let parent = self.node(new_dir)?.cluster;
            self.raw.set_dotdot(cluster, parent)?;
        }
        self.listing(old_dir)?.remove(old_cookie);
        let alias_key = (alias != new_name.key).then_some(alias);
        let child = Child { name: String::from(new_name.text), alias_key, ino, kind };
        self.listing(new_dir)?.insert(new_name.key.clone(), child);
        self.node_mut(old_dir)?.touch_modified(now);
        self.node_mut(new_dir)?.touch_modified(now);
        Ok(())
    }

    /// Whether directory `dir` is `ancestor` or lies below it.
    fn is_within(&self, dir: u64, ancestor: u64) -> Result<bool, Errno> {
        let mut cur = dir;
        loop {
            if cur == ancestor {
                return Ok(true);
            }
            if cur == ROOT_INO {
                return Ok(false);
            }
            cur = self.node(cur)?.parent;
        }
    }
}
