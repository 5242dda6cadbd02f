//! The client against the real store server on 127.0.0.1 (the browser's `fetch` replaced by a
//! blocking HTTP client): round trips, zones, tokens, corrupt objects.

#![cfg(not(target_arch = "wasm32"))]
#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::time::Duration;

use kachery::server::{Config, ZoneConfig};
use ns_store_client::{
    Error, Fetch, HttpRequest, HttpResponse, Sha1Hash, StoreClient, StoreUri, Zone,
};

const TOKEN: &str = "client-test-token-0123456789";

/// HTTP through ureq (blocking: fine for a test).
#[derive(Clone)]
struct Ureq(ureq::Agent);

impl Ureq {
    fn new() -> Ureq {
        Ureq(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(20)))
                .build()
                .into(),
        )
    }
}

impl Fetch for Ureq {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method)
            .uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let sent = builder
            .body(request.body.unwrap_or_default())
            .map_err(|e| e.to_string())?;
        let mut response = self.0.run(sent).map_err(|e| e.to_string())?;
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = if request.method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .read_to_vec()
                .map_err(|e| e.to_string())?
        };
        Ok(HttpResponse {
            status: response.status().as_u16(),
            headers,
            body,
        })
    }
}

/// The store server on its own thread and runtime, for the life of the test process.
fn server(config: Config) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = kachery::Store::local(dir.path()).unwrap();
    let router = kachery::server::router(&store, &config).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            kachery::server::serve(listener, router, std::future::pending())
                .await
                .unwrap();
        });
    });
    (url, dir)
}

fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn objects_go_up_and_come_back_verified() {
    let (url, dir) = server(Config::single_zone(Some(TOKEN.into())));
    let reader = StoreClient::new(&url, Ureq::new());
    let writer = StoreClient::new(&format!("{url}/"), Ureq::new()).with_token(TOKEN);
    let content = b"{\"figure\": [1, 2, 3]}".to_vec();
    let hash = Sha1Hash::of(&content);

    let err = block_on(reader.put(&content, None)).unwrap_err();
    assert!(matches!(err, Error::NoToken { .. }), "{err}");
    let stored = block_on(writer.put(&content, Some("figure.json"))).unwrap();
    assert_eq!(
        stored.uri.to_string(),
        format!("sha1://{hash}?label=figure.json")
    );
    assert!(!stored.already_stored);
    assert!(block_on(writer.put(&content, None)).unwrap().already_stored);

    assert_eq!(block_on(reader.get(hash)).unwrap(), content);
    assert_eq!(block_on(reader.get_uri(&stored.uri)).unwrap(), content);
    assert_eq!(
        block_on(reader.size_of(hash)).unwrap(),
        Some(content.len() as u64)
    );
    let missing = Sha1Hash::of(b"missing");
    assert_eq!(block_on(reader.size_of(missing)).unwrap(), None);
    assert!(matches!(
        block_on(reader.get(missing)),
        Err(Error::NotFound { .. })
    ));

    let wrong = StoreClient::new(&url, Ureq::new()).with_token("wrong");
    match block_on(wrong.put(b"x", None)) {
        Err(Error::Server {
            status: 403,
            message,
            ..
        }) => assert!(message.contains("may not store")),
        other => panic!("{other:?}"),
    }

    // Corrupted on the server's disk: refused by the server (500) — and were it sent, by
    // the client's own check.
    std::fs::write(
        dir.path().join(hash.object_key()),
        b"{\"figure\": [1, 2, 4]}",
    )
    .unwrap();
    let err = block_on(reader.get(hash)).unwrap_err().to_string();
    assert!(err.contains(&format!("object {hash} is corrupt")), "{err}");
}

/// A server that answers every GET with the same wrong bytes: the client's own check.
#[test]
fn the_client_checks_what_it_gets() {
    struct Liar;
    impl Fetch for Liar {
        async fn fetch(&self, _: HttpRequest) -> Result<HttpResponse, String> {
            Ok(HttpResponse {
                status: 200,
                headers: Vec::new(),
                body: b"not it".to_vec(),
            })
        }
    }
    let hash = Sha1Hash::of(b"it");
    let err = block_on(StoreClient::new("http://x", Liar).get(hash)).unwrap_err();
    match err {
        Error::Corrupt { url, .. } => assert_eq!(url, format!("http://x/sha1/{hash}")),
        other => panic!("{other}"),
    }
}

#[test]
fn zones() {
    let mut config = Config::single_zone(None);
    config.zones.insert(
        "lab".into(),
        ZoneConfig {
            public_read: true,
            write_tokens: vec![TOKEN.into()],
            read_tokens: Vec::new(),
        },
    );
    let (url, _dir) = server(config);
    let lab = Zone::new("lab").unwrap();
    let writer = StoreClient::new(&url, Ureq::new())
        .in_zone(lab.clone())
        .with_token(TOKEN);
    let stored = block_on(writer.put(b"lab data", Some("d.bin"))).unwrap();
    let hash = Sha1Hash::of(b"lab data");
    assert_eq!(
        stored.uri.to_string(),
        format!("kachery:lab:sha1:{hash}:d.bin")
    );
    // A default-zone client follows the URI's zone.
    let reader = StoreClient::new(&url, Ureq::new());
    assert_eq!(block_on(reader.get_uri(&stored.uri)).unwrap(), b"lab data");
    assert!(matches!(
        block_on(reader.get(hash)),
        Err(Error::NotFound { .. })
    ));
    let classic = StoreUri::sha1(hash, None);
    assert!(block_on(reader.get_uri(&classic)).is_err());
    assert_eq!(
        reader.object_url(hash, Some(&lab)),
        format!("{url}/lab/sha1/{hash}")
    );
}
