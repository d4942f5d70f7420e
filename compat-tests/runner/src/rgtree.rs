//! The tree the ripgrep cases search: generated, never committed. A fixed seed makes it
//! the same bytes on every machine; it is built once into the cache
//! (`compat-tests/.cache/rg-tree/v<VERSION>`) and copied for each run.
//!
//! About 2,200 files in 40 nested directories (up to 4 deep) plus some special ones:
//! text files with and without matches of [`PATTERN`], binary files (NUL bytes, some with
//! a match before the first NUL), empty files, hidden files, CRLF files, one long line,
//! one large file, and ignore rules that rg applies: a `.gitignore` (active because
//! there is a `.git` directory), a nested `.gitignore`, a root `.ignore` and a nested
//! `.ignore`, with a negated rule. Names are lowercase ASCII and unique without regard
//! to case, so they survive any filesystem (unify's root is FAT).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Bump when the generator changes: a new version is generated next to the old one.
pub const VERSION: u32 = 1;
/// The word many files contain.
pub const PATTERN: &str = "needle";
/// A word no file contains.
pub const NO_MATCH: &str = "zqxjvk";

const SEED: u64 = 0x5eed_2e6e_7ee0_0001;
const DIRS: usize = 40;
const MAX_DEPTH: usize = 4;
const TEXT_FILES: usize = 2_100;
const BINARY_FILES: usize = 60;
const HIDDEN_FILES: usize = 20;
const EMPTY_FILES: usize = 10;
const CRLF_FILES: usize = 12;

const WORDS: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima",
    "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
    "yankee", "zulu", "amber", "basil", "cedar", "dune", "ember", "fjord", "grove", "heath", "inlet", "jade", "kelp",
    "larch", "moss", "nettle", "oak", "pine", "quartz", "reed", "sage", "thyme", "umber", "vale", "willow", "yew",
    "grüße", "naïve", "café", "日本", "haystack", "thread", "spool", "bobbin", "loom", "weave", "stitch", "seam",
    "hem", "pin",
];
const EXTENSIONS: &[&str] = &["txt", "rs", "md", "log", "csv", "tmp", "json"];

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    fn word(&mut self) -> &'static str {
        WORDS[self.below(WORDS.len())]
    }
    /// A word usable in file names (ASCII only).
    fn word_ascii(&mut self) -> &'static str {
        loop {
            let w = self.word();
            if w.is_ascii() {
                return w;
            }
        }
    }
}

/// Returns the tree's directory, generating it first if the cache does not have it.
pub fn ensure(cache: &Path) -> Result<PathBuf, String> {
    let dir = cache.join(format!("v{VERSION}"));
    if dir.is_dir() {
        return Ok(dir);
    }
    let tmp = cache.join(format!("v{VERSION}.tmp.{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    generate(&tmp).map_err(|e| format!("generating the rg tree in {}: {e}", tmp.display()))?;
    match fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // Another runner finished the same tree first.
        Err(_) if dir.is_dir() => {
            let _ = fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(format!("renaming {} to {}: {e}", tmp.display(), dir.display())),
    }
}

/// A line of 2..12 words; sometimes with the pattern (in one of its spellings) in it.
fn text_line(rng: &mut Rng, out: &mut String) {
    let words = 2 + rng.below(11);
    let needle_at = if rng.one_in(25) { Some(rng.below(words)) } else { None };
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        if needle_at == Some(i) {
            match rng.below(8) {
                0 => out.push_str("Needle"),
                1 => {
                    let _ = write!(out, "{PATTERN}_{}", rng.below(100));
                }
                2 => {
                    let _ = write!(out, "{}{PATTERN}", rng.word());
                }
                _ => out.push_str(PATTERN),
            }
        } else {
            out.push_str(rng.word());
        }
    }
}

fn text(rng: &mut Rng, lines: usize, eol: &str) -> String {
    let mut s = String::new();
    for _ in 0..lines {
        text_line(rng, &mut s);
        s.push_str(eol);
    }
    s
}

/// Generates the whole tree under `root` (which must not exist).
pub fn generate(root: &Path) -> io::Result<()> {
    let mut rng = Rng(SEED);
    fs::create_dir_all(root)?;

    // Directories: each hangs below a random earlier one that is not yet too deep.
    let mut dirs: Vec<(PathBuf, usize)> = vec![(PathBuf::new(), 0)];
    while dirs.len() <= DIRS {
        let (parent, depth) = dirs[rng.below(dirs.len())].clone();
        if depth >= MAX_DEPTH {
            continue;
        }
        let path = parent.join(format!("{}_{:02}", rng.word_ascii(), dirs.len()));
        fs::create_dir(root.join(&path))?;
        dirs.push((path, depth + 1));
    }
    let pick_dir = |rng: &mut Rng| root.join(&dirs[rng.below(dirs.len())].0);

    for i in 0..TEXT_FILES {
        let dir = pick_dir(&mut rng);
        let name = if rng.one_in(50) {
            format!("secret_{i:04}.txt")
        } else {
            format!("{}_{i:04}.{}", rng.word_ascii(), EXTENSIONS[rng.below(EXTENSIONS.len())])
        };
        let lines = 1 + rng.below(40);
        fs::write(dir.join(name), text(&mut rng, lines, "\n"))?;
    }
    for i in 0..BINARY_FILES {
        let dir = pick_dir(&mut rng);
        let lines = 1 + rng.below(5);
        let mut bytes = text(&mut rng, lines, "\n").into_bytes();
        if i % 3 == 0 {
            bytes.extend_from_slice(format!("{PATTERN} before the nul\n").as_bytes());
        }
        bytes.push(0);
        for _ in 0..rng.below(2000) {
            bytes.push(rng.next() as u8);
        }
        bytes.extend_from_slice(format!("\n{PATTERN} after the nul\n").as_bytes());
        fs::write(dir.join(format!("blob_{i:04}.bin")), bytes)?;
    }
    for i in 0..HIDDEN_FILES {
        let dir = pick_dir(&mut rng);
        fs::write(dir.join(format!(".hidden_{i:04}.txt")), format!("{PATTERN} in a hidden file\n"))?;
    }
    for i in 0..EMPTY_FILES {
        fs::write(pick_dir(&mut rng).join(format!("empty_{i:04}.txt")), "")?;
    }
    for i in 0..CRLF_FILES {
        let lines = 2 + rng.below(20);
        fs::write(pick_dir(&mut rng).join(format!("dos_{i:04}.txt")), text(&mut rng, lines, "\r\n"))?;
    }
    // One long line with a match near its end, one large file, one without a final newline.
    let mut long = String::new();
    while long.len() < 100_000 {
        long.push_str(rng.word());
        long.push(' ');
    }
    long.push_str(PATTERN);
    long.push_str(" end\n");
    fs::write(pick_dir(&mut rng).join("long_line.txt"), long)?;
    let mut large = String::new();
    for n in 0..30_000 {
        if n % 997 == 0 {
            let _ = write!(large, "line {n} has the {PATTERN}");
        } else {
            text_line(&mut rng, &mut large);
        }
        large.push('\n');
    }
    fs::create_dir(root.join("large"))?;
    fs::write(root.join("large/large_file.txt"), large)?;
    fs::write(root.join("no_final_newline.txt"), format!("first\nlast {PATTERN}"))?;

    // Ignore rules. rg reads .gitignore only inside a git repository: the `.git`
    // directory makes this one.
    fs::create_dir(root.join(".git"))?;
    fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n")?;
    fs::write(root.join(".gitignore"), "*.log\n!important.log\nbuild/\ntarget/\n")?;
    fs::write(root.join(".ignore"), "secret_*\n")?;
    fs::write(root.join("important.log"), format!("an important {PATTERN}\n"))?;
    for dir in ["build", "build/out"] {
        fs::create_dir(root.join(dir))?;
        fs::write(root.join(dir).join("artifact.txt"), format!("{PATTERN} in an ignored directory\n"))?;
    }
    let nested = pick_dir(&mut rng).join("target");
    fs::create_dir(&nested)?;
    fs::write(nested.join("ignored.txt"), format!("{PATTERN} in a nested ignored directory\n"))?;
    let with_gitignore = root.join(&dirs[1].0);
    fs::write(with_gitignore.join(".gitignore"), "*.tmp\n")?;
    let with_ignore = root.join(&dirs[2].0);
    fs::write(with_ignore.join(".ignore"), "*.csv\n!keep.csv\n")?;
    fs::write(with_ignore.join("keep.csv"), format!("kept,{PATTERN}\n"))?;
    fs::write(with_ignore.join("drop.csv"), format!("dropped,{PATTERN}\n"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }

    fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v = Vec::new();
        walk(root, root, &mut v);
        v.sort();
        v
    }

    #[test]
    fn deterministic_and_shaped_as_promised() {
        let base = std::env::temp_dir().join(format!("compat-runner-rgtree-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        generate(&base.join("a")).unwrap();
        generate(&base.join("b")).unwrap();
        let (a, b) = (snapshot(&base.join("a")), snapshot(&base.join("b")));
        assert!(a == b, "two generations differ");
        assert!(a.len() >= 2_000, "{} files", a.len());

        let mut dirs = HashSet::new();
        let mut lower = HashSet::new();
        for (name, _) in &a {
            assert!(name.is_ascii(), "{name}");
            assert!(lower.insert(name.to_lowercase()), "{name} clashes without regard to case");
            if let Some((d, _)) = name.rsplit_once('/') {
                dirs.insert(d.to_string());
            }
        }
        assert!(dirs.len() >= DIRS, "{} directories", dirs.len());
        let matching = a.iter().filter(|(_, c)| c.windows(PATTERN.len()).any(|w| w == PATTERN.as_bytes())).count();
        assert!(matching > 500 && matching < a.len(), "{matching} files match");
        assert!(!a.iter().any(|(_, c)| c.windows(NO_MATCH.len()).any(|w| w == NO_MATCH.as_bytes())));
        assert!(a.iter().any(|(n, _)| n == ".gitignore") && a.iter().any(|(n, _)| n == ".ignore"));

        // ensure() reuses a finished tree.
        let cache = base.join("cache");
        let t = ensure(&cache).unwrap();
        fs::write(t.join("marker"), "").unwrap();
        assert_eq!(ensure(&cache).unwrap(), t);
        assert!(t.join("marker").exists());
        fs::remove_dir_all(&base).unwrap();
    }
}
