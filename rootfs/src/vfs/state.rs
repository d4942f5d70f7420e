//! The locked world of one mount: the fatfs filesystem, every node this layer has met, and
//! their kept fatfs handles.
//!
//! fatfs objects borrow the filesystem, so they can outlive a call only if the filesystem
//! is `'static`: it is leaked at mount (a root filesystem lives as long as the process).
//! fatfs is single-threaded (`RefCell`s inside), so the filesystem and everything that
//! refers to it live in [`State`], and `State` lives only in the mount's one lock.
//!
//! A node is created for every entry of a directory when its listing is first read, and
//! stays for as long as its entry exists: its inode number (from a counter) is what
//! `stat` and `getdents64` report, so it never changes while the entry exists, and a
//! lookup finds the node's kept handle — a fatfs `File` that remembers the cluster it
//! reached (sequential reads never walk the cluster chain again), or a fatfs `Dir`.
//!
//! A directory's listing is read with its [`Layout`] (where its entries are on the
//! volume), in one pass: this layer reads the directory's slots itself, for the positions,
//! and fatfs iterates it once, for the names and the `DirEntry`s its handles come from.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use hashbrown::HashMap;
use libos::abi::Timespec;
use libos::vfs::{Clock, FileKind};
use libos::Errno;

use super::clusters::Clusters;
use super::errno::io;
use super::layout::{Found, Layout, Placed};
use super::listing::{Child, Listing};
use super::names::{alias_key, fold};
use super::node::FatInode;
use super::raw::RawVolume;
use super::{times, Volume};
use crate::blockio::BlockIo;
use crate::fat::entry::{first_cluster, short_text};
use crate::fio::{Seek, SeekFrom, Write};
use crate::fnv::Fnv;
use crate::time::{date_to_unix, datetime_to_unix};

use super::detach::Detachable;

pub(super) type Disk = BlockIo<Arc<Detachable>>;
pub(super) type Fs = fatfs::FileSystem<Disk>;
pub(super) type FDir = fatfs::Dir<'static, Disk>;
pub(super) type FFile = fatfs::File<'static, Disk>;
pub(super) type FEntry = fatfs::DirEntry<'static, Disk>;
pub(super) type FIter = fatfs::DirIter<'static, Disk>;

/// The root directory's inode number (vfat's `MSDOS_ROOT_INO`).
pub(super) const ROOT_INO: u64 = 1;

/// Where an unlinked file that is still in use waits, in the root, until its last user
/// lets go: FAT frees a file's clusters when its entry goes, so the entry stays, under this
/// prefix and the inode number, hidden from listings. One left behind by a crash is removed
/// when the root is next listed.
pub(super) const UNLINKED_PREFIX: &str = ".unify-unlinked-";

/// Whether a node's entry still has its name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Life {
    Linked,
    /// An unlinked file. Until the next call into the mount its entry stays where it was
    /// (the VFS holds the node while it unlinks, so only then does it show whether
    /// anything else still uses it); then the entry goes, or, if the file is still in
    /// use, moves to the root under a hidden name (`hidden`) until it is not.
    Unlinked {
        hidden: bool,
    },
    /// A directory removed while in use: its entry and clusters are gone.
    Removed,
}

/// What a node keeps of the volume.
pub(super) enum Body {
    File(FFile),
    Dir {
        /// For fatfs's iteration (it never writes through it: see `entries`).
        dir: FDir,
        /// Read at first use, then kept.
        known: Option<Box<Known>>,
    },
}

/// What this layer knows of a directory's contents.
pub(super) struct Known {
    pub listing: Listing,
    pub layout: Layout,
}

/// A file or directory of the volume.
pub(super) struct Node {
    pub kind: FileKind,
    /// The directory holding the entry (the root is its own parent).
    pub parent: u64,
    /// The entry's name in `parent`.
    pub name: String,
    pub body: Body,
    /// Bytes, for a file.
    pub size: u64,
    /// Unix seconds, as the volume stores them (see `times`).
    pub mtime: i64,
    pub atime: i64,
    pub ctime: i64,
    /// The FAT read-only attribute (kept in memory: fatfs 0.3.6 cannot write attributes).
    pub read_only: bool,
    /// A directory's first cluster (0 for the root and for files: not needed).
    pub cluster: u32,
    /// Where the entry is in `parent` (`None` for the root and once the entry is gone).
    pub entry: Option<Placed>,
    pub life: Life,
    /// The inode object handed out for this node, if one is alive.
    pub handle: Weak<FatInode>,
}

impl Node {
    /// The node for `e`, an entry of directory `parent` found at `found`.
    fn from_entry(e: &FEntry, parent: u64, name: String, found: &Found) -> Node {
        let kind = if e.is_dir() { FileKind::Directory } else { FileKind::Regular };
        let body = match kind {
            FileKind::Directory => Body::Dir { dir: e.to_dir(), known: None },
            _ => Body::File(e.to_file()),
        };
        let mtime = datetime_to_unix(e.modified());
        Node {
            kind,
            parent,
            name,
            body,
            size: if kind == FileKind::Directory { 0 } else { e.len() },
            mtime,
            atime: date_to_unix(e.accessed()),
            ctime: mtime,
            read_only: e.attributes().contains(fatfs::FileAttributes::READ_ONLY),
            cluster: if kind == FileKind::Directory { first_cluster(&found.entry) } else { 0 },
            entry: Some(found.placed),
            life: Life::Linked,
            handle: Weak::new(),
        }
    }

    /// A node made by this layer just now, its entry at `entry`.
    pub fn new(kind: FileKind, parent: u64, name: String, body: Body, entry: Option<Placed>, now: Timespec) -> Node {
        let mtime = times::mtime(now);
        Node {
            kind,
            parent,
            name,
            body,
            size: 0,
            mtime,
            atime: times::atime(now),
            ctime: mtime,
            read_only: false,
            cluster: 0,
            entry,
            life: Life::Linked,
            handle: Weak::new(),
        }
    }

    pub fn dir_handle(&self) -> Result<&FDir, Errno> {
        match &self.body {
            Body::Dir { dir, .. } => Ok(dir),
            Body::File(_) => Err(Errno::ENOTDIR),
        }
    }

    pub fn file_handle(&mut self) -> Result<&mut FFile, Errno> {
        match &mut self.body {
            Body::File(f) => Ok(f),
            Body::Dir { .. } => Err(Errno::EISDIR),
        }
    }

    /// Writes what the kept handle holds of the entry (size, first cluster, times) to the
    /// volume, so that this layer, which copies entries from the volume when it moves
    /// them, and a later mount see it. Handles are kept settled: every change settles
    /// them at once.
    pub fn settle(&mut self) -> Result<(), Errno> {
        match &mut self.body {
            Body::File(f) => io(crate::fio::Write::flush(f)),
            Body::Dir { .. } => Ok(()),
        }
    }

    /// A change to the node itself (`chmod`, a new name): the change time becomes now.
    pub fn touch_changed(&mut self, now: Timespec) {
        self.ctime = times::mtime(now);
    }

    /// A change to the contents: modification and change time become now.
    pub fn touch_modified(&mut self, now: Timespec) {
        self.mtime = times::mtime(now);
        self.ctime = self.mtime;
    }
}

/// Nodes by inode number.
pub(super) type Nodes = HashMap<u64, Node, core::hash::BuildHasherDefault<Fnv>>;

/// Everything of one mount that touches fatfs. Lives only in [`Volume::state`].
pub(super) struct State {
    pub fs: &'static Fs,
    pub nodes: Nodes,
    next_ino: u64,
    /// Nodes whose entry is gone but whose inode object was alive then; dropped (and an
    /// unlinked file's hidden entry removed) once no inode object is left.
    pub dead: Vec<u64>,
    /// For the directory changes this layer makes itself (see `entries`).
    pub raw: RawVolume,
    pub clusters: Clusters,
    clock: Clock,
}

// SAFETY: `State` is not `Send` only because it holds `&'static Fs` and fatfs objects that
// hold one, and `Fs` is not `Sync` (its `RefCell`s and `Cell`s; its options' `&'static dyn
// TimeProvider` and `&'static dyn OemCpConverter` have no `Sync` bound). Sending a `State`
// to another thread lets that thread use the filesystem through those references. That is
// sound because nothing else can reach the filesystem at the same time: `FatFs::mount`
// leaks it and hands the only reference to the `State` it builds, every fatfs object is
// made from that reference and stays inside this `State`, and a `State` is only ever used
// through the `spin::Mutex` in `Volume`, one thread at a time. The trait objects are a
// leaked `FatClock` (a `Clock`, which is `Send + Sync`) and fatfs's default OEM converter, a
// `static` (statics are `Sync`), so using them from any one thread at a time is sound too.
#[allow(unsafe_code)]
unsafe impl Send for State {}

fn is_dot(e: &FEntry) -> bool {
    matches!(e.short_file_name_as_bytes(), b"." | b"..")
}

impl State {
    /// The state of a freshly mounted `fs`: only the root is known.
    pub fn new(fs: &'static Fs, raw: RawVolume, clock: Clock) -> State {
        let mut nodes = HashMap::default();
        let body = Body::Dir { dir: fs.root_dir(), known: None };
        let mut root = Node::new(FileKind::Directory, ROOT_INO, String::new(), body, None, Timespec::ZERO);
        // vfat's root has no entry and so no times: it shows the epoch until changed.
        (root.mtime, root.atime, root.ctime) = (0, 0, 0);
        nodes.insert(ROOT_INO, root);
        State { fs, nodes, next_ino: ROOT_INO + 1, dead: Vec::new(), raw, clusters: Clusters::new(), clock }
    }

    /// The volume's total and free clusters.
    pub fn cluster_counts(&self) -> Result<(u32, u32), Errno> {
        let stats = io(self.fs.stats())?;
        Ok((stats.total_clusters(), self.clusters.free_count(stats.free_clusters())))
    }

    pub fn now(&self) -> Timespec {
        (self.clock)()
    }

    pub fn node(&self, ino: u64) -> Result<&Node, Errno> {
        // A node is dropped only when no inode object refers to it; a miss is a bug.
        self.nodes.get(&ino).ok_or(Errno::EIO)
    }

    pub fn node_mut(&mut self, ino: u64) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino).ok_or(Errno::EIO)
    }

    /// Registers `node` under a new inode number.
    pub fn add_node(&mut self, node: Node) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, node);
        ino
    }

    /// The inode object for `ino`: the live one if there is one, so that the VFS sees one
    /// object per node.
    pub fn handle(&mut self, vol: &Arc<Volume>, ino: u64) -> Result<Arc<FatInode>, Errno> {
        let node = self.node_mut(ino)?;
        if let Some(h) = node.handle.upgrade() {
            return Ok(h);
        }
        let h = Arc::new(FatInode::new(vol.clone(), ino, node.kind));
        node.handle = Arc::downgrade(&h);
        Ok(h)
    }

    /// What is known of directory `ino`, read from the volume if this is its first use.
    /// ENOTDIR for a file, ENOENT for a removed directory.
    pub fn known(&mut self, ino: u64) -> Result<&mut Known, Errno> {
        let node = self.node(ino)?;
        if node.life != Life::Linked {
            return Err(if node.kind == FileKind::Directory { Errno::ENOENT } else { Errno::ENOTDIR });
        }
        if matches!(node.body, Body::Dir { known: None, .. }) {
            let (known, leftovers) = self.read_known(ino)?;
            if let Body::Dir { known: slot, .. } = &mut self.node_mut(ino)?.body {
                *slot = Some(Box::new(known));
            }
            for (entry, placed) in leftovers {
                // A file unlinked while open in an earlier mount: nobody can reach it now.
                empty_file(&mut entry.to_file())?;
                self.erase_entry(ino, &placed)?;
            }
        }
        known_of(&mut self.nodes, ino)
    }

    /// The listing of directory `ino` (see [`State::known`]).
    pub fn listing(&mut self, ino: u64) -> Result<&mut Listing, Errno> {
        Ok(&mut self.known(ino)?.listing)
    }

    /// The layout of directory `ino` (see [`State::known`]).
    pub fn layout(&mut self, ino: u64) -> Result<&mut Layout, Errno> {
        Ok(&mut self.known(ino)?.layout)
    }

    /// Reads directory `ino` from the volume, making a node for each entry. Also returns
    /// the entries of files an earlier mount left unlinked, which must go.
    fn read_known(&mut self, ino: u64) -> Result<(Known, Vec<(FEntry, Placed)>), Errno> {
        let node = self.node(ino)?;
        let first = if ino == ROOT_INO { self.raw.geo.root_cluster } else { node.cluster };
        let dir = node.dir_handle()?.clone();
        let (mut layout, found) = Layout::read(&self.raw, self.raw.chain(first)?)?;
        let mut listing = Listing::new();
        let mut leftovers = Vec::new();
        // fatfs reads the same entries in the same order: the one check of both readings.
        let mut it = dir.iter();
        for f in &found {
            let e = io(it.next().ok_or(Errno::EIO)?)?;
            let (short, len) = short_text(&f.placed.short);
            if e.short_file_name_as_bytes() != &short[..len] {
                return Err(Errno::EIO);
            }
            layout.after.insert(f.placed.sfn(), it.clone());
            if is_dot(&e) {
                continue;
            }
            let name = e.file_name();
            if ino == ROOT_INO && name.starts_with(UNLINKED_PREFIX) && !e.is_dir() {
                leftovers.push((e, f.placed));
                continue;
            }
            let key = fold(&name);
            let alias_key = alias_key(&f.placed.short, &key);
            let node = Node::from_entry(&e, ino, name.clone(), f);
            let kind = node.kind;
            let child_ino = self.add_node(node);
            listing.insert(key, Child { name, alias_key, ino: child_ino, kind });
        }
        if it.next().is_some() {
            return Err(Errno::EIO);
        }
        Ok((Known { listing, layout }, leftovers))
    }

    /// The entry `key` of directory `dir`: its cookie and inode number.
    pub fn child(&mut self, dir: u64, key: &str) -> Result<(u64, u64), Errno> {
        let listing = self.listing(dir)?;
        let cookie = listing.find(key).ok_or(Errno::ENOENT)?;
        let ino = listing.get(cookie).map(|c| c.ino).ok_or(Errno::ENOENT)?;
        Ok((cookie, ino))
    }

    /// Settles the dead nodes (see [`Life`]): what no inode object uses any more goes,
    /// an unlinked file still in use moves out of its directory. Runs at the start of every
    /// call into the mount.
    pub fn prune(&mut self) -> Result<(), Errno> {
        if self.dead.is_empty() {
            return Ok(());
        }
        let mut result = Ok(());
        for ino in core::mem::take(&mut self.dead) {
            match self.release(ino) {
                Ok(true) => {}
                Ok(false) => self.dead.push(ino),
                Err(e) => {
                    self.dead.push(ino);
                    result = Err(e);
                }
            }
        }
        result
    }

    /// Frees what dead node `ino` holds that no inode object needs; `true` once the node
    /// is gone.
    pub fn release(&mut self, ino: u64) -> Result<bool, Errno> {
        let node = self.node(ino)?;
        let in_use = node.handle.strong_count() > 0;
        match (node.life, in_use) {
            (Life::Unlinked { hidden }, false) => {
                let dir = if hidden { ROOT_INO } else { node.parent };
                let node = self.node_mut(ino)?;
                empty_file(node.file_handle()?)?;
                let placed = node.entry.ok_or(Errno::EIO)?;
                self.erase_entry(dir, &placed)?;
            }
            (Life::Unlinked { hidden: false }, true) => {
                let hidden = alloc::format!("{UNLINKED_PREFIX}{ino}");
                self.move_entry(ino, ROOT_INO, &hidden)?;
                let node = self.node_mut(ino)?;
                (node.parent, node.name, node.life) = (ROOT_INO, hidden, Life::Unlinked { hidden: true });
                return Ok(false);
            }
            (Life::Removed, false) => {}
            _ => return Ok(false),
        }
        self.nodes.remove(&ino);
        Ok(true)
    }
}

/// What is known of directory `ino` once read (EIO if it is not: callers read it first).
pub(super) fn known_of(nodes: &mut Nodes, ino: u64) -> Result<&mut Known, Errno> {
    match nodes.get_mut(&ino).map(|n| &mut n.body) {
        Some(Body::Dir { known: Some(k), .. }) => Ok(k),
        Some(Body::File(_)) => Err(Errno::ENOTDIR),
        _ => Err(Errno::EIO),
    }
}

/// Frees a file's clusters through its fatfs handle (so fatfs's free count follows) and
/// writes its emptied entry, which the caller then removes.
pub(super) fn empty_file(f: &mut FFile) -> Result<(), Errno> {
    io(f.seek(SeekFrom::Start(0)))?;
    io(f.truncate())?;
    io(f.flush())
}
