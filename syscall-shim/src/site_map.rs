//! What the guest sees of its rewritten syscall sites in a signal frame.
//!
//! After a fast-path syscall the guest resumes inside its site's stub, so that is the
//! RIP a signal delivered then would record — an address no unwinder or crash reporter
//! knows. The frame records instead the address right after the original `syscall`
//! (or the `syscall` itself, when the call is to be made again), as on Linux, and
//! `rt_sigreturn` maps it back to the stub. The original addresses lie inside the
//! patched window, where guest code never runs any more — except just past a window
//! with nothing after its `syscall`, where the stub would only jump back anyway — so
//! the mapping back changes nothing else.

use alloc::vec::Vec;

/// The length of a `syscall` instruction.
const SYSCALL_LEN: u64 = 2;

/// How far before the address the entry returns to a stub's own syscall code starts
/// (`lea rcx, [rip + resume]; jmp [slot]`, see `rewrite::stub`): a syscall interrupted
/// by a signal is made again from there, with RAX = its number, as Linux backs RIP up
/// over `syscall`.
pub const RESTART_BACKUP: u64 = 13;

/// (original `syscall` address, stub resume address) of every rewritten site,
/// sorted by each.
struct Sites {
    by_stub: Vec<(u64, u64)>,
    by_site: Vec<(u64, u64)>,
}

static SITES: spin::Once<Sites> = spin::Once::new();

/// Records the rewritten sites of the program (once, at load).
pub fn register(resumes: &[(u64, u64)]) {
    SITES.call_once(|| {
        let mut by_stub: Vec<(u64, u64)> = resumes.iter().map(|&(site, resume)| (resume, site)).collect();
        by_stub.sort_unstable();
        let mut by_site = resumes.to_vec();
        by_site.sort_unstable();
        Sites { by_stub, by_site }
    });
}

fn find(table: &[(u64, u64)], key: u64) -> Option<u64> {
    table.binary_search_by_key(&key, |&(k, _)| k).ok().map(|i| table[i].1)
}

/// The address a signal frame shows for `rip`: a stub's resume point (or its syscall
/// code, for a call to be made again) becomes the original site's.
pub fn to_original(rip: u64) -> u64 {
    let Some(sites) = SITES.get() else { return rip };
    if let Some(site) = find(&sites.by_stub, rip) {
        return site + SYSCALL_LEN;
    }
    if let Some(site) = find(&sites.by_stub, rip.wrapping_add(RESTART_BACKUP)) {
        return site;
    }
    rip
}

/// The inverse of [`to_original`], for `rt_sigreturn`.
pub fn to_stub(rip: u64) -> u64 {
    let Some(sites) = SITES.get() else { return rip };
    if let Some(resume) = find(&sites.by_site, rip.wrapping_sub(SYSCALL_LEN)) {
        return resume;
    }
    if let Some(resume) = find(&sites.by_site, rip) {
        return resume - RESTART_BACKUP;
    }
    rip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_map_both_ways() {
        register(&[(0x40_1000, 0x7000_0020), (0x40_2000, 0x7000_0060)]);
        assert_eq!(to_original(0x7000_0020), 0x40_1002);
        assert_eq!(to_original(0x7000_0060 - RESTART_BACKUP), 0x40_2000);
        assert_eq!(to_original(0x7000_0030), 0x7000_0030);
        assert_eq!(to_stub(0x40_1002), 0x7000_0020);
        assert_eq!(to_stub(0x40_2000), 0x7000_0060 - RESTART_BACKUP);
        assert_eq!(to_stub(0x40_3000), 0x40_3000);
    }
}
