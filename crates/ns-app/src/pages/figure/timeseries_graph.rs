//! figurl / sortingview's TimeseriesGraph, drawn on the shared time canvas:
//! lines, markers and intervals from the figure's datasets, with a legend
//! of series titles (as text).

use std::rc::Rc;

use leptos::prelude::*;
use ns_figures::TimeseriesGraph;

use crate::views::TimeContext;
use crate::views::canvas::{AXIS, Frame, TimeCanvas, TimeControls};

struct Drawn {
    kind: String,
    t: Vec<f64>,
    y: Vec<f64>,
    color: String,
    width: f64,
    radius: f64,
    dash: Vec<f64>,
    title: String,
}

const COLORS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
];

/// A CSS color and nothing else (it goes into a style attribute).
fn safe_color(c: &str) -> bool {
    c.len() <= 40
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "#(),. %".contains(ch))
}

#[component]
pub fn TimeseriesGraphView(graph: TimeseriesGraph, time: TimeContext) -> impl IntoView {
    let offset = graph.time_offset.unwrap_or(0.0);
    let series: Vec<Drawn> = graph
        .series
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let ds = graph.datasets.iter().find(|d| d.name == s.dataset)?;
            let t = ds.data.get(&s.encoding.t)?.to_f64();
            let y = ds.data.get(&s.encoding.y)?.to_f64();
            Some(Drawn {
                kind: s.kind.clone(),
                t: t.into_iter().map(|t| t + offset).collect(),
                y,
                color: s
                    .attributes
                    .color
                    .clone()
                    .filter(|c| safe_color(c))
                    .unwrap_or_else(|| COLORS[i % COLORS.len()].to_string()),
                width: s.attributes.width.unwrap_or(1.0),
                radius: s.attributes.radius.unwrap_or(2.0),
                dash: s.attributes.dash.clone().unwrap_or_default(),
                title: s.title.clone(),
            })
        })
        .collect();
    let finite = |v: &f64| v.is_finite();
    let t_all = series
        .iter()
        .flat_map(|s| s.t.iter().copied())
        .filter(finite);
    let (t0, t1) = t_all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| {
        (a.min(t), b.max(t))
    });
    let (y0, y1) = match &graph.y_range {
        Some(r) => (r.ymin, r.ymax),
        None => series
            .iter()
            .filter(|s| s.kind != "interval")
            .flat_map(|s| s.y.iter().copied())
            .filter(finite)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
                (a.min(y), b.max(y))
            }),
    };
    let (y0, y1) = if y1 > y0 {
        (y0, y1)
    } else {
        (y0 - 1.0, y0 + 1.0)
    };
    if t1 >= t0 {
        time.add_extent(t0, t1, (t0, t1));
    }
    let legend: Vec<(String, String)> = series
        .iter()
        .filter(|s| !s.title.is_empty())
        .map(|s| (s.title.clone(), s.color.clone()))
        .collect();
    let series = Rc::new(series);
    let draw = Rc::new(move |f: &Frame| {
        f.clear();
        let ctx = &f.ctx;
        let plot_h = (f.height - AXIS - 8.0).max(1.0);
        let y_of = |y: f64| 4.0 + (y1 - y) / (y1 - y0) * plot_h;
        for s in series.iter() {
            ctx.set_stroke_style_str(&s.color);
            ctx.set_fill_style_str(&s.color);
            ctx.set_line_width(s.width);
            let dash = js_sys::Array::new();
            for d in &s.dash {
                dash.push(&(*d).into());
            }
            let _ = ctx.set_line_dash(&dash);
            match s.kind.as_str() {
                "line" => {
                    ctx.begin_path();
                    let mut pen = false;
                    for (t, y) in s.t.iter().zip(&s.y) {
                        if !(t.is_finite() && y.is_finite()) {
                            pen = false;
                            continue;
                        }
                        let (x, yy) = (f.x_of(*t), y_of(*y));
                        if pen {
                            ctx.line_to(x, yy);
                        } else {
                            ctx.move_to(x, yy);
                            pen = true;
                        }
                    }
                    ctx.stroke();
                }
                "marker" => {
                    for (t, y) in s.t.iter().zip(&s.y) {
                        if t.is_finite() && y.is_finite() {
                            ctx.begin_path();
                            let _ =
                                ctx.arc(f.x_of(*t), y_of(*y), s.radius, 0.0, std::f64::consts::TAU);
                            ctx.fill();
                        }
                    }
                }
                // Intervals: t = start, y = end, shaded over the plot.
                _ => {
                    ctx.set_global_alpha(0.25);
                    for (a, b) in s.t.iter().zip(&s.y) {
                        if a.is_finite() && b.is_finite() {
                            let (xa, xb) = (f.x_of(*a), f.x_of(*b));
                            ctx.fill_rect(xa, 4.0, (xb - xa).max(1.0), plot_h);
                        }
                    }
                    ctx.set_global_alpha(1.0);
                }
            }
        }
        let _ = ctx.set_line_dash(&js_sys::Array::new());
        ctx.set_fill_style_str("#333");
        ctx.set_font("11px sans-serif");
        let _ = ctx.fill_text(&format!("{y1:.3}"), 4.0, 14.0);
        let _ = ctx.fill_text(&format!("{y0:.3}"), 4.0, plot_h);
        f.axis_and_cursor();
    });
    let width = RwSignal::new(0.0);
    view! {
        <div class="timeseries-graph" data-testid="timeseries-graph">
            <TimeControls time=time/>
            <TimeCanvas time=time height=Signal::derive(|| 320.0) draw=draw width=width test_id="graph-canvas"/>
            <div class="legend">
                {legend.into_iter().map(|(title, color)| view! {
                    <span class="legend-item"><span class="swatch" style=format!("background:{color}")></span>{title}</span>
                }).collect_view()}
            </div>
        </div>
    }
}
