//! `--net-check SERVER`: a server in the Linux VM, reached from the host through QEMU's
//! user network (`hostfwd`), as issue 6's HTTP benchmark will use it. Starts the VM,
//! waits for the server's ready line on the console, sends one `GET /` and prints the
//! timings and the status line.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use bench_vm::debian::LinuxKernel;
use bench_vm::linuxvm::{self, Init, KernelImage, LinuxVm, Spec};

pub const GUEST_PORT: u16 = 8080;

pub fn run(
    kernel: &LinuxKernel,
    cache: &Path,
    server: &Path,
    ready: &str,
    mem_mib: u32,
    timeout: Duration,
) -> Result<(), String> {
    let host_port = free_port()?;
    let vm = LinuxVm::prepare(
        kernel,
        cache,
        Spec {
            program: server,
            args: vec![GUEST_PORT.to_string()],
            init: Init::Wrapper { net: true },
            image: KernelImage::BzImage,
            extra_qemu: linuxvm::user_net(host_port, GUEST_PORT),
        },
    )?;
    println!("net check: {}", vm.command_line(mem_mib));
    let mut running = vm.spawn(mem_mib)?;
    let Some(up) = running.serial.wait_for(ready.as_bytes(), running.started + timeout) else {
        running.kill();
        return Err(format!(
            "no {ready:?} from the server on the console; console:\n{}\nQEMU: {}",
            running.serial.text(),
            running.stderr.text().trim()
        ));
    };
    let sent = Instant::now();
    let reply = get(host_port);
    let got = Instant::now();
    running.kill();
    let reply = reply.map_err(|e| format!("GET / through 127.0.0.1:{host_port}: {e}"))?;
    let status = reply.lines().next().unwrap_or("").trim().to_string();
    println!(
        "net check: {ready:?} on the console after {:.0} ms; GET / through hostfwd 127.0.0.1:{host_port} -> \
         10.0.2.15:{GUEST_PORT}: {status:?}, {} bytes, {:.1} ms",
        ms(up - running.started),
        reply.len(),
        ms(got - sent)
    );
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("unexpected reply: {reply:?}"));
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("a free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// One HTTP/1.1 GET with `Connection: close`; the whole reply.
fn get(port: u16) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
