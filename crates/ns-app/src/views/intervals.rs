//! TimeIntervals (trials, epochs, any table with start/stop times): bars
//! on the shared time axis, one row per value of a label column (chosen
//! as Neurosift does, overridable), and the table of all columns below.

use std::rc::Rc;

use leptos::prelude::*;
use ns_protocol::{GetIntervals, Intervals};

use super::canvas::{AXIS, Frame, LEFT, TimeCanvas, TimeControls};
use super::table::TableView;
use super::{ViewDef, ViewProps};
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "TimeIntervals",
    title: "Intervals",
    aliases: &[],
    types: &["TimeIntervals"],
    render: Some(|p| view! { <IntervalsView props=p/> }.into_any()),
};

/// The first window shows at most this many seconds (as Neurosift).
const FIRST_WINDOW_SECS: f64 = 100.0;
const ROW_PX: f64 = 22.0;

pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

struct Decoded {
    start: Vec<f64>,
    stop: Vec<f64>,
    label_of: Vec<usize>,
    labels: Vec<String>,
}

#[component]
fn IntervalsView(props: ViewProps) -> impl IntoView {
    let time = props.time;
    let label_column = RwSignal::new(None::<String>);
    let path = props.path.clone();
    let data = crate::reactive::resource(move || {
        let path = path.clone();
        let label_column = label_column.get();
        async move { client::request(GetIntervals { path, label_column }).await }
    });
    let path = props.path.clone();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the intervals…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(iv) => view! { <Bars iv=iv time=time label_column=label_column/> }.into_any(),
            })}
        </Suspense>
        <TableView path=path/>
    }
}

#[component]
fn Bars(
    iv: Intervals,
    time: super::TimeContext,
    label_column: RwSignal<Option<String>>,
) -> impl IntoView {
    let d = Rc::new(Decoded {
        start: iv.start.to_f64(),
        stop: iv.stop.to_f64(),
        label_of: iv
            .label_of
            .to_f64()
            .into_iter()
            .map(|v| {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "label indices"
                )]
                let i = v as usize;
                i
            })
            .collect(),
        labels: if iv.labels.is_empty() {
            vec![String::new()]
        } else {
            iv.labels.clone()
        },
    });
    let lo = d
        .start
        .iter()
        .copied()
        .filter(|t| t.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = d
        .stop
        .iter()
        .copied()
        .filter(|t| t.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let n = d.start.len();
    if n == 0 || !lo.is_finite() || !hi.is_finite() {
        return view! { <p class="empty" data-testid="empty">"This table has no intervals."</p> }
            .into_any();
    }
    time.add_extent(lo, hi, (lo, hi.min(lo + FIRST_WINDOW_SECS)));
    let rows = d.labels.len();
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let height = Signal::derive(move || (rows as f64 * ROW_PX).max(ROW_PX * 2.0) + AXIS + 6.0);
    let width = RwSignal::new(0.0);
    let d2 = Rc::clone(&d);
    let draw = Rc::new(move |f: &Frame| {
        f.clear();
        let ctx = &f.ctx;
        let (a, b) = f.window;
        ctx.set_font("11px sans-serif");
        ctx.set_text_align("right");
        for (r, label) in d2.labels.iter().enumerate() {
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let y = 4.0 + r as f64 * ROW_PX;
            ctx.set_fill_style_str("#333");
            let _ = ctx.fill_text(label, LEFT - 8.0, y + ROW_PX * 0.65);
        }
        for i in 0..d2.start.len() {
            let (s, e) = (d2.start[i], d2.stop.get(i).copied().unwrap_or(f64::NAN));
            if !(s.is_finite() && e.is_finite()) || e < a || s > b {
                continue;
            }
            let r = d2.label_of.get(i).copied().unwrap_or(0);
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let y = 4.0 + r as f64 * ROW_PX;
            let (x0, x1) = (f.x_of(s).max(LEFT), f.x_of(e).min(f.width));
            ctx.set_fill_style_str(PALETTE[r % PALETTE.len()]);
            ctx.fill_rect(x0, y + 2.0, (x1 - x0).max(1.0), ROW_PX - 4.0);
        }
        f.axis_and_cursor();
    });
    let candidates = iv.label_candidates.clone();
    let chosen = iv.label_column.clone();
    view! {
        <div class="toolbar">
            <TimeControls time=time/>
            <label>"Rows by "
                <select data-testid="label-column" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    label_column.set(Some(v).filter(|v| !v.is_empty()));
                }>
                    <option value="" selected=chosen.is_none()>"(none)"</option>
                    {candidates.into_iter().map(|c| {
                        let sel = chosen.as_deref() == Some(c.as_str());
                        view! { <option value=c.clone() selected=sel>{c.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <span class="count">{format!("{n} intervals")}</span>
        </div>
        <TimeCanvas time=time height=height draw=draw width=width test_id="intervals-canvas"/>
    }
    .into_any()
}
