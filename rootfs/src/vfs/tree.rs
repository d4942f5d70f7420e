//! Changes to the tree: create, remove, rename — each the change of the directory
//! entries (`entries`: no scan of the directory) plus the same change to the kept
//! listings and nodes. The listing answers existence and type questions first, which is
//! what makes the errnos Linux's.

use alloc::boxed::Box;
use alloc::string::String;

use libos::vfs::rename_flags::RENAME_NOREPLACE;
use libos::vfs::FileKind;
use libos::Errno;

use super::layout::Layout;
use super::listing::{Child, Listing};
use super::names::{alias_key, Name};
use super::state::{known_of, Body, Known, Life, Node, State, ROOT_INO};
use crate::fat::entry::{short_entry, Stamp, ATTR_ARCHIVE, ATTR_DIRECTORY, DOT, DOTDOT, SLOT};

impl State {
    /// Makes `name` in directory `dir`: a regular file or a directory (EPERM for the other
    /// kinds, which vfat cannot store). Returns the new node's inode number.
    pub fn create(&mut self, dir: u64, name: &Name<'_>, kind: FileKind) -> Result<u64, Errno> {
        if self.listing(dir)?.find(&name.key).is_some() {
            return Err(Errno::EEXIST);
        }
        let now = self.now();
        let stamp = Stamp::of(super::times::mtime(now));
        let (body, entry, cluster) = match kind {
            FileKind::Regular => {
                let sfn = short_entry(&[b' '; 11], ATTR_ARCHIVE, 0, 0, stamp, stamp);
                let (placed, e) = self.put_entry(dir, name.text, sfn)?;
                (Body::File(e.to_file()), placed, 0)
            }
            FileKind::Directory => {
                let cluster = self.new_dir_cluster(dir, stamp)?;
                let sfn = short_entry(&[b' '; 11], ATTR_DIRECTORY, cluster, 0, stamp, stamp);
                let (placed, e) = match self.put_entry(dir, name.text, sfn) {
                    Ok(put) => put,
                    Err(err) => {
                        let _ = self.clusters.free(&mut self.raw, &[cluster]);
                        return Err(err);
                    }
                };
                let known = Known { listing: Listing::new(), layout: Layout::new_dir(cluster, &self.raw.geo) };
                (Body::Dir { dir: e.to_dir(), known: Some(Box::new(known)) }, placed, cluster)
            }
            _ => return Err(Errno::EPERM),
        };
        let mut node = Node::new(kind, dir, String::from(name.text), body, Some(entry), now);
        node.cluster = cluster;
        let ino = self.add_node(node);
        let alias_key = alias_key(&entry.short, &name.key);
        let child = Child { name: String::from(name.text), alias_key, ino, kind };
        self.listing(dir)?.insert(name.key.clone(), child);
        self.touch_dir(dir, now)?;
        Ok(ino)
    }

    /// A new directory's cluster, with `.` and `..` (the parent `dir`'s cluster, 0 for the
    /// root) stamped `stamp`.
    fn new_dir_cluster(&mut self, dir: u64, stamp: Stamp) -> Result<u32, Errno> {
        let parent = self.node(dir)?.cluster;
        let cluster = self.clusters.alloc(&mut self.raw, None)?;
        let mut dots = [0u8; 2 * SLOT];
        dots[..SLOT].copy_from_slice(&short_entry(&DOT, ATTR_DIRECTORY, cluster, 0, stamp, stamp));
        dots[SLOT..].copy_from_slice(&short_entry(&DOTDOT, ATTR_DIRECTORY, parent, 0, stamp, stamp));
        if let Err(e) = self.raw.write(self.raw.geo.cluster_offset(cluster), &dots) {
            let _ = self.clusters.free(&mut self.raw, &[cluster]);
            return Err(e);
        }
        Ok(cluster)
    }

    /// Directory `dir` changed: its modification time becomes `now`, in memory and in its
    /// entry.
    fn touch_dir(&mut self, dir: u64, now: libos::abi::Timespec) -> Result<(), Errno> {
        self.node_mut(dir)?.touch_modified(now);
        self.write_dir_times(dir)
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
        self.touch_dir(dir, now)
    }

    /// Removes entry `cookie` (node `ino`, a file or an empty directory) of `dir`. A file
    /// is unlinked: its entry is settled at the next call (see [`Life`]). A directory goes
    /// from the volume at once, with its clusters; if still in use it becomes a removed
    /// directory (lookups and listings in it are ENOENT).
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
            let placed = node.entry.ok_or(Errno::EIO)?;
            self.erase_entry(dir, &placed)?;
            self.node_mut(ino)?.entry = None;
            let chain = core::mem::take(&mut known_of(&mut self.nodes, ino)?.layout.chain);
            self.clusters.free(&mut self.raw, &chain)?;
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
            // The target goes first, so that the name is free: not atomic.
            self.drop_entry(new_dir, target_cookie, target)?;
            if self.release(target)? {
                self.dead.retain(|&d| d != target);
            }
        }
        self.move_entry(ino, new_dir, new_name.text)?;
        let now = self.now();
        let node = self.node_mut(ino)?;
        let short = node.entry.ok_or(Errno::EIO)?.short;
        (node.parent, node.name) = (new_dir, String::from(new_name.text));
        node.touch_changed(now);
        if kind == FileKind::Directory && old_dir != new_dir {
            let cluster = node.cluster;
            let parent = self.node(new_dir)?.cluster;
            self.raw.set_dotdot(cluster, parent)?;
        }
        self.listing(old_dir)?.remove(old_cookie);
        let alias_key = alias_key(&short, &new_name.key);
        let child = Child { name: String::from(new_name.text), alias_key, ino, kind };
        self.listing(new_dir)?.insert(new_name.key.clone(), child);
        self.touch_dir(old_dir, now)?;
        if new_dir != old_dir {
            self.touch_dir(new_dir, now)?;
        }
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
