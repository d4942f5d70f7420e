//! One load round: `http_load 127.0.0.1:PORT REQUESTS CONNECTIONS` (compat-tests/servers:
//! hyper's client on tokio, keep-alive HTTP/1.1 connections opened at once, one `GET /`
//! in flight per connection, the requests shared out as the connections free up) and its
//! one-line result; and the statistics over rounds.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use bench_vm::linuxvm;

/// What one `http_load` run printed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Round {
    /// Requests answered per second of the whole run (from the first connect to the last
    /// answer).
    pub rps: f64,
    /// Latency of one request, from sending it to the end of its response (connects
    /// are not in it).
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// The load generator's argv after its path.
pub fn args(port: u16, requests: usize, connections: usize) -> Vec<String> {
    vec![format!("127.0.0.1:{port}"), requests.to_string(), connections.to_string()]
}

/// Runs one round; an error if it did not finish within `timeout` (it is then killed), if
/// any request failed, or if its line cannot be read.
pub fn round(load: &Path, port: u16, requests: usize, connections: usize, timeout: Duration) -> Result<Round, String> {
    let mut cmd = Command::new(load);
    cmd.args(args(port, requests, connections)).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    linuxvm::die_with_parent(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", load.display()))?;
    // The output is one short line: it fits in the pipe, so reading after the exit is safe.
    let Some((status, _)) = linuxvm::wait_timeout(&mut child, timeout) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("http_load did not finish within {} s (killed)", timeout.as_secs()));
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    let line = out.lines().find(|l| l.starts_with("requests ")).unwrap_or("").trim();
    if !status.success() {
        let why = if line.is_empty() { err.trim() } else { line };
        return Err(format!("http_load: {status}: {why}"));
    }
    parse(line)
}

/// Reads `requests N ok N failed N seconds S rps R p50_us P p99_us P max_us P`.
pub fn parse(line: &str) -> Result<Round, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let field = |name: &str| -> Result<&str, String> {
        words
            .windows(2)
            .find(|w| w[0] == name)
            .map(|w| w[1])
            .ok_or_else(|| format!("no {name} in http_load's line {line:?}"))
    };
    let num = |name: &str| -> Result<f64, String> {
        field(name)?.parse::<f64>().map_err(|e| format!("{name} in http_load's line {line:?}: {e}"))
    };
    if num("failed")? != 0.0 {
        return Err(format!("requests failed: {line}"));
    }
    Ok(Round {
        rps: num("rps")?,
        p50_us: num("p50_us")? as u64,
        p99_us: num("p99_us")? as u64,
        max_us: num("max_us")? as u64,
    })
}

/// The median (the mean of the middle two for an even count).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// Median, minimum and maximum of one measure over a side's rounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

pub fn spread(v: Vec<f64>) -> Option<Spread> {
    let min = v.iter().copied().reduce(f64::min)?;
    let max = v.iter().copied().reduce(f64::max)?;
    Some(Spread { median: median(v)?, min, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_http_loads_line() {
        let line = "requests 2000 ok 2000 failed 0 seconds 1.014 rps 1972 p50_us 765 p99_us 4890 max_us 7665";
        assert_eq!(parse(line), Ok(Round { rps: 1972.0, p50_us: 765, p99_us: 4890, max_us: 7665 }));
        let failed = "requests 3000 ok 2994 failed 6 seconds 144.003 rps 21 p50_us 15710 p99_us 23863 max_us 1";
        assert!(parse(failed).unwrap_err().starts_with("requests failed"));
        assert!(parse("").is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(spread(vec![5.0, 1.0, 9.0]), Some(Spread { median: 5.0, min: 1.0, max: 9.0 }));
    }
}
