//! The generated `/etc`: what libc and runtimes read to resolve names, users and the
//! time zone.
//!
//! | file | contents |
//! |---|---|
//! | `hosts` | `localhost` on 127.0.0.1 and ::1, the host name on 127.0.1.1 (Debian's convention) |
//! | `hostname` | the host name `uname` reports |
//! | `passwd`, `group` | root, and the guest's uid/gid as `user` when not 0 |
//! | `resolv.conf` | a `nameserver` line per server the platform names ([`Platform::nameservers`]) |
//! | `nsswitch.conf` | `files` for users and groups, `files dns` for hosts |
//! | `os-release` | `ID=unify`, the libOS version |
//! | `localtime`, `timezone` | UTC (a TZif file, `Etc/UTC`) |
//!
//! The root image may bring an `/etc` of its own (the user's files). Its files always
//! win: a generated file is added only where the image's `/etc` has no file of that
//! name. When the image's `/etc` is empty or missing — the usual case — a tmpfs is
//! mounted there and filled, so nothing is written into the image; otherwise the
//! missing files are written into the image's `/etc` beside the user's (if that
//! fails, as on a read-only root, the platform logs why and `/etc` stays as it was).

use alloc::format;
use alloc::vec::Vec;

use super::tzif;
use crate::platform::{HostInfo, Platform};
use crate::vfs::oflags::{O_CREAT, O_EXCL, O_WRONLY};
use crate::vfs::{At, Clock, MountFlags, TmpFs, Vfs};
use crate::Errno;

/// The name `passwd` and `group` give a guest uid or gid that is not 0.
const USER: &str = "user";

/// Every generated file: its name in `/etc` and its bytes.
pub(crate) fn files(host: &HostInfo, nameservers: &[Vec<u8>]) -> Vec<(&'static str, Vec<u8>)> {
    let uts = crate::ident::uname(host);
    let len = uts.nodename.iter().position(|&b| b == 0).unwrap_or(uts.nodename.len());
    let hostname = alloc::string::String::from_utf8_lossy(&uts.nodename[..len]).into_owned();
    let mut passwd = alloc::string::String::from("root:x:0:0:root:/root:/bin/sh\n");
    if host.uid != 0 {
        passwd += &format!("{USER}:x:{}:{}:{USER}:/home/{USER}:/bin/sh\n", host.uid, host.gid);
    }
    let mut group = alloc::string::String::from("root:x:0:\n");
    if host.gid != 0 {
        group += &format!("{USER}:x:{}:\n", host.gid);
    }
    let mut resolv = Vec::new();
    for server in nameservers {
        resolv.extend_from_slice(b"nameserver ");
        resolv.extend_from_slice(server);
        resolv.push(b'\n');
    }
    let version = env!("CARGO_PKG_VERSION");
    alloc::vec![
        ("hostname", format!("{hostname}\n").into_bytes()),
        (
            "hosts",
            format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n")
                .into_bytes()
        ),
        ("passwd", passwd.into_bytes()),
        ("group", group.into_bytes()),
        ("resolv.conf", resolv),
        ("nsswitch.conf", b"passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n".to_vec()),
        (
            "os-release",
            format!("NAME=\"unify\"\nID=unify\nVERSION_ID=\"{version}\"\nPRETTY_NAME=\"unify {version}\"\n")
                .into_bytes()
        ),
        ("localtime", tzif::utc()),
        ("timezone", b"Etc/UTC\n".to_vec()),
    ]
}

/// Whether the directory at `/etc` is missing or has nothing in it.
fn etc_is_empty(vfs: &Vfs) -> Result<bool, Errno> {
    let etc = match vfs.lookup(&At::Cwd, b"/etc", true) {
        Ok(d) => d,
        Err(Errno::ENOENT) => return Ok(true),
        Err(e) => return Err(e),
    };
    if !etc.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let mut empty = true;
    etc.inode().read_dir(0, &mut |entry| {
        empty = matches!(entry.name, b"." | b"..");
        empty
    })?;
    Ok(empty)
}

/// Writes `bytes` to a new `/etc/<name>`; EEXIST if the image has one.
fn add_file(vfs: &Vfs, name: &str, bytes: &[u8]) -> Result<(), Errno> {
    let path = format!("/etc/{name}");
    let file = vfs.open(&At::Cwd, path.as_bytes(), O_WRONLY | O_CREAT | O_EXCL, 0o644)?;
    let mut done = 0;
    while done < bytes.len() {
        done += file.write(&bytes[done..], false)?;
    }
    Ok(())
}

/// Puts the generated files in `/etc` (see the module docs).
pub(crate) fn populate(vfs: &Vfs, platform: &dyn Platform, clock: Clock) -> Result<(), Errno> {
    match etc_is_empty(vfs) {
        Ok(true) => {
            vfs.mount(b"/etc", TmpFs::new(clock), MountFlags::default(), b"tmpfs")?;
            vfs.chmod(&At::Cwd, b"/etc", 0o755, true)?;
        }
        Ok(false) => {}
        // An /etc that is not a directory is the image's business.
        Err(Errno::ENOTDIR) => return Ok(()),
        Err(e) => return Err(e),
    }
    for (name, bytes) in files(&platform.host_info(), &platform.nameservers()) {
        match add_file(vfs, name, &bytes) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => {
                platform.log(&format!("unify: /etc/{name} could not be generated ({e:?}); /etc is the image's alone"));
                return Ok(());
            }
        }
    }
    Ok(())
}
