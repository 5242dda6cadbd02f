//! The answers behind the views (series info, table pages, intervals,
//! events, strided samples) on pynwb-written files, checked against what
//! h5py/numpy read from the same file in the same run.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{ask, floats, h5py};
use ns_protocol::{
    CellValues, ErrorKind, Events, GetCell, GetEvents, GetIntervals, GetSamples, GetSeries,
    GetTable, Intervals, Samples, SeriesInfo, TablePage,
};
use ns_service::{Limits, Service};

fn service(name: &str) -> Service {
    common::service(name, Limits::default())
}

#[test]
fn series_info_has_extent_scaling_and_electrodes() {
    let s = service("nwb_ecephys.nwb");
    let info: SeriesInfo = ask(
        &s,
        GetSeries {
            path: "/acquisition/ElectricalSeries".into(),
        },
    )
    .unwrap();
    assert_eq!((info.num_samples, info.num_channels), (30000, 16));
    assert_eq!(info.rate, Some(30000.0));
    assert!((info.start_secs - 1.25).abs() < 1e-12);
    assert!((info.end_secs - 2.25).abs() < 1e-12);
    assert!((info.conversion - 0.195e-6).abs() < 1e-18);
    assert_eq!(info.channels.len(), 16);
    let want = h5py(
        "nwb_ecephys.nwb",
        "e = f['/general/extracellular_ephys/electrodes']\n\
         print(json.dumps({'id': e['id'][:].tolist(), 'loc': [x.decode() for x in e['location'][:]]}))",
    );
    let ids: Vec<String> = want["id"]
        .as_array()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let labels: Vec<String> = info.channels.iter().map(|c| c.label.clone()).collect();
    assert_eq!(labels, ids);
    let location = info
        .channel_columns
        .iter()
        .find(|(n, _)| n == "location")
        .unwrap();
    let want_loc: Vec<String> = want["loc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(location.1, want_loc);
    let group = info
        .channel_columns
        .iter()
        .find(|(n, _)| n == "group")
        .unwrap();
    assert_eq!(group.1[0], "shank0");
    assert_eq!(group.1[15], "shank1");
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);

    // Stored timestamps: extent from the first and last, a region of 4.
    let info: SeriesInfo = ask(
        &s,
        GetSeries {
            path: "/processing/ecephys/LFP/lfp_series".into(),
        },
    )
    .unwrap();
    assert_eq!(
        (info.num_samples, info.num_channels, info.rate),
        (2500, 4, None)
    );
    assert!((info.start_secs - 0.5).abs() < 1e-9);
    assert!(info.end_secs > 2.999 && info.end_secs < 3.0 + 1e-6);
    let labels: Vec<&str> = info.channels.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["0", "3", "8", "12"]);
}

#[test]
fn table_pages_show_every_column_and_ragged_counts() {
    let s = service("nwb_behavior.nwb");
    let page: TablePage = ask(
        &s,
        GetTable {
            path: "/processing/behavior/events".into(),
            rows: (1, 100),
        },
    )
    .unwrap();
    assert_eq!(page.num_rows, 5);
    assert_eq!(page.row_start, 1);
    assert_eq!(page.ids, [1, 2, 3, 4]);
    let names: Vec<&str> = page.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["words", "onset", "counts"]);
    assert_eq!(page.columns[0].kind, "ragged");
    assert_eq!(page.columns[1].kind, "plain");
    let row = |r: usize| page.cells[r * 3..r * 3 + 3].to_vec();
    assert_eq!(row(0), ["[0 items]", "0.75", "[1 item]"]);
    assert_eq!(row(2), ["[4 items]", "2.25", "[3 items]"]);
    let cell: CellValues = ask(
        &s,
        GetCell {
            path: "/processing/behavior/events".into(),
            column: "words".into(),
            row: 3,
        },
    )
    .unwrap();
    assert_eq!(cell.values, ["a", "b", "c", "ä"]);

    // Region columns name the table and row they point into.
    let s = service("nwb_ecephys.nwb");
    let page: TablePage = ask(
        &s,
        GetTable {
            path: "/general/extracellular_ephys/electrodes".into(),
            rows: (0, 3),
        },
    )
    .unwrap();
    assert_eq!(page.ids, [0, 1, 2]);
    let group = page.columns.iter().position(|c| c.name == "group").unwrap();
    assert_eq!(page.cells[group], "/general/extracellular_ephys/shank0");
    let too_many = ask(
        &s,
        GetTable {
            path: "/intervals/trials".into(),
            rows: (0, 5000),
        },
    );
    // Clipped to the table's 50 rows, so not too large.
    assert_eq!(too_many.unwrap().ids.len(), 50);
}

#[test]
fn intervals_are_labeled_by_a_column_with_few_values() {
    let s = service("nwb_ecephys.nwb");
    let iv: Intervals = ask(
        &s,
        GetIntervals {
            path: "/intervals/trials".into(),
            label_column: None,
        },
    )
    .unwrap();
    let want = h5py(
        "nwb_ecephys.nwb",
        "t = f['/intervals/trials']\n\
         print(json.dumps({'start': t['start_time'][:].tolist(), 'stop': t['stop_time'][:].tolist(),\
         'cond': [x.decode() for x in t['condition'][:]]}))",
    );
    assert_eq!(iv.start.to_f64(), floats(&want["start"]));
    assert_eq!(iv.stop.to_f64(), floats(&want["stop"]));
    assert_eq!(iv.label_column.as_deref(), Some("condition"));
    assert_eq!(iv.labels, ["left", "right", "catch"]);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "small label indices"
    )]
    let labels: Vec<String> = iv
        .label_of
        .to_f64()
        .iter()
        .map(|i| iv.labels[*i as usize].clone())
        .collect();
    let want_cond: Vec<String> = want["cond"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(labels, want_cond);
    assert!(iv.label_candidates.contains(&"correct".to_string()));
    // Another label column on request; an unknown one is an error.
    let by_correct: Intervals = ask(
        &s,
        GetIntervals {
            path: "/intervals/trials".into(),
            label_column: Some("correct".into()),
        },
    )
    .unwrap();
    assert_eq!(by_correct.labels.len(), 2);
    let err = ask(
        &s,
        GetIntervals {
            path: "/intervals/trials".into(),
            label_column: Some("nope".into()),
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    // Epochs have ragged tags: no label column, one row.
    let epochs: Intervals = ask(
        &s,
        GetIntervals {
            path: "/intervals/epochs".into(),
            label_column: None,
        },
    )
    .unwrap();
    assert_eq!(epochs.start.to_f64(), [1.25, 1.5, 2.0]);
    assert_eq!(epochs.label_column, None);
}

#[test]
fn events_in_a_window_with_values_and_stride() {
    let s = service("nwb_behavior.nwb");
    let want = h5py(
        "nwb_behavior.nwb",
        "g = f['/processing/behavior/BehavioralEvents/rewards']\nt = g['timestamps'][:]\n\
         iv = f['/acquisition/tone_on']\nlp = f['/acquisition/lever_presses/timestamps'][:]\n\
         print(json.dumps({'t': t[(t >= 2.0) & (t < 10.0)].tolist(), 'iv_t': iv['timestamps'][:].tolist(),\
         'iv_d': iv['data'][:].astype('f8').tolist(), 'lp': lp.tolist()}))",
    );
    let ev: Events = ask(
        &s,
        GetEvents {
            path: "/processing/behavior/BehavioralEvents/rewards".into(),
            start_secs: 2.0,
            end_secs: 10.0,
            max_events: 1000,
        },
    )
    .unwrap();
    assert_eq!(ev.times.to_f64(), floats(&want["t"]));
    assert_eq!(ev.stride, 1);
    assert_eq!(ev.total, floats(&want["t"]).len() as u64);
    assert!(ev.values.unwrap().to_f64().iter().all(|v| *v == 1.0));

    let iv: Events = ask(
        &s,
        GetEvents {
            path: "/acquisition/tone_on".into(),
            start_secs: 0.0,
            end_secs: 100.0,
            max_events: 1000,
        },
    )
    .unwrap();
    assert_eq!(iv.times.to_f64(), floats(&want["iv_t"]));
    assert_eq!(iv.values.unwrap().to_f64(), floats(&want["iv_d"]));

    // A data-less Events group; at most 7 of its 40 events: every 6th.
    let lp: Events = ask(
        &s,
        GetEvents {
            path: "/acquisition/lever_presses".into(),
            start_secs: -1.0,
            end_secs: 100.0,
            max_events: 7,
        },
    )
    .unwrap();
    let all = floats(&want["lp"]);
    assert_eq!((lp.total, lp.stride), (40, 6));
    let strided: Vec<f64> = all.iter().step_by(6).copied().collect();
    assert_eq!(lp.times.to_f64(), strided);
    assert!(lp.values.is_none());
    let info: SeriesInfo = ask(
        &s,
        GetSeries {
            path: "/acquisition/lever_presses".into(),
        },
    )
    .unwrap();
    assert!(!info.has_data);
    assert_eq!(info.num_samples, 40);
}

#[test]
fn strided_samples_of_a_trajectory() {
    let s = service("nwb_behavior.nwb");
    let sm: Samples = ask(
        &s,
        GetSamples {
            path: "/processing/behavior/Position/position_xy".into(),
            start_secs: 1.0,
            end_secs: 11.0,
            channels: None,
            max_points: 100,
        },
    )
    .unwrap();
    // 60 Hz: samples 60..660, every 6th.
    assert_eq!((sm.stride, sm.channels), (6, 2));
    let want = h5py(
        "nwb_behavior.nwb",
        "d = f['/processing/behavior/Position/position_xy/data'][60:660:6]\n\
         print(json.dumps({'v': d.ravel().tolist(), 't': (np.arange(60, 660, 6) / 60.0).tolist()}))",
    );
    // serde_json parses floats to within one ulp, not exactly.
    let v = sm.values.to_f64();
    let wv = floats(&want["v"]);
    assert_eq!(v.len(), wv.len());
    assert!(
        v.iter()
            .zip(&wv)
            .all(|(a, b)| (a - b).abs() <= 1e-12 * a.abs().max(1.0))
    );
    let t = sm.times.to_f64();
    let wt = floats(&want["t"]);
    assert!(t.iter().zip(&wt).all(|(a, b)| (a - b).abs() < 1e-12));
    assert_eq!(sm.unit.as_deref(), Some("cm"));
    let err = ask(
        &s,
        GetSamples {
            path: "/processing/behavior/Position/position_xy".into(),
            start_secs: 0.0,
            end_secs: f64::NAN,
            channels: None,
            max_points: 100,
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
}

#[test]
fn odd_series_say_what_is_wrong_and_still_answer() {
    let s = service("nwb_odd.nwb");
    let info = |path: &str| -> SeriesInfo { ask(&s, GetSeries { path: path.into() }).unwrap() };
    let empty = info("/acquisition/empty");
    assert_eq!(empty.num_samples, 0);
    assert_eq!(empty.start_secs, empty.end_secs);

    let nan = info("/acquisition/nan_timestamps");
    assert!(
        nan.warnings
            .iter()
            .any(|w| w.contains("2 timestamps are NaN")),
        "{:?}",
        nan.warnings
    );
    assert!((nan.start_secs - 0.0).abs() < 1e-12 && nan.end_secs > 9.9);

    let unsorted = info("/acquisition/unsorted");
    assert!(
        unsorted
            .warnings
            .iter()
            .any(|w| w.contains("not in ascending order")),
        "{:?}",
        unsorted.warnings
    );

    let rate0 = info("/acquisition/rate0");
    assert_eq!(rate0.rate, Some(1.0));
    assert!(
        rate0.warnings.iter().any(|w| w.contains("rate 0")),
        "{:?}",
        rate0.warnings
    );

    let nan_start = info("/acquisition/nan_start");
    assert_eq!(nan_start.start_secs, 0.0);
    assert!(
        nan_start
            .warnings
            .iter()
            .any(|w| w.contains("starting_time is NaN")),
        "{:?}",
        nan_start.warnings
    );

    let wider = info("/acquisition/wider");
    assert_eq!(wider.num_channels, 6);
    assert!(
        wider
            .warnings
            .iter()
            .any(|w| w.contains("has 4 rows but the data has 6 channels")),
        "{:?}",
        wider.warnings
    );
    let labels: Vec<&str> = wider.channels.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["0", "1", "2", "3", "4", "5"]);

    let wide = info("/acquisition/wide");
    assert_eq!((wide.num_channels, wide.channels.len()), (1000, 1000));
    // A window of a page of its channels.
    let w: ns_protocol::Window = ask(
        &s,
        ns_protocol::GetWindow {
            path: "/acquisition/wide".into(),
            start_secs: 0.0,
            end_secs: 3.0,
            channels: Some((992, 1010)),
            max_buckets: 100,
        },
    )
    .unwrap();
    assert_eq!((w.channel_start, w.channels), (992, 8));
    // The window of an empty series is empty, not an error.
    let w: ns_protocol::Window = ask(
        &s,
        ns_protocol::GetWindow {
            path: "/acquisition/empty".into(),
            start_secs: 0.0,
            end_secs: 3.0,
            channels: None,
            max_buckets: 100,
        },
    )
    .unwrap();
    assert_eq!(w.buckets(), 0);
}
