//! The `flags` line of `/proc/cpuinfo`: Linux's names for the CPUID feature bits
//! (`arch/x86/include/asm/cpufeatures.h`), in Linux's word order. Bits Linux does not
//! show have no name here. Linux also lists flags it synthesises itself
//! (`constant_tsc`, `rep_good`, …); those do not come from CPUID and are not listed.

/// One CPUID register of feature bits: leaf, subleaf, register (0 = eax … 3 = edx),
/// and the name of each bit.
pub(super) struct FlagWord {
    pub leaf: u32,
    pub subleaf: u32,
    pub register: usize,
    pub names: [&'static str; 32],
}

const EAX: usize = 0;
const EBX: usize = 1;
const ECX: usize = 2;
const EDX: usize = 3;

/// Names at the given bit positions, the rest unnamed.
const fn named(bits: &[(usize, &'static str)]) -> [&'static str; 32] {
    let mut names = [""; 32];
    let mut i = 0;
    while i < bits.len() {
        names[bits[i].0] = bits[i].1;
        i += 1;
    }
    names
}

/// The feature words, in the order Linux prints them.
pub(super) const FLAG_WORDS: [FlagWord; 11] = [
    // Word 0: CPUID 1, EDX.
    FlagWord {
        leaf: 1,
        subleaf: 0,
        register: EDX,
        names: [
            "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "", "sep", "mtrr", "pge", "mca",
            "cmov", "pat", "pse36", "pn", "clflush", "", "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm",
            "ia64", "pbe",
        ],
    },
    // Word 1: CPUID 0x80000001, EDX (the bits not copied from word 0).
    FlagWord {
        leaf: 0x8000_0001,
        subleaf: 0,
        register: EDX,
        names: named(&[
            (11, "syscall"),
            (19, "mp"),
            (20, "nx"),
            (22, "mmxext"),
            (25, "fxsr_opt"),
            (26, "pdpe1gb"),
            (27, "rdtscp"),
            (29, "lm"),
            (30, "3dnowext"),
            (31, "3dnow"),
        ]),
    },
    // Word 4: CPUID 1, ECX.
    FlagWord {
        leaf: 1,
        subleaf: 0,
        register: ECX,
        names: [
            "pni",
            "pclmulqdq",
            "dtes64",
            "monitor",
            "ds_cpl",
            "vmx",
            "smx",
            "est",
            "tm2",
            "ssse3",
            "cid",
            "sdbg",
            "fma",
            "cx16",
            "xtpr",
            "pdcm",
            "",
            "pcid",
            "dca",
            "sse4_1",
            "sse4_2",
            "x2apic",
            "movbe",
            "popcnt",
            "tsc_deadline_timer",
            "aes",
            "xsave",
            "",
            "avx",
            "f16c",
            "rdrand",
            "hypervisor",
        ],
    },
    // Word 6: CPUID 0x80000001, ECX.
    FlagWord {
        leaf: 0x8000_0001,
        subleaf: 0,
        register: ECX,
        names: named(&[
            (0, "lahf_lm"),
            (1, "cmp_legacy"),
            (2, "svm"),
            (3, "extapic"),
            (4, "cr8_legacy"),
            (5, "abm"),
            (6, "sse4a"),
            (7, "misalignsse"),
            (8, "3dnowprefetch"),
            (9, "osvw"),
            (10, "ibs"),
            (11, "xop"),
            (12, "skinit"),
            (13, "wdt"),
            (15, "lwp"),
            (16, "fma4"),
            (17, "tce"),
            (19, "nodeid_msr"),
            (21, "tbm"),
            (22, "topoext"),
            (23, "perfctr_core"),
            (24, "perfctr_nb"),
            (26, "bpext"),
            (27, "ptsc"),
            (28, "perfctr_llc"),
            (29, "mwaitx"),
        ]),
    },
    // Word 9: CPUID 7.0, EBX.
    FlagWord {
        leaf: 7,
        subleaf: 0,
        register: EBX,
        names: named(&[
            (0, "fsgsbase"),
            (1, "tsc_adjust"),
            (2, "sgx"),
            (3, "bmi1"),
            (4, "hle"),
            (5, "avx2"),
            (7, "smep"),
            (8, "bmi2"),
            (9, "erms"),
            (10, "invpcid"),
            (11, "rtm"),
            (12, "cqm"),
            (14, "mpx"),
            (15, "rdt_a"),
            (16, "avx512f"),
            (17, "avx512dq"),
            (18, "rdseed"),
            (19, "adx"),
            (20, "smap"),
            (21, "avx512ifma"),
            (23, "clflushopt"),
            (24, "clwb"),
            (25, "intel_pt"),
            (26, "avx512pf"),
            (27, "avx512er"),
            (28, "avx512cd"),
            (29, "sha_ni"),
            (30, "avx512bw"),
            (31, "avx512vl"),
        ]),
    },
    // Word 10: CPUID 0xd.1, EAX.
    FlagWord {
        leaf: 0xd,
        subleaf: 1,
        register: EAX,
        names: named(&[(0, "xsaveopt"), (1, "xsavec"), (2, "xgetbv1"), (3, "xsaves"), (4, "xfd")]),
    },
    // Word 12: CPUID 7.1, EAX.
    FlagWord { leaf: 7, subleaf: 1, register: EAX, names: named(&[(4, "avx_vnni"), (5, "avx512_bf16")]) },
    // Word 13: CPUID 0x80000008, EBX.
    FlagWord {
        leaf: 0x8000_0008,
        subleaf: 0,
        register: EBX,
        names: named(&[(0, "clzero"), (1, "irperf"), (2, "xsaveerptr"), (4, "rdpru"), (9, "wbnoinvd")]),
    },
    // Word 14: CPUID 6, EAX.
    FlagWord {
        leaf: 6,
        subleaf: 0,
        register: EAX,
        names: named(&[
            (0, "dtherm"),
            (1, "ida"),
            (2, "arat"),
            (4, "pln"),
            (6, "pts"),
            (7, "hwp"),
            (8, "hwp_notify"),
            (9, "hwp_act_window"),
            (10, "hwp_epp"),
            (11, "hwp_pkg_req"),
        ]),
    },
    // Word 16: CPUID 7.0, ECX.
    FlagWord {
        leaf: 7,
        subleaf: 0,
        register: ECX,
        names: named(&[
            (1, "avx512vbmi"),
            (2, "umip"),
            (3, "pku"),
            (4, "ospke"),
            (5, "waitpkg"),
            (6, "avx512_vbmi2"),
            (8, "gfni"),
            (9, "vaes"),
            (10, "vpclmulqdq"),
            (11, "avx512_vnni"),
            (12, "avx512_bitalg"),
            (13, "tme"),
            (14, "avx512_vpopcntdq"),
            (16, "la57"),
            (22, "rdpid"),
            (24, "bus_lock_detect"),
            (25, "cldemote"),
            (27, "movdiri"),
            (28, "movdir64b"),
            (29, "enqcmd"),
            (30, "sgx_lc"),
        ]),
    },
    // Word 18: CPUID 7.0, EDX.
    FlagWord {
        leaf: 7,
        subleaf: 0,
        register: EDX,
        names: named(&[
            (2, "avx512_4vnniw"),
            (3, "avx512_4fmaps"),
            (4, "fsrm"),
            (8, "avx512_vp2intersect"),
            (10, "md_clear"),
            (14, "serialize"),
            (16, "tsxldtrk"),
            (18, "pconfig"),
            (19, "arch_lbr"),
            (20, "ibt"),
            (22, "amx_bf16"),
            (23, "avx512_fp16"),
            (24, "amx_tile"),
            (25, "amx_int8"),
            (28, "flush_l1d"),
            (29, "arch_capabilities"),
        ]),
    },
];
