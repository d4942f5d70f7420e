//! The system-wide pseudo-files runtimes and libraries read: /proc/cpuinfo, meminfo,
//! uptime, loadavg, stat, sys/vm/overcommit_memory, sys/kernel; /sys CPU lists and
//! transparent_hugepage; /etc/passwd, group, hosts (localhost), resolv.conf. Only the
//! shape is printed (the keys exist, the numbers parse), never this host's values.

use probes::fsutil::ioe;

fn text(path: &str) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) => {
            println!("{path}: {}", ioe(&e));
            None
        }
    }
}

/// Parses a CPU list such as `0-3,5` into the number of CPUs.
fn cpu_list_count(s: &str) -> Option<usize> {
    let mut n = 0;
    for part in s.trim().split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
                if b < a {
                    return None;
                }
                n += b - a + 1;
            }
            None => {
                part.parse::<usize>().ok()?;
                n += 1;
            }
        }
    }
    Some(n)
}

fn floats(s: &str, n: usize) -> bool {
    let f: Vec<&str> = s.split_whitespace().collect();
    f.len() >= n && f[..n].iter().all(|x| x.parse::<f64>().is_ok_and(|v| v >= 0.0))
}

fn proc_files() {
    println!("== /proc");
    if let Some(c) = text("/proc/cpuinfo") {
        let processors = c.lines().filter(|l| l.starts_with("processor")).count();
        println!("cpuinfo: processor lines >= 1: {}", processors >= 1);
        println!("cpuinfo: has flags lines: {}", c.lines().any(|l| l.starts_with("flags")));
    }
    if let Some(m) = text("/proc/meminfo") {
        for key in ["MemTotal", "MemFree", "MemAvailable"] {
            let line = m.lines().find(|l| l.starts_with(&format!("{key}:")));
            let ok = line.is_some_and(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() == 3 && f[1].parse::<u64>().is_ok() && f[2] == "kB"
            });
            println!("meminfo: {key} in kB: {ok}");
        }
    }
    if let Some(u) = text("/proc/uptime") {
        println!("uptime: two numbers: {}", floats(&u, 2));
    }
    if let Some(l) = text("/proc/loadavg") {
        let f: Vec<&str> = l.split_whitespace().collect();
        let running = f.get(3).is_some_and(|x| {
            x.split_once('/').is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
        });
        println!("loadavg: three loads, running/total, last pid: {}", floats(&l, 3) && running && f.len() == 5);
    }
    if let Some(s) = text("/proc/stat") {
        println!("stat: has a cpu line: {}", s.lines().any(|l| l.starts_with("cpu ")));
        println!("stat: has btime: {}", s.lines().any(|l| l.starts_with("btime ")));
    }
    if let Some(o) = text("/proc/sys/vm/overcommit_memory") {
        println!("overcommit_memory: one digit 0-2: {}", matches!(o.as_str(), "0\n" | "1\n" | "2\n"));
    }
    for path in ["/proc/sys/kernel/pid_max", "/proc/sys/fs/file-max"] {
        if let Some(v) = text(path) {
            println!("{path}: a number: {}", v.trim().parse::<u64>().is_ok());
        }
    }
    if let Some(o) = text("/proc/sys/kernel/osrelease") {
        println!("osrelease: one line: {}", o.ends_with('\n') && o.lines().count() == 1);
    }
    println!("/proc is a directory: {}", std::fs::metadata("/proc").map(|m| m.is_dir()).unwrap_or(false));
}

fn sys_files() {
    println!("== /sys");
    for path in ["/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible"] {
        if let Some(s) = text(path) {
            println!("{path}: parses, >= 1 CPU: {}", cpu_list_count(&s).is_some_and(|n| n >= 1));
        }
    }
    if let Some(t) = text("/sys/kernel/mm/transparent_hugepage/enabled") {
        let choices: Vec<&str> = t.split_whitespace().collect();
        let selected = choices.iter().filter(|c| c.starts_with('[') && c.ends_with(']')).count();
        println!("transparent_hugepage/enabled: one choice selected: {}", selected == 1);
    }
}

fn etc_files() {
    println!("== /etc");
    if let Some(p) = text("/etc/passwd") {
        let ok = p.lines().filter(|l| !l.is_empty()).all(|l| l.split(':').count() == 7);
        println!("passwd: lines of 7 fields: {ok}");
        println!(
            "passwd: has root with uid 0: {}",
            p.lines().any(|l| l.starts_with("root:") && l.split(':').nth(2) == Some("0"))
        );
    }
    if let Some(g) = text("/etc/group") {
        let ok = g.lines().filter(|l| !l.is_empty()).all(|l| l.split(':').count() == 4);
        println!("group: lines of 4 fields: {ok}");
        println!(
            "group: has root with gid 0: {}",
            g.lines().any(|l| l.starts_with("root:") && l.split(':').nth(2) == Some("0"))
        );
    }
    if let Some(h) = text("/etc/hosts") {
        let localhost = h.lines().any(|l| {
            let l = l.split('#').next().unwrap_or("");
            let mut f = l.split_whitespace();
            f.next() == Some("127.0.0.1") && f.any(|n| n == "localhost")
        });
        println!("hosts: localhost is 127.0.0.1: {localhost}");
    }
    println!("resolv.conf exists: {}", std::path::Path::new("/etc/resolv.conf").exists());
    println!("/etc is a directory: {}", std::fs::metadata("/etc").map(|m| m.is_dir()).unwrap_or(false));
}

fn main() {
    proc_files();
    sys_files();
    etc_files();
}
