//! `neurosift store | load | cat URI | store-server` as a user runs them, against the per-user
//! default directory, S3 (moto on 127.0.0.1) and a `neurosift store-server` process; a server
//! killed half way through an upload, and `store --stdin` killed half way.

#![expect(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test code: a panic is the failure report"
)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kachery::Sha1Hash;

const TOKEN: &str = "cli-test-token-0123456789";
/// Past the store's in-memory buffer (8 MiB): a multipart upload.
const LARGE: usize = 20 * 1024 * 1024;

fn neurosift() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_neurosift"));
    for var in ["NEUROSIFT_STORE", "NEUROSIFT_STORE_TOKEN", "XDG_DATA_HOME"] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fails(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 11) as u8)
        .collect()
}

/// store, then cat and load (both URI forms), with `args` naming the store and `env` set.
fn round_trip(tmp: &Path, args: &[&str], env: &[(&str, String)]) {
    let small = tmp.join("small.json");
    std::fs::write(&small, b"{\"a\": 1}").unwrap();
    let large = tmp.join("large.bin");
    let large_data = data(LARGE, 3);
    std::fs::write(&large, &large_data).unwrap();
    let with = |cmd: &mut Command| {
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(cmd)
    };
    let out = with(neurosift().args(["store"]).arg(&small).arg(&large));
    let stdout = ok(&out);
    let uris: Vec<&str> = stdout.lines().collect();
    let small_hash = Sha1Hash::of(b"{\"a\": 1}");
    let large_hash = Sha1Hash::of(&large_data);
    assert_eq!(
        uris,
        [
            format!("sha1://{small_hash}?label=small.json"),
            format!("sha1://{large_hash}?label=large.bin")
        ]
    );
    let again = with(neurosift().args(["store"]).arg(&small));
    ok(&again);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already stored"));

    assert_eq!(ok(&with(neurosift().args(["cat", uris[0]]))), "{\"a\": 1}");
    let zoned = format!("kachery:default:sha1:{small_hash}:small.json");
    assert_eq!(ok(&with(neurosift().args(["cat", &zoned]))), "{\"a\": 1}");
    let cat_large = with(neurosift().args(["cat", uris[1]]));
    assert!(cat_large.status.success());
    assert!(
        cat_large.stdout == large_data,
        "cat of the large object differs"
    );

    let out_file = tmp.join("loaded.bin");
    ok(&with(
        neurosift().args(["load", uris[1], "-o"]).arg(&out_file),
    ));
    assert!(std::fs::read(&out_file).unwrap() == large_data);
    // Default output name: the label.
    let dir = tmp.join("load-here");
    std::fs::create_dir_all(&dir).unwrap();
    ok(&with(neurosift().current_dir(&dir).args(["load", uris[0]])));
    assert_eq!(
        std::fs::read(dir.join("small.json")).unwrap(),
        b"{\"a\": 1}"
    );
    let exists = fails(&with(neurosift().current_dir(&dir).args(["load", uris[0]])));
    assert!(exists.contains("exists"), "{exists}");

    let mut child = neurosift()
        .args(["store", "--stdin", "--label", "from stdin"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped bytes")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        ok(&out).trim(),
        format!("sha1://{}?label=from%20stdin", Sha1Hash::of(b"piped bytes"))
    );

    let missing = format!("sha1://{}", Sha1Hash::of(b"never stored"));
    let err = fails(&with(neurosift().args(["cat", &missing])));
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn local_default_store() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let env = [("HOME", home.display().to_string())];
    let env: Vec<(&str, String)> = env.into_iter().collect();
    // No --store, no NEUROSIFT_STORE: the per-user data directory.
    round_trip(tmp.path(), &[], &env);
    let default = home.join(".local/share/neurosift/store/sha1");
    assert!(default.is_dir(), "nothing in {}", default.display());
    // --store and NEUROSIFT_STORE override it.
    let dir = tmp.path().join("explicit");
    let uri = ok(&run(neurosift()
        .args(["store", "--store"])
        .arg(&dir)
        .arg(tmp.path().join("small.json"))));
    let via_env = run(neurosift()
        .env("NEUROSIFT_STORE", &dir)
        .args(["cat", uri.trim()]));
    assert_eq!(ok(&via_env), "{\"a\": 1}");
}

#[test]
fn s3_store() {
    let s3 = ns_test_support::s3_server();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let bucket = format!(
        "cli-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    s3.create_bucket(&bucket);
    let tmp = tempfile::tempdir().unwrap();
    let store = format!("s3://{bucket}/figures");
    round_trip(tmp.path(), &["--store", &store], &s3.env());
    // A bucket that does not exist: an error naming it.
    let err = fails(&run(neurosift()
        .args([
            "cat",
            &format!("sha1://{}", Sha1Hash::of(b"x")),
            "--store",
            "s3://no-such-bucket",
        ])
        .envs(s3.env())));
    assert!(err.contains("no-such-bucket"), "{err}");
}

/// A `neurosift store-server` process; killed on drop.
struct ServerProcess {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    fn start(store: &str, env: &[(&str, String)], extra: &[&str]) -> ServerProcess {
        let mut child = neurosift()
            .args([
                "store-server",
                "--store",
                store,
                "--bind",
                "127.0.0.1:0",
                "--token",
                TOKEN,
            ])
            .args(extra)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("store-server exited").unwrap();
            if let Some(at) = line.find("on http://") {
                let rest = &line[at + 3..];
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        ServerProcess { child, url, log }
    }

    fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn store_server_process() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("served");
    let server = ServerProcess::start(dir.to_str().unwrap(), &[], &[]);
    let env = vec![("NEUROSIFT_STORE_TOKEN", TOKEN.to_string())];
    round_trip(tmp.path(), &["--store", &server.url], &env);
    // Written through the server into its directory.
    assert!(dir.join("sha1").is_dir());
    // A wrong token is refused.
    let file = tmp.path().join("other.txt");
    std::fs::write(&file, b"other").unwrap();
    let err = fails(&run(neurosift()
        .args(["store", "--store", &server.url, "--token", "wrong"])
        .arg(&file)));
    assert!(
        err.contains("403") && err.contains("may not store"),
        "{err}"
    );
    let err = fails(&run(neurosift()
        .args(["store", "--store", &server.url])
        .arg(&file)));
    assert!(err.contains("401"), "{err}");
    // One log line per request.
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains("PUT /sha1/") && log.contains(" 201 "), "{log}");
    assert!(log.contains("GET /sha1/") && log.contains(" 200 "), "{log}");
    assert!(log.contains(" 403 ") && log.contains(" 401 "), "{log}");

    // Over S3 too.
    let s3 = ns_test_support::s3_server();
    let bucket = format!("cli-server-{}", std::process::id());
    s3.create_bucket(&bucket);
    let over_s3 = ServerProcess::start(&format!("s3://{bucket}"), &s3.env(), &[]);
    let tmp2 = tempfile::tempdir().unwrap();
    round_trip(tmp2.path(), &["--store", &over_s3.url], &env);
}

fn staged_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Starts a PUT of `len` bytes and sends `sent` of them.
fn start_upload(addr: &str, hash: Sha1Hash, content: &[u8], sent: usize) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).unwrap();
    write!(
        tcp,
        "PUT /sha1/{hash} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n",
        content.len()
    )
    .unwrap();
    tcp.write_all(&content[..sent]).unwrap();
    tcp.flush().unwrap();
    tcp
}

#[test]
fn a_server_killed_half_way_through_an_upload_leaves_nothing_visible() {
    let content = data(LARGE, 9);
    let hash = Sha1Hash::of(&content);
    let uri = format!("sha1://{hash}");

    // Over a directory: the staged file stays (under another name), the object is not there.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("served");
    let mut server = ServerProcess::start(dir.to_str().unwrap(), &[], &[]);
    let _tcp = start_upload(&server.addr(), hash, &content, LARGE / 2 + 2_000_000);
    let started = Instant::now();
    while staged_files(&dir).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "upload never staged"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let left = staged_files(&dir);
    assert!(
        left.iter().all(|f| f.to_string_lossy().contains('#')),
        "only a staged file may remain: {left:?}"
    );
    let server = ServerProcess::start(dir.to_str().unwrap(), &[], &[]);
    let err = fails(&run(neurosift().args([
        "cat",
        &uri,
        "--store",
        &server.url,
    ])));
    assert!(err.contains("404") || err.contains("not found"), "{err}");
    let err = fails(&run(neurosift().args(["cat", &uri, "--store"]).arg(&dir)));
    assert!(err.contains("not found"), "{err}");
    // The same upload succeeds afterwards.
    let file = tmp.path().join("content.bin");
    std::fs::write(&file, &content).unwrap();
    let stored = run(neurosift()
        .args(["store", "--store", &server.url, "--token", TOKEN])
        .arg(&file));
    assert!(ok(&stored).starts_with(&uri));
    drop(server);

    // Over S3: the multipart upload is never completed.
    let s3 = ns_test_support::s3_server();
    let bucket = format!("cli-killed-{}", std::process::id());
    s3.create_bucket(&bucket);
    let store = format!("s3://{bucket}");
    let mut server = ServerProcess::start(&store, &s3.env(), &[]);
    let _tcp = start_upload(&server.addr(), hash, &content, LARGE / 2 + 2_000_000);
    let started = Instant::now();
    while s3.open_multipart_uploads(&bucket) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no multipart upload started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let err = fails(&run(neurosift()
        .args(["cat", &uri, "--store", &store])
        .envs(s3.env())));
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn store_stdin_killed_half_way_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let mut child = neurosift()
        .args(["store", "--stdin", "--store"])
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&data(3_000_000, 4)).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    let objects: Vec<PathBuf> = staged_files(&dir)
        .into_iter()
        .filter(|f| !f.to_string_lossy().contains('#'))
        .collect();
    assert_eq!(objects, Vec::<PathBuf>::new());
}

#[test]
fn corrupt_objects_are_never_printed_or_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    for content in [b"small object".to_vec(), data(LARGE, 5)] {
        let file = tmp.path().join("f.bin");
        std::fs::write(&file, &content).unwrap();
        let uri = ok(&run(neurosift()
            .args(["store", "--store"])
            .arg(&dir)
            .arg(&file)));
        let uri = uri.trim();
        let hash = Sha1Hash::of(&content);
        let object = dir.join(hash.object_key());
        let mut bad = content.clone();
        bad[3] ^= 1;
        std::fs::write(&object, &bad).unwrap();
        let out = run(neurosift().args(["cat", uri, "--store"]).arg(&dir));
        let err = fails(&out);
        assert!(err.contains(&format!("object {hash} is corrupt")), "{err}");
        assert!(out.stdout.is_empty(), "corrupt bytes printed");
        let target = tmp.path().join("out.bin");
        let err = fails(&run(neurosift()
            .args(["load", uri, "--store"])
            .arg(&dir)
            .arg("-o")
            .arg(&target)));
        assert!(err.contains("corrupt"), "{err}");
        assert!(!target.exists());
    }
}

#[test]
fn bad_uris_and_arguments_are_clear_errors() {
    for (args, want) in [
        (vec!["cat", "sha1://abc"], "not a sha1 hash"),
        (vec!["cat", "kachery:default:md5:x:y"], "only sha1"),
        (vec!["load", "http://example.org/x"], "is not a store URI"),
        (
            vec![
                "cat",
                "sha1://0000000000000000000000000000000000000000",
                "/a/b",
            ],
            "dataset paths",
        ),
        (vec!["store"], "FILE... or --stdin"),
        (
            vec!["store", "--store", "gs://bucket", "x"],
            "unknown scheme gs://",
        ),
    ] {
        let err = fails(&run(neurosift().args(&args)));
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
