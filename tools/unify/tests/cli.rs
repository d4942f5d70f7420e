//! The `unify` command line, end to end: what a user sees for good and bad input.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn unify() -> Command {
    Command::new(env!("CARGO_BIN_EXE_unify"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("unify-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Builds a small static C program with the system compiler.
fn static_c_program(name: &str, source: &str) -> PathBuf {
    let src = scratch(&format!("{name}.c"));
    let exe = scratch(name);
    std::fs::write(&src, source).unwrap();
    support::build_c(&src, &exe)
}

fn run_hosted(program: &Path, args: &[&str]) -> Output {
    unify().args(["run", "--platform", "hosted", "--"]).arg(program).args(args).output().unwrap()
}

/// A refused program: non-zero status, exactly one line on stderr, no panic or backtrace.
fn assert_one_line_refusal(out: &Output, mentions: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused input must exit non-zero: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "exactly one line on stderr, got: {stderr:?}");
    assert!(stderr.contains(mentions), "{stderr:?} should mention {mentions:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr:?}");
    assert!(out.stdout.is_empty());
}

#[test]
fn runs_a_static_program_with_its_output_and_status() {
    let exe = static_c_program(
        "hello",
        "#include <stdio.h>\nint main(int c, char **v) { printf(\"hi %s\\n\", c > 1 ? v[1] : \"-\"); fprintf(stderr, \"e\\n\"); return 7; }\n",
    );
    let out = run_hosted(&exe, &["there"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi there\n");
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stderr).lines().any(|l| l == "e"));
}

#[test]
fn the_guest_sees_only_the_environment_it_is_given() {
    let exe = static_c_program(
        "env",
        "#include <stdio.h>\nextern char **environ;\nint main(void) { for (char **e = environ; *e; e++) puts(*e); return 0; }\n",
    );
    let out = unify()
        .args(["run", "--platform", "hosted", "-e", "A=1", "-e", "B=two words", "--"])
        .arg(&exe)
        .env("LEAK", "x")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "A=1\nB=two words\n");
}

#[test]
fn shorthand_without_run_works() {
    let exe = static_c_program("seven", "int main(void) { return 7; }\n");
    let out = unify().args(["--platform", "hosted"]).arg(&exe).output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    let out = unify().env("UNIFY_PLATFORM", "hosted").arg(&exe).output().unwrap();
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn a_dynamic_program_is_refused_with_advice() {
    let out = run_hosted(Path::new("/bin/ls"), &[]);
    assert_one_line_refusal(&out, "dynamically linked");
    assert!(String::from_utf8_lossy(&out.stderr).contains("static"));
}

#[test]
fn a_text_file_is_refused() {
    let txt = scratch("notes.txt");
    std::fs::write(&txt, "just some text\n").unwrap();
    assert_one_line_refusal(&run_hosted(&txt, &[]), "not an ELF");
}

#[test]
fn a_truncated_program_is_refused() {
    let exe = static_c_program("whole", "int main(void) { return 0; }\n");
    let bytes = std::fs::read(&exe).unwrap();
    for len in [10, 64, 200, 3000, bytes.len() / 2] {
        let cut = scratch(&format!("cut{len}"));
        std::fs::write(&cut, &bytes[..len]).unwrap();
        assert_one_line_refusal(&run_hosted(&cut, &[]), "");
    }
}

#[test]
fn a_missing_program_is_refused() {
    let out = run_hosted(Path::new("/no/such/program"), &[]);
    assert_eq!(out.status.code(), Some(127));
    assert_one_line_refusal(&out, "no such file");
}

#[test]
fn trace_prints_strace_style_lines() {
    let exe = static_c_program("tr", "#include <unistd.h>\nint main(void) { write(1, \"x\\n\", 2); return 3; }\n");
    let out = unify().args(["run", "--platform", "hosted", "--trace", "--"]).arg(&exe).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.lines().any(|l| l == "write(1, \"x\\n\", 2) = 2"), "{stderr}");
    assert!(stderr.lines().any(|l| l == "exit_group(3) = ?"), "{stderr}");
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn an_unimplemented_syscall_is_enosys_and_reported_once() {
    // syscall 500 has no name; 156 is _sysctl, which unify does not implement.
    let exe = static_c_program(
        "nosys",
        "#include <stdio.h>\n#include <errno.h>\n#include <unistd.h>\n#include <sys/syscall.h>\nint main(void) { for (int i = 0; i < 3; i++) { long r = syscall(156, 0); printf(\"%ld %d\\n\", r, errno); } return 0; }\n",
    );
    let out = run_hosted(&exe, &[]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "-1 38\n-1 38\n-1 38\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("_sysctl").count(), 1, "{stderr}");
}

#[test]
fn docs_syscalls_md_is_generated_from_the_table() {
    let out = unify().args(["syscalls", "--markdown"]).output().unwrap();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/syscalls.md");
    let on_disk = std::fs::read_to_string(&docs).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        on_disk,
        "docs/syscalls.md is stale: run `cargo run -p unify -- syscalls --markdown > docs/syscalls.md`"
    );
}
