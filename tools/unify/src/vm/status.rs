//! How the VM ended: the kernel's exit record checked against QEMU's exit code
//! (libos/metal/README.md, "Exit status").
//!
//! The kernel's last log line is `unify-kernel: exit status S (CAUSE)` (S in 0..=255) or
//! `unify-kernel: killed by signal N (CAUSE)`; it then writes `S & 0x7f` (or
//! `(128 + N) & 0x7f`) to `isa-debug-exit`, which makes QEMU exit with `(v << 1) | 1`.
//! The record carries the full status; QEMU's code confirms it. An even code (a triple
//! fault under `-no-reboot` exits 0), a missing record, or the two disagreeing means the
//! VM stopped without a report.

use std::collections::VecDeque;
use std::process::ExitStatus;

/// What the kernel's exit record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Exited(u8),
    Killed(u8),
}

impl Record {
    /// Parses one log line.
    pub fn parse(line: &str) -> Option<Record> {
        let rest = line.trim_end_matches(['\r', '\n']).strip_prefix("unify-kernel: ")?;
        let (make, rest): (fn(u8) -> Record, &str) = if let Some(r) = rest.strip_prefix("exit status ") {
            (Record::Exited, r)
        } else if let Some(r) = rest.strip_prefix("killed by signal ") {
            (Record::Killed, r)
        } else {
            return None;
        };
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits);
        if !(after.is_empty() || after.starts_with(' ')) || number.is_empty() || number.len() > 3 {
            return None;
        }
        let n: u16 = number.parse().ok()?;
        let record = make(u8::try_from(n).ok()?);
        match record {
            Record::Killed(0) => None,
            Record::Killed(s) if s >= 128 => None,
            r => Some(r),
        }
    }

    /// The value the kernel writes to `isa-debug-exit`.
    fn debug_exit_value(self) -> u8 {
        match self {
            Record::Exited(s) => s & 0x7f,
            Record::Killed(n) => n.wrapping_add(128) & 0x7f,
        }
    }

    /// QEMU's exit code when the kernel reported this.
    pub fn qemu_code(self) -> i32 {
        (i32::from(self.debug_exit_value()) << 1) | 1
    }
}

/// How a VM run ended, for unify's own exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The guest (or the kernel, 125) exited with this status.
    Exited(u8),
    /// The guest was killed by this signal.
    Killed(u8),
    /// No trustworthy report: why, in one line.
    NoReport(String),
}

/// Decides the outcome from the last exit record of the log and how QEMU ended.
pub fn outcome(record: Option<Record>, qemu: ExitStatus) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let Some(code) = qemu.code() else {
        let sig = qemu.signal().unwrap_or(0);
        return Outcome::NoReport(format!(
            "the VM stopped without reporting a status (QEMU was killed by signal {sig})"
        ));
    };
    match record {
        None => Outcome::NoReport(format!("the VM stopped without reporting a status (QEMU exited with {code})")),
        Some(_) if code % 2 == 0 => Outcome::NoReport(format!(
            "the VM stopped without reporting a status (QEMU exited with {code}, not through the exit device)"
        )),
        Some(r) if r.qemu_code() != code => Outcome::NoReport(format!(
            "the VM stopped without reporting a status (the kernel's record {r:?} does not match QEMU's exit code {code})"
        )),
        Some(Record::Exited(s)) => Outcome::Exited(s),
        Some(Record::Killed(n)) => Outcome::Killed(n),
    }
}

/// The last lines of a text stream, and its last exit record.
#[derive(Debug, Default)]
pub struct LogTail {
    lines: VecDeque<String>,
    partial: Vec<u8>,
    pub record: Option<Record>,
    /// Bytes seen in all.
    pub bytes: usize,
}

/// Lines a failure report shows.
pub const TAIL_LINES: usize = 20;
/// A longer line is cut here (the kernel writes short lines; this bounds memory).
const MAX_LINE: usize = 4096;

impl LogTail {
    /// Takes the next bytes; calls `line` with each completed line (without its `\n`).
    pub fn feed(&mut self, mut bytes: &[u8], mut line: impl FnMut(&str)) {
        self.bytes += bytes.len();
        while let Some(nl) = bytes.iter().position(|&b| b == b'\n') {
            self.push_partial(&bytes[..nl]);
            self.finish_line(&mut line);
            bytes = &bytes[nl + 1..];
        }
        self.push_partial(bytes);
    }

    /// The stream ended: a last line without `\n` still counts.
    pub fn end(&mut self, line: impl FnMut(&str)) {
        if !self.partial.is_empty() {
            let mut line = line;
            self.finish_line(&mut line);
        }
    }

    fn push_partial(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.partial.len());
        self.partial.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn finish_line(&mut self, line: &mut impl FnMut(&str)) {
        let text = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial.clear();
        if let Some(r) = Record::parse(&text) {
            self.record = Some(r);
        }
        line(&text);
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(text);
    }

    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(String::as_str)
    }
}

/// Ends unify by signal `sig`, as the hosted platform does when its guest is killed
/// (`libos_hosted::die_by_signal`), after flushing what unify wrote to stdout.
pub fn die_by_signal(sig: u8) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    libos_hosted::die_by_signal(i32::from(sig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn exited(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn records() {
        assert_eq!(Record::parse("unify-kernel: exit status 3 (no guest program yet)"), Some(Record::Exited(3)));
        assert_eq!(Record::parse("unify-kernel: exit status 255 (the guest exited)\n"), Some(Record::Exited(255)));
        assert_eq!(Record::parse("unify-kernel: exit status 0"), Some(Record::Exited(0)));
        assert_eq!(Record::parse("unify-kernel: killed by signal 11 (SIGSEGV)"), Some(Record::Killed(11)));
        for bad in [
            "unify-kernel: exit status 256 (x)",
            "unify-kernel: exit status -1 (x)",
            "unify-kernel: exit status (x)",
            "unify-kernel: exit status 3x",
            "unify-kernel: exit status 0003 (x)",
            "unify-kernel: killed by signal 0 (x)",
            "unify-kernel: killed by signal 200 (x)",
            "guest: unify-kernel: exit status 3 (x)",
            "unify-kernel 0.1.0 (PVH, x86-64)",
        ] {
            assert_eq!(Record::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn qemu_codes() {
        assert_eq!(Record::Exited(0).qemu_code(), 1);
        assert_eq!(Record::Exited(3).qemu_code(), 7);
        assert_eq!(Record::Exited(125).qemu_code(), 251);
        // 139 (a segfault seen by a shell) carries only its low 7 bits: 11 → 23.
        assert_eq!(Record::Exited(139).qemu_code(), 23);
        assert_eq!(Record::Killed(11).qemu_code(), 23);
    }

    #[test]
    fn outcomes() {
        assert_eq!(outcome(Some(Record::Exited(3)), exited(7)), Outcome::Exited(3));
        assert_eq!(outcome(Some(Record::Killed(11)), exited(23)), Outcome::Killed(11));
        assert_eq!(outcome(Some(Record::Exited(200)), exited((200 & 0x7f) << 1 | 1)), Outcome::Exited(200));
        for (record, code) in [(None, 7), (Some(Record::Exited(3)), 0), (Some(Record::Exited(3)), 9), (None, 1)] {
            assert!(matches!(outcome(record, exited(code)), Outcome::NoReport(_)), "{record:?} {code}");
        }
        let killed = outcome(Some(Record::Exited(0)), ExitStatus::from_raw(9));
        assert_eq!(
            killed,
            Outcome::NoReport("the VM stopped without reporting a status (QEMU was killed by signal 9)".into())
        );
    }

    #[test]
    fn tails() {
        let mut t = LogTail::default();
        let mut seen = Vec::new();
        t.feed(b"a\nb", |l| seen.push(l.to_string()));
        t.feed(b"c\nunify-kernel: exit status 4 (x)\n", |l| seen.push(l.to_string()));
        t.feed(b"last", |l| seen.push(l.to_string()));
        t.end(|l| seen.push(l.to_string()));
        assert_eq!(seen, ["a", "bc", "unify-kernel: exit status 4 (x)", "last"]);
        assert_eq!(t.record, Some(Record::Exited(4)));
        assert_eq!(t.bytes, 41);
        for i in 0..30 {
            t.feed(format!("{i}\n").as_bytes(), |_| {});
        }
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines[0], "10");
        assert_eq!(lines[TAIL_LINES - 1], "29");
    }
}
