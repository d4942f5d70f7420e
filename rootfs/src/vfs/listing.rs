//! A directory's entries as this layer keeps them: read from the volume once, then kept
//! up to date by this layer's own changes (nothing else writes the volume).
//!
//! Entries are ordered by a cookie from a per-directory counter that only grows, so a
//! listing resumed at a cookie never repeats or skips an entry that still exists, whatever
//! changed in between (the guarantee `libos::vfs` asks for). The volume's order is the
//! initial order; entries made later come after. Names are found through a hash of their
//! case-folded key — the long name's and, where it differs, the 8.3 alias's, since FAT
//! answers to both.

use alloc::collections::BTreeMap;
use alloc::string::String;
use core::hash::BuildHasherDefault;

use hashbrown::HashMap;
use libos::vfs::FileKind;

use crate::fnv::Fnv;

/// Listing cookies 0 and 1 are `.` and `..`.
const FIRST_COOKIE: u64 = 2;

/// One entry.
pub(super) struct Child {
    /// The name as stored (the long name).
    pub name: String,
    /// The key of the 8.3 alias, when it differs from the name's.
    pub alias_key: Option<String>,
    pub ino: u64,
    pub kind: FileKind,
}

type Index = HashMap<String, u64, BuildHasherDefault<Fnv>>;

/// The entries of one directory, without `.` and `..`.
pub(super) struct Listing {
    by_cookie: BTreeMap<u64, Child>,
    by_key: Index,
    next_cookie: u64,
    subdirs: u64,
}

impl Listing {
    pub fn new() -> Listing {
        Listing { by_cookie: BTreeMap::new(), by_key: Index::default(), next_cookie: FIRST_COOKIE, subdirs: 0 }
    }

    /// Adds `child` (whose keys must be free) at the end; returns its cookie.
    pub fn insert(&mut self, key: String, child: Child) -> u64 {
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        if let Some(alias) = &child.alias_key {
            self.by_key.entry(alias.clone()).or_insert(cookie);
        }
        self.by_key.entry(key).or_insert(cookie);
        if child.kind == FileKind::Directory {
            self.subdirs += 1;
        }
        self.by_cookie.insert(cookie, child);
        cookie
    }

    /// The cookie of the entry answering to `key` (its name's or its alias's).
    pub fn find(&self, key: &str) -> Option<u64> {
        self.by_key.get(key).copied()
    }

    pub fn get(&self, cookie: u64) -> Option<&Child> {
        self.by_cookie.get(&cookie)
    }

    /// Removes the entry at `cookie` and the keys that lead to it.
    pub fn remove(&mut self, cookie: u64) -> Option<Child> {
        let child = self.by_cookie.remove(&cookie)?;
        let name_key = super::names::fold(&child.name);
        for key in core::iter::once(&name_key).chain(child.alias_key.as_ref()) {
            if self.by_key.get(key) == Some(&cookie) {
                self.by_key.remove(key);
            }
        }
        if child.kind == FileKind::Directory {
            self.subdirs -= 1;
        }
        Some(child)
    }

    /// Entries from cookie `from` on, in cookie order.
    pub fn starting_at(&self, from: u64) -> impl Iterator<Item = (u64, &Child)> {
        self.by_cookie.range(from.max(FIRST_COOKIE)..).map(|(&c, child)| (c, child))
    }

    pub fn is_empty(&self) -> bool {
        self.by_cookie.is_empty()
    }

    /// Subdirectories (what a directory's link count counts).
    pub fn subdirs(&self) -> u64 {
        self.subdirs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn child(name: &str, alias: Option<&str>, ino: u64) -> Child {
        Child { name: name.into(), alias_key: alias.map(Into::into), ino, kind: FileKind::Regular }
    }

    #[test]
    fn cookies_survive_removals_and_keys_find_names_and_aliases() {
        let mut l = Listing::new();
        let a = l.insert("A".into(), child("a", None, 10));
        let b = l.insert("LONG NAME.TEXT".into(), child("Long Name.text", Some("LONGNA~1.TEX"), 11));
        let c = l.insert("C".into(), child("c", None, 12));
        assert_eq!((a, b, c), (2, 3, 4));
        assert_eq!(l.find("LONGNA~1.TEX"), Some(b));
        assert_eq!(l.find("LONG NAME.TEXT"), Some(b));
        l.remove(b);
        assert_eq!(l.find("LONGNA~1.TEX"), None);
        let d = l.insert("D".into(), child("d", None, 13));
        assert_eq!(d, 5);
        let rest: Vec<u64> = l.starting_at(3).map(|(_, ch)| ch.ino).collect();
        assert_eq!(rest, [12, 13]);
    }
}
