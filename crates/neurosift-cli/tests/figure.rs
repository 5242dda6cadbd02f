//! `neurosift figure make | publish` as a user runs them: the figures of a
//! raster and a PSTH of a pynwb-written file hold what numpy computes from
//! h5py reads of the same file; published figures are stored by the sha1 of
//! their canonical JSON; invalid figures are refused with the reason.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::path::Path;
use std::process::{Command, Output};

use ns_figures::Figure;
use ns_protocol::Answer;
use ns_test_support::{fixtures, python};
use serde_json::Value as Json;

fn neurosift(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_neurosift"));
    for var in ["NEUROSIFT_STORE", "NEUROSIFT_STORE_TOKEN", "XDG_DATA_HOME"] {
        cmd.env_remove(var);
    }
    cmd.args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// numpy on the ecephys fixture; `spikes(u)` gives unit row u's times.
fn numpy(script: &str) -> Json {
    let file = fixtures().join("nwb_ecephys.nwb");
    let out = Command::new(python())
        .arg("-c")
        .arg(format!(
            "import json, h5py, numpy as np\nf = h5py.File({:?}, 'r')\n\
             st = f['/units/spike_times'][:]; ix = f['/units/spike_times_index'][:]\n\
             def spikes(u):\n    return st[(ix[u-1] if u else 0):ix[u]]\n{script}",
            file.to_str().unwrap()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn floats(j: &Json) -> Vec<f64> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0))
}

fn make(dir: &Path, name: &str, args: &[&str]) -> (Figure, Vec<u8>) {
    let out_path = dir.join(name);
    let file = fixtures().join("nwb_ecephys.nwb");
    let mut all = vec!["figure", "make", file.to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", out_path.to_str().unwrap()]);
    ok(&neurosift(&all));
    let bytes = std::fs::read(&out_path).unwrap();
    (Figure::from_json(&bytes).unwrap(), bytes)
}

#[test]
fn a_raster_figure_holds_the_spikes_numpy_finds() {
    let dir = tempfile::tempdir().unwrap();
    let (fig, bytes) = make(
        dir.path(),
        "raster.json",
        &[
            "--tab",
            "view:Raster|/units",
            "--time",
            "10,20",
            "--param",
            "units-sort=-id",
            "--param",
            "units-per-page=4",
        ],
    );
    let Figure::Frozen(f) = &fig else {
        panic!("a frozen view")
    };
    assert_eq!(fig.view_name(), "Raster");
    assert_eq!(f.provenance.object_paths, ["/units"]);
    assert!(f.provenance.source_url.ends_with("nwb_ecephys.nwb"));
    assert_eq!(
        f.state.params.get("tab-time").map(String::as_str),
        Some("10,20")
    );
    let raster = f
        .answers
        .iter()
        .find_map(|r| match &r.answer {
            Answer::Raster(r) => Some(r),
            _ => None,
        })
        .unwrap();
    // Units sorted by id descending, the first 4; the window ± a quarter.
    assert_eq!(raster.units, [9, 8, 7, 6]);
    let want = numpy(
        "w = [np.sort(spikes(u)[(spikes(u) >= 7.5) & (spikes(u) < 22.5)]) for u in [9, 8, 7, 6]]\n\
         print(json.dumps({'counts': [len(x) for x in w], 'times': np.concatenate(w).tolist()}))",
    );
    assert_eq!(
        raster.counts,
        want["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect::<Vec<_>>()
    );
    assert!(close(
        &raster.times.as_ref().unwrap().to_f64(),
        &floats(&want["times"])
    ));
    // The same figure again: the same bytes but for its creation time.
    let (again, _) = make(
        dir.path(),
        "raster2.json",
        &[
            "--tab",
            "view:Raster|/units",
            "--time",
            "10,20",
            "--param",
            "units-sort=-id",
            "--param",
            "units-per-page=4",
        ],
    );
    let Figure::Frozen(mut g) = again else {
        panic!("a frozen view")
    };
    g.provenance.created.clone_from(&f.provenance.created);
    assert_eq!(
        Figure::Frozen(g).to_canonical_json().unwrap(),
        bytes,
        "canonical JSON is stable"
    );
}

#[test]
fn a_psth_figure_holds_the_rates_numpy_computes() {
    let dir = tempfile::tempdir().unwrap();
    let (fig, _) = make(
        dir.path(),
        "psth.json",
        &[
            "--tab",
            "view:PSTH|/intervals/trials^/units",
            "--state",
            "units=1,3&alignTo=start_time,stop_time&numBins=20&windowStart=-0.5&windowEnd=1",
        ],
    );
    let Figure::Frozen(f) = &fig else {
        panic!("a frozen view")
    };
    assert_eq!(
        f.state.hash.as_deref().map(|h| h.contains("numBins=20")),
        Some(true)
    );
    let psths: Vec<_> = f
        .answers
        .iter()
        .filter_map(|r| match &r.answer {
            Answer::Psth(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(psths.len(), 2, "one per alignment column");
    for p in psths {
        let want = numpy(&format!(
            "al = f['/intervals/trials/{}'][:]\nbw = 1.5 / 20\nout = []\n\
             for u in [1, 3]:\n    s = spikes(u)\n    per = np.zeros((len(al), 20))\n\
             \x20   for k, t in enumerate(al):\n        rel = s[(s >= t - 0.5) & (s < t + 1.0)] - t\n\
             \x20       b = np.minimum(np.floor((rel + 0.5) / bw).astype(int), 19)\n        np.add.at(per[k], b, 1)\n\
             \x20   out += (per / bw).mean(0).tolist()\n\
             print(json.dumps({{'rates': out}}))",
            p.align_to
        ));
        assert!(
            close(&p.rates.to_f64(), &floats(&want["rates"])),
            "rates aligned to {}",
            p.align_to
        );
    }
}

#[test]
fn publish_stores_the_canonical_figure_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    // A TimeseriesGraph written by a script (numbers as plain lists).
    let graph = r#"{"type":"TimeseriesGraph","series":[{"type":"line","dataset":"d","encoding":{"t":"t","y":"y"},"title":"<b>sine</b>"}],"datasets":[{"name":"d","data":{"t":[0,0.5,1],"y":[0,1,0]}}]}"#;
    let path = dir.path().join("graph.json");
    std::fs::write(&path, graph).unwrap();
    let url = ok(&neurosift(&[
        "figure",
        "publish",
        path.to_str().unwrap(),
        "--store",
        store,
        "--label",
        "a sine",
        "--app-url",
        "https://viewer.example",
    ]));
    let url = url.trim();
    assert!(
        url.starts_with("https://viewer.example/f?v=TimeseriesGraph&d=sha1://"),
        "{url}"
    );
    assert!(url.ends_with("&label=a%20sine"), "{url}");
    let link = ns_links::FigureLink::parse_url(url).unwrap();
    let stored = ok(&neurosift(&["cat", &link.data, "--store", store]));
    let canonical = Figure::from_json(graph.as_bytes())
        .unwrap()
        .to_canonical_json()
        .unwrap();
    assert_eq!(stored.as_bytes(), canonical.as_slice());
    assert_eq!(
        link.data,
        format!("sha1://{}", ns_figures::sha1_of(&canonical).to_hex())
    );
    // Refused, with the reason: ragged columns; not a figure at all.
    let bad = graph.replace("[0,1,0]", "[0,1]");
    std::fs::write(&path, bad).unwrap();
    let out = neurosift(&[
        "figure",
        "publish",
        path.to_str().unwrap(),
        "--store",
        store,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 times and 2 values"), "{err}");
    std::fs::write(&path, "{\"type\":\"Nope\"}").unwrap();
    let out = neurosift(&[
        "figure",
        "publish",
        path.to_str().unwrap(),
        "--store",
        store,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not a figure"),
        "{err}"
    );
    // A view figure make cannot build says where to make it instead.
    let file = fixtures().join("nwb_ecephys.nwb");
    let out = neurosift(&[
        "figure",
        "make",
        file.to_str().unwrap(),
        "--tab",
        "view:SimpleTimeseries|/acquisition/ElectricalSeries",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("Share button"),
        "{err}"
    );
}

#[test]
fn the_readme_python_example_publishes_its_figure() {
    let readme =
        std::fs::read_to_string(ns_test_support::workspace_root().join("README.md")).unwrap();
    let section = &readme[readme.find("## Sharing figures").unwrap()..];
    let start = section.find("```python\n").unwrap() + "```python\n".len();
    let script = &section[start..start + section[start..].find("```").unwrap()];
    assert!(script.lines().count() <= 12, "a short example");
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_neurosift")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("NEUROSIFT_STORE", dir.path().join("store"))
        .env_remove("NEUROSIFT_STORE_TOKEN")
        .output()
        .unwrap();
    let url = ok(&out);
    let link = ns_links::FigureLink::parse_url(url.trim()).unwrap();
    assert_eq!(link.view, "TimeseriesGraph");
    let stored = ok(&neurosift(&[
        "cat",
        &link.data,
        "--store",
        dir.path().join("store").to_str().unwrap(),
    ]));
    let Figure::TimeseriesGraph(g) = Figure::from_json(stored.as_bytes()).unwrap() else {
        panic!("a TimeseriesGraph")
    };
    assert_eq!(g.datasets[0].data["t"].len(), 1000);
}
