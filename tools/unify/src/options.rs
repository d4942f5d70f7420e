//! Option values shared by `run` and `build`: `-e`, `-w`, `--size`; and `run`'s `-m`.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use unify_rootfs::path::{components, validate_name};
use unify_rootfs::{ImageBuilder, MIN_VOLUME_SIZE};

use crate::fail::Failure;

/// The largest `--size`: FAT32 with 4 KiB clusters stops at 2^28 clusters.
const MAX_SIZE: u64 = 1 << 40;

/// The guest's environment: exactly the `-e` variables, as `docker run -e` does;
/// `-e KEY` passes unify's own value of KEY (and nothing if it is unset).
pub fn guest_env(specs: &[OsString]) -> Result<Vec<Vec<u8>>, Failure> {
    let mut env = Vec::new();
    for spec in specs {
        let bytes = spec.as_bytes();
        if bytes.is_empty() || bytes[0] == b'=' {
            return Err(Failure::usage(format!("-e {}: expected KEY=VALUE or KEY", spec.to_string_lossy())));
        }
        if bytes.contains(&b'=') {
            env.push(bytes.to_vec());
        } else if let Some(value) = std::env::var_os(spec) {
            let mut kv = bytes.to_vec();
            kv.push(b'=');
            kv.extend_from_slice(value.as_bytes());
            env.push(kv);
        }
    }
    Ok(env)
}

fn key(entry: &[u8]) -> &[u8] {
    entry.split(|&b| b == b'=').next().unwrap_or(entry)
}

/// `base` with each of `overrides` replacing the entry with the same key, or appended.
pub fn override_env(mut base: Vec<Vec<u8>>, overrides: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    for kv in overrides {
        match base.iter_mut().find(|e| key(e) == key(&kv)) {
            Some(slot) => *slot = kv,
            None => base.push(kv),
        }
    }
    base
}

/// A guest path given on the command line, normalised to `/a/b`: absolute, no `..`, every
/// name one FAT can store. `what` names the option in the message.
pub fn guest_path(path: &str, what: &str) -> Result<String, Failure> {
    let bad = |why: &str| Failure::usage(format!("{what}: {why}"));
    if !path.starts_with('/') {
        return Err(bad(&format!("the guest path {path:?} must be absolute")));
    }
    let names =
        components(path).map_err(|_| bad(&format!("{path:?}: `..` and names over 255 bytes are not allowed")))?;
    for name in &names {
        if validate_name(name).is_err() {
            return Err(bad(&format!("{name:?}: FAT cannot store this name (no \"*/:<>?\\| or control characters)")));
        }
    }
    Ok(format!("/{}", names.join("/")))
}

/// The `-w` directory: an absolute guest path, not below a directory the libOS mounts over
/// (it would be hidden there; the mount point itself is fine).
pub fn workdir(dir: &str) -> Result<String, Failure> {
    let what = format!("-w {dir}");
    let dir = guest_path(dir, &what)?;
    if let Some(m) = ImageBuilder::mount_point_of(&dir) {
        if dir.len() > m.len() {
            return Err(Failure::usage(format!(
                "{what}: {m} is mounted over by the libOS; its contents are not in the image"
            )));
        }
    }
    if dir == "/.unify" || dir.starts_with("/.unify/") {
        return Err(Failure::usage(format!("{what}: /.unify is reserved for the manifest")));
    }
    Ok(dir)
}

/// `--size`: bytes, or a number with K, M, G or T (powers of 1024; `KiB`/`KB` spellings too).
pub fn size(spec: &str) -> Result<u64, Failure> {
    let bad = |why: &str| Failure::usage(format!("--size {spec}: {why}"));
    let (n, shift) =
        number_and_unit(spec).ok_or_else(|| bad("expected a number with an optional K, M, G or T suffix"))?;
    let bytes = n.checked_shl(shift).filter(|b| b >> shift == n).ok_or_else(|| bad("too large"))?;
    if bytes < MIN_VOLUME_SIZE {
        return Err(bad(&format!("too small; a FAT32 image needs at least {}M", MIN_VOLUME_SIZE >> 20)));
    }
    if bytes > MAX_SIZE {
        return Err(bad("too large; at most 1T"));
    }
    Ok(bytes)
}

/// The smallest and largest `-m`: below a few MiB the kernel has no room to load into
/// (and QEMU spins rather than failing), and the kernel uses RAM below 4 GiB only.
const MIN_MEMORY_MIB: u64 = 16;
const MAX_MEMORY_MIB: u64 = 1 << 20;

/// `-m`: the VM's memory in MiB, given as a number with K, M or G (powers of 1024). A
/// bare number is refused: QEMU reads it as MiB, docker as bytes.
pub fn memory(spec: &str) -> Result<u64, Failure> {
    let bad = |why: &str| Failure::usage(format!("-m {spec}: {why}"));
    let (n, shift) = number_and_unit(spec).ok_or_else(|| bad("expected a number with K, M or G, such as 256M"))?;
    if shift == 0 {
        return Err(bad("give the unit: K, M or G (such as 256M)"));
    }
    if shift > 30 {
        return Err(bad(&format!("too large; at most {}G", MAX_MEMORY_MIB >> 10)));
    }
    let bytes = n.checked_shl(shift).filter(|b| b >> shift == n).ok_or_else(|| bad("too large"))?;
    if bytes % (1 << 20) != 0 {
        return Err(bad("not a whole number of MiB"));
    }
    let mib = bytes >> 20;
    if mib < MIN_MEMORY_MIB {
        return Err(bad(&format!("too small; the VM needs at least {MIN_MEMORY_MIB}M")));
    }
    if mib > MAX_MEMORY_MIB {
        return Err(bad(&format!("too large; at most {}G", MAX_MEMORY_MIB >> 10)));
    }
    Ok(mib)
}

/// `123`, `123K`, `2GiB`, ...: the number and the unit's power of two.
fn number_and_unit(spec: &str) -> Option<(u64, u32)> {
    let s = spec.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let n: u64 = num.parse().ok()?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return None,
    };
    Some((n, shift))
}

/// A byte count for people: `512 MiB`, `5.1 MiB`, `800 KiB`, `12 B`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() < 0.05 || value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size("64M").unwrap(), 64 << 20);
        assert_eq!(size("1g").unwrap(), 1 << 30);
        assert_eq!(size("2GiB").unwrap(), 2 << 30);
        assert_eq!(size("40000000").unwrap(), 40_000_000);
        assert!(size("10M").is_err(), "below FAT32's minimum");
        assert!(size("2T").is_err());
        assert!(size("1.5G").is_err());
        assert!(size("M").is_err());
        assert!(size("99999999999999999999G").is_err());
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(memory("256M").unwrap(), 256);
        assert_eq!(memory("1g").unwrap(), 1024);
        assert_eq!(memory("2GiB").unwrap(), 2048);
        assert_eq!(memory("65536K").unwrap(), 64);
        for bad in ["256", "8M", "1500K", "1.5G", "M", "", "2T", "2000G", "99999999999999999999G", "256X", "-1M"] {
            assert!(memory(bad).is_err(), "{bad}");
        }
        assert!(memory("256").unwrap_err().msg.contains("give the unit"));
    }

    #[test]
    fn guest_paths_and_workdirs() {
        assert_eq!(guest_path("/data//x/.", "-v").unwrap(), "/data/x");
        assert_eq!(guest_path("/", "-v").unwrap(), "/");
        assert!(guest_path("data", "-v").is_err());
        assert!(guest_path("/a/../b", "-v").is_err());
        assert!(guest_path("/a:b", "-v").is_err());
        assert_eq!(workdir("/tmp").unwrap(), "/tmp");
        assert!(workdir("/tmp/x").is_err());
        assert!(workdir("/.unify").is_err());
    }

    #[test]
    fn env_overrides_by_key() {
        let base = vec![b"A=1".to_vec(), b"B=2".to_vec()];
        let got = override_env(base, vec![b"B=3".to_vec(), b"C=4".to_vec()]);
        assert_eq!(got, [b"A=1".to_vec(), b"B=3".to_vec(), b"C=4".to_vec()]);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512 << 20), "512 MiB");
        assert_eq!(human(5_347_737), "5.1 MiB");
        assert_eq!(human(12), "12 B");
    }
}
