//! Random sequences of creates, writes, unlinks, mkdirs, rmdirs and renames (within and
//! between directories, over existing names, with files kept open) through `libos::vfs`,
//! checked against a model of the tree after every step, and at checkpoints against
//! fatfs's own reading of the volume, `fsck.fat`, and a remount.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use common::fat::*;
use common::raw_dir::free_clusters;
use libos::file::OpenFile;
use libos::vfs::oflags::*;
use libos::vfs::FileSystem;
use libos::Errno;
use unify_rootfs::{FatVolume, FileKind, MemDevice};

/// xorshift64*: a reproducible sequence for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

/// Names to draw from: 8.3 names, case variants, long names whose aliases collide, long
/// and non-ASCII names. None holds `~`, so no name is another entry's 8.3 alias and the
/// model can tell what exists by long names alone.
fn pool() -> Vec<String> {
    let mut names: Vec<String> = ["f1.txt", "F1.TXT", "readme", "README", "x.y.z", ".hidden", "Mixed Case.Md"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.extend((0..14).map(|k| format!("a long name {k}.txt")));
    names.extend((0..4).map(|k| format!("größe {k}")));
    names.extend((0..3).map(|k| format!("{k}{}", "long".repeat(60))));
    names
}

fn key(name: &str) -> String {
    name.to_uppercase()
}

#[derive(Clone)]
struct Entry {
    name: String,
    dir: bool,
    id: u64,
}

/// The tree as it should be: each directory's entries by key, files' contents by id.
struct Model {
    children: HashMap<u64, BTreeMap<String, Entry>>,
    parent: HashMap<u64, (u64, String)>,
    content: HashMap<u64, Vec<u8>>,
    next_id: u64,
}

const ROOT: u64 = 0;

impl Model {
    fn new() -> Model {
        Model {
            children: HashMap::from([(ROOT, BTreeMap::new())]),
            parent: HashMap::new(),
            content: HashMap::new(),
            next_id: 1,
        }
    }

    fn path(&self, dir: u64) -> String {
        match self.parent.get(&dir) {
            None => String::new(),
            Some((p, k)) => format!("{}/{}", self.path(*p), self.children[p][k].name),
        }
    }

    fn child_path(&self, dir: u64, name: &str) -> String {
        format!("{}/{name}", self.path(dir))
    }

    fn dirs(&self) -> Vec<u64> {
        let mut d: Vec<u64> = self.children.keys().copied().collect();
        d.sort();
        d
    }

    fn add(&mut self, dir: u64, name: &str, is_dir: bool) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.children.get_mut(&dir).unwrap().insert(key(name), Entry { name: name.into(), dir: is_dir, id });
        if is_dir {
            self.children.insert(id, BTreeMap::new());
            self.parent.insert(id, (dir, key(name)));
        } else {
            self.content.insert(id, Vec::new());
        }
        id
    }

    /// Removes entry `k` of `dir` (a file, or an empty directory).
    fn remove(&mut self, dir: u64, k: &str) -> Entry {
        let e = self.children.get_mut(&dir).unwrap().remove(k).unwrap();
        if e.dir {
            self.children.remove(&e.id);
            self.parent.remove(&e.id);
        }
        e
    }

    fn is_within(&self, mut dir: u64, ancestor: u64) -> bool {
        loop {
            if dir == ancestor {
                return true;
            }
            match self.parent.get(&dir) {
                Some((p, _)) => dir = *p,
                None => return false,
            }
        }
    }

    /// Every file and directory as `common::snapshot` lists a volume.
    fn snapshot(&self, dir: u64) -> Vec<(String, FileKind, Vec<u8>)> {
        let mut entries: Vec<&Entry> = self.children[&dir].values().collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out = Vec::new();
        for e in entries {
            let path = self.child_path(dir, &e.name);
            if e.dir {
                out.push((path, FileKind::Dir, Vec::new()));
                out.extend(self.snapshot(e.id));
            } else {
                out.push((path, FileKind::File, self.content[&e.id].clone()));
            }
        }
        out
    }
}

/// Runs `steps` random operations from `seed`, checking as it goes; returns the fixture.
fn run(seed: u64, steps: usize) -> (Fat, Model) {
    let names = pool();
    let mut rng = Rng(seed);
    let mut fx = Fat::new();
    let mut m = Model::new();
    let mut open: HashMap<u64, Arc<OpenFile>> = HashMap::new();
    for step in 0..steps {
        let dirs = m.dirs();
        let dir = *rng.pick(&dirs).unwrap();
        let name = rng.pick(&names).unwrap().clone();
        let existing: Vec<Entry> = m.children[&dir].values().cloned().collect();
        let what = rng.below(100);
        let ctx = format!("seed {seed} step {step}");
        match what {
            // Create a file, with some bytes.
            0..=29 => {
                let path = m.child_path(dir, &name);
                let r = fx.open(&path, O_WRONLY | O_CREAT | O_EXCL);
                if m.children[&dir].contains_key(&key(&name)) {
                    assert_eq!(err(r), Errno::EEXIST, "{ctx}: create {path}");
                } else {
                    let f = r.unwrap_or_else(|e| panic!("{ctx}: create {path}: {e:?}"));
                    let id = m.add(dir, &name, false);
                    let data: Vec<u8> = (0..rng.below(3) * 700).map(|i| (i as u64 ^ id) as u8).collect();
                    f.write(&data).unwrap();
                    m.content.insert(id, data);
                }
            }
            // Make a directory.
            30..=39 => {
                let path = m.child_path(dir, &name);
                let r = fx.vfs.mkdir(CWD, path.as_bytes(), 0o755);
                if m.children[&dir].contains_key(&key(&name)) {
                    assert_eq!(err(r), Errno::EEXIST, "{ctx}: mkdir {path}");
                } else {
                    r.unwrap_or_else(|e| panic!("{ctx}: mkdir {path}: {e:?}"));
                    m.add(dir, &name, true);
                }
            }
            // Unlink or rmdir an entry.
            40..=59 => {
                let Some(e) = rng.pick(&existing).cloned() else { continue };
                let path = m.child_path(dir, &e.name);
                if e.dir {
                    let r = fx.vfs.rmdir(CWD, path.as_bytes());
                    if m.children[&e.id].is_empty() {
                        r.unwrap_or_else(|err| panic!("{ctx}: rmdir {path}: {err:?}"));
                        m.remove(dir, &key(&e.name));
                    } else {
                        assert_eq!(err(r), Errno::ENOTEMPTY, "{ctx}: rmdir {path}");
                    }
                } else {
                    assert_eq!(err(fx.vfs.rmdir(CWD, path.as_bytes())), Errno::ENOTDIR, "{ctx}");
                    fx.vfs.unlink(CWD, path.as_bytes()).unwrap_or_else(|err| panic!("{ctx}: unlink {path}: {err:?}"));
                    m.remove(dir, &key(&e.name));
                }
            }
            // Rename an entry, within its directory or to another, maybe over another.
            60..=84 => {
                let Some(e) = rng.pick(&existing).cloned() else { continue };
                let to = *rng.pick(&dirs).unwrap();
                let (from_path, to_path) = (m.child_path(dir, &e.name), m.child_path(to, &name));
                let r = fx.vfs.rename(CWD, from_path.as_bytes(), CWD, to_path.as_bytes(), 0);
                let target = m.children[&to].get(&key(&name)).cloned();
                let want = if e.dir && m.is_within(to, e.id) {
                    Err(Errno::EINVAL)
                } else {
                    match &target {
                        Some(t) if t.id == e.id => Ok(false),
                        // The target is the source's own ancestor (Linux's `lock_rename` trap).
                        Some(t) if t.dir && m.is_within(dir, t.id) => Err(Errno::ENOTEMPTY),
                        Some(t) if t.dir && !e.dir => Err(Errno::EISDIR),
                        Some(t) if !t.dir && e.dir => Err(Errno::ENOTDIR),
                        Some(t) if t.dir && !m.children[&t.id].is_empty() => Err(Errno::ENOTEMPTY),
                        _ => Ok(true),
                    }
                };
                match want {
                    Err(w) => assert_eq!(err(r), w, "{ctx}: rename {from_path} {to_path}"),
                    Ok(moved) => {
                        r.unwrap_or_else(|err| panic!("{ctx}: rename {from_path} {to_path}: {err:?}"));
                        if moved {
                            if target.is_some() {
                                m.remove(to, &key(&name));
                            }
                            let entry = m.children.get_mut(&dir).unwrap().remove(&key(&e.name)).unwrap();
                            let moved = Entry { name: name.clone(), ..entry };
                            if moved.dir {
                                m.parent.insert(moved.id, (to, key(&name)));
                            }
                            m.children.get_mut(&to).unwrap().insert(key(&name), moved);
                        }
                    }
                }
            }
            // Open a file and keep it, or append through a file kept open.
            85..=94 => {
                let files: Vec<&Entry> = existing.iter().filter(|e| !e.dir).collect();
                if let Some(e) = rng.pick(&files) {
                    let path = m.child_path(dir, &e.name);
                    open.insert(e.id, fx.open(&path, O_RDWR | O_APPEND).unwrap());
                }
                let ids: Vec<u64> = open.keys().copied().collect();
                if let Some(&id) = rng.pick(&ids) {
                    let data = format!("+{step}").into_bytes();
                    assert_eq!(open[&id].write(&data), Ok(data.len()), "{ctx}");
                    m.content.get_mut(&id).unwrap().extend_from_slice(&data);
                }
            }
            // Close a kept file.
            _ => {
                let ids: Vec<u64> = open.keys().copied().collect();
                if let Some(id) = rng.pick(&ids) {
                    open.remove(id);
                }
            }
        }
        check_listing(&fx, &m, dir, &ctx);
        if step % 250 == 249 {
            check_volume(&fx, &m, &ctx);
        }
        if step % 1000 == 999 {
            open.clear();
            fx = fx.remount();
            check_volume(&fx, &m, &ctx);
        }
    }
    (fx, m)
}

/// The directory `dir` lists what the model holds.
fn check_listing(fx: &Fat, m: &Model, dir: u64, ctx: &str) {
    let path = match m.path(dir) {
        p if p.is_empty() => "/".to_string(),
        p => p,
    };
    let mut got = fx.names(&path);
    got.sort();
    let mut want: Vec<String> = m.children[&dir].values().map(|e| e.name.clone()).collect();
    want.sort();
    assert_eq!(got, want, "{ctx}: listing of {path}");
}

/// Contents through the VFS, and the whole tree as fatfs reads it, match the model; the
/// volume checks clean and its free count is the FAT's.
fn check_volume(fx: &Fat, m: &Model, ctx: &str) {
    let want = m.snapshot(ROOT);
    for (path, kind, data) in &want {
        if *kind == FileKind::File {
            assert_eq!(&fx.read_file(path), data, "{ctx}: {path}");
        }
    }
    fx.fs.sync().unwrap();
    let vol = FatVolume::open(MemDevice::from_vec(fx.dev.to_vec())).unwrap();
    let got: Vec<_> =
        common::snapshot(&vol, "/").into_iter().filter(|(path, _, _)| !path.starts_with("/.unify-unlinked-")).collect();
    assert!(got == want, "{ctx}: fatfs reads {:?}, want {:?}", names(&got), names(&want));
    fsck_mounted(fx);
    let (counted, recorded) = free_clusters(&fx.dev);
    assert_eq!((fx.fs.statfs().unwrap().f_bfree, recorded), (u64::from(counted), counted), "{ctx}: free count");
}

fn names(s: &[(String, FileKind, Vec<u8>)]) -> Vec<&str> {
    s.iter().map(|(p, _, _)| p.as_str()).collect()
}

#[test]
fn random_changes_match_the_model_and_fatfs() {
    for seed in [1, 0x5eed, 0xdead_beef] {
        let (fx, m) = run(seed, 2000);
        let fx = fx.remount();
        check_volume(&fx, &m, &format!("seed {seed}, after the last remount"));
        fx.unmount_and_check();
    }
}
