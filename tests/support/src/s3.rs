//! An S3-compatible server for the store tests: moto (`moto[server]` from
//! `tests/fixtures/requirements.txt`) in server mode on 127.0.0.1, a real HTTP
//! server speaking the S3 API. It exits when the test process does (it
//! watches its standard input, which closes then).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// Runs moto on port 0 in the main thread; a second thread ends the process
/// when standard input closes (the test process is gone).
const LAUNCHER: &str = r#"
import os, sys, threading
def watch():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(["-H", "127.0.0.1", "-p", "0"])
"#;

/// A running moto server.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    _child: Mutex<(Child, Option<ChildStdin>)>,
}

/// The moto server of this test process (started on first use).
pub fn s3_server() -> &'static S3Server {
    static SERVER: OnceLock<S3Server> = OnceLock::new();
    SERVER.get_or_init(S3Server::start)
}

impl S3Server {
    fn start() -> S3Server {
        let mut child = Command::new(crate::python())
            .args(["-c", LAUNCHER])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto (cargo xtask test installs moto[server] into target/venv)");
        let stdin = child.stdin.take();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        let endpoint = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!(
                    "moto exited before serving (is moto[server] installed in target/venv?):\n{}",
                    seen.join("\n")
                );
            };
            if let Some(at) = line.find("Running on http://") {
                let url = line[at + "Running on ".len()..].trim();
                break url.trim_end_matches('/').to_string();
            }
            seen.push(line);
        };
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        S3Server {
            endpoint,
            _child: Mutex::new((child, stdin)),
        }
    }

    /// Creates a bucket (path-style `PUT /<name>`; moto checks no signature).
    pub fn create_bucket(&self, name: &str) {
        let host = self.endpoint.trim_start_matches("http://");
        let mut tcp = TcpStream::connect(host).unwrap();
        write!(
            tcp,
            "PUT /{name} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "creating bucket {name}: {answer}"
        );
    }

    /// The environment variables that point `object_store`'s S3 client here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test-key".into()),
            ("AWS_SECRET_ACCESS_KEY", "test-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// How many multipart uploads of `bucket` were started and neither completed nor aborted.
    pub fn open_multipart_uploads(&self, bucket: &str) -> usize {
        let host = self.endpoint.trim_start_matches("http://");
        let mut tcp = TcpStream::connect(host).unwrap();
        write!(
            tcp,
            "GET /{bucket}?uploads HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        answer.matches("<Upload>").count()
    }
}
