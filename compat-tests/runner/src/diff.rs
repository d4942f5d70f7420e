//! Comparing two runs of the same case: exit status, stdout and (for cases that ask for
//! it) stderr, with one human-readable reason per difference.

use crate::cases::Expected;
use crate::exec::{Outcome, Status};

/// Longest excerpt of a differing line shown in a message.
const MAX_EXCERPT: usize = 120;

/// The first line at which two outputs differ.
#[derive(Debug, PartialEq, Eq)]
pub struct Difference {
    /// 1-based line number.
    pub line: usize,
    /// The line in the first output, or `None` if that output ended before it.
    pub left: Option<String>,
    pub right: Option<String>,
}

/// Splits into lines keeping the terminator, so "a\n" and "a" differ (at line 1).
fn lines(s: &[u8]) -> Vec<&[u8]> {
    s.split_inclusive(|&b| b == b'\n').collect()
}

/// Finds the first differing line, or `None` if the outputs are identical.
pub fn first_difference(left: &[u8], right: &[u8]) -> Option<Difference> {
    if left == right {
        return None;
    }
    let (l, r) = (lines(left), lines(right));
    let mut i = 0;
    while i < l.len() && i < r.len() && l[i] == r[i] {
        i += 1;
    }
    Some(Difference { line: i + 1, left: l.get(i).map(|s| excerpt(s)), right: r.get(i).map(|s| excerpt(s)) })
}

/// A printable, quoted, bounded rendering of one line (the newline shown as `\n`).
fn excerpt(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let mut s = format!("{text:?}");
    if s.chars().count() > MAX_EXCERPT {
        s = s.chars().take(MAX_EXCERPT).collect::<String>() + "…";
    }
    s
}

fn side(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("<end of output>")
}

/// `stdout differs (first difference at line 3: native "..." vs hosted "...")`.
pub fn describe(what: &str, left_name: &str, right_name: &str, d: &Difference) -> String {
    format!(
        "{what} differs (first difference at line {}: {left_name} {} vs {right_name} {})",
        d.line,
        side(&d.left),
        side(&d.right)
    )
}

/// Rust's panic message names the thread id since Rust 1.89
/// (`thread 'main' (12345) panicked at`), and so does its stack-overflow message
/// (`thread 'main' (12345) has overflowed its stack`); the id differs between runs, so
/// it is replaced by `<tid>`.
pub fn normalize_stderr(stderr: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(stderr);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&normalize_panic_line(line));
    }
    out.into_bytes()
}

fn normalize_panic_line(line: &str) -> String {
    // thread '<name>' (<digits>) panicked at / has overflowed its stack
    let Some(rest) = line.strip_prefix("thread '") else {
        return line.to_string();
    };
    let Some(name_end) = rest.find("' (") else {
        return line.to_string();
    };
    let after = &rest[name_end + 3..];
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    let rest_of_line = &after[digits..];
    if digits == 0
        || !(rest_of_line.starts_with(") panicked") || rest_of_line.starts_with(") has overflowed its stack"))
    {
        return line.to_string();
    }
    format!("thread '{}' (<tid>){}", &rest[..name_end], &after[digits + 1..])
}

/// The lines of `out` in byte order (a last line without newline gets one, so it sorts
/// like the others).
pub fn sort_lines(out: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = lines(out)
        .into_iter()
        .map(|l| {
            let mut l = l.to_vec();
            if l.last() != Some(&b'\n') {
                l.push(b'\n');
            }
            l
        })
        .collect();
    lines.sort();
    lines.concat()
}

/// Drops the lines that start with `prefix`: unify's own diagnostics (such as
/// `unify: syscall readlink (89) is not implemented; returning ENOSYS`) share the
/// guest's stderr but are not part of what the guest printed.
pub fn strip_diagnostics(stderr: &[u8], prefix: &str) -> Vec<u8> {
    stderr.split_inclusive(|&b| b == b'\n').filter(|l| !l.starts_with(prefix.as_bytes())).flatten().copied().collect()
}

/// What a case checks in addition to comparing the runs.
pub struct Expectation<'a> {
    pub status: Expected,
    pub compare_stderr: bool,
    /// Compare stdout as sorted lines.
    pub sort_stdout: bool,
    /// Lines of the second run's stderr starting with this are ignored.
    pub diagnostic_prefix: Option<&'a str>,
}

/// Compares a reference run (native) with a run under test. Returns the reasons the
/// case fails, empty if it passes.
pub fn compare(exp: &Expectation, left_name: &str, left: &Outcome, right_name: &str, right: &Outcome) -> Vec<String> {
    let mut reasons = Vec::new();
    // The reference run must itself behave, otherwise nothing else means anything.
    if !exp.status.matches(&left.status) {
        let why = format!("{left_name} run: {}, expected {} (the probe or the host is off)", left.status, exp.status);
        reasons.push(why);
        return reasons;
    }
    if right.status == Status::TimedOut {
        reasons.push(format!("{right_name} run timed out"));
    } else if left.status != right.status {
        reasons.push(format!("exit status differs ({left_name} {} vs {right_name} {})", left.status, right.status));
    }
    let difference = if exp.sort_stdout {
        first_difference(&sort_lines(&left.stdout), &sort_lines(&right.stdout))
    } else {
        first_difference(&left.stdout, &right.stdout)
    };
    if let Some(d) = difference {
        let what = if exp.sort_stdout { "sorted stdout" } else { "stdout" };
        reasons.push(describe(what, left_name, right_name, &d));
    }
    if exp.compare_stderr {
        let right_stderr = match exp.diagnostic_prefix {
            Some(p) => strip_diagnostics(&right.stderr, p),
            None => right.stderr.clone(),
        };
        let (l, r) = (normalize_stderr(&left.stderr), normalize_stderr(&right_stderr));
        if let Some(d) = first_difference(&l, &r) {
            reasons.push(describe("stderr", left_name, right_name, &d));
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(status: Status, stdout: &str, stderr: &str) -> Outcome {
        Outcome { status, stdout: stdout.as_bytes().to_vec(), stderr: stderr.as_bytes().to_vec() }
    }

    const EXP0: Expectation =
        Expectation { status: Expected::Exit(0), compare_stderr: false, sort_stdout: false, diagnostic_prefix: None };

    #[test]
    fn identical_is_none() {
        assert_eq!(first_difference(b"a\nb\n", b"a\nb\n"), None);
        assert_eq!(first_difference(b"", b""), None);
    }

    #[test]
    fn differing_line() {
        let d = first_difference(b"a\nb\nc\n", b"a\nb\nX\n").unwrap();
        assert_eq!(d.line, 3);
        assert_eq!(d.left.as_deref(), Some("\"c\\n\""));
        assert_eq!(d.right.as_deref(), Some("\"X\\n\""));
    }

    #[test]
    fn one_output_shorter() {
        let d = first_difference(b"a\nb\n", b"a\n").unwrap();
        assert_eq!(d.line, 2);
        assert_eq!(d.left.as_deref(), Some("\"b\\n\""));
        assert_eq!(d.right, None);
        let msg = describe("stdout", "native", "hosted", &d);
        assert_eq!(msg, "stdout differs (first difference at line 2: native \"b\\n\" vs hosted <end of output>)");
    }

    #[test]
    fn missing_final_newline_is_a_difference() {
        let d = first_difference(b"a\nb", b"a\nb\n").unwrap();
        assert_eq!(d.line, 2);
        assert_eq!(d.left.as_deref(), Some("\"b\""));
    }

    #[test]
    fn long_lines_are_cut() {
        let long = "x".repeat(1000);
        let d = first_difference(long.as_bytes(), b"y").unwrap();
        assert!(d.left.unwrap().chars().count() <= MAX_EXCERPT + 1);
    }

    #[test]
    fn invalid_utf8_is_shown() {
        let d = first_difference(b"\xff\xfe\n", b"ok\n").unwrap();
        assert!(d.left.unwrap().contains('\u{fffd}'));
    }

    #[test]
    fn panic_tid_is_normalized() {
        let a = b"x\nthread 'main' (7431) panicked at src/bin/panic.rs:8:9:\nboom\n";
        let b = b"x\nthread 'main' (12) panicked at src/bin/panic.rs:8:9:\nboom\n";
        assert_eq!(normalize_stderr(a), normalize_stderr(b));
        assert_eq!(
            String::from_utf8(normalize_stderr(a)).unwrap(),
            "x\nthread 'main' (<tid>) panicked at src/bin/panic.rs:8:9:\nboom\n"
        );
        // Older format without an id, and unrelated lines, stay as they are.
        let old = "thread 'main' panicked at src/main.rs:1:1:\n";
        assert_eq!(normalize_stderr(old.as_bytes()), old.as_bytes());
        let other = "thread 'x' (abc) panicked\n";
        assert_eq!(normalize_stderr(other.as_bytes()), other.as_bytes());
    }

    #[test]
    fn stack_overflow_tid_is_normalized() {
        let a = b"\nthread 'deep' (5922) has overflowed its stack\nfatal runtime error: stack overflow, aborting\n";
        let b = b"\nthread 'deep' (3) has overflowed its stack\nfatal runtime error: stack overflow, aborting\n";
        assert_eq!(normalize_stderr(a), normalize_stderr(b));
        assert_eq!(
            String::from_utf8(normalize_stderr(a)).unwrap(),
            "\nthread 'deep' (<tid>) has overflowed its stack\nfatal runtime error: stack overflow, aborting\n"
        );
        let other = "thread 'x' (12) has overflowed\n";
        assert_eq!(normalize_stderr(other.as_bytes()), other.as_bytes());
    }

    #[test]
    fn expected_signal() {
        let exp = Expectation {
            status: Expected::Killed(11),
            compare_stderr: true,
            sort_stdout: false,
            diagnostic_prefix: Some("unify: "),
        };
        let native = out(Status::Signaled(11), "before the fault\n", "");
        let hosted = out(Status::Signaled(11), "before the fault\n", "unify: SIGSEGV at 0x0 (rip 0x401000)\n");
        assert!(compare(&exp, "native", &native, "hosted", &hosted).is_empty());
        let r = compare(&exp, "native", &native, "hosted", &out(Status::Exited(139), "before the fault\n", ""));
        assert_eq!(r, vec!["exit status differs (native killed by signal 11 vs hosted exit 139)"]);
        let r = compare(&exp, "native", &out(Status::Exited(0), "", ""), "hosted", &hosted);
        assert_eq!(r, vec!["native run: exit 0, expected killed by signal 11 (the probe or the host is off)"]);
        let r = compare(&exp, "native", &out(Status::Signaled(6), "", ""), "hosted", &hosted);
        assert_eq!(r.len(), 1);
        assert!(r[0].starts_with("native run: killed by signal 6, expected killed by signal 11"), "{r:?}");
    }

    #[test]
    fn compare_pass() {
        let a = out(Status::Exited(0), "hi\n", "e1");
        let b = out(Status::Exited(0), "hi\n", "e2");
        assert!(compare(&EXP0, "native", &a, "hosted", &b).is_empty());
    }

    #[test]
    fn compare_stderr_only_when_asked() {
        let a = out(Status::Exited(0), "hi\n", "e1\n");
        let b = out(Status::Exited(0), "hi\n", "e2\n");
        let exp = Expectation {
            status: Expected::Exit(0),
            compare_stderr: true,
            sort_stdout: false,
            diagnostic_prefix: None,
        };
        let r = compare(&exp, "native", &a, "hosted", &b);
        assert_eq!(r.len(), 1);
        assert!(r[0].starts_with("stderr differs (first difference at line 1"), "{r:?}");
    }

    #[test]
    fn unify_diagnostics_are_not_guest_stderr() {
        let native = out(Status::Exited(0), "", "guest line\n");
        let hosted = out(
            Status::Exited(0),
            "",
            "unify: syscall readlink (89) is not implemented; returning ENOSYS\nguest line\n",
        );
        let mut exp = Expectation {
            status: Expected::Exit(0),
            compare_stderr: true,
            sort_stdout: false,
            diagnostic_prefix: Some("unify: "),
        };
        assert!(compare(&exp, "native", &native, "hosted", &hosted).is_empty());
        exp.diagnostic_prefix = None;
        assert_eq!(compare(&exp, "native", &native, "hosted", &hosted).len(), 1);
        assert_eq!(strip_diagnostics(b"unify: x\na\nunify: y", "unify: "), b"a\n");
        assert_eq!(strip_diagnostics(b"a\nb", "unify: "), b"a\nb");
    }

    #[test]
    fn compare_status_and_stdout() {
        let a = out(Status::Exited(3), "a\nb\n", "");
        let b = out(Status::Exited(0), "a\nc\n", "");
        let exp = Expectation {
            status: Expected::Exit(3),
            compare_stderr: false,
            sort_stdout: false,
            diagnostic_prefix: None,
        };
        let r = compare(&exp, "native", &a, "hosted", &b);
        assert_eq!(
            r,
            vec![
                "exit status differs (native exit 3 vs hosted exit 0)".to_string(),
                "stdout differs (first difference at line 2: native \"b\\n\" vs hosted \"c\\n\")".to_string(),
            ]
        );
    }

    #[test]
    fn compare_timeout_and_signal() {
        let a = out(Status::Exited(0), "", "");
        let r = compare(&EXP0, "native", &a, "hosted", &out(Status::TimedOut, "", ""));
        assert_eq!(r, vec!["hosted run timed out".to_string()]);
        let r = compare(&EXP0, "native", &a, "hosted", &out(Status::Signaled(11), "", ""));
        assert_eq!(r, vec!["exit status differs (native exit 0 vs hosted killed by signal 11)"]);
    }

    #[test]
    fn sorted_stdout() {
        assert_eq!(sort_lines(b"b\na\nc"), b"a\nb\nc\n");
        assert_eq!(sort_lines(b""), b"");
        let a = out(Status::Exited(0), "x:1\ny:2\n", "");
        let b = out(Status::Exited(0), "y:2\nx:1\n", "");
        assert_eq!(compare(&EXP0, "native", &a, "hosted", &b).len(), 1);
        let exp = Expectation {
            status: Expected::Exit(0),
            compare_stderr: false,
            sort_stdout: true,
            diagnostic_prefix: None,
        };
        assert!(compare(&exp, "native", &a, "hosted", &b).is_empty());
        let c = out(Status::Exited(0), "y:2\nx:1\nx:1\n", "");
        let r = compare(&exp, "native", &a, "hosted", &c);
        assert_eq!(
            r,
            vec!["sorted stdout differs (first difference at line 2: native \"y:2\\n\" vs hosted \"x:1\\n\")"]
        );
    }

    #[test]
    fn broken_reference_run() {
        let a = out(Status::Exited(1), "", "");
        let r = compare(&EXP0, "native", &a, "hosted", &a);
        assert_eq!(r.len(), 1);
        assert!(r[0].starts_with("native run: exit 1, expected exit 0"), "{r:?}");
    }
}
