//! One suite, run on every backend: a local directory, S3 (moto, a real S3-compatible server
//! on 127.0.0.1), and the store server over either. Round trips, corrupted objects, 100
//! concurrent overlapping uploads, uploads broken off half way.

#![expect(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test code: a panic is the failure report"
)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Server, TOKEN, data, files_below, s3_bucket, s3_store};
use futures_util::StreamExt;
use kachery::object_store::ObjectStoreExt;
use kachery::object_store::path::Path as Key;
use kachery::server::Config;
use kachery::{BUFFER_BYTES, Error, NoProgress, Sha1Hash, Store};

/// A store to test and a way around it to its objects.
struct Backend {
    name: &'static str,
    /// The store as a user sees it.
    store: Store,
    /// The object storage holding the objects (the server's, for a server).
    raw: Store,
    /// The directory, for a local one.
    dir: Option<tempfile::TempDir>,
    /// The moto bucket, for S3.
    bucket: Option<String>,
    _server: Option<Server>,
}

fn backends() -> Vec<Backend> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local(dir.path()).unwrap();
    out.push(Backend {
        name: "dir",
        raw: store.clone(),
        store,
        dir: Some(dir),
        bucket: None,
        _server: None,
    });
    let bucket = s3_bucket();
    let store = s3_store(&bucket, "some/prefix");
    out.push(Backend {
        name: "s3",
        raw: store.clone(),
        store,
        dir: None,
        bucket: Some(bucket),
        _server: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let raw = Store::local(dir.path()).unwrap();
    let server = Server::start(&raw, &Config::single_zone(Some(TOKEN.into())));
    out.push(Backend {
        name: "server over dir",
        store: server.client(Some(TOKEN)),
        raw,
        dir: Some(dir),
        bucket: None,
        _server: Some(server),
    });
    let bucket = s3_bucket();
    let raw = s3_store(&bucket, "");
    let server = Server::start(&raw, &Config::single_zone(Some(TOKEN.into())));
    out.push(Backend {
        name: "server over s3",
        store: server.client(Some(TOKEN)),
        raw,
        dir: None,
        bucket: Some(bucket),
        _server: Some(server),
    });
    out
}

impl Backend {
    /// Every object key in the storage, sorted.
    async fn keys(&self) -> Vec<String> {
        let objects = self.raw.object_store().unwrap();
        let mut keys: Vec<String> = objects
            .list(None)
            .map(|meta| meta.unwrap().location.to_string())
            .collect()
            .await;
        keys.sort();
        keys
    }

    /// Replaces an object's bytes behind the store's back.
    async fn corrupt(&self, hash: Sha1Hash, bytes: Vec<u8>) {
        let objects = self.raw.object_store().unwrap();
        objects
            .put(&Key::from(hash.object_key()), bytes.into())
            .await
            .unwrap();
    }

    /// Checks that nothing but `keys` is stored: no staged file, no open multipart upload.
    async fn holds_exactly(&self, mut want: Vec<String>) {
        want.sort();
        // A server aborts a broken-off upload when it notices: give it a moment.
        let started = Instant::now();
        loop {
            let files = self.dir.as_ref().map(|d| files_below(d.path()));
            let uploads = self.bucket.as_ref().map_or(0, |b| {
                ns_test_support::s3_server().open_multipart_uploads(b)
            });
            let keys = self.keys().await;
            let clean = keys == want && files.as_ref().is_none_or(|f| *f == want) && uploads == 0;
            if clean {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{}: want {want:?}\nkeys {keys:?}\nfiles {files:?}\nopen multipart uploads {uploads}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn big() -> Vec<u8> {
    data(BUFFER_BYTES as usize + 1_500_000, 2)
}

async fn collect(
    store: &Store,
    hash: Sha1Hash,
    range: std::ops::Range<u64>,
) -> Result<Vec<u8>, Error> {
    let (_, mut stream) = store.get_range(hash, range).await?;
    let mut out = Vec::new();
    while let Some(piece) = stream.next().await {
        out.extend_from_slice(&piece?);
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trips_on_every_backend() {
    let tmp = tempfile::tempdir().unwrap();
    for b in backends() {
        let name = b.name;
        let store = &b.store;
        // Small: one put.
        let small = data(1000, 1);
        let stored = store.put_bytes(Bytes::from(small.clone())).await.unwrap();
        assert_eq!(stored.hash, Sha1Hash::of(&small), "{name}");
        assert!(!stored.already_stored, "{name}");
        assert_eq!(
            store.size_of(stored.hash).await.unwrap(),
            Some(1000),
            "{name}"
        );
        assert_eq!(
            store.get_bytes(stored.hash, 1 << 20).await.unwrap(),
            small,
            "{name}"
        );
        let again = store.put_bytes(Bytes::from(small.clone())).await.unwrap();
        assert!(again.already_stored, "{name}: storing again is a no-op");
        // Empty.
        let empty = store.put_bytes(Bytes::new()).await.unwrap();
        assert_eq!(
            store.get_bytes(empty.hash, 10).await.unwrap(),
            Bytes::new(),
            "{name}"
        );
        // Larger than the buffer: a multipart upload, from a file.
        let big = big();
        let file = tmp.path().join(format!("{name}.bin"));
        std::fs::write(&file, &big).unwrap();
        let stored_big = store.put_file(&file, &NoProgress).await.unwrap();
        assert_eq!(stored_big.hash, Sha1Hash::of(&big), "{name}");
        assert_eq!(stored_big.size_bytes, big.len() as u64, "{name}");
        assert!(
            store
                .put_file(&file, &NoProgress)
                .await
                .unwrap()
                .already_stored,
            "{name}"
        );
        let out = tmp.path().join(format!("{name}.out"));
        let n = store
            .load_to_file(stored_big.hash, &out, &NoProgress)
            .await
            .unwrap();
        assert_eq!(n, big.len() as u64, "{name}");
        assert!(
            std::fs::read(&out).unwrap() == big,
            "{name}: loaded file differs"
        );
        assert!(
            collect(store, stored_big.hash, 0..u64::MAX).await.unwrap() == big,
            "{name}"
        );
        assert_eq!(
            collect(store, stored_big.hash, 100..200).await.unwrap(),
            big[100..200],
            "{name}"
        );
        // From a reader (standard input).
        let stdin_like = std::io::Cursor::new(data(5000, 3));
        let stored_reader = store.put_reader(stdin_like, &NoProgress).await.unwrap();
        assert_eq!(stored_reader.hash, Sha1Hash::of(&data(5000, 3)), "{name}");
        // Missing.
        let missing = Sha1Hash::of(b"never stored");
        let err = store.get_bytes(missing, 10).await.unwrap_err();
        assert!(
            matches!(err, Error::NotFound { .. }) || err.to_string().contains("404"),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(&missing.to_hex()), "{name}: {err}");
        assert_eq!(store.size_of(missing).await.unwrap(), None, "{name}");
        // Exactly these objects, at sha1/ab/cd/ef/<hash>.
        b.holds_exactly(
            [stored.hash, empty.hash, stored_big.hash, stored_reader.hash]
                .iter()
                .map(|h| h.object_key())
                .collect(),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corrupted_objects_are_errors_on_every_backend() {
    let tmp = tempfile::tempdir().unwrap();
    for b in backends() {
        let name = b.name;
        for content in [data(1000, 5), big()] {
            let hash = b
                .store
                .put_bytes(Bytes::from(content.clone()))
                .await
                .unwrap()
                .hash;
            let mut bad = content.clone();
            let last = bad.len() - 1;
            bad[last] ^= 0x40;
            b.corrupt(hash, bad).await;
            let err = collect(&b.store, hash, 0..u64::MAX)
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains(&hash.to_hex()), "{name}: {err}");
            let err = b
                .store
                .get_bytes(hash, 1 << 30)
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains(&hash.to_hex()), "{name}: {err}");
            if content.len() < 10_000 {
                assert!(err.contains("corrupt"), "{name}: {err}");
            }
            // Also a part of it: the whole object is checked.
            assert!(
                collect(&b.store, hash, 0..10).await.is_err(),
                "{name}: range of corrupt object"
            );
            // Nothing is written where the object was to be loaded.
            let out = tmp.path().join("loaded");
            assert!(
                b.store.load_to_file(hash, &out, &NoProgress).await.is_err(),
                "{name}"
            );
            assert!(!out.exists(), "{name}: a corrupt object was written out");
            assert_eq!(
                files_below(tmp.path()),
                Vec::<String>::new(),
                "{name}: leftovers"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_overlapping_uploads_lose_nothing() {
    for b in backends() {
        let name = b.name;
        // 20 contents, one of them large (multipart), each uploaded 5 times, all at once.
        let contents: Arc<Vec<Bytes>> = Arc::new(
            (0..20u64)
                .map(|i| {
                    let len = if i == 0 {
                        BUFFER_BYTES as usize + 1_000_000
                    } else {
                        1000 * i as usize + 1
                    };
                    Bytes::from(data(len, 100 + i))
                })
                .collect(),
        );
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let store = b.store.clone();
                let contents = Arc::clone(&contents);
                tokio::spawn(async move { store.put_bytes(contents[i % 20].clone()).await })
            })
            .collect();
        for task in tasks {
            task.await
                .unwrap()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for content in contents.iter() {
            let hash = Sha1Hash::of(content);
            assert!(
                b.store.get_bytes(hash, 1 << 30).await.unwrap() == *content,
                "{name}"
            );
        }
        b.holds_exactly(
            contents
                .iter()
                .map(|c| Sha1Hash::of(c).object_key())
                .collect(),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_broken_off_half_way_leave_nothing() {
    for b in backends() {
        let name = b.name;
        for content in [data(100_000, 7), big()] {
            let hash = Sha1Hash::of(&content);
            let half = Bytes::copy_from_slice(&content[..content.len() / 2]);
            let body = futures_util::stream::iter([
                Ok(half),
                Err(Error::Interrupted {
                    what: "test upload".into(),
                    bytes: 0,
                    message: "killed".into(),
                }),
            ])
            .boxed();
            let err = b
                .store
                .put_stream(hash, content.len() as u64, body, None, &NoProgress)
                .await
                .unwrap_err();
            assert!(!err.to_string().is_empty(), "{name}");
            assert_eq!(b.store.size_of(hash).await.unwrap(), None, "{name}");
            b.holds_exactly(Vec::new()).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_content_for_a_hash_is_refused() {
    for b in backends() {
        let name = b.name;
        for content in [data(100, 8), big()] {
            let claimed = Sha1Hash::of(b"something else");
            let body = futures_util::stream::iter([Ok(Bytes::from(content.clone()))]).boxed();
            let err = b
                .store
                .put_stream(claimed, content.len() as u64, body, None, &NoProgress)
                .await
                .unwrap_err();
            // A server may answer 400 before this side's check ends the upload.
            assert!(
                matches!(
                    err,
                    Error::WrongHash { .. } | Error::Server { status: 400, .. }
                ),
                "{name}: {err}"
            );
            assert!(
                err.to_string().contains(&Sha1Hash::of(&content).to_hex()),
                "{name}: {err}"
            );
            b.holds_exactly(Vec::new()).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_damaged_object_of_the_wrong_length_is_stored_again() {
    for b in backends() {
        let name = b.name;
        let content = data(3000, 21);
        let hash = b
            .store
            .put_bytes(Bytes::from(content.clone()))
            .await
            .unwrap()
            .hash;
        b.corrupt(hash, content[..1000].to_vec()).await;
        assert!(b.store.get_bytes(hash, 1 << 20).await.is_err(), "{name}");
        let again = b
            .store
            .put_bytes(Bytes::from(content.clone()))
            .await
            .unwrap();
        assert!(
            !again.already_stored,
            "{name}: a truncated object counted as stored"
        );
        assert_eq!(
            b.store.get_bytes(hash, 1 << 20).await.unwrap(),
            content,
            "{name}"
        );
    }
}
