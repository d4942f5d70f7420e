//! `-v HOSTPATH:GUESTPATH[:ro]`: host files and directories copied into the image.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use unify_rootfs::{BuildError, ImageBuilder, Warning};

use crate::fail::Failure;
use crate::image;
use crate::options::guest_path;

/// Warnings printed per `-v` before the rest are counted.
const MAX_WARNINGS: usize = 5;

/// One `-v`.
#[derive(Debug, Clone)]
pub struct Volume {
    /// The spec as given, for messages.
    pub spec: String,
    pub host: PathBuf,
    /// Normalised absolute guest path.
    pub guest: String,
    pub read_only: bool,
    pub is_dir: bool,
}

fn fold(path: &str) -> String {
    path.chars().flat_map(char::to_uppercase).collect()
}

/// Whether `path` is `dir` or below it (as FAT compares names).
fn at_or_below(path: &str, dir: &str) -> bool {
    let (path, dir) = (fold(path), fold(dir));
    dir == "/" || path == dir || path.strip_prefix(&dir).is_some_and(|rest| rest.starts_with('/'))
}

/// Parses and checks every `-v`; `program` is where the program goes (`/bin/<name>`), if
/// one is copied in.
pub fn parse(specs: &[OsString], program: Option<&str>) -> Result<Vec<Volume>, Failure> {
    let mut out: Vec<Volume> = Vec::new();
    for spec in specs {
        let v = parse_one(spec)?;
        if let Some(earlier) = out.iter().find(|o| fold(&o.guest) == fold(&v.guest)) {
            return Err(Failure::usage(format!("-v {}: {} is already given by -v {}", v.spec, v.guest, earlier.spec)));
        }
        if program.is_some_and(|p| fold(p) == fold(&v.guest)) {
            return Err(Failure::usage(format!("-v {}: {} is where the program goes", v.spec, v.guest)));
        }
        out.push(v);
    }
    Ok(out)
}

fn parse_one(spec: &OsString) -> Result<Volume, Failure> {
    let shown = spec.to_string_lossy().into_owned();
    let usage = |why: &str| Failure::usage(format!("-v {shown}: {why}"));
    let mut bytes = spec.as_bytes();
    let mut read_only = false;
    if let Some(rest) = bytes.strip_suffix(b":ro") {
        (bytes, read_only) = (rest, true);
    } else if let Some(rest) = bytes.strip_suffix(b":rw") {
        bytes = rest;
    }
    let colon = bytes.iter().rposition(|&b| b == b':').ok_or_else(|| usage("expected HOSTPATH:GUESTPATH[:ro]"))?;
    let (host, guest) = (&bytes[..colon], &bytes[colon + 1..]);
    if host.is_empty() {
        return Err(usage("the host path is empty"));
    }
    let guest = std::str::from_utf8(guest).map_err(|_| usage("the guest path is not UTF-8"))?;
    let guest = guest_path(guest, &format!("-v {shown}"))?;
    let host = PathBuf::from(OsString::from_vec(host.to_vec()));
    let meta = std::fs::metadata(&host).map_err(|e| {
        let why =
            if e.kind() == std::io::ErrorKind::NotFound { "no such file or directory".into() } else { e.to_string() };
        usage(&format!("{}: {why}", host.display()))
    })?;
    if !meta.is_dir() && !meta.is_file() {
        return Err(usage(&format!("{}: not a regular file or directory", host.display())));
    }
    if let Some(m) = ImageBuilder::mount_point_of(&guest) {
        return Err(usage(&format!(
            "{m} is mounted over by the libOS at run time; files copied there would be hidden"
        )));
    }
    if at_or_below(&guest, "/.unify") {
        return Err(usage("/.unify is reserved for the manifest"));
    }
    if guest == "/" && !meta.is_dir() {
        return Err(usage("only a directory can be copied to /"));
    }
    Ok(Volume { spec: shown, host, guest, read_only, is_dir: meta.is_dir() })
}

/// Adds every volume to `builder`. Symbolic links and special files in directories are
/// left out with a warning on stderr; a name FAT cannot store, or two names that differ
/// only in case, is an error.
pub fn add_all(builder: &mut ImageBuilder, volumes: &[Volume]) -> Result<(), Failure> {
    for v in volumes {
        let failed = |e: BuildError| image::failure(e, &format!("-v {}", v.spec));
        if !v.is_dir {
            builder.add_file(&v.guest, v.host.clone()).map_err(failed)?;
            continue;
        }
        let warnings = builder.add_dir_tree(&v.host, &v.guest).map_err(failed)?;
        let mut shown = 0;
        for w in &warnings {
            match w {
                Warning::BadName { .. } | Warning::CaseCollision { .. } => {
                    return Err(Failure::usage(format!("-v {}: {w}", v.spec)));
                }
                Warning::Symlink(_) | Warning::Special(_) => {
                    if shown < MAX_WARNINGS {
                        eprintln!("unify: warning: -v {}: {w}", v.spec);
                    }
                    shown += 1;
                }
            }
        }
        if shown > MAX_WARNINGS {
            eprintln!("unify: warning: -v {}: {} more left out", v.spec, shown - MAX_WARNINGS);
        }
    }
    Ok(())
}

/// The manifest's read-only list after these volumes: entries at or below a path a volume
/// replaces are dropped, and every `:ro` volume is added.
pub fn merge_read_only(extra: &mut Vec<(String, Vec<u8>)>, volumes: &[Volume]) {
    let key = ImageBuilder::READ_ONLY_KEY;
    extra.retain(|(k, v)| k != key || !volumes.iter().any(|vol| at_or_below(&String::from_utf8_lossy(v), &vol.guest)));
    for v in volumes.iter().filter(|v| v.read_only) {
        extra.push((key.to_string(), v.guest.clone().into_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below() {
        assert!(at_or_below("/data", "/data"));
        assert!(at_or_below("/DATA/x", "/data"));
        assert!(!at_or_below("/database", "/data"));
        assert!(at_or_below("/anything", "/"));
    }

    #[test]
    fn read_only_entries_follow_the_volumes() {
        let key = ImageBuilder::READ_ONLY_KEY.to_string();
        let mut extra = vec![
            (key.clone(), b"/data/sub".to_vec()),
            (key.clone(), b"/keep".to_vec()),
            ("other".to_string(), b"/data".to_vec()),
        ];
        let vol = |guest: &str, read_only| Volume {
            spec: String::new(),
            host: PathBuf::new(),
            guest: guest.into(),
            read_only,
            is_dir: true,
        };
        merge_read_only(&mut extra, &[vol("/data", false), vol("/cfg", true)]);
        assert_eq!(
            extra,
            [(key.clone(), b"/keep".to_vec()), ("other".to_string(), b"/data".to_vec()), (key, b"/cfg".to_vec())]
        );
    }
}
