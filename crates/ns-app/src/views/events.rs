//! Events: markers on the shared time axis for timestamps-only series
//! (ndx-events Events/LabeledEvents, any TimeSeries as events),
//! IntervalSeries (on/off pairs as spans) and BehavioralEvents (one row
//! per series it holds).

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use ns_protocol::{Events, GetEvents, GetSeries, WorkerError};

use super::canvas::{AXIS, Frame, LEFT, TimeCanvas, TimeControls};
use super::intervals::PALETTE;
use super::{TimeContext, ViewDef, ViewProps};
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "Events",
    title: "Events",
    aliases: &["LabeledEvents"],
    types: &["Events", "LabeledEvents", "TTLs", "AnnotatedEventsTable"],
    render: Some(|p| view! { <EventsView props=p/> }.into_any()),
};

/// Any TimeSeries can be looked at as events (after its trace view).
pub const AS_EVENTS: ViewDef = ViewDef {
    name: "Events",
    title: "Events",
    aliases: &[],
    types: &["TimeSeries"],
    render: Some(|p| view! { <EventsView props=p/> }.into_any()),
};

pub const INTERVAL_SERIES: ViewDef = ViewDef {
    name: "IntervalSeries",
    title: "Intervals",
    aliases: &[],
    types: &["IntervalSeries"],
    render: Some(|p| view! { <EventsView props=p/> }.into_any()),
};

pub const BEHAVIORAL_EVENTS: ViewDef = ViewDef {
    name: "BehavioralEvents",
    title: "Events",
    aliases: &[],
    types: &["BehavioralEvents"],
    render: Some(|p| view! { <EventsView props=p/> }.into_any()),
};

const ROW_PX: f64 = 24.0;

#[component]
fn EventsView(props: ViewProps) -> impl IntoView {
    // A container (BehavioralEvents): one row per TimeSeries in it.
    let prefix = format!("{}/", props.path);
    let children: Vec<String> = props
        .overview
        .objects
        .iter()
        .filter(|o| {
            o.path.starts_with(&prefix)
                && !o.path[prefix.len()..].contains('/')
                && props
                    .overview
                    .type_chain(&o.path)
                    .iter()
                    .any(|t| t == "TimeSeries")
        })
        .map(|o| o.path.clone())
        .collect();
    let series = if props
        .overview
        .type_chain(&props.path)
        .iter()
        .any(|t| t == "BehavioralEvents")
        || (!children.is_empty() && props.overview.type_chain(&props.path).is_empty())
    {
        children
    } else {
        vec![props.path.clone()]
    };
    if series.is_empty() {
        return view! { <p class="empty">"No event series here."</p> }.into_any();
    }
    view! { <EventRows series=series time=props.time/> }.into_any()
}

#[component]
fn EventRows(series: Vec<String>, time: TimeContext) -> impl IntoView {
    let rows = series.len();
    let width = RwSignal::new(0.0f64);
    let data: Vec<RwSignal<Option<Arc<Events>>>> =
        series.iter().map(|_| RwSignal::new(None)).collect();
    let error = RwSignal::new(None::<WorkerError>);
    // Extents first (each series' first and last time).
    for path in series.clone() {
        leptos::task::spawn_local(async move {
            match client::request(GetSeries { path }).await {
                Ok(info) if info.num_samples > 0 => {
                    time.add_extent(
                        info.start_secs,
                        info.end_secs,
                        (info.start_secs, info.end_secs),
                    );
                }
                Ok(_) => {}
                Err(e) => error.set(Some(e)),
            }
        });
    }
    for (path, slot) in series.iter().cloned().zip(data.clone()) {
        let busy = StoredValue::new(false);
        let want = StoredValue::new(None::<(f64, f64, u32)>);
        crate::reactive::effect(move || {
            let (Some((a, b)), w) = (time.window.get(), width.get()) else {
                return;
            };
            if w <= 0.0 {
                return;
            }
            let m = (b - a) * 0.25;
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a pixel count"
            )]
            let max = (w * 3.0) as u32;
            want.set_value(Some((a - m, b + m, max.max(100))));
            if busy.get_value() {
                return;
            }
            busy.set_value(true);
            let path = path.clone();
            leptos::task::spawn_local(async move {
                while let Some((a, b, max)) = want.try_get_value().flatten() {
                    want.set_value(None);
                    match client::request(GetEvents {
                        path: path.clone(),
                        start_secs: a,
                        end_secs: b,
                        max_events: max,
                    })
                    .await
                    {
                        Ok(ev) => slot.set(Some(Arc::new(ev))),
                        Err(e) => error.set(Some(e)),
                    }
                }
                busy.set_value(false);
            });
        });
    }
    let names: Vec<String> = series
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
        .collect();
    let data2 = data.clone();
    let draw = Rc::new(move |f: &Frame| {
        f.clear();
        let ctx = &f.ctx;
        ctx.set_font("11px sans-serif");
        ctx.set_text_align("right");
        for (r, slot) in data2.iter().enumerate() {
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let y = 4.0 + r as f64 * ROW_PX;
            ctx.set_fill_style_str("#333");
            let _ = ctx.fill_text(&names[r], LEFT - 8.0, y + ROW_PX * 0.65);
            let Some(ev) = slot.get() else { continue };
            let times = ev.times.to_f64();
            let values = ev.values.as_ref().map(ns_protocol::TypedBuffer::to_f64);
            // IntervalSeries: +1 opens a span, -1 (or any negative) closes it.
            if let Some(v) = &values
                && v.iter().any(|x| *x < 0.0)
            {
                let mut open: Option<f64> = None;
                ctx.set_fill_style_str("rgba(78, 121, 167, 0.45)");
                for (t, x) in times.iter().zip(v) {
                    if *x > 0.0 {
                        open = Some(*t);
                    } else if let Some(s) = open.take() {
                        let (x0, x1) = (f.x_of(s).max(LEFT), f.x_of(*t).min(f.width));
                        if x1 >= LEFT && x0 <= f.width {
                            ctx.fill_rect(x0, y + 3.0, (x1 - x0).max(1.0), ROW_PX - 6.0);
                        }
                    }
                }
            }
            for (i, t) in times.iter().enumerate() {
                let x = f.x_of(*t);
                if x < LEFT || x > f.width {
                    continue;
                }
                let color = match values.as_ref().and_then(|v| v.get(i)) {
                    #[expect(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        reason = "label indices"
                    )]
                    Some(v) if !ev.label_names.is_empty() && *v >= 0.0 => {
                        PALETTE[(*v as usize) % PALETTE.len()]
                    }
                    Some(v) if *v < 0.0 => "#e15759",
                    _ => "#1f3b73",
                };
                ctx.set_fill_style_str(color);
                ctx.fill_rect(x.round() - 0.5, y + 2.0, 1.5, ROW_PX - 4.0);
            }
        }
        f.axis_and_cursor();
    });
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let height = Signal::derive(move || rows as f64 * ROW_PX + AXIS + 8.0);
    view! {
        <div class="toolbar"><TimeControls time=time/>
            <span class="count" data-testid="event-count">{move || {
                let (mut total, mut shown) = (0, 0);
                for s in &data { if let Some(ev) = s.get() { total += ev.total; shown += ev.times.len(); } }
                let shown = shown as u64;
                if total > shown { format!("{total} events near the window (every {}th drawn)", total / shown.max(1)) } else { format!("{total} events near the window") }
            }}</span>
        </div>
        <TimeCanvas time=time height=height draw=draw width=width test_id="events-canvas"/>
        {move || error.get().map(|e| view! { <ErrorPanel error=e/> })}
    }
}
