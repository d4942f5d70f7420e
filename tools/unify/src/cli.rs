//! The command line.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::vm::accel::Accel;

#[derive(Debug, Parser)]
#[command(
    name = "unify",
    version,
    about = "Run unmodified static x86-64 Linux programs on the unify library OS",
    after_help = "`unify PROGRAM ARGS...` is short for `unify run PROGRAM ARGS...`, and `unify -v ... PROGRAM` for \
                  `unify run -v ... PROGRAM`. The program runs as a VM under QEMU (--platform vm, the default) or \
                  inside the unify process (--platform hosted); see `unify run --help`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a program, or the program an image was built for, from a root filesystem image.
    Run(RunArgs),
    /// Write a root filesystem image that runs a program (`unify run IMAGE` runs it).
    Build(BuildArgs),
    /// List the syscalls unify implements and how completely.
    Syscalls(SyscallsArgs),
    /// Check a program without running it: what the loader sees and what the rewriter does.
    Inspect(InspectArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Platform {
    /// As a VM of its own: the unify kernel under QEMU (needs qemu-system-x86_64).
    Vm,
    /// Inside this Linux process (no QEMU; the fast path for development and tests).
    Hosted,
}

/// What goes into an image besides the program: shared by `run` and `build`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Copy a host file or directory (recursively) into the image at GUESTPATH (absolute).
    /// `:ro` mounts a directory read-only in the guest (changes below it are EROFS); on a
    /// single file it is not enforced. Symbolic links and special files in directories are left out with a warning.
    #[arg(short = 'v', long = "volume", value_name = "HOSTPATH:GUESTPATH[:ro]")]
    pub volumes: Vec<OsString>,
    /// The program's working directory in the image (default `/`). Created in the image if
    /// missing, as `docker run -w` does; not below /dev, /etc, /proc, /sys or /tmp.
    #[arg(short = 'w', long = "workdir", value_name = "GUESTDIR")]
    pub workdir: Option<String>,
    /// Set an environment variable for the program (KEY=VALUE, or KEY to pass unify's own
    /// value). The environment is exactly these variables.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<OsString>,
    /// Size of a new image (bytes, or with K, M, G, T). Default: twice the content, at
    /// least 512M. The file is sparse: free space costs no disk.
    #[arg(long, value_name = "SIZE")]
    pub size: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    trailing_var_arg = true,
    override_usage = "unify run [OPTIONS] [--] PROGRAM [ARGS]...\n       unify run [OPTIONS] [--] IMAGE [ARGS]...\n       \
                      unify run [OPTIONS] --image FILE [--] [PROGRAM [ARGS]...]",
    after_help = "\
The program runs from a FAT32 root filesystem image: the program at /bin/<name>, the -v \
files, empty /dev /etc /proc /sys /tmp (the libOS mounts its own there) and a manifest \
(/.unify/manifest: argv, env, working directory, read-only paths). argv[0] is PROGRAM as \
typed; the program's /proc/self/exe is /bin/<name>.

Without --image the image is a temporary sparse file in $TMPDIR that has no name, so \
nothing is left behind whatever happens to the run.

--image FILE keeps the image:
  - FILE does not exist: it is built as above (PROGRAM required) and kept.
  - FILE exists: the run uses it as it is, with what earlier runs wrote. -v replaces \
what is at each GUESTPATH (and its read-only mark); -w is created if missing; PROGRAM, if given, replaces /bin/<name> and the manifest's \
argv, env and working directory. Without PROGRAM the manifest's program runs, and -e \
(per variable), -w and ARGS change this run only (--platform hosted only, for now: the VM's \
kernel reads them from the image). --size cannot resize it. The image is \
locked while a run uses it.

IMAGE (a FAT32 image, told from a program by its content) is short for --image IMAGE \
without PROGRAM: ARGS replace the manifest's argv[1..].

The VM platform (the default) boots the unify kernel under QEMU with the image as its \
disk: the program's stdout and stderr are unify's, unify's stdin is its stdin, and \
SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH sent to unify are \
passed to it. --platform hosted runs the same image inside the unify process instead.

The VM's network (--net; an image built with `unify build --net` keeps its own):
  --net user[,dhcp][,dns=ADDR]...[,dhcp-wait=SECONDS]   (the default)
      QEMU's user network: NAT through QEMU to the host's network; -p publishes ports. \
The guest is 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3, set statically; `dhcp` asks \
QEMU's DHCP server instead.
  --net tap=IFNAME[,ip=ADDR/PREFIX[,gw=ADDR]][,dns=ADDR]...[,dhcp-wait=SECONDS]
      An existing TAP interface (ip tuntap add dev IFNAME mode tap user $USER; ip link \
set IFNAME up), used as it is: bridging, routing and DHCP service are the host's. The \
address comes by DHCP unless ip= gives one (gw=: the default route). No -p: the guest \
is reached at its own address.
  --net none
      No network card: loopback only.
  dns= (up to 3) replaces the DNS servers in the guest's /etc/resolv.conf. With DHCP the \
VM waits up to dhcp-wait seconds (default 5) for a lease before the program starts; \
without one by then the program starts anyway and its sockets reach the network once a \
server answers.

Exit status: the program's (killed by a signal: unify ends by the same signal); 2 for a \
bad command line, 127 when PROGRAM or IMAGE does not exist, 126 when it cannot be run \
(not a static x86-64 ELF, the image cannot be built or read, QEMU is missing, the --net tap \
interface cannot be used), 125 when \
the VM failed (the kernel's last log lines are shown)."
)]
pub struct RunArgs {
    /// Where the program runs.
    #[arg(long, value_enum, default_value = "vm", env = "UNIFY_PLATFORM")]
    pub platform: Platform,
    #[command(flatten)]
    pub image_args: ImageArgs,
    /// Keep the image in FILE: build it if missing, else reuse it (see below).
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// Serve guest port GUEST at host port HOST (TCP unless /udp): a guest that binds GUEST
    /// is reached at HOST (the VM's: at 127.0.0.1:HOST). Hosted, it still sees GUEST in
    /// its own addresses.
    #[arg(short = 'p', long = "publish", value_name = "HOST:GUEST[/udp]")]
    pub publish: Vec<String>,
    /// VM: the network card: user (QEMU's NAT, the default), tap=IFNAME or none, with
    /// options after commas (see below).
    #[arg(long = "net", value_name = "user|tap=IFNAME|none[,...]")]
    pub net: Option<String>,
    /// Print one strace-style line per syscall on stderr.
    #[arg(long)]
    pub trace: bool,
    /// VM: its memory, with K, M or G [default: 256M].
    #[arg(short = 'm', long = "memory", value_name = "SIZE")]
    pub memory: Option<String>,
    /// VM: its number of CPUs [default: 1] (the unify kernel uses one CPU for now).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=255))]
    pub smp: Option<u32>,
    /// VM: the accelerator. auto takes KVM where it can run the VM, else TCG [default: auto].
    #[arg(long, value_enum, value_name = "ACCEL")]
    pub accel: Option<Accel>,
    /// VM: print the kernel's log (and QEMU's command line and messages) on stderr.
    #[arg(long)]
    pub verbose: bool,
    /// VM: add a word to the kernel command line (for kernel development and tests).
    #[arg(long = "kernel-arg", value_name = "ARG", hide = true)]
    pub kernel_args: Vec<String>,
    /// VM: boot this kernel file instead of the one built into unify (kernel development).
    #[arg(long = "kernel", value_name = "FILE", hide = true)]
    pub kernel: Option<PathBuf>,
    /// Hosted: print how many syscalls took the rewritten and the trap path, at exit.
    #[arg(long)]
    pub stats: bool,
    /// Hosted: do not rewrite syscall sites (every syscall takes the trap path).
    #[arg(long)]
    pub no_rewrite: bool,
    /// Hosted: do not give the program the host's vDSO (clock reads become syscalls, visible in --trace).
    #[arg(long)]
    pub no_vdso: bool,
    /// The program (a static x86-64 Linux executable) or an image built by unify.
    #[arg(value_name = "PROGRAM|IMAGE")]
    pub target: Option<PathBuf>,
    /// Its arguments.
    #[arg(allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The image holds the program at /bin/<name> (argv[0] is that path), the -v files, empty \
/dev /etc /proc /sys /tmp and the manifest. It is written under a temporary name and \
appears at OUTPUT only when complete. Prints one line: the image, its size, its files.

Exit status: 0; 2 for a bad command line or an existing OUTPUT without --force, 127 when \
BINARY does not exist, 126 when it is not a static x86-64 ELF, 1 when the image cannot be \
written.")]
pub struct BuildArgs {
    /// The program (a static x86-64 Linux executable).
    pub binary: PathBuf,
    /// Where to write the image.
    #[arg(short = 'o', long = "output", value_name = "IMAGE")]
    pub output: PathBuf,
    /// Replace OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
    /// The VM's network, kept in the image (`unify run IMAGE` uses it unless given
    /// --net): user[,dhcp], tap=IFNAME[,ip=ADDR/PREFIX,gw=ADDR], none... (see `unify run --help`).
    #[arg(long = "net", value_name = "user|tap=IFNAME|none[,...]")]
    pub net: Option<String>,
    #[command(flatten)]
    pub image_args: ImageArgs,
    /// The program's arguments (argv[1..]), recorded in the manifest.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct SyscallsArgs {
    /// Print the table as Markdown (docs/syscalls.md is this output).
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The program to check.
    pub program: PathBuf,
}

const SUBCOMMANDS: &[&str] = &["run", "build", "syscalls", "inspect", "help"];
const TOP_LEVEL_FLAGS: &[&str] = &["-h", "--help", "-V", "--version"];

/// Inserts `run` when the first argument is neither a subcommand nor one of unify's own
/// flags, so that `unify ./server 8080` means `unify run ./server 8080` and
/// `unify -v site:/srv ./server` means `unify run -v site:/srv ./server`.
pub fn with_default_subcommand(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if let Some(first) = args.get(1) {
        let s = first.to_string_lossy();
        if !SUBCOMMANDS.contains(&s.as_ref()) && !TOP_LEVEL_FLAGS.contains(&s.as_ref()) {
            args.insert(1, OsString::from("run"));
        }
    }
    args
}
