//! /proc/self as programs read it: exe (a link to the program), fd/ (the open
//! descriptors; links to their files), cwd, status (the keys runtimes parse, Pid,
//! Threads), stat (pid, state R), maps (the stack and the executable), cmdline,
//! environ, mountinfo (parses, has "/"), and /proc/self being /proc/<pid>. Only shapes
//! and relations are printed, never this host's values.

use probes::fsutil::{ioe, must, section, v};
use probes::sys;

use libc::{O_DIRECTORY, O_RDONLY};

const STATUS_KEYS: &[&str] = &[
    "Name",
    "Umask",
    "State",
    "Tgid",
    "Pid",
    "PPid",
    "Uid",
    "Gid",
    "FDSize",
    "VmPeak",
    "VmSize",
    "VmRSS",
    "Threads",
    "SigBlk",
    "SigIgn",
    "SigCgt",
    "Cpus_allowed",
    "Cpus_allowed_list",
];

fn text(path: &str) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) => {
            println!("read {path}: {}", ioe(&e));
            None
        }
    }
}

fn exe_name() -> String {
    std::env::args().next().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string()
}

fn links() {
    section("links");
    let name = exe_name();
    match sys::readlink("/proc/self/exe") {
        Ok(t) => println!(
            "exe: absolute {}, ends with the program's name {}",
            t.starts_with('/'),
            t.ends_with(&format!("/{name}"))
        ),
        Err(e) => println!("exe: Err({e})"),
    }
    println!("exe opens: {}", std::fs::metadata("/proc/self/exe").map(|m| m.is_file()).unwrap_or(false));
    match (sys::readlink("/proc/self/cwd"), sys::getcwd()) {
        (Ok(l), Ok(c)) => println!("cwd link equals getcwd: {}", l == c),
        (a, b) => println!("cwd: {a:?} {b:?}"),
    }
    std::fs::create_dir_all("sub").unwrap();
    std::env::set_current_dir("sub").unwrap();
    println!(
        "cwd link follows chdir: {}",
        sys::readlink("/proc/self/cwd").map(|l| l.ends_with("/sub")).unwrap_or(false)
    );
    std::env::set_current_dir("..").unwrap();
    println!("/proc/self/root: {:?}", sys::readlink("/proc/self/root"));
    let pid = sys::getpid();
    println!(
        "/proc/self links to the pid: {}",
        sys::readlink("/proc/self").map(|l| l == pid.to_string()).unwrap_or(false)
    );
    println!("/proc/<pid>/status readable: {}", std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok());
    println!("/proc/thread-self exists: {}", std::fs::symlink_metadata("/proc/thread-self").is_ok());
}

fn fds() {
    section("fd");
    std::fs::write("opened-file.txt", "x").unwrap();
    let f = must("file", sys::open("opened-file.txt", O_RDONLY, 0));
    let d = must("dir", sys::open("sub", O_RDONLY | O_DIRECTORY, 0));
    match std::fs::read_dir("/proc/self/fd") {
        Ok(rd) => {
            let fds: Vec<i32> = rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
            println!("lists 0, 1, 2: {}", [0, 1, 2].iter().all(|n| fds.contains(n)));
            println!("lists the opened file and dir: {} {}", fds.contains(&f), fds.contains(&d));
            println!("does not list a closed fd: {}", !fds.contains(&(d + 50)));
        }
        Err(e) => println!("read_dir /proc/self/fd: {}", ioe(&e)),
    }
    let link = sys::readlink(&format!("/proc/self/fd/{f}"));
    println!(
        "fd/N of the file ends with its name: {}",
        link.as_ref().map(|l| l.ends_with("/opened-file.txt")).unwrap_or(false)
    );
    println!(
        "fd/N of the dir ends with its name: {}",
        sys::readlink(&format!("/proc/self/fd/{d}")).map(|l| l.ends_with("/sub")).unwrap_or(false)
    );
    println!(
        "fd/N of a file equals cwd + name: {}",
        match (link, sys::getcwd()) {
            (Ok(l), Ok(c)) => l == format!("{c}/opened-file.txt"),
            _ => false,
        }
    );
    let (_, p) = sys::pipe();
    println!(
        "fd/N of a pipe: {}",
        sys::readlink(&format!("/proc/self/fd/{}", p[0])).map(|l| l.starts_with("pipe:[")).unwrap_or(false)
    );
    println!("fd/N of a closed fd: {:?}", sys::readlink(&format!("/proc/self/fd/{}", p[1] + 100)).map(|_| ()));
    println!(
        "fdinfo/N has pos and flags: {}",
        std::fs::read_to_string(format!("/proc/self/fdinfo/{f}"))
            .map(|s| s.contains("pos:") && s.contains("flags:"))
            .unwrap_or(false)
    );
    for fd in [f, d, p[0], p[1]] {
        sys::close(fd);
    }
}

fn status() {
    section("status");
    let Some(s) = text("/proc/self/status") else { return };
    let present: Vec<&str> =
        STATUS_KEYS.iter().copied().filter(|k| s.lines().any(|l| l.starts_with(&format!("{k}:")))).collect();
    println!("keys present: {present:?}");
    let field = |k: &str| s.lines().find_map(|l| l.strip_prefix(&format!("{k}:")).map(|r| r.trim().to_string()));
    let name = exe_name();
    println!(
        "Name is the program's name (15 bytes): {}",
        field("Name").map(|n| n == name[..name.len().min(15)]).unwrap_or(false)
    );
    println!("Pid matches getpid: {}", field("Pid").map(|p| p == sys::getpid().to_string()).unwrap_or(false));
    println!("Tgid == Pid: {}", field("Tgid") == field("Pid"));
    println!("Threads: {:?}", field("Threads"));
    println!("State starts with R: {}", field("State").map(|st| st.starts_with('R')).unwrap_or(false));
    println!("VmRSS in kB: {}", field("VmRSS").map(|r| r.ends_with(" kB")).unwrap_or(false));
    println!(
        "SigIgn has SIGPIPE (Rust ignores it): {}",
        field("SigIgn").and_then(|m| u64::from_str_radix(&m, 16).ok()).map(|m| m & (1 << 12) != 0).unwrap_or(false)
    );
}

fn stat() {
    section("stat");
    let Some(s) = text("/proc/self/stat") else { return };
    let (Some(open), Some(close)) = (s.find('('), s.rfind(')')) else {
        println!("no (comm)");
        return;
    };
    let pid = s[..open].trim();
    let comm = &s[open + 1..close];
    let rest: Vec<&str> = s[close + 1..].split_whitespace().collect();
    println!("pid field matches getpid: {}", pid == sys::getpid().to_string());
    let name = exe_name();
    println!("comm is the program's name: {}", comm == &name[..name.len().min(15)]);
    println!("state: {:?}", rest.first());
    println!("at least 50 fields: {}", rest.len() + 2 >= 50);
    println!(
        "all numeric after the state: {}",
        rest[1..].iter().all(|f| f.parse::<i64>().is_ok() || f.parse::<u64>().is_ok())
    );
    println!("num_threads (field 20): {:?}", rest.get(17));
    println!(
        "statm has 7 numbers: {}",
        std::fs::read_to_string("/proc/self/statm")
            .map(|s| s.split_whitespace().filter(|f| f.parse::<u64>().is_ok()).count() == 7)
            .unwrap_or(false)
    );
}

fn maps() {
    section("maps");
    let Some(s) = text("/proc/self/maps") else { return };
    let exe = sys::readlink("/proc/self/exe").unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    let parses = lines.iter().all(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() >= 5 && f[0].contains('-') && f[1].len() == 4 && f[3].contains(':')
    });
    println!("every line parses: {parses}");
    println!("has [stack]: {}", lines.iter().any(|l| l.ends_with("[stack]")));
    println!("maps the executable: {}", lines.iter().any(|l| l.ends_with(&exe)));
    println!(
        "an executable mapping of it: {}",
        lines.iter().any(|l| l.ends_with(&exe) && l.split_whitespace().nth(1).is_some_and(|p| p.contains('x')))
    );
    println!(
        "has [heap] or anonymous mappings: {}",
        lines.iter().any(|l| l.ends_with("[heap]") || l.split_whitespace().count() == 5)
    );
    std::fs::write("mapped-file", vec![1u8; 8192]).unwrap();
    let fd = must("mapped", sys::open("mapped-file", O_RDONLY, 0));
    let m = sys::mmap(8192, libc::PROT_READ, libc::MAP_PRIVATE, fd, 0);
    let after = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    println!("a mapped file shows up by name: {}", after.lines().any(|l| l.ends_with("/mapped-file")));
    if m >= 0 {
        // SAFETY: the mapping was made above and is not used after this.
        unsafe { sys::munmap(m as usize, 8192) };
    }
    sys::close(fd);
}

fn misc() {
    section("cmdline, environ, mountinfo");
    if let Some(c) = text("/proc/self/cmdline") {
        let args: Vec<&str> = c.split('\0').collect();
        let mine: Vec<String> = std::env::args().collect();
        println!(
            "cmdline args after argv[0] match: {}",
            args.len() == mine.len() + 1
                && args[1..mine.len()] == mine[1..].iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
        println!("cmdline argv[0] ends with the name: {}", args[0].ends_with(&exe_name()));
    }
    if let Some(e) = text("/proc/self/environ") {
        let mut vars: Vec<&str> = e.split('\0').filter(|s| !s.is_empty()).collect();
        vars.sort();
        let mut mine: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
        mine.sort();
        println!("environ matches the environment: {}", vars == mine);
    }
    if let Some(m) = text("/proc/self/mountinfo") {
        let parses = m.lines().all(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            f.len() >= 10 && f.contains(&"-") && f[2].contains(':')
        });
        println!("mountinfo parses: {parses}");
        println!("mountinfo has /: {}", m.lines().any(|l| l.split(' ').nth(4) == Some("/")));
    }
    println!(
        "/proc/self/mounts has /: {}",
        std::fs::read_to_string("/proc/self/mounts")
            .map(|m| m.lines().any(|l| l.split(' ').nth(1) == Some("/")))
            .unwrap_or(false)
    );
    println!(
        "/proc/self/comm is the name: {}",
        std::fs::read_to_string("/proc/self/comm")
            .map(|c| c.trim_end() == &exe_name()[..exe_name().len().min(15)])
            .unwrap_or(false)
    );
    println!(
        "/proc/self/task lists this thread: {}",
        std::fs::read_dir("/proc/self/task")
            .map(|rd| rd.filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy() == sys::getpid().to_string()))
            .unwrap_or(false)
    );
    println!("/proc/self/nonexistent: {}", v(sys::open("/proc/self/nonexistent", O_RDONLY, 0)));
}

fn main() {
    links();
    fds();
    status();
    stat();
    maps();
    misc();
}
