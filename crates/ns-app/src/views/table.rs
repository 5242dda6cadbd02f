//! Any DynamicTable (electrodes, trials, units, custom): paged, ragged
//! cells shown as counts that expand to their values, region cells naming
//! the rows they point to.

use leptos::prelude::*;
use ns_protocol::{GetCell, GetTable, TablePage};

use super::ViewDef;
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "dynamic-table",
    title: "Table",
    aliases: &["DynamicTable"],
    types: &["DynamicTable"],
    render: Some(|p| view! { <TableView path=p.path/> }.into_any()),
};

const PAGE: u64 = 50;

#[component]
pub fn TableView(path: String) -> impl IntoView {
    let page = RwSignal::new(0u64);
    let p = path.clone();
    let data = crate::reactive::resource(move || {
        let path = p.clone();
        let start = page.get() * PAGE;
        async move {
            client::request(GetTable {
                path,
                rows: (start, start + PAGE),
            })
            .await
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the table…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(t) => view! { <Page t=t page=page/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Page(t: TablePage, page: RwSignal<u64>) -> impl IntoView {
    let pages = t.num_rows.div_ceil(PAGE).max(1);
    let width = t.columns.len();
    let expanded = RwSignal::new(None::<(String, u64, Result<Vec<String>, String>)>);
    let path = t.path.clone();
    // Per row: its index, id, and (column, text, ragged) per cell.
    type Row = (u64, i64, Vec<(String, String, bool)>);
    let rows: Vec<Row> = t
        .ids
        .iter()
        .enumerate()
        .map(|(r, id)| {
            let cells = t
                .columns
                .iter()
                .enumerate()
                .map(|(c, col)| {
                    (
                        col.name.clone(),
                        t.cells.get(r * width + c).cloned().unwrap_or_default(),
                        col.kind == "ragged",
                    )
                })
                .collect();
            (t.row_start + r as u64, *id, cells)
        })
        .collect();
    view! {
        <div class="pager">
            <button disabled={move || page.get() == 0} on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"‹ previous"</button>
            <span>{format!("rows {}–{} of {}", t.row_start, t.row_start + t.ids.len() as u64, t.num_rows)}</span>
            <button disabled={move || page.get() + 1 >= pages} on:click=move |_| page.update(|p| *p += 1)>"next ›"</button>
        </div>
        {move || expanded.get().map(|(col, row, values)| view! {
            <div class="cell-values" data-testid="cell-values">
                <strong>{format!("{col}[{row}]: ")}</strong>
                {match values { Ok(v) => v.join(", "), Err(e) => e }}
                <button on:click=move |_| expanded.set(None)>"close"</button>
            </div>
        })}
        <div class="table-wrap">
        <table class="values dyn-table" data-testid="table">
            <tr><th>"id"</th>{t.columns.iter().map(|c| view! { <th title=c.description.clone().unwrap_or_default()>{c.name.clone()}</th> }).collect_view()}</tr>
            {rows.into_iter().map(|(row, id, cells)| view! {
                <tr><th>{id}</th>{cells.into_iter().map(|(col, text, ragged)| {
                    if ragged {
                        let path = path.clone();
                        view! { <td><a href="#" class="ragged" on:click=move |ev| {
                            ev.prevent_default();
                            let (path, col) = (path.clone(), col.clone());
                            leptos::task::spawn_local(async move {
                                let r = client::request(GetCell { path, column: col.clone(), row }).await;
                                expanded.set(Some((col, row, r.map(|c| c.values).map_err(|e| e.message))));
                            });
                        }>{text}</a></td> }.into_any()
                    } else {
                        view! { <td>{text}</td> }.into_any()
                    }
                }).collect_view()}</tr>
            }).collect_view()}
        </table>
        </div>
    }
}
