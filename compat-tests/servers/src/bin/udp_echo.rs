//! `udp_echo PORT`: echoes every datagram sent to 0.0.0.0:PORT back to its sender, on
//! tokio. Prints "echoing on port PORT" when ready and "shutting down after N
//! datagrams" on SIGINT, then exits 0.

use tokio::net::UdpSocket;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let port: u16 = match std::env::args().nth(1).and_then(|p| p.parse().ok()) {
        Some(p) => p,
        None => {
            eprintln!("usage: udp_echo PORT");
            std::process::exit(2);
        }
    };
    let sock = match UdpSocket::bind(("0.0.0.0", port)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("udp_echo: cannot bind port {port}: {e}");
            std::process::exit(1);
        }
    };
    // One SIGINT listener for the whole loop: a `ctrl_c()` made anew in each round of
    // the select would miss a SIGINT that lands between two rounds.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    println!("echoing on port {port}");
    let mut buf = vec![0u8; 65536];
    let mut count = 0u64;
    loop {
        tokio::select! {
            got = sock.recv_from(&mut buf) => {
                let Ok((n, from)) = got else { continue };
                count += 1;
                let _ = sock.send_to(&buf[..n], from).await;
            }
            _ = &mut interrupted => break,
        }
    }
    println!("shutting down after {count} datagrams");
}
