//! `/etc/localtime` for UTC: a TZif version 2 file (RFC 8536) with no transitions,
//! one local time type (offset 0, not DST, abbreviation "UTC") and the POSIX TZ
//! footer `UTC0` — byte for byte what tzdata's `Etc/UTC` holds.

use alloc::vec::Vec;

/// The counts of one TZif header, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub isutcnt: u32,
    pub isstdcnt: u32,
    pub leapcnt: u32,
    pub timecnt: u32,
    pub typecnt: u32,
    pub charcnt: u32,
}

/// UTC: no transitions, no leap seconds, one type, "UTC\0".
const UTC_COUNTS: Counts = Counts { isutcnt: 0, isstdcnt: 0, leapcnt: 0, timecnt: 0, typecnt: 1, charcnt: 4 };

fn header(out: &mut Vec<u8>, c: Counts) {
    out.extend_from_slice(b"TZif2");
    out.extend_from_slice(&[0; 15]);
    for n in [c.isutcnt, c.isstdcnt, c.leapcnt, c.timecnt, c.typecnt, c.charcnt] {
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The data block of UTC (identical in the 32- and 64-bit parts: there are no
/// transition times to widen): one `ttinfo` (utoff 0, isdst 0, desigidx 0) and the
/// abbreviation.
fn utc_data(out: &mut Vec<u8>) {
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(b"UTC\0");
}

/// The bytes of `/etc/localtime`.
pub(crate) fn utc() -> Vec<u8> {
    let mut out = Vec::with_capacity(114);
    header(&mut out, UTC_COUNTS);
    utc_data(&mut out);
    header(&mut out, UTC_COUNTS);
    utc_data(&mut out);
    out.extend_from_slice(b"\nUTC0\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a TZif reader needs of one file.
    #[derive(Debug, PartialEq, Eq)]
    struct Parsed {
        version: u8,
        counts: Counts,
        types: Vec<(i32, bool, u8)>,
        abbreviations: Vec<u8>,
        footer: Vec<u8>,
    }

    fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes(b[..4].try_into().unwrap())
    }

    /// Parses a TZif v2+ file as RFC 8536 says: skip the v1 block, read the v2 block
    /// with 64-bit times, then the footer between two newlines.
    fn parse(f: &[u8]) -> Parsed {
        let counts_at = |at: usize| {
            assert_eq!(&f[at..at + 4], b"TZif", "magic at {at}");
            let c = |i: usize| be32(&f[at + 20 + 4 * i..]);
            Counts { isutcnt: c(0), isstdcnt: c(1), leapcnt: c(2), timecnt: c(3), typecnt: c(4), charcnt: c(5) }
        };
        let block_len = |c: Counts, time_size: usize| {
            c.timecnt as usize * time_size
                + c.timecnt as usize
                + c.typecnt as usize * 6
                + c.charcnt as usize
                + c.leapcnt as usize * (time_size + 4)
                + c.isstdcnt as usize
                + c.isutcnt as usize
        };
        let v1 = counts_at(0);
        let second = 44 + block_len(v1, 4);
        let counts = counts_at(second);
        let data = second + 44;
        let types_at = data + counts.timecnt as usize * 9;
        let types = (0..counts.typecnt as usize)
            .map(|i| {
                let t = &f[types_at + 6 * i..];
                (be32(t) as i32, t[4] != 0, t[5])
            })
            .collect();
        let chars_at = types_at + counts.typecnt as usize * 6;
        let abbreviations = f[chars_at..chars_at + counts.charcnt as usize].to_vec();
        let end = data + block_len(counts, 8);
        assert_eq!(f[end], b'\n');
        let footer_end = f.len() - 1;
        assert_eq!(f[footer_end], b'\n');
        Parsed { version: f[second + 4], counts, types, abbreviations, footer: f[end + 1..footer_end].to_vec() }
    }

    #[test]
    fn utc_parses_as_one_type_with_no_transitions() {
        let p = parse(&utc());
        assert_eq!(p.version, b'2');
        assert_eq!(p.counts, UTC_COUNTS);
        assert_eq!(p.types, [(0, false, 0)]);
        assert_eq!(p.abbreviations, b"UTC\0");
        assert_eq!(p.footer, b"UTC0");
    }

    #[test]
    fn utc_is_tzdata_etc_utc_byte_for_byte() {
        // `xxd /usr/share/zoneinfo/Etc/UTC` (tzdata 2025b).
        let mut tzdata = Vec::new();
        for half in 0..2 {
            tzdata.extend_from_slice(b"TZif2");
            tzdata.extend_from_slice(&[0; 15 + 16]);
            tzdata.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 4]);
            tzdata.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            tzdata.extend_from_slice(b"UTC\0");
            let _ = half;
        }
        tzdata.extend_from_slice(b"\nUTC0\n");
        assert_eq!(tzdata.len(), 0x72);
        assert_eq!(utc(), tzdata);
    }
}
