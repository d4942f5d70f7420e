//! Names as Linux's vfat takes them from the VFS.
//!
//! - Trailing dots are dropped before anything else (`vfat_striptail_len`): `foo.` names
//!   `foo`, and a name of dots only names nothing (ENOENT when creating it).
//! - Creating refuses (EINVAL) what vfat refuses — control characters, `"*/:<>?\|`, and a
//!   trailing space — and what fatfs 0.3.6 cannot store: characters beyond U+FFFF and DEL.
//!   Names are UTF-8 (vfat's `utf8` option); other bytes are EINVAL.
//! - Lookups ignore case. The key of a name is its Unicode upper case, which is how fatfs
//!   compares names, so this index and fatfs never disagree about what collides.

use alloc::string::String;
use libos::Errno;

/// A name prepared for the directory index.
pub(super) struct Name<'a> {
    /// The name to store: the caller's, without trailing dots.
    pub text: &'a str,
    /// The case-folded key.
    pub key: String,
}

/// The case-folded key of `name`.
pub(super) fn fold(name: &str) -> String {
    if name.is_ascii() {
        return name.to_ascii_uppercase();
    }
    name.chars().flat_map(char::to_uppercase).collect()
}

fn strip_trailing_dots(name: &str) -> &str {
    name.trim_end_matches('.')
}

/// The name `name` looks up, or `None` if no entry can have it (then ENOENT).
pub(super) fn for_lookup(name: &[u8]) -> Option<Name<'_>> {
    let text = strip_trailing_dots(core::str::from_utf8(name).ok()?);
    if text.is_empty() {
        return None;
    }
    Some(Name { text, key: fold(text) })
}

/// The name a new entry `name` gets, or vfat's refusal.
pub(super) fn for_create(name: &[u8]) -> Result<Name<'_>, Errno> {
    let text = core::str::from_utf8(name).map_err(|_| Errno::EINVAL)?;
    let text = strip_trailing_dots(text);
    if text.is_empty() {
        return Err(Errno::ENOENT);
    }
    if text.chars().any(refused) || text.ends_with(' ') {
        return Err(Errno::EINVAL);
    }
    Ok(Name { text, key: fold(text) })
}

/// Characters a long name cannot hold: vfat's `vfat_bad_char`, plus what fatfs cannot
/// store (DEL, and characters outside the Basic Multilingual Plane).
fn refused(c: char) -> bool {
    c < ' ' || "\"*/:<>?\\|".contains(c) || c == '\u{7f}' || c > '\u{ffff}'
}

/// Whether fatfs stores `name` with an 8.3 alias that is just `name` in upper case: a
/// base of 1 to 8 and an extension of at most 3 characters fatfs copies unchanged. Then
/// the alias needs no index entry of its own (it has the same key as the name).
///
/// This mirrors `ShortNameGenerator::new` in fatfs 0.3.6 (no lossy conversion, the name
/// fits), given that no entry already has that short name, which the index has checked.
pub(super) fn alias_is_upper_case(name: &str) -> bool {
    let (base, ext) = match name.rfind('.') {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => (name, ""),
    };
    let plain = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'()-@^_`{}~".contains(c));
    (1..=8).contains(&base.len()) && ext.len() <= 3 && plain(base) && plain(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_dots_are_dropped_and_case_is_folded() {
        let n = for_create(b"Read.Me..").ok().unwrap();
        assert_eq!((n.text, n.key.as_str()), ("Read.Me", "READ.ME"));
        assert_eq!(for_lookup(b"read.me.").map(|n| n.key), Some(String::from("READ.ME")));
        assert!(for_lookup(b"...").is_none());
        assert_eq!(for_create(b"...").err(), Some(Errno::ENOENT));
        assert_eq!(fold("straße"), "STRASSE");
    }

    #[test]
    fn vfat_refusals_are_einval() {
        for bad in [&b"a:b"[..], b"a*", b"q?", b"x\\y", b"p|q", b"<a>", b"\"", b"tab\t", b"end ", b"\xff", b"del\x7f"] {
            assert_eq!(for_create(bad).err(), Some(Errno::EINVAL), "{bad:?}");
        }
        assert_eq!(for_create("emoji 😀".as_bytes()).err(), Some(Errno::EINVAL));
        assert!(for_create(b" lead, [ok] & fine; +=").is_ok());
    }

    #[test]
    fn simple_names_have_upper_case_aliases() {
        for ok in ["main.rs", "README", "a.b", "Cargo.tom", "x~1.y", "12345678.123"] {
            assert!(alias_is_upper_case(ok), "{ok}");
        }
        for not in ["foo.tar.gz", ".bashrc", "Cargo.toml", "123456789", "a b", "é.txt", "a+b"] {
            assert!(!alias_is_upper_case(not), "{not}");
        }
    }
}
