//! The client side of the server cases: a small HTTP/1.1 client over std's
//! `TcpStream` (keep-alive, `Content-Length` bodies) and a UDP echo check. Each check
//! returns the transcript the runs are compared by: lines with what was observed,
//! never a port or a time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One HTTP response.
struct Response {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// A keep-alive connection.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(port: u16) -> Result<Conn, String> {
        let s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
        s.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        let writer = s.try_clone().map_err(|e| e.to_string())?;
        Ok(Conn { reader: BufReader::new(s), writer })
    }

    fn get(&mut self, path: &str) -> Result<Response, String> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: compat-runner\r\n\r\n");
        self.writer.write_all(req.as_bytes()).map_err(|e| format!("send: {e}"))?;
        let mut line = String::new();
        self.reader.read_line(&mut line).map_err(|e| format!("status line: {e}"))?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let (mut len, mut content_type) = (0usize, String::new());
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).map_err(|e| format!("header: {e}"))?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => len = v.trim().parse().map_err(|_| format!("bad length {v:?}"))?,
                    "content-type" => content_type = v.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; len];
        self.reader.read_exact(&mut body).map_err(|e| format!("body: {e}"))?;
        Ok(Response { status, content_type, body })
    }
}

/// The HTTP server's transcript: three requests, then `requests` more over
/// `connections` keep-alive connections at once.
pub fn http_check(port: u16, requests: usize, connections: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut conn = match Conn::open(port) {
        Ok(c) => c,
        Err(e) => return vec![format!("cannot connect: {e}")],
    };
    for path in ["/", "/health", "/missing"] {
        match conn.get(path) {
            Ok(r) => out.push(format!(
                "GET {path} -> {} {:?} {} bytes {:?}",
                r.status,
                r.content_type,
                r.body.len(),
                String::from_utf8_lossy(&r.body)
            )),
            Err(e) => out.push(format!("GET {path} failed: {e}")),
        }
    }
    drop(conn);
    let per = requests.div_ceil(connections);
    let workers: Vec<_> = (0..connections)
        .map(|i| {
            let n = per.min(requests.saturating_sub(i * per));
            std::thread::spawn(move || -> Result<usize, String> {
                let mut c = Conn::open(port)?;
                let mut ok = 0;
                for _ in 0..n {
                    let r = c.get("/")?;
                    if r.status == 200 && !r.body.is_empty() {
                        ok += 1;
                    }
                }
                Ok(ok)
            })
        })
        .collect();
    let (mut ok, mut errors) = (0, Vec::new());
    for w in workers {
        match w.join() {
            Ok(Ok(n)) => ok += n,
            Ok(Err(e)) => errors.push(e),
            Err(_) => errors.push("a client thread panicked".to_string()),
        }
    }
    out.push(format!("{requests} requests over {connections} keep-alive connections: {ok} answered 200"));
    errors.sort();
    errors.dedup();
    for e in errors {
        out.push(format!("client error: {e}"));
    }
    out
}

/// The UDP echo server's transcript: datagrams of several sizes from one socket, then
/// a burst from several sockets.
pub fn udp_check(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    let sock = match UdpSocket::bind(("127.0.0.1", 0)) {
        Ok(s) => s,
        Err(e) => return vec![format!("bind: {e}")],
    };
    let _ = sock.set_read_timeout(Some(IO_TIMEOUT));
    let mut buf = vec![0u8; 65536];
    for size in [1usize, 100, 1400, 8000, 60000] {
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let line = match sock.send_to(&data, ("127.0.0.1", port)) {
            Err(e) => format!("{size} bytes: send failed: {e}"),
            Ok(_) => match sock.recv_from(&mut buf) {
                Ok((n, _)) => format!("{size} bytes: echoed {n}, equal {}", buf[..n] == data[..]),
                Err(e) => format!("{size} bytes: no echo: {e}"),
            },
        };
        out.push(line);
    }
    let socks: Vec<UdpSocket> = (0..4).filter_map(|_| UdpSocket::bind(("127.0.0.1", 0)).ok()).collect();
    let mut echoed = 0;
    for (i, s) in socks.iter().enumerate() {
        let _ = s.set_read_timeout(Some(IO_TIMEOUT));
        for k in 0..5 {
            let msg = format!("socket {i} datagram {k}");
            if s.send_to(msg.as_bytes(), ("127.0.0.1", port)).is_ok() {
                if let Ok((n, _)) = s.recv_from(&mut buf) {
                    if &buf[..n] == msg.as_bytes() {
                        echoed += 1;
                    }
                }
            }
        }
    }
    out.push(format!("20 datagrams from 4 sockets: {echoed} echoed"));
    out
}
