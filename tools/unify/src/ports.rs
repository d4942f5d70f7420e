//! `-p HOST:GUEST[/tcp|/udp]`: which host port serves a port the guest binds.

use libos_hosted::net::ports::PortMap;

use crate::fail::Failure;

/// Parses every `-p` value. Ports are 1–65535; a guest port may be mapped once per
/// protocol, and so may a host port.
pub fn parse_all(specs: &[String]) -> Result<Vec<PortMap>, Failure> {
    let mut maps: Vec<PortMap> = Vec::new();
    for spec in specs {
        let m = parse(spec)?;
        if maps.iter().any(|o| o.udp == m.udp && (o.guest == m.guest || o.host == m.host)) {
            return Err(Failure::usage(format!("-p {spec}: the port is mapped twice")));
        }
        maps.push(m);
    }
    Ok(maps)
}

fn parse(spec: &str) -> Result<PortMap, Failure> {
    let bad = |why: &str| Failure::usage(format!("-p {spec}: {why}"));
    let (ports, proto) = match spec.rsplit_once('/') {
        Some((p, proto)) => (p, proto),
        None => (spec, "tcp"),
    };
    let udp = match proto {
        "tcp" => false,
        "udp" => true,
        _ => return Err(bad("the protocol must be tcp or udp")),
    };
    let (host, guest) = ports.split_once(':').ok_or_else(|| bad("expected HOST:GUEST[/udp]"))?;
    let port = |s: &str| s.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(|| bad("ports are 1 to 65535"));
    Ok(PortMap { host: port(host)?, guest: port(guest)?, udp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(parse("18080:8080").unwrap(), PortMap { host: 18080, guest: 8080, udp: false });
        assert_eq!(parse("5353:53/udp").unwrap(), PortMap { host: 5353, guest: 53, udp: true });
        assert_eq!(parse("1:2/tcp").unwrap(), PortMap { host: 1, guest: 2, udp: false });
        for bad in ["8080", "0:80", "70000:80", "a:b", "1:2/sctp", ":80"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse_all(&["1:2".into(), "3:2".into()]).is_err());
        assert!(parse_all(&["1:2".into(), "1:2/udp".into()]).is_ok());
    }
}
