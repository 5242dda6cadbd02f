//! Real HTTP over 127.0.0.1 against ns-serve's services in axum, with ureq (and raw TCP for
//! paths a client library might normalise) as the client.

#![expect(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test code: a panic is the failure report; byte patterns"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, SystemTime};

use ns_serve::{Cors, Error, NamedFiles, ServeDir};
use ureq::Agent;

const SIZE: usize = 300_000;
const SECRET: &[u8] = b"top secret, never served";

fn data() -> Vec<u8> {
    (0..SIZE).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// An axum server on its own runtime and thread; stops on drop.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(router: axum::Router) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The layout: `served/` (files, a link inside, links out), `app/` (a single-page app with a
/// link out), `secret.txt` and `outside/` beside them.
struct Fixture {
    tmp: tempfile::TempDir,
    server: Server,
}

impl Fixture {
    fn served(&self) -> std::path::PathBuf {
        self.tmp.path().join("served")
    }
}

fn write_tree(root: &Path) {
    let served = root.join("served");
    std::fs::create_dir_all(served.join("sub")).unwrap();
    std::fs::write(served.join("data.bin"), data()).unwrap();
    std::fs::write(served.join("sub/small.txt"), b"0123456789").unwrap();
    std::fs::write(served.join("sub/a b%.h5"), b"spaces").unwrap();
    std::fs::write(served.join("empty"), b"").unwrap();
    std::fs::write(served.join("lindi.json"), b"{}").unwrap();
    std::fs::write(root.join("secret.txt"), SECRET).unwrap();
    std::fs::create_dir_all(root.join("outside")).unwrap();
    std::fs::write(root.join("outside/secret.txt"), SECRET).unwrap();
    let app = root.join("app");
    std::fs::create_dir_all(app.join("assets")).unwrap();
    std::fs::write(app.join("index.html"), b"<h1>app</h1>").unwrap();
    std::fs::write(app.join("app_bg.wasm"), b"\0asm-0123456789").unwrap();
    std::fs::write(app.join("assets/style.css"), b"h1{}").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("data.bin", served.join("link-in.bin")).unwrap();
        symlink("../secret.txt", served.join("link-out.txt")).unwrap();
        symlink(root.join("secret.txt"), served.join("link-abs.txt")).unwrap();
        symlink("../outside", served.join("dir-out")).unwrap();
        symlink("../secret.txt", app.join("escape")).unwrap();
    }
}

fn fixture_with(cors: Cors) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(tmp.path());
    let served = tmp.path().join("served");
    let files = NamedFiles::new()
        .with("data.bin", served.join("data.bin"))
        .unwrap()
        .with("sub/small.txt", served.join("sub/small.txt"))
        .unwrap()
        .with("empty", served.join("empty"))
        .unwrap();
    let router = axum::Router::new()
        .nest_service("/files", files)
        .nest_service("/dir", ServeDir::new(&served).unwrap())
        .fallback_service(
            ServeDir::new(tmp.path().join("app"))
                .unwrap()
                .with_spa_fallback(),
        );
    let router = cors.apply(router).unwrap();
    Fixture {
        server: Server::start(router),
        tmp,
    }
}

fn fixture() -> Fixture {
    fixture_with(Cors::AnyOrigin)
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

fn get_with(url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = agent().get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.call().unwrap()
}

fn get(url: &str, range: Option<&str>) -> Resp {
    match range {
        Some(r) => get_with(url, &[("Range", r)]),
        None => get_with(url, &[]),
    }
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

/// Status line and body of a raw request for `path`, exactly as written.
fn raw_get(addr: SocketAddr, path: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.lines().next().unwrap_or("").to_string();
    (status, out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn ranges_206_exact_bytes() {
    let f = fixture();
    let d = data();
    for url in [
        f.server.url("/files/data.bin"),
        f.server.url("/dir/data.bin"),
    ] {
        for (range, start, end) in [
            ("bytes=0-0", 0, 0),
            ("bytes=100-199", 100, 199),
            ("bytes=123456-299999", 123_456, 299_999),
            ("bytes=299990-999999", 299_990, 299_999),
            ("bytes=250000-", 250_000, 299_999),
            ("bytes=0-", 0, 299_999),
            ("bytes=-1000", 299_000, 299_999),
            ("bytes=-1", 299_999, 299_999),
            ("bytes=-999999", 0, 299_999),
            ("bytes=0-99999999999999999999999999", 0, 299_999),
            ("bytes=10-19,15-29", 10, 29),
        ] {
            let resp = get(&url, Some(range));
            assert_eq!(resp.status(), 206, "{url} {range}");
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
    }
    let resp = get(&f.server.url("/files/sub/small.txt"), Some("bytes=3-5"));
    assert_eq!(resp.status(), 206);
    assert_eq!(header(&resp, "content-type"), "text/plain; charset=utf-8");
    assert_eq!(body(resp), b"345");
    // Percent-encoded names reach the file.
    let resp = get(&f.server.url("/dir/sub/a%20b%25.h5"), Some("bytes=1-"));
    assert_eq!(resp.status(), 206);
    assert_eq!(body(resp), b"paces");
}

#[test]
fn whole_file_200_for_no_multi_or_malformed_range() {
    let f = fixture();
    let url = f.server.url("/files/data.bin");
    let resp = get(&url, None);
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length"), SIZE.to_string());
    assert_eq!(header(&resp, "accept-ranges"), "bytes");
    assert!(resp.headers().get("content-range").is_none());
    assert_eq!(body(resp), data());
    for range in [
        "bytes=0-1,5-6",
        "bytes=9-3",
        "chunks=0-1",
        "bytes=+1-2",
        "bytes=1-2-3",
        "bytes=",
    ] {
        let resp = get(&url, Some(range));
        assert_eq!(resp.status(), 200, "{range}");
        assert!(resp.headers().get("content-range").is_none());
        assert_eq!(body(resp).len(), SIZE, "{range}");
    }
    let resp = get(&f.server.url("/files/empty"), None);
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length"), "0");
    assert!(body(resp).is_empty());
}

#[test]
fn unsatisfiable_416() {
    let f = fixture();
    let url = f.server.url("/files/data.bin");
    for range in [
        "bytes=300000-",
        "bytes=400000-400010",
        "bytes=-0",
        "bytes=300000-300001,400000-",
        "bytes=99999999999999999999999-",
    ] {
        let resp = get(&url, Some(range));
        assert_eq!(resp.status(), 416, "{range}");
        assert_eq!(header(&resp, "content-range"), format!("bytes */{SIZE}"));
        assert!(body(resp).is_empty());
    }
    for range in ["bytes=0-", "bytes=-1", "bytes=0-0"] {
        let resp = get(&f.server.url("/files/empty"), Some(range));
        assert_eq!(resp.status(), 416, "{range}");
        assert_eq!(header(&resp, "content-range"), "bytes */0");
    }
}

#[test]
fn head_has_get_headers_and_no_body() {
    let f = fixture();
    let url = f.server.url("/files/data.bin");
    let resp = agent().head(&url).call().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length"), SIZE.to_string());
    assert_eq!(header(&resp, "accept-ranges"), "bytes");
    let etag = header(&resp, "etag").to_string();
    let lm = header(&resp, "last-modified").to_string();
    assert!(lm.ends_with(" GMT"), "{lm}");
    assert!(body(resp).is_empty());

    let resp = agent()
        .head(&url)
        .header("Range", "bytes=-10")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        header(&resp, "content-range"),
        format!("bytes 299990-299999/{SIZE}")
    );
    assert_eq!(header(&resp, "content-length"), "10");
    assert_eq!(header(&resp, "etag"), etag);
    assert_eq!(header(&resp, "last-modified"), lm);
    assert!(body(resp).is_empty());

    // Other methods are refused.
    let resp = agent().post(&url).send_empty().unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(header(&resp, "allow"), "GET, HEAD");
}

#[test]
fn etag_stable_until_the_file_changes() {
    let f = fixture();
    let url = f.server.url("/files/sub/small.txt");
    let etag = header(&get(&url, None), "etag").to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"),
        "a strong ETag: {etag}"
    );
    for range in [None, Some("bytes=0-3"), Some("bytes=-2")] {
        assert_eq!(header(&get(&url, range), "etag"), etag, "{range:?}");
    }
    // The directory service gives the same ETag for the same file.
    assert_eq!(
        header(&get(&f.server.url("/dir/sub/small.txt"), None), "etag"),
        etag
    );

    // Same size, another modification time: another ETag.
    let path = f.served().join("sub/small.txt");
    std::fs::write(&path, b"abcdefghij").unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
        .unwrap();
    drop(file);
    let resp = get(&url, None);
    let etag2 = header(&resp, "etag").to_string();
    assert_ne!(etag2, etag);
    assert_eq!(
        header(&resp, "last-modified"),
        "Sun, 09 Sep 2001 01:46:40 GMT"
    );
    assert_eq!(body(resp), b"abcdefghij");
    // Another size: another ETag.
    std::fs::write(&path, b"abc").unwrap();
    let etag3 = header(&get(&url, None), "etag").to_string();
    assert!(etag3 != etag && etag3 != etag2);
}

#[test]
fn conditional_requests() {
    let f = fixture();
    let url = f.server.url("/files/data.bin");
    let first = get(&url, None);
    let etag = header(&first, "etag").to_string();
    let lm = header(&first, "last-modified").to_string();
    let weak = format!("W/{etag}");
    let past = "Thu, 01 Jan 1998 00:00:00 GMT";
    let future = "Fri, 01 Jan 2100 00:00:00 GMT";

    // 304: If-None-Match (weak comparison, lists, `*`), If-Modified-Since.
    for headers in [
        vec![("If-None-Match", etag.as_str())],
        vec![("If-None-Match", weak.as_str())],
        vec![("If-None-Match", "\"other\", \"x,y\"")],
        vec![("If-None-Match", "*")],
        vec![("If-Modified-Since", lm.as_str())],
        vec![("If-Modified-Since", future)],
        vec![("If-None-Match", etag.as_str()), ("Range", "bytes=0-9")],
    ] {
        let resp = get_with(&url, &headers);
        let expect = if headers[0].1.contains("other") {
            200
        } else {
            304
        };
        assert_eq!(resp.status(), expect, "{headers:?}");
        if expect == 304 {
            assert_eq!(header(&resp, "etag"), etag);
            assert_eq!(header(&resp, "last-modified"), lm);
            assert!(body(resp).is_empty());
        }
    }
    let mut multi = agent().get(&url);
    multi = multi.header("If-None-Match", "\"a\"");
    multi = multi.header("If-None-Match", &etag);
    assert_eq!(multi.call().unwrap().status(), 304, "several header lines");
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let resp = get_with(
        &url,
        &[
            ("If-None-Match", "\"other\""),
            ("If-Modified-Since", future),
        ],
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(get_with(&url, &[("If-Modified-Since", past)]).status(), 200);
    assert_eq!(
        get_with(&url, &[("If-Modified-Since", "not a date")]).status(),
        200
    );

    // 412: If-Match, If-Unmodified-Since.
    for (name, value, expect) in [
        ("If-Match", etag.as_str(), 200),
        ("If-Match", "*", 200),
        ("If-Match", weak.as_str(), 412),
        ("If-Match", "\"other\"", 412),
        ("If-Unmodified-Since", past, 412),
        ("If-Unmodified-Since", future, 200),
        ("If-Unmodified-Since", lm.as_str(), 200),
    ] {
        let resp = get_with(&url, &[(name, value)]);
        assert_eq!(resp.status(), expect, "{name}: {value}");
    }

    // If-Range: the range only for the same version, else the whole file.
    for (value, expect) in [
        (etag.as_str(), 206),
        (lm.as_str(), 206),
        (weak.as_str(), 200),
        ("\"other\"", 200),
        (past, 200),
        ("garbage", 200),
    ] {
        let resp = get_with(&url, &[("Range", "bytes=5-9"), ("If-Range", value)]);
        assert_eq!(resp.status(), expect, "If-Range: {value}");
        let expected_body = if expect == 206 {
            data()[5..10].to_vec()
        } else {
            data()
        };
        assert_eq!(body(resp), expected_body);
    }
}

#[test]
fn content_types() {
    let f = fixture();
    for (path, ct) in [
        ("/files/data.bin", "application/octet-stream"),
        ("/dir/lindi.json", "application/json"),
        ("/", "text/html; charset=utf-8"),
        ("/app_bg.wasm", "application/wasm"),
        ("/assets/style.css", "text/css; charset=utf-8"),
    ] {
        let resp = get(&f.server.url(path), None);
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(header(&resp, "content-type"), ct, "{path}");
    }
}

#[test]
fn cors_any_origin() {
    let f = fixture();
    let url = f.server.url("/files/data.bin");
    let resp = get_with(
        &url,
        &[
            ("Origin", "http://elsewhere.example"),
            ("Range", "bytes=0-3"),
        ],
    );
    assert_eq!(resp.status(), 206);
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    let expose = header(&resp, "access-control-expose-headers").to_ascii_lowercase();
    for h in [
        "content-range",
        "content-length",
        "accept-ranges",
        "etag",
        "last-modified",
    ] {
        assert!(expose.contains(h), "{expose}");
    }
    // Errors carry the header too, so that a page can read the status.
    let resp = get_with(
        &f.server.url("/files/nope"),
        &[("Origin", "http://elsewhere.example")],
    );
    assert_eq!(resp.status(), 404);
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");

    let resp = agent()
        .options(&url)
        .header("Origin", "http://elsewhere.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "range,if-none-match")
        .call()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    let methods = header(&resp, "access-control-allow-methods");
    for m in ["GET", "HEAD", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = header(&resp, "access-control-allow-headers").to_ascii_lowercase();
    for h in ["range", "if-none-match", "if-range", "authorization"] {
        assert!(allowed.contains(h), "{allowed}");
    }
    assert_eq!(header(&resp, "access-control-max-age"), "86400");
}

#[test]
fn cors_listed_origins_and_off() {
    let f = fixture_with(Cors::Origins(vec!["http://good.example".into()]));
    let url = f.server.url("/files/data.bin");
    let resp = get_with(&url, &[("Origin", "http://good.example")]);
    assert_eq!(
        header(&resp, "access-control-allow-origin"),
        "http://good.example"
    );
    assert!(
        header(&resp, "vary")
            .to_ascii_lowercase()
            .contains("origin")
    );
    let resp = get_with(&url, &[("Origin", "http://evil.example")]);
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("access-control-allow-origin").is_none());

    let f = fixture_with(Cors::Off);
    let url = f.server.url("/files/data.bin");
    let resp = get_with(&url, &[("Origin", "http://good.example")]);
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    assert!(
        resp.headers()
            .get("access-control-expose-headers")
            .is_none()
    );
    let resp = agent()
        .options(&url)
        .header("Origin", "http://good.example")
        .header("Access-Control-Request-Method", "GET")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 405, "no preflight answered");
    assert!(resp.headers().get("access-control-allow-origin").is_none());

    assert!(matches!(
        Cors::Origins(vec!["*".into()]).layer(),
        Err(Error::BadOrigin(_))
    ));
    assert!(matches!(
        Cors::Origins(vec!["bad\norigin".into()]).layer(),
        Err(Error::BadOrigin(_))
    ));
}

#[test]
fn traversal_refused_with_404() {
    let f = fixture();
    let addr = f.server.addr;
    for path in [
        "/files/../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2E%2E/secret.txt",
        "/files/sub/../data.bin",
        "/files/sub/../../secret.txt",
        "/files/sub%2fsmall.txt",
        "/files/sub%2F..%2F..%2Fsecret.txt",
        "/files//etc/passwd",
        "/files/%2fetc/passwd",
        "/files/sub/",
        "/files/data.bin/",
        "/files/",
        "/dir/../secret.txt",
        "/dir/%2e%2e/secret.txt",
        "/dir/.%2e/secret.txt",
        "/dir/sub/..%2f..%2fsecret.txt",
        "/dir/..%5csecret.txt",
        "/dir//etc/passwd",
        "/dir/%2fetc%2fpasswd",
        "/dir/./data.bin",
        "/dir/data.bin%00",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "//etc/passwd",
    ] {
        let (status, raw) = raw_get(addr, path);
        assert!(status.starts_with("HTTP/1.1 404"), "{path}: {status}");
        assert!(!contains(&raw, SECRET), "{path} leaked the secret");
    }
    // A name not given to NamedFiles is not served, even if it is beside one that is.
    assert_eq!(get(&f.server.url("/files/lindi.json"), None).status(), 404);
    assert_eq!(get(&f.server.url("/dir/lindi.json"), None).status(), 200);
}

#[cfg(unix)]
#[test]
fn symlinks_inside_served_outside_refused() {
    let f = fixture();
    let resp = get(&f.server.url("/dir/link-in.bin"), Some("bytes=0-9"));
    assert_eq!(resp.status(), 206);
    assert_eq!(body(resp), &data()[..10]);
    for path in [
        "/dir/link-out.txt",
        "/dir/link-abs.txt",
        "/dir/dir-out/secret.txt",
        "/dir/dir-out/",
        "/escape",
    ] {
        let (status, raw) = raw_get(f.server.addr, path);
        assert!(status.starts_with("HTTP/1.1 404"), "{path}: {status}");
        assert!(!contains(&raw, SECRET), "{path} leaked the secret");
    }
}

#[test]
fn spa_fallback() {
    let f = fixture();
    for path in [
        "/",
        "/index.html",
        "/nwb?url=http%3A%2F%2Fx%2Fa.nwb&tab=/acquisition",
        "/dandiset/000001",
        "/assets/",
        "/assets/missing.js",
    ] {
        let resp = get(&f.server.url(path), None);
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(header(&resp, "content-type"), "text/html; charset=utf-8");
        assert_eq!(body(resp), b"<h1>app</h1>", "{path}");
    }
    let resp = get(&f.server.url("/app_bg.wasm"), Some("bytes=5-"));
    assert_eq!(resp.status(), 206);
    assert_eq!(body(resp), b"0123456789");
    assert_eq!(body(get(&f.server.url("/assets/style.css"), None)), b"h1{}");

    // Without the fallback, a missing path is 404 and a directory serves its index.html.
    let plain = Server::start(
        axum::Router::new().fallback_service(ServeDir::new(f.tmp.path().join("app")).unwrap()),
    );
    assert_eq!(get(&plain.url("/nwb"), None).status(), 404);
    assert_eq!(body(get(&plain.url("/"), None)), b"<h1>app</h1>");
    assert_eq!(get(&plain.url("/assets/"), None).status(), 404);
}

#[test]
fn setup_errors() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(tmp.path());
    let served = tmp.path().join("served");
    assert!(matches!(
        ServeDir::new(served.join("data.bin")),
        Err(Error::NotADirectory(_))
    ));
    assert!(matches!(
        ServeDir::new(tmp.path().join("missing")),
        Err(Error::Io { .. })
    ));
    let mut files = NamedFiles::new();
    for bad in [
        "", "../x", "/abs", "a//b", "dir/", ".", "a\\b", "a/./b", "a\0b",
    ] {
        assert!(
            matches!(
                files.insert(bad, served.join("data.bin")),
                Err(Error::BadName(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        files.insert("sub", served.join("sub")),
        Err(Error::NotAFile(_))
    ));
    assert!(matches!(
        files.insert("x", served.join("missing")),
        Err(Error::Io { .. })
    ));
    files.insert("a b.bin", served.join("data.bin")).unwrap();
    assert_eq!(
        files.get("a b.bin"),
        Some(served.join("data.bin").canonicalize().unwrap().as_path())
    );

    // Names are literal: `%` is a character, reached as `%25`.
    files
        .insert("100%/x%2f.bin", served.join("sub/small.txt"))
        .unwrap();
    let server = Server::start(axum::Router::new().nest_service("/files", files));
    let resp = get(&server.url("/files/100%25/x%252f.bin"), None);
    assert_eq!(resp.status(), 200);
    assert_eq!(body(resp), b"0123456789");
    assert_eq!(
        get(&server.url("/files/a%20b.bin"), Some("bytes=0-0")).status(),
        206
    );
    for path in [
        "/files/100%/x%2f.bin",
        "/files/100%25/x%2f.bin",
        "/files/a%2520b.bin",
    ] {
        assert_eq!(
            raw_get(server.addr, path).0,
            "HTTP/1.1 404 Not Found",
            "{path}"
        );
    }
}
