//! Windows of any zoom level from the min/max pyramid, over series written
//! by pynwb at test time (`tests/pyramid/generate.py`: 2M samples × 70
//! int16 channels in gzip chunks that straddle channel groups, a 1-D float
//! series with NaNs and an infinity, a timestamped series with a NaN time,
//! an empty one). Every bucket of every answer is compared with numpy's
//! min/max over the same aligned buckets, in f32 and exactly.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use ns_protocol::{Answer, GetWindow, Reply, Window, WorkerError};
use ns_service::{Limits, ReadOptions, Service, open_store};
use ns_test_support::{python, workspace_root};
use serde_json::{Value as Json, json};

const BIG: &str = "/acquisition/big";
const NAN1D: &str = "/acquisition/nan1d";
const STAMPED: &str = "/acquisition/stamped";
const EMPTY: &str = "/acquisition/empty";
/// Samples of `BIG` (30 kHz from 2 s).
const BIG_SAMPLES: u64 = 2_000_000;

/// The fixture, written once per version of its generator.
fn fixture() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let root = workspace_root();
        let script = root.join("crates/ns-service/tests/pyramid/generate.py");
        let source = std::fs::read(&script).unwrap();
        let stamp_value = format!("{:x}", fnv(&source));
        let dir = root.join("target/pyramid-fixtures");
        let file = dir.join("pyramid.nwb");
        let stamp = dir.join(".stamp");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(stamp_value.as_str())
            && file.exists()
        {
            return file;
        }
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new(python())
            .arg(&script)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&stamp, stamp_value).unwrap();
        file
    })
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A service over the fixture; reads counted in `counters`, through a page
/// cache of `page_cache` bytes.
fn open(limits: Limits, counters: &Arc<ns_io::Counters>, page_cache: u64) -> Service {
    let mut options = ns_io_native::OpenOptions {
        counters: Arc::clone(counters),
        ..Default::default()
    };
    options.cache.capacity_bytes = page_cache;
    let source = ns_io_native::open(fixture().to_str().unwrap(), &options).unwrap();
    let store = open_store(source, |_: &str| unreachable!(), ReadOptions::default()).unwrap();
    Service::new(store, limits).unwrap()
}

fn service(limits: Limits) -> Service {
    open(limits, &Arc::default(), 64 << 20)
}

fn window(
    s: &Service,
    path: &str,
    secs: (f64, f64),
    channels: Option<(u64, u64)>,
    max_buckets: u32,
) -> Result<Window, WorkerError> {
    let request = GetWindow {
        path: path.into(),
        start_secs: secs.0,
        end_secs: secs.1,
        channels,
        max_buckets,
    };
    let answer: Answer = s.handle(request.into())?;
    Ok(Window::from_answer(answer).unwrap())
}

/// Asks until the window is no longer pending; returns it and the number of
/// requests it took. Progress must grow with every answer.
fn complete(
    s: &Service,
    path: &str,
    secs: (f64, f64),
    channels: Option<(u64, u64)>,
    max_buckets: u32,
) -> (Window, usize) {
    let mut last = -1.0;
    for asked in 1..10_000 {
        let w = window(s, path, secs, channels, max_buckets).unwrap();
        assert!(w.progress > last, "{} after {last}", w.progress);
        last = w.progress;
        if !w.pending {
            assert_eq!(w.progress, 1.0);
            return (w, asked);
        }
    }
    panic!("{path} never completed");
}

const NUMPY: &str = r#"
import json, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
# Exact bits (JSON decimal parsing need not round correctly); NaN as null.
def bits(a, dtype, view):
    a = np.ascontiguousarray(np.asarray(a, dtype=dtype).ravel())
    return [None if np.isnan(x) else int(b) for x, b in zip(a, a.view(view))]
def clean(a):
    return bits(a, 'f4', 'u4')
out = []
for w in json.loads(sys.stdin.read()):
    g = f[w['path']]; ds = g['data']
    conv = float(ds.attrs.get('conversion', 1.0)); off = float(ds.attrs.get('offset', 0.0))
    a0, a1, size, c0, c1 = w['a0'], w['a1'], w['size'], w['c0'], w['c1']
    mins, maxs = [], []
    step = size * max(1, 1_000_000 // size)
    for s in range(a0, a1, step):
        e = min(s + step, a1)
        d = ds[s:e] if ds.ndim == 1 else ds[s:e, c0:c1]
        d = d.astype('f8') * conv + off
        if d.ndim == 1:
            d = d[:, None]
        idx = np.arange(0, e - s, size)
        mins.append(np.fmin.reduceat(d, idx, axis=0).astype('f4'))
        maxs.append(np.fmax.reduceat(d, idx, axis=0).astype('f4'))
    if 'timestamps' in g:
        t = g['timestamps'][a0:a1:size] if a1 > a0 else []
    else:
        st = g['starting_time']; rate = float(st.attrs['rate']); t0 = float(st[()])
        t = [t0 + i / rate for i in range(a0, a1, size)]
    out.append({'min': clean(np.concatenate(mins)) if mins else [],
                'max': clean(np.concatenate(maxs)) if maxs else [], 't': bits(t, 'f8', 'u8')})
print(json.dumps(out))
"#;

/// What numpy computes for the buckets each window says it has.
fn numpy(windows: &[&Window]) -> Vec<Json> {
    let specs: Vec<Json> = windows
        .iter()
        .map(|w| {
            json!({"path": w.path, "a0": w.sample_start, "a1": w.sample_end,
                   "size": w.samples_per_bucket, "c0": w.channel_start,
                   "c1": w.channel_start + w.channels})
        })
        .collect();
    let mut child = Command::new(python())
        .arg("-c")
        .arg(NUMPY)
        .arg(fixture())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Json::Array(specs).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Json>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Numbers sent as their bits (f32 or f64), NaN as null.
fn floats(j: &Json, f32_bits: bool) -> Vec<f64> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|v| match v.as_u64() {
            Some(b) if f32_bits => f64::from(f32::from_bits(u32::try_from(b).unwrap())),
            Some(b) => f64::from_bits(b),
            None => f64::NAN,
        })
        .collect()
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

/// Every bucket equals numpy's, exactly (f32 min/max, f64 times).
fn assert_numpy(windows: &[&Window]) {
    for (w, want) in windows.iter().zip(numpy(windows)) {
        let what = format!(
            "{} samples {}..{} by {}, channels {}+{}",
            w.path, w.sample_start, w.sample_end, w.samples_per_bucket, w.channel_start, w.channels
        );
        assert!(!w.pending, "{what}: pending");
        assert!(
            same(&w.min.to_f64(), &floats(&want["min"], true)),
            "{what}: min"
        );
        assert!(
            same(&w.max.to_f64(), &floats(&want["max"], true)),
            "{what}: max"
        );
        let (have, want) = (w.times.to_f64(), floats(&want["t"], false));
        let first = have
            .iter()
            .zip(&want)
            .position(|(x, y)| !same(&[*x], &[*y]));
        assert!(
            same(&have, &want),
            "{what}: times: {} vs {}, first difference at {first:?}: {:?}",
            have.len(),
            want.len(),
            first.map(|i| (have[i], want[i]))
        );
    }
}

/// Buckets are aligned to multiples of their size and no more than asked.
fn assert_aligned(w: &Window, max_buckets: u32) {
    if (w.sample_end - w.sample_start) * w.channels <= small_limits().exact_window_values {
        // Read raw: buckets from the window's first sample.
        return;
    }
    assert!(
        w.buckets() <= max_buckets as usize,
        "{} buckets",
        w.buckets()
    );
    assert_eq!(w.sample_start % w.samples_per_bucket, 0);
    assert_eq!(
        w.buckets() as u64,
        (w.sample_end - w.sample_start).div_ceil(w.samples_per_bucket)
    );
}

fn small_limits() -> Limits {
    Limits {
        exact_window_values: 100_000,
        window_block_values: 1 << 20,
        window_read_values: u64::MAX,
        ..Limits::default()
    }
}

/// Windows at many zoom levels (levels 0 to 5 of the pyramid, buckets of
/// k × level buckets), channel ranges across groups, windows past the ends,
/// one bucket: all equal to numpy; panning keeps bucket boundaries.
#[test]
fn every_zoom_level_equals_numpy() {
    let s = service(small_limits());
    let mut windows = Vec::new();
    let asks = [
        ((0.0, 100.0), None, 1000),
        ((-50.0, 1e9), Some((0, 3)), 3),
        ((2.0, 70.0), Some((63, 66)), 1),
        ((12.0, 22.0), Some((60, 70)), 777),
        ((12.5, 22.5), Some((60, 70)), 777),
        ((30.0, 31.0), Some((10, 70)), 1500),
        ((40.0, 40.4), Some((64, 70)), 700),
        ((60.0, 69.0), Some((0, 70)), 10_000),
    ];
    for (secs, channels, max_buckets) in asks {
        let w = window(&s, BIG, secs, channels, max_buckets).unwrap();
        assert_aligned(&w, max_buckets);
        windows.push(w);
    }
    let sizes: Vec<u64> = windows.iter().map(|w| w.samples_per_bucket).collect();
    assert_eq!(
        sizes,
        [2048, 786_432, 2_097_152, 448, 448, 32, 18, 32],
        "k × 16·4^j samples (18: read raw)"
    );
    assert_eq!(windows[1].sample_end, BIG_SAMPLES, "clipped to the series");
    // Panning by 0.5 s: the buckets both windows have are the same ones.
    let (a, b) = (&windows[3], &windows[4]);
    let shift = usize::try_from((b.sample_start - a.sample_start) / a.samples_per_bucket).unwrap();
    let width = usize::try_from(a.channels).unwrap();
    assert_eq!(
        a.min.to_f64()[shift * width..],
        b.min.to_f64()[..a.buckets() * width - shift * width]
    );
    assert_numpy(&windows.iter().collect::<Vec<_>>());
    // The same windows again come from the cache alone.
    let again = window(&s, BIG, (0.0, 100.0), None, 1000).unwrap();
    assert_eq!(again, windows[0]);
}

/// A small read budget: the whole recording comes in parts, pending with
/// growing progress, computed buckets already final; then equal to numpy.
#[test]
fn pending_windows_continue_until_complete() {
    let limits = Limits {
        window_read_values: 8 << 20,
        ..small_limits()
    };
    let s = service(limits);
    let first = window(&s, BIG, (0.0, 30.0), Some((5, 70)), 2000).unwrap();
    assert!(first.pending && first.progress > 0.0 && first.progress < 1.0);
    let partial = first.min.to_f64();
    assert!(partial.iter().any(|v| v.is_nan()) && partial.iter().any(|v| !v.is_nan()));
    let (w, asked) = complete(&s, BIG, (0.0, 30.0), Some((5, 70)), 2000);
    // 840k × 70 values (whole groups are read), 8M at a time.
    assert!((7..=9).contains(&asked), "{asked} requests");
    for (p, v) in partial.iter().zip(w.min.to_f64()) {
        assert!(p.is_nan() || *p == v);
    }
    assert_eq!(
        first.times, w.times,
        "a rate's times are known while pending"
    );
    assert_numpy(&[&w]);
}

/// Panning and zooming for a while with a small cache: it never holds more
/// than its budget, and answers stay exact after evictions.
#[test]
fn the_cache_stays_within_its_budget() {
    let budget = 4 << 20;
    let limits = Limits {
        window_cache_bytes: budget,
        window_read_values: 16 << 20,
        ..small_limits()
    };
    let s = service(limits);
    let mut peak = 0;
    let mut check = Vec::new();
    for i in 0..40 {
        let t0 = 2.0 + f64::from(i) * 1.6;
        let (w, _) = complete(&s, BIG, (t0, t0 + 3.0), None, 1200);
        peak = peak.max(s.window_cache().0);
        assert!(s.window_cache().0 <= budget, "{:?}", s.window_cache());
        if i % 13 == 0 {
            check.push(w);
        }
    }
    for buckets in [300, 2000] {
        let (w, _) = complete(&s, BIG, (0.0, 40.0), Some((30, 40)), buckets);
        assert!(s.window_cache().0 <= budget);
        check.push(w);
    }
    assert!(peak > budget / 2, "the cache was used: {peak}");
    assert_numpy(&check.iter().collect::<Vec<_>>());
}

/// The whole recording zoomed out reads each stored byte about once (no
/// chunk decoded twice), then other zoom levels read nothing.
#[test]
fn a_whole_recording_view_reads_the_data_once() {
    let counters: Arc<ns_io::Counters> = Arc::default();
    // A page cache smaller than the file (170 MB), so that chunks decoded
    // twice would be fetched twice. (With 8 MiB the reader alone fetches
    // about twice the stored bytes in any sequential pass: an ns-io/ns-hdf5
    // matter; with 32 MiB a plain pass reads 1.1 × the stored bytes.)
    let s = open(Limits::default(), &counters, 32 << 20);
    let stored = numpy_storage_size(BIG);
    let before = counters.stats().bytes;
    let started = Instant::now();
    let (w, asked) = complete(&s, BIG, (0.0, 100.0), None, 2000);
    let elapsed = started.elapsed();
    let read = counters.stats().bytes - before;
    eprintln!(
        "whole view of {BIG_SAMPLES} × 70 int16: {asked} requests, {elapsed:?}, {read} bytes read \
         ({stored} stored), cache {:?}",
        s.window_cache()
    );
    #[expect(clippy::cast_precision_loss, reason = "a ratio")]
    let ratio = read as f64 / stored as f64;
    assert!(
        (0.99..1.1).contains(&ratio),
        "read {ratio} × the stored bytes"
    );
    let before = counters.stats().bytes;
    for buckets in [500, 3000, 7] {
        let other = window(&s, BIG, (0.0, 100.0), None, buckets).unwrap();
        assert!(!other.pending);
    }
    assert_eq!(
        counters.stats().bytes,
        before,
        "coarser views come from the cache"
    );
    assert_numpy(&[&w]);
}

fn numpy_storage_size(path: &str) -> u64 {
    let out = Command::new(python())
        .arg("-c")
        .arg(format!(
            "import h5py, sys\nprint(h5py.File(sys.argv[1], 'r')['{path}/data'].id.get_storage_size())"
        ))
        .arg(fixture())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// 1-D data with NaNs (all-NaN buckets stay NaN) and an infinity, stored
/// timestamps (one NaN: its bucket's time is NaN), an empty series and
/// windows past the ends.
#[test]
fn nans_timestamps_and_empty_series() {
    let s = service(small_limits());
    let mut windows = Vec::new();
    for (path, secs, buckets) in [
        (NAN1D, (-1e300, 1e300), 1000),
        (NAN1D, (900.0, 1200.0), 500),
        (NAN1D, (2000.0, 2500.0), 3000),
        (STAMPED, (-1e300, 1e300), 900),
        (STAMPED, (60.0, 200.0), 1000),
    ] {
        let w = window(&s, path, secs, None, buckets).unwrap();
        assert_aligned(&w, buckets);
        windows.push(w);
    }
    // 1000..1050 s is NaN: whole buckets of level 3 (1024 samples).
    let w = &windows[1];
    assert_eq!(w.samples_per_bucket, 640);
    assert!(w.min.to_f64().iter().filter(|v| v.is_nan()).count() > 70);
    assert!(windows[0].max.to_f64().contains(&f64::INFINITY));
    assert_eq!(windows[3].samples_per_bucket, 576);
    assert!(windows[3].times.to_f64().iter().any(|t| t.is_nan()));
    assert_numpy(&windows.iter().collect::<Vec<_>>());
    // Nothing to draw: an empty series, windows before or after the data.
    for (path, secs) in [
        (EMPTY, (-1e300, 1e300)),
        (BIG, (1e6, 2e6)),
        (BIG, (-10.0, 1.0)),
        (STAMPED, (1e6, 2e6)),
    ] {
        let w = window(&s, path, secs, None, 100).unwrap();
        assert_eq!((w.buckets(), w.pending), (0, false), "{path} {secs:?}");
    }
}
