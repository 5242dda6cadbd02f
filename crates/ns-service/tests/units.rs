//! Units answers (summary, raster windows, PSTHs) on pynwb-written files,
//! checked against numpy computing the same from h5py reads in the same run.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{ask, floats};
use ns_protocol::filter::parse;
use ns_protocol::{ErrorKind, GetPsth, GetRaster, GetUnits, Psth, Raster, UnitsInfo};
use ns_service::{Limits, Service};

fn service(name: &str) -> Service {
    common::service(name, Limits::default())
}
use serde_json::Value as Json;

/// numpy on the ecephys fixture; `spikes(u)` gives unit row u's times.
fn numpy(script: &str) -> Json {
    common::python_json(
        "nwb_ecephys.nwb",
        "st = f['/units/spike_times'][:]; ix = f['/units/spike_times_index'][:]\n\
         def spikes(u):\n    return st[(ix[u-1] if u else 0):ix[u]]",
        script,
    )
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0))
}

#[test]
fn units_summary_and_raster_windows() {
    let s = service("nwb_ecephys.nwb");
    let info: UnitsInfo = ask(
        &s,
        GetUnits {
            path: "/units".into(),
        },
    )
    .unwrap();
    let want = numpy(
        "print(json.dumps({'ids': f['/units/id'][:].tolist(), 'counts': np.diff(np.concatenate([[0], ix])).tolist(),\
         'lo': float(st.min()), 'hi': float(st.max()),\
         'win': [spikes(u)[(spikes(u) >= 10) & (spikes(u) < 20)].tolist() for u in [0, 3, 7]]}))",
    );
    assert_eq!(
        info.ids,
        want["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        info.spike_counts,
        want["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        (info.start_secs, info.end_secs),
        (want["lo"].as_f64().unwrap(), want["hi"].as_f64().unwrap())
    );
    assert!(
        info.warnings
            .iter()
            .any(|w| w.contains("1 unit(s) have no spikes"))
    );
    let quality = info.columns.iter().find(|c| c.name == "quality").unwrap();
    assert!(!quality.numeric);
    assert_eq!(
        quality.categories.as_deref(),
        Some(&["good".to_string(), "mua".to_string()][..])
    );

    let r: Raster = ask(
        &s,
        GetRaster {
            path: "/units".into(),
            units: vec![0, 3, 7],
            start_secs: 10.0,
            end_secs: 20.0,
            max_spikes: 10_000,
            bins: 100,
        },
    )
    .unwrap();
    let win: Vec<Vec<f64>> = want["win"].as_array().unwrap().iter().map(floats).collect();
    assert_eq!(
        r.counts,
        win.iter().map(|w| w.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(r.times.unwrap().to_f64(), win.concat());
    // Past max_spikes: per-bin counts that add up.
    let r: Raster = ask(
        &s,
        GetRaster {
            path: "/units".into(),
            units: vec![0, 3, 7],
            start_secs: 10.0,
            end_secs: 20.0,
            max_spikes: 1,
            bins: 10,
        },
    )
    .unwrap();
    let binned = r.binned.unwrap().to_f64();
    assert_eq!(binned.len(), 30);
    let want_bins = numpy(
        "print(json.dumps([np.histogram(spikes(u), bins=10, range=(10, 20))[0].tolist() for u in [0, 3, 7]]))",
    );
    let want_bins: Vec<f64> = want_bins
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    assert_eq!(binned, want_bins);
    // A row past the table is an error.
    let err = ask(
        &s,
        GetRaster {
            path: "/units".into(),
            units: vec![99],
            start_secs: 0.0,
            end_secs: 1.0,
            max_spikes: 10,
            bins: 10,
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
}

/// numpy's PSTH by the definition: spikes in [t+ws, t+we), bin
/// floor((rel - ws) / bw), rate = count / trials / bw, groups sorted.
fn numpy_psth(
    units: &[u64],
    align: &str,
    ws: f64,
    we: f64,
    nb: u32,
    group: &str,
    filter: &str,
) -> Json {
    numpy(&format!(
        "t = f['/intervals/trials']\nal = t['{align}'][:]\n\
         grp = np.array([x.decode() if isinstance(x, bytes) else (str(x).lower() if isinstance(x, (bool, np.bool_)) else str(x)) for x in t['{group}'][:]]) if '{group}' else np.array(['']*len(al))\n\
         keep = np.ones(len(al), bool)\n{filter}\n\
         groups = sorted(set(grp[keep]))\nbw = ({we} - {ws}) / {nb}\nout = []\nsem = []\n\
         for u in {units:?}:\n    s = spikes(u)\n    for g in groups:\n        rows = np.where(keep & (grp == g))[0]\n        per = np.zeros((len(rows), {nb}))\n\
         \x20       for k, i in enumerate(rows):\n            rel = s[(s >= al[i] + {ws}) & (s < al[i] + {we})] - al[i]\n\
         \x20           b = np.minimum(np.floor((rel - {ws}) / bw).astype(int), {nb} - 1)\n            np.add.at(per[k], b, 1)\n\
         \x20       r = per / bw\n        out += r.mean(0).tolist()\n        sem += (r.std(0, ddof=1) / np.sqrt(len(rows))).tolist() if len(rows) > 1 else [0.0]*{nb}\n\
         print(json.dumps({{'groups': groups, 'rates': out, 'sem': sem, 'n': [int((keep & (grp == g)).sum()) for g in groups]}}))"
    ))
}

#[test]
fn psth_equals_numpy() {
    let s = service("nwb_ecephys.nwb");
    for (align, ws, we, nb, group, filter, py_filter) in [
        ("start_time", -0.5, 1.0, 50, None, "", ""),
        ("start_time", -0.5, 1.0, 50, Some("condition"), "", ""),
        (
            "stop_time",
            -1.0,
            2.0,
            30,
            Some("condition"),
            "correct=true",
            "keep = t['correct'][:].astype(bool)",
        ),
        ("start_time", 0.0, 0.5, 7, Some("correct"), "", ""),
    ] {
        let p: Psth = ask(
            &s,
            GetPsth {
                units_path: "/units".into(),
                units: vec![0, 1, 3, 9],
                trials_path: "/intervals/trials".into(),
                align_to: align.into(),
                window_start: ws,
                window_end: we,
                num_bins: nb,
                smoothed: false,
                group_by: group.map(str::to_string),
                categories: Vec::new(),
                trial_filter: parse(filter).unwrap(),
            },
        )
        .unwrap();
        let want = numpy_psth(
            &[0, 1, 3, 9],
            align,
            ws,
            we,
            nb,
            group.unwrap_or(""),
            py_filter,
        );
        let groups: Vec<String> = want["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap().to_string())
            .collect();
        assert_eq!(p.groups, groups, "{align} {group:?}");
        assert_eq!(
            p.trials_per_group,
            want["n"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect::<Vec<_>>()
        );
        assert!(
            close(&p.rates.to_f64(), &floats(&want["rates"])),
            "rates {align} {group:?} {filter}"
        );
        assert!(
            close(&p.sem.unwrap().to_f64(), &floats(&want["sem"])),
            "sem {align} {group:?}"
        );
        assert!(p.align_candidates.contains(&"start_time".to_string()));
        assert!(p.group_candidates.contains(&"condition".to_string()));
    }
    // Smoothed: 30 × the bins; the total rate mass is kept up to the edges.
    let p: Psth = ask(
        &s,
        GetPsth {
            units_path: "/units".into(),
            units: vec![0],
            trials_path: "/intervals/trials".into(),
            align_to: "start_time".into(),
            window_start: -0.5,
            window_end: 1.0,
            num_bins: 20,
            smoothed: true,
            group_by: None,
            categories: Vec::new(),
            trial_filter: Vec::new(),
        },
    )
    .unwrap();
    assert_eq!(p.bins, 600);
    assert!(p.sem.is_none());
    // Categories keep only those groups; a bad column is an error.
    let p: Psth = ask(
        &s,
        GetPsth {
            units_path: "/units".into(),
            units: vec![0],
            trials_path: "/intervals/trials".into(),
            align_to: "start_time".into(),
            window_start: -0.5,
            window_end: 1.0,
            num_bins: 10,
            smoothed: false,
            group_by: Some("condition".into()),
            categories: vec!["left".into()],
            trial_filter: Vec::new(),
        },
    )
    .unwrap();
    assert_eq!(p.groups, ["left"]);
    let err = ask(
        &s,
        GetPsth {
            units_path: "/units".into(),
            units: vec![0],
            trials_path: "/intervals/trials".into(),
            align_to: "nope".into(),
            window_start: -0.5,
            window_end: 1.0,
            num_bins: 10,
            smoothed: false,
            group_by: None,
            categories: Vec::new(),
            trial_filter: Vec::new(),
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[test]
fn odd_units_and_trials_are_said_and_survived() {
    let s = service("nwb_odd.nwb");
    let info: UnitsInfo = ask(
        &s,
        GetUnits {
            path: "/units".into(),
        },
    )
    .unwrap();
    assert_eq!(info.spike_counts, [4, 0, 3]);
    assert!(
        info.warnings.iter().any(|w| w.contains("out of order")),
        "{:?}",
        info.warnings
    );
    assert!(
        info.warnings.iter().any(|w| w.contains("no spikes")),
        "{:?}",
        info.warnings
    );
    // Drawn sorted.
    let r: Raster = ask(
        &s,
        GetRaster {
            path: "/units".into(),
            units: vec![0, 1],
            start_secs: 0.0,
            end_secs: 2.0,
            max_spikes: 100,
            bins: 10,
        },
    )
    .unwrap();
    assert_eq!(r.counts, [4, 0]);
    assert_eq!(r.times.unwrap().to_f64(), [0.2, 0.5, 0.7, 0.9]);
    // A Units table without an index is one unit.
    let one: UnitsInfo = ask(
        &s,
        GetUnits {
            path: "/processing/one_unit".into(),
        },
    )
    .unwrap();
    assert_eq!(
        (one.ids.as_slice(), one.spike_counts.as_slice()),
        (&[7][..], &[4][..])
    );
    let r: Raster = ask(
        &s,
        GetRaster {
            path: "/processing/one_unit".into(),
            units: vec![0],
            start_secs: 0.4,
            end_secs: 1.5,
            max_spikes: 100,
            bins: 10,
        },
    )
    .unwrap();
    assert_eq!(r.times.unwrap().to_f64(), [0.5, 1.25]);
    // Trials without a start, or stopping before they start.
    let p: Psth = ask(
        &s,
        GetPsth {
            units_path: "/units".into(),
            units: vec![0, 1, 2],
            trials_path: "/intervals/trials".into(),
            align_to: "start_time".into(),
            window_start: -0.5,
            window_end: 1.0,
            num_bins: 3,
            smoothed: false,
            group_by: None,
            categories: Vec::new(),
            trial_filter: Vec::new(),
        },
    )
    .unwrap();
    assert_eq!(p.trials_per_group, [2]);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("1 trial(s) have no start_time")),
        "{:?}",
        p.warnings
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("1 trial(s) stop before they start")),
        "{:?}",
        p.warnings
    );
}
