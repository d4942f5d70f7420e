//! Debian's cloud kernel (`linux-image-cloud-amd64`), fetched once with apt and cached.
//!
//! `linux-image-cloud-amd64` is a metapackage; `apt-cache depends` names the real package
//! (`linux-image-<abi>-cloud-amd64`), which `apt-get download` fetches into the cache
//! directory (no root needed) and `dpkg-deb -x` unpacks there: `boot/vmlinuz-*` (the
//! bzImage), `boot/config-*`, `lib/modules/<version>/`. Later runs find the unpacked tree
//! and need neither apt nor the network.
//!
//! The bzImage's payload is the compressed ELF `vmlinux`, which carries the PVH entry note
//! (`CONFIG_PVH=y`): [`LinuxKernel::pvh_vmlinux`] unpacks it so QEMU can also boot Linux
//! the way it boots unify-kernel, straight into 32-bit protected mode, skipping the
//! bzImage's real-mode setup and in-guest decompression.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use goblin::elf::Elf;

pub const METAPACKAGE: &str = "linux-image-cloud-amd64";

/// An unpacked Debian kernel package.
pub struct LinuxKernel {
    /// e.g. `linux-image-6.1.0-56-cloud-amd64`.
    pub package: String,
    /// The kernel release, e.g. `6.1.0-56-cloud-amd64`.
    pub release: String,
    /// `boot/vmlinuz-<release>`.
    pub bzimage: PathBuf,
    /// `boot/config-<release>`.
    pub config: PathBuf,
    /// `lib/modules/<release>`.
    pub modules: PathBuf,
    /// The cache directory of this package.
    dir: PathBuf,
}

/// Finds the kernel in `cache` (`cache/linux/<package>/root`), or fetches it with apt when
/// it is not there or `refresh` is set.
pub fn kernel(cache: &Path, refresh: bool) -> Result<LinuxKernel, String> {
    let base = cache.join("linux");
    if !refresh {
        if let Some(k) = cached(&base)? {
            return Ok(k);
        }
    }
    let package = resolve_metapackage()?;
    let dir = base.join(&package);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    eprintln!("bench-vm: fetching {package} (the dependency of {METAPACKAGE}) with apt-get download");
    run(Command::new("apt-get").args(["download", "-q", &package]).current_dir(&dir), "apt-get download")?;
    let deb = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| format!("apt-get download left no .deb in {}", dir.display()))?;
    let root = dir.join("root");
    let _ = fs::remove_dir_all(&root);
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root), "dpkg-deb -x")?;
    fs::write(base.join("current"), &package).map_err(|e| format!("{}: {e}", base.display()))?;
    load(&dir, &package)
}

fn cached(base: &Path) -> Result<Option<LinuxKernel>, String> {
    let Ok(package) = fs::read_to_string(base.join("current")) else {
        return Ok(None);
    };
    let package = package.trim();
    match load(&base.join(package), package) {
        Ok(k) => Ok(Some(k)),
        Err(_) => Ok(None),
    }
}

fn load(dir: &Path, package: &str) -> Result<LinuxKernel, String> {
    let boot = dir.join("root/boot");
    let bzimage = fs::read_dir(&boot)
        .map_err(|e| format!("{}: {e}", boot.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("vmlinuz-")))
        .ok_or_else(|| format!("no vmlinuz-* in {}", boot.display()))?;
    let release = bzimage.file_name().unwrap().to_str().unwrap()["vmlinuz-".len()..].to_string();
    Ok(LinuxKernel {
        package: package.to_string(),
        config: boot.join(format!("config-{release}")),
        modules: dir.join("root/lib/modules").join(&release),
        release,
        bzimage,
        dir: dir.to_path_buf(),
    })
}

/// `apt-cache depends linux-image-cloud-amd64` → `linux-image-<abi>-cloud-amd64`.
fn resolve_metapackage() -> Result<String, String> {
    let out = Command::new("apt-cache")
        .args(["depends", METAPACKAGE])
        .output()
        .map_err(|e| format!("apt-cache: {e} (is this a Debian system?)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends:"))
        .map(|d| d.trim().trim_start_matches('<').trim_end_matches('>').to_string())
        .find(|d| d.starts_with("linux-image-") && d != METAPACKAGE)
        .ok_or_else(|| {
            format!(
                "apt-cache depends {METAPACKAGE} names no linux-image package (run `apt-get update` \
                 first?): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl LinuxKernel {
    /// `CONFIG_NAME`'s value in the kernel's config (`y`, `m`, a string), None if unset.
    pub fn config_value(&self, name: &str) -> Option<String> {
        let text = fs::read_to_string(&self.config).ok()?;
        let prefix = format!("{name}=");
        text.lines().find_map(|l| l.strip_prefix(&prefix)).map(str::to_string)
    }

    /// The ELF vmlinux inside the bzImage (booted through its PVH note), unpacked once
    /// into the cache.
    pub fn pvh_vmlinux(&self) -> Result<PathBuf, String> {
        let out = self.dir.join(format!("vmlinux-{}", self.release));
        if out.exists() {
            return Ok(out);
        }
        let image = fs::read(&self.bzimage).map_err(|e| format!("{}: {e}", self.bzimage.display()))?;
        let payload = bzimage_payload(&image)?;
        let (tool, args): (&str, &[&str]) = match payload {
            [0x1f, 0x8b, ..] => ("gzip", &["-dc"]),
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => ("xz", &["-dc"]),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => ("zstd", &["-dcq"]),
            [0x02, 0x21, 0x4c, 0x18, ..] => ("lz4", &["-dc"]),
            [b'B', b'Z', b'h', ..] => ("bzip2", &["-dc"]),
            _ => return Err("the bzImage's payload is in a compression this tool does not know".into()),
        };
        let mut child = Command::new(tool)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{tool}: {e} (needed to unpack vmlinux from the bzImage)"))?;
        let mut stdin = child.stdin.take().unwrap();
        let payload = payload.to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&payload);
        });
        // Trailing bytes after the compressed stream (the kernel appends the size) make
        // some tools exit non-zero after a complete output: the ELF check decides.
        let out_bytes = child.wait_with_output().map_err(|e| format!("{tool}: {e}"))?.stdout;
        let _ = feeder.join();
        check_pvh_elf(&out_bytes)?;
        let tmp = out.with_extension("tmp");
        fs::write(&tmp, &out_bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
        fs::rename(&tmp, &out).map_err(|e| format!("{}: {e}", out.display()))?;
        Ok(out)
    }

    /// The `.ko` files to load, in order, for `names` and what they depend on (each
    /// module's `.modinfo` `depends=`), dependencies first.
    pub fn modules_for(&self, names: &[&str]) -> Result<Vec<PathBuf>, String> {
        let mut index = Vec::new();
        collect_ko(&self.modules.join("kernel"), &mut index).map_err(|e| format!("{}: {e}", self.modules.display()))?;
        let mut order = Vec::new();
        for name in names {
            self.visit(name, &index, &mut order, 0)?;
        }
        Ok(order)
    }

    fn visit(&self, name: &str, index: &[PathBuf], order: &mut Vec<PathBuf>, depth: u32) -> Result<(), String> {
        if depth > 32 {
            return Err(format!("module dependencies loop at {name}"));
        }
        let want = name.replace('-', "_");
        let path = index
            .iter()
            .find(|p| p.file_stem().and_then(|s| s.to_str()).is_some_and(|s| s.replace('-', "_") == want))
            .ok_or_else(|| {
                let builtin = fs::read_to_string(self.modules.join("modules.builtin")).unwrap_or_default();
                if builtin.lines().any(|l| l.ends_with(&format!("/{want}.ko"))) {
                    format!("{name} is built into this kernel (no module needed)")
                } else {
                    format!("no module {name} in {}", self.modules.display())
                }
            })?;
        if order.contains(path) {
            return Ok(());
        }
        let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for dep in module_depends(&bytes)? {
            self.visit(&dep, index, order, depth + 1)?;
        }
        order.push(path.clone());
        Ok(())
    }
}

fn collect_ko(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect_ko(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "ko") {
            out.push(p);
        }
    }
    Ok(())
}

/// A module's `depends=` list, from its `.modinfo` section (NUL-separated `key=value`).
fn module_depends(ko: &[u8]) -> Result<Vec<String>, String> {
    let elf = Elf::parse(ko).map_err(|e| format!("module: {e}"))?;
    for sh in &elf.section_headers {
        if elf.shdr_strtab.get_at(sh.sh_name) != Some(".modinfo") {
            continue;
        }
        let range = sh.file_range().ok_or("module: empty .modinfo")?;
        let data = ko.get(range).ok_or("module: .modinfo out of bounds")?;
        for entry in data.split(|&b| b == 0) {
            if let Some(deps) = entry.strip_prefix(b"depends=") {
                let deps = String::from_utf8_lossy(deps);
                return Ok(deps.split(',').filter(|d| !d.is_empty()).map(str::to_string).collect());
            }
        }
        return Ok(Vec::new());
    }
    Err("module without .modinfo".into())
}

/// The compressed vmlinux inside a bzImage (boot protocol ≥ 2.08: `payload_offset` and
/// `payload_length` in the setup header, relative to the protected-mode code, which
/// starts after `setup_sects` + 1 sectors).
pub fn bzimage_payload(image: &[u8]) -> Result<&[u8], String> {
    let u32_at = |o: usize| image.get(o..o + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    if image.get(0x202..0x206) != Some(b"HdrS") {
        return Err("not a bzImage (no HdrS header)".into());
    }
    let version = image.get(0x206..0x208).map(|b| u16::from_le_bytes([b[0], b[1]])).unwrap_or(0);
    if version < 0x208 {
        return Err(format!("boot protocol {version:#x} has no payload fields"));
    }
    let setup_sects = match image[0x1f1] {
        0 => 4,
        n => n as usize,
    };
    let pm_start = (setup_sects + 1) * 512;
    let offset = u32_at(0x248).ok_or("truncated bzImage")? as usize;
    let length = u32_at(0x24c).ok_or("truncated bzImage")? as usize;
    image
        .get(pm_start + offset..pm_start + offset + length)
        .ok_or_else(|| "the bzImage's payload lies outside the file".to_string())
}

/// Checks that `bytes` is an x86-64 ELF with a PVH entry note (`XEN_ELFNOTE_PHYS32_ENTRY`).
fn check_pvh_elf(bytes: &[u8]) -> Result<(), String> {
    let elf = Elf::parse(bytes).map_err(|e| format!("the unpacked vmlinux is not an ELF: {e}"))?;
    const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
    let has_pvh = elf
        .iter_note_headers(bytes)
        .into_iter()
        .flatten()
        .flatten()
        .any(|n| n.name == "Xen" && n.n_type == XEN_ELFNOTE_PHYS32_ENTRY);
    if has_pvh {
        Ok(())
    } else {
        Err("the vmlinux has no PVH entry note (CONFIG_PVH off?)".into())
    }
}
