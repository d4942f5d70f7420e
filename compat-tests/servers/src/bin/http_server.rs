//! `http_server PORT`: a static HTTP/1.1 server on tokio's multi-threaded runtime and
//! hyper, listening on 0.0.0.0:PORT with keep-alive. `GET /` answers the page below,
//! `GET /health` "ok", anything else 404. Prints "listening on port PORT" when ready
//! and "shutting down after N requests" when SIGINT arrives, then exits 0.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The page `GET /` serves.
const PAGE: &str = "<!doctype html>\n<title>unify</title>\n<p>Hello from a tokio + hyper server.</p>\n";

async fn answer(
    req: Request<hyper::body::Incoming>,
    served: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    served.fetch_add(1, Ordering::Relaxed);
    let (status, body, kind) = match req.uri().path() {
        "/" => (StatusCode::OK, PAGE, "text/html; charset=utf-8"),
        "/health" => (StatusCode::OK, "ok\n", "text/plain"),
        _ => (StatusCode::NOT_FOUND, "not found\n", "text/plain"),
    };
    let resp = Response::builder()
        .status(status)
        .header("content-type", kind)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("a valid response");
    Ok(resp)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let port: u16 = match std::env::args().nth(1).and_then(|p| p.parse().ok()) {
        Some(p) => p,
        None => {
            eprintln!("usage: http_server PORT");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind(("0.0.0.0", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("http_server: cannot listen on port {port}: {e}");
            std::process::exit(1);
        }
    };
    // One SIGINT listener for the whole loop: a `ctrl_c()` made anew in each round of
    // the select would miss a SIGINT that lands between two rounds.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    println!("listening on port {port}");
    let served = Arc::new(AtomicU64::new(0));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let served = served.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(req, served.clone()));
                    let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = &mut interrupted => break,
        }
    }
    println!("shutting down after {} requests", served.load(Ordering::Relaxed));
}
