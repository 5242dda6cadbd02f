//! Documents whose numbers lie: huge shapes, chunk grids and sizes. Each
//! gives a clear error or a bounded answer, never a panic, an overflow or
//! an allocation sized by the lie.
#![expect(clippy::unwrap_used, reason = "tests")]

use ns_hdf5::Selection;
use ns_lindi::{LindiFile, OpenOptions};

fn open(doc: &str) -> LindiFile {
    let opener = |url: &str| -> ns_io::Result<ns_io::DynSource> {
        Err(ns_io::Error::Invalid {
            location: url.to_string(),
            message: "no files in this test".into(),
        })
    };
    let options = OpenOptions {
        max_read_bytes: 64 << 20,
        threads: 1,
        ..OpenOptions::default()
    };
    LindiFile::open(doc.as_bytes(), "hostile.lindi.json", opener, options).unwrap()
}

#[test]
fn a_shape_of_two_to_the_62_reads_only_what_is_selected() {
    let file = open(
        r#"{"refs": {".zgroup": {},
        "x/.zarray": {"shape": [4611686018427387904], "chunks": [2], "dtype": "<i2", "compressor": null, "fill_value": 7},
        "x/0": "base64:AQACAA=="}}"#,
    );
    let node = file.node("/x").unwrap();
    assert_eq!(node.dataset.unwrap().shape, vec![1 << 62]);
    let head = file.read("/x", &Selection::rows(0, 3)).unwrap();
    assert_eq!(head.to_f64(), vec![1.0, 2.0, 7.0]);
    // The last element, in a chunk never written.
    let last = file
        .read("/x", &"4611686018427387903".parse().unwrap())
        .unwrap();
    assert_eq!(last.to_f64(), vec![7.0]);
    // All of it: the read limit, before anything is allocated.
    let err = file.read("/x", &Selection::all()).unwrap_err().to_string();
    assert!(err.contains("read limit"), "{err}");
}

#[test]
fn a_selection_over_millions_of_chunks_is_refused() {
    // 4M one-element chunks in 4 MB of selection (under the read limit).
    let file = open(
        r#"{"refs": {".zgroup": {},
        "x/.zarray": {"shape": [4611686018427387904], "chunks": [1], "dtype": "|u1", "compressor": null, "fill_value": 0}}}"#,
    );
    let err = file
        .read("/x", &Selection::rows(0, 4 << 20))
        .unwrap_err()
        .to_string();
    assert!(err.contains("chunks, more than"), "{err}");
}

#[test]
fn a_scalar_whose_shape_overflows_is_an_array() {
    // _SCALAR with a shape whose element count overflows a u64 (a debug
    // build panicked computing it; a release build could wrap to 1).
    let file = open(
        r#"{"refs": {".zgroup": {},
        "s/.zarray": {"shape": [4294967296, 4294967296], "chunks": [1, 1], "dtype": "<f8", "compressor": null, "fill_value": 0},
        "s/.zattrs": {"_SCALAR": true}}}"#,
    );
    let node = file.node("/s").unwrap();
    assert_eq!(node.dataset.unwrap().shape.len(), 2);
}

#[test]
fn hostile_zarray_metadata_is_a_format_error() {
    for (zarray, needle) in [
        (
            r#"{"shape": [4, 4], "chunks": [1099511627776, 1099511627776], "dtype": "<i2"}"#,
            "more elements than",
        ),
        (
            r#"{"shape": [-1], "chunks": [1], "dtype": "<i2"}"#,
            "bad .zarray",
        ),
        (
            r#"{"shape": "4", "chunks": [1], "dtype": "<i2"}"#,
            "bad .zarray",
        ),
    ] {
        let doc = format!(r#"{{"refs": {{".zgroup": {{}}, "x/.zarray": {zarray}}}}}"#);
        let opener = |_: &str| -> ns_io::Result<ns_io::DynSource> { unreachable!() };
        let err = LindiFile::open(doc.as_bytes(), "h.lindi.json", opener, Default::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(needle), "{zarray}: {err}");
        assert!(err.contains("/x"), "{zarray}: {err}");
    }
}

#[test]
fn a_blosc_block_size_of_4_gb_is_not_allocated() {
    // An LZ4 Blosc buffer of 8 bytes (two int32s, shuffled) whose header
    // claims a 4 GB block: the block is the buffer's 8 bytes.
    let mut buf = vec![2u8, 1, 0x20 | 0x10 | 0x1, 4];
    buf.extend_from_slice(&8u32.to_le_bytes());
    buf.extend_from_slice(&u32::MAX.to_le_bytes());
    let payload = [1u8, 2, 0, 0, 0, 0, 0, 0]; // shuffled 1, 2
    let total = 16 + 4 + 4 + payload.len();
    buf.extend_from_slice(&u32::try_from(total).unwrap().to_le_bytes());
    buf.extend_from_slice(&20u32.to_le_bytes());
    buf.extend_from_slice(&8u32.to_le_bytes()); // stored raw: cbytes == block size
    buf.extend_from_slice(&payload);
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(&buf);
    let file = open(&format!(
        r#"{{"refs": {{".zgroup": {{}},
        "b/.zarray": {{"shape": [2], "chunks": [2], "dtype": "<i4", "compressor": {{"id": "blosc"}}, "fill_value": 0}},
        "b/0": "base64:{data}"}}}}"#
    ));
    let values = file.read("/b", &Selection::all()).unwrap();
    assert_eq!(values.to_f64(), vec![1.0, 2.0]);
}
