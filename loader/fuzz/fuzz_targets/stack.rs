//! `unify_loader::stack::build` must never panic, whatever the strings and stack top.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unify_loader::stack::{build_with_limit, AuxEntry, StackParams};

fuzz_target!(
    |input: (u64, u64, Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<(u64, u64)>)| {
        let (top, limit, argv, envp, aux) = input;
        let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let envp: Vec<&[u8]> = envp.iter().map(Vec::as_slice).collect();
        let aux: Vec<AuxEntry> = aux.into_iter().map(|(k, v)| AuxEntry(k, v)).collect();
        let params = StackParams {
            argv: &argv,
            envp: &envp,
            execfn: argv.first().copied().unwrap_or(b""),
            platform: b"x86_64",
            random: [0; 16],
            auxv: &aux,
        };
        if let Ok(st) = build_with_limit(top, &params, limit % (1 << 22)) {
            assert_eq!(st.sp % 16, 0);
            assert_eq!(st.sp.checked_add(st.bytes.len() as u64), Some(top));
        }
    }
);
