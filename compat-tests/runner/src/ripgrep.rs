//! ripgrep as a real third-party static binary: PyPI's musllinux wheel of `ripgrep`
//! holds a static-pie `rg`. The wheel is fetched once with pip into the cache
//! (`compat-tests/.cache/ripgrep`, gitignored) and `rg` is extracted from it (a wheel is
//! a zip file).

use std::fs;
use std::io::{Read, Seek};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Pinned, so every run and every machine compares the same binary.
pub const REQUIREMENT: &str = "ripgrep==14.1.0";

/// Platform tags tried in order (the wheel is `py3-none-<tag>`).
pub const PLATFORMS: &[&str] = &["musllinux_1_2_x86_64", "musllinux_1_1_x86_64"];

/// pip front ends tried in order.
const PIPS: &[&[&str]] = &[&["pip"], &["pip3"], &["python3", "-m", "pip"]];

/// Returns the path of an executable `rg`, fetching and extracting it if needed.
pub fn ensure(cache: &Path) -> Result<PathBuf, String> {
    let rg = cache.join("rg");
    if rg.is_file() {
        return Ok(rg);
    }
    let wheels = cache.join("wheels");
    fs::create_dir_all(&wheels).map_err(|e| format!("creating {}: {e}", wheels.display()))?;
    let wheel = match find_wheel(&wheels) {
        Some(w) => w,
        None => {
            download(&wheels)?;
            find_wheel(&wheels).ok_or_else(|| format!("pip left no wheel in {}", wheels.display()))?
        }
    };
    let file = fs::File::open(&wheel).map_err(|e| format!("opening {}: {e}", wheel.display()))?;
    let bytes = extract_rg(file).map_err(|e| format!("{}: {e}", wheel.display()))?;
    install(&bytes, &rg)?;
    Ok(rg)
}

/// Writes `bytes` to `dest` as an executable, atomically (temporary file + rename).
fn install(bytes: &[u8], dest: &Path) -> Result<(), String> {
    let tmp = dest.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod {}: {e}", tmp.display()))?;
    fs::rename(&tmp, dest).map_err(|e| format!("renaming to {}: {e}", dest.display()))
}

fn find_wheel(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> =
        fs::read_dir(dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| is_wanted_wheel(p)).collect();
    found.sort();
    found.pop()
}

fn is_wanted_wheel(p: &Path) -> bool {
    let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let version = REQUIREMENT.split("==").nth(1).unwrap_or("");
    name.starts_with(&format!("ripgrep-{version}-"))
        && name.ends_with(".whl")
        && PLATFORMS.iter().any(|t| name.contains(t))
}

fn download(dest: &Path) -> Result<(), String> {
    let mut errors = Vec::new();
    for platform in PLATFORMS {
        for pip in PIPS {
            let mut cmd = Command::new(pip[0]);
            cmd.args(&pip[1..]).args([
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                "--quiet",
                "--platform",
                platform,
                REQUIREMENT,
                "-d",
            ]);
            cmd.arg(dest);
            match cmd.output() {
                Ok(o) if o.status.success() => return Ok(()),
                Ok(o) => {
                    let err = String::from_utf8_lossy(&o.stderr);
                    let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
                    errors.push(format!("{} ({platform}): {}", pip.join(" "), last.trim()));
                }
                // This front end is not installed: try the next one.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => errors.push(format!("{}: {e}", pip.join(" "))),
            }
        }
    }
    if errors.is_empty() {
        errors.push("no pip found (tried pip, pip3, python3 -m pip)".into());
    }
    Err(format!("could not download {REQUIREMENT}: {}", errors.join("; ")))
}

/// True for a zip entry that is a file named exactly `rg` (in any directory).
fn is_rg_entry(name: &str) -> bool {
    !name.ends_with('/') && name.rsplit('/').next() == Some("rg")
}

/// Extracts the file named `rg` from a wheel (a zip archive).
pub fn extract_rg<R: Read + Seek>(wheel: R) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipArchive::new(wheel).map_err(|e| format!("not a zip archive: {e}"))?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| format!("zip entry {i}: {e}"))?;
        if !entry.is_file() || !is_rg_entry(entry.name()) {
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(|e| format!("reading {}: {e}", entry.name()))?;
        if !bytes.starts_with(b"\x7fELF") {
            return Err(format!("{} is not an ELF file", entry.name()));
        }
        return Ok(bytes);
    }
    Err("no file named rg in the wheel".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    fn wheel(entries: &[(&str, &[u8])]) -> Cursor<Vec<u8>> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, data) in entries {
            if name.ends_with('/') {
                w.add_directory(*name, opts).unwrap();
            } else {
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
        }
        let mut c = w.finish().unwrap();
        c.set_position(0);
        c
    }

    const FAKE_RG: &[u8] = b"\x7fELF fake static-pie rg with enough bytes to deflate deflate deflate";

    #[test]
    fn extracts_rg_from_scripts_dir() {
        let w = wheel(&[
            ("ripgrep-14.1.0.dist-info/METADATA", b"Name: ripgrep\n"),
            ("ripgrep-14.1.0.data/scripts/", b""),
            ("ripgrep-14.1.0.data/scripts/rg", FAKE_RG),
            ("ripgrep-14.1.0.dist-info/RECORD", b"..."),
        ]);
        assert_eq!(extract_rg(w).unwrap(), FAKE_RG);
    }

    #[test]
    fn ignores_look_alikes() {
        let w =
            wheel(&[("rg/", b""), ("rg/README", b"not it"), ("docs/rg.1", b"man page"), ("bin/xrg", b"\x7fELF wrong")]);
        assert_eq!(extract_rg(w).unwrap_err(), "no file named rg in the wheel");
    }

    #[test]
    fn rejects_non_elf_rg() {
        let w = wheel(&[("scripts/rg", b"#!/bin/sh\necho shim\n")]);
        assert!(extract_rg(w).unwrap_err().contains("not an ELF file"));
    }

    #[test]
    fn rejects_non_zip() {
        let e = extract_rg(Cursor::new(b"definitely not a zip".to_vec())).unwrap_err();
        assert!(e.starts_with("not a zip archive"), "{e}");
    }

    #[test]
    fn entry_names() {
        assert!(is_rg_entry("rg"));
        assert!(is_rg_entry("a/b/rg"));
        assert!(!is_rg_entry("a/rg/"));
        assert!(!is_rg_entry("a/rg.exe"));
        assert!(!is_rg_entry("a/xrg"));
    }

    #[test]
    fn wheel_names() {
        let ok = Path::new("/c/ripgrep-14.1.0-py3-none-musllinux_1_2_x86_64.whl");
        assert!(is_wanted_wheel(ok));
        assert!(!is_wanted_wheel(Path::new("/c/ripgrep-14.1.0-py3-none-manylinux_2_17_x86_64.whl")));
        assert!(!is_wanted_wheel(Path::new("/c/ripgrep-13.0.0-py3-none-musllinux_1_2_x86_64.whl")));
    }

    #[test]
    fn ensure_uses_a_cached_wheel_and_installs_executable() {
        let dir = std::env::temp_dir().join(format!("compat-runner-rg-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("wheels")).unwrap();
        let w = wheel(&[("ripgrep-14.1.0.data/scripts/rg", FAKE_RG)]);
        fs::write(dir.join("wheels/ripgrep-14.1.0-py3-none-musllinux_1_2_x86_64.whl"), w.into_inner()).unwrap();
        let rg = ensure(&dir).unwrap();
        assert_eq!(rg, dir.join("rg"));
        assert_eq!(fs::read(&rg).unwrap(), FAKE_RG);
        assert_eq!(fs::metadata(&rg).unwrap().permissions().mode() & 0o777, 0o755);
        // Second call: the extracted binary is reused.
        assert_eq!(ensure(&dir).unwrap(), rg);
        fs::remove_dir_all(&dir).unwrap();
    }
}
