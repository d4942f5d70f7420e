//! The 8.3 aliases of a directory the image builder writes in one go.

use std::prelude::rust_2021::*;
use std::vec;

use crate::fat::short_name::{alias, exact, NameSet};

/// The 8.3 names for the entries `names` of one directory, in order. Names that are valid
/// 8.3 names keep them and are reserved first, so that no other entry's numbered alias can
/// equal one of them (a lookup by that name would then find two entries; fatfs refuses to
/// create such a name for the same reason).
pub(super) fn aliases(names: &[&str]) -> Vec<[u8; 11]> {
    let mut taken = NameSet::default();
    let mut out = vec![None; names.len()];
    for (slot, name) in out.iter_mut().zip(names) {
        *slot = exact(name).filter(|short| taken.insert(*short));
    }
    out.iter_mut()
        .zip(names)
        .map(|(slot, name)| {
            *slot.get_or_insert_with(|| {
                let short = alias(name, &taken);
                taken.insert(short);
                short
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_8_3_names_win_over_aliases() {
        let got = aliases(&["foo bar", "FOOBAR~1", "x"]);
        assert_eq!(&got[1], b"FOOBAR~1   ");
        assert_eq!(&got[0], b"FOOBAR~2   ");
        assert_eq!(&got[2], b"X          ");
    }
}
