#![expect(clippy::unwrap_used, reason = "tests")]
//! LINDI files that the `lindi` package wrote from the HDF5 fixtures read
//! like the HDF5 files: the same tree, attributes and values as h5py saw.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use ns_io::Counters;
use ns_lindi::{Error, LindiFile};
use ns_model::{Data, NodeKind, ObjectStore, Selection, Value};

#[test]
fn trees_match_the_hdf5_originals() {
    let mut failures = Vec::new();
    for fixture in lindi_fixtures() {
        let file = open(&fixture.name);
        let nodes = file.walk().unwrap();
        for d in diff_tree(&fixture, &nodes) {
            failures.push(format!("{}: {d}", fixture.name));
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
fn reads_match_the_hdf5_originals() {
    let mut failures = Vec::new();
    for fixture in lindi_fixtures() {
        let file = open(&fixture.name);
        for d in diff_samples(&file, &fixture.expected) {
            failures.push(format!("{}: {d}", fixture.name));
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
fn the_fixtures_cover_lindis_features() {
    let fixtures = lindi_fixtures();
    let names: Vec<&str> = fixtures.iter().map(|f| f.name.as_str()).collect();
    for name in [
        "nwb_ecephys.nwb.lindi.json",
        "nwb_ecephys.nwb.lindi.tar",
        "layouts_latest.h5.lindi.json",
        "lindi_written.lindi.tar",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let latest = fixtures
        .iter()
        .find(|f| f.name == "layouts_latest.h5.lindi.json")
        .unwrap();
    assert!(
        !latest.external_array_links.is_empty(),
        "a dataset with > 1000 chunks becomes an _EXTERNAL_ARRAY_LINK"
    );
    let ecephys = open("nwb_ecephys.nwb.lindi.json");
    let nodes = ecephys.walk().unwrap();
    let kinds = |k: &str| nodes.iter().filter(|n| n.kind.name() == k).count();
    assert!(kinds("soft_link") > 0 && kinds("dataset") > 50 && kinds("group") > 10);
    // No LINDI bookkeeping attribute shows.
    assert!(
        nodes
            .iter()
            .all(|n| n.attrs.iter().all(|(k, _)| !k.starts_with('_')))
    );
}

#[test]
fn opening_reads_nothing_but_the_document_and_reads_fetch_only_needed_chunks() {
    let counters: Arc<Counters> = Arc::default();
    let file = open_counted("nwb_ecephys.nwb.lindi.json", &counters);
    file.walk().unwrap();
    file.node("/units").unwrap();
    // Inline data: no request.
    let spikes = file.read("/units/spike_times", &Selection::all()).unwrap();
    assert_eq!(spikes.shape, vec![429]);
    assert_eq!(counters.stats().requests, 0, "all from the document");
    // 30000 x 16 int16 in chunks of 3000 rows: rows 2995..3005 touch 2
    // chunks, fetched together after the opener's probe.
    let data = file
        .read(
            "/acquisition/ElectricalSeries/data",
            &"2995:3005,0:4".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(data.shape, vec![10, 4]);
    let after_first = counters.stats();
    // Reading the same range again fetches the chunks again (no chunk
    // cache here; the opener's sources may cache pages).
    let probe_and_chunks = after_first.requests;
    assert!(
        (2..=4).contains(&probe_and_chunks),
        "{probe_and_chunks} requests"
    );
    assert!(
        after_first.bytes < 400_000,
        "{} bytes: 2 chunks of ~72 KB",
        after_first.bytes
    );
}

#[test]
fn scalars_strings_references_and_compounds() {
    let file = open("nwb_ecephys.nwb.lindi.json");
    let node = file.node("/session_start_time").unwrap();
    assert_eq!(node.dataset.as_ref().unwrap().shape, Vec::<u64>::new());
    let start = file.read("/session_start_time", &Selection::all()).unwrap();
    assert_eq!(start.shape, Vec::<u64>::new());
    assert_eq!(start.to_strings(), vec!["2024-03-15T10:30:00-07:00"]);
    let groups = file
        .read(
            "/general/extracellular_ephys/electrodes/group",
            &Selection::rows(0, 2),
        )
        .unwrap();
    let Data::Values(values) = &groups.data else {
        panic!("references are values")
    };
    assert!(
        matches!(&values[0], Value::Ref(Some(p)) if p.starts_with("/general/extracellular_ephys/")),
        "{values:?}"
    );
    let epochs = file
        .read("/intervals/epochs/timeseries", &Selection::rows(0, 1))
        .unwrap();
    assert_eq!(epochs.dtype.name(), "compound");
    let Data::Values(values) = &epochs.data else {
        panic!("compound values")
    };
    let Value::Compound(fields) = &values[0] else {
        panic!("{values:?}")
    };
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["idx_start", "count", "timeseries"]);
    assert!(matches!(fields[2].1, Value::Ref(Some(_))));
}

#[test]
fn soft_links_are_listed_and_followed() {
    let file = open("nwb_ecephys.nwb.lindi.json");
    let nodes = file.walk().unwrap();
    let link = nodes
        .iter()
        .find(|n| matches!(n.kind, NodeKind::SoftLink { .. }))
        .unwrap();
    let NodeKind::SoftLink { target } = &link.kind else {
        unreachable!()
    };
    // `node` follows the link, keeping the path asked for.
    let followed = file.node(&link.path).unwrap();
    assert_eq!(followed.path, link.path);
    assert_eq!(followed, {
        let mut t = file.node(target).unwrap();
        t.path = link.path.clone();
        t
    });
    // Reads through a parent that is a soft link.
    let in_link = format!("{}/description", link.path);
    if file.node(&format!("{target}/description")).is_ok() {
        assert!(file.node(&in_link).is_ok());
    }
}

#[test]
fn errors_name_the_file_and_object() {
    let file = open("nwb_ecephys.nwb.lindi.json");
    let err = file.read("/nope", &Selection::all()).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(
        err.to_string().contains("nwb_ecephys.nwb.lindi.json"),
        "{err}"
    );
    let err = file.read("/units", &Selection::all()).unwrap_err();
    assert!(err.to_string().contains("not a dataset"), "{err}");
    let err = file
        .read("/units/spike_times", &"5000".parse().unwrap())
        .unwrap_err();
    assert!(matches!(err, Error::Selection { .. }), "{err}");
    // Through ObjectStore, the same errors in the object model's terms.
    let store: &dyn ObjectStore = &file;
    assert!(matches!(
        store.node("/nope"),
        Err(ns_model::Error::NotFound { .. })
    ));
}

fn no_opener() -> impl Fn(&str) -> ns_io::Result<ns_io::DynSource> + Send + Sync + 'static {
    |url: &str| {
        Err(ns_io::Error::Invalid {
            location: url.to_string(),
            message: "no files in this test".into(),
        })
    }
}

#[test]
fn malformed_documents_fail_cleanly() {
    let open = |doc: &str| {
        LindiFile::open(
            doc.as_bytes(),
            "bad.lindi.json",
            no_opener(),
            Default::default(),
        )
    };
    for (doc, needle) in [
        ("not json", "not a LINDI file"),
        ("[]", "not an object"),
        ("{\"version\": 1}", "no \"refs\""),
        ("{\"refs\": {}}", "no .zgroup"),
        (
            r#"{"refs": {".zgroup": {}, "x/.zarray": {"shape": [2]}}}"#,
            "chunks",
        ),
        (
            r#"{"refs": {".zgroup": {}, "x/0": [1, 2, 3]}}"#,
            "[url, offset, length]",
        ),
    ] {
        let err = open(doc).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(needle), "{doc}: {err}");
        assert!(err.contains("bad.lindi.json"), "{doc}: {err}");
    }
    // Chunks that do not decode: an error, not a panic.
    let doc = r#"{"refs": {".zgroup": {},
        "z/.zarray": {"shape": [4], "chunks": [4], "dtype": "<i4", "compressor": {"id": "zlib"}, "filters": null, "fill_value": 0, "order": "C"},
        "z/0": "base64:AAAA",
        "b/.zarray": {"shape": [4], "chunks": [4], "dtype": "<i4", "compressor": {"id": "blosc"}, "filters": null, "fill_value": 0, "order": "C"},
        "b/0": "base64:AgEhBBAAAAAQAAAAIAAAAA==",
        "q/.zarray": {"shape": [4], "chunks": [4], "dtype": "<i4", "compressor": {"id": "lzma"}, "filters": null, "fill_value": 0, "order": "C"},
        "q/0": "xx",
        "r/.zarray": {"shape": [4], "chunks": [4], "dtype": "<i4", "compressor": null, "filters": null, "fill_value": 0, "order": "C"},
        "r/0": ["http://127.0.0.1:9/missing", 0, 16]
    }}"#;
    let file = LindiFile::open(
        doc.as_bytes(),
        "bad.lindi.json",
        no_opener(),
        Default::default(),
    )
    .unwrap();
    for (path, needle) in [
        ("/z", "zlib"),
        ("/b", "blosc"),
        ("/q", "\"lzma\" codec is not supported"),
        ("/r", "no files in this test"),
    ] {
        let err = file.read(path, &Selection::all()).unwrap_err().to_string();
        assert!(err.contains(needle), "{path}: {err}");
    }
}

#[test]
fn missing_chunks_read_as_the_fill_value() {
    let doc = r#"{"refs": {".zgroup": {"zarr_format": 2},
        "a/.zarray": {"shape": [5], "chunks": [2], "dtype": "<f8", "compressor": null, "filters": null, "fill_value": "NaN", "order": "C", "zarr_format": 2},
        "a/1": "base64:AAAAAAAA8D8AAAAAAAAAQA==",
        "i/.zarray": {"shape": [2, 3], "chunks": [1, 2], "dtype": ">i2", "compressor": null, "filters": null, "fill_value": -7, "order": "C", "zarr_format": 2},
        "i/1.1": "base64:AAUABg=="
    }}"#;
    let file = LindiFile::open(
        doc.as_bytes(),
        "mem.lindi.json",
        no_opener(),
        Default::default(),
    )
    .unwrap();
    let a = file.read("/a", &Selection::all()).unwrap();
    let v = a.to_f64();
    assert!(v[0].is_nan() && v[1].is_nan() && v[4].is_nan());
    assert_eq!(&v[2..4], &[1.0, 2.0]);
    let i = file.read("/i", &Selection::all()).unwrap();
    assert_eq!(i.data, Data::Int16(vec![-7, -7, -7, -7, -7, 5]));
    let col = file.read("/i", &"0:2,2".parse().unwrap()).unwrap();
    assert_eq!(
        (col.shape.clone(), col.data),
        (vec![2], Data::Int16(vec![-7, 5]))
    );
    let stepped = file.read("/a", &"0:5:2".parse().unwrap()).unwrap();
    assert_eq!(stepped.to_f64()[1], 1.0);
}

#[test]
fn a_remote_reference_file_cannot_make_us_open_local_files() {
    let opened = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = Arc::clone(&opened);
    let opener = move |url: &str| -> ns_io::Result<ns_io::DynSource> {
        log.lock().unwrap().push(url.to_string());
        Err(ns_io::Error::Invalid {
            location: url.to_string(),
            message: "opened".into(),
        })
    };
    let array = r#"{"shape": [4], "chunks": [4], "dtype": "<i4", "compressor": null, "filters": null, "fill_value": 0, "order": "C"}"#;
    let doc = format!(
        r#"{{"refs": {{".zgroup": {{}},
        "abs/.zarray": {array}, "abs/0": ["/etc/passwd", 0, 16],
        "file/.zarray": {array}, "file/0": ["file:///etc/passwd", 0, 16],
        "rel/.zarray": {array}, "rel/0": ["passwd", 0, 16],
        "tpl/.zarray": {array}, "tpl/0": ["{{{{u}}}}", 0, 16],
        "ext/.zarray": {array}, "ext/.zattrs": {{"_EXTERNAL_ARRAY_LINK": {{"link_type": "hdf5_dataset", "url": "/etc/passwd", "name": "x"}}}},
        "ok/.zarray": {array}, "ok/0": ["./data.nwb", 0, 16]
        }}, "templates": {{"u": "/etc/shadow"}}}}"#
    );
    let file = LindiFile::open(
        doc.as_bytes(),
        "https://data.example.org/d/x.lindi.json",
        opener,
        Default::default(),
    )
    .unwrap();
    for (path, reference) in [
        ("/abs", "/etc/passwd"),
        ("/file", "file:///etc/passwd"),
        ("/rel", "passwd"),
        ("/tpl", "/etc/shadow"),
        ("/ext", "/etc/passwd"),
    ] {
        let err = file.read(path, &Selection::all()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("{reference:?}"))
                && err.contains("refused")
                && err.contains(path),
            "{path}: {err}"
        );
    }
    // A relative reference stays on the document's server.
    let err = file.read("/ok", &Selection::all()).unwrap_err().to_string();
    assert!(err.contains("opened"), "{err}");
    assert_eq!(
        *opened.lock().unwrap(),
        vec!["https://data.example.org/d/data.nwb".to_string()],
        "nothing local was opened"
    );
    // The same document from a local path may name local files.
    let local = LindiFile::open(
        doc.as_bytes(),
        "/tmp/x.lindi.json",
        no_opener(),
        Default::default(),
    )
    .unwrap();
    let err = local
        .read("/abs", &Selection::all())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no files in this test"), "{err}");
}
