use super::*;

fn words(spec: &str) -> Vec<String> {
    parse(spec).unwrap().kernel_words()
}

#[test]
fn user_networking() {
    let n = parse("user").unwrap();
    assert_eq!(n, Net::default());
    assert!(n.has_card());
    assert!(n.kernel_words().is_empty(), "QEMU's defaults are the kernel's");
    assert_eq!(words("user,dhcp"), ["unify.dhcp=5"]);
    assert_eq!(words("user,dhcp,dhcp-wait=0"), ["unify.dhcp=0"]);
    assert_eq!(words("user,dns=1.1.1.1,dns=9.9.9.9"), ["unify.dns=1.1.1.1,9.9.9.9"]);
    assert_eq!(words("user,dns=1.1.1.1,dhcp"), ["unify.dhcp=5", "unify.dns=1.1.1.1"]);
}

#[test]
fn tap_interfaces() {
    let n = parse("tap=tap0").unwrap();
    assert_eq!(n.backend, Backend::Tap("tap0".into()));
    assert_eq!(n.address, Address::Dhcp { wait_s: DEFAULT_DHCP_WAIT_S });
    assert_eq!(words("tap=tap0,dhcp,dhcp-wait=30"), ["unify.dhcp=30"]);
    assert_eq!(words("tap=tap0,ip=192.168.100.2/24"), ["unify.ip=192.168.100.2/24"]);
    assert_eq!(
        words("tap=tap0,ip=192.168.100.2/24,gw=192.168.100.1,dns=192.168.100.1"),
        ["unify.ip=192.168.100.2/24", "unify.gw=192.168.100.1", "unify.dns=192.168.100.1"]
    );
    assert_eq!(words("tap=my-tap.1,ip=10.1.2.3/8,gw=10.200.0.1"), ["unify.ip=10.1.2.3/8", "unify.gw=10.200.0.1"]);
}

#[test]
fn no_network() {
    let n = parse("none").unwrap();
    assert!(!n.has_card());
    assert!(n.kernel_words().is_empty());
}

#[test]
fn what_is_refused() {
    for (spec, why) in [
        ("", "expected user, tap=IFNAME or none"),
        ("bridge", "expected user, tap=IFNAME or none"),
        ("tap", "tap=IFNAME"),
        ("tap=", "tap=IFNAME"),
        ("tap=a/b", "not an interface name"),
        ("tap=sixteen-chars-xx", "not an interface name"),
        ("none,dhcp", "none takes no options"),
        ("user,ip=10.0.2.16/24", "ip= goes with tap=IFNAME"),
        ("user,gw=10.0.2.2", "gw= goes with tap=IFNAME"),
        ("user,mtu=9000", "unknown option \"mtu=9000\""),
        ("user,dhcp,dhcp", "dhcp given twice"),
        ("user,dhcp-wait=3", "dhcp-wait= goes with DHCP"),
        ("user,dhcp,dhcp-wait=601", "seconds, 0 to 600"),
        ("user,dns=1,dns=2,dns=3,dns=4", "not an IPv4 address"),
        ("user,dns=1.1.1.1,dns=1.1.1.2,dns=1.1.1.3,dns=1.1.1.4", "at most 3 dns="),
        ("tap=t,ip=192.168.1.2", "expected ADDR/PREFIX"),
        ("tap=t,ip=192.168.1.2/33", "the prefix is 1 to 32"),
        ("tap=t,ip=192.168.1.2/0", "the prefix is 1 to 32"),
        ("tap=t,ip=127.0.0.2/8", "not an address a host can have"),
        ("tap=t,ip=0.0.0.0/8", "not an address a host can have"),
        ("tap=t,ip=1.2.3.4/24,ip=1.2.3.5/24", "ip= given twice"),
        ("tap=t,ip=192.168.1.2/24,dhcp", "dhcp and ip= exclude each other"),
        ("tap=t,gw=192.168.1.1", "gw= goes with ip="),
        ("tap=t,ip=192.168.1.2/24,gw=192.168.2.1", "not another address of 192.168.1.2/24"),
        ("tap=t,ip=192.168.1.2/24,gw=192.168.1.2", "not another address"),
        ("tap=t,ip=192.168.1.2/24,dhcp-wait=3", "dhcp-wait= goes with DHCP"),
    ] {
        let err = parse(spec).unwrap_err();
        assert!(err.contains(why), "{spec:?}: {err:?} should say {why:?}");
    }
}

#[test]
fn tap_macs_are_stable_and_differ() {
    assert_eq!(tap_mac("tap0"), tap_mac("tap0"));
    assert_ne!(tap_mac("tap0"), tap_mac("tap1"));
    assert!(tap_mac("tap0").starts_with("52:54:00:"));
    assert_eq!(tap_mac("tap0").len(), 17);
}
