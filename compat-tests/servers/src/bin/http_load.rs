//! `http_load URL-HOST:PORT REQUESTS CONNECTIONS [PATH]`: sends REQUESTS `GET PATH`
//! requests (default `/`) over CONNECTIONS keep-alive HTTP/1.1 connections at once
//! (hyper's client, tokio's multi-threaded runtime) and prints one line:
//! `requests N ok N failed N seconds S rps R p50_us P p99_us P max_us P`.
//! Exits 1 if any request failed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

struct Totals {
    next: AtomicUsize,
    ok: AtomicUsize,
    failed: AtomicUsize,
}

async fn connection(addr: String, path: String, total: usize, totals: Arc<Totals>) -> Vec<Duration> {
    let mut lat = Vec::new();
    let stream = match TcpStream::connect(&addr).await {
        Ok(s) => s,
        Err(_) => return lat,
    };
    let _ = stream.set_nodelay(true);
    let Ok((mut sender, conn)) = http1::handshake(TokioIo::new(stream)).await else { return lat };
    tokio::spawn(async move {
        let _ = conn.await;
    });
    while totals.next.fetch_add(1, Ordering::Relaxed) < total {
        let req =
            Request::get(path.as_str()).header("host", addr.as_str()).body(Empty::<Bytes>::new()).expect("request");
        let start = Instant::now();
        let good = match sender.send_request(req).await {
            Ok(resp) => {
                let status = resp.status();
                resp.into_body().collect().await.is_ok() && status.is_success()
            }
            Err(_) => false,
        };
        lat.push(start.elapsed());
        let counter = if good { &totals.ok } else { &totals.failed };
        counter.fetch_add(1, Ordering::Relaxed);
        if !good {
            break;
        }
    }
    lat
}

fn pct(sorted: &[Duration], p: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_micros()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: http_load HOST:PORT REQUESTS CONNECTIONS [PATH]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let total: usize = args[2].parse().expect("REQUESTS is a number");
    let conns: usize = args[3].parse().expect("CONNECTIONS is a number");
    let path = args.get(4).cloned().unwrap_or_else(|| "/".to_string());
    let totals = Arc::new(Totals { next: AtomicUsize::new(0), ok: AtomicUsize::new(0), failed: AtomicUsize::new(0) });
    let start = Instant::now();
    let tasks: Vec<_> =
        (0..conns).map(|_| tokio::spawn(connection(addr.clone(), path.clone(), total, totals.clone()))).collect();
    let mut lat = Vec::with_capacity(total);
    for t in tasks {
        lat.extend(t.await.unwrap_or_default());
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let ok = totals.ok.load(Ordering::Relaxed);
    let failed = total - ok;
    println!(
        "requests {total} ok {ok} failed {failed} seconds {secs:.3} rps {:.0} p50_us {} p99_us {} max_us {}",
        ok as f64 / secs,
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        lat.last().map_or(0, |d| d.as_micros())
    );
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
