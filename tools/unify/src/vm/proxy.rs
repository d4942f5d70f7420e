//! `-p HOST:GUEST` for TCP: unify listens on 127.0.0.1:HOST itself and relays each
//! connection to QEMU's forwarded port, an ephemeral INNER port that QEMU's user network
//! listens on (`hostfwd=tcp:127.0.0.1:INNER-:GUEST`).
//!
//! QEMU's user network (libslirp 4.7) listens with a backlog of 1: of many connects at
//! once most SYNs are dropped and wait for TCP's retransmissions (1, 3, 7 s ...). unify's
//! listener has the usual backlog (128) and connects to INNER one at a time, each with a
//! short timeout (a dropped SYN is retried at once instead of a second later). A busy
//! HOST port is found before QEMU starts. UDP forwards stay QEMU's own.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libos_hosted::net::ports::PortMap;

use crate::fail::Failure;

/// How long a client waits for QEMU's port (QEMU starting, slirp's queue full).
const CONNECT_FOR: Duration = Duration::from_secs(10);
/// One connect to QEMU's port: a SYN slirp's full queue dropped is sent again after this.
const ONE_CONNECT: Duration = Duration::from_millis(250);
/// Between connects refused while QEMU starts.
const RETRY_AFTER: Duration = Duration::from_millis(20);

/// A published TCP port: unify's listener on HOST and QEMU's INNER port.
struct Forward {
    listener: TcpListener,
    inner: u16,
}

/// The TCP ports unify listens on, until [`Published::start`].
pub struct Published {
    forwards: Vec<Forward>,
    /// Set once the VM is gone: clients still waiting for QEMU's port are dropped.
    stopped: Arc<AtomicBool>,
}

/// Listens on every TCP host port (failing with one line for a busy one) and picks an
/// INNER port for each; returns the maps QEMU gets (TCP ones with HOST replaced by INNER,
/// UDP ones as they are).
pub fn listen(ports: &[PortMap]) -> Result<(Published, Vec<PortMap>), Failure> {
    let mut forwards = Vec::new();
    let mut qemu_ports = Vec::new();
    for p in ports {
        if p.udp {
            qemu_ports.push(*p);
            continue;
        }
        let spec = format!("-p {}:{}", p.host, p.guest);
        let listener = TcpListener::bind(("127.0.0.1", p.host)).map_err(|e| match e.kind() {
            ErrorKind::AddrInUse => Failure::failed(format!("{spec}: port {} is in use on 127.0.0.1", p.host)),
            _ => Failure::failed(format!("{spec}: cannot listen on 127.0.0.1:{}: {e}", p.host)),
        })?;
        let inner = free_port().map_err(|e| Failure::failed(format!("{spec}: cannot find a free port: {e}")))?;
        qemu_ports.push(PortMap { host: inner, ..*p });
        forwards.push(Forward { listener, inner });
    }
    Ok((Published { forwards, stopped: Arc::default() }, qemu_ports))
}

/// A port nobody listens on: one the kernel picks for a bind to port 0, released at
/// once for QEMU to bind (the kernel hands ephemeral ports out in turn, so another
/// taker in between is unlikely).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

impl Published {
    /// Accepts on every listener from now on (a thread each, and two per connection).
    /// Call after the forwarded signals are blocked: the threads inherit the mask.
    /// Returns what to call once the VM is gone. The threads never keep unify alive:
    /// it exits with `process::exit`.
    pub fn start(self) -> Stopped {
        // slirp's queue takes one connection at a time: connects to it are taken in turn.
        let connecting = Arc::new(Mutex::new(()));
        for f in self.forwards {
            let (stopped, connecting) = (self.stopped.clone(), connecting.clone());
            std::thread::spawn(move || {
                let inner = SocketAddr::from(([127, 0, 0, 1], f.inner));
                for client in f.listener.incoming() {
                    let Ok(client) = client else { continue };
                    let (stopped, connecting) = (stopped.clone(), connecting.clone());
                    std::thread::spawn(move || serve(client, inner, &stopped, &connecting));
                }
            });
        }
        Stopped(self.stopped)
    }
}

/// Tells waiting clients that the VM is gone.
pub struct Stopped(Arc<AtomicBool>);

impl Stopped {
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// One client: connects to QEMU's port and copies both ways.
fn serve(client: TcpStream, inner: SocketAddr, stopped: &AtomicBool, connecting: &Mutex<()>) {
    let Some(server) = connect(inner, stopped, connecting) else { return };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else { return };
    let up = std::thread::spawn(move || copy(client2, server2));
    copy(server, client);
    let _ = up.join();
}

/// Connects to QEMU's port, one connect at a time; retries while QEMU starts (refused)
/// or while slirp's queue is full (no answer), for [`CONNECT_FOR`] or until the VM is
/// gone.
fn connect(inner: SocketAddr, stopped: &AtomicBool, connecting: &Mutex<()>) -> Option<TcpStream> {
    let deadline = Instant::now() + CONNECT_FOR;
    loop {
        if stopped.load(Ordering::Relaxed) || Instant::now() >= deadline {
            return None;
        }
        let tried = {
            let _turn = connecting.lock().unwrap_or_else(|e| e.into_inner());
            TcpStream::connect_timeout(&inner, ONE_CONNECT)
        };
        match tried {
            Ok(s) => return Some(s),
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Err(_) => std::thread::sleep(RETRY_AFTER),
        }
    }
}

/// Copies `from` to `to` until `from` ends, then half-closes `to` (the other direction
/// goes on). On an error both connections are shut, which ends the other direction too.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_both_ways_with_half_close() {
        // A stand-in for QEMU's port: echoes, then answers "bye" after the client's end.
        let qemu = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let inner = qemu.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in qemu.incoming() {
                let mut s = s.unwrap();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    s.read_to_end(&mut got).unwrap();
                    s.write_all(&got).unwrap();
                    s.write_all(b"bye").unwrap();
                });
            }
        });
        let host = free_port().unwrap();
        let (published, _) = listen(&[PortMap { host, guest: 8080, udp: false }]).unwrap();
        let published = Published {
            forwards: published.forwards.into_iter().map(|f| Forward { inner: inner.port(), ..f }).collect(),
            ..published
        };
        let _stopped = published.start();
        let clients: Vec<_> = (0..32)
            .map(|i| {
                std::thread::spawn(move || {
                    let mut c = TcpStream::connect(("127.0.0.1", host)).unwrap();
                    c.write_all(format!("hello {i}").as_bytes()).unwrap();
                    c.shutdown(Shutdown::Write).unwrap();
                    let mut back = String::new();
                    c.read_to_string(&mut back).unwrap();
                    assert_eq!(back, format!("hello {i}bye"));
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
    }

    #[test]
    fn a_busy_port_is_one_line() {
        let busy = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = busy.local_addr().unwrap().port();
        let udp = PortMap { host: 5353, guest: 53, udp: true };
        let Err(f) = listen(&[udp, PortMap { host: port, guest: 8080, udp: false }]) else { panic!() };
        assert_eq!(f.msg, format!("-p {port}:8080: port {port} is in use on 127.0.0.1"));
    }

    #[test]
    fn qemu_gets_an_inner_port() {
        let host = free_port().unwrap();
        let udp = PortMap { host: 5353, guest: 53, udp: true };
        let (_published, qemu) = listen(&[PortMap { host, guest: 8080, udp: false }, udp]).unwrap();
        assert_eq!(qemu.len(), 2);
        assert!(qemu[0].host != host && qemu[0].guest == 8080 && !qemu[0].udp);
        assert_eq!(qemu[1], udp);
    }
}
