//! The service over pynwb-written files, natively: every answer checked
//! against what h5py/numpy compute from the same file in the same run.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use std::sync::Arc;

use common::{ask, close, floats, h5py, service};
use ns_protocol::{ErrorKind, GetObject, GetValues, GetWindow, Query, Values, ValuesData, Window};
use ns_service::{Limits, ReadOptions, Service, open_store};
use ns_test_support::fixtures;

#[test]
fn overview_lists_every_object_with_types() {
    let s = service("nwb_ecephys.nwb", Limits::default());
    let o = s.overview();
    let units = o.objects.iter().find(|x| x.path == "/units").unwrap();
    assert_eq!(units.neurodata_type.as_deref(), Some("Units"));
    let es = o
        .objects
        .iter()
        .find(|x| x.path == "/acquisition/ElectricalSeries/data")
        .unwrap();
    assert_eq!(es.data_summary.as_deref(), Some("int16 [30000 × 16]"));
    assert!(
        o.session
            .iter()
            .any(|(k, v)| k == "Identifier" && v == "nwb-ecephys-fixture-0001")
    );
}

#[test]
fn values_are_typed_buffers_equal_to_h5py() {
    let s = service("nwb_ecephys.nwb", Limits::default());
    let v: Values = ask(
        &s,
        GetValues {
            path: "/acquisition/ElectricalSeries/data".into(),
            selection: "100:110,3:6".parse().unwrap(),
        },
    )
    .unwrap();
    assert_eq!(v.shape, vec![10, 3]);
    let ValuesData::Numbers { buffer } = &v.data else {
        panic!("numbers expected")
    };
    assert_eq!(buffer.dtype, ns_protocol::NumericType::Int16);
    let want = h5py(
        "nwb_ecephys.nwb",
        "print(json.dumps(f['/acquisition/ElectricalSeries/data'][100:110, 3:6].ravel().tolist()))",
    );
    assert_eq!(buffer.to_f64(), floats(&want));
    // Strings come as text.
    let v: Values = ask(
        &s,
        GetValues {
            path: "/units/quality".into(),
            selection: "0:3".parse().unwrap(),
        },
    )
    .unwrap();
    let want = h5py(
        "nwb_ecephys.nwb",
        "print(json.dumps([x.decode() for x in f['/units/quality'][0:3]]))",
    );
    assert_eq!(
        (0..3).map(|i| v.text(i).unwrap()).collect::<Vec<_>>(),
        want.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    );
}

#[test]
fn values_limit_is_checked_before_reading() {
    let limits = Limits {
        max_values: 1000,
        ..Limits::default()
    };
    let path = fixtures().join("nwb_ecephys.nwb");
    let counters: Arc<ns_io::Counters> = Arc::default();
    let options = ns_io_native::OpenOptions {
        counters: Arc::clone(&counters),
        ..Default::default()
    };
    let source = ns_io_native::open(path.to_str().unwrap(), &options).unwrap();
    let store = open_store(source, |_: &str| unreachable!(), ReadOptions::default()).unwrap();
    let s = Service::new(store, limits).unwrap();
    let before = counters.stats();
    let e = ask(
        &s,
        GetValues {
            path: "/acquisition/ElectricalSeries/data".into(),
            selection: "0:30000".parse().unwrap(),
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(
        e.message.contains("480000 values selected; at most 1000"),
        "{}",
        e.message
    );
    assert_eq!(counters.stats().bytes, before.bytes, "nothing may be read");
    // Objects that are not datasets, and missing ones, are clear errors.
    let e = ask(
        &s,
        GetValues {
            path: "/units".into(),
            selection: Default::default(),
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    let e = ask(
        &s,
        GetObject {
            path: "/nope".into(),
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

/// The decimated window equals numpy's min/max per bucket of the same
/// samples (conversion applied), for a rate series and a timestamps series.
#[test]
fn windows_match_numpy_min_max() {
    let limits = Limits {
        // Small blocks so that buckets span block boundaries.
        window_block_values: 16 * 1000,
        ..Limits::default()
    };
    let s = service("nwb_ecephys.nwb", limits);
    // Rate 30 kHz from 1.25 s: 1.3 s .. 1.5 s is samples 1500..7500.
    let w: Window = ask(
        &s,
        GetWindow {
            path: "/acquisition/ElectricalSeries".into(),
            start_secs: 1.3,
            end_secs: 1.5,
            channels: Some((2, 6)),
            max_buckets: 7,
        },
    )
    .unwrap();
    assert_eq!((w.sample_start, w.sample_end), (1500, 7500));
    assert_eq!(
        (w.channel_start, w.channels, w.samples_per_bucket),
        (2, 4, 858)
    );
    let want = h5py(
        "nwb_ecephys.nwb",
        "d = f['/acquisition/ElectricalSeries/data'][1500:7500, 2:6].astype('f8') * 0.195e-6\n\
         b = [d[i:i+858] for i in range(0, 6000, 858)]\n\
         print(json.dumps({'min': np.array([x.min(0) for x in b]).ravel().tolist(),\
         'max': np.array([x.max(0) for x in b]).ravel().tolist(),\
         't': [1.25 + (1500 + i) / 30000 for i in range(0, 6000, 858)]}))",
    );
    assert!(close(&w.min.to_f64(), &floats(&want["min"]), 1e-6));
    assert!(close(&w.max.to_f64(), &floats(&want["max"]), 1e-6));
    assert!(close(&w.times.to_f64(), &floats(&want["t"]), 1e-12));
    assert_eq!(w.unit.as_deref(), Some("volts"));

    // Stored timestamps, every sample (fewer samples than buckets).
    let w: Window = ask(
        &s,
        GetWindow {
            path: "/processing/ecephys/LFP/lfp_series".into(),
            start_secs: 1.0,
            end_secs: 1.01,
            channels: None,
            max_buckets: 1000,
        },
    )
    .unwrap();
    let want = h5py(
        "nwb_ecephys.nwb",
        "g = f['/processing/ecephys/LFP/lfp_series']\nt = g['timestamps'][:]\n\
         i = np.searchsorted(t, 1.0); j = np.searchsorted(t, 1.01)\n\
         print(json.dumps({'i': int(i), 'j': int(j), 'd': g['data'][i:j].astype('f8').ravel().tolist(), 't': t[i:j].tolist()}))",
    );
    assert_eq!(w.sample_start, want["i"].as_u64().unwrap());
    assert_eq!(w.sample_end, want["j"].as_u64().unwrap());
    assert_eq!(w.samples_per_bucket, 1);
    assert!(close(&w.min.to_f64(), &floats(&want["d"]), 1e-6));
    assert_eq!(w.min, w.max);
    assert_eq!(w.times.to_f64(), floats(&want["t"]));
}

#[test]
fn window_limits_and_bad_requests() {
    let limits = Limits {
        max_window_values: 10_000,
        ..Limits::default()
    };
    let s = service("nwb_ecephys.nwb", limits);
    // No zoom wall: a window over the limit is answered from the pyramid...
    let w: Window = ask(
        &s,
        GetWindow {
            path: "/acquisition/ElectricalSeries".into(),
            start_secs: 0.0,
            end_secs: 100.0,
            channels: None,
            max_buckets: 100,
        },
    )
    .unwrap();
    assert_eq!((w.sample_start, w.sample_end, w.buckets()), (0, 30000, 94));
    assert!(!w.pending);
    // ...unless its buckets would be finer than the pyramid's: raw, limited.
    let e = ask(
        &s,
        GetWindow {
            path: "/acquisition/ElectricalSeries".into(),
            start_secs: 0.0,
            end_secs: 100.0,
            channels: None,
            max_buckets: 10_000,
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(
        e.message.contains("30000 samples × 16 channels"),
        "{}",
        e.message
    );
    // The reply's size is bounded too: buckets × channels.
    let s = service(
        "nwb_ecephys.nwb",
        Limits {
            max_window_cells: 1000,
            ..Limits::default()
        },
    );
    let e = ask(
        &s,
        GetWindow {
            path: "/acquisition/ElectricalSeries".into(),
            start_secs: 1.25,
            end_secs: 1.3,
            channels: None,
            max_buckets: 100,
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(
        e.message.contains("100 buckets × 16 channels"),
        "{}",
        e.message
    );
    for (buckets, t0) in [(0, 0.0), (1, f64::NAN)] {
        let q: Query = GetWindow {
            path: "/acquisition/ElectricalSeries".into(),
            start_secs: t0,
            end_secs: 1.0,
            channels: None,
            max_buckets: buckets,
        }
        .into();
        assert_eq!(s.handle(q).unwrap_err().kind, ErrorKind::BadRequest);
    }
    let e = ask(
        &s,
        GetWindow {
            path: "/units".into(),
            start_secs: 0.0,
            end_secs: 1.0,
            channels: None,
            max_buckets: 10,
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Format, "{e:?}");
}

#[test]
fn lindi_files_answer_the_same() {
    let h5 = service("nwb_ecephys.nwb", Limits::default());
    let lindi = service("nwb_ecephys.nwb.lindi.json", Limits::default());
    let req = GetWindow {
        path: "/acquisition/ElectricalSeries".into(),
        start_secs: 1.25,
        end_secs: 2.25,
        channels: None,
        max_buckets: 500,
    };
    let a: Window = ask(&h5, req.clone()).unwrap();
    let b: Window = ask(&lindi, req).unwrap();
    assert_eq!(a, b);
    assert_eq!(h5.overview().objects.len(), lindi.overview().objects.len());
}

/// A virtual dataset (issue 13, item 7): the object's mappings, one line
/// each, and its values read from the source files next to it, as h5py
/// reads them.
#[test]
fn virtual_datasets_show_their_sources_and_read_them() {
    let s = service("vds.h5", Limits::default());
    let info: ns_protocol::ObjectInfo = ask(
        &s,
        GetObject {
            path: "/siblings".into(),
        },
    )
    .unwrap();
    assert_eq!(info.virtual_sources.len(), 3, "{:?}", info.virtual_sources);
    assert!(
        info.virtual_sources[1].starts_with("vds_source_b.h5:/data/y[...] -> [1:2, 0:1] + "),
        "{:?}",
        info.virtual_sources
    );
    let v: Values = ask(
        &s,
        GetValues {
            path: "/siblings".into(),
            selection: ns_protocol::Selection::all(),
        },
    )
    .unwrap();
    let ValuesData::Numbers { buffer } = &v.data else {
        panic!("numbers expected")
    };
    let want = h5py(
        "vds.h5",
        "print(json.dumps(f['/siblings'][()].ravel().tolist()))",
    );
    assert_eq!(buffer.to_f64(), floats(&want));
}
