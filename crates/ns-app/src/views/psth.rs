//! The PSTH (`tab=view:PSTH|<trials>^<units>`): per unit and per
//! alignment column, a trial raster (rows by group) above a histogram of
//! rates per group, with Neurosift's state in the URL hash under its key
//! names (`units`, `alignTo`, `groupBy`, `categories`, `windowStart`,
//! `windowEnd`, `numBins`, `smoothed`, `sortBy`, `sortDir`, `showRaster`,
//! `showHist`, `plotHeight`; defaults are not written). Beyond Neurosift:
//! alignment to an events series, a trials filter from column conditions
//! (`trials=`), and error bars (SEM, `errorBars=1`).

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use ns_protocol::{GetUnits, Psth, UnitsInfo};
use web_sys::CanvasRenderingContext2d;

use super::intervals::PALETTE;
use super::{ViewDef, ViewProps};
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "PSTH",
    title: "PSTH",
    aliases: &[],
    types: &["TimeIntervals"],
    render: Some(|p| view! { <PsthView props=p/> }.into_any()),
};

pub use ns_figures::PsthState as State;

fn write_hash(state: &State) {
    let Some(w) = web_sys::window() else { return };
    let loc = w.location();
    let url = format!(
        "{}{}#{}",
        loc.pathname().unwrap_or_default(),
        loc.search().unwrap_or_default(),
        state.to_hash()
    );
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

#[component]
fn PsthView(props: ViewProps) -> impl IntoView {
    let units_path = props
        .secondary
        .first()
        .cloned()
        .unwrap_or_else(|| "/units".into());
    let trials_path = props.path.clone();
    let up = units_path.clone();
    let info = crate::reactive::resource(move || {
        let path = up.clone();
        async move { client::request(GetUnits { path }).await }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the units…"</p> }>
            {move || info.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(info) => view! { <Psths info=Arc::new(info) trials_path=trials_path.clone()/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Psths(info: Arc<UnitsInfo>, trials_path: String) -> impl IntoView {
    let initial = ns_figures::psth_initial_state(
        &info,
        &web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default(),
    );
    let state = RwSignal::new(initial);
    crate::reactive::effect(move || write_hash(&state.get()));
    // The units shown: the URL's units selection (from the raster or the
    // units table), in the state's order.
    let selection = crate::url::param(super::raster::UNITS_PARAM).unwrap_or_default();
    let allowed: Vec<usize> = super::raster::filtered_rows(&info, &selection)
        .unwrap_or_else(|_| (0..info.ids.len()).collect());
    let i2 = Arc::clone(&info);
    let sel = selection.clone();
    let shown = Memo::new(move |_| ns_figures::psth_rows(&i2, &state.get(), &sel));
    let set = move |f: &dyn Fn(&mut State)| state.update(|s| f(s));
    let i3 = Arc::clone(&info);
    let ids = info.ids.clone();
    let counts = info.spike_counts.clone();
    let tp = trials_path.clone();
    let up = info.path.clone();
    // One answer per alignment column, for every shown unit.
    let psths = crate::reactive::resource(move || {
        let s = state.get();
        let rows = shown.get();
        let units: Vec<u64> = rows.iter().map(|r| *r as u64).collect();
        let (tp, up) = (tp.clone(), up.clone());
        async move {
            let requests = ns_figures::psth_requests(&up, &tp, &rows, &s).map_err(|m| {
                ns_protocol::WorkerError::new(ns_protocol::ErrorKind::BadRequest, m)
            })?;
            let mut out = Vec::new();
            for request in requests {
                out.push(client::request(request).await?);
            }
            Ok::<_, ns_protocol::WorkerError>((units, out))
        }
    });
    let candidates = move || {
        psths.get().and_then(|r| r.ok()).and_then(|(_, p)| {
            p.first()
                .map(|p| (p.align_candidates.clone(), p.group_candidates.clone()))
        })
    };
    let num = |ev: &leptos::ev::Event| event_target_value(ev).parse::<f64>().ok();
    view! {
        <div class="psth">
            <div class="psth-controls toolbar">
                <label>"window "
                    <input type="number" step="0.1" data-testid="window-start" prop:value=move || state.get().window_start.to_string()
                        on:change=move |ev| if let Some(v) = num(&ev) { set(&|s| s.window_start = v) }/>
                    " to "
                    <input type="number" step="0.1" data-testid="window-end" prop:value=move || state.get().window_end.to_string()
                        on:change=move |ev| if let Some(v) = num(&ev) { set(&|s| s.window_end = v) }/>" s"
                </label>
                <label>"bins "
                    <input type="number" min="1" max="1000" data-testid="num-bins" prop:value=move || state.get().num_bins.to_string()
                        on:change=move |ev| if let Some(v) = num(&ev) {
                            #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "clamped to 1..=1000")]
                            let n = v.clamp(1.0, 1000.0) as u32;
                            set(&|s| s.num_bins = n);
                        }/>
                </label>
                <label><input type="checkbox" data-testid="smoothed" prop:checked=move || state.get().smoothed on:change=move |ev| { let c = event_target_checked(&ev); set(&|s| s.smoothed = c) }/>"smoothed"</label>
                <label><input type="checkbox" prop:checked=move || state.get().show_raster on:change=move |ev| { let c = event_target_checked(&ev); set(&|s| s.show_raster = c) }/>"raster"</label>
                <label><input type="checkbox" prop:checked=move || state.get().show_hist on:change=move |ev| { let c = event_target_checked(&ev); set(&|s| s.show_hist = c) }/>"histogram"</label>
                <label><input type="checkbox" prop:checked=move || state.get().error_bars on:change=move |ev| { let c = event_target_checked(&ev); set(&|s| s.error_bars = c) }/>"SEM"</label>
                <label>"height "
                    <select on:change=move |ev| { let v = event_target_value(&ev); set(&|s| s.plot_height.clone_from(&v)) }>
                        {["small", "medium", "large"].into_iter().map(|h| view! { <option value=h selected=move || state.get().plot_height == h>{h}</option> }).collect_view()}
                    </select>
                </label>
                {move || candidates().map(|(aligns, groups)| view! {
                    <label>"align to "
                        <span class="checks" data-testid="align-to">{aligns.into_iter().map(|a| {
                            let a2 = a.clone();
                            let label = a.clone();
                            view! { <label><input type="checkbox" prop:checked=move || state.get().align_to.contains(&a2)
                                on:change=move |ev| { let on = event_target_checked(&ev); let a = a.clone(); set(&|s| {
                                    s.align_to.retain(|x| *x != a);
                                    if on { s.align_to.push(a.clone()); }
                                    if s.align_to.is_empty() { s.align_to.push("start_time".into()); }
                                }) }/>{label}</label> }
                        }).collect_view()}</span>
                    </label>
                    <label>"group by "
                        <select data-testid="group-by" on:change=move |ev| { let v = event_target_value(&ev); set(&|s| { s.group_by = Some(v.clone()).filter(|v| !v.is_empty()); s.categories.clear(); }) }>
                            <option value="">"(none)"</option>
                            {groups.into_iter().map(|g| { let g2 = g.clone(); view! { <option value=g.clone() selected=move || state.get().group_by.as_deref() == Some(g2.as_str())>{g.clone()}</option> } }).collect_view()}
                        </select>
                    </label>
                })}
                <form class="filter" on:submit=move |ev| ev.prevent_default()>
                    <label>"trials where "
                        <input type="text" data-testid="trial-filter" placeholder="correct=true" prop:value=move || state.get().trials
                            on:change=move |ev| { let v = event_target_value(&ev); set(&|s| s.trials.clone_from(&v)) }/>
                    </label>
                </form>
            </div>
            <div class="psth-body">
                <div class="units-list" data-testid="units-list">
                    <label><input type="checkbox" prop:checked=move || state.get().units.is_none()
                        on:change=move |ev| { let all = event_target_checked(&ev); set(&|s| s.units = if all { None } else { Some(Vec::new()) }) }/>"all"</label>
                    {(!selection.is_empty()).then(|| view! { <span class="count">{format!("units where {selection}:")}</span> })}
                    {allowed.iter().filter_map(|r| Some((*ids.get(*r)?, *counts.get(*r)?))).map(|(id, n)| {
                        view! { <label><input type="checkbox" data-unit=id.to_string()
                            prop:checked=move || state.get().units.as_ref().is_none_or(|u| u.contains(&id))
                            on:change=move |ev| { let on = event_target_checked(&ev); set(&|s| {
                                let mut u = s.units.clone().unwrap_or_default();
                                u.retain(|x| *x != id);
                                if on { u.push(id); }
                                s.units = Some(u);
                            }) }/>{format!("{id} ({n})")}</label> }
                    }).collect_view()}
                </div>
                <div class="psth-plots">
                    <Suspense fallback=|| view! { <p class="loading">"Computing…"</p> }>
                        {move || psths.get().map(|r| match r {
                            Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                            Ok((units, ps)) => plots(&i3, &units, ps, &state.get()).into_any(),
                        })}
                    </Suspense>
                </div>
            </div>
        </div>
    }
}

fn plots(info: &UnitsInfo, units: &[u64], ps: Vec<Psth>, state: &State) -> impl IntoView + use<> {
    let height = match state.plot_height.as_str() {
        "small" => 300.0,
        "large" => 900.0,
        _ => 600.0,
    } / 2.0;
    let ps: Vec<Arc<Psth>> = ps.into_iter().map(Arc::new).collect();
    let warnings: Vec<String> = ps.first().map(|p| p.warnings.clone()).unwrap_or_default();
    let legend = ps.first().map(|p| p.groups.clone()).unwrap_or_default();
    let legend_counts = ps
        .first()
        .map(|p| p.trials_per_group.clone())
        .unwrap_or_default();
    let state = state.clone();
    view! {
        {warnings.into_iter().map(|w| view! { <p class="warning">"⚠ " {w}</p> }).collect_view()}
        {(legend.len() > 1).then(|| view! {
            <p class="legend" data-testid="legend">{legend.iter().zip(&legend_counts).enumerate().map(|(i, (g, n))| view! {
                <span style=format!("color: {}", PALETTE[i % PALETTE.len()])>{format!("■ {g} ({n} trials) ")}</span>
            }).collect_view()}</p>
        })}
        {units.iter().enumerate().map(|(u, row)| {
            let id = usize::try_from(*row).ok().and_then(|r| info.ids.get(r)).copied().unwrap_or(0);
            view! {
                <div class="psth-unit">
                    <h4>{format!("unit {id}")}</h4>
                    <div class="psth-row">
                        {ps.iter().map(|p| view! {
                            <div class="psth-cell">
                                <div class="psth-align">{p.align_to.clone()}</div>
                                <PsthCanvas p=Arc::clone(p) unit=u height=height state=state.clone()/>
                            </div>
                        }).collect_view()}
                    </div>
                </div>
            }
        }).collect_view()}
    }
}

#[component]
fn PsthCanvas(p: Arc<Psth>, unit: usize, height: f64, state: State) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    const W: f64 = 420.0;
    let raster_h = if state.show_raster { height } else { 0.0 };
    let hist_h = if state.show_hist { height } else { 0.0 };
    let total_h = raster_h + hist_h + 20.0;
    let p2 = Arc::clone(&p);
    crate::reactive::effect(move || {
        let Some(c) = canvas.get() else { return };
        let Some(ctx) = super::canvas::context_2d(&c) else {
            return;
        };
        draw(&ctx, &p2, unit, W, raster_h, hist_h, &state);
    });
    view! { <canvas node_ref=canvas width=W.to_string() height=total_h.to_string() data-testid="psth-canvas"></canvas> }
}

const PAD: f64 = 36.0;

fn draw(
    ctx: &CanvasRenderingContext2d,
    p: &Psth,
    unit: usize,
    w: f64,
    raster_h: f64,
    hist_h: f64,
    s: &State,
) {
    ctx.set_fill_style_str("#fff");
    ctx.fill_rect(0.0, 0.0, w, raster_h + hist_h + 20.0);
    let (ws, we) = (s.window_start, s.window_end);
    let x_of = |t: f64| PAD + (t - ws) / (we - ws) * (w - PAD - 8.0);
    let row_group = p.row_group.to_f64();
    let rows = row_group.len();
    if raster_h > 0.0 && rows > 0 {
        let ends = p.raster_ends.to_f64();
        let times = p.raster_times.to_f64();
        #[expect(clippy::cast_precision_loss, reason = "row counts")]
        let rh = raster_h / rows as f64;
        let base = unit * rows;
        let mut start = if base == 0 {
            0.0
        } else {
            ends.get(base - 1).copied().unwrap_or(0.0)
        };
        for (r, g) in row_group.iter().enumerate() {
            let end = ends.get(base + r).copied().unwrap_or(start);
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "indices"
            )]
            let (a, b, gi) = (start as usize, end as usize, *g as usize);
            ctx.set_fill_style_str(PALETTE[gi % PALETTE.len()]);
            #[expect(clippy::cast_precision_loss, reason = "row index")]
            let y = r as f64 * rh;
            for t in times.get(a..b.max(a)).unwrap_or_default() {
                ctx.fill_rect(x_of(*t).round(), y, 1.0, rh.max(1.0));
            }
            start = end;
        }
    }
    if hist_h > 0.0 {
        let rates = p.rates.to_f64();
        let sem = p.sem.as_ref().map(ns_protocol::TypedBuffer::to_f64);
        let nb = usize::try_from(p.bins).unwrap_or(1);
        let ng = p.groups.len();
        let slice = |v: &[f64], g: usize| {
            v.get((unit * ng + g) * nb..(unit * ng + g + 1) * nb)
                .map(<[f64]>::to_vec)
                .unwrap_or_default()
        };
        let top = rates
            .get(unit * ng * nb..(unit + 1) * ng * nb)
            .unwrap_or_default()
            .iter()
            .copied()
            .fold(0.0f64, f64::max)
            .max(1e-9);
        let y0 = raster_h + hist_h;
        let y_of = |r: f64| y0 - r / top * (hist_h - 6.0);
        #[expect(clippy::cast_precision_loss, reason = "bin counts")]
        let bw = (we - ws) / nb as f64;
        for g in 0..ng {
            let rs = slice(&rates, g);
            let color = PALETTE[g % PALETTE.len()];
            ctx.set_stroke_style_str(color);
            ctx.set_line_width(1.5);
            ctx.begin_path();
            for (k, r) in rs.iter().enumerate() {
                #[expect(clippy::cast_precision_loss, reason = "bin index")]
                let (t0, t1) = (ws + k as f64 * bw, ws + (k + 1) as f64 * bw);
                if s.smoothed {
                    let x = x_of((t0 + t1) / 2.0);
                    if k == 0 {
                        ctx.move_to(x, y_of(*r))
                    } else {
                        ctx.line_to(x, y_of(*r))
                    }
                } else {
                    if k == 0 {
                        ctx.move_to(x_of(t0), y_of(*r))
                    } else {
                        ctx.line_to(x_of(t0), y_of(*r))
                    }
                    ctx.line_to(x_of(t1), y_of(*r));
                }
            }
            ctx.stroke();
            if s.error_bars
                && let Some(sem) = &sem
            {
                let es = slice(sem, g);
                for (k, (r, e)) in rs.iter().zip(&es).enumerate() {
                    #[expect(clippy::cast_precision_loss, reason = "bin index")]
                    let x = x_of(ws + (k as f64 + 0.5) * bw);
                    ctx.begin_path();
                    ctx.move_to(x, y_of(r - e));
                    ctx.line_to(x, y_of(r + e));
                    ctx.stroke();
                }
            }
        }
        ctx.set_fill_style_str("#333");
        ctx.set_font("10px sans-serif");
        ctx.set_text_align("right");
        let _ = ctx.fill_text(&format!("{top:.1} Hz"), PAD - 3.0, raster_h + 12.0);
        let _ = ctx.fill_text("0", PAD - 3.0, y0);
    }
    // The time axis and the alignment line.
    let y = raster_h + hist_h;
    ctx.set_stroke_style_str("#888");
    ctx.set_line_width(1.0);
    ctx.begin_path();
    ctx.move_to(PAD, y + 0.5);
    ctx.line_to(w - 8.0, y + 0.5);
    ctx.stroke();
    if ws < 0.0 && we > 0.0 {
        ctx.set_stroke_style_str("#d33");
        ctx.begin_path();
        ctx.move_to(x_of(0.0).round() + 0.5, 0.0);
        ctx.line_to(x_of(0.0).round() + 0.5, y);
        ctx.stroke();
    }
    ctx.set_fill_style_str("#333");
    ctx.set_text_align("center");
    let _ = ctx.fill_text(&format!("{ws}"), x_of(ws), y + 14.0);
    let _ = ctx.fill_text("0", x_of(0.0), y + 14.0);
    let _ = ctx.fill_text(&format!("{we} s"), x_of(we) - 10.0, y + 14.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trips_with_neurosift_keys() {
        let s = State::from_hash(
            "#units=3,5&alignTo=start_time,stop_time&groupBy=condition&categories=left&windowStart=-1&windowEnd=2&numBins=80&smoothed=1&sortBy=quality&sortDir=desc&showRaster=0&plotHeight=small",
        );
        assert_eq!(s.units, Some(vec![3, 5]));
        assert_eq!(s.align_to, ["start_time", "stop_time"]);
        assert_eq!(s.group_by.as_deref(), Some("condition"));
        assert_eq!((s.window_start, s.window_end, s.num_bins), (-1.0, 2.0, 80));
        assert!(s.smoothed && s.sort_desc && !s.show_raster && s.show_hist);
        assert_eq!(State::from_hash(&s.to_hash()), s);
        // Defaults are not written; bad values keep them.
        assert_eq!(
            State {
                units: Some(Vec::new()),
                ..State::default()
            }
            .to_hash(),
            ""
        );
        assert_eq!(State::from_hash("numBins=5000&windowStart=x").num_bins, 50);
        assert_eq!(State::from_hash("units=all").units, None);
    }
}
