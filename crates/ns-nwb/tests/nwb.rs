//! ns-nwb against the pynwb-written fixtures and the values the generator
//! computed for them with h5py (`<name>.expected.json`, block `nwb`).
#![expect(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    reason = "tests: small known numbers"
)]

mod common;

use common::{close, expected, open, open_without_specs};
use ns_model::Value;
use ns_nwb::{Error, Timing, TypeTree};
use serde_json::Value as Json;

const NWB_FILES: [&str; 3] = ["nwb_ecephys.nwb", "nwb_behavior.nwb", "many_small.nwb"];
const ECEPHYS: &str = "nwb_ecephys.nwb";
const BEHAVIOR: &str = "nwb_behavior.nwb";
const RAW: &str = "/acquisition/ElectricalSeries";
const LFP: &str = "/processing/ecephys/LFP/lfp_series";

fn strings(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn session_metadata_matches_h5py() {
    for name in NWB_FILES {
        let nwb = open(name);
        let want = &expected(name)["nwb"];
        let s = nwb.session();
        let opt = |v: &Option<String>| v.as_deref().map_or(Json::Null, |s| Json::String(s.into()));
        assert_eq!(
            opt(&s.session_description),
            want["session_description"],
            "{name}"
        );
        assert_eq!(opt(&s.identifier), want["identifier"], "{name}");
        assert_eq!(
            opt(&s.session_start_time),
            want["session_start_time"],
            "{name}"
        );
        assert_eq!(s.experimenter, strings_of(&want["experimenter"]), "{name}");
        assert_eq!(opt(&s.lab), want["lab"], "{name}");
        assert_eq!(opt(&s.institution), want["institution"], "{name}");
        // Fields the generator sets but does not summarize.
        assert_eq!(
            s.timestamps_reference_time.as_deref(),
            Some("2024-03-15T10:30:00-07:00")
        );
        assert_eq!(s.file_create_date, ["2024-03-16T08:00:00-07:00"]);
        assert_eq!(s.related_publications, ["doi:10.1234/example.2024.001"]);
        assert_eq!(
            s.experiment_description.as_deref(),
            Some("Synthetic data for neurosift reader tests")
        );
        assert_eq!(s.session_id.as_deref(), Some("session-001"));
        assert_eq!(s.nwb_version.as_deref(), Some("2.11.0"));
        assert!(nwb.warnings().is_empty(), "{name}: {:?}", nwb.warnings());
    }
    assert_eq!(
        open(ECEPHYS).session().experimenter,
        ["Doe, Jane", "Smith, Ĳohn"]
    );
}

fn strings_of(json: &Json) -> Vec<String> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn neurodata_types_and_inheritance_from_specs() {
    let nwb = open(ECEPHYS);
    assert_eq!(nwb.neurodata_type(RAW), Some("ElectricalSeries"));
    assert_eq!(nwb.type_namespace(RAW), Some("core"));
    assert_eq!(nwb.neurodata_type("/"), Some("NWBFile"));
    assert_eq!(
        nwb.neurodata_type("/units/spike_times_index"),
        Some("VectorIndex")
    );
    assert_eq!(
        nwb.type_namespace("/units/spike_times_index"),
        Some("hdmf-common")
    );
    assert_eq!(
        nwb.neurodata_type("/general/extracellular_ephys/electrodes"),
        Some("ElectrodesTable")
    );
    assert_eq!(nwb.neurodata_type("/acquisition"), None);

    // The hierarchy came from the embedded specs.
    let namespaces: Vec<(&str, &str)> = nwb
        .spec_namespaces()
        .iter()
        .map(|n| (n.name.as_str(), n.version.as_str()))
        .collect();
    assert!(namespaces.contains(&("core", "2.11.0")), "{namespaces:?}");
    assert!(
        namespaces.contains(&("hdmf-common", "1.10.0")),
        "{namespaces:?}"
    );
    assert_eq!(
        namespaces.last().map(|n| n.0),
        Some("core"),
        "core is applied last"
    );
    let types = nwb.types();
    assert_eq!(types.namespace_of("ElectricalSeries"), Some("core"));
    assert_eq!(types.namespace_of("VectorIndex"), Some("hdmf-common"));
    assert_eq!(types.namespace_of("ElectrodesTable"), Some("core"));
    assert_eq!(
        types.ancestors("ElectricalSeries"),
        [
            "ElectricalSeries",
            "TimeSeries",
            "NWBDataInterface",
            "NWBContainer",
            "Container"
        ]
    );
    assert!(nwb.is_a(RAW, "TimeSeries"));
    assert!(nwb.is_a(RAW, "NWBDataInterface"));
    assert!(!nwb.is_a(RAW, "DynamicTable"));
    assert!(nwb.is_a("/general/extracellular_ephys/electrodes", "DynamicTable"));
    assert!(nwb.is_a("/units/spike_times_index", "VectorData"));
    assert!(nwb.is_a("/acquisition/ElectricalSeries/electrodes", "VectorData"));

    let paths = |ty: &str| {
        nwb.objects_of_type(ty)
            .iter()
            .map(|n| n.path.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(paths("ElectricalSeries"), [RAW, LFP]);
    assert_eq!(paths("TimeSeries"), [RAW, LFP]);
    assert_eq!(
        paths("DynamicTable"),
        [
            "/general/extracellular_ephys/electrodes",
            "/intervals/epochs",
            "/intervals/trials",
            "/units"
        ]
    );
    assert_eq!(paths("Units"), ["/units"]);
    assert_eq!(
        paths("TimeIntervals"),
        ["/intervals/epochs", "/intervals/trials"]
    );
    assert_eq!(
        paths("DynamicTableRegion"),
        [format!("{RAW}/electrodes"), format!("{LFP}/electrodes")]
    );
}

#[test]
fn inheritance_falls_back_without_specs() {
    let builtin = TypeTree::builtin();
    assert!(builtin.is_a("ElectricalSeries", "TimeSeries"));
    assert!(builtin.is_a("ElectrodesTable", "DynamicTable"));
    assert!(builtin.is_a("DynamicTableRegion", "VectorData"));

    for name in NWB_FILES {
        let with = open(name);
        let without = open_without_specs(name);
        assert!(without.spec_namespaces().is_empty());
        assert_eq!(without.types().namespace_of("ElectricalSeries"), None);
        for ty in [
            "TimeSeries",
            "ElectricalSeries",
            "DynamicTable",
            "NWBDataInterface",
            "VectorData",
        ] {
            let a: Vec<&str> = with
                .objects_of_type(ty)
                .iter()
                .map(|n| n.path.as_str())
                .collect();
            let b: Vec<&str> = without
                .objects_of_type(ty)
                .iter()
                .map(|n| n.path.as_str())
                .collect();
            assert_eq!(a, b, "{name}: {ty}");
        }
    }
    let nwb = open_without_specs(ECEPHYS);
    assert!(nwb.is_a(RAW, "TimeSeries"));
    assert_eq!(
        nwb.session().identifier.as_deref(),
        Some("nwb-ecephys-fixture-0001")
    );
    assert_eq!(nwb.electrical_series(LFP).unwrap().num_channels(), 4);
}

#[test]
fn paths_links_and_children() {
    let nwb = open(ECEPHYS);
    let device = nwb
        .node("/general/extracellular_ephys/shank0/device")
        .unwrap();
    assert_eq!(device.path, "/general/devices/probe_device");
    assert_eq!(
        nwb.neurodata_type("/general/extracellular_ephys/shank1/device"),
        Some("Device")
    );
    assert!(nwb.node("/nope").is_none());
    assert!(nwb.node("general//lab/").is_some());
    let children: Vec<&str> = nwb
        .children("/intervals")
        .iter()
        .map(|n| n.path.as_str())
        .collect();
    assert_eq!(children, ["/intervals/epochs", "/intervals/trials"]);
    let root: Vec<&str> = nwb.children("/").iter().map(|n| n.name()).collect();
    assert!(root.contains(&"units") && root.contains(&"general") && !root.contains(&"id"));
    // Typed views check the type.
    assert!(matches!(
        nwb.units("/intervals/trials"),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        nwb.time_series("/units"),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        nwb.time_series("/acquisition/missing"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        nwb.dynamic_table("/units/id"),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn electrical_series_timing_matches_h5py() {
    let nwb = open(ECEPHYS);
    let want = expected(ECEPHYS)["nwb"]["electrical_series"].clone();
    let want = want.as_array().unwrap();
    let found: Vec<String> = nwb
        .objects_of_type("ElectricalSeries")
        .iter()
        .map(|n| n.path.clone())
        .collect();
    assert_eq!(found.len(), want.len());
    for (path, w) in found.iter().zip(want) {
        assert_eq!(path, w["path"].as_str().unwrap());
        let es = nwb.electrical_series(path).unwrap();
        let ts = es.series();
        assert_eq!(
            ts.num_samples(),
            w["num_samples"].as_u64().unwrap(),
            "{path}"
        );
        assert_eq!(
            es.num_channels(),
            w["num_channels"].as_u64().unwrap(),
            "{path}"
        );
        match ts.timing() {
            Timing::Rate {
                rate,
                starting_time,
            } => {
                assert_eq!(Some(*rate), w["rate"].as_f64(), "{path}");
                assert_eq!(Some(*starting_time), w["starting_time"].as_f64(), "{path}");
            }
            Timing::Timestamps { count, .. } => {
                assert!(w["rate"].is_null(), "{path}");
                assert_eq!(*count, ts.num_samples());
                assert_eq!(
                    Some(ts.time_of_sample(0).unwrap()),
                    w["starting_time"].as_f64(),
                    "{path}"
                );
            }
        }
    }

    // The raw series: 30 kHz from 1.25 s, int16 scaled by 0.195 µV.
    let raw = nwb.time_series(RAW).unwrap();
    assert_eq!(raw.neurodata_type(), Some("ElectricalSeries"));
    assert_eq!(raw.description(), Some("raw voltage"));
    let data = raw.data();
    assert_eq!(data.shape, [30000, 16]);
    assert_eq!(data.dtype.name(), "int16");
    assert_eq!(data.unit.as_deref(), Some("volts"));
    assert!(close(data.conversion, 0.195e-6));
    assert_eq!((data.offset, data.resolution), (0.0, None));
    assert_eq!(raw.time_of_sample(7500).unwrap(), 1.5);
    assert_eq!(
        raw.timestamps(0..3).unwrap(),
        [1.25, 1.25 + 1.0 / 30000.0, 1.25 + 2.0 / 30000.0]
    );
    assert_eq!(raw.timestamps(29999..40000).unwrap().len(), 1);
    assert_eq!(raw.sample_range_for_times(1.5, 2.0).unwrap(), 7500..22500);
    assert_eq!(raw.sample_range_for_times(-5.0, 1e9).unwrap(), 0..30000);
    assert_eq!(
        raw.sample_range_for_times(100.0, 200.0).unwrap(),
        30000..30000
    );
    assert_eq!(raw.sample_range_for_times(1.3, 1.2).unwrap(), 1500..1500);
    // Sample boundaries agree with time_of_sample.
    for t in [1.25, 1.2500001, 1.7, 1.25 + 1234.0 / 30000.0, 2.2499] {
        let r = raw.sample_range_for_times(t, t + 0.01).unwrap();
        assert!(raw.time_of_sample(r.start).unwrap() >= t);
        assert!(r.start == 0 || raw.time_of_sample(r.start - 1).unwrap() < t);
    }

    // The epochs' TimeSeriesReferenceVectorData says the same sample ranges.
    let epochs = nwb.time_intervals("/intervals/epochs").unwrap();
    let (starts, stops) = (epochs.start_times().unwrap(), epochs.stop_times().unwrap());
    for (i, cell) in epochs
        .table()
        .column("timeseries")
        .unwrap()
        .iter()
        .enumerate()
    {
        let Value::List(refs) = cell else {
            panic!("{cell:?}")
        };
        let Value::Compound(fields) = &refs[0] else {
            panic!("{refs:?}")
        };
        let field = |n: &str| {
            fields
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(field("timeseries"), Value::Ref(Some(RAW.into())));
        let (start, count) = (
            field("idx_start").as_f64().unwrap() as u64,
            field("count").as_f64().unwrap() as u64,
        );
        assert_eq!(
            raw.sample_range_for_times(starts[i], stops[i]).unwrap(),
            start..start + count
        );
    }

    // The LFP: stored timestamps 0.5, 0.501, ...
    let mut lfp = nwb.time_series(LFP).unwrap();
    assert!(matches!(
        lfp.timing(),
        Timing::Timestamps { count: 2500, .. }
    ));
    assert_eq!(lfp.timestamps(0..3).unwrap(), [0.5, 0.501, 0.502]);
    assert_eq!(lfp.time_of_sample(2499).unwrap(), 2.999);
    assert!(lfp.time_of_sample(2500).is_err());
    assert_eq!(lfp.sample_range_for_times(1.0, 1.5).unwrap(), 500..1000);
    assert_eq!(lfp.sample_range_for_times(0.0, 0.5).unwrap(), 0..0);
    assert_eq!(lfp.sample_range_for_times(2.999, 10.0).unwrap(), 2499..2500);
    // The binary search (small windows force it) agrees with a linear scan.
    let all = lfp.timestamps(0..2500).unwrap();
    let scan = |t: f64| all.iter().position(|x| *x >= t).unwrap_or(all.len()) as u64;
    for window in [1, 7, 4096] {
        lfp.set_search_window(window);
        for t in [
            -1.0, 0.5, 0.5004, 0.9995, 1.0, 1.7777, 2.998, 2.999, 2.9991, 5.0,
        ] {
            let r = lfp.sample_range_for_times(t, t + 0.25).unwrap();
            assert_eq!(r, scan(t)..scan(t + 0.25), "window {window}, t {t}");
        }
    }
}

#[test]
fn data_reads_match_h5py() {
    let nwb = open(ECEPHYS);
    let raw = nwb.time_series(RAW).unwrap();
    let samples = expected(ECEPHYS)["samples"].clone();
    let sample = |path: &str, slice: &str| {
        samples
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == path && s["slice"] == slice)
            .unwrap()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect::<Vec<_>>()
    };
    let path = format!("{RAW}/data");
    let got = raw.read_data(2995..3005, None).unwrap();
    assert_eq!(got.shape, [10, 16]);
    assert_eq!(got.to_f64(), sample(&path, "2995:3005"));
    let got = raw.read_data(100..103, Some(2..16)).unwrap();
    assert_eq!(got.shape, [3, 14]);
    let want = sample(&path, "100:103,2:16:5"); // columns 2, 7, 12
    let picked: Vec<f64> = got
        .to_f64()
        .chunks(14)
        .flat_map(|row| [row[0], row[5], row[10]])
        .collect();
    assert_eq!(picked, want);
    let lfp = nwb.time_series(LFP).unwrap();
    assert!(lfp.read_data(0..10, Some(0..2)).is_ok());
    let one_d = open(BEHAVIOR);
    let lick = one_d.time_series("/acquisition/lick_signal").unwrap();
    assert!(lick.read_data(0..10, Some(0..1)).is_err());
    assert_eq!(lick.read_data(395..1000, None).unwrap().shape, [5]);
}

#[test]
fn electrodes_rows() {
    let nwb = open(ECEPHYS);
    let raw = nwb.electrical_series(RAW).unwrap();
    assert_eq!(
        raw.electrodes_table(),
        Some("/general/extracellular_ephys/electrodes")
    );
    assert_eq!(raw.electrode_rows().unwrap(), (0..16).collect::<Vec<u64>>());
    let electrodes = raw.electrodes().unwrap();
    assert_eq!(electrodes.len(), 16);
    for (i, e) in electrodes.iter().enumerate() {
        assert_eq!(e.row, i as u64);
        assert_eq!(e.id, Some(i as i64));
        assert_eq!(
            e.location.as_deref(),
            Some(if i < 8 { "CA1" } else { "CA3" })
        );
        let shank = format!("shank{}", i / 8);
        assert_eq!(e.group_name.as_deref(), Some(shank.as_str()));
        assert_eq!(e.x, Some((i % 4) as f64 * 20.0));
        assert_eq!(e.y, Some((i / 4) as f64 * 25.0));
        assert_eq!(e.z, Some(-1.5 * i as f64));
    }
    let lfp = nwb.electrical_series(LFP).unwrap();
    let rows: Vec<u64> = lfp.electrodes().unwrap().iter().map(|e| e.row).collect();
    assert_eq!(rows, [0, 3, 8, 12]);
    assert_eq!(
        lfp.electrodes().unwrap()[2].location.as_deref(),
        Some("CA3")
    );

    // The table itself: plain, reference and custom columns.
    let table = nwb
        .dynamic_table("/general/extracellular_ephys/electrodes")
        .unwrap();
    assert_eq!(table.neurodata_type(), Some("ElectrodesTable"));
    assert_eq!(table.num_rows(), 16);
    assert_eq!(
        table.colnames(),
        [
            "location",
            "group",
            "impedance_kohm",
            "group_name",
            "x",
            "y",
            "z"
        ]
    );
    assert_eq!(table.column_f64("impedance_kohm").unwrap()[15], 115.0);
    assert_eq!(
        table.cell("group", 9).unwrap(),
        Value::Ref(Some("/general/extracellular_ephys/shank1".into()))
    );
    let region = nwb
        .dynamic_table("/general/extracellular_ephys/electrodes")
        .unwrap();
    assert!(!region.column_info("x").unwrap().is_region());
}

#[test]
fn units_spike_times_match_h5py() {
    let nwb = open(ECEPHYS);
    let want = expected(ECEPHYS)["nwb"]["units"].clone();
    let units = nwb.units("/units").unwrap();
    assert_eq!(units.num_units(), want["count"].as_u64().unwrap());
    assert_eq!(units.unit_ids().unwrap(), (0..10).collect::<Vec<i64>>());
    let counts: Vec<u64> = want["spike_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(units.spike_counts().unwrap(), counts);
    let all = units.all_spike_times().unwrap();
    for (i, first) in want["first_spike_times"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let times = units.spike_times(i as u64).unwrap();
        assert_eq!(times.len() as u64, counts[i], "unit {i}");
        assert_eq!(times.first().copied(), first.as_f64(), "unit {i}");
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "unit {i} sorted");
        assert_eq!(all[i], times, "unit {i}");
    }
    assert!(units.spike_times(3).unwrap().is_empty());
    assert!(units.spike_times(10).is_err());

    let table = units.table();
    assert_eq!(
        table.colnames(),
        ["quality", "spike_times", "obs_intervals"]
    );
    assert!(table.column_info("spike_times").unwrap().is_ragged());
    let quality = strings(&table.column("quality").unwrap());
    assert_eq!(quality[0], "mua");
    assert_eq!(quality[1], "good");
    // A ragged column of 2-element rows.
    let pair = |a: f64, b: f64| Value::List(vec![Value::Float(a), Value::Float(b)]);
    assert_eq!(
        table.ragged_row("obs_intervals", 0).unwrap(),
        [pair(0.0, 60.0)]
    );
    assert_eq!(
        table.ragged_row("obs_intervals", 1).unwrap(),
        [pair(0.0, 30.0), pair(35.0, 60.0)]
    );
    let column = table.column("obs_intervals").unwrap();
    assert_eq!(column.len(), 10);
    assert_eq!(
        column[9],
        Value::List(vec![pair(0.0, 30.0), pair(35.0, 60.0)])
    );
    assert!(table.ragged_row("quality", 0).is_err());
    assert!(table.column("nope").is_err());
}

#[test]
fn trials_match_h5py() {
    let nwb = open(ECEPHYS);
    let want = expected(ECEPHYS)["nwb"]["trials"].clone();
    let trials = nwb.time_intervals("/intervals/trials").unwrap();
    assert_eq!(trials.len(), want["count"].as_u64().unwrap());
    assert_eq!(trials.table().colnames(), strings_of(&want["columns"]));
    let starts = trials.start_times().unwrap();
    let stops = trials.stop_times().unwrap();
    let conditions = strings(&trials.table().column("condition").unwrap());
    let correct = trials.table().column("correct").unwrap();
    assert_eq!(trials.table().ids().unwrap(), (0..50).collect::<Vec<i64>>());
    for t in 0..50 {
        assert_eq!(starts[t], t as f64 * 2.0);
        assert_eq!(stops[t], t as f64 * 2.0 + 1.5);
        assert_eq!(conditions[t], ["left", "right", "catch"][t % 3]);
        assert_eq!(correct[t], Value::Bool((t * 7) % 5 != 0));
    }
    assert_eq!(
        trials.table().cell("condition", 49).unwrap(),
        Value::String("right".into())
    );
    assert!(trials.table().cell("condition", 50).is_err());
    // A TimeIntervals is also a DynamicTable.
    assert_eq!(
        nwb.dynamic_table("/intervals/trials").unwrap().num_rows(),
        50
    );
}

#[test]
fn epochs_ragged_tags() {
    let nwb = open(ECEPHYS);
    let epochs = nwb.time_intervals("/intervals/epochs").unwrap();
    let table = epochs.table();
    assert_eq!(
        table.colnames(),
        ["start_time", "stop_time", "tags", "timeseries"]
    );
    let tags: Vec<Vec<String>> = table
        .column("tags")
        .unwrap()
        .iter()
        .map(|row| match row {
            Value::List(items) => strings(items),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(tags, [vec!["baseline"], vec!["task", "stim"], vec![]]);
    assert_eq!(
        strings(&table.ragged_row("tags", 1).unwrap()),
        ["task", "stim"]
    );
    assert!(table.ragged_row("tags", 2).unwrap().is_empty());
    assert!(table.ragged_row("tags", 3).is_err());
    let column = table.column_info("tags").unwrap();
    assert_eq!(column.index, ["/intervals/epochs/tags_index"]);
    assert!(!column.is_region());
}

#[test]
fn behavior_series_and_tables() {
    let nwb = open(BEHAVIOR);
    let spatial: Vec<&str> = nwb
        .objects_of_type("SpatialSeries")
        .iter()
        .map(|n| n.path.as_str())
        .collect();
    assert_eq!(spatial, ["/processing/behavior/Position/position_xy"]);
    assert!(nwb.is_a(spatial[0], "TimeSeries"));
    let pos = nwb.time_series(spatial[0]).unwrap();
    assert_eq!(
        pos.timing(),
        &Timing::Rate {
            rate: 60.0,
            starting_time: 0.0
        }
    );
    assert_eq!(pos.num_samples(), 1200);
    assert_eq!(pos.data().shape, [1200, 2]);
    assert_eq!(pos.data().unit.as_deref(), Some("cm"));
    assert_eq!(pos.sample_range_for_times(1.0, 2.0).unwrap(), 60..120);
    assert_eq!(pos.read_data(0..5, Some(1..2)).unwrap().shape, [5, 1]);

    let series: Vec<&str> = nwb
        .objects_of_type("TimeSeries")
        .iter()
        .map(|n| n.path.as_str())
        .collect();
    assert_eq!(
        series,
        [
            "/acquisition/lick_signal",
            "/acquisition/running_speed",
            "/acquisition/tone_on",
            "/processing/behavior/BehavioralEvents/rewards",
            "/processing/behavior/Position/position_xy",
            "/stimulus/presentation/movie"
        ]
    );
    let lick = nwb.time_series("/acquisition/lick_signal").unwrap();
    assert!(matches!(
        lick.timing(),
        Timing::Timestamps { count: 400, .. }
    ));
    let ts = lick.timestamps(0..400).unwrap();
    let r = lick.sample_range_for_times(ts[100], ts[200]).unwrap();
    assert_eq!(r, 100..200);
    let speed = nwb.time_series("/acquisition/running_speed").unwrap();
    assert_eq!(
        speed.timing(),
        &Timing::Rate {
            rate: 100.0,
            starting_time: 2.0
        }
    );
    assert_eq!(speed.sample_range_for_times(2.5, 3.0).unwrap(), 50..100);
    let movie = nwb.time_series("/stimulus/presentation/movie").unwrap();
    assert_eq!(movie.neurodata_type(), Some("ImageSeries"));
    assert_eq!(movie.data().shape, [10, 20, 16]);
    assert!(nwb.is_a("/acquisition/images/gray", "Image"));
    assert!(!nwb.is_a("/acquisition/images", "TimeSeries"));
    assert!(nwb.time_series("/acquisition/images").is_err());

    // A plain DynamicTable with two ragged columns.
    let events = nwb.dynamic_table("/processing/behavior/events").unwrap();
    assert_eq!(events.neurodata_type(), Some("DynamicTable"));
    assert_eq!(events.colnames(), ["words", "onset", "counts"]);
    assert_eq!(events.num_rows(), 5);
    let words: Vec<Vec<String>> = events
        .column("words")
        .unwrap()
        .iter()
        .map(|row| match row {
            Value::List(items) => strings(items),
            other => panic!("{other:?}"),
        })
        .collect();
    let want: Vec<Vec<&str>> = vec![
        vec!["go"],
        vec![],
        vec!["left", "right"],
        vec!["a", "b", "c", "ä"],
        vec!["stop"],
    ];
    assert_eq!(words, want);
    for i in 0..5u64 {
        let counts = events.ragged_row("counts", i).unwrap();
        assert_eq!(counts, (0..i as i64).map(Value::Int).collect::<Vec<_>>());
        let words = strings(&events.ragged_row("words", i).unwrap());
        assert_eq!(words, want[i as usize]);
    }
    assert_eq!(
        events.column_f64("onset").unwrap(),
        [0.0, 0.75, 1.5, 2.25, 3.0]
    );
    assert!(events.column_f64("counts").is_err());
}

#[test]
fn many_small_time_series() {
    let nwb = open("many_small.nwb");
    let series = nwb.objects_of_type("TimeSeries");
    assert_eq!(series.len(), 100);
    assert_eq!(nwb.objects_of_type("ProcessingModule").len(), 5);
    for node in series {
        let ts = nwb.time_series(&node.path).unwrap();
        // /processing/module_M/ts_KK
        let (m, k): (u64, u64) = {
            let parts: Vec<&str> = node.path.split('/').collect();
            (
                parts[2]["module_".len()..].parse().unwrap(),
                parts[3]["ts_".len()..].parse().unwrap(),
            )
        };
        assert_eq!(ts.num_samples(), 5 + (m * 20 + k) % 40, "{}", node.path);
        match ts.timing() {
            Timing::Rate {
                rate,
                starting_time,
            } => {
                assert!(k % 2 == 1);
                assert_eq!((*rate, *starting_time), (10.0 + k as f64, m as f64));
            }
            Timing::Timestamps { .. } => assert!(k % 2 == 0),
        }
        assert!(close(ts.time_of_sample(0).unwrap(), m as f64));
        let n = ts.num_samples();
        assert_eq!(ts.read_data(0..n, None).unwrap().len() as u64, n);
        assert_eq!(ts.timestamps(0..n).unwrap().len() as u64, n);
    }
}

/// Issue 13, item 6: `nwb_matnwb.nwb` is `nwb_ecephys.nwb` with every
/// `neurodata_type` and `namespace` stored as MatNWB (2018) and other
/// writers stored them (one-element string arrays, fixed-length strings):
/// every object has the same type, inheritance and namespace, and the
/// series and tables open as in the original.
#[test]
fn matnwb_style_type_attributes_keep_their_types() {
    let original = open(ECEPHYS);
    let matnwb = open("nwb_matnwb.nwb");
    let mut typed = 0;
    for node in original.nodes() {
        let want = original.neurodata_type(&node.path);
        assert_eq!(matnwb.neurodata_type(&node.path), want, "{}", node.path);
        assert_eq!(
            matnwb.type_namespace(&node.path),
            original.type_namespace(&node.path),
            "{}",
            node.path
        );
        if want.is_some() {
            typed += 1;
            assert_eq!(
                matnwb.is_a(&node.path, "TimeSeries"),
                original.is_a(&node.path, "TimeSeries")
            );
        }
    }
    assert!(typed > 20, "only {typed} typed objects");
    let want = expected("nwb_matnwb.nwb")["nwb"]["electrical_series"].clone();
    let found: Vec<String> = matnwb
        .objects_of_type("ElectricalSeries")
        .iter()
        .map(|n| n.path.clone())
        .collect();
    let want: Vec<String> = want
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(found, want);
    let es = matnwb.electrical_series(RAW).unwrap();
    assert_eq!(es.num_channels(), 16);
    assert!(matnwb.units("/units").is_ok());
}
