//! `neurosift view-nwb` and `neurosift serve` as a user runs them: the printed URL, Range and
//! HEAD reads of the file, the token, traversal attempts, LINDI references, clear errors
//! (missing file, not HDF5, busy port), and `serve`'s files and store round trip.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kachery::Sha1Hash;

/// A running `neurosift` server, killed on drop.
struct Server {
    child: Child,
    /// The lines it printed on stdout before serving (the URLs).
    first_line: String,
    /// `127.0.0.1:PORT`.
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn neurosift() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_neurosift"));
    for var in ["NEUROSIFT_STORE", "NEUROSIFT_STORE_TOKEN", "XDG_DATA_HOME"] {
        cmd.env_remove(var);
    }
    cmd
}

fn start(args: &[&str]) -> Server {
    let mut child = neurosift()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first_line).unwrap();
    // The rest of what it prints, read so that it never blocks.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let first_line = first_line.trim().to_string();
    assert!(
        first_line.starts_with("http://127.0.0.1:"),
        "printed {first_line:?}"
    );
    let addr = first_line["http://".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_string();
    Server {
        child,
        first_line,
        addr,
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request with the path sent exactly as given (no client-side normalization).
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let text = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = text.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16)
            .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 2 + size + 2..];
    }
}

fn get(addr: &str, path: &str) -> Reply {
    request(addr, "GET", path, &[], b"")
}

/// The file URL's path in the printed app link (`/nwb?url=<encoded file URL>`).
fn file_path(server: &Server) -> String {
    let encoded = server.first_line.split_once("/nwb?url=").unwrap().1;
    let url = percent_decode(encoded);
    let prefix = format!("http://{}", server.addr);
    url.strip_prefix(&prefix).unwrap().to_string()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn fixture(name: &str) -> std::path::PathBuf {
    ns_test_support::fixtures().join(name)
}

#[test]
fn view_nwb_serves_the_app_and_only_the_file_with_its_token() {
    let nwb = fixture("nwb_ecephys.nwb");
    let bytes = std::fs::read(&nwb).unwrap();
    let server = start(&[
        "view-nwb",
        nwb.to_str().unwrap(),
        "--no-browser",
        "--port",
        "0",
    ]);
    let addr = server.addr.clone();
    let path = file_path(&server);
    let (dir, name) = path.rsplit_once('/').unwrap();
    assert_eq!(name, "nwb_ecephys.nwb");
    let token = dir.strip_prefix("/files/").unwrap();
    assert_eq!(token.len(), 32, "a 128-bit token: {token}");

    // The app (its client-side route) and its index.
    let page = get(&addr, &server.first_line["http://".len() + addr.len()..]);
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(get(&addr, "/").status, 200);

    // Range: 206 with exactly those bytes.
    let part = request(&addr, "GET", &path, &[("Range", "bytes=100-1123")], b"");
    assert_eq!(part.status, 206);
    assert_eq!(part.body, bytes[100..1124]);
    assert_eq!(
        part.header("content-range").unwrap(),
        format!("bytes 100-1123/{}", bytes.len())
    );
    let tail = request(&addr, "GET", &path, &[("Range", "bytes=-16")], b"");
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, bytes[bytes.len() - 16..]);
    // HEAD: the headers of GET, no body.
    let head = request(&addr, "HEAD", &path, &[], b"");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length").unwrap(),
        bytes.len().to_string()
    );
    assert_eq!(head.header("accept-ranges").unwrap(), "bytes");
    assert!(head.header("content-type").is_some());
    let etag = head.header("etag").unwrap().to_string();
    let again = request(&addr, "GET", &path, &[("If-None-Match", &etag)], b"");
    assert_eq!(again.status, 304);
    // The whole file.
    assert_eq!(get(&addr, &path).body, bytes);

    // CORS: its own origin only.
    let own = format!("http://{addr}");
    let from_self = request(
        &addr,
        "GET",
        &path,
        &[("Origin", &own), ("Range", "bytes=0-7")],
        b"",
    );
    assert_eq!(
        from_self.header("access-control-allow-origin"),
        Some(own.as_str())
    );
    let from_other = request(
        &addr,
        "GET",
        &path,
        &[("Origin", "http://evil.example"), ("Range", "bytes=0-7")],
        b"",
    );
    assert_eq!(from_other.header("access-control-allow-origin"), None);

    // Without the token, with a wrong one, or anything but the file: 404.
    let wrong_token = "0".repeat(32);
    for bad in [
        "/files/nwb_ecephys.nwb".to_string(),
        format!("/files/{wrong_token}/nwb_ecephys.nwb"),
        format!("/files/{}/nwb_ecephys.nwb", &token[..31]),
        "/files//nwb_ecephys.nwb".to_string(),
        "/files/".to_string(),
        "/files".to_string(),
        format!("/files/{token}/"),
        format!("/files/{token}"),
        format!("/files/{token}/nwb_behavior.nwb"),
        format!("/files/{token}/../nwb_behavior.nwb"),
        format!("/files/{token}/%2e%2e/nwb_ecephys.nwb"),
        format!("/files/{token}/%2E%2E/%2E%2E/etc/passwd"),
        format!("/files/{token}/..%2fnwb_behavior.nwb"),
        format!("/files/{token}//etc/passwd"),
        format!("/files/{token}/%2fetc%2fpasswd"),
        format!("/files/{token}/./nwb_ecephys.nwb"),
        format!("/files/{token}/nwb_ecephys.nwb/"),
    ] {
        let reply = get(&addr, &bad);
        assert_eq!(reply.status, 404, "{bad}");
        assert!(reply.body.is_empty(), "{bad}");
    }
    // A file that is not served is not the app's fallback either.
    let _ = get(&addr, "/etc/passwd");
}

#[test]
fn view_nwb_serves_the_local_references_of_a_lindi_file() {
    let server = start(&[
        "view-nwb",
        fixture("nwb_ecephys.nwb.lindi.json").to_str().unwrap(),
        "--no-browser",
    ]);
    let path = file_path(&server);
    assert!(path.ends_with("/nwb_ecephys.nwb.lindi.json"), "{path}");
    let dir = path.rsplit_once('/').unwrap().0;
    let addr = &server.addr;
    assert_eq!(
        get(addr, &path).body,
        std::fs::read(fixture("nwb_ecephys.nwb.lindi.json")).unwrap()
    );
    // Its reference `./nwb_ecephys.nwb`, under the same token; nothing else.
    let data = request(
        addr,
        "GET",
        &format!("{dir}/nwb_ecephys.nwb"),
        &[("Range", "bytes=0-7")],
        b"",
    );
    assert_eq!(data.status, 206);
    assert_eq!(data.body, b"\x89HDF\r\n\x1a\n");
    assert_eq!(get(addr, &format!("{dir}/nwb_behavior.nwb")).status, 404);
}

#[test]
fn view_nwb_serves_a_zarr_store_by_key() {
    let store = fixture("nwb_zarr.nwb.zarr");
    let server = start(&["view-nwb", store.to_str().unwrap(), "--no-browser"]);
    let path = file_path(&server);
    // The app tells a store from a file by the `.zarr` at the end.
    assert!(path.ends_with("/nwb_zarr.nwb.zarr"), "{path}");
    let addr = &server.addr;
    let zmetadata = get(addr, &format!("{path}/.zmetadata"));
    assert_eq!(zmetadata.status, 200);
    assert_eq!(
        zmetadata.body,
        std::fs::read(store.join(".zmetadata")).unwrap()
    );
    let chunk = get(
        addr,
        &format!("{path}/acquisition/ElectricalSeries/data/0.0"),
    );
    assert_eq!(
        chunk.body,
        std::fs::read(store.join("acquisition/ElectricalSeries/data/0.0")).unwrap()
    );
    // A key never written: 404 (the fill value); nothing outside the store,
    // nothing without the token.
    assert_eq!(
        get(addr, &format!("{path}/processing/behavior/speed/data/3")).status,
        404
    );
    assert_eq!(get(addr, &format!("{path}/../nwb_zarr.nwb")).status, 404);
    assert_eq!(
        get(addr, &format!("{path}/%2e%2e/nwb_zarr.nwb")).status,
        404
    );
    let (_, rest) = path.trim_start_matches("/files/").split_once('/').unwrap();
    assert_eq!(
        get(addr, &format!("/files/wrongtoken/{rest}/.zmetadata")).status,
        404
    );
    // Without .zmetadata: said, not served.
    let err = fails(&[
        "view-nwb",
        fixture("nwb_zarr_unconsolidated.nwb.zarr")
            .to_str()
            .unwrap(),
        "--no-browser",
    ]);
    assert!(err.contains(".zmetadata"), "{err}");
}

#[cfg(unix)]
#[test]
fn lindi_references_out_of_the_folder_are_not_served() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.nwb");
    std::fs::write(&secret, b"secret bytes").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inside.nwb"), b"inside bytes").unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("link.nwb")).unwrap();
    let doc = serde_json::json!({
        "version": 1,
        "templates": {"u1": "./inside.nwb", "u2": "./link.nwb", "u3": "../secret.nwb"},
        "refs": {
            ".zgroup": {"zarr_format": 2},
            "a/0": ["{{u1}}", 0, 4],
            "b/0": ["{{u2}}", 0, 4],
            "c/0": ["{{u3}}", 0, 4],
            "d/0": [secret.to_str().unwrap(), 0, 4],
        }
    });
    let lindi = dir.path().join("x.nwb.lindi.json");
    std::fs::write(&lindi, doc.to_string()).unwrap();
    let server = start(&["view-nwb", lindi.to_str().unwrap(), "--no-browser"]);
    let path = file_path(&server);
    let folder = path.rsplit_once('/').unwrap().0;
    let addr = &server.addr;
    assert_eq!(
        get(addr, &format!("{folder}/inside.nwb")).body,
        b"inside bytes"
    );
    for refused in [
        format!("{folder}/link.nwb"),
        format!("{folder}/../secret.nwb"),
        format!("{folder}/%2e%2e/secret.nwb"),
        format!("{folder}/secret.nwb"),
        format!("{folder}/{}", secret.to_str().unwrap()),
    ] {
        assert_eq!(get(addr, &refused).status, 404, "{refused}");
    }
}

fn fails(args: &[&str]) -> String {
    let out = neurosift().args(args).output().unwrap();
    assert!(!out.status.success(), "should fail: {args:?}");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn view_nwb_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.nwb");
    std::fs::write(&text, b"just some text, not HDF5\n".repeat(100)).unwrap();
    let err = fails(&["view-nwb", text.to_str().unwrap(), "--no-browser"]);
    assert!(
        err.contains("notes.nwb") && err.contains("not an NWB file"),
        "{err}"
    );
    assert!(err.contains("HDF5"), "{err}");

    let missing = dir.path().join("missing.nwb");
    let err = fails(&["view-nwb", missing.to_str().unwrap(), "--no-browser"]);
    assert!(err.contains("missing.nwb: no such file"), "{err}");

    let err = fails(&["view-nwb", dir.path().to_str().unwrap(), "--no-browser"]);
    assert!(err.contains("not a Zarr store"), "{err}");

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let nwb = fixture("nwb_ecephys.nwb");
    let err = fails(&[
        "view-nwb",
        nwb.to_str().unwrap(),
        "--no-browser",
        "--port",
        &port,
    ]);
    assert!(
        err.contains(&format!("port {port}")) && err.contains("busy"),
        "{err}"
    );
}

#[test]
fn serve_gives_the_app_the_files_and_the_store() {
    let store = tempfile::tempdir().unwrap();
    let token = "launch-test-token-0123456789";
    let fixtures = ns_test_support::fixtures();
    let server = start(&[
        "serve",
        "--dir",
        fixtures.to_str().unwrap(),
        "--store",
        store.path().to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
        "--token",
        token,
    ]);
    let addr = &server.addr;
    assert_eq!(get(addr, "/").status, 200);
    assert_eq!(get(addr, "/nwb?url=x").status, 200);

    // The files, read-only, by URL.
    let bytes = std::fs::read(fixtures.join("nwb_ecephys.nwb")).unwrap();
    let part = request(
        addr,
        "GET",
        "/files/nwb_ecephys.nwb",
        &[("Range", "bytes=8-15")],
        b"",
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, bytes[8..16]);
    let from_other = request(
        addr,
        "GET",
        "/files/nwb_ecephys.nwb",
        &[("Origin", "http://evil.example"), ("Range", "bytes=0-7")],
        b"",
    );
    assert_eq!(from_other.header("access-control-allow-origin"), None);
    assert_eq!(
        request(addr, "PUT", "/files/nwb_ecephys.nwb", &[], b"x").status,
        405
    );
    for bad in [
        "/files/../Cargo.toml",
        "/files/%2e%2e/Cargo.toml",
        "/files//etc/passwd",
    ] {
        assert_eq!(get(addr, bad).status, 404, "{bad}");
    }
    let list: serde_json::Value = serde_json::from_slice(&get(addr, "/api/files").body).unwrap();
    let entry = list["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "nwb_ecephys.nwb")
        .unwrap();
    assert_eq!(entry["url"], format!("http://{addr}/files/nwb_ecephys.nwb"));
    assert!(
        entry["app_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("http://{addr}/nwb?url=http"))
    );

    // The store: PUT with the token, GET back; no token, no write.
    let figure = br#"{"type":"figure","data":[1,2,3]}"#;
    let hash = Sha1Hash::of(figure).to_hex();
    let object = format!("/sha1/{hash}");
    assert_eq!(request(addr, "PUT", &object, &[], figure).status, 401);
    let bearer = format!("Bearer {token}");
    let put = request(addr, "PUT", &object, &[("Authorization", &bearer)], figure);
    assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.body));
    let back = get(addr, &object);
    assert_eq!(back.status, 200);
    assert_eq!(back.body, figure);
    assert_eq!(back.header("access-control-allow-origin"), Some("*"));
    // Kept in the store directory: read again by the CLI.
    let out = neurosift()
        .args([
            "cat",
            &format!("sha1://{hash}"),
            "--store",
            store.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.stdout, figure);
}

#[test]
fn serve_says_when_its_port_is_busy() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let store = tempfile::tempdir().unwrap();
    let err = fails(&[
        "serve",
        "--dir",
        Path::new(".").to_str().unwrap(),
        "--store",
        store.path().to_str().unwrap(),
        "--bind",
        &addr,
    ]);
    assert!(err.contains("busy") && err.contains("--bind"), "{err}");
}
