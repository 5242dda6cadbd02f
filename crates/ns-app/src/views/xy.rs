//! SpatialSeries as a 2-D trajectory: points colored by time, the visible
//! window highlighted, the sample at the current time marked. X and Y
//! against time are the timeseries view of the same object.

use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use ns_protocol::{GetSamples, GetSeries, Samples, SeriesInfo};

use super::canvas::TimeControls;
use super::{TimeContext, ViewDef, ViewProps};
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "SpatialSeriesXY",
    title: "X/Y",
    aliases: &["X/Y"],
    types: &["SpatialSeries"],
    render: Some(|p| view! { <XyView props=p/> }.into_any()),
};

/// Points read for the whole trajectory at most.
const MAX_POINTS: u32 = 20_000;
const SIZE: f64 = 420.0;
const PAD: f64 = 36.0;

#[component]
fn XyView(props: ViewProps) -> impl IntoView {
    let path = props.path.clone();
    let time = props.time;
    let data = crate::reactive::resource(move || {
        let path = path.clone();
        async move {
            let info = client::request(GetSeries { path: path.clone() }).await?;
            let samples = client::request(GetSamples {
                path,
                start_secs: info.start_secs,
                end_secs: info.end_secs,
                channels: Some((0, 2)),
                max_points: MAX_POINTS,
            })
            .await?;
            Ok::<_, ns_protocol::WorkerError>((info, samples))
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the trajectory…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok((info, s)) => view! { <Trajectory info=info samples=s time=time/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Trajectory(info: SeriesInfo, samples: Samples, time: TimeContext) -> impl IntoView {
    if info.num_channels < 2 {
        return view! { <p class="empty">"This series has one column: the timeseries view shows it against time."</p> }.into_any();
    }
    time.add_extent(
        info.start_secs,
        info.end_secs,
        (info.start_secs, info.end_secs),
    );
    let t = Rc::new(samples.times.to_f64());
    let v = samples.values.to_f64();
    let ch = usize::try_from(samples.channels).unwrap_or(2).max(1);
    let xs: Rc<Vec<f64>> = Rc::new(v.iter().step_by(ch).copied().collect());
    let ys: Rc<Vec<f64>> = Rc::new(v.iter().skip(1).step_by(ch).copied().collect());
    let finite = |a: &[f64]| {
        a.iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            })
    };
    let (x0, x1) = finite(&xs);
    let (y0, y1) = finite(&ys);
    let canvas = NodeRef::<Canvas>::new();
    let unit = samples.unit.clone().unwrap_or_default();
    let stride = samples.stride;
    let (t2, xs2, ys2) = (Rc::clone(&t), Rc::clone(&xs), Rc::clone(&ys));
    crate::reactive::effect(move || {
        let Some(c) = canvas.get() else { return };
        let window = time.window.get();
        let current = time.current.get();
        let Some(ctx) = super::canvas::context_2d(&c) else {
            return;
        };
        ctx.set_fill_style_str("#fff");
        ctx.fill_rect(0.0, 0.0, SIZE, SIZE);
        let span = (x1 - x0).max(y1 - y0).max(1e-12);
        let px = |x: f64| PAD + (x - x0) / span * (SIZE - 2.0 * PAD);
        let py = |y: f64| SIZE - PAD - (y - y0) / span * (SIZE - 2.0 * PAD);
        let n = t2.len().max(2);
        ctx.set_line_width(1.0);
        for i in 1..t2.len() {
            let (xa, ya, xb, yb) = (xs2[i - 1], ys2[i - 1], xs2[i], ys2[i]);
            if !(xa.is_finite() && ya.is_finite() && xb.is_finite() && yb.is_finite()) {
                continue;
            }
            let inside = window.is_some_and(|(a, b)| t2[i] >= a && t2[i] <= b);
            #[expect(clippy::cast_precision_loss, reason = "point counts")]
            let hue = 240.0 - 240.0 * (i as f64) / (n as f64);
            let color = if inside {
                format!("hsl({hue:.0}, 85%, 40%)")
            } else {
                format!("hsla({hue:.0}, 40%, 60%, 0.35)")
            };
            ctx.set_stroke_style_str(&color);
            ctx.set_line_width(if inside { 2.0 } else { 1.0 });
            ctx.begin_path();
            ctx.move_to(px(xa), py(ya));
            ctx.line_to(px(xb), py(yb));
            ctx.stroke();
        }
        // The sample at the current time (the last at or before it).
        if let Some(c) = current {
            let i = t2.partition_point(|t| *t <= c).saturating_sub(1);
            if let (Some(x), Some(y)) = (xs2.get(i), ys2.get(i))
                && x.is_finite()
                && y.is_finite()
            {
                ctx.set_fill_style_str("#d33");
                ctx.begin_path();
                let _ = ctx.arc(px(*x), py(*y), 5.0, 0.0, std::f64::consts::TAU);
                ctx.fill();
            }
        }
        ctx.set_fill_style_str("#333");
        ctx.set_font("11px sans-serif");
        ctx.set_text_align("left");
        let _ = ctx.fill_text(
            &format!("x {x0:.3} … {:.3} {unit}", x0 + span),
            PAD,
            SIZE - 8.0,
        );
        let _ = ctx.fill_text(&format!("y {y0:.3} … {:.3} {unit}", y0 + span), 4.0, 14.0);
    });
    view! {
        <div class="toolbar"><TimeControls time=time/>
            <span class="count">{format!("{} points{}", t.len(), if stride > 1 { format!(" (every {stride}th sample)") } else { String::new() })}</span>
        </div>
        <canvas class="xy" node_ref=canvas width=SIZE.to_string() height=SIZE.to_string() data-testid="xy-canvas"></canvas>
    }
    .into_any()
}
