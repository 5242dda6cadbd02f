#![expect(clippy::unwrap_used, reason = "tests")]
//! NWB-Zarr stores written by hdmf-zarr, read from their directories: the
//! same tree, attributes and values as zarr-python saw, and the same NWB
//! answers as the HDF5 copy of the same content.

mod common;

use std::sync::Arc;

use common::*;
use ns_io::Counters;
use ns_model::Selection;
use ns_nwb::NwbFile;

#[test]
fn trees_and_values_match_zarr_python() {
    let mut failures = Vec::new();
    let fixtures = zarr_fixtures();
    assert!(fixtures.len() >= 3, "{fixtures:?}");
    for fixture in fixtures {
        let file = open_dir(&fixture.name, &Arc::default());
        for d in diff_tree(&fixture, &file.walk().unwrap()) {
            failures.push(format!("{}: {d}", fixture.name));
        }
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
fn the_fixtures_cover_hdmf_zarrs_conventions() {
    let fixture = fixture("nwb_zarr.nwb.zarr");
    let file = open_dir(&fixture.name, &Arc::default());
    let nodes = file.walk().unwrap();
    let node = |p: &str| nodes.iter().find(|n| n.path == p).unwrap();
    // Links from `zarr_link`.
    assert_eq!(
        node("/processing/behavior/speed_linked/data").kind,
        ns_model::NodeKind::SoftLink {
            target: "/processing/behavior/speed/data".into()
        }
    );
    // Filters of each compressor the fixture uses.
    let filters = |p: &str| node(p).dataset.as_ref().unwrap().filters.clone();
    assert_eq!(filters("/acquisition/ElectricalSeries/data"), ["gzip"]);
    assert_eq!(filters("/processing/behavior/speed/data"), ["zstd"]);
    assert_eq!(filters("/units/spike_times"), ["blosc"]);
    // A scalar string, a reference attribute, hdmf-zarr's own attributes hidden.
    let description = file
        .read("/session_description", &Selection::all())
        .unwrap();
    assert!(description.shape.is_empty());
    assert_eq!(
        description.to_json(),
        serde_json::json!(["NWB-Zarr test session"])
    );
    assert_eq!(
        node("/acquisition/ElectricalSeries/electrodes")
            .attr("table")
            .unwrap(),
        &ns_model::Value::Ref(Some("/general/extracellular_ephys/electrodes".into()))
    );
    assert!(nodes.iter().all(|n| {
        n.attrs
            .iter()
            .all(|(k, _)| !ns_zarr::HDMF_ATTRS.contains(&k.as_str()))
    }));
    // A chunk that was never written reads as the fill value (0.0).
    let missing = file
        .read(
            "/processing/behavior/speed/data",
            &"770:772".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(missing.to_json(), serde_json::json!([0.0, 0.0]));
    // The data of a link is the target's.
    let linked = file
        .read(
            "/processing/behavior/speed_linked/data",
            &"10:12".parse().unwrap(),
        )
        .unwrap();
    let direct = file
        .read("/processing/behavior/speed/data", &"10:12".parse().unwrap())
        .unwrap();
    assert_eq!(linked, direct);
}

#[test]
fn a_read_fetches_only_the_chunks_it_touches() {
    let counters: Arc<Counters> = Arc::default();
    let file = open_dir_with("nwb_zarr.nwb.zarr", &counters, no_prefetch());
    // Opening reads .zmetadata alone.
    assert_eq!(counters.stats().requests, 1);
    let before = counters.stats().requests;
    // Rows 2400..2600 of chunks of 2500 rows: 2 chunks.
    file.read(
        "/acquisition/ElectricalSeries/data",
        &"2400:2600,3".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(counters.stats().requests - before, 2);
}

#[test]
fn scalars_are_fetched_with_the_metadata() {
    let fixture = fixture("nwb_zarr.nwb.zarr");
    let counters: Arc<Counters> = Arc::default();
    let file = open_dir(&fixture.name, &counters);
    let scalars = one_element_arrays(&fixture);
    assert!(scalars > 20, "{scalars}");
    assert_eq!(counters.stats().requests, 1 + scalars);
    for path in [
        "/session_description",
        "/specifications/core/2.11.0/nwb.base",
    ] {
        file.read(path, &Selection::all()).unwrap();
    }
    assert_eq!(
        counters.stats().requests,
        1 + scalars,
        "read from the prefetch"
    );
}

#[test]
fn pickled_elements_are_refused_naming_pickle() {
    let fixture = fixture("nwb_zarr_pickle.nwb.zarr");
    assert!(
        fixture
            .pickled
            .contains(&"/general/extracellular_ephys/electrodes/group".to_string()),
        "{:?}",
        fixture.pickled
    );
    let file = open_dir(&fixture.name, &Arc::default());
    for path in &fixture.pickled {
        let err = file.read(path, &Selection::all()).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, ns_zarr::Error::Unsupported { .. }) && text.contains("pickle"),
            "{path}: {text}"
        );
        assert!(text.contains(path), "{text}");
    }
}

#[test]
fn without_zmetadata_a_directory_is_listed() {
    let counters: Arc<Counters> = Arc::default();
    let file = open_dir("nwb_zarr_unconsolidated.nwb.zarr", &counters);
    assert!(counters.stats().requests > 100, "every metadata document");
    let consolidated = open_dir("nwb_zarr.nwb.zarr", &Arc::default());
    assert_eq!(file.walk().unwrap(), consolidated.walk().unwrap());
}

/// What a viewer asks of an NWB file, as text to compare.
fn summary(nwb: &NwbFile) -> Vec<String> {
    let mut out = vec![
        format!("session {:?}", nwb.session()),
        format!("specs {:?}", nwb.spec_namespaces()),
        format!("warnings {:?}", nwb.warnings()),
    ];
    for node in nwb.nodes() {
        out.push(format!(
            "{} {} {:?} {:?}",
            node.path,
            node.kind.name(),
            nwb.neurodata_type(&node.path),
            node.dataset.as_ref().map(|d| (&d.shape, d.dtype)),
        ));
    }
    for ty in ["TimeSeries", "DynamicTable", "NWBDataInterface"] {
        let paths: Vec<&str> = nwb
            .objects_of_type(ty)
            .iter()
            .map(|n| n.path.as_str())
            .collect();
        out.push(format!("{ty}: {paths:?}"));
    }
    for node in nwb.objects_of_type("TimeSeries") {
        let ts = nwb.time_series(&node.path).unwrap();
        let n = ts.num_samples();
        out.push(format!(
            "{} timing {:?} samples {n} first {:?} data {:?}",
            node.path,
            ts.timing(),
            ts.timestamps(0..n.min(3)).unwrap(),
            ts.read_data(0..n.min(2), None).unwrap().to_json(),
        ));
    }
    for node in nwb.objects_of_type("DynamicTable") {
        let table = nwb.dynamic_table(&node.path).unwrap();
        out.push(format!(
            "{} rows {} ids {:?}",
            node.path,
            table.num_rows(),
            table.ids()
        ));
        for name in table.colnames() {
            out.push(format!("{} {name}: {:?}", node.path, table.column(name)));
        }
    }
    for node in nwb.objects_of_type("ElectricalSeries") {
        let es = nwb.electrical_series(&node.path).unwrap();
        out.push(format!(
            "{} channels {} electrodes {:?}",
            node.path,
            es.num_channels(),
            es.electrodes()
        ));
    }
    out
}

#[test]
fn nwb_answers_match_the_hdf5_copy() {
    let fixture = fixture("nwb_zarr.nwb.zarr");
    let h5 = ns_io_native::open(
        fixtures().join(&fixture.hdf5).to_str().unwrap(),
        &Default::default(),
    )
    .unwrap();
    let h5 = ns_hdf5::H5File::open(h5, Default::default()).unwrap();
    let h5 = NwbFile::new(Box::new(h5)).unwrap();
    let zarr = NwbFile::new(Box::new(open_dir(&fixture.name, &Arc::default()))).unwrap();
    let (a, b) = (summary(&h5), summary(&zarr));
    let diffs: Vec<String> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| format!("hdf5: {x}\nzarr: {y}"))
        .collect();
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert_eq!(a.len(), b.len());
    // And as pynwb/h5py computed.
    let want = &fixture.expected["nwb"];
    let s = zarr.session();
    assert_eq!(s.identifier.as_deref(), want["identifier"].as_str());
    assert_eq!(
        s.session_start_time.as_deref(),
        want["session_start_time"].as_str()
    );
    let units = zarr.units("/units").unwrap();
    let counts: Vec<u64> = want["units"]["spike_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(units.spike_counts().unwrap(), counts);
}
