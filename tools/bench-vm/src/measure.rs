//! One round of each side, the statistics over rounds, and the smallest-memory search.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bench_vm::linuxvm::{self, GuestExit, LinuxVm};
use bench_vm::serial::{after, Output};

/// One run: when the program's line appeared and when the process (QEMU, unify, the
/// program) exited, both from just before the spawn.
#[derive(Clone, Copy, Debug)]
pub struct Round {
    pub first_write: Duration,
    pub exit: Duration,
}

/// Why a run did not count.
pub type Failure = String;

/// A thing that runs hello once.
pub trait Side {
    fn name(&self) -> String;
    /// One run with the default memory.
    fn round(&mut self, timeout: Duration) -> Result<Round, Failure>;
    /// One run with `mem_mib` MiB, for the memory search; None if the side has no such knob.
    fn run_in(&mut self, mem_mib: u32, timeout: Duration) -> Option<Result<Round, Failure>>;
    /// The command line, for the report.
    fn command(&self) -> String;
}

/// The program run directly, stdout a pipe.
pub struct Native {
    pub program: PathBuf,
    pub line: String,
}

impl Side for Native {
    fn name(&self) -> String {
        "native".into()
    }

    fn round(&mut self, timeout: Duration) -> Result<Round, Failure> {
        let mut cmd = Command::new(&self.program);
        process_round(&mut cmd, &self.line, timeout)
    }

    fn run_in(&mut self, _: u32, _: Duration) -> Option<Result<Round, Failure>> {
        None
    }

    fn command(&self) -> String {
        self.program.display().to_string()
    }
}

/// Runs `cmd` with stdout piped: the line's arrival on stdout, the exit, status 0.
fn process_round(cmd: &mut Command, line: &str, timeout: Duration) -> Result<Round, Failure> {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let out = Output::capture(child.stdout.take().unwrap());
    let err = Output::capture(child.stderr.take().unwrap());
    let first = out.wait_for(line.as_bytes(), start + timeout);
    let exited = linuxvm::wait_timeout(&mut child, (start + timeout).saturating_duration_since(Instant::now()));
    let Some((status, end)) = exited else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("no exit within {}s", timeout.as_secs()));
    };
    err.wait_eof(after(Duration::from_secs(1)));
    let Some(first) = first else {
        return Err(format!("{status}, no {line:?} on stdout{}", last_line(&err.text())));
    };
    if !status.success() {
        return Err(format!("{status}{}", last_line(&err.text())));
    }
    Ok(Round { first_write: first - start, exit: end - start })
}

fn last_line(text: &str) -> String {
    match text.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(l) => format!(": {}", l.trim()),
        None => String::new(),
    }
}

/// The Linux VM: QEMU booting Debian's kernel with hello in the initramfs.
pub struct LinuxSide {
    pub label: String,
    pub vm: LinuxVm,
    pub mem_mib: u32,
    pub line: String,
}

impl LinuxSide {
    fn run(&mut self, mem_mib: u32, timeout: Duration) -> Result<Round, Failure> {
        let mut vm = self.vm.spawn(mem_mib)?;
        let first = vm.serial.wait_for(self.line.as_bytes(), vm.started + timeout);
        let left = (vm.started + timeout).saturating_duration_since(Instant::now());
        let Some((status, end)) = vm.wait_timeout(left) else {
            vm.kill();
            return Err(format!("QEMU still running after {}s{}", timeout.as_secs(), last_line(&vm.serial.text())));
        };
        vm.serial.wait_eof(after(Duration::from_secs(1)));
        vm.stderr.wait_eof(after(Duration::from_secs(1)));
        let Some(first) = first else {
            let why = last_line(&vm.stderr.text());
            let why = if why.is_empty() { last_line(&vm.serial.text()) } else { why };
            return Err(format!("QEMU {status}, no {:?} on the console{why}", self.line));
        };
        match vm.guest_exit() {
            Some(GuestExit::Code(0)) => Ok(Round { first_write: first - vm.started, exit: end - vm.started }),
            other => Err(format!("the program ended {other:?}")),
        }
    }
}

impl Side for LinuxSide {
    fn name(&self) -> String {
        self.label.clone()
    }

    fn round(&mut self, timeout: Duration) -> Result<Round, Failure> {
        self.run(self.mem_mib, timeout)
    }

    fn run_in(&mut self, mem_mib: u32, timeout: Duration) -> Option<Result<Round, Failure>> {
        Some(self.run(mem_mib, timeout))
    }

    fn command(&self) -> String {
        self.vm.command_line(self.mem_mib)
    }
}

/// `unify run --platform vm HELLO`.
pub struct UnifySide {
    pub unify: PathBuf,
    pub program: PathBuf,
    pub line: String,
    /// The flag that sets the VM's memory (`FLAG SIZE`).
    pub mem_flag: String,
}

impl UnifySide {
    fn args(&self, mem_mib: Option<u32>) -> Vec<String> {
        let mut a = vec!["run".to_string(), "--platform".into(), "vm".into()];
        if let Some(m) = mem_mib {
            a.extend([self.mem_flag.clone(), format!("{m}M")]);
        }
        a.push(self.program.display().to_string());
        a
    }
}

impl Side for UnifySide {
    fn name(&self) -> String {
        "unify VM".into()
    }

    fn round(&mut self, timeout: Duration) -> Result<Round, Failure> {
        process_round(Command::new(&self.unify).args(self.args(None)), &self.line, timeout)
    }

    fn run_in(&mut self, mem_mib: u32, timeout: Duration) -> Option<Result<Round, Failure>> {
        Some(process_round(Command::new(&self.unify).args(self.args(Some(mem_mib))), &self.line, timeout))
    }

    fn command(&self) -> String {
        linuxvm::shell_line(&self.unify.display().to_string(), &self.args(None))
    }
}

/// unify-kernel booted by QEMU with no program: its banner is the first write, its exit
/// through isa-debug-exit (QEMU exit code 1 = status 0). A floor for the unify VM.
pub struct KernelAlone {
    pub kernel: PathBuf,
    pub mem_mib: u32,
}

impl KernelAlone {
    fn args(&self, mem_mib: u32) -> Vec<String> {
        let mut a: Vec<String> = vec!["-M".into(), "microvm,acpi=off".into()];
        a.extend(linuxvm::COMMON_FLAGS.iter().map(|s| s.to_string()));
        a.extend(["-m".into(), format!("{mem_mib}M")]);
        a.extend(["-device".into(), "isa-debug-exit,iobase=0xf4,iosize=0x04".into()]);
        a.extend(["-kernel".into(), self.kernel.display().to_string(), "-append".into(), String::new()]);
        a
    }

    fn run(&self, mem_mib: u32, timeout: Duration) -> Result<Round, Failure> {
        let start = Instant::now();
        let mut child = Command::new(linuxvm::QEMU)
            .args(self.args(mem_mib))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", linuxvm::QEMU))?;
        let out = Output::capture(child.stdout.take().unwrap());
        let first = out.first_byte(start + timeout);
        let left = (start + timeout).saturating_duration_since(Instant::now());
        let Some((status, end)) = linuxvm::wait_timeout(&mut child, left) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("QEMU still running after {}s", timeout.as_secs()));
        };
        out.wait_eof(after(Duration::from_secs(1)));
        match (first, status.code()) {
            (Some(first), Some(1)) => Ok(Round { first_write: first - start, exit: end - start }),
            _ => Err(format!("QEMU {status}{}", last_line(&out.text()))),
        }
    }
}

impl Side for KernelAlone {
    fn name(&self) -> String {
        "unify-kernel alone".into()
    }

    fn round(&mut self, timeout: Duration) -> Result<Round, Failure> {
        self.run(self.mem_mib, timeout)
    }

    fn run_in(&mut self, mem_mib: u32, timeout: Duration) -> Option<Result<Round, Failure>> {
        Some(self.run(mem_mib, timeout))
    }

    fn command(&self) -> String {
        linuxvm::shell_line(linuxvm::QEMU, &self.args(self.mem_mib))
    }
}

/// Median and minimum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub median: Duration,
    pub min: Duration,
}

pub fn stats(mut v: Vec<Duration>) -> Option<Stats> {
    if v.is_empty() {
        return None;
    }
    v.sort();
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2 };
    Some(Stats { median, min: v[0] })
}

/// The smallest size in `lo..=hi` MiB for which `runs` holds, by bisection (assumes that
/// a run that works in N MiB works in more). None if it fails at `hi`.
pub fn smallest(lo: u32, hi: u32, mut runs: impl FnMut(u32) -> bool) -> Option<u32> {
    if !runs(hi) {
        return None;
    }
    if runs(lo) {
        return Some(lo);
    }
    let (mut bad, mut good) = (lo, hi);
    while good - bad > 1 {
        let mid = bad + (good - bad) / 2;
        if runs(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Some(good)
}

/// The size of `path` and of a stripped copy of it (`strip -o` into a temporary file).
pub fn sizes(path: &Path, tmp: &Path) -> Option<(u64, Option<u64>)> {
    let size = std::fs::metadata(path).ok()?.len();
    let out = tmp.join("stripped");
    let ok =
        Command::new("strip").arg("-o").arg(&out).arg(path).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    let stripped = if ok { std::fs::metadata(&out).ok().map(|m| m.len()) } else { None };
    let _ = std::fs::remove_file(&out);
    Some((size, stripped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_finds_the_threshold() {
        for threshold in [2, 3, 17, 100, 511, 512] {
            let mut probes = 0;
            let got = smallest(2, 512, |m| {
                probes += 1;
                m >= threshold
            });
            assert_eq!(got, Some(threshold));
            assert!(probes <= 11, "{probes} probes");
        }
        assert_eq!(smallest(2, 512, |_| false), None);
    }

    #[test]
    fn median_and_min() {
        let ms = |v: &[u64]| v.iter().map(|&m| Duration::from_millis(m)).collect::<Vec<_>>();
        assert_eq!(
            stats(ms(&[5, 1, 3])),
            Some(Stats { median: Duration::from_millis(3), min: Duration::from_millis(1) })
        );
        assert_eq!(stats(ms(&[4, 2, 8, 6])).unwrap().median, Duration::from_millis(5));
        assert_eq!(stats(vec![]), None);
    }
}
