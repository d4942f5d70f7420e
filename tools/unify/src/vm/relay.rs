//! The three serial ports between unify and the VM, relayed by unify itself so that it
//! decides the ordering and the end of each stream.
//!
//! Each port is a socket pair: QEMU gets one end as `-chardev socket,fd=N` (QEMU 7.2
//! takes an inherited, connected socket this way), unify keeps the other.
//!
//! - COM1: what the guest transmits is its stdout, copied byte for byte to unify's
//!   stdout; unify's stdin is copied to COM1's receiver (the guest's stdin).
//! - COM2: what the guest transmits is its stderr, copied to unify's stderr.
//! - COM3: what the kernel transmits is its log (text lines: shown with `--verbose`,
//!   the last ones kept for failure reports, the exit record taken from them); what
//!   unify sends there is control lines (`eof`, `signal N`), see [`Control`].
//!
//! Nothing is ever shut down towards QEMU: its socket chardev takes a half-close for a
//! disconnect and then drops the port's output too. The end of stdin is therefore the
//! control line `eof N`, sent once every byte of stdin has been written to COM1, with
//! N the number of bytes: QEMU may still hold some of them (the UART takes 16 at a
//! time) when the control line arrives, so the kernel ends stdin only once it has
//! received N bytes. The
//! output relays end when QEMU has exited and closed its ends, which is how the ports
//! are drained to the last byte.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::status::LogTail;

const CHUNK: usize = 64 * 1024;

/// One end of each port.
pub struct Ports {
    pub com1: UnixStream,
    pub com2: UnixStream,
    pub com3: UnixStream,
}

/// Three socket pairs (close-on-exec): unify's ends and QEMU's ends.
pub fn pairs() -> std::io::Result<(Ports, Ports)> {
    let (a1, b1) = UnixStream::pair()?;
    let (a2, b2) = UnixStream::pair()?;
    let (a3, b3) = UnixStream::pair()?;
    Ok((Ports { com1: a1, com2: a2, com3: a3 }, Ports { com1: b1, com2: b2, com3: b3 }))
}

/// unify's own stdout or stderr, written without any buffering of ours.
#[derive(Debug, Clone, Copy)]
pub enum Sink {
    Stdout,
    Stderr,
}

impl Sink {
    fn file(self) -> ManuallyDrop<File> {
        let fd = match self {
            Sink::Stdout => 1,
            Sink::Stderr => 2,
        };
        // SAFETY: fds 1 and 2 stay open for the life of the process; ManuallyDrop keeps
        // this File from closing them.
        ManuallyDrop::new(unsafe { File::from_raw_fd(fd) })
    }
}

/// Set once the kernel has written anything on COM3.
pub type LogStarted = Arc<AtomicBool>;

/// The line the kernel writes on COM3 once COM1 and COM3 take input: a UART set up
/// after bytes arrived loses them (turning its FIFO on resets it), so unify sends
/// nothing — stdin, control lines — before it.
pub const READY_LINE: &str = "unify-kernel: ready for input";

/// Opens when the kernel is ready for input ([`READY_LINE`]) or the log has ended (the
/// VM is gone: senders then find a closed port, not a wait for ever).
#[derive(Default)]
pub struct Ready {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Ready {
    pub fn open(&self) {
        *self.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.changed.notify_all();
    }

    pub fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while !*open {
            open = self.changed.wait(open).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Reads `port` to its end, copying every byte to `sink` as it comes. With `tail_until`,
/// also returns the stream's last lines for as long as the kernel has said nothing on
/// COM3 (see `mod.rs`: a kernel that does not log on COM3 logs on COM1). A sink that
/// fails (a closed pipe) stops the copying, not the draining: the guest is never held up
/// by unify's output.
pub fn copy_out(mut port: UnixStream, sink: Sink, tail_until: Option<LogStarted>) -> JoinHandle<LogTail> {
    std::thread::spawn(move || {
        let mut out = sink.file();
        let mut sink_ok = true;
        let mut tail = LogTail::default();
        let mut buf = vec![0u8; CHUNK];
        loop {
            match port.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if sink_ok && out.write_all(&buf[..n]).is_err() {
                        sink_ok = false;
                    }
                    if tail_until.as_ref().is_some_and(|started| !started.load(Ordering::Relaxed)) {
                        tail.feed(&buf[..n], |_| {});
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        tail.end(|_| {});
        tail
    })
}

/// Reads the kernel log from COM3 to its end: every line goes to stderr at once when
/// `verbose`; the last lines and the exit record are returned. `started` is set at the
/// first byte.
pub fn read_log(mut port: UnixStream, verbose: bool, started: LogStarted, ready: Arc<Ready>) -> JoinHandle<LogTail> {
    std::thread::spawn(move || {
        let mut err = Sink::Stderr.file();
        let gate = ready.clone();
        let mut show = |line: &str| {
            if line == READY_LINE {
                gate.open();
                return;
            }
            if verbose {
                // One write per line, so lines do not interleave with the guest's stderr.
                let _ = err.write_all(format!("{line}\n").as_bytes());
            }
        };
        let mut tail = LogTail::default();
        let mut buf = vec![0u8; CHUNK];
        loop {
            match port.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    started.store(true, Ordering::Relaxed);
                    tail.feed(&buf[..n], &mut show);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        tail.end(&mut show);
        ready.open();
        tail
    })
}

/// The control channel to the kernel (COM3's receiver): one line per message, written
/// whole under a lock so that the stdin relay and the signal forwarder never interleave.
pub struct Control {
    port: Mutex<UnixStream>,
    ready: Arc<Ready>,
}

impl Control {
    pub fn new(port: UnixStream, ready: Arc<Ready>) -> Arc<Control> {
        Arc::new(Control { port: Mutex::new(port), ready })
    }

    /// Sends one line (`eof 42`, `signal 2`) once the kernel is ready for input. A VM
    /// that has gone away is not an error.
    pub fn send(&self, line: &str) {
        self.ready.wait();
        let mut port = self.port.lock().unwrap_or_else(|e| e.into_inner());
        let _ = port.write_all(format!("{line}\n").as_bytes());
    }
}

/// Copies unify's stdin to COM1's receiver, then sends `eof N` (N bytes in all) on the
/// control channel.
/// A terminal stays as it is (not raw): it gives lines, which are relayed as they come.
/// The thread is detached: it may stay blocked reading stdin until unify exits.
pub fn copy_stdin(mut com1: UnixStream, control: Arc<Control>) {
    std::thread::spawn(move || {
        // SAFETY: fd 0 stays open for the life of the process; ManuallyDrop keeps this
        // File from closing it.
        let mut stdin = ManuallyDrop::new(unsafe { File::from_raw_fd(0) });
        let mut buf = vec![0u8; CHUNK];
        let mut total: u64 = 0;
        control.ready.wait();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if com1.write_all(&buf[..n]).is_err() {
                        // The VM has gone: nobody is left to tell.
                        return;
                    }
                    total += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // No stdin (closed, or not readable): the same as an empty one.
                Err(_) => break,
            }
        }
        control.send(&format!("eof {total}"));
    });
}
