//! NWB tables whose indices lie: ragged indices that decrease or run past
//! their data, and shapes with a zero inner dimension. The files are small
//! LINDI documents written here (a real object store, read by ns-lindi);
//! every answer is an error or a bounded value, never a wrong one, a panic
//! or an allocation sized by the lie.
#![expect(clippy::unwrap_used, reason = "tests")]

use base64::Engine;
use ns_nwb::NwbFile;
use serde_json::{Value as Json, json};

/// An inline zarr array of little-endian values, one chunk.
fn array(
    refs: &mut serde_json::Map<String, Json>,
    path: &str,
    dtype: &str,
    shape: &[u64],
    bytes: &[u8],
    attrs: Json,
) {
    refs.insert(
        format!("{path}/.zarray"),
        json!({"shape": shape, "chunks": shape.iter().map(|d| (*d).max(1)).collect::<Vec<_>>(),
               "dtype": dtype, "compressor": null, "filters": null, "fill_value": 0,
               "order": "C", "zarr_format": 2}),
    );
    refs.insert(format!("{path}/.zattrs"), attrs);
    let key = if shape.is_empty() {
        "0".to_string()
    } else {
        vec!["0"; shape.len()].join(".")
    };
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    refs.insert(
        format!("{path}/{key}"),
        Json::String(format!("base64:{data}")),
    );
}

fn f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn u64s(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The NWB file whose `refs` are `refs` plus the root group's.
fn nwb_of(mut refs: serde_json::Map<String, Json>) -> NwbFile {
    refs.insert(".zgroup".into(), json!({"zarr_format": 2}));
    refs.insert(
        ".zattrs".into(),
        json!({"neurodata_type": "NWBFile", "namespace": "core", "nwb_version": "2.7.0"}),
    );
    let doc = json!({"refs": refs}).to_string();
    let opener = |url: &str| -> ns_io::Result<ns_io::DynSource> {
        panic!("nothing is referenced, yet {url} was opened")
    };
    let lindi = ns_lindi::LindiFile::open(
        doc.as_bytes(),
        "hostile.lindi.json",
        opener,
        Default::default(),
    )
    .unwrap();
    NwbFile::new(Box::new(lindi)).unwrap()
}

/// A file with a Units table of 2 units whose `spike_times_index` is `ends`
/// over `times`.
fn units_file(ends: &[u64], times: &[f64]) -> NwbFile {
    let mut refs = serde_json::Map::new();
    refs.insert("units/.zgroup".into(), json!({"zarr_format": 2}));
    refs.insert(
        "units/.zattrs".into(),
        json!({"neurodata_type": "Units", "namespace": "core", "colnames": ["spike_times"], "description": "u"}),
    );
    let n = ends.len() as u64;
    array(
        &mut refs,
        "units/id",
        "<i8",
        &[n],
        &u64s(&(0..n).collect::<Vec<_>>()),
        json!({"neurodata_type": "ElementIdentifiers", "namespace": "hdmf-common"}),
    );
    array(
        &mut refs,
        "units/spike_times",
        "<f8",
        &[times.len() as u64],
        &f64s(times),
        json!({"neurodata_type": "VectorData", "namespace": "hdmf-common", "description": "t"}),
    );
    array(
        &mut refs,
        "units/spike_times_index",
        "<u8",
        &[n],
        &u64s(ends),
        json!({"neurodata_type": "VectorIndex", "namespace": "hdmf-common", "target": {"_REFERENCE": {"path": "/units/spike_times"}}}),
    );
    nwb_of(refs)
}

#[test]
fn consistent_index_reads() {
    let nwb = units_file(&[2, 3], &[0.5, 1.5, 2.5]);
    let units = nwb.units("/units").unwrap();
    assert_eq!(units.spike_counts().unwrap(), vec![2, 1]);
    assert_eq!(units.spike_times(1).unwrap(), vec![2.5]);
    assert_eq!(
        units.all_spike_times().unwrap(),
        vec![vec![0.5, 1.5], vec![2.5]]
    );
}

#[test]
fn decreasing_index_is_an_error() {
    let nwb = units_file(&[2, 1], &[0.5, 1.5, 2.5]);
    let units = nwb.units("/units").unwrap();
    assert!(units.spike_counts().is_err());
    assert!(units.spike_times(1).is_err());
    assert!(units.all_spike_times().is_err());
    let table = nwb.dynamic_table("/units").unwrap();
    assert!(table.cell("spike_times", 1).is_err());
}

#[test]
fn index_past_the_data_is_an_error() {
    // The second unit claims spike times 2..10 of 3.
    let nwb = units_file(&[2, 10], &[0.5, 1.5, 2.5]);
    let units = nwb.units("/units").unwrap();
    let err = units.spike_counts().unwrap_err().to_string();
    assert!(err.contains("past the 3 spike times"), "{err}");
    let err = units.spike_times(1).unwrap_err().to_string();
    assert!(err.contains("past the 3"), "{err}");
    assert!(units.all_spike_times().is_err());
    let table = nwb.dynamic_table("/units").unwrap();
    assert!(table.cell("spike_times", 1).is_err());
    // The first unit's own entries are fine.
    assert_eq!(units.spike_times(0).unwrap(), vec![0.5, 1.5]);
}

#[test]
fn zero_inner_dimension_builds_no_rows() {
    // A column of 2^40 rows of nothing: the read holds no values, and the
    // rows are not expanded into 2^40 empty lists.
    let mut refs = serde_json::Map::new();
    refs.insert("t/.zgroup".into(), json!({"zarr_format": 2}));
    refs.insert(
        "t/.zattrs".into(),
        json!({"neurodata_type": "DynamicTable", "namespace": "hdmf-common", "colnames": ["x"], "description": "t"}),
    );
    array(
        &mut refs,
        "t/id",
        "<i8",
        &[1],
        &u64s(&[0]),
        json!({"neurodata_type": "ElementIdentifiers", "namespace": "hdmf-common"}),
    );
    array(
        &mut refs,
        "t/x",
        "<f8",
        &[1 << 40, 0],
        &[],
        json!({"neurodata_type": "VectorData", "namespace": "hdmf-common", "description": "x"}),
    );
    let nwb = nwb_of(refs);
    let table = nwb.dynamic_table("/t").unwrap();
    let rows = table.column("x").unwrap();
    assert!(
        rows.len() <= ns_model::MAX_EMPTY_LISTS,
        "{} rows",
        rows.len()
    );
}
