//! The protocol inside a real browser worker (wasm-bindgen-test, Chromium):
//! every message kind survives encoding there, and pages decode.
#![cfg(target_arch = "wasm32")]

use ns_protocol::{
    Answer, ErrorKind, FileSource, FromWorker, IoStats, ObjectSummary, Overview, ToWorker, Values,
    WorkerError, decode, decode_pages, encode, encode_pages,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
fn requests_round_trip() {
    let msgs = [
        ToWorker::Open {
            id: 1,
            source: FileSource::Local {
                name: "ä.nwb".into(),
                size_bytes: 1 << 40,
            },
        },
        ToWorker::Object {
            id: 2,
            path: "/units".into(),
        },
        ToWorker::Values {
            id: 3,
            path: "/a".into(),
            selection: "0:100,0:32".into(),
        },
        ToWorker::Cancel { id: 3 },
    ];
    for m in msgs {
        assert_eq!(decode::<ToWorker>(&encode(&m)), Ok(m));
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
            },
        },
        FromWorker::Reply {
            id: 1,
            result: Ok(Answer::Opened(Overview {
                location: "http://x/y.nwb".into(),
                size_bytes: 853_000_000,
                session: vec![("Lab".into(), "Test Lab".into())],
                objects: vec![ObjectSummary {
                    path: "/".into(),
                    kind: "group".into(),
                    ..Default::default()
                }],
            })),
            stats: IoStats::default(),
        },
        FromWorker::Reply {
            id: 2,
            result: Ok(Answer::Values(Values {
                path: "/a".into(),
                selection: "0:2".into(),
                shape: vec![2],
                dtype: "float64".into(),
                values: vec!["1.5".into(), "NaN".into()],
            })),
            stats: IoStats::default(),
        },
        FromWorker::Reply {
            id: 3,
            result: Err(WorkerError {
                kind: ErrorKind::NoRangeSupport,
                message: "no".into(),
            }),
            stats: IoStats::default(),
        },
    ];
    for r in replies {
        assert_eq!(decode::<FromWorker>(&encode(&r)), Ok(r));
    }
    assert!(decode::<FromWorker>("not json").is_err());
}

#[wasm_bindgen_test]
fn pages_survive_the_trip() {
    let page = vec![7u8; 65_536];
    let buf = encode_pages([(0, page.as_slice()), (1 << 35, page.as_slice())]);
    let back = decode_pages(&buf).expect("decodes");
    assert_eq!(back[1].0, 1 << 35);
    assert!(decode_pages(&buf[..100]).is_none());
}
