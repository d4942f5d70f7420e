//! bench-http's own load client: keep-alive HTTP/1.1 connections, one `GET /` in flight
//! per connection, the requests shared out as connections free up (as `http_load` does),
//! driven by one thread with epoll. Unlike `http_load` it opens its connections **one at
//! a time before the clock starts**, each checked with one untimed request.
//!
//! Why: QEMU's user network (libslirp) listens on a forwarded host port with a backlog
//! of 1. Connections opened all at once overflow that queue; the host kernel drops the
//! SYNs (or the handshakes' last ACKs) it cannot queue, and those connections wait for
//! TCP's retransmissions at 1, 3, 7, 15 s..., or fail. With `http_load` a VM round of a
//! few seconds then takes from about 1 s to minutes (seen here: 108 s with 6 failed
//! requests in a Linux VM round, 144 s in a unify VM round, and both VMs' 3,000-request
//! rounds unfinished after 60 s in one run), which measures the forwarder's queue, not the
//! server. Opened one by one, every connection is accepted at once; the
//! timed part is the same for every side.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::load::Round;

/// One request (a blocking write sends it whole on an idle connection).
fn request(port: u16) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\r\n").into_bytes()
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    sent: Option<Instant>,
}

/// Sends `requests` requests over `connections` connections to 127.0.0.1:`port`.
pub fn round(port: u16, requests: usize, connections: usize, timeout: Duration) -> Result<Round, String> {
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("the round did not finish within {} s", timeout.as_secs()))
    };
    let req = request(port);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    // Connections, one at a time, each proven by one answered request.
    let mut conns = Vec::with_capacity(connections);
    for i in 0..connections {
        let fail = |what: &str, e: String| format!("connection {} of {connections}: {what}: {e}", i + 1);
        let mut stream = TcpStream::connect_timeout(&addr, left()?).map_err(|e| fail("connect", e.to_string()))?;
        stream.set_nodelay(true).map_err(|e| fail("TCP_NODELAY", e.to_string()))?;
        stream.set_read_timeout(Some(left()?)).map_err(|e| fail("timeout", e.to_string()))?;
        stream.write_all(&req).map_err(|e| fail("send", e.to_string()))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16384];
        loop {
            match response_len(&buf).map_err(|e| fail("first answer", e))? {
                Some(n) if n == buf.len() => break,
                Some(_) => return Err(fail("first answer", "more bytes than one response".into())),
                None => {}
            }
            match stream.read(&mut chunk) {
                Ok(0) => return Err(fail("first answer", "closed by the server".into())),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(fail("first answer", e.to_string())),
            }
        }
        stream.set_nonblocking(true).map_err(|e| fail("O_NONBLOCK", e.to_string()))?;
        conns.push(Conn { stream, buf: Vec::with_capacity(4096), sent: None });
    }

    let epoll = Epoll::new()?;
    for (i, c) in conns.iter().enumerate() {
        epoll.add(c.stream.as_raw_fd(), i as u64)?;
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut issued = 0;
    let mut chunk = [0u8; 16384];
    let start = Instant::now();
    for c in conns.iter_mut() {
        if issued < requests {
            send(c, &req)?;
            issued += 1;
        }
    }
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; connections.max(1)];
    while latencies.len() < requests {
        let n = epoll.wait(&mut events, left()?)?;
        for ev in &events[..n] {
            let i = { ev.u64 } as usize;
            let c = &mut conns[i];
            match c.stream.read(&mut chunk) {
                Ok(0) => return Err(format!("connection {}: closed by the server", i + 1)),
                Ok(n) => c.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("connection {}: {e}", i + 1)),
            }
            let Some(len) = response_len(&c.buf).map_err(|e| format!("connection {}: {e}", i + 1))? else {
                continue;
            };
            if len != c.buf.len() {
                return Err(format!("connection {}: more bytes than one response", i + 1));
            }
            c.buf.clear();
            let Some(sent) = c.sent.take() else {
                return Err(format!("connection {}: an answer to no request", i + 1));
            };
            latencies.push(sent.elapsed());
            if issued < requests {
                send(c, &req)?;
                issued += 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok(Round {
        rps: requests as f64 / secs,
        p50_us: percentile(&latencies, 0.50),
        p99_us: percentile(&latencies, 0.99),
        max_us: latencies.last().map_or(0, |d| d.as_micros() as u64),
    })
}

fn send(c: &mut Conn, req: &[u8]) -> Result<(), String> {
    c.sent = Some(Instant::now());
    match c.stream.write(req) {
        Ok(n) if n == req.len() => Ok(()),
        Ok(n) => Err(format!("a request went out in part ({n} of {} bytes)", req.len())),
        Err(e) => Err(format!("send: {e}")),
    }
}

/// http_load's percentile: the smallest value with at least `p` of them at or below it.
fn percentile(sorted: &[Duration], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_micros() as u64
}

/// The length of the complete response at the start of `buf`, None while it is not all
/// there; an error for anything but a 200 with a `content-length` body.
fn response_len(buf: &[u8]) -> Result<Option<usize>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > 65536 { Err("a header of over 64 KiB".into()) } else { Ok(None) };
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("answered {status:?}"));
    }
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().map_err(|e| format!("content-length {value:?}: {e}"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(format!("transfer-encoding {:?} (this client reads content-length bodies)", value.trim()));
        }
    }
    let length = length.ok_or("a response without content-length")?;
    let total = end + 4 + length;
    Ok((buf.len() >= total).then_some(total))
}

/// An epoll instance (level-triggered, EPOLLIN).
struct Epoll(OwnedFd);

impl Epoll {
    fn new() -> Result<Epoll, String> {
        // SAFETY: epoll_create1 takes a flag and returns a new fd or -1; no memory is passed.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(format!("epoll_create1: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: `fd` was just returned by epoll_create1 and is owned by nothing else.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn add(&self, fd: RawFd, token: u64) -> Result<(), String> {
        let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: token };
        // SAFETY: both fds are open (the socket is owned by the caller for the call's
        // duration) and `ev` is a valid epoll_event the kernel only reads.
        let r = unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if r < 0 {
            return Err(format!("epoll_ctl: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Waits for events until `timeout`; how many were written to `events` (0: none).
    fn wait(&self, events: &mut [libc::epoll_event], timeout: Duration) -> Result<usize, String> {
        let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        let max = events.len().min(i32::MAX as usize) as libc::c_int;
        // SAFETY: `events` is writable for `max` entries for the whole call; the epoll fd
        // is open (owned by self).
        let n = unsafe { libc::epoll_wait(self.0.as_raw_fd(), events.as_mut_ptr(), max, ms) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            return if e.kind() == std::io::ErrorKind::Interrupted { Ok(0) } else { Err(format!("epoll_wait: {e}")) };
        }
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    #[test]
    fn response_lengths() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
        assert_eq!(response_len(ok), Ok(Some(ok.len())));
        assert_eq!(response_len(&ok[..ok.len() - 1]), Ok(None));
        assert_eq!(response_len(b"HTTP/1.1 200 OK\r\ncontent-"), Ok(None));
        assert!(response_len(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_err());
        assert!(response_len(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").is_err());
        assert!(response_len(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
    }

    #[test]
    fn percentiles_as_http_load() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&[], 0.99), 0);
    }

    /// A keep-alive server on a thread per connection: the client's whole round against it.
    #[test]
    fn a_round_against_a_tiny_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            for s in listener.incoming() {
                let mut s = s.unwrap();
                s.set_nodelay(true).unwrap();
                thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            let body = "hello\n";
                            let reply = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                            // Header and body in two writes, as hyper sends them.
                            let (a, b) = reply.split_at(reply.len() - body.len());
                            if s.write_all(a.as_bytes()).and_then(|_| s.write_all(b.as_bytes())).is_err() {
                                return;
                            }
                        }
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                });
            }
        });
        let r = round(port, 500, 4, Duration::from_secs(30)).unwrap();
        assert!(r.rps > 0.0 && r.p50_us <= r.p99_us && r.p99_us <= r.max_us);
    }
}
