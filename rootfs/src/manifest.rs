//! The image manifest: what to run and how, stored at [`MANIFEST_PATH`] in the image.
//!
//! # Format
//!
//! Text, one `key=value` per line (LF; a CR before the LF is ignored), read the same way
//! by the tools (std) and the libOS (no_std). The key runs to the first `=`; everything after
//! it is the value, so values may contain `=`. Lines that are empty or start with `#` are
//! ignored.
//!
//! Values are byte strings written with percent escapes: `%` followed by two hex digits is
//! that byte. [`Manifest::render`] escapes `%` and every byte outside `!`..=`~` (so spaces,
//! newlines, control characters and non-ASCII bytes — UTF-8 or not — all become `%XX`), which
//! makes a manifest plain ASCII with one entry per line whatever the strings hold. The parser
//! also accepts those bytes unescaped, except LF, for hand-written manifests.
//!
//! | key | times | value |
//! |---|---|---|
//! | `version` | 0–1 | `1` (a missing version means 1; others are refused) |
//! | `program` | 1 | the program's path in the image, e.g. `/bin/server` (UTF-8) |
//! | `arg` | any | one `argv` entry, in order (`argv[0]` included) |
//! | `env` | any | one environment entry `NAME=value`, in order |
//! | `cwd` | 0–1 | the working directory (UTF-8); default `/` |
//! | `port` | any | reserved: a forwarded port `HOST:GUEST`, optionally `/tcp` or `/udp` |
//! | `memory` | 0–1 | reserved: guest memory in bytes (decimal) |
//! | `net` | 0–1 | the VM's network, `unify build --net`'s value (UTF-8; tools/unify/src/network.rs) |
//!
//! Other keys (letters, digits, `_`, `-`, `.`) are kept in [`Manifest::extra`] and written
//! back, so older tools preserve what newer ones add.
//!
//! ```text
//! # unify image manifest
//! version=1
//! program=/bin/server
//! arg=/bin/server
//! arg=--greeting=hello%20world
//! env=PATH=/bin
//! cwd=/data
//! port=8080:80/tcp
//! memory=536870912
//! net=tap=tap0,ip=192.168.100.2/24,gw=192.168.100.1
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Where the manifest lives in an image.
pub const MANIFEST_PATH: &str = "/.unify/manifest";

/// The transport of a forwarded port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
}

/// A forwarded port (reserved for the network work).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortMapping {
    /// The port on the host.
    pub host: u16,
    /// The port in the guest.
    pub guest: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

/// What to run: see the [module documentation](self) for the file format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The program's path in the image.
    pub program: String,
    /// `argv`, including `argv[0]`.
    pub argv: Vec<Vec<u8>>,
    /// The environment, `NAME=value` entries.
    pub env: Vec<Vec<u8>>,
    /// The working directory.
    pub cwd: String,
    /// Forwarded ports (reserved).
    pub ports: Vec<PortMapping>,
    /// Guest memory in bytes (reserved).
    pub memory: Option<u64>,
    /// The VM's network, `--net`'s value (the tools check it; the kernel gets what it
    /// means on its command line).
    pub net: Option<String>,
    /// Keys this version does not know, in order, with their decoded values.
    pub extra: Vec<(String, Vec<u8>)>,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            program: String::new(),
            argv: Vec::new(),
            env: Vec::new(),
            cwd: String::from("/"),
            ports: Vec::new(),
            memory: None,
            net: None,
            extra: Vec::new(),
        }
    }
}

/// Why a manifest did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// The 1-based line (0 for the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "manifest: {}", self.reason)
        } else {
            write!(f, "manifest line {}: {}", self.line, self.reason)
        }
    }
}

impl core::error::Error for ManifestError {}

fn hex(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    }
}

fn unescape(v: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%' {
            let hi = hex(*v.get(i + 1)?)?;
            let lo = hex(*v.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    Some(out)
}

fn escape_into(out: &mut Vec<u8>, v: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in v {
        if b == b'%' || !(b'!'..=b'~').contains(&b) {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        } else {
            out.push(b);
        }
    }
}

fn parse_port(v: &[u8]) -> Option<PortMapping> {
    let s = core::str::from_utf8(v).ok()?;
    let (ports, protocol) = match s.split_once('/') {
        None => (s, Protocol::Tcp),
        Some((p, "tcp")) => (p, Protocol::Tcp),
        Some((p, "udp")) => (p, Protocol::Udp),
        Some(_) => return None,
    };
    let (host, guest) = ports.split_once(':')?;
    Some(PortMapping { host: host.parse().ok()?, guest: guest.parse().ok()?, protocol })
}

impl Manifest {
    /// Parses a manifest (see the [module documentation](self)).
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let (mut have_program, mut have_cwd, mut have_version) = (false, false, false);
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let err = |reason| ManifestError { line: i + 1, reason };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let eq = line.iter().position(|&b| b == b'=').ok_or(err("expected key=value"))?;
            let (key, raw) = (&line[..eq], &line[eq + 1..]);
            let key_ok = !key.is_empty()
                && key.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
            // The check above makes the key ASCII.
            let key = core::str::from_utf8(key).ok().filter(|_| key_ok).ok_or(err("bad key"))?;
            let value = unescape(raw).ok_or(err("bad %-escape (want % and two hex digits)"))?;
            let utf8 = |v: Vec<u8>| String::from_utf8(v).map_err(|_| err("value must be UTF-8"));
            let once =
                |seen: &mut bool| if core::mem::replace(seen, true) { Err(err("key given twice")) } else { Ok(()) };
            match key {
                "version" => {
                    once(&mut have_version)?;
                    if value != b"1" {
                        return Err(err("unsupported manifest version (this unify reads 1)"));
                    }
                }
                "program" => {
                    once(&mut have_program)?;
                    m.program = utf8(value)?;
                }
                "cwd" => {
                    once(&mut have_cwd)?;
                    m.cwd = utf8(value)?;
                }
                "arg" => m.argv.push(value),
                "env" => m.env.push(value),
                "port" => m.ports.push(parse_port(&value).ok_or(err("port wants HOST:GUEST[/tcp|/udp]"))?),
                "memory" => {
                    if m.memory.is_some() {
                        return Err(err("key given twice"));
                    }
                    let n = core::str::from_utf8(&value).ok().and_then(|s| s.parse().ok());
                    m.memory = Some(n.ok_or(err("memory wants a number of bytes"))?);
                }
                "net" => {
                    if m.net.is_some() {
                        return Err(err("key given twice"));
                    }
                    m.net = Some(utf8(value)?);
                }
                _ => m.extra.push((String::from(key), value)),
            }
        }
        if !have_program {
            return Err(ManifestError { line: 0, reason: "no program= line" });
        }
        Ok(m)
    }

    /// The manifest as text (see the [module documentation](self)); `parse` gives back an
    /// equal manifest.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut line = |key: &str, value: &[u8]| {
            out.extend_from_slice(key.as_bytes());
            out.push(b'=');
            escape_into(&mut out, value);
            out.push(b'\n');
        };
        line("version", b"1");
        line("program", self.program.as_bytes());
        for a in &self.argv {
            line("arg", a);
        }
        for e in &self.env {
            line("env", e);
        }
        line("cwd", self.cwd.as_bytes());
        for p in &self.ports {
            let proto = match p.protocol {
                Protocol::Tcp => "tcp",
                Protocol::Udp => "udp",
            };
            line("port", alloc::format!("{}:{}/{}", p.host, p.guest, proto).as_bytes());
        }
        if let Some(mem) = self.memory {
            line("memory", alloc::format!("{mem}").as_bytes());
        }
        if let Some(net) = &self.net {
            line("net", net.as_bytes());
        }
        for (k, v) in &self.extra {
            line(k, v);
        }
        let mut text = b"# unify image manifest (see rootfs/src/manifest.rs)\n".to_vec();
        text.extend_from_slice(&out);
        text
    }
}
