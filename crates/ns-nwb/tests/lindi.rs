//! ns-nwb over LINDI files (ns-lindi's `LindiFile` as the object store):
//! the same NWB answers as over the HDF5 files they were made from, and as
//! h5py computed (`<name>.expected.json`, block `nwb`).
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{expected, open, open_lindi};
use ns_model::Selection;
use ns_nwb::{NwbFile, Timing};

const NWB_FILES: [&str; 3] = ["nwb_ecephys.nwb", "nwb_behavior.nwb", "many_small.nwb"];

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
    for ty in [
        "TimeSeries",
        "DynamicTable",
        "NWBDataInterface",
        "Container",
    ] {
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
fn lindi_and_hdf5_give_the_same_nwb_answers() {
    for name in NWB_FILES {
        let h5 = summary(&open(name));
        let lindi = summary(&open_lindi(name));
        let diffs: Vec<String> = h5
            .iter()
            .zip(&lindi)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("hdf5:  {a}\nlindi: {b}"))
            .collect();
        assert!(diffs.is_empty(), "{name}:\n{}", diffs.join("\n"));
        assert_eq!(h5.len(), lindi.len(), "{name}");
    }
}

#[test]
fn session_and_spike_times_match_h5py() {
    let name = "nwb_ecephys.nwb";
    let nwb = open_lindi(name);
    let want = &expected(name)["nwb"];
    let s = nwb.session();
    assert_eq!(s.identifier.as_deref(), want["identifier"].as_str());
    assert_eq!(
        s.session_description.as_deref(),
        want["session_description"].as_str()
    );
    assert_eq!(
        s.session_start_time.as_deref(),
        want["session_start_time"].as_str()
    );
    assert_eq!(s.nwb_version.as_deref(), Some("2.11.0"));
    assert!(nwb.warnings().is_empty(), "{:?}", nwb.warnings());
    // The specs were read from the LINDI file too.
    assert!(nwb.spec_namespaces().iter().any(|ns| ns.name == "core"));

    let units = nwb.units("/units").unwrap();
    let want = &want["units"];
    assert_eq!(units.num_units(), want["count"].as_u64().unwrap());
    let counts: Vec<u64> = want["spike_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(units.spike_counts().unwrap(), counts);
    for (i, first) in want["first_spike_times"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let times = units.spike_times(i as u64).unwrap();
        assert_eq!(times.len() as u64, counts[i], "unit {i}");
        assert_eq!(times.first().copied(), first.as_f64(), "unit {i}");
    }
}

#[test]
fn electrical_series_reads_through_chunk_references() {
    let nwb = open_lindi("nwb_ecephys.nwb");
    let h5 = open("nwb_ecephys.nwb");
    let path = "/acquisition/ElectricalSeries";
    let es = nwb.time_series(path).unwrap();
    assert!(matches!(es.timing(), Timing::Rate { rate, .. } if *rate == 30000.0));
    let rows = es.sample_range_for_times(1.3, 1.4).unwrap();
    let a = es.read_data(rows.clone(), Some(2..6)).unwrap();
    let b = h5
        .time_series(path)
        .unwrap()
        .read_data(rows, Some(2..6))
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.shape, vec![3000, 4]);
    // The store underneath answers the worker's calls.
    let store = nwb.store();
    assert!(store.size_bytes() > 0);
    assert!(store.location().ends_with("nwb_ecephys.nwb.lindi.json"));
    let node = store.node(&format!("{path}/data")).unwrap();
    assert_eq!(node.dataset.unwrap().shape, vec![30000, 16]);
    let row = nwb
        .h5()
        .read(&format!("{path}/data"), &Selection::rows(0, 1))
        .unwrap();
    assert_eq!(row.shape, vec![1, 16]);
}

/// `nwb_ecephys.nwb`'s LINDI file with extension namespaces added under
/// `/specifications` (each `(namespace, document JSON)`) and the raw
/// ElectricalSeries retyped as `(type, namespace)`.
fn with_extensions(specs: &[(&str, &str)], retype: (&str, &str)) -> NwbFile {
    let path = common::fixtures().join("nwb_ecephys.nwb.lindi.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let refs = doc["refs"].as_object_mut().unwrap();
    let mut string = |at: String, text: &str| {
        refs.insert(
            format!("{at}/.zarray"),
            serde_json::json!({"chunks": [1], "compressor": null, "dtype": format!("|S{}", text.len()),
                "fill_value": null, "filters": null, "order": "C", "shape": [1], "zarr_format": 2}),
        );
        refs.insert(
            format!("{at}/.zattrs"),
            serde_json::json!({"_SCALAR": true}),
        );
        refs.insert(
            format!("{at}/0"),
            serde_json::Value::String(text.to_string()),
        );
    };
    for (ns, json) in specs {
        string(format!("specifications/{ns}/0.1.0/namespace"), "{}");
        string(format!("specifications/{ns}/0.1.0/{ns}.extensions"), json);
    }
    for (ns, _) in specs {
        for group in [
            format!("specifications/{ns}"),
            format!("specifications/{ns}/0.1.0"),
        ] {
            refs.insert(
                format!("{group}/.zgroup"),
                serde_json::json!({"zarr_format": 2}),
            );
        }
    }
    let attrs = refs["acquisition/ElectricalSeries/.zattrs"]
        .as_object_mut()
        .unwrap();
    attrs.insert("neurodata_type".into(), retype.0.into());
    attrs.insert("namespace".into(), retype.1.into());
    let json = serde_json::to_vec(&doc).unwrap();
    let opener = |url: &str| ns_io_native::open(url, &ns_io_native::OpenOptions::default());
    let lindi =
        ns_lindi::LindiFile::open(&json, path.to_str().unwrap(), opener, Default::default())
            .unwrap();
    NwbFile::new(Box::new(lindi)).unwrap()
}

/// Only the namespaces the built-in table does not cover are parsed, and the
/// hierarchy is the one every document gives: an extension type inherits
/// from core types, core's own definitions win over an extension's
/// redefinition, and a parent defined in a namespace the file does not use
/// directly is found.
#[test]
fn extension_specs_are_read_when_used() {
    let ext = r#"{"groups":[{"neurodata_type_def":"MySeries","neurodata_type_inc":"ElectricalSeries"},
        {"neurodata_type_def":"TimeSeries","neurodata_type_inc":"Container"}]}"#;
    let nwb = with_extensions(&[("ndx-test", ext)], ("MySeries", "ndx-test"));
    assert!(nwb.warnings().is_empty(), "{:?}", nwb.warnings());
    let parsed: Vec<(&str, bool)> = nwb
        .spec_namespaces()
        .iter()
        .map(|n| (n.name.as_str(), n.parsed))
        .collect();
    assert_eq!(
        parsed,
        [
            ("ndx-test", true),
            ("hdmf-common", false),
            ("hdmf-experimental", false),
            ("core", false)
        ]
    );
    let types = nwb.types();
    assert_eq!(
        types.ancestors("MySeries"),
        [
            "MySeries",
            "ElectricalSeries",
            "TimeSeries",
            "NWBDataInterface",
            "NWBContainer",
            "Container"
        ]
    );
    assert_eq!(types.namespace_of("MySeries"), Some("ndx-test"));
    // Core is applied last, as if its documents were read.
    assert_eq!(types.namespace_of("TimeSeries"), Some("core"));
    assert_eq!(types.namespace_of("VectorData"), Some("hdmf-common"));
    let series: Vec<&str> = nwb
        .objects_of_type("ElectricalSeries")
        .iter()
        .map(|n| n.path.as_str())
        .collect();
    assert!(
        series.contains(&"/acquisition/ElectricalSeries"),
        "{series:?}"
    );
    assert!(
        nwb.electrical_series("/acquisition/ElectricalSeries")
            .is_ok()
    );

    // MySeries → BaseSeries (another namespace, used by no object) → core.
    let base = r#"{"groups":[{"neurodata_type_def":"BaseSeries","neurodata_type_inc":"ElectricalSeries"}]}"#;
    let top = r#"{"groups":[{"neurodata_type_def":"MySeries","neurodata_type_inc":"BaseSeries"}]}"#;
    let nwb = with_extensions(
        &[("ndx-base", base), ("ndx-top", top)],
        ("MySeries", "ndx-top"),
    );
    assert!(nwb.warnings().is_empty(), "{:?}", nwb.warnings());
    assert_eq!(
        nwb.types().ancestors("MySeries")[..3],
        ["MySeries", "BaseSeries", "ElectricalSeries"]
    );
    assert_eq!(nwb.types().namespace_of("BaseSeries"), Some("ndx-base"));
    // Found only by reading every namespace.
    assert!(nwb.spec_namespaces().iter().all(|n| n.parsed));
    assert!(nwb.is_a("/acquisition/ElectricalSeries", "TimeSeries"));
}

/// For every type the fixtures use, the hierarchy built from the built-in
/// table plus the documents read equals the one every embedded document
/// gives (read and applied here, extensions first, core last).
#[test]
fn builtin_table_agrees_with_the_embedded_specs() {
    for name in NWB_FILES {
        let nwb = common::open(name);
        // The fixtures use core and hdmf-common types only: nothing parsed.
        assert!(
            nwb.spec_namespaces().iter().all(|n| !n.parsed),
            "{name}: {:?}",
            nwb.spec_namespaces()
        );
        let mut full = ns_nwb::TypeTree::builtin();
        let mut namespaces: Vec<&str> = nwb
            .spec_namespaces()
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        let rank = |n: &str| match n {
            "core" => 2,
            n if n.starts_with("hdmf-") => 1,
            _ => 0,
        };
        namespaces.sort_by_key(|n| rank(n));
        assert!(namespaces.contains(&"core"), "{name}: {namespaces:?}");
        for ns in namespaces {
            let version = &nwb
                .spec_namespaces()
                .iter()
                .find(|n| n.name == ns)
                .unwrap()
                .version;
            for doc in nwb.children(&format!("/specifications/{ns}/{version}")) {
                if doc.name() == "namespace" {
                    continue;
                }
                let text = nwb
                    .store()
                    .read(&doc.path, &Selection::all())
                    .unwrap()
                    .to_strings()
                    .remove(0);
                full.add_spec(ns, &text).unwrap();
            }
        }
        for node in nwb.nodes() {
            if let Some(ty) = nwb.neurodata_type(&node.path) {
                assert_eq!(
                    nwb.types().ancestors(ty),
                    full.ancestors(ty),
                    "{name}: {ty}"
                );
                assert_eq!(
                    nwb.types().namespace_of(ty),
                    full.namespace_of(ty),
                    "{name}: {ty}"
                );
            }
        }
    }
}
