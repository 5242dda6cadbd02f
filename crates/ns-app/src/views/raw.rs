//! The raw HDF5 view of an object: kind, type, shape, chunks, filters,
//! attributes, and its values paged.

use leptos::prelude::*;
use ns_protocol::{DimSelection, GetObject, GetValues, ObjectInfo, Selection, Values};

use crate::client;
use crate::components::ErrorPanel;

/// Rows of values shown per page in the raw view.
const PAGE_ROWS: u64 = 100;
/// Columns shown at most for 2-D datasets.
const MAX_COLUMNS: u64 = 32;

#[component]
pub fn RawView(path: String) -> impl IntoView {
    let p = path.clone();
    let info = crate::reactive::resource(move || {
        let path = p.clone();
        async move { client::request(GetObject { path }).await }
    });
    view! {
        <h3 class="raw-path">{path}</h3>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || info.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(o) => view! { <ObjectView info=o/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn ObjectView(info: ObjectInfo) -> impl IntoView {
    let shape = info.shape.clone();
    let path = info.path.clone();
    view! {
        <table class="meta" data-testid="object-info">
            <tr><th>"Kind"</th><td>{info.kind.clone()}</td></tr>
            {info.dtype.clone().map(|d| view! { <tr><th>"Type"</th><td>{d}</td></tr> })}
            {info.shape.clone().map(|s| view! { <tr><th>"Shape"</th><td>{format!("{s:?}")}</td></tr> })}
            {info.chunks.clone().map(|c| view! { <tr><th>"Chunks"</th><td>{format!("{c:?}")}</td></tr> })}
            {(!info.filters.is_empty()).then(|| view! { <tr><th>"Filters"</th><td>{info.filters.join(", ")}</td></tr> })}
            {(!info.virtual_sources.is_empty()).then(|| view! {
                <tr data-testid="virtual-sources"><th>"Virtual sources"</th><td>
                    {info.virtual_sources.iter().map(|s| view! { <div>{s.clone()}</div> }).collect_view()}
                </td></tr>
            })}
        </table>
        <h4>"Attributes"</h4>
        <table class="attrs" data-testid="attrs">
            {info.attrs.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
        </table>
        {shape.map(|s| view! { <ValuesView path=path shape=s/> })}
    }
}

#[component]
fn ValuesView(path: String, shape: Vec<u64>) -> impl IntoView {
    let page = RwSignal::new(0u64);
    let rows_total = shape.first().copied().unwrap_or(1);
    let pages = rows_total.div_ceil(PAGE_ROWS).max(1);
    let shape2 = shape.clone();
    let values = crate::reactive::resource(move || {
        let path = path.clone();
        let shape = shape2.clone();
        let pg = page.get();
        async move {
            let range = |start: u64, stop: u64| DimSelection::Range {
                start: Some(start),
                stop: Some(stop),
                step: 1,
            };
            let mut dims = Vec::new();
            if let Some(&n) = shape.first() {
                let start = (pg * PAGE_ROWS).min(n);
                dims.push(range(start, (start + PAGE_ROWS).min(n)));
            }
            if let Some(&m) = shape.get(1) {
                dims.push(range(0, m.min(MAX_COLUMNS)));
            }
            for _ in 2..shape.len() {
                dims.push(DimSelection::Index(0));
            }
            client::request(GetValues {
                path,
                selection: Selection(dims),
            })
            .await
        }
    });
    view! {
        <h4>"Values"</h4>
        <div class="pager">
            <button disabled={move || page.get() == 0} on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"‹ previous"</button>
            <span>{move || format!("rows {}–{} of {rows_total}", page.get() * PAGE_ROWS, ((page.get() + 1) * PAGE_ROWS).min(rows_total))}</span>
            <button disabled={move || page.get() + 1 >= pages} on:click=move |_| page.update(|p| *p += 1)>"next ›"</button>
        </div>
        <Suspense fallback=|| view! { <p class="loading">"Reading…"</p> }>
            {move || values.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(v) => values_table(v, page.get_untracked() * PAGE_ROWS).into_any(),
            })}
        </Suspense>
    }
}

fn values_table(v: Values, first_row: u64) -> impl IntoView {
    let cols = match v.shape.as_slice() {
        [_, c, ..] => usize::try_from(*c).unwrap_or(1).max(1),
        _ => 1,
    };
    let texts: Vec<String> = (0..v.len()).filter_map(|i| v.text(i)).collect();
    let rows: Vec<Vec<String>> = texts.chunks(cols).map(<[String]>::to_vec).collect();
    view! {
        <table class="values" data-testid="values">
            {rows.into_iter().enumerate().map(|(i, row)| view! {
                <tr><th>{first_row + i as u64}</th>{row.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
            }).collect_view()}
        </table>
    }
}
