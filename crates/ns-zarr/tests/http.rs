#![expect(clippy::unwrap_used, reason = "tests")]
//! NWB-Zarr stores served over HTTP by the range server: the tree from
//! `.zmetadata` in one request, chunks by plain GETs (404 = never written =
//! the fill value; other failures are errors), credentials only where
//! `ns_links::credentials_allowed` says.

mod common;

use std::sync::Arc;

use common::*;
use ns_io::Counters;
use ns_model::Selection;
use range_server::{Config, Fault, FaultSpec, RangeServer};

fn server(dir: &std::path::Path) -> RangeServer {
    RangeServer::start(Config {
        dir: dir.to_path_buf(),
        ..Config::default()
    })
    .unwrap()
}

#[test]
fn over_http_the_stores_match_zarr_python() {
    let server = server(fixtures());
    let mut failures = Vec::new();
    for fixture in zarr_fixtures().into_iter().filter(|f| f.consolidated) {
        let counters: Arc<Counters> = Arc::default();
        let url = server.url(&fixture.name);
        let file = open_url(&url, &counters).unwrap();
        assert_eq!(file.location(), url);
        assert_eq!(
            counters.stats().requests,
            1 + one_element_arrays(&fixture),
            ".zmetadata, then the scalars"
        );
        for d in diff_tree(&fixture, &file.walk().unwrap()) {
            failures.push(format!("{}: {d}", fixture.name));
        }
        // Includes chunk 3 of /processing/behavior/speed/data, which is not
        // stored (the server answers 404): read as the fill value.
        for d in diff_samples(&file, &fixture.expected) {
            failures.push(format!("{}: {d}", fixture.name));
        }
        for path in &fixture.pickled {
            let err = file.read(path, &Selection::all()).unwrap_err();
            assert!(err.to_string().contains("pickle"), "{err}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_read_is_one_request_per_chunk_it_touches() {
    let server = server(fixtures());
    let counters: Arc<Counters> = Arc::default();
    let file = open_url_with(&server.url("nwb_zarr.nwb.zarr/"), &counters, no_prefetch()).unwrap();
    assert_eq!(counters.stats().requests, 1, "only .zmetadata to open");
    server.reset_stats();
    // Rows 2400..5100 of chunks of 2500 rows: chunks 0, 1 and 2.
    let array = file
        .read(
            "/acquisition/ElectricalSeries/data",
            &"2400:5100,0:16".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(array.shape, [2700, 16]);
    assert_eq!(server.stats().requests, 3);
}

#[test]
fn without_zmetadata_over_http_the_error_says_what_is_needed() {
    let server = server(fixtures());
    let Err(err) = open_url(
        &server.url("nwb_zarr_unconsolidated.nwb.zarr"),
        &Arc::default(),
    ) else {
        panic!("opened without .zmetadata over HTTP");
    };
    let text = err.to_string();
    assert!(
        matches!(err, ns_zarr::Error::NotZarr { .. }) && text.contains(".zmetadata"),
        "{text}"
    );
    let Err(err) = open_url(&server.url("no_such.nwb.zarr"), &Arc::default()) else {
        panic!("opened a store that does not exist");
    };
    assert!(err.to_string().contains("not a Zarr store"), "{err}");
}

#[test]
fn a_failing_chunk_request_is_an_error_not_a_fill_value() {
    let server = server(fixtures());
    let file = open_url(&server.url("nwb_zarr.nwb.zarr"), &Arc::default()).unwrap();
    for mode in [Fault::Status500, Fault::Reset] {
        server.set_fault(FaultSpec {
            mode,
            every: 1,
            file: Some("nwb_zarr.nwb.zarr/acquisition/ElectricalSeries/data/0.0".into()),
        });
        let err = file
            .read(
                "/acquisition/ElectricalSeries/data",
                &"0:10,0".parse().unwrap(),
            )
            .unwrap_err();
        assert!(
            matches!(err, ns_zarr::Error::Io(_)),
            "{mode}: {err} ({err:?})"
        );
        assert!(err.to_string().contains("data/0.0"), "{err}");
    }
}

#[test]
fn credentials_go_only_to_the_allowed_origin() {
    let first = server(fixtures());
    let second = server(fixtures());
    // The user's URL redirects to another origin; keys are fetched there.
    let url = first.redirect_url_to(&second.base_url(), "nwb_zarr.nwb.zarr");
    let options = ns_io_native::HttpOptions {
        headers: vec![("Authorization".into(), "token secret".into())],
        credential_roots: vec![url.clone()],
        ..Default::default()
    };
    let keys = ns_io_native::HttpKeys::new(&url, options, Arc::default());
    let file = ns_zarr::ZarrFile::open(Arc::new(keys), Default::default()).unwrap();
    file.read("/units/spike_times", &Selection::all()).unwrap();
    assert!(first.stats().authorized >= 2, "{:?}", first.stats());
    let other = second.stats();
    assert!(other.requests >= 2, "the data came from the second host");
    assert_eq!(other.authorized, 0, "the second host never saw the header");
}
