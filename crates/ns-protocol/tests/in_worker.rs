//! The protocol inside a real browser worker (wasm-bindgen-test, Chromium):
//! every message kind survives encoding there, numeric buffers included,
//! and pages decode.
#![cfg(target_arch = "wasm32")]
#![expect(clippy::unwrap_used, reason = "tests")]

use ns_protocol::{
    Answer, Encoded, ErrorKind, FileSource, FromWorker, GetObject, GetValues, IoStats,
    ObjectSummary, OpenFile, Overview, ToWorker, TypedBuffer, Values, ValuesData, WorkerError,
    decode, decode_pages, encode, encode_pages,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn round_trip<T: ns_protocol::Message + Clone + PartialEq + std::fmt::Debug>(m: T) {
    let Encoded { text, buffers } = encode(m.clone());
    // Through JS: the buffers become ArrayBuffers and back.
    let arrays: Vec<Vec<u8>> = buffers
        .iter()
        .map(|b| js_sys::Uint8Array::new(&js_sys::Uint8Array::from(b.as_slice()).buffer()).to_vec())
        .collect();
    assert_eq!(decode::<T>(&text, arrays), Ok(m));
}

#[wasm_bindgen_test]
fn requests_round_trip() {
    let msgs = [
        ToWorker::Request {
            id: 1,
            query: OpenFile {
                source: FileSource::Local {
                    name: "ä.nwb".into(),
                    size_bytes: 1 << 40,
                },
            }
            .into(),
        },
        ToWorker::Request {
            id: 2,
            query: GetObject {
                path: "/units".into(),
            }
            .into(),
        },
        ToWorker::Request {
            id: 3,
            query: GetValues {
                path: "/a".into(),
                selection: "0:100,0:32".parse().unwrap(),
            }
            .into(),
        },
        ToWorker::Cancel { id: 3 },
    ];
    for m in msgs {
        round_trip(m);
    }
}

#[wasm_bindgen_test]
fn replies_round_trip() {
    let replies = [
        FromWorker::Ready,
        FromWorker::Progress {
            id: 1,
            stats: IoStats {
                requests: 3,
                bytes: 1 << 33,
                memory_bytes: 1 << 27,
            },
        },
        FromWorker::Reply {
            id: 1,
            result: Ok(Answer::Open(Overview {
                location: "http://x/y.nwb".into(),
                size_bytes: 853_000_000,
                session: vec![("Lab".into(), "Test Lab".into())],
                objects: vec![ObjectSummary {
                    path: "/".into(),
                    kind: "group".into(),
                    ..Default::default()
                }],
                type_chains: vec![vec!["TimeSeries".into(), "NWBDataInterface".into()]],
            })),
            stats: IoStats::default(),
        },
        FromWorker::Reply {
            id: 2,
            result: Ok(Answer::Values(Values {
                path: "/a".into(),
                selection: "0:2".parse().unwrap(),
                shape: vec![2],
                dtype: "float64".into(),
                data: ValuesData::Numbers {
                    buffer: TypedBuffer::from_f64(&[1.5, f64::NAN]),
                },
            })),
            stats: IoStats::default(),
        },
        FromWorker::Reply {
            id: 3,
            result: Err(WorkerError::new(ErrorKind::NoRangeSupport, "no")),
            stats: IoStats::default(),
        },
        FromWorker::Crashed {
            message: "panicked".into(),
        },
    ];
    for r in replies {
        round_trip(r);
    }
    assert!(decode::<FromWorker>("not json", Vec::new()).is_err());
}

#[wasm_bindgen_test]
fn pages_survive_the_trip() {
    let page = vec![7u8; 65_536];
    let buf = encode_pages([(0, page.as_slice()), (1 << 35, page.as_slice())]);
    let back = decode_pages(&buf).expect("decodes");
    assert_eq!(back[1].0, 1 << 35);
    assert!(decode_pages(&buf[..100]).is_none());
}
