//! ROIs of a PlaneSegmentation (and the PlaneSegmentations of an
//! ImageSegmentation) over a reference image: the table's own reference
//! images, else the module's summary images, else the mean of the first
//! frames of the imaging series of the same plane; black when there is
//! none. Each ROI in its color, opacity by weight; hovering names the ROI
//! and its columns; a click selects it (shift adds), and so do column
//! conditions (`quality=good, area>30`). The selection is shared with the
//! tab, where the traces of a RoiResponseSeries follow it.

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use ns_protocol::{
    FrameAt, GetFrame, GetImageInfo, GetRois, Orientation, ReferenceImage, Rois, SeriesInfo,
    WorkerError,
};

use super::image::{
    ImageCanvas, MAX_SIZE, OrientationControls, PixelEvent, PixelHandler, Pixels, RangeControls,
    Render, orientation_signal, paint,
};
use super::{TimeContext, ViewDef, ViewProps, channel_filter};
use crate::client;
use crate::components::ErrorPanel;

pub const PLANE: ViewDef = ViewDef {
    name: "PlaneSegmentation",
    title: "ROIs",
    aliases: &[],
    types: &["PlaneSegmentation"],
    render: Some(|p| view! { <RoiView path=p.path.clone() time=p.time/> }.into_any()),
};

pub const SEGMENTATION: ViewDef = ViewDef {
    name: "ImageSegmentation",
    title: "Segmentation",
    aliases: &[],
    types: &["ImageSegmentation"],
    render: Some(|p| view! { <SegmentationView props=p/> }.into_any()),
};

/// Frames averaged at most for a reference image made from a series.
const REFERENCE_FRAMES: u64 = 200;
/// The URL parameter keeping the ROI conditions.
const ROIS_PARAM: &str = "rois";
/// Rows of the ROI list shown at most.
const LISTED: usize = 500;

/// Twelve distinct colors, as Neurosift uses.
const PALETTE: [[u8; 3]; 12] = [
    [255, 64, 64],
    [64, 200, 64],
    [64, 128, 255],
    [255, 200, 0],
    [255, 64, 255],
    [0, 220, 220],
    [255, 140, 0],
    [160, 100, 255],
    [140, 255, 140],
    [255, 160, 200],
    [0, 160, 120],
    [200, 200, 255],
];

#[component]
fn SegmentationView(props: ViewProps) -> impl IntoView {
    let prefix = format!("{}/", props.path.trim_end_matches('/'));
    let planes: Vec<String> = props
        .overview
        .objects
        .iter()
        .filter(|o| o.path.starts_with(&prefix) && !o.path[prefix.len()..].contains('/'))
        .filter(|o| {
            props
                .overview
                .type_chain(&o.path)
                .iter()
                .any(|t| t == "PlaneSegmentation")
        })
        .map(|o| o.path.clone())
        .collect();
    let Some(first) = planes.first().cloned() else {
        return view! { <p class="empty">"This segmentation holds no PlaneSegmentation."</p> }
            .into_any();
    };
    let chosen = RwSignal::new(first);
    let time = props.time;
    view! {
        <div class="toolbar">
            <label>"plane segmentation "
                <select data-testid="plane-segmentation" on:change=move |ev| chosen.set(event_target_value(&ev))>
                    {planes.into_iter().map(|p| {
                        let name = p.rsplit('/').next().unwrap_or(&p).to_string();
                        view! { <option value=p.clone()>{name}</option> }
                    }).collect_view()}
                </select>
            </label>
        </div>
        {move || view! { <RoiView path=chosen.get() time=time/> }}
    }
    .into_any()
}

/// The ROIs as loaded so far, with each mask's place in `weights`.
#[derive(Default, Clone)]
struct RoiSet {
    width: usize,
    height: usize,
    planes: u64,
    num_rois: u64,
    mask_kind: String,
    ids: Vec<i64>,
    boxes: Vec<[u32; 4]>,
    offsets: Vec<usize>,
    /// Per ROI: its greatest weight.
    peaks: Vec<f32>,
    weights: Vec<f32>,
    columns: Vec<(String, Vec<String>)>,
    references: Vec<ReferenceImage>,
    warnings: Vec<String>,
}

impl RoiSet {
    fn add(&mut self, r: &Rois) {
        if self.ids.is_empty() {
            self.width = usize::try_from(r.width).unwrap_or(0);
            self.height = usize::try_from(r.height).unwrap_or(0);
            self.planes = r.planes;
            self.num_rois = r.num_rois;
            self.mask_kind.clone_from(&r.mask_kind);
            self.references.clone_from(&r.references);
            self.columns = r
                .columns
                .iter()
                .map(|(n, _)| (n.clone(), Vec::new()))
                .collect();
        }
        for w in &r.warnings {
            if !self.warnings.contains(w) {
                self.warnings.push(w.clone());
            }
        }
        #[expect(clippy::cast_possible_truncation, reason = "f32 weights")]
        let weights: Vec<f32> = r.weights.to_f64().iter().map(|v| *v as f32).collect();
        let mut at = 0;
        for b in &r.boxes {
            let n = usize::try_from(b[2] * b[3]).unwrap_or(0);
            let mask = weights.get(at..at + n).unwrap_or(&[]);
            self.offsets.push(self.weights.len());
            self.peaks.push(mask.iter().copied().fold(0.0, f32::max));
            self.weights.extend_from_slice(mask);
            at += n;
        }
        self.ids.extend_from_slice(&r.ids);
        self.boxes.extend_from_slice(&r.boxes);
        for (name, values) in &r.columns {
            if let Some((_, all)) = self.columns.iter_mut().find(|(n, _)| n == name) {
                all.extend(values.iter().cloned());
            }
        }
    }

    /// The weight of ROI `i` at shown `(x, y)`.
    fn weight(&self, i: usize, x: usize, y: usize) -> f32 {
        let Some(b) = self.boxes.get(i) else {
            return 0.0;
        };
        let [bx, by, bw, bh] = b.map(|v| usize::try_from(v).unwrap_or(0));
        if x < bx || y < by || x >= bx + bw || y >= by + bh {
            return 0.0;
        }
        self.offsets
            .get(i)
            .and_then(|o| self.weights.get(o + (y - by) * bw + (x - bx)))
            .copied()
            .unwrap_or(0.0)
    }

    /// The topmost ROI with weight at `(x, y)`.
    fn at(&self, x: usize, y: usize) -> Option<usize> {
        (0..self.ids.len())
            .rev()
            .find(|i| self.weight(*i, x, y) > 0.0)
    }

    /// ROI `i` in words: its id and columns.
    fn describe(&self, i: usize) -> String {
        let mut parts = vec![format!(
            "ROI {}",
            self.ids.get(i).copied().unwrap_or_default()
        )];
        for (name, values) in &self.columns {
            if let Some(v) = values.get(i) {
                parts.push(format!("{name}: {v}"));
            }
        }
        parts.join(" · ")
    }

    /// The table's columns as a filter sees them.
    fn as_series(&self) -> SeriesInfo {
        let mut columns = vec![(
            "id".to_string(),
            self.ids.iter().map(ToString::to_string).collect(),
        )];
        columns.extend(self.columns.iter().cloned());
        SeriesInfo {
            num_channels: self.ids.len() as u64,
            channel_columns: columns,
            ..SeriesInfo::default()
        }
    }
}

#[component]
pub fn RoiView(path: String, time: TimeContext) -> impl IntoView {
    let orient = orientation_signal();
    let plane = RwSignal::new(0u64);
    let set = RwSignal::new(None::<Arc<RoiSet>>);
    let error = RwSignal::new(None::<WorkerError>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let path_sv = StoredValue::new(path);
    // Loads every ROI, part after part, for the plane and orientation.
    crate::reactive::effect(move || {
        let (p, o) = (plane.get(), orient.get());
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let path = path_sv.get_value();
        set.set(None);
        error.set(None);
        loading.set(true);
        leptos::task::spawn_local(async move {
            let mut acc = RoiSet::default();
            let mut a = 0;
            loop {
                let reply = client::request(GetRois {
                    path: path.clone(),
                    rois: (a, u64::MAX),
                    plane: p,
                    orientation: o,
                })
                .await;
                if generation.try_get_value() != Some(mine) {
                    return;
                }
                match reply {
                    Ok(r) => {
                        acc.add(&r);
                        a = r.rois.1;
                        let done = a >= r.num_rois || r.rois.1 <= r.rois.0;
                        set.set(Some(Arc::new(acc.clone())));
                        if done {
                            break;
                        }
                    }
                    Err(e) => {
                        error.set(Some(e));
                        break;
                    }
                }
            }
            let _ = loading.try_set(false);
        });
    });
    let selected = RwSignal::new(Vec::<i64>::new());
    // Conditions are kept in the URL (`rois=`), as units subsets are.
    let filter = RwSignal::new(crate::url::param(ROIS_PARAM).unwrap_or_default());
    let filter_error = RwSignal::new(None::<String>);
    Effect::new(move |first: Option<()>| {
        let f = filter.get();
        if first.is_some() {
            let value = Some(f.trim().to_string()).filter(|f| !f.is_empty());
            crate::url::set_params(&[(ROIS_PARAM, value)]);
        }
    });
    // Column conditions select the ROIs that meet them (once loaded).
    crate::reactive::effect(move || {
        let f = filter.get();
        let Some(s) = set.get() else { return };
        if s.ids.len() as u64 != s.num_rois {
            return;
        }
        if f.trim().is_empty() {
            filter_error.set(None);
            return;
        }
        match channel_filter::apply(&s.as_series(), &f) {
            Ok(rows) => {
                filter_error.set(None);
                selected.set(
                    rows.iter()
                        .filter_map(|r| usize::try_from(*r).ok().and_then(|r| s.ids.get(r)))
                        .copied()
                        .collect(),
                );
            }
            Err(e) => filter_error.set(Some(e)),
        }
    });
    // The tab's views see the selection.
    crate::reactive::effect(move || {
        let ids = selected.get();
        time.rois.set((!ids.is_empty()).then(|| Arc::new(ids)));
    });

    // The reference image.
    let choice = RwSignal::new(Some(0usize));
    let reference = RwSignal::new(None::<Arc<Pixels>>);
    let ref_note = RwSignal::new(None::<String>);
    let ref_range = RwSignal::new(None::<(f64, f64)>);
    let ref_generation = StoredValue::new(0u64);
    let references = Memo::new(move |_| {
        set.with(|s| s.as_ref().map(|s| s.references.clone()).unwrap_or_default())
    });
    crate::reactive::effect(move || {
        let refs = references.get();
        let (c, p, o) = (choice.get(), plane.get(), orient.get());
        ref_generation.update_value(|g| *g += 1);
        let mine = ref_generation.get_value();
        reference.set(None);
        ref_range.set(None);
        let Some(r) = c.and_then(|c| refs.get(c).cloned()) else {
            ref_note.set(Some("no reference image: ROIs on black".into()));
            return;
        };
        ref_note.set(Some(format!("loading {}…", r.path)));
        leptos::task::spawn_local(async move {
            let pixels = load_reference(&r, p, o, ref_note).await;
            if ref_generation.try_get_value() != Some(mine) {
                return;
            }
            match pixels {
                Ok(px) => {
                    ref_range.set(px.auto_range());
                    reference.set(Some(px));
                }
                Err(e) => ref_note.set(Some(format!("{}: {}", r.path, e.message))),
            }
        });
    });

    let hover = RwSignal::new(None::<String>);
    let size = Signal::derive(move || {
        set.with(|s| s.as_ref().map(|s| (s.width, s.height)))
            .filter(|(w, h)| *w > 0 && *h > 0)
    });
    let render: Render = Rc::new(move |buf: &mut Vec<u8>| {
        let Some(s) = set.get() else { return };
        let (w, h) = (s.width, s.height);
        buf.clear();
        buf.resize(w * h * 4, 0);
        for px in buf.chunks_exact_mut(4) {
            px[3] = 255;
        }
        if let (Some(r), Some(range)) = (reference.get(), ref_range.get()) {
            let mut img = Vec::new();
            paint(&r, range, &mut img);
            // Nearest pixel of the reference (it may come downsampled).
            for y in 0..h {
                let ry = y * r.height / h.max(1);
                for x in 0..w {
                    let rx = x * r.width / w.max(1);
                    let from = (ry * r.width + rx) * 4;
                    let to = (y * w + x) * 4;
                    if let (Some(src), Some(dst)) =
                        (img.get(from..from + 3), buf.get_mut(to..to + 3))
                    {
                        dst.copy_from_slice(src);
                    }
                }
            }
        }
        let chosen = selected.get();
        let any = !chosen.is_empty();
        for i in 0..s.ids.len() {
            let [bx, by, bw, bh] = s.boxes[i].map(|v| usize::try_from(v).unwrap_or(0));
            let peak = s.peaks.get(i).copied().unwrap_or(0.0);
            if bw == 0 || peak <= 0.0 {
                continue;
            }
            let on = chosen.contains(&s.ids[i]);
            let strength = match (any, on) {
                (_, true) => 0.9,
                (true, false) => 0.2,
                (false, false) => 0.6,
            };
            let color = PALETTE[i % PALETTE.len()];
            for y in by..(by + bh).min(h) {
                for x in bx..(bx + bw).min(w) {
                    let v = s.weight(i, x, y);
                    if v <= 0.0 {
                        continue;
                    }
                    let a = f64::from(v / peak).clamp(0.0, 1.0) * strength;
                    let o = (y * w + x) * 4;
                    for k in 0..3 {
                        let blended = f64::from(buf[o + k]) * (1.0 - a) + f64::from(color[k]) * a;
                        #[expect(
                            clippy::cast_possible_truncation,
                            clippy::cast_sign_loss,
                            reason = "a blend of two bytes"
                        )]
                        let b = blended.round() as u8;
                        buf[o + k] = b;
                    }
                }
            }
        }
    });
    let on_hover: PixelHandler = Rc::new(move |e: Option<PixelEvent>| {
        let text = e.and_then(|e| {
            set.with_untracked(|s| {
                let s = s.as_ref()?;
                let i = s.at(e.x, e.y)?;
                Some(format!(
                    "{} · weight {:.3}",
                    s.describe(i),
                    s.weight(i, e.x, e.y)
                ))
            })
        });
        hover.set(text);
    });
    let on_click: PixelHandler = Rc::new(move |e: Option<PixelEvent>| {
        let Some(e) = e else { return };
        let hit = set.with_untracked(|s| {
            s.as_ref()
                .and_then(|s| s.at(e.x, e.y).and_then(|i| s.ids.get(i).copied()))
        });
        filter.set(String::new());
        match (hit, e.shift) {
            (Some(id), true) => selected.update(|v| {
                if let Some(k) = v.iter().position(|x| *x == id) {
                    v.remove(k);
                } else {
                    v.push(id);
                }
            }),
            (Some(id), false) => selected.set(vec![id]),
            (None, false) => selected.set(Vec::new()),
            (None, true) => {}
        }
    });
    let text = RwSignal::new(filter.get_untracked());
    view! {
        <div class="toolbar">
            <OrientationControls orient=orient/>
            {move || set.get().filter(|s| s.planes > 1).map(|s| {
                let planes = s.planes;
                view! {
                    <label>"plane "
                        <select data-testid="roi-plane" on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<u64>() { plane.set(v); }
                        }>
                            {(0..planes).map(|p| view! { <option value=p.to_string() selected=move || plane.get() == p>{format!("{} of {planes}", p + 1)}</option> }).collect_view()}
                        </select>
                    </label>
                }
            })}
            <label>"reference "
                <select data-testid="roi-reference" on:change=move |ev| {
                    choice.set(event_target_value(&ev).parse::<usize>().ok());
                }>
                    {move || {
                        let refs = references.get();
                        let c = choice.get_untracked();
                        let mut options: Vec<AnyView> = refs.iter().enumerate().map(|(i, r)| {
                            let name = format!("{} ({})", r.path.rsplit('/').next().unwrap_or(&r.path), if r.kind == "series" { "mean of frames" } else { "image" });
                            view! { <option value=i.to_string() selected=c == Some(i) title=format!("{} — {}", r.path, r.source)>{name}</option> }.into_any()
                        }).collect();
                        options.push(view! { <option value="none" selected=c.is_none() || refs.is_empty()>"none (black)"</option> }.into_any());
                        options
                    }}
                </select>
            </label>
            <RangeControls range=ref_range
                auto=Signal::derive(move || reference.get().and_then(|r| r.auto_range()))
                full=Signal::derive(move || reference.get().and_then(|r| r.full_range()))/>
        </div>
        <form class="filter" on:submit=move |ev| { ev.prevent_default(); filter.set(text.get_untracked()); }>
            <label>"Select ROIs where "
                <input type="text" data-testid="roi-filter" placeholder=move || {
                    let names: Vec<String> = set.get().map(|s| s.columns.iter().map(|(n, _)| n.clone()).collect()).unwrap_or_default();
                    format!("id>=3  (columns: id{}{})", if names.is_empty() { "" } else { ", " }, names.join(", "))
                }
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            </label>
            <button type="submit">"select"</button>
            <button type="button" on:click=move |_| { text.set(String::new()); filter.set(String::new()); selected.set(Vec::new()); }>"clear"</button>
            {move || filter_error.get().map(|e| view! { <span class="filter-error" data-testid="filter-error">{e}</span> })}
        </form>
        {move || error.get().map(|e| view! { <ErrorPanel error=e/> })}
        {move || set.get().map(|s| s.warnings.clone()).unwrap_or_default().into_iter()
            .map(|w| view! { <p class="warning" data-testid="warning">"⚠ " {w}</p> }).collect_view()}
        <p class="view-head" data-testid="roi-status">{move || {
            let s = set.get();
            let loaded = s.as_ref().map_or(0, |s| s.ids.len());
            let total = s.as_ref().map_or(0, |s| s.num_rois);
            let kind = s.as_ref().map(|s| s.mask_kind.clone()).unwrap_or_default();
            let n = selected.get().len();
            format!("{loaded} of {total} ROIs ({kind}){}{}",
                if loading.get() { " · loading…" } else { "" },
                if n > 0 { format!(" · {n} selected") } else { String::new() })
        }}
        {move || ref_note.get().map(|n| format!(" · {n}"))}</p>
        <div class="roi-layout">
            <div>
                <ImageCanvas size=size render=render on_hover=on_hover on_click=on_click test_id="rois-canvas" class="rois-canvas"/>
                <p class="pixel-readout" data-testid="roi-hover">{move || hover.get().unwrap_or_default()}</p>
            </div>
            <RoiList set=set selected=selected/>
        </div>
    }
}

/// The ROI table: a click on a row selects it (shift adds).
#[component]
fn RoiList(set: RwSignal<Option<Arc<RoiSet>>>, selected: RwSignal<Vec<i64>>) -> impl IntoView {
    view! {
        <div class="roi-list" data-testid="roi-list">
            {move || set.get().map(|s| {
                let names: Vec<String> = s.columns.iter().map(|(n, _)| n.clone()).collect();
                let rows = s.ids.len().min(LISTED);
                view! {
                    <table>
                        <thead><tr><th></th><th>"id"</th>{names.into_iter().map(|n| view! { <th>{n}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {(0..rows).map(|i| {
                                let id = s.ids[i];
                                let [r, g, b] = PALETTE[i % PALETTE.len()];
                                let empty = s.boxes[i][2] == 0;
                                let cells: Vec<String> = s.columns.iter().map(|(_, v)| v.get(i).cloned().unwrap_or_default()).collect();
                                view! {
                                    <tr data-id=id.to_string() class=move || if selected.get().contains(&id) { "selected" } else { "" }
                                        on:click=move |ev| {
                                            if ev.shift_key() {
                                                selected.update(|v| if let Some(k) = v.iter().position(|x| *x == id) { v.remove(k); } else { v.push(id); });
                                            } else {
                                                selected.set(vec![id]);
                                            }
                                        }>
                                        <td><span class="roi-swatch" style=format!("background: rgb({r},{g},{b})")></span></td>
                                        <td>{id}{empty.then_some(" (empty)")}</td>
                                        {cells.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    {(s.ids.len() > LISTED).then(|| view! { <p class="count">{format!("the first {LISTED} of {} are listed", s.ids.len())}</p> })}
                }
            })}
        </div>
    }
}

/// The reference image's pixels: an image as it is; a series' first frame
/// (one frame) or the mean of its first frames.
async fn load_reference(
    r: &ReferenceImage,
    plane: u64,
    orientation: Orientation,
    note: RwSignal<Option<String>>,
) -> Result<Arc<Pixels>, WorkerError> {
    let frame = |plane: u64| GetFrame {
        path: r.path.clone(),
        at: FrameAt::Index(0),
        count: 1,
        plane,
        orientation,
        max_size: MAX_SIZE,
    };
    if r.kind != "series" {
        let f = client::request(frame(0)).await?;
        let _ = note.try_set(Some(format!("over {}", r.path)));
        return Pixels::frames(&f).into_iter().next().ok_or_else(|| {
            WorkerError::new(ns_protocol::ErrorKind::Format, "the image holds no pixels")
        });
    }
    let info = client::request(GetImageInfo {
        path: r.path.clone(),
    })
    .await?;
    let plane = plane.min(info.planes.saturating_sub(1));
    if info.num_frames <= 1 {
        let f = client::request(frame(plane)).await?;
        let _ = note.try_set(Some(format!("over {}", r.path)));
        return Pixels::frames(&f).into_iter().next().ok_or_else(|| {
            WorkerError::new(ns_protocol::ErrorKind::Format, "the series holds no pixels")
        });
    }
    let n = info.num_frames.min(REFERENCE_FRAMES);
    let path = r.path.clone();
    let progress = Rc::new(move |p: f64| {
        let _ = note.try_set(Some(format!(
            "mean of the first {n} frames of {path}: {:.0}%",
            p * 100.0
        )));
    });
    let job = super::imaging::Job::default();
    let p = super::imaging::project(&info, (0, n), plane, orientation, progress, job)
        .await?
        .ok_or_else(|| WorkerError::new(ns_protocol::ErrorKind::BadRequest, "cancelled"))?;
    let _ = note.try_set(Some(format!(
        "over the mean of the first {n} frames of {}",
        r.path
    )));
    Ok(Arc::new(Pixels::projection(&p, false, orientation)))
}
