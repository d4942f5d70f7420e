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

use crate::fat::entry::short_text;

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

/// The key of the 8.3 alias `short` as fatfs shows it (bytes beyond ASCII as U+FFFD), if
/// it differs from `key`, the key of the long name: then the alias needs an index entry of
/// its own.
pub(super) fn alias_key(short: &[u8; 11], key: &str) -> Option<String> {
    let (text, len) = short_text(short);
    let shown: String = text[..len].iter().map(|&b| if b.is_ascii() { char::from(b) } else { '\u{fffd}' }).collect();
    let alias = fold(&shown);
    (alias != key).then_some(alias)
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
    fn aliases_differing_from_the_name_have_keys() {
        assert_eq!(alias_key(b"README  TXT", "README.TXT"), None);
        assert_eq!(alias_key(b"LONGNA~1TXT", "LONG NAME.TXT").as_deref(), Some("LONGNA~1.TXT"));
        assert_eq!(alias_key(b"\xe9T         ", "X").as_deref(), Some("\u{fffd}T"));
    }
}
