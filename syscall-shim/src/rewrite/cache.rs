//! Remembering a rewrite plan, so a program is decoded once, not at every start.
//!
//! Planning decodes every executable byte of the program (tens of milliseconds for a
//! large Rust binary), and its result depends only on those bytes, where they are
//! loaded, where the stubs go and this build of the rewriter. [`key`] hashes all of
//! that (XXH3-128); [`encode`] stores the plan together with the original bytes of
//! every window it patches, and [`decode`] refuses a stored plan unless each of those
//! windows still holds exactly those bytes, so a stale or colliding entry can cost a
//! re-plan but never a wrong patch. Where the bytes are kept (a cache directory, an
//! image) is the platform's business.

use std::vec::Vec;

use xxhash_rust::xxh3::Xxh3;

use super::{CodeRegion, Patch, Plan, Skip};

/// Identifies the format and the rewriter that made a stored plan.
const MAGIC: &[u8; 8] = b"UNIFYRW1";

/// The rewriter's source files, whose text is part of every key.
const REWRITER_SOURCES: [&[u8]; 5] = [
    include_bytes!("mod.rs"),
    include_bytes!("scan.rs"),
    include_bytes!("stub.rs"),
    include_bytes!("cache.rs"),
    include_bytes!("../site_map.rs"),
];

/// The key under which the plan for these inputs is stored.
pub fn key(regions: &[CodeRegion<'_>], stub_base: u64, capacity: usize) -> u128 {
    let mut h = Xxh3::new();
    h.update(MAGIC);
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    // A change to the rewriter changes its plans: its source is part of the key.
    for source in REWRITER_SOURCES {
        h.update(source);
    }
    h.update(&stub_base.to_le_bytes());
    h.update(&(capacity as u64).to_le_bytes());
    for r in regions {
        h.update(&r.addr.to_le_bytes());
        h.update(&(r.bytes.len() as u64).to_le_bytes());
        h.update(r.bytes);
    }
    h.digest128()
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u64(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// The bytes at `[addr, addr+len)` of the regions, if one holds all of them.
fn original<'a>(regions: &[CodeRegion<'a>], addr: u64, len: usize) -> Option<&'a [u8]> {
    regions.iter().find_map(|r| {
        let off = usize::try_from(addr.checked_sub(r.addr)?).ok()?;
        r.bytes.get(off..off.checked_add(len)?)
    })
}

/// Serialises `plan`, which was made for `regions` (still unpatched).
pub fn encode(plan: &Plan, regions: &[CodeRegion<'_>]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + plan.stubs.len() + plan.patches.len() * 32);
    out.extend_from_slice(MAGIC);
    put_u64(&mut out, plan.sites as u64);
    put_u64(&mut out, plan.patches.len() as u64);
    for p in &plan.patches {
        put_u64(&mut out, p.addr);
        put_bytes(&mut out, &p.bytes);
        put_bytes(&mut out, original(regions, p.addr, p.bytes.len())?);
    }
    put_bytes(&mut out, &plan.stubs);
    put_u64(&mut out, plan.resumes.len() as u64);
    for &(site, resume) in &plan.resumes {
        put_u64(&mut out, site);
        put_u64(&mut out, resume);
    }
    put_u64(&mut out, plan.skipped.len() as u64);
    for &(addr, why) in &plan.skipped {
        put_u64(&mut out, addr);
        out.push(match why {
            Skip::NoRoom => 0,
            Skip::BranchTarget => 1,
            Skip::NoStubSpace => 2,
        });
    }
    Some(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
}

/// The plan stored in `bytes`, if it is well formed and every window it patches in
/// `regions` still holds the bytes it was planned over.
pub fn decode(bytes: &[u8], regions: &[CodeRegion<'_>]) -> Option<Plan> {
    let mut r = Reader(bytes);
    if r.take(MAGIC.len())? != MAGIC {
        return None;
    }
    let sites = usize::try_from(r.u64()?).ok()?;
    let count = r.u64()?;
    let mut patches = Vec::new();
    for _ in 0..count {
        let addr = r.u64()?;
        let new = r.bytes()?;
        let old = r.bytes()?;
        if new.len() != old.len() || original(regions, addr, old.len())? != old {
            return None;
        }
        patches.push(Patch { addr, bytes: new.to_vec() });
    }
    let stubs = r.bytes()?.to_vec();
    let resume_count = r.u64()?;
    let mut resumes = Vec::new();
    for _ in 0..resume_count {
        resumes.push((r.u64()?, r.u64()?));
    }
    let skipped_count = r.u64()?;
    let mut skipped = Vec::new();
    for _ in 0..skipped_count {
        let addr = r.u64()?;
        let why = match r.take(1)?[0] {
            0 => Skip::NoRoom,
            1 => Skip::BranchTarget,
            2 => Skip::NoStubSpace,
            _ => return None,
        };
        skipped.push((addr, why));
    }
    if !r.0.is_empty() {
        return None;
    }
    Some(Plan { patches, stubs, sites, skipped, resumes })
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
