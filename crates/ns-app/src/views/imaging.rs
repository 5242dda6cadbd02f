//! The imaging-series view (ImageSeries, TwoPhotonSeries, OnePhotonSeries):
//! the frame at the tab's current time (a timeseries in the same tab moves
//! it, and stepping or playing moves the tab's cursor), previous/next, a
//! frame slider, play at a chosen speed with frames fetched ahead in
//! batches over the worker pool, the plane of a volume, the display range
//! (by default the percentiles of the first frame), the orientation (in
//! the URL), and mean/max projections of a frame range computed in parts
//! by the workers, with progress, cancellable.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures_channel::oneshot;
use leptos::prelude::*;
use ns_protocol::{
    FrameAt, GetFrame, GetImageInfo, GetProjection, ImageInfo, Orientation, Projection, WorkerError,
};

use super::image::{
    ImageCanvas, ImageHead, MAX_SIZE, OrientationControls, PixelEvent, PixelHandler, Pixels,
    RangeControls, Render, default_range, orientation_signal, paint,
};
use super::{TimeContext, ViewDef, ViewProps};
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "TwoPhotonSeries",
    title: "Imaging series",
    aliases: &["ImageSeries", "OnePhotonSeries"],
    types: &["ImageSeries"],
    render: Some(|p| view! { <ImagingView props=p/> }.into_any()),
};

/// Speeds offered, in frames per second.
const SPEEDS: [f64; 8] = [1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0];
/// Bytes one prefetch request asks for at most.
const BATCH_BYTES: u64 = 2 * 1024 * 1024;
/// Bytes of decoded frames kept at most (f32 pixels).
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Values one projection part covers at most.
const PART_VALUES: u64 = 4 * 1024 * 1024;

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[component]
fn ImagingView(props: ViewProps) -> impl IntoView {
    let path = props.path.clone();
    let time = props.time;
    let started = now();
    let info = crate::reactive::resource(move || {
        let path = path.clone();
        async move { client::request(GetImageInfo { path }).await }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the series…"</p> }>
            {move || info.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(info) => view! { <Series info=info time=time started=started/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Series(info: ImageInfo, time: TimeContext, started: f64) -> impl IntoView {
    let head = view! { <ImageHead info=info.clone()/> };
    if !info.external_files.is_empty() {
        let files = info.external_files.join(", ");
        return view! {
            {head}
            <div class="not-yet" data-testid="external-file">
                <strong>"The frames of this series are in another file: " {files}</strong>
                <p>"This file holds their times and description only; open the movie file itself to see the frames."</p>
            </div>
        }
        .into_any();
    }
    if info.num_frames == 0 || info.rows == 0 || info.cols == 0 {
        return view! { {head} <p class="empty" data-testid="no-frames">"This series holds no frames."</p> }
            .into_any();
    }
    if info.end_secs > info.start_secs {
        time.add_extent(
            info.start_secs,
            info.end_secs,
            (info.start_secs, info.end_secs),
        );
    }
    let orient = orientation_signal();
    let plane = RwSignal::new(0u64);
    view! {
        {head}
        <Player info=Arc::new(info.clone()) time=time orient=orient plane=plane started=started/>
        <ProjectionPanel info=Arc::new(info) orient=orient plane=plane/>
    }
    .into_any()
}

/// A frame as drawn, and its time.
struct Shown {
    index: u64,
    pixels: Arc<Pixels>,
    time: f64,
}

/// Frames fetched for one plane and orientation.
#[derive(Default)]
struct Cache {
    key: Option<(u64, Orientation)>,
    frames: HashMap<u64, Arc<Shown>>,
    in_flight: HashSet<u64>,
    requests: usize,
}

/// Who moved the frame last: a person (the tab's cursor follows) or the
/// cursor (nothing more to do).
#[derive(Clone, Copy, PartialEq)]
enum Origin {
    User,
    Time,
}

#[component]
fn Player(
    info: Arc<ImageInfo>,
    time: TimeContext,
    orient: RwSignal<Orientation>,
    plane: RwSignal<u64>,
    started: f64,
) -> impl IntoView {
    let n = info.num_frames;
    let path = info.path.clone();
    let index = RwSignal::new(0u64);
    let shown = RwSignal::new(None::<Arc<Shown>>);
    let range = RwSignal::new(None::<(f64, f64)>);
    let error = RwSignal::new(None::<WorkerError>);
    let playing = RwSignal::new(false);
    let rate = info.rate.unwrap_or_else(|| {
        #[expect(clippy::cast_precision_loss, reason = "frame counts")]
        let r = n as f64 / (info.end_secs - info.start_secs).max(1e-9);
        r
    });
    let fps = RwSignal::new(
        SPEEDS
            .iter()
            .copied()
            .rfind(|s| *s <= rate.min(30.0))
            .unwrap_or(1.0),
    );
    let measured = RwSignal::new(None::<f64>);
    let first_ms = RwSignal::new(None::<f64>);
    let cache = StoredValue::new_local(Cache::default());
    let origin = StoredValue::new(Origin::Time);
    let last_time = StoredValue::new(None::<f64>);
    let hover = RwSignal::new(None::<String>);
    // Bytes per frame, for the batch size of prefetches.
    let bytes_per_frame = {
        let size = match info.dtype.as_str() {
            "int8" | "uint8" => 1,
            "int16" | "uint16" => 2,
            "int64" | "uint64" | "float64" => 8,
            _ => 4,
        };
        (info.rows * info.cols * info.channels * size).max(1)
    };
    let batch = u32::try_from((BATCH_BYTES / bytes_per_frame).clamp(1, 16)).unwrap_or(1);
    // Frames kept decoded: as many as fit in CACHE_BYTES (as shown, at
    // most MAX_SIZE a side), 8 to 160.
    let shown_side = |n: u64| n.min(u64::from(MAX_SIZE));
    let decoded_bytes = (shown_side(info.rows) * shown_side(info.cols) * info.channels * 4).max(1);
    let keep = usize::try_from((CACHE_BYTES / decoded_bytes).clamp(8, 160)).unwrap_or(8);

    // Shows the frame of `index` if it is cached; the tab's cursor follows
    // when a person moved it.
    let show = move || {
        let Some(i) = index.try_get_untracked() else {
            return;
        };
        let hit = cache.with_value(|c| c.frames.get(&i).cloned());
        if let Some(s) = hit {
            if first_ms.get_untracked().is_none() {
                first_ms.set(Some(now() - started));
            }
            let t = s.time;
            shown.set(Some(s));
            if origin.get_value() == Origin::User && t.is_finite() {
                last_time.set_value(Some(t));
                time.current.set(Some(t));
                if let Some((a, b)) = time.window.get_untracked()
                    && !(a..=b).contains(&t)
                {
                    let w = b - a;
                    time.set_window(t - w * 0.1, t + w * 0.9);
                }
            }
        }
    };
    let path_f = StoredValue::new(path.clone());
    // Asks for `count` frames from `start` (those not cached or asked for).
    let fetch = move |at: FrameAt, count: u32| {
        let key = (plane.get_untracked(), orient.get_untracked());
        if let FrameAt::Index(start) = at {
            let wanted: Vec<u64> = (start..(start + u64::from(count)).min(n)).collect();
            let fresh = cache.with_value(|c| {
                wanted
                    .iter()
                    .all(|i| !c.frames.contains_key(i) && !c.in_flight.contains(i))
            });
            if wanted.is_empty() || !fresh {
                return;
            }
            cache.update_value(|c| {
                c.in_flight.extend(wanted.iter().copied());
                c.requests += 1;
            });
        } else {
            cache.update_value(|c| c.requests += 1);
        }
        let path = path_f.get_value();
        leptos::task::spawn_local(async move {
            let reply = client::request(GetFrame {
                path,
                at,
                count,
                plane: key.0,
                orientation: key.1,
                max_size: MAX_SIZE,
            })
            .await;
            if cache.try_update_value(|c| c.requests -= 1).is_none() {
                return;
            }
            match reply {
                Ok(f) => {
                    if range.try_get_untracked().flatten().is_none() {
                        range.set(default_range(&f));
                    }
                    let times = f.times.to_f64();
                    let frames = Pixels::frames(&f);
                    let current = index.try_get_untracked().unwrap_or(0);
                    cache.update_value(|c| {
                        for k in 0..u64::from(f.count) {
                            c.in_flight.remove(&(f.index + k));
                        }
                        if c.key != Some(key) {
                            return;
                        }
                        for (k, pixels) in frames.into_iter().enumerate() {
                            let i = f.index + k as u64;
                            c.frames.insert(
                                i,
                                Arc::new(Shown {
                                    index: i,
                                    pixels,
                                    time: times.get(k).copied().unwrap_or(f64::NAN),
                                }),
                            );
                        }
                        // Keep the frames near the current one.
                        if c.frames.len() > keep {
                            let mut keys: Vec<u64> = c.frames.keys().copied().collect();
                            ns_sort::sort_by_key(&mut keys, |k| {
                                if *k >= current {
                                    k - current
                                } else {
                                    (current - k) * 4
                                }
                            });
                            for k in keys.into_iter().skip(keep) {
                                c.frames.remove(&k);
                            }
                        }
                    });
                    if matches!(at, FrameAt::Time(_)) {
                        origin.set_value(Origin::Time);
                        index.set(f.index);
                    }
                    show();
                }
                Err(e) => {
                    if let FrameAt::Index(start) = at {
                        cache.update_value(|c| {
                            for k in start..start + u64::from(count) {
                                c.in_flight.remove(&k);
                            }
                        });
                    }
                    playing.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    // A new plane or orientation: a new cache.
    crate::reactive::effect(move || {
        let key = (plane.get(), orient.get());
        cache.update_value(|c| {
            if c.key != Some(key) {
                c.key = Some(key);
                c.frames.clear();
                c.in_flight.clear();
            }
        });
        fetch(FrameAt::Index(index.get_untracked()), 1);
        show();
    });
    // Fetches ahead of `from`, in batches, a few requests at a time.
    let prefetch = move |from: u64, ahead: u64| {
        let mut i = from;
        while i < (from + ahead).min(n) {
            let busy = cache.with_value(|c| c.requests);
            if busy >= client::POOL_SIZE * 2 {
                break;
            }
            let missing =
                cache.with_value(|c| !c.frames.contains_key(&i) && !c.in_flight.contains(&i));
            if missing {
                let len = cache.with_value(|c| {
                    (i..(i + u64::from(batch)).min(n))
                        .take_while(|k| !c.frames.contains_key(k) && !c.in_flight.contains(k))
                        .count()
                });
                let len = u32::try_from(len).unwrap_or(1).max(1);
                fetch(FrameAt::Index(i), len);
                i += u64::from(len);
            } else {
                i += 1;
            }
        }
    };
    // The frame of the index.
    crate::reactive::effect(move || {
        let i = index.get();
        error.set(None);
        if cache.with_value(|c| c.frames.contains_key(&i)) {
            show();
        } else if !playing.get_untracked() {
            fetch(FrameAt::Index(i), 1);
        }
        // The next frames, so that stepping and playing start at once.
        if !playing.get_untracked() {
            prefetch(i + 1, u64::from(batch));
        }
    });
    // The frame at the tab's current time.
    crate::reactive::effect(move || {
        let Some(t) = time.current.get() else {
            return;
        };
        if playing.get_untracked() || last_time.get_value() == Some(t) {
            return;
        }
        last_time.set_value(Some(t));
        fetch(FrameAt::Time(t), 1);
    });
    // Playing: one frame per tick when it is there; the speed actually
    // reached is measured over the last second.
    let ticks = StoredValue::new_local(Vec::<f64>::new());
    let timer = StoredValue::new_local(None::<IntervalHandle>);
    crate::reactive::effect(move || {
        let on = playing.get();
        let speed = fps.get();
        if let Some(h) = timer.get_value() {
            h.clear();
        }
        timer.set_value(None);
        if !on {
            return;
        }
        ticks.set_value(Vec::new());
        if index.get_untracked() + 1 >= n {
            origin.set_value(Origin::User);
            index.set(0);
        }
        let tick = move || {
            let Some(i) = index.try_get_untracked() else {
                return;
            };
            let next = i + 1;
            if next >= n {
                playing.set(false);
                return;
            }
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a small positive count"
            )]
            let ahead = ((speed * 1.5).ceil() as u64)
                .clamp(4, 90)
                .min(keep as u64 / 2);
            prefetch(next, ahead);
            if cache.with_value(|c| c.frames.contains_key(&next)) {
                origin.set_value(Origin::User);
                index.set(next);
                let t = now();
                ticks.update_value(|v| {
                    v.push(t);
                    v.retain(|x| t - x <= 1000.0);
                });
                let count = ticks.with_value(Vec::len);
                #[expect(clippy::cast_precision_loss, reason = "a small count")]
                let reached = count as f64;
                measured.set(Some(reached));
            }
        };
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a small positive duration"
        )]
        let ms = (1000.0 / speed.max(0.1)).round() as u64;
        if let Ok(h) = set_interval_with_handle(tick, Duration::from_millis(ms.max(1))) {
            timer.set_value(Some(h));
        }
    });
    on_cleanup(move || {
        if let Some(Some(h)) = timer.try_get_value() {
            h.clear();
        }
    });

    let step_by = move |d: i64| {
        playing.set(false);
        origin.set_value(Origin::User);
        index.update(|i| *i = i.saturating_add_signed(d).min(n - 1));
    };
    let pixels_of = move || shown.get().map(|s| Arc::clone(&s.pixels));
    let size = Signal::derive(move || shown.get().map(|s| (s.pixels.width, s.pixels.height)));
    let render: Render = Rc::new(move |buf: &mut Vec<u8>| {
        if let (Some(p), Some(r)) = (pixels_of(), range.get()) {
            paint(&p, r, buf);
        }
    });
    let on_hover: PixelHandler = Rc::new(move |e: Option<PixelEvent>| {
        let text = e.and_then(|e| {
            shown
                .get_untracked()
                .and_then(|s| s.pixels.describe(e.x, e.y))
        });
        hover.set(text);
    });
    let auto = Signal::derive(move || shown.get().and_then(|s| s.pixels.auto_range()));
    let full = Signal::derive(move || shown.get().and_then(|s| s.pixels.full_range()));
    let planes = info.planes;
    let last = n - 1;
    view! {
        <div class="toolbar player" data-testid="player">
            <button title="Previous frame" data-testid="prev-frame" on:click=move |_| step_by(-1)>"◀"</button>
            <button data-testid="play" title="Play / pause" on:click=move |_| playing.update(|p| *p = !*p)>
                {move || if playing.get() { "❚❚ pause" } else { "▶ play" }}</button>
            <button title="Next frame" data-testid="next-frame" on:click=move |_| step_by(1)>"▶"</button>
            <input type="range" class="frame-slider" data-testid="frame-slider" min="0" max=last.to_string()
                prop:value=move || index.get().to_string()
                on:input={move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<u64>() {
                        playing.set(false);
                        origin.set_value(Origin::User);
                        index.set(v.min(last));
                    }
                }}/>
            <span class="count" data-testid="frame-text">{move || {
                let i = index.get();
                let t = shown.get().filter(|s| s.index == i).map(|s| s.time);
                format!("frame {} of {n}{}", i + 1, t.filter(|t| t.is_finite()).map(|t| format!(" · {t:.3} s")).unwrap_or_default())
            }}</span>
            <select title="Speed" data-testid="speed" on:change=move |ev| {
                if let Ok(v) = event_target_value(&ev).parse::<f64>() { fps.set(v); }
            }>
                {SPEEDS.iter().map(|s| {
                    let s = *s;
                    view! { <option value=s.to_string() selected=move || (fps.get() - s).abs() < 1e-9>{format!("{s} fps")}</option> }
                }).collect_view()}
            </select>
            {(planes > 1).then(|| view! {
                <label>"plane "
                    <select data-testid="plane" on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<u64>() { plane.set(v); }
                    }>
                        {(0..planes).map(|p| view! { <option value=p.to_string() selected=move || plane.get() == p>{format!("{} of {planes}", p + 1)}</option> }).collect_view()}
                    </select>
                </label>
            })}
        </div>
        <div class="toolbar">
            <OrientationControls orient=orient/>
            <RangeControls range=range auto=auto full=full/>
        </div>
        {move || error.get().map(|e| view! { <ErrorPanel error=e/> })}
        <div class="image-frame" data-testid="frame-box"
            data-frame=move || shown.get().map(|s| s.index.to_string()).unwrap_or_default()
            data-first-frame-ms=move || first_ms.get().map(|t| format!("{t:.0}")).unwrap_or_default()
            data-fps=move || measured.get().map(|f| format!("{f:.1}")).unwrap_or_default()>
            <ImageCanvas size=size render=render on_hover=on_hover test_id="frame-canvas"/>
        </div>
        <p class="pixel-readout" data-testid="pixel-readout">
            {move || hover.get().unwrap_or_default()}
            {move || {
                let step = shown.get().map_or(1, |s| s.pixels.step);
                (step > 1).then(|| format!(" · shown at 1/{step} (mean of {step} × {step} pixels)"))
            }}
            {move || (playing.get()).then(|| measured.get().map(|m| format!(" · playing at {m:.0} fps ({} asked)", fps.get())))}
        </p>
    }
}

/// A projection in progress: stop it with [`Job::cancel`].
#[derive(Clone, Default)]
pub struct Job {
    cancelled: Rc<Cell<bool>>,
}

impl Job {
    pub fn cancel(&self) {
        self.cancelled.set(true);
    }
}

/// The mean and maximum of frames `a..b`, asked for in parts of at most
/// [`PART_VALUES`] values, several workers at once; `progress` is told
/// the fraction done after each part. `Ok(None)` when cancelled.
pub async fn project(
    info: &ImageInfo,
    (a, b): (u64, u64),
    plane: u64,
    orientation: Orientation,
    progress: Rc<dyn Fn(f64)>,
    job: Job,
) -> Result<Option<Projection>, WorkerError> {
    let per = (info.rows * info.cols * info.channels).max(1);
    let part = (PART_VALUES / per).clamp(1, 512);
    let next = Rc::new(Cell::new(a));
    let done = Rc::new(Cell::new(0u64));
    let total = b.saturating_sub(a).max(1);
    let mut receivers = Vec::new();
    for _ in 0..client::POOL_SIZE {
        let (tx, rx) = oneshot::channel::<Result<Option<Projection>, WorkerError>>();
        let (next, done, job) = (Rc::clone(&next), Rc::clone(&done), job.clone());
        let progress = Rc::clone(&progress);
        let path = info.path.clone();
        leptos::task::spawn_local(async move {
            let mut acc: Option<Projection> = None;
            loop {
                let s = next.get();
                if job.cancelled.get() || s >= b {
                    break;
                }
                let e = (s + part).min(b);
                next.set(e);
                let reply = client::request(GetProjection {
                    path: path.clone(),
                    frames: (s, e),
                    plane,
                    orientation,
                    max_size: MAX_SIZE,
                })
                .await;
                match reply {
                    Ok(p) => {
                        done.set(done.get() + (e - s));
                        #[expect(clippy::cast_precision_loss, reason = "frame counts")]
                        let f = done.get() as f64 / total as f64;
                        progress(f);
                        match &mut acc {
                            Some(acc) => {
                                if let Err(m) = acc.merge(&p) {
                                    let _ = tx.send(Err(WorkerError::new(
                                        ns_protocol::ErrorKind::Protocol,
                                        m,
                                    )));
                                    return;
                                }
                            }
                            None => acc = Some(p),
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
            let _ = tx.send(Ok(acc));
        });
        receivers.push(rx);
    }
    let mut all: Option<Projection> = None;
    for rx in receivers {
        match rx.await {
            Ok(Ok(Some(p))) => match &mut all {
                Some(all) => all
                    .merge(&p)
                    .map_err(|m| WorkerError::new(ns_protocol::ErrorKind::Protocol, m))?,
                None => all = Some(p),
            },
            Ok(Err(e)) => {
                job.cancel();
                return Err(e);
            }
            _ => {}
        }
    }
    if job.cancelled.get() {
        return Ok(None);
    }
    Ok(all)
}

/// Mean/max projection of a chosen frame range.
#[component]
fn ProjectionPanel(
    info: Arc<ImageInfo>,
    orient: RwSignal<Orientation>,
    plane: RwSignal<u64>,
) -> impl IntoView {
    let n = info.num_frames;
    let first = RwSignal::new(0u64);
    let last = RwSignal::new(n.min(1000));
    let which_max = RwSignal::new(false);
    let progress = RwSignal::new(None::<f64>);
    let result = RwSignal::new(None::<Arc<(Projection, Orientation, u64)>>);
    let error = RwSignal::new(None::<WorkerError>);
    let job = StoredValue::new_local(None::<Job>);
    let took = RwSignal::new(None::<f64>);
    let range = RwSignal::new(None::<(f64, f64)>);
    let hover = RwSignal::new(None::<String>);
    // A result for another plane or orientation is not shown.
    crate::reactive::effect(move || {
        let key = (plane.get(), orient.get());
        if result.get_untracked().is_some_and(|r| (r.2, r.1) != key) {
            result.set(None);
        }
    });
    let info_c = Arc::clone(&info);
    let start = move |_| {
        if let Some(j) = job.get_value() {
            j.cancel();
        }
        let j = Job::default();
        job.set_value(Some(j.clone()));
        let (a, b) = (first.get_untracked(), last.get_untracked().min(n));
        let (p, o) = (plane.get_untracked(), orient.get_untracked());
        let info = Arc::clone(&info_c);
        progress.set(Some(0.0));
        error.set(None);
        let t0 = now();
        leptos::task::spawn_local(async move {
            let report = Rc::new(move |f: f64| {
                let _ = progress.try_set(Some(f));
            });
            let r = project(&info, (a, b), p, o, report, j).await;
            let _ = progress.try_set(None);
            match r {
                Ok(Some(proj)) => {
                    let _ = took.try_set(Some(now() - t0));
                    let _ = range.try_set(None);
                    let _ = result.try_set(Some(Arc::new((proj, o, p))));
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    let cancel = move |_| {
        if let Some(j) = job.get_value() {
            j.cancel();
        }
        progress.set(None);
    };
    let pixels = Memo::new(move |_| {
        result
            .get()
            .map(|r| Arc::new(Pixels::projection(&r.0, which_max.get(), r.1)))
    });
    crate::reactive::effect(move || {
        if let Some(p) = pixels.get()
            && range.get_untracked().is_none()
        {
            range.set(p.auto_range());
        }
    });
    let size = Signal::derive(move || pixels.get().map(|p| (p.width, p.height)));
    let render: Render = Rc::new(move |buf: &mut Vec<u8>| {
        if let (Some(p), Some(r)) = (pixels.get(), range.get()) {
            paint(&p, r, buf);
        }
    });
    let on_hover: PixelHandler = Rc::new(move |e: Option<PixelEvent>| {
        hover.set(e.and_then(|e| pixels.get_untracked().and_then(|p| p.describe(e.x, e.y))));
    });
    let number = move |sig: RwSignal<u64>| {
        move |ev: leptos::ev::Event| {
            if let Ok(v) = event_target_value(&ev).trim().parse::<u64>() {
                sig.set(v.min(n));
            }
        }
    };
    view! {
        <details class="projection" data-testid="projection">
            <summary>"Mean / max projection"</summary>
            <div class="toolbar">
                <label>"frames " <input type="text" size="6" data-testid="projection-start" prop:value=move || first.get().to_string() on:change=number(first)/></label>
                <label>" to " <input type="text" size="6" data-testid="projection-end" prop:value=move || last.get().to_string() on:change=number(last)/></label>
                <button data-testid="projection-run" on:click=start>"compute"</button>
                {move || progress.get().map(|p| view! {
                    <span class="progress" data-testid="projection-progress">
                        <progress max="1" value=p.to_string()></progress>
                        {format!(" {:.0}%", p * 100.0)}
                        <button data-testid="projection-cancel" on:click=cancel>"cancel"</button>
                    </span>
                })}
                <label><input type="radio" name="projection-kind" prop:checked=move || !which_max.get() on:change=move |_| which_max.set(false)/>"mean"</label>
                <label><input type="radio" name="projection-kind" data-testid="projection-max" prop:checked=move || which_max.get() on:change=move |_| which_max.set(true)/>"max"</label>
            </div>
            {move || error.get().map(|e| view! { <ErrorPanel error=e/> })}
            {move || result.get().map(|r| {
                let (a, b) = r.0.frames;
                view! { <p class="view-head" data-testid="projection-done">{format!("{} of frames {a}–{} ({} frames) in {:.1} s",
                    if which_max.get() { "maximum" } else { "mean" }, b.saturating_sub(1), b - a, took.get().unwrap_or(0.0) / 1000.0)}</p> }
            })}
            <div style=move || if result.get().is_some() { "" } else { "display: none" }>
                <div class="toolbar"><RangeControls range=range
                    auto=Signal::derive(move || pixels.get().and_then(|p| p.auto_range()))
                    full=Signal::derive(move || pixels.get().and_then(|p| p.full_range()))/></div>
                <ImageCanvas size=size render=render on_hover=on_hover test_id="projection-canvas"/>
                <p class="pixel-readout">{move || hover.get().unwrap_or_default()}</p>
            </div>
        </details>
    }
}
