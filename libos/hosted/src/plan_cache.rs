//! Where the hosted platform keeps rewrite plans between runs: one file per program
//! layout under `$UNIFY_CACHE_DIR`, else `$XDG_CACHE_HOME/unify`, else
//! `~/.cache/unify` (`rewrite/<key>`). A missing or unwritable directory only means
//! planning again; a stored plan is checked against the code before it is used (see
//! `syscall_shim::rewrite::cache`).

use std::path::PathBuf;

use syscall_shim::rewrite::{self, CodeRegion, Plan};

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("UNIFY_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("unify"))
}

fn entry_path(key: u128) -> Option<PathBuf> {
    Some(cache_dir()?.join("rewrite").join(format!("{key:032x}")))
}

/// The plan for `regions`: the stored one if it still fits, else a new one (stored
/// for next time). Returns whether it came from the cache.
pub fn plan(regions: &[CodeRegion<'_>], stub_base: u64, capacity: usize) -> (Plan, bool) {
    let key = rewrite::cache::key(regions, stub_base, capacity);
    let path = entry_path(key);
    if let Some(stored) = path.as_ref().and_then(|p| std::fs::read(p).ok()) {
        if let Some(plan) = rewrite::cache::decode(&stored, regions) {
            return (plan, true);
        }
    }
    let plan = rewrite::plan(regions, stub_base, capacity);
    if let (Some(path), Some(bytes)) = (path, rewrite::cache::encode(&plan, regions)) {
        store(&path, &bytes);
    }
    (plan, false)
}

/// Writes an entry atomically (a reader sees the old state or the whole new file).
fn store(path: &std::path::Path, bytes: &[u8]) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp =
        dir.join(format!(".{}.{}", std::process::id(), path.file_name().map_or("x".into(), |n| n.to_string_lossy())));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
