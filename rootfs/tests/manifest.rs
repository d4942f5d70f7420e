//! The manifest format: round trips with awkward strings, and what the parser refuses.

use unify_rootfs::{Manifest, ManifestError, PortMapping, Protocol};

fn awkward() -> Manifest {
    Manifest {
        program: "/bin/my server".into(),
        argv: vec![
            b"/bin/my server".to_vec(),
            b"--opt=a=b=c".to_vec(),
            b"two\nlines\r\n".to_vec(),
            b"100%25 not an escape %".to_vec(),
            b"".to_vec(),
            b" leading and trailing ".to_vec(),
            vec![0xff, 0xfe, 0x00, 0x80, b'#'],
            "ünïcödé ✓".as_bytes().to_vec(),
            b"# not a comment".to_vec(),
        ],
        env: vec![b"PATH=/bin:/usr/bin".to_vec(), b"EMPTY=".to_vec(), b"NOEQUALS".to_vec(), b"X=\t\x1b[0m".to_vec()],
        cwd: "/data/with space/and=equals".into(),
        ports: vec![
            PortMapping { host: 8080, guest: 80, protocol: Protocol::Tcp },
            PortMapping { host: 5353, guest: 53, protocol: Protocol::Udp },
        ],
        memory: Some(512 << 20),
        net: Some("tap=tap0,ip=192.168.100.2/24".into()),
        extra: vec![("future.key".into(), b"kept = as is\n".to_vec())],
    }
}

#[test]
fn round_trip_with_awkward_strings() {
    let m = awkward();
    let text = m.render();
    assert!(text.iter().all(|&b| b == b'\n' || (b' '..=b'~').contains(&b)), "rendered text is printable ASCII");
    assert_eq!(
        text.iter().filter(|&&b| b == b'\n').count(),
        1 + 1 + 1 + 9 + 4 + 1 + 2 + 1 + 1 + 1,
        "one line per entry"
    );
    assert_eq!(Manifest::parse(&text).unwrap(), m);
    // Rendering is stable.
    assert_eq!(Manifest::parse(&text).unwrap().render(), text);
}

#[test]
fn minimal_manifest_and_defaults() {
    let m = Manifest::parse(b"program=/bin/x\n").unwrap();
    assert_eq!(m.program, "/bin/x");
    assert_eq!(m.cwd, "/");
    assert!(m.argv.is_empty() && m.env.is_empty() && m.ports.is_empty() && m.memory.is_none() && m.net.is_none());
    let m = Manifest { program: "/p".into(), ..Manifest::default() };
    assert_eq!(Manifest::parse(&m.render()).unwrap(), m);
}

#[test]
fn hand_written_manifests() {
    let text = b"# comment\r\n\r\nversion=1\r\nprogram=/bin/app\r\narg=/bin/app\r\narg=hello world\r\nport=1:2\r\n";
    let m = Manifest::parse(text).unwrap();
    assert_eq!(m.argv, vec![b"/bin/app".to_vec(), b"hello world".to_vec()]);
    assert_eq!(m.ports, vec![PortMapping { host: 1, guest: 2, protocol: Protocol::Tcp }]);
    // Raw non-ASCII bytes are accepted as they are.
    let m = Manifest::parse("program=/bin/ü\narg=é\n".as_bytes()).unwrap();
    assert_eq!(m.program, "/bin/ü");
    assert_eq!(m.argv, vec!["é".as_bytes().to_vec()]);
    // Lower-case hex escapes too.
    assert_eq!(Manifest::parse(b"program=/a%2fb\n").unwrap().program, "/a/b");
}

#[test]
fn errors_name_the_line() {
    let err = |text: &[u8]| Manifest::parse(text).unwrap_err();
    assert_eq!(err(b"arg=x\n"), ManifestError { line: 0, reason: "no program= line" });
    assert_eq!(err(b"program=/a\nno equals sign\n").line, 2);
    assert_eq!(err(b"program=/a\n=value\n").line, 2);
    assert_eq!(err(b"program=/a\nbad key=v\n").line, 2);
    assert_eq!(err(b"program=/a\narg=%4\n").line, 2);
    assert_eq!(err(b"program=/a\narg=%zz\n").line, 2);
    assert_eq!(err(b"program=/a\nprogram=/b\n").reason, "key given twice");
    assert_eq!(err(b"version=2\nprogram=/a\n").line, 1);
    assert_eq!(err(b"program=%ff\n").reason, "value must be UTF-8");
    assert_eq!(err(b"program=/a\nport=80\n").line, 2);
    assert_eq!(err(b"program=/a\nport=1:2/sctp\n").line, 2);
    assert_eq!(err(b"program=/a\nport=70000:1\n").line, 2);
    assert_eq!(err(b"program=/a\nmemory=lots\n").line, 2);
    assert_eq!(err(b"program=/a\nnet=user\nnet=none\n").reason, "key given twice");
    assert_eq!(err(b"program=/a\nmemory=1\nmemory=2\n").line, 3);
    assert_eq!(err(b"program=/a\narg=x\ncwd=/a\ncwd=/b\n").to_string(), "manifest line 4: key given twice");
}
