//! 8.3 aliases for long names, generated the way fatfs 0.3.6 generates them, with the
//! names already taken in a directory kept in a set (so a directory of any size is built
//! in linear time; fatfs rescans the directory for every new name).

use std::collections::HashSet;
use std::prelude::rust_2021::*;
use std::vec;

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

/// The 8.3 names of one directory.
#[derive(Default)]
pub(super) struct ShortNames {
    taken: HashSet<[u8; 11]>,
}

impl ShortNames {
    /// A new alias for `name`, distinct from every alias handed out before: the name itself
    /// when it is a valid 8.3 name, else `PREFIX~1` … `PREFIX~4`, then `PR1A2B~1` … with a
    /// checksum of the name (as fatfs), moving on to the next checksum when all nine are
    /// taken.
    pub(super) fn alias(&mut self, name: &str) -> [u8; 11] {
        let basis = Basis::new(name);
        if basis.exact && self.taken.insert(basis.short) {
            return basis.short;
        }
        for n in 1..5 {
            let candidate = basis.numbered(n, None);
            if self.taken.insert(candidate) {
                return candidate;
            }
        }
        let mut sum = basis.checksum;
        loop {
            for n in 1..10 {
                let candidate = basis.numbered(n, Some(sum));
                if self.taken.insert(candidate) {
                    return candidate;
                }
            }
            // Nine aliases per checksum and 65,536 checksums: more than a FAT directory
            // (65,536 entries, at least two per long name) can hold.
            sum = sum.wrapping_add(1);
        }
    }
}

/// The 8.3 names for the entries `names` of one directory, in order. Names that are valid
/// 8.3 names keep them and are reserved first, so that no other entry's numbered alias can
/// equal one of them (a lookup by that name would then find two entries; fatfs refuses to
/// create such a name for the same reason).
pub(super) fn aliases(names: &[&str]) -> Vec<[u8; 11]> {
    let mut set = ShortNames::default();
    let mut out = vec![[0u8; 11]; names.len()];
    let mut rest = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let basis = Basis::new(name);
        if basis.exact && set.taken.insert(basis.short) {
            out[i] = basis.short;
        } else {
            rest.push(i);
        }
    }
    for i in rest {
        out[i] = set.alias(names[i]);
    }
    out
}

/// The checksum of an 8.3 name that its long-name entries carry.
pub(super) fn lfn_checksum(short: &[u8; 11]) -> u8 {
    short.iter().fold(0u8, |sum, &b| sum.rotate_right(1).wrapping_add(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(names: &mut ShortNames, name: &str) -> String {
        String::from_utf8(names.alias(name).to_vec()).unwrap()
    }

    #[test]
    fn aliases_match_fatfs() {
        let mut n = ShortNames::default();
        assert_eq!(alias(&mut n, "Foo"), "FOO        ");
        assert_eq!(alias(&mut n, "Foo.baR"), "FOO     BAR");
        assert_eq!(alias(&mut n, "Foo+1.baR"), "FOO_1~1 BAR");
        assert_eq!(alias(&mut n, "ver +1.2.text"), "VER_12~1TEX");
        assert_eq!(alias(&mut n, ".bashrc.swp"), "BASHRC~1SWP");
        assert_eq!(alias(&mut n, "FOO"), "FOO~1      ", "a second FOO gets a tail");
    }

    #[test]
    fn real_8_3_names_win_over_aliases() {
        let got = aliases(&["foo bar", "FOOBAR~1", "x"]);
        assert_eq!(&got[1], b"FOOBAR~1   ");
        assert_eq!(&got[0], b"FOOBAR~2   ");
        assert_eq!(&got[2], b"X          ");
    }

    #[test]
    fn many_similar_names_stay_distinct() {
        let mut n = ShortNames::default();
        let mut seen = HashSet::new();
        for i in 0..20_000 {
            assert!(seen.insert(n.alias(&format!("a long name number {i}.txt"))));
        }
        for i in 0..100 {
            assert!(seen.insert(n.alias("same")), "{i}");
        }
    }

    #[test]
    fn lfn_checksum_is_the_rotating_sum() {
        // Value from the FAT specification's algorithm, computed by hand for "FOO     BAR".
        let mut sum = 0u8;
        for &b in b"FOO     BAR" {
            sum = ((sum & 1) << 7).wrapping_add(sum >> 1).wrapping_add(b);
        }
        assert_eq!(lfn_checksum(b"FOO     BAR"), sum);
    }
}
