//! The spike raster (Units, any table with ragged spike or event times):
//! one row per unit with its label and firing rate in the window, spikes
//! as ticks (per-pixel counts as shades when they would overlap), unit
//! paging, sorting by id or any column, coloring by a categorical column,
//! subsetting by column conditions (kept in the URL as `units=`). Moves
//! with the tab's shared time context.

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use ns_protocol::{GetRaster, GetUnits, Raster, UnitsInfo, WorkerError};

use super::canvas::{AXIS, Frame, LEFT, TimeCanvas, TimeControls};
use super::intervals::PALETTE;
use super::{TimeContext, ViewDef};
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "Raster",
    title: "Raster",
    aliases: &["RasterPlot", "DirectRasterPlot"],
    types: &["Units"],
    render: Some(|p| view! { <RasterView path=p.path time=p.time/> }.into_any()),
};

/// The URL parameter of the units subset.
pub const UNITS_PARAM: &str = "units";
const SORT_PARAM: &str = "units-sort";
const COLOR_PARAM: &str = "units-color";
const FIRST_PARAM: &str = "units-first";
const PER_PAGE_PARAM: &str = "units-per-page";

#[component]
pub fn RasterView(path: String, time: TimeContext) -> impl IntoView {
    let p = path.clone();
    let info = crate::reactive::resource(move || {
        let path = p.clone();
        async move { client::request(GetUnits { path }).await }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the units…"</p> }>
            {move || info.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(info) => view! { <Rows info=Arc::new(info) time=time/> }.into_any(),
            })}
        </Suspense>
    }
}

pub use ns_figures::{filtered_rows, sorted_rows};

#[component]
fn Rows(info: Arc<UnitsInfo>, time: TimeContext) -> impl IntoView {
    let n = info.ids.len();
    if n == 0 {
        return view! { <p class="empty" data-testid="empty">"This table has no units."</p> }
            .into_any();
    }
    time.add_extent(
        info.start_secs,
        info.end_secs,
        (info.start_secs, info.end_secs.min(info.start_secs + 10.0)),
    );
    let filter = RwSignal::new(crate::url::param(UNITS_PARAM).unwrap_or_default());
    // Sorting, coloring and paging are kept in the URL too (`units-sort=
    // [-]column`, `units-color=`, `units-first=`, `units-per-page=`), so a
    // link or a shared figure shows the same rows.
    let sort_param = crate::url::param(SORT_PARAM).unwrap_or_default();
    let sort_by = RwSignal::new(
        Some(sort_param.trim_start_matches('-').to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "id".to_string()),
    );
    let descending = RwSignal::new(sort_param.starts_with('-'));
    let color_by = RwSignal::new(crate::url::param(COLOR_PARAM).unwrap_or_default());
    let first = RwSignal::new(
        crate::url::param(FIRST_PARAM)
            .and_then(|f| f.parse::<usize>().ok())
            .filter(|f| *f < n)
            .unwrap_or(0),
    );
    let per_page = RwSignal::new(
        crate::url::param(PER_PAGE_PARAM)
            .and_then(|f| f.parse::<usize>().ok())
            .filter(|p| (1..=1000).contains(p))
            .unwrap_or(50)
            .min(n),
    );
    crate::reactive::effect(move || {
        let sort = match (sort_by.get(), descending.get()) {
            (s, false) if s == "id" => None,
            (s, d) => Some(format!("{}{s}", if d { "-" } else { "" })),
        };
        let color = Some(color_by.get()).filter(|c| !c.is_empty());
        let f = Some(first.get()).filter(|f| *f > 0).map(|f| f.to_string());
        let p = Some(per_page.get())
            .filter(|p| *p != n.min(50))
            .map(|p| p.to_string());
        crate::url::set_params(&[
            (SORT_PARAM, sort),
            (COLOR_PARAM, color),
            (FIRST_PARAM, f),
            (PER_PAGE_PARAM, p),
        ]);
    });
    let width = RwSignal::new(0.0f64);
    let i2 = Arc::clone(&info);
    let selected = Memo::new(move |_| filtered_rows(&i2, &filter.get()));
    Effect::new(move |prev: Option<()>| {
        let f = filter.get();
        crate::url::set_params(&[(
            UNITS_PARAM,
            Some(f.trim().to_string()).filter(|f| !f.is_empty()),
        )]);
        // A new subset starts at its first page (not the page the URL gave).
        if prev.is_some() {
            first.set(0);
        }
    });
    let i3 = Arc::clone(&info);
    let order = Memo::new(move |_| match selected.get() {
        Ok(rows) => sorted_rows(&i3, &rows, &sort_by.get(), descending.get()),
        Err(_) => Vec::new(),
    });
    let page = Memo::new(move |_| {
        order
            .get()
            .into_iter()
            .skip(first.get())
            .take(per_page.get())
            .collect::<Vec<usize>>()
    });
    let data = RwSignal::new(None::<(Arc<Raster>, (f64, f64))>);
    let error = RwSignal::new(None::<WorkerError>);
    let want = StoredValue::new(None::<GetRaster>);
    let busy = StoredValue::new(false);
    let path = info.path.clone();
    crate::reactive::effect(move || {
        let (Some((a, b)), w) = (time.window.get(), width.get()) else {
            return;
        };
        let rows: Vec<usize> = page.get();
        if w <= 0.0 || rows.is_empty() {
            return;
        }
        want.set_value(Some(ns_figures::raster_request(
            &path,
            &rows,
            (a, b),
            w,
            LEFT,
        )));
        if busy.get_value() {
            return;
        }
        busy.set_value(true);
        leptos::task::spawn_local(async move {
            while let Some(request) = want.try_get_value().flatten() {
                want.set_value(None);
                let (s, e) = (request.start_secs, request.end_secs);
                match client::request(request).await {
                    Ok(r) => {
                        data.set(Some((Arc::new(r), (s, e))));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            }
            busy.set_value(false);
        });
    });
    let i4 = Arc::clone(&info);
    let draw = Rc::new(move |f: &Frame| {
        f.clear();
        let rows = page.get();
        let plot_h = (f.height - AXIS - 4.0).max(1.0);
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let row_h = plot_h / rows.len().max(1) as f64;
        let color_col = i4
            .columns
            .iter()
            .find(|c| c.name == color_by.get() && c.categories.is_some());
        let color_of = |row: usize| -> &'static str {
            match color_col {
                Some(c) => {
                    let v = c.values.get(row);
                    let k = c
                        .categories
                        .as_ref()
                        .and_then(|cats| cats.iter().position(|x| Some(x) == v))
                        .unwrap_or(0);
                    PALETTE[k % PALETTE.len()]
                }
                None => "#1f3b73",
            }
        };
        let ctx = &f.ctx;
        ctx.set_font("10px sans-serif");
        ctx.set_text_align("right");
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "small counts"
        )]
        let every = (11.0 / row_h).ceil().max(1.0) as usize;
        let data = data.get();
        for (k, row) in rows.iter().enumerate() {
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let y = 4.0 + k as f64 * row_h;
            let color = color_of(*row);
            if let Some((r, (s, e))) = &data {
                let Some(u) = r.units.iter().position(|x| *x == *row as u64) else {
                    continue;
                };
                if let Some(times) = &r.times {
                    let start: u64 = r.counts[..u].iter().sum();
                    let count = r.counts[u];
                    ctx.set_fill_style_str(color);
                    for i in start..start + count {
                        let Some(t) = times.get_f64(usize::try_from(i).unwrap_or(usize::MAX))
                        else {
                            break;
                        };
                        let x = f.x_of(t);
                        if x >= LEFT && x <= f.width {
                            ctx.fill_rect(x.round(), y + row_h * 0.1, 1.0, (row_h * 0.8).max(1.0));
                        }
                    }
                } else if let Some(binned) = &r.binned {
                    let bins = usize::try_from(r.bins).unwrap_or(1);
                    #[expect(clippy::cast_precision_loss, reason = "bin counts")]
                    let bw = (e - s) / bins as f64;
                    ctx.set_fill_style_str(color);
                    for bi in 0..bins {
                        let c = binned.get_f64(u * bins + bi).unwrap_or(0.0);
                        if c <= 0.0 {
                            continue;
                        }
                        #[expect(clippy::cast_precision_loss, reason = "bin index")]
                        let t0 = s + bi as f64 * bw;
                        let (x0, x1) = (f.x_of(t0), f.x_of(t0 + bw));
                        if x1 < LEFT || x0 > f.width {
                            continue;
                        }
                        ctx.set_global_alpha((0.25 + 0.25 * c).min(1.0));
                        ctx.fill_rect(
                            x0.max(LEFT),
                            y + row_h * 0.1,
                            (x1 - x0).max(1.0),
                            (row_h * 0.8).max(1.0),
                        );
                    }
                    ctx.set_global_alpha(1.0);
                }
            }
            if k % every == 0 {
                ctx.set_fill_style_str("#333");
                let label = i4
                    .ids
                    .get(*row)
                    .map_or_else(String::new, ToString::to_string);
                let _ = ctx.fill_text(&label, LEFT - 8.0, y + row_h * 0.5 + 3.5);
            }
        }
        f.axis_and_cursor();
    });
    let height = Signal::derive(move || {
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let rows = page.get().len().max(1) as f64;
        (rows * (600.0 / rows).clamp(2.0, 18.0)).max(60.0) + AXIS + 8.0
    });
    let names: Vec<String> = info.columns.iter().map(|c| c.name.clone()).collect();
    let categorical: Vec<String> = info
        .columns
        .iter()
        .filter(|c| c.categories.is_some())
        .map(|c| c.name.clone())
        .collect();
    let filter_text = RwSignal::new(filter.get_untracked());
    let warnings = info.warnings.clone();
    // Firing rates in the visible window, for the rows of the page.
    let i5 = Arc::clone(&info);
    let rates = move || {
        let (Some((r, _)), Some((a, b))) = (data.get(), time.window.get()) else {
            return String::new();
        };
        let mut parts = Vec::new();
        for (u, row) in r.units.iter().enumerate().take(8) {
            #[expect(clippy::cast_precision_loss, reason = "spike counts")]
            let n = match &r.times {
                Some(times) => {
                    let start: u64 = r.counts[..u].iter().sum();
                    (start..start + r.counts[u])
                        .filter(|i| {
                            times
                                .get_f64(usize::try_from(*i).unwrap_or(usize::MAX))
                                .is_some_and(|t| t >= a && t < b)
                        })
                        .count() as f64
                }
                None => r.counts[u] as f64,
            };
            let id = usize::try_from(*row)
                .ok()
                .and_then(|i| i5.ids.get(i))
                .copied()
                .unwrap_or(0);
            parts.push(format!("{id}: {:.1} Hz", n / (b - a).max(1e-9)));
        }
        parts.join(" · ")
    };
    view! {
        {warnings.into_iter().map(|w| view! { <p class="warning" data-testid="warning">"⚠ " {w}</p> }).collect_view()}
        <div class="toolbar">
            <TimeControls time=time/>
            <span class="channel-controls">
                <button title="Previous units" on:click=move |_| first.update(|f| *f = f.saturating_sub(per_page.get_untracked()))>"‹"</button>
                <span data-testid="unit-range">{move || {
                    let total = order.get().len();
                    let shown = page.get().len();
                    if shown == 0 { "no units".to_string() } else {
                        format!("units {}–{} of {total}{}", first.get() + 1, first.get() + shown, if total < n { format!(" (of {n})") } else { String::new() })
                    }
                }}</span>
                <button title="Next units" on:click=move |_| {
                    let total = order.get_untracked().len();
                    first.update(|f| if *f + per_page.get_untracked() < total { *f += per_page.get_untracked() });
                }>"›"</button>
                <select title="Units shown" data-testid="unit-count" on:change=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<usize>() { per_page.set(v); }
                }>
                    {[10usize, 25, 50, 100, 200, 500, 1000].into_iter().map(|c| view! {
                        <option value=c.to_string() selected=move || per_page.get() == c>{c}</option>
                    }).collect_view()}
                </select>
            </span>
            <label>"sort by "
                <select data-testid="sort-by" on:change=move |ev| sort_by.set(event_target_value(&ev))>
                    <option value="id">"id"</option>
                    {names.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label><input type="checkbox" on:change=move |ev| descending.set(event_target_checked(&ev))/>"descending"</label>
            <label>"color by "
                <select data-testid="color-by" on:change=move |ev| color_by.set(event_target_value(&ev))>
                    <option value="">"(none)"</option>
                    {categorical.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                </select>
            </label>
        </div>
        <form class="filter" on:submit=move |ev| { ev.prevent_default(); filter.set(filter_text.get_untracked()); }>
            <label>"Units where "
                <input type="text" data-testid="unit-filter" placeholder="quality=good, spike_count>100" prop:value=move || filter_text.get()
                    on:input=move |ev| filter_text.set(event_target_value(&ev))/>
            </label>
            <button type="submit">"filter"</button>
            {move || selected.get().err().map(|e| view! { <span class="filter-error" data-testid="filter-error">{e}</span> })}
        </form>
        <TimeCanvas time=time height=height draw=draw width=width test_id="raster-canvas"/>
        <p class="view-status" data-testid="rates">{rates}</p>
        {move || error.get().map(|e| view! { <ErrorPanel error=e/> })}
    }
    .into_any()
}
