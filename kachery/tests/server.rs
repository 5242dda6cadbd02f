//! The store server over real HTTP on 127.0.0.1 (raw TCP, so paths go on the wire exactly as
//! written): headers, ranges, CORS, refusals with their statuses, zones, broken-off uploads.

#![expect(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test code: a panic is the failure report"
)]

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Server, TOKEN, data, files_below, http};
use kachery::server::{Config, ZoneConfig};
use kachery::{BUFFER_BYTES, Sha1Hash, Store};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

struct Fixture {
    dir: tempfile::TempDir,
    server: Server,
}

fn fixture(config: &Config) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local(&dir.path().join("store")).unwrap();
    // A file beside the store that no path may reach.
    std::fs::write(dir.path().join("secret.txt"), b"top secret").unwrap();
    let server = Server::start(&store, config);
    Fixture { dir, server }
}

fn put(f: &Fixture, path: &str, token: Option<&str>, body: &[u8]) -> common::Answer {
    let auth = token.map(bearer);
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    http(f.server.addr, "PUT", path, &headers, body)
}

#[test]
fn objects_are_served_with_ranges_validators_cors_and_caching() {
    let f = fixture(&Config::single_zone(Some(TOKEN.into())));
    let content = data(1000, 1);
    let hash = Sha1Hash::of(&content);
    let path = format!("/sha1/{hash}");

    let created = put(&f, &path, Some(TOKEN), &content);
    assert_eq!(
        created.status,
        201,
        "{:?}",
        String::from_utf8_lossy(&created.body)
    );
    let reply = created.json();
    assert_eq!(reply["sha1"], hash.to_hex());
    assert_eq!(reply["size"], 1000);
    assert_eq!(reply["already_stored"], false);
    assert_eq!(reply["uri"], format!("sha1://{hash}"));
    let again = put(&f, &path, Some(TOKEN), &content);
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["already_stored"], true);

    let origin = [("Origin", "https://somewhere.example")];
    let got = http(f.server.addr, "GET", &path, &origin, b"");
    assert_eq!(got.status, 200);
    assert!(got.body == content);
    assert_eq!(got.header("etag"), Some(format!("\"{hash}\"").as_str()));
    assert_eq!(
        got.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(got.header("accept-ranges"), Some("bytes"));
    assert_eq!(got.header("content-type"), Some("application/octet-stream"));
    assert_eq!(got.header("content-length"), Some("1000"));
    assert_eq!(got.header("access-control-allow-origin"), Some("*"));
    let exposed = got
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in ["content-range", "content-length", "etag"] {
        assert!(exposed.contains(h), "{exposed}");
    }

    let part = http(f.server.addr, "GET", &path, &[("Range", "bytes=2-5")], b"");
    assert_eq!(part.status, 206);
    assert_eq!(part.header("content-range"), Some("bytes 2-5/1000"));
    assert_eq!(part.body, content[2..6]);
    let tail = http(f.server.addr, "GET", &path, &[("Range", "bytes=-10")], b"");
    assert_eq!(tail.body, content[990..]);
    let past = http(
        f.server.addr,
        "GET",
        &path,
        &[("Range", "bytes=1000-")],
        b"",
    );
    assert_eq!(past.status, 416);
    assert_eq!(past.header("content-range"), Some("bytes */1000"));

    let etag = format!("\"{hash}\"");
    let cached = http(
        f.server.addr,
        "GET",
        &path,
        &[("If-None-Match", &etag)],
        b"",
    );
    assert_eq!(cached.status, 304);
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    assert!(cached.body.is_empty());
    let stale = http(
        f.server.addr,
        "GET",
        &path,
        &[("If-Match", "\"other\"")],
        b"",
    );
    assert_eq!(stale.status, 412);

    let head = http(f.server.addr, "HEAD", &path, &[], b"");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("1000"));

    // A browser page elsewhere may upload with a token.
    let preflight = http(
        f.server.addr,
        "OPTIONS",
        &path,
        &[
            ("Origin", "https://somewhere.example"),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
        b"",
    );
    assert_eq!(preflight.status, 200);
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("PUT")
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase()
            .contains("authorization")
    );

    // A large object streams; its ranges too.
    let large = data(BUFFER_BYTES as usize + 100_000, 2);
    let large_path = format!("/sha1/{}", Sha1Hash::of(&large));
    assert_eq!(put(&f, &large_path, Some(TOKEN), &large).status, 201);
    let got = http(f.server.addr, "GET", &large_path, &[], b"");
    assert_eq!(got.status, 200);
    assert!(got.body == large);
    let part = http(
        f.server.addr,
        "GET",
        &large_path,
        &[("Range", "bytes=5000000-5000099")],
        b"",
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, large[5_000_000..5_000_100]);
}

#[test]
fn bad_requests_are_refused_with_the_right_status() {
    let mut config = Config::single_zone(Some(TOKEN.into()));
    config.max_object_bytes = 5000;
    let f = fixture(&config);
    let content = data(1000, 3);
    let hash = Sha1Hash::of(&content);
    let path = format!("/sha1/{hash}");
    let addr = f.server.addr;

    let no_token = put(&f, &path, None, &content);
    assert_eq!(no_token.status, 401);
    assert_eq!(
        no_token.header("www-authenticate"),
        Some("Bearer realm=\"neurosift-store\"")
    );
    assert!(no_token.error().contains("Bearer"), "{}", no_token.error());
    let basic = http(
        addr,
        "PUT",
        &path,
        &[("Authorization", "Basic dXNlcjpwYXNz")],
        &content,
    );
    assert_eq!(basic.status, 401);
    let wrong = put(&f, &path, Some("not-the-token"), &content);
    assert_eq!(wrong.status, 403);
    assert!(wrong.error().contains("may not store"), "{}", wrong.error());

    let claimed = Sha1Hash::of(b"other bytes");
    let mismatch = put(&f, &format!("/sha1/{claimed}"), Some(TOKEN), &content);
    assert_eq!(mismatch.status, 400);
    assert!(
        mismatch.error().contains(&hash.to_hex()),
        "{}",
        mismatch.error()
    );

    let big = data(6000, 4);
    let big_path = format!("/sha1/{}", Sha1Hash::of(&big));
    let declared = put(&f, &big_path, Some(TOKEN), &big);
    assert_eq!(declared.status, 413);
    assert!(declared.error().contains("5000"), "{}", declared.error());
    // Chunked, no length told: refused once past the limit.
    let mut chunked = format!("{:x}\r\n", big.len()).into_bytes();
    chunked.extend_from_slice(&big);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let auth = bearer(TOKEN);
    let streamed = http(
        addr,
        "PUT",
        &big_path,
        &[("Authorization", &auth), ("Transfer-Encoding", "chunked")],
        &chunked,
    );
    assert_eq!(streamed.status, 413);

    for (method, bad, status) in [
        ("GET", "/sha1/..%2F..%2Fsecret.txt", 400),
        ("GET", "/sha1/..%2f..%2f..%2fetc%2fpasswd", 400),
        ("GET", "/sha1/../../secret.txt", 404),
        ("GET", "/sha1/..", 400),
        ("GET", "/sha1/%2e%2e", 400),
        ("PUT", "/sha1/..%2F..%2Fsecret.txt", 400),
        (
            "GET",
            "/..%2F..%2F/sha1/0000000000000000000000000000000000000000",
            404,
        ),
        (
            "GET",
            "/../sha1/0000000000000000000000000000000000000000",
            404,
        ),
        (
            "GET",
            &format!("/sha1/{}", hash.to_hex().to_uppercase()),
            400,
        ),
        ("GET", &format!("/sha1/{hash}%00"), 400),
        ("GET", &format!("/sha1/{hash}/x"), 404),
        ("GET", "/sha1/", 404),
        ("GET", "/", 404),
        (
            "GET",
            "/nozone/sha1/0000000000000000000000000000000000000000",
            404,
        ),
        ("DELETE", &path, 405),
        ("POST", &path, 405),
    ] {
        let auth = bearer(TOKEN);
        let answer = http(addr, method, bad, &[("Authorization", &auth)], b"");
        assert_eq!(
            answer.status,
            status,
            "{method} {bad}: {:?}",
            String::from_utf8_lossy(&answer.body)
        );
        assert!(!answer.error().is_empty(), "{method} {bad}");
        assert!(!String::from_utf8_lossy(&answer.body).contains("top secret"));
    }
    let delete = http(addr, "DELETE", &path, &[], b"");
    assert_eq!(delete.header("allow"), Some("GET, HEAD, PUT"));

    // Nothing got stored by any of that.
    let missing = http(addr, "GET", &path, &[], b"");
    assert_eq!(missing.status, 404);
    assert!(
        missing.error().contains(&hash.to_hex()),
        "{}",
        missing.error()
    );
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    assert_eq!(
        files_below(&f.dir.path().join("store")),
        Vec::<String>::new()
    );

    // A read-only server (no token configured) refuses every write.
    let read_only = fixture(&Config::single_zone(None));
    assert_eq!(put(&read_only, &path, Some(TOKEN), &content).status, 403);
}

#[test]
fn zones_have_their_own_objects_and_rights() {
    let mut config = Config::single_zone(Some(TOKEN.into()));
    config.zones.insert(
        "lab".into(),
        ZoneConfig {
            public_read: false,
            write_tokens: vec!["lab-writer-token".into()],
            read_tokens: vec!["lab-reader-token".into()],
        },
    );
    let f = fixture(&config);
    let content = data(500, 9);
    let hash = Sha1Hash::of(&content);
    let lab = format!("/lab/sha1/{hash}");
    assert_eq!(
        put(&f, &lab, Some(TOKEN), &content).status,
        403,
        "default zone's token"
    );
    assert_eq!(
        put(&f, &lab, Some("lab-reader-token"), &content).status,
        403
    );
    let stored = put(&f, &lab, Some("lab-writer-token"), &content);
    assert_eq!(stored.status, 201);
    assert_eq!(stored.json()["uri"], format!("kachery:lab:sha1:{hash}:"));
    assert_eq!(http(f.server.addr, "GET", &lab, &[], b"").status, 401);
    let reader = bearer("lab-reader-token");
    let got = http(
        f.server.addr,
        "GET",
        &lab,
        &[("Authorization", &reader)],
        b"",
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.body, content);
    assert_eq!(
        got.header("cache-control"),
        Some("private, max-age=31536000, immutable")
    );
    let default = format!("/sha1/{hash}");
    assert_eq!(
        http(f.server.addr, "GET", &default, &[], b"").status,
        404,
        "zones are apart"
    );
    assert_eq!(
        files_below(&f.dir.path().join("store")),
        vec![format!("zones/lab/{}", hash.object_key())]
    );
    // The client reaches a zone by its URL.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = Store::open(
        &kachery::Location::parse(&format!("{}/lab", f.server.url())).unwrap(),
        Some("lab-reader-token".into()),
    )
    .unwrap();
    assert_eq!(
        runtime.block_on(client.get_bytes(hash, 1000)).unwrap(),
        content
    );
}

#[test]
fn corrupt_objects_are_not_served() {
    let f = fixture(&Config::single_zone(Some(TOKEN.into())));
    for content in [data(1000, 11), data(BUFFER_BYTES as usize + 10, 12)] {
        let hash = Sha1Hash::of(&content);
        let path = format!("/sha1/{hash}");
        assert_eq!(put(&f, &path, Some(TOKEN), &content).status, 201);
        let file = f.dir.path().join("store").join(hash.object_key());
        let mut bad = content.clone();
        bad[0] ^= 1;
        std::fs::write(&file, &bad).unwrap();
        let got = http(f.server.addr, "GET", &path, &[], b"");
        if content.len() as u64 <= BUFFER_BYTES {
            assert_eq!(got.status, 500);
            let error = got.error();
            assert!(
                error.contains(&format!("object {hash} is corrupt")),
                "{error}"
            );
            assert!(
                !error.contains("/tmp"),
                "server paths stay private: {error}"
            );
        } else {
            // Streamed: cut off before the end, never complete.
            assert!(
                got.body.len() < content.len(),
                "a corrupt object was sent whole"
            );
        }
        let part = http(f.server.addr, "GET", &path, &[("Range", "bytes=0-9")], b"");
        assert!(
            part.status == 500 || part.body.len() < 10,
            "corrupt range served"
        );
    }
}

#[test]
fn an_upload_cut_off_half_way_leaves_nothing() {
    let f = fixture(&Config::single_zone(Some(TOKEN.into())));
    let store_dir = f.dir.path().join("store");
    // The larger one is half sent past the in-memory buffer: a staged file exists then.
    for len in [100_000, 2 * BUFFER_BYTES as usize + 4_000_000] {
        let content = data(len, 13);
        let hash = Sha1Hash::of(&content);
        let mut tcp = TcpStream::connect(f.server.addr).unwrap();
        write!(
            tcp,
            "PUT /sha1/{hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {len}\r\n\r\n"
        )
        .unwrap();
        tcp.write_all(&content[..len / 2]).unwrap();
        tcp.flush().unwrap();
        if len as u64 > 2 * BUFFER_BYTES {
            let started = Instant::now();
            while !files_below(&store_dir).iter().any(|f| f.contains('#')) {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "no staged upload"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        } else {
            std::thread::sleep(Duration::from_millis(300));
        }
        drop(tcp);
        let started = Instant::now();
        loop {
            let files = files_below(&store_dir);
            if files.is_empty() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "left behind: {files:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            http(f.server.addr, "HEAD", &format!("/sha1/{hash}"), &[], b"").status,
            404
        );
    }
}

#[test]
fn config_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zones.toml");
    std::fs::write(
        &file,
        "max_object_bytes = 1000\n[zones.default]\nwrite_tokens = [\"abc\"]\n[zones.lab]\npublic_read = false\nread_tokens = [\"r\"]\n",
    )
    .unwrap();
    let config = Config::load(&file).unwrap();
    assert_eq!(config.max_object_bytes, 1000);
    assert!(config.zones["default"].public_read);
    assert!(!config.zones["lab"].public_read);
    for (text, want) in [
        ("[zones.default]\nwrite_token = [\"a\"]\n", "unknown field"),
        ("[zones.\"a/b\"]\n", "not a zone name"),
        ("[zones.default]\nwrite_tokens = [\"\"]\n", "empty"),
        ("max_object_bytes = 5\n", "no zones"),
        ("zones = 3", "invalid type"),
    ] {
        std::fs::write(&file, text).unwrap();
        let err = Config::load(&file).unwrap_err().to_string();
        assert!(
            err.contains(want) && err.contains("zones.toml"),
            "{text:?}: {err}"
        );
    }
}
