//! Per-run working directories. Each run of a case that has a fixture gets a fresh copy
//! of it (a committed fixture directory, the generated rg tree, or nothing: an empty
//! directory), so what one run writes never reaches the other run or the next case.
//!
//! The copies live outside the source tree, in a directory of this runner's own under
//! the system's temporary directory: inside the git checkout, programs that honour
//! `.gitignore` files of parent directories (rg does) would see the repository's rules,
//! which the copy under unify (at `/work`) does not have.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// This runner's directory for run copies: `<tmp>/compat-runner-<pid>/<case>/<side>`.
pub fn runs_base() -> PathBuf {
    std::env::temp_dir().join(format!("compat-runner-{}", std::process::id()))
}

/// Makes `dest` a fresh copy of `src` (or a fresh empty directory): whatever was at
/// `dest` before is removed first.
pub fn fresh(src: Option<&Path>, dest: &Path) -> Result<(), String> {
    remove(dest)?;
    let made = match src {
        Some(src) => copy_tree(src, dest),
        None => fs::create_dir_all(dest),
    };
    made.map_err(|e| format!("preparing {}: {e}", dest.display()))
}

/// Removes a run directory (nothing there is fine).
pub fn remove(dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", dir.display())),
    }
}

/// Copies a directory tree: directories, regular files (with their permissions) and
/// symbolic links (as links). Other file types are left out.
pub fn copy_tree(src: &Path, dest: &Path) -> io::Result<()> {
    fs::create_dir_all(dest)?;
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let ty = entry.file_type()?;
        let to = dest.join(entry.file_name());
        if ty.is_dir() {
            copy_tree(&entry.path(), &to)?;
        } else if ty.is_file() {
            fs::copy(entry.path(), &to)?;
        } else if ty.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("compat-runner-fixture-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn copies_are_fresh_and_independent() {
        let root = scratch("copy");
        let src = root.join("src");
        fs::create_dir_all(src.join("a/b")).unwrap();
        fs::write(src.join("top.txt"), "top").unwrap();
        fs::write(src.join("a/b/deep.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(src.join("a/b/deep.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("top.txt", src.join("link")).unwrap();

        let one = root.join("runs/one");
        fresh(Some(&src), &one).unwrap();
        assert_eq!(fs::read_to_string(one.join("top.txt")).unwrap(), "top");
        assert_eq!(fs::metadata(one.join("a/b/deep.sh")).unwrap().permissions().mode() & 0o777, 0o755);
        assert_eq!(fs::read_link(one.join("link")).unwrap(), PathBuf::from("top.txt"));

        // A run writes into its copy; the next fresh copy does not see it.
        fs::write(one.join("written.txt"), "x").unwrap();
        fs::write(one.join("top.txt"), "changed").unwrap();
        fresh(Some(&src), &one).unwrap();
        assert!(!one.join("written.txt").exists());
        assert_eq!(fs::read_to_string(one.join("top.txt")).unwrap(), "top");
        assert_eq!(fs::read_to_string(src.join("top.txt")).unwrap(), "top");

        let empty = root.join("runs/empty");
        fresh(None, &empty).unwrap();
        assert_eq!(fs::read_dir(&empty).unwrap().count(), 0);
        remove(&root.join("runs")).unwrap();
        remove(&root.join("runs")).unwrap();
        assert!(!root.join("runs").exists());
        fs::remove_dir_all(&root).unwrap();
    }
}
