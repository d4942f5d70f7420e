//! `unify inspect`: what the loader and the rewriter make of a program, without running it.

use syscall_shim::rewrite::{self, CodeRegion, Skip};
use unify_loader::ElfKind;

use crate::cli::InspectArgs;

pub fn inspect(args: InspectArgs) -> i32 {
    let bytes = match std::fs::read(&args.program) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("unify: {}: cannot read: {e}", args.program.display());
            return 127;
        }
    };
    let plan = match unify_loader::parse(&bytes) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("unify: {}: {e}", args.program.display());
            return 126;
        }
    };
    let kind = match plan.kind {
        ElfKind::Exec => "static executable (ET_EXEC)",
        ElfKind::StaticPie => "static-pie executable (ET_DYN, no interpreter)",
    };
    println!("{}: {kind}", args.program.display());
    println!(
        "entry {:#x}, {} loadable segments, span {:#x}..{:#x}",
        plan.entry,
        plan.segments.len(),
        plan.span_start,
        plan.span_end
    );
    for s in &plan.segments {
        let p = s.prot;
        let perms = format!(
            "{}{}{}",
            if p.read { 'r' } else { '-' },
            if p.write { 'w' } else { '-' },
            if p.exec { 'x' } else { '-' }
        );
        println!("  {perms} {:#x}..{:#x} file {:#x}+{:#x}", s.vaddr, s.vaddr + s.memsz, s.file_offset, s.filesz);
    }
    let regions: Vec<CodeRegion<'_>> = plan
        .segments
        .iter()
        .filter(|s| s.prot.exec && s.filesz > 0)
        .filter_map(|s| {
            let start = usize::try_from(s.file_offset).ok()?;
            let end = start.checked_add(usize::try_from(s.filesz).ok()?)?;
            Some(CodeRegion { addr: s.vaddr, bytes: bytes.get(start..end)? })
        })
        .collect();
    let stub_base = plan.span_end;
    let result = rewrite::plan(&regions, stub_base, 1 << 20);
    let count = |k: Skip| result.skipped.iter().filter(|(_, s)| *s == k).count();
    println!(
        "syscall sites: {} found, {} rewritten, {} left to the trap path ({} no room, {} branch target inside, {} no stub space)",
        result.sites,
        result.patches.len(),
        result.skipped.len(),
        count(Skip::NoRoom),
        count(Skip::BranchTarget),
        count(Skip::NoStubSpace)
    );
    for (addr, why) in &result.skipped {
        println!("  left: {addr:#x} ({why:?})");
    }
    0
}
