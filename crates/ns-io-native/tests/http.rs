#![expect(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "tests: small known sizes"
)]
//! `HttpSource` and `open` against the real range server: reads larger than
//! a tiny page cache, and every kind of bad Range answer as its typed error.

use std::sync::Arc;
use std::time::Duration;

use ns_io::{Counters, Error, PageCacheConfig, ReadAt};
use ns_io_native::{HttpOptions, OpenOptions};
use range_server::{Config, Fault, RangeServer};

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// A server over a temporary directory holding `big.bin` (`n` bytes) and an
/// empty file.
fn server(n: usize) -> (RangeServer, tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let bytes = data(n);
    std::fs::write(dir.path().join("big.bin"), &bytes).unwrap();
    std::fs::write(dir.path().join("empty.bin"), b"").unwrap();
    let server = RangeServer::start(Config {
        dir: dir.path().to_path_buf(),
        ..Config::default()
    })
    .unwrap();
    (server, dir, bytes)
}

fn options(cache_bytes: u64, counters: &Arc<Counters>) -> OpenOptions {
    OpenOptions {
        cache: PageCacheConfig {
            page_size_bytes: 16 * 1024,
            capacity_bytes: cache_bytes,
            max_request_bytes: 128 * 1024,
            readahead_bytes: 0,
        },
        prefetch_bytes: 16 * 1024,
        whole_file_bytes: 0,
        http: HttpOptions {
            retries: 0,
            timeout: Duration::from_secs(30),
            ..HttpOptions::default()
        },
        counters: Arc::clone(counters),
    }
}

/// Whether an error is the one a fault must cause.
type IsExpected = fn(&Error) -> bool;

/// Runs `f` on a thread; fails if it does not finish in time.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("finishes (no livelock)")
}

#[test]
fn reads_three_times_a_tiny_cache_fetch_what_they_need() {
    let (server, _dir, bytes) = server(4 << 20);
    let counters = Arc::new(Counters::default());
    let cache_bytes = 256 * 1024;
    let source =
        ns_io_native::open(&server.url("big.bin"), &options(cache_bytes, &counters)).unwrap();
    let opened = server.stats().bytes;
    let range = 100_000..100_000 + 3 * cache_bytes;
    let got = {
        let source = Arc::clone(&source);
        let range = range.clone();
        within(60, move || source.read_range(range))
    }
    .unwrap();
    assert!(got[..] == bytes[range.start as usize..range.end as usize]);
    let fetched = server.stats().bytes - opened;
    let needed = range.end - range.start;
    assert!(
        fetched <= needed + 16 * 1024,
        "fetched {fetched} bytes for {needed}"
    );
    assert_eq!(counters.stats().bytes, server.stats().bytes);
    // A chunked selection: many ranges, twice the cache, read while other
    // threads make small reads.
    let ranges: Vec<_> = (0..64u64)
        .map(|i| 2_000_000 + i * 9000..2_000_000 + i * 9000 + 8192)
        .collect();
    let source = Arc::clone(&source);
    within(60, move || {
        std::thread::scope(|s| {
            s.spawn(|| {
                let got = source.read_ranges(&ranges).unwrap();
                for (r, g) in ranges.iter().zip(&got) {
                    assert!(g[..] == bytes[r.start as usize..r.end as usize]);
                }
            });
            for t in 0..3u64 {
                let (source, bytes) = (&source, &bytes);
                s.spawn(move || {
                    for i in 0..20u64 {
                        let start = (i * 104_729 + t * 7919) % ((4 << 20) - 1000);
                        let got = source.read_range(start..start + 1000).unwrap();
                        assert!(got[..] == bytes[start as usize..start as usize + 1000]);
                    }
                });
            }
        });
    });
}

#[test]
fn empty_and_small_files_open() {
    let (server, _dir, _) = server(1000);
    let counters = Arc::new(Counters::default());
    let empty = ns_io_native::open(&server.url("empty.bin"), &options(1 << 20, &counters)).unwrap();
    assert_eq!(empty.len(), 0);
    let small = ns_io_native::open(&server.url("big.bin"), &options(1 << 20, &counters)).unwrap();
    assert_eq!(small.len(), 1000);
    assert!(small.read_range(0..1000).unwrap()[..] == data(1000)[..]);
}

#[test]
fn bad_range_answers_are_typed_errors_naming_the_url() {
    let (server, _dir, _) = server(1 << 20);
    let url = server.url("big.bin");
    let counters = Arc::new(Counters::default());
    let open = || ns_io_native::open(&url, &options(1 << 20, &counters));
    let source = open().unwrap();
    let cases: [(Fault, IsExpected); 4] = [
        (Fault::IgnoreRange, |e| {
            matches!(e, Error::NotPartial { .. })
        }),
        (Fault::WrongContentRange, |e| {
            matches!(e, Error::ContentRangeMismatch { .. })
        }),
        (Fault::Status404, |e| {
            matches!(e, Error::HttpStatus { status: 404, .. })
        }),
        (Fault::Truncate, |e| e.to_string().contains("truncated")),
    ];
    for (fault, expected) in cases {
        server.set_fault(fault);
        for result in [
            open().map(drop),
            source.read_range(600_000..700_000).map(drop),
        ] {
            let err = result.unwrap_err();
            assert!(expected(&err), "{fault}: {err:?}");
            assert!(err.to_string().contains(&url), "{fault}: {err}");
        }
    }
    // A server that ignores Range is refused unread: the file is not pulled.
    server.set_fault(Fault::None);
    server.reset_stats();
    server.set_fault(Fault::IgnoreRange);
    let _ = source.read_range(0..100);
    assert!(server.stats().bytes < 1 << 20);
}

#[test]
fn a_file_that_changes_size_on_the_server_is_an_error() {
    let (server, dir, _) = server(100_000);
    let counters = Arc::new(Counters::default());
    let source = ns_io_native::open(&server.url("big.bin"), &options(1 << 20, &counters)).unwrap();
    std::fs::write(dir.path().join("big.bin"), data(200_000)).unwrap();
    let err = source.read_range(50_000..60_000).unwrap_err();
    assert!(
        matches!(
            err,
            Error::SizeChanged {
                expected: 100_000,
                got: 200_000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("changed"), "{err}");
}

#[test]
fn a_host_name_outside_ascii_says_to_give_its_ascii_form() {
    let counters = Arc::new(Counters::default());
    let Err(err) = ns_io_native::open("https://exämple.org/f.nwb", &options(1 << 20, &counters))
    else {
        panic!("a non-ASCII host opened");
    };
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("exämple.org") && text.contains("xn--"),
        "{text}"
    );
    // Nothing was sent anywhere.
    assert_eq!(counters.stats().requests, 0);
}
