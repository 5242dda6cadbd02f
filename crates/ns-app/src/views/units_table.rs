//! The units table: every unit with its id, spike count and plain columns,
//! sorted by clicking a column, subset by column conditions (the same
//! `units=` selection in the URL that the raster and the PSTH follow).

use std::sync::Arc;

use leptos::prelude::*;
use ns_protocol::{GetUnits, UnitsInfo};

use super::raster::{UNITS_PARAM, filtered_rows, sorted_rows};
use super::{ViewDef, ViewProps};
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "UnitsTable",
    title: "Units",
    aliases: &["Units"],
    types: &["Units"],
    render: Some(|p| view! { <UnitsTableView props=p/> }.into_any()),
};

/// Rows shown at most (the rest is counted).
const MAX_ROWS: usize = 2000;

#[component]
fn UnitsTableView(props: ViewProps) -> impl IntoView {
    let path = props.path.clone();
    let info = crate::reactive::resource(move || {
        let path = path.clone();
        async move { client::request(GetUnits { path }).await }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the units…"</p> }>
            {move || info.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(info) => view! { <Table info=Arc::new(info)/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Table(info: Arc<UnitsInfo>) -> impl IntoView {
    let filter = RwSignal::new(crate::url::param(UNITS_PARAM).unwrap_or_default());
    let text = RwSignal::new(filter.get_untracked());
    let sort = RwSignal::new(("id".to_string(), false));
    crate::reactive::effect(move || {
        let f = filter.get();
        crate::url::set_params(&[(
            UNITS_PARAM,
            Some(f.trim().to_string()).filter(|f| !f.is_empty()),
        )]);
    });
    let i2 = Arc::clone(&info);
    let rows = Memo::new(move |_| {
        filtered_rows(&i2, &filter.get()).map(|rows| {
            let (by, desc) = sort.get();
            if by == "spike_count" {
                let mut r = rows;
                ns_sort::sort_by_key(&mut r, |i| i2.spike_counts.get(*i).copied().unwrap_or(0));
                if desc {
                    r.reverse();
                }
                r
            } else {
                sorted_rows(&i2, &rows, &by, desc)
            }
        })
    });
    let mut headers = vec!["id".to_string(), "spike_count".to_string()];
    headers.extend(info.columns.iter().map(|c| c.name.clone()));
    let n = info.ids.len();
    let i3 = Arc::clone(&info);
    view! {
        <form class="filter" on:submit=move |ev| { ev.prevent_default(); filter.set(text.get_untracked()); }>
            <label>"Units where "
                <input type="text" data-testid="units-table-filter" placeholder="quality=good, spike_count>100" prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))/>
            </label>
            <button type="submit">"filter"</button>
            <span class="count" data-testid="units-table-count">{move || match rows.get() {
                Ok(r) => format!("{} of {n} units", r.len()),
                Err(e) => e,
            }}</span>
        </form>
        <div class="table-wrap">
            <table class="values dyn-table" data-testid="units-table">
                <tr>{headers.into_iter().map(|h| {
                    let h2 = h.clone();
                    let h3 = h.clone();
                    view! { <th class="sortable" on:click=move |_| sort.update(|(by, desc)| {
                        if *by == h2 { *desc = !*desc } else { by.clone_from(&h2); *desc = false; }
                    })>{h.clone()}{move || {
                        let (by, desc) = sort.get();
                        (by == h3).then_some(if desc { " ▼" } else { " ▲" })
                    }}</th> }
                }).collect_view()}</tr>
                {move || rows.get().unwrap_or_default().into_iter().take(MAX_ROWS).map(|r| {
                    let id = i3.ids.get(r).copied().unwrap_or(0);
                    let count = i3.spike_counts.get(r).copied().unwrap_or(0);
                    view! { <tr><th>{id}</th><td>{count}</td>{i3.columns.iter().map(|c| view! {
                        <td>{c.values.get(r).cloned().unwrap_or_default()}</td>
                    }).collect_view()}</tr> }
                }).collect_view()}
            </table>
        </div>
    }
}
