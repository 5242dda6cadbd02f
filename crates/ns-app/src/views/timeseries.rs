//! The timeseries view (TimeSeries and every subtype, 1-D or 2-D data):
//! stacked channels labeled by electrode, drawn from per-pixel min/max
//! windows that the worker computes from its decimation pyramid, so any
//! zoom level (the whole recording too) can be shown. Channels can be
//! paged and filtered by electrodes-table columns.

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use ns_draw::{Envelope, draw_trace};
use ns_protocol::{GetSeries, GetWindow, SeriesInfo, Window, WorkerError};
use wasm_bindgen::Clamped;

use super::canvas::{AXIS, Frame, LEFT, TimeCanvas, TimeControls};
use super::time::TimeContext;
use super::{ViewDef, ViewProps, channel_filter};
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "SimpleTimeseries",
    title: "Timeseries",
    aliases: &["TimeSeries", "ElectricalSeries", "SpatialSeries"],
    types: &["TimeSeries"],
    render: Some(|p| view! { <TimeseriesView props=p/> }.into_any()),
};

/// Values (samples × channels) the first window shows at most.
const FIRST_WINDOW_VALUES: f64 = 2.0e6;
/// Height the channel rows share, in CSS pixels (before separation).
const PLOT_PX: f64 = 640.0;
/// Channels shown at first.
const FIRST_CHANNELS: usize = 16;
/// The window is fetched this much wider on each side (as a fraction of
/// its width) so that panning shows data at once.
const MARGIN: f64 = 0.25;

const COLORS: [[u8; 3]; 8] = [
    [31, 59, 115],
    [180, 60, 40],
    [40, 120, 60],
    [120, 60, 150],
    [20, 120, 140],
    [150, 110, 20],
    [90, 90, 90],
    [170, 50, 110],
];

#[component]
pub fn TimeseriesView(props: ViewProps) -> impl IntoView {
    let path = props.path.clone();
    let info = crate::reactive::resource(move || {
        let path = path.clone();
        async move { client::request(GetSeries { path }).await }
    });
    let time = props.time;
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the series…"</p> }>
            {move || info.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(info) => view! { <Traces info=info time=time/> }.into_any(),
            })}
        </Suspense>
    }
}

/// A window as drawn: decoded once when it arrives.
fn envelope_of(w: &Window) -> Envelope {
    #[expect(clippy::cast_possible_truncation, reason = "f32 data")]
    let f32s = |b: &ns_protocol::TypedBuffer| b.to_f64().into_iter().map(|v| v as f32).collect();
    Envelope::new(
        w.times.to_f64(),
        f32s(&w.min),
        f32s(&w.max),
        w.channel_start,
        usize::try_from(w.channels).unwrap_or(0),
        w.samples_per_bucket,
    )
}

/// One part of the series' extent, fetched by one worker.
#[derive(Clone, Copy)]
struct Part {
    want: StoredValue<Option<Key>>,
    busy: StoredValue<bool>,
    data: RwSignal<Option<Arc<Envelope>>>,
    progress: RwSignal<Option<f64>>,
    error: RwSignal<Option<WorkerError>>,
    /// Its data is the complete answer for the newest window.
    settled: RwSignal<bool>,
}

impl Part {
    fn new() -> Self {
        Self {
            want: StoredValue::new(None),
            busy: StoredValue::new(false),
            data: RwSignal::new(None),
            progress: RwSignal::new(None),
            error: RwSignal::new(None),
            settled: RwSignal::new(true),
        }
    }

    /// Asks worker `worker` for the newest wanted window; a pending
    /// answer is asked again until it is complete, unless the view moved
    /// meanwhile.
    fn fetch(self, worker: usize, path: String, spread: RwSignal<Option<f32>>) {
        if self.busy.get_value() {
            return;
        }
        self.busy.set_value(true);
        leptos::task::spawn_local(async move {
            // A view that went away meanwhile ends the loop (its values are gone).
            while let Some(key) = self.want.try_get_value().flatten() {
                self.want.set_value(None);
                let reply = client::request_on_worker(
                    worker,
                    GetWindow {
                        path: path.clone(),
                        start_secs: key.window.0,
                        end_secs: key.window.1,
                        channels: Some(key.channels),
                        max_buckets: key.buckets,
                    },
                )
                .await;
                match reply {
                    Ok(w) => {
                        let decoded = envelope_of(&w);
                        if spread.try_get_untracked().is_some_and(|s| s.is_none())
                            && !w.pending
                            && !decoded.times.is_empty()
                        {
                            spread.set(Some(decoded.spread()));
                        }
                        self.data.set(Some(Arc::new(decoded)));
                        self.error.set(None);
                        self.progress.set(w.pending.then_some(w.progress));
                        if w.pending && self.want.try_get_value().is_some_and(|w| w.is_none()) {
                            self.want.set_value(Some(key));
                        }
                    }
                    Err(e) => {
                        self.progress.set(None);
                        self.error.set(Some(e));
                    }
                }
            }
            self.busy.set_value(false);
            self.settled.set(true);
        });
    }
}

#[derive(Clone, Copy, PartialEq)]
struct Key {
    window: (f64, f64),
    channels: (u64, u64),
    buckets: u32,
}

#[component]
fn Traces(info: SeriesInfo, time: TimeContext) -> impl IntoView {
    let info = Arc::new(info);
    let n = info.num_channels;
    let head = header(&info);
    if info.num_samples == 0 {
        return view! { {head} <p class="empty" data-testid="empty">"This series has no samples."</p> }.into_any();
    }
    if !info.has_data {
        return view! { {head} <p class="empty">"This series stores only timestamps: the Events view shows them."</p> }.into_any();
    }
    // The first window: at most about 2 million values, from the start.
    #[expect(clippy::cast_precision_loss, reason = "sample counts below 2^53")]
    let rate = info
        .rate
        .unwrap_or_else(|| info.num_samples as f64 / (info.end_secs - info.start_secs).max(1e-9));
    #[expect(clippy::cast_precision_loss, reason = "small channel counts")]
    let shown = n.min(FIRST_CHANNELS as u64) as f64;
    let first = (FIRST_WINDOW_VALUES / (rate * shown))
        .max(20.0 / rate)
        .min(info.end_secs - info.start_secs);
    time.add_extent(
        info.start_secs,
        info.end_secs,
        (info.start_secs, info.start_secs + first),
    );

    let filter = RwSignal::new(channel_filter::from_url());
    let first_channel = RwSignal::new(0usize);
    let count = RwSignal::new(usize::try_from(n).unwrap_or(1).min(FIRST_CHANNELS));
    let gain = RwSignal::new(1.0f64);
    // Vertical separation, × the automatic row height.
    let sep = RwSignal::new(1.0f64);
    let width = RwSignal::new(0.0f64);
    let info_f = Arc::clone(&info);
    // Channels passing the filter (indices), and the error of a bad filter.
    let filtered = Memo::new(move |_| channel_filter::apply(&info_f, &filter.get()));
    let visible = Memo::new(move |_| match filtered.get() {
        Ok(all) => {
            let start = first_channel.get().min(all.len().saturating_sub(1));
            all.iter()
                .skip(start)
                .take(count.get())
                .copied()
                .collect::<Vec<u64>>()
        }
        Err(_) => Vec::new(),
    });
    crate::reactive::effect(move || {
        let f = filter.get();
        channel_filter::to_url(&f);
        first_channel.set(0);
    });
    // ROIs selected in a segmentation view of the tab select their traces.
    if info.neurodata_type.as_deref() == Some("RoiResponseSeries") {
        Effect::new(move |before: Option<bool>| {
            let chosen = time.rois.get();
            match &chosen {
                Some(ids) => {
                    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                    filter.set(format!("id={}", ids.join("|")));
                }
                None if before == Some(true) => filter.set(String::new()),
                None => {}
            }
            chosen.is_some()
        });
    }

    let spread = RwSignal::new(None::<f32>);
    // The series' extent is cut into one part per worker, each part always
    // asked of the same worker: a zoomed-out window is summarized by all
    // workers at once, and each keeps its part's pyramid cached.
    let parts: Vec<Part> = (0..client::POOL_SIZE).map(|_| Part::new()).collect();
    #[expect(clippy::cast_precision_loss, reason = "a handful of parts")]
    let bounds: Vec<f64> = (0..=parts.len())
        .map(|i| {
            info.start_secs + (info.end_secs - info.start_secs) * i as f64 / parts.len() as f64
        })
        .collect();
    let path = info.path.clone();
    let ps = parts.clone();
    crate::reactive::effect(move || {
        let (Some((a, b)), w) = (time.window.get(), width.get()) else {
            return;
        };
        let vis = visible.get();
        let (Some(lo), Some(hi)) = (vis.iter().min(), vis.iter().max()) else {
            return;
        };
        if w <= 0.0 {
            return;
        }
        let m = (b - a) * MARGIN;
        let (a, b) = (a - m, b + m);
        let total = (w - LEFT).max(100.0) * (1.0 + 2.0 * MARGIN);
        let last = ps.len() - 1;
        for (i, part) in ps.iter().enumerate() {
            // The first and last parts reach past the data's ends.
            let lo_t = if i == 0 { f64::NEG_INFINITY } else { bounds[i] };
            let hi_t = if i == last {
                f64::INFINITY
            } else {
                bounds[i + 1]
            };
            let (pa, pb) = (a.max(lo_t), b.min(hi_t));
            if pb <= pa {
                part.want.set_value(None);
                part.data.set(None);
                part.progress.set(None);
                continue;
            }
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a pixel count"
            )]
            let buckets = ((total * (pb - pa) / (b - a)).ceil() as u32).max(1);
            part.want.set_value(Some(Key {
                window: (pa, pb),
                channels: (*lo, hi + 1),
                buckets,
            }));
            part.settled.set(false);
            part.fetch(i, path.clone(), spread);
        }
    });
    let progress = {
        let ps = parts.clone();
        Memo::new(move |_| {
            let pending: Vec<f64> = ps.iter().filter_map(|p| p.progress.get()).collect();
            let done = ps.len() - pending.len();
            #[expect(clippy::cast_precision_loss, reason = "a handful of parts")]
            let (n, done) = (ps.len() as f64, done as f64);
            (!pending.is_empty()).then(|| (pending.iter().sum::<f64>() + done) / n)
        })
    };
    let error = {
        let ps = parts.clone();
        Memo::new(move |_| ps.iter().find_map(|p| p.error.get()))
    };
    let settled = {
        let ps = parts.clone();
        Memo::new(move |_| ps.iter().all(|p| p.settled.get()))
    };
    let data = {
        let ps = parts.clone();
        Signal::derive(move || ps.iter().filter_map(|p| p.data.get()).collect::<Vec<_>>())
    };
    // A new channel set gets its own amplitude.
    crate::reactive::effect(move || {
        visible.track();
        spread.set(None);
    });

    let labels: Rc<Vec<String>> = Rc::new(info.channels.iter().map(|c| c.label.clone()).collect());
    let buffer = StoredValue::new_local(Vec::<u8>::new());
    let draw = Rc::new(move |f: &Frame| {
        f.clear();
        let vis = visible.get();
        let plot_top = 4.0;
        let plot_h = (f.height - AXIS - plot_top).max(1.0);
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let row_h = plot_h / vis.len().max(1) as f64;
        let parts = data.get();
        if let Some(first) = parts.first() {
            let scale_base = f64::from(spread.get().unwrap_or_else(|| first.spread()));
            let g = gain.get();
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "canvas sizes"
            )]
            let (w, h) = (f.width as usize, plot_h as usize);
            let xmap = f.xmap();
            buffer.update_value(|buf| {
                buf.clear();
                buf.resize(w * h * 4, 255);
                for (row, ch) in vis.iter().enumerate() {
                    #[expect(clippy::cast_precision_loss, reason = "small counts")]
                    let base = (row as f64 + 0.5) * row_h;
                    let k = row_h * 0.4 * g / scale_base;
                    let color = COLORS[row % COLORS.len()];
                    // One baseline for all parts: the first part's center.
                    let center = ch
                        .checked_sub(first.channel_start)
                        .and_then(|c| usize::try_from(c).ok())
                        .and_then(|c| first.centers.get(c))
                        .map_or(0.0, |c| f64::from(*c));
                    for d in &parts {
                        let Some(col) = ch
                            .checked_sub(d.channel_start)
                            .and_then(|c| usize::try_from(c).ok())
                            .filter(|c| *c < d.channels)
                        else {
                            continue;
                        };
                        draw_trace(buf, w, h, xmap, d, col, base, k, center, color);
                    }
                }
            });
            buffer.with_value(|buf| {
                #[expect(clippy::cast_possible_truncation, reason = "canvas sizes")]
                if let Ok(img) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
                    Clamped(buf),
                    w as u32,
                    h.max(1) as u32,
                ) {
                    let _ = f.ctx.put_image_data(&img, 0.0, plot_top);
                }
            });
        } else {
            f.ctx.set_fill_style_str("#777");
            let _ = f.ctx.fill_text("Loading…", LEFT + 10.0, 20.0);
        }
        // Labels, skipping rows when they would overlap.
        f.ctx.set_fill_style_str("#333");
        f.ctx.set_font("11px sans-serif");
        f.ctx.set_text_align("right");
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "small counts"
        )]
        let every = (12.0 / row_h).ceil().max(1.0) as usize;
        for (row, ch) in vis.iter().enumerate() {
            if row % every != 0 {
                continue;
            }
            let label = usize::try_from(*ch)
                .ok()
                .and_then(|c| labels.get(c))
                .cloned()
                .unwrap_or_else(|| ch.to_string());
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let y = plot_top + (row as f64 + 0.5) * row_h + 4.0;
            let _ = f.ctx.fill_text(&label, LEFT - 8.0, y);
        }
        f.axis_and_cursor();
    });
    // Rows share about 640 px (6 to 40 px each), times the separation.
    let height = Signal::derive(move || {
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let rows = visible.get().len().max(1) as f64;
        let row = (PLOT_PX / rows).clamp(6.0, 40.0) * sep.get();
        (rows * row).clamp(120.0, 4000.0) + AXIS + 4.0
    });
    let total = usize::try_from(n).unwrap_or(usize::MAX);
    let columns: Vec<String> = info
        .channel_columns
        .iter()
        .map(|(c, _)| c.clone())
        .collect();
    view! {
        {head}
        <div class="toolbar">
            <TimeControls time=time/>
            <span class="channel-controls">
                <button title="Previous channels" on:click=move |_| first_channel.update(|f| *f = f.saturating_sub(count.get_untracked()))>"‹"</button>
                <span data-testid="channel-range">{move || {
                    let shown = filtered.get().map(|a| a.len()).unwrap_or(0);
                    let v = visible.get();
                    match (v.first(), v.last()) {
                        (Some(_), Some(_)) => format!("channels {}–{} of {shown}{}", first_channel.get() + 1, first_channel.get() + v.len(),
                            if shown < total { format!(" (filtered from {total})") } else { String::new() }),
                        _ => "no channels".to_string(),
                    }
                }}</span>
                <button title="Next channels" on:click=move |_| {
                    let len = filtered.get_untracked().map(|a| a.len()).unwrap_or(0);
                    first_channel.update(|f| if *f + count.get_untracked() < len { *f += count.get_untracked() });
                }>"›"</button>
                <select title="Channels shown" data-testid="channel-count" on:change=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<usize>() { count.set(v); }
                }>
                    {[1usize, 2, 4, 8, 16, 32, 64, 128, 256].into_iter().map(|c| view! {
                        <option value=c.to_string() selected=move || count.get() == c>{c}</option>
                    }).collect_view()}
                </select>
                <button title="Larger amplitude" on:click=move |_| gain.update(|g| *g *= 1.5)>"↕+"</button>
                <button title="Smaller amplitude" on:click=move |_| gain.update(|g| *g /= 1.5)>"↕−"</button>
                <button title="More space between channels" on:click=move |_| sep.update(|r| *r = (*r * 1.4).min(8.0))>"⇕+"</button>
                <button title="Less space between channels" on:click=move |_| sep.update(|r| *r = (*r / 1.4).max(0.2))>"⇕−"</button>
            </span>
        </div>
        <channel_filter::FilterBox filter=filter columns=columns error=Signal::derive(move || filtered.get().err())/>
        <TimeCanvas time=time height=height draw=draw width=width test_id="timeseries-canvas"/>
        <p class="view-status" data-testid="view-status" data-settled=move || settled.get().to_string()>
            {move || error.get().map(|e| view! { <ErrorPanel error=e/> })}
            {move || progress.get().map(|p| view! {
                <span class="progress" data-testid="progress">{format!("summarizing the window: {:.0}%", p * 100.0)}
                    <progress max="1" value=p.to_string()></progress></span>
            })}
            {move || data.get().first().cloned().map(|d| {
                let unit = info.unit.clone().unwrap_or_default();
                if d.samples_per_bucket > 1 {
                    format!("min/max of {} samples per pixel · {unit}", d.samples_per_bucket)
                } else {
                    format!("every sample · {unit}")
                }
            })}
        </p>
    }
    .into_any()
}

fn header(info: &SeriesInfo) -> impl IntoView + use<> {
    let dims: Vec<String> = info.shape.iter().map(ToString::to_string).collect();
    let timing = match info.rate {
        Some(r) => format!("{r} Hz"),
        None => "timestamps".into(),
    };
    let text = format!(
        "{} · [{}] · {timing} · {:.3}–{:.3} s{}",
        info.neurodata_type
            .clone()
            .unwrap_or_else(|| "TimeSeries".into()),
        dims.join(" × "),
        info.start_secs,
        info.end_secs,
        info.unit
            .as_ref()
            .map(|u| format!(" · {u}"))
            .unwrap_or_default()
    );
    let warnings = info.warnings.clone();
    view! {
        <p class="view-head">{text}</p>
        {info.description.clone().filter(|d| !d.is_empty() && d != "no description").map(|d| view! { <p class="view-desc">{d}</p> })}
        {warnings.into_iter().map(|w| view! { <p class="warning" data-testid="warning">"⚠ " {w}</p> }).collect_view()}
    }
}
