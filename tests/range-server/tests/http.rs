//! Real HTTP over 127.0.0.1 against an in-process `RangeServer`, with ureq as the client.

#![expect(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test code: a panic is the failure report; byte patterns"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use range_server::{Config, Fault, FaultSpec, FileStats, RangeServer, Stats};
use ureq::Agent;

const SIZE: usize = 300_000;

fn data() -> Vec<u8> {
    (0..SIZE).map(|i| (i * 7 + i / 251) as u8).collect()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    server: RangeServer,
}

fn fixture() -> Fixture {
    fixture_with(|_| {})
}

fn fixture_with(edit: impl FnOnce(&mut Config)) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("served");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("data.bin"), data()).unwrap();
    std::fs::write(dir.join("sub/small.txt"), b"0123456789").unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();
    std::fs::write(tmp.path().join("secret.txt"), b"top secret").unwrap();
    let web = tmp.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), b"<h1>hi</h1>").unwrap();
    std::fs::write(web.join("app.wasm"), b"\0asm-0123456789").unwrap();
    let mut config = Config {
        dir,
        static_dir: Some(web),
        ..Default::default()
    };
    edit(&mut config);
    let server = RangeServer::start(config).unwrap();
    Fixture { _tmp: tmp, server }
}

fn agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

type Resp = ureq::http::Response<ureq::Body>;

fn get(url: &str, range: Option<&str>) -> Resp {
    let mut req = agent().get(url);
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    req.call().unwrap()
}

fn header<'a>(resp: &'a Resp, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name}"))
}

fn body(resp: Resp) -> Vec<u8> {
    resp.into_body()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap()
}

/// Reads a body until it ends or fails; returns the bytes and whether it failed.
fn body_lossy(resp: Resp) -> (Vec<u8>, bool) {
    let mut reader = resp.into_body().into_reader();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return (out, false),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, true),
        }
    }
}

fn raw_status(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or("").to_string()
}

#[test]
fn ranges_return_exact_bytes() {
    let f = fixture();
    let url = f.server.url("data.bin");
    let d = data();
    for (range, start, end) in [
        ("bytes=0-0", 0, 0),
        ("bytes=100-199", 100, 199),
        ("bytes=123456-299999", 123456, 299999),
        ("bytes=299990-999999", 299990, 299999),
        ("bytes=250000-", 250000, 299999),
        ("bytes=-1000", 299000, 299999),
        ("bytes=-999999", 0, 299999),
    ] {
        let resp = get(&url, Some(range));
        assert_eq!(resp.status(), 206, "{range}");
        assert_eq!(
            header(&resp, "content-range"),
            format!("bytes {start}-{end}/{SIZE}")
        );
        assert_eq!(
            header(&resp, "content-length"),
            (end - start + 1).to_string()
        );
        assert_eq!(header(&resp, "accept-ranges"), "bytes");
        assert_eq!(header(&resp, "content-type"), "application/octet-stream");
        assert_eq!(body(resp), &d[start..=end], "{range}");
    }
    // Subdirectories work.
    let resp = get(&f.server.url("sub/small.txt"), Some("bytes=3-5"));
    assert_eq!(resp.status(), 206);
    assert_eq!(body(resp), b"345");
}

#[test]
fn no_range_multi_range_and_unsatisfiable() {
    let f = fixture();
    let url = f.server.url("data.bin");
    let resp = get(&url, None);
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length"), SIZE.to_string());
    assert_eq!(header(&resp, "accept-ranges"), "bytes");
    assert_eq!(body(resp), data());

    // Multi-range and malformed headers are answered 200 with the whole file.
    for range in ["bytes=0-1,5-6", "bytes=9-3", "chunks=0-1"] {
        let resp = get(&url, Some(range));
        assert_eq!(resp.status(), 200, "{range}");
        assert_eq!(body(resp).len(), SIZE);
    }

    for range in ["bytes=300000-", "bytes=400000-400010", "bytes=-0"] {
        let resp = get(&url, Some(range));
        assert_eq!(resp.status(), 416, "{range}");
        assert_eq!(header(&resp, "content-range"), format!("bytes */{SIZE}"));
    }
    let resp = get(&f.server.url("empty"), Some("bytes=0-"));
    assert_eq!(resp.status(), 416);
    let resp = get(&f.server.url("empty"), None);
    assert_eq!(resp.status(), 200);
    assert!(body(resp).is_empty());

    assert_eq!(get(&f.server.url("missing.bin"), None).status(), 404);
    assert_eq!(get(&f.server.url("sub"), None).status(), 404);
}

#[test]
fn head_etag_last_modified() {
    let f = fixture();
    let url = f.server.url("data.bin");
    let resp = agent().head(&url).call().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length"), SIZE.to_string());
    let etag = header(&resp, "etag").to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    let lm = header(&resp, "last-modified").to_string();
    assert!(lm.ends_with(" GMT"), "{lm}");
    assert!(body(resp).is_empty());

    let resp = agent()
        .head(&url)
        .header("Range", "bytes=10-19")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        header(&resp, "content-range"),
        format!("bytes 10-19/{SIZE}")
    );
    assert_eq!(header(&resp, "content-length"), "10");
    assert_eq!(header(&resp, "etag"), etag, "ETag is stable");
    assert_eq!(header(&resp, "last-modified"), lm);

    // HEAD sends no body bytes.
    let stats = f.server.stats();
    assert_eq!((stats.requests, stats.bytes), (2, 0));
}

#[test]
fn cors_headers_and_preflight() {
    let f = fixture();
    let url = f.server.url("data.bin");
    let resp = get(&url, Some("bytes=0-3"));
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    let expose = header(&resp, "access-control-expose-headers").to_ascii_lowercase();
    for h in ["content-range", "content-length", "accept-ranges", "etag"] {
        assert!(expose.contains(h), "{expose}");
    }

    let resp = agent()
        .options(&url)
        .header("Origin", "http://localhost:8080")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "range")
        .call()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    let methods = header(&resp, "access-control-allow-methods");
    for m in ["GET", "HEAD", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = header(&resp, "access-control-allow-headers").to_ascii_lowercase();
    for h in ["range", "authorization", "content-type"] {
        assert!(allowed.contains(h), "{allowed}");
    }
    // Preflights are not counted.
    assert_eq!(f.server.stats().requests, 1);
}

#[test]
fn redirect_to_files() {
    let f = fixture();
    let resp = get(&f.server.redirect_url("sub/small.txt"), None);
    assert_eq!(resp.status(), 302);
    assert_eq!(header(&resp, "location"), "/files/sub/small.txt");
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");

    // A following client ends up with the bytes.
    let following: Agent = Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resp = following
        .get(&f.server.redirect_url("sub/small.txt"))
        .header("Range", "bytes=2-4")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(body(resp), b"234");
    // Two redirects and one file request; only the file request is counted per file.
    let stats = f.server.stats();
    assert_eq!(stats.requests, 3);
    assert_eq!(
        stats.files["sub/small.txt"],
        FileStats {
            requests: 1,
            bytes: 3
        }
    );
}

#[test]
fn redirect_to_another_origin_and_credentials_counted() {
    let f = fixture();
    let other = fixture();
    let origin = other.server.base_url();
    let url = f.server.redirect_url_to(&origin, "sub/small.txt");
    let resp = get(&url, None);
    assert_eq!(resp.status(), 302);
    assert_eq!(
        header(&resp, "location"),
        format!("{origin}/files/sub/small.txt")
    );
    // Not an open redirect.
    let evil = f.server.redirect_url_to("https://evil.example", "x");
    assert_eq!(get(&evil, None).status(), 400);
    // Requests with `Authorization` are counted; preflights and control are not.
    let with_key = |url: &str| {
        agent()
            .get(url)
            .header("Authorization", "token k")
            .call()
            .unwrap()
    };
    with_key(&other.server.url("sub/small.txt"));
    with_key(&format!("{}/__control/stats", other.server.base_url()));
    agent()
        .options(&other.server.url("sub/small.txt"))
        .header("Authorization", "token k")
        .call()
        .unwrap();
    get(&other.server.url("sub/small.txt"), None);
    assert_eq!(other.server.stats().authorized, 1);
    assert_eq!(f.server.stats().authorized, 0);
}

#[test]
fn fake_api_matches_queries_however_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let routes = dir.path().join("routes.json");
    std::fs::write(
        &routes,
        r#"{"json": {"/api/x/?p=a/b c&n=1": {"hit": 1}, "/api/y/": {"hit": 2}},
            "redirects": {"/api/d/": "http://127.0.0.1:9/files/f"}}"#,
    )
    .unwrap();
    let f = fixture_with(|c| c.api_routes = Some(routes));
    let base = f.server.base_url();
    for query in ["p=a/b c&n=1", "p=a%2Fb+c&n=1", "p=a%2Fb%20c&n=1"] {
        let resp = get(
            &format!("{base}/api/x/?{}", query.replace(' ', "%20")),
            None,
        );
        assert_eq!(resp.status(), 200, "{query}");
        assert_eq!(body(resp), br#"{"hit":1}"#);
    }
    assert_eq!(get(&format!("{base}/api/x/?p=a/b&n=1"), None).status(), 404);
    assert_eq!(
        body(get(&format!("{base}/api/y/?any=1"), None)),
        br#"{"hit":2}"#
    );
    assert_eq!(get(&format!("{base}/api/d/"), None).status(), 302);
}

#[test]
fn latency_delays_files_but_not_control() {
    let f = fixture_with(|c| c.latency_ms = 300);
    let url = f.server.url("sub/small.txt");
    let t = Instant::now();
    assert_eq!(get(&url, Some("bytes=0-1")).status(), 206);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );

    let t = Instant::now();
    let resp = get(&format!("{}/__control/stats", f.server.base_url()), None);
    assert_eq!(resp.status(), 200);
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );

    f.server.set_latency_ms(0);
    let t = Instant::now();
    get(&url, None);
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );

    let resp = agent()
        .post(&format!("{}/__control/latency?ms=250", f.server.base_url()))
        .send_empty()
        .unwrap();
    assert!(resp.status().is_success());
    let t = Instant::now();
    get(&url, None);
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn status_faults() {
    let f = fixture_with(|c| c.fault = Fault::Status500);
    let url = f.server.url("data.bin");
    assert_eq!(get(&url, Some("bytes=0-9")).status(), 500);
    f.server.set_fault(Fault::Status404);
    assert_eq!(get(&url, Some("bytes=0-9")).status(), 404);
    f.server.set_fault(Fault::None);
    assert_eq!(get(&url, Some("bytes=0-9")).status(), 206);
}

#[test]
fn reset_fault_closes_without_response() {
    let f = fixture_with(|c| c.fault = Fault::Reset);
    let url = f.server.url("data.bin");
    assert!(
        agent()
            .get(&url)
            .header("Range", "bytes=0-9")
            .call()
            .is_err()
    );
    assert!(agent().head(&url).call().is_err());
    let status = raw_status(f.server.addr(), "/files/data.bin");
    assert_eq!(status, "", "no response at all");
    f.server.set_fault(Fault::None);
    assert_eq!(get(&url, Some("bytes=0-9")).status(), 206);
}

#[test]
fn ignore_range_fault() {
    let f = fixture_with(|c| c.fault = Fault::IgnoreRange);
    let resp = get(&f.server.url("data.bin"), Some("bytes=10-19"));
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("content-range").is_none());
    assert_eq!(body(resp), data());
}

#[test]
fn wrong_content_range_fault() {
    let f = fixture_with(|c| c.fault = Fault::WrongContentRange);
    let url = f.server.url("data.bin");
    let resp = get(&url, Some("bytes=10-19"));
    assert_eq!(resp.status(), 206);
    assert_eq!(
        header(&resp, "content-range"),
        format!("bytes 11-20/{SIZE}")
    );
    assert_eq!(
        body(resp),
        &data()[10..20],
        "the body is the requested range"
    );
    let resp = get(&url, Some("bytes=-10"));
    assert_eq!(
        header(&resp, "content-range"),
        format!("bytes 299989-299998/{SIZE}")
    );
}

#[test]
fn truncate_fault() {
    let f = fixture_with(|c| c.fault = Fault::Truncate);
    let url = f.server.url("data.bin");
    let resp = get(&url, Some("bytes=1000-1999"));
    assert_eq!(resp.status(), 206);
    assert_eq!(
        header(&resp, "content-range"),
        format!("bytes 1000-1999/{SIZE}")
    );
    assert_eq!(header(&resp, "content-length"), "1000");
    let (got, failed) = body_lossy(resp);
    assert!(failed, "reading the body must fail");
    assert_eq!(got, &data()[1000..1500], "half the body arrives");

    let resp = get(&url, None);
    assert_eq!(resp.status(), 200);
    let (got, failed) = body_lossy(resp);
    assert!(failed && got.len() < SIZE, "{}", got.len());
}

#[test]
fn fault_filters_every_nth_and_by_file() {
    let f = fixture();
    let url = f.server.url("data.bin");
    f.server.set_fault(FaultSpec {
        mode: Fault::Status500,
        every: 3,
        file: None,
    });
    let statuses: Vec<u16> = (0..7)
        .map(|_| get(&url, Some("bytes=0-0")).status().as_u16())
        .collect();
    assert_eq!(statuses, [206, 206, 500, 206, 206, 500, 206]);

    f.server.set_fault(FaultSpec {
        mode: Fault::Status404,
        every: 1,
        file: Some("sub/small.txt".into()),
    });
    assert_eq!(get(&url, None).status(), 200);
    assert_eq!(get(&f.server.url("sub/small.txt"), None).status(), 404);

    // The same through the control endpoint.
    let base = f.server.base_url();
    let post = |q: &str| {
        let resp = agent()
            .post(&format!("{base}/__control/fault?{q}"))
            .send_empty()
            .unwrap();
        resp.status().as_u16()
    };
    assert_eq!(post("mode=status500&every=2&file=data.bin"), 200);
    let statuses: Vec<u16> = (0..4).map(|_| get(&url, None).status().as_u16()).collect();
    assert_eq!(statuses, [200, 500, 200, 500]);
    assert_eq!(get(&f.server.url("sub/small.txt"), None).status(), 200);
    assert_eq!(post("mode=bogus"), 400);
    assert_eq!(post("mode=none"), 200);
    assert_eq!(get(&url, None).status(), 200);
}

#[test]
fn counters_and_reset() {
    let f = fixture();
    let url = f.server.url("data.bin");
    body(get(&url, Some("bytes=0-99")));
    body(get(&url, Some("bytes=-50")));
    body(get(&f.server.url("sub/small.txt"), None));
    get(&f.server.url("data.bin"), Some("bytes=999999-"));
    get(&f.server.static_url("index.html"), None);

    let expected = Stats {
        requests: 4,
        bytes: 160,
        authorized: 0,
        files: [
            (
                "data.bin".to_string(),
                FileStats {
                    requests: 3,
                    bytes: 150,
                },
            ),
            (
                "sub/small.txt".to_string(),
                FileStats {
                    requests: 1,
                    bytes: 10,
                },
            ),
        ]
        .into(),
    };
    assert_eq!(f.server.stats(), expected);

    // The JSON endpoint agrees, and control requests are not counted.
    let base = f.server.base_url();
    let resp = get(&format!("{base}/__control/stats"), None);
    assert_eq!(header(&resp, "content-type"), "application/json");
    let json: serde_json::Value = serde_json::from_slice(&body(resp)).unwrap();
    assert_eq!(json["requests"], 4);
    assert_eq!(json["bytes"], 160);
    assert_eq!(json["files"]["data.bin"]["requests"], 3);
    assert_eq!(json["files"]["sub/small.txt"]["bytes"], 10);
    let parsed: Stats = serde_json::from_value(json).unwrap();
    assert_eq!(parsed, expected);

    let resp = agent()
        .post(&format!("{base}/__control/reset"))
        .send_empty()
        .unwrap();
    assert!(resp.status().is_success());
    assert_eq!(f.server.stats(), Stats::default());

    body(get(&url, Some("bytes=0-9")));
    f.server.reset_stats();
    assert_eq!(f.server.stats(), Stats::default());
}

#[test]
fn path_traversal_refused_with_404() {
    let f = fixture();
    let addr = f.server.addr();
    for path in [
        "/files/../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/sub/../../secret.txt",
        "/files/sub%2f..%2f..%2fsecret.txt",
        "/files//etc/passwd",
        "/files/..%5csecret.txt",
        "/static/../secret.txt",
        "/static/%2e%2e/served/data.bin",
    ] {
        let status = raw_status(addr, path);
        assert!(status.starts_with("HTTP/1.1 404"), "{path}: {status}");
    }
    let resp = get(
        &format!("{}/files/%2e%2e/secret.txt", f.server.base_url()),
        None,
    );
    assert_eq!(resp.status(), 404);
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_directory_refused() {
    let f = fixture();
    let served = f.server.url("data.bin");
    let dir = f._tmp.path().join("served");
    std::os::unix::fs::symlink("../secret.txt", dir.join("out.txt")).unwrap();
    std::os::unix::fs::symlink("data.bin", dir.join("in.bin")).unwrap();
    assert_eq!(get(&f.server.url("out.txt"), None).status(), 404);
    let resp = get(&f.server.url("in.bin"), Some("bytes=0-9"));
    assert_eq!(resp.status(), 206);
    assert_eq!(body(resp), &data()[..10]);
    assert_eq!(get(&served, Some("bytes=0-9")).status(), 206);
}

#[test]
fn static_dir() {
    let f = fixture_with(|c| c.latency_ms = 200);
    f.server.set_fault(Fault::Status500);
    let t = Instant::now();
    let resp = get(&format!("{}/static/", f.server.base_url()), None);
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "text/html; charset=utf-8");
    assert_eq!(body(resp), b"<h1>hi</h1>");
    let resp = get(&f.server.static_url("app.wasm"), Some("bytes=5-"));
    assert_eq!(resp.status(), 206);
    assert_eq!(header(&resp, "content-type"), "application/wasm");
    assert_eq!(body(resp), b"0123456789");
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "no latency: {:?}",
        t.elapsed()
    );
    assert_eq!(get(&f.server.static_url("nope.js"), None).status(), 404);
    assert_eq!(f.server.stats(), Stats::default());
}

#[test]
fn start_errors_and_ports() {
    let err = RangeServer::start(Config {
        dir: "/nonexistent/dir".into(),
        ..Default::default()
    });
    assert!(matches!(err, Err(range_server::Error::NotADirectory(_))));
    assert!("bogus".parse::<Fault>().is_err());
    assert_eq!(
        "wrong_content_range".parse::<Fault>().unwrap(),
        Fault::WrongContentRange
    );

    // Two servers get different ephemeral ports; dropping one stops it.
    let a = fixture();
    let b = fixture();
    assert_ne!(a.server.addr().port(), b.server.addr().port());
    assert!(a.server.url("x y.h5").ends_with("/files/x%20y.h5"));
    let addr = b.server.addr();
    drop(b);
    assert!(
        TcpStream::connect(addr).is_err(),
        "the port is closed after drop"
    );
}
