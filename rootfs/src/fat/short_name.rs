//! 8.3 aliases for long names, generated the way fatfs 0.3.6 generates them, given the
//! names already taken in the directory as a set (so each alias costs a few lookups;
//! fatfs rescans the directory for every new name). The image builder and the mounted
//! filesystem keep such a set per directory.

use core::hash::BuildHasherDefault;

use hashbrown::HashSet;

use crate::fnv::Fnv;

const PAD: u8 = b' ';

/// The parts fatfs derives from a long name before it looks for collisions.
struct Basis {
    /// Upper-cased, with characters 8.3 cannot hold replaced by `_`, spaces and dots dropped.
    short: [u8; 11],
    /// Whether the long name is exactly `short` (up to case): no alias tail needed.
    exact: bool,
    /// Bytes of `short` used by the base name.
    base_len: usize,
    /// fatfs's BSD checksum of the long name.
    checksum: u16,
}

/// Copies `src` into `dst` as fatfs does; returns (bytes used, everything fitted, lossy).
fn copy_part(dst: &mut [u8], src: &str) -> (usize, bool, bool) {
    let mut n = 0;
    let mut lossy = false;
    for c in src.chars() {
        if n == dst.len() {
            return (n, false, lossy);
        }
        let fixed = match c {
            ' ' | '.' => {
                lossy = true;
                continue;
            }
            'A'..='Z' | 'a'..='z' | '0'..='9' => c,
            '!' | '#' | '$' | '%' | '&' | '\'' | '(' | ')' | '-' | '@' | '^' | '_' | '`' | '{' | '}' | '~' => c,
            _ => '_',
        };
        lossy |= fixed != c;
        dst[n] = fixed.to_ascii_uppercase() as u8;
        n += 1;
    }
    (n, true, lossy)
}

fn checksum(name: &str) -> u16 {
    let mut sum = 0u16;
    for c in name.chars() {
        sum = (sum >> 1).wrapping_add(sum << 15).wrapping_add(c as u16);
    }
    sum
}

impl Basis {
    fn new(name: &str) -> Basis {
        let mut short = [PAD; 11];
        let (base_len, fits, lossy) = match name.rfind('.') {
            Some(dot) => {
                let (len, base_fits, base_lossy) = copy_part(&mut short[..8], &name[..dot]);
                let (_, ext_fits, ext_lossy) = copy_part(&mut short[8..], &name[dot + 1..]);
                (len, base_fits && ext_fits, base_lossy || ext_lossy)
            }
            None => {
                let (len, fits, lossy) = copy_part(&mut short[..8], name);
                (len, fits, lossy)
            }
        };
        Basis { short, exact: fits && !lossy, base_len, checksum: checksum(name) }
    }

    /// `PREFIX~n.EXT`, with a 6-byte prefix, or a 2-byte prefix and four hex digits of
    /// `checksum`.
    fn numbered(&self, n: u8, checksum: Option<u16>) -> [u8; 11] {
        let mut out = [PAD; 11];
        let mut len = self.base_len.min(if checksum.is_some() { 2 } else { 6 });
        out[..len].copy_from_slice(&self.short[..len]);
        if let Some(sum) = checksum {
            for shift in [12, 8, 4, 0] {
                out[len] = b"0123456789ABCDEF"[usize::from((sum >> shift) & 0xF)];
                len += 1;
            }
        }
        out[len] = b'~';
        out[len + 1] = b'0' + n;
        out[8..].copy_from_slice(&self.short[8..]);
        out
    }
}

/// A set of 8.3 names.
pub(crate) type NameSet = HashSet<[u8; 11], BuildHasherDefault<Fnv>>;

/// The alias for `name` in a directory whose entries have the 8.3 names `taken`: the name
/// itself when it is a valid 8.3 name, else `PREFIX~1` … `PREFIX~4`, then `PR1A2B~1` …
/// with a checksum of the name (as fatfs), moving on to the next checksum when all nine
/// are taken.
pub(crate) fn alias(name: &str, taken: &NameSet) -> [u8; 11] {
    let basis = Basis::new(name);
    if basis.exact && !taken.contains(&basis.short) {
        return basis.short;
    }
    for n in 1..5 {
        let candidate = basis.numbered(n, None);
        if !taken.contains(&candidate) {
            return candidate;
        }
    }
    let mut sum = basis.checksum;
    loop {
        for n in 1..10 {
            let candidate = basis.numbered(n, Some(sum));
            if !taken.contains(&candidate) {
                return candidate;
            }
        }
        // Nine aliases per checksum and 65,536 checksums: more than a FAT directory
        // (65,536 entries, at least two per long name) can hold.
        sum = sum.wrapping_add(1);
    }
}

/// The 8.3 name that is `name` itself (up to case), if `name` is a valid 8.3 name (for the
/// image builder, which reserves those first).
#[cfg(feature = "std")]
pub(crate) fn exact(name: &str) -> Option<[u8; 11]> {
    let basis = Basis::new(name);
    basis.exact.then_some(basis.short)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;

    /// An alias for `name`, then taken.
    fn take(set: &mut NameSet, name: &str) -> [u8; 11] {
        let short = alias(name, set);
        set.insert(short);
        short
    }

    fn text(set: &mut NameSet, name: &str) -> String {
        String::from_utf8(take(set, name).to_vec()).unwrap()
    }

    #[test]
    fn aliases_match_fatfs() {
        let mut n = NameSet::default();
        assert_eq!(text(&mut n, "Foo"), "FOO        ");
        assert_eq!(text(&mut n, "Foo.baR"), "FOO     BAR");
        assert_eq!(text(&mut n, "Foo+1.baR"), "FOO_1~1 BAR");
        assert_eq!(text(&mut n, "ver +1.2.text"), "VER_12~1TEX");
        assert_eq!(text(&mut n, ".bashrc.swp"), "BASHRC~1SWP");
        assert_eq!(text(&mut n, "FOO"), "FOO~1      ", "a second FOO gets a tail");
    }

    #[test]
    fn colliding_prefixes_go_on_to_checksums() {
        let mut n = NameSet::default();
        let got: Vec<String> = (0..6).map(|_| text(&mut n, "a long name.txt")).collect();
        assert_eq!(got[..4], ["ALONGN~1TXT", "ALONGN~2TXT", "ALONGN~3TXT", "ALONGN~4TXT"]);
        assert!(got[4].starts_with("AL") && got[4].ends_with("~1TXT"), "{}", got[4]);
        assert!(got[5].starts_with(&got[4][..6]) && got[5].ends_with("~2TXT"), "{}", got[5]);
    }

    #[test]
    fn many_similar_names_stay_distinct() {
        let mut n = NameSet::default();
        for i in 0..20_000 {
            let before = n.len();
            take(&mut n, &format!("a long name number {i}.txt"));
            assert_eq!(n.len(), before + 1);
        }
        for i in 0..100 {
            let before = n.len();
            take(&mut n, "same");
            assert_eq!(n.len(), before + 1, "{i}");
        }
    }
}
