//! `/nwb?url=…` (or `?local=<name>` after picking a file): the file
//! overview (session metadata, every object grouped like the file) and a
//! raw HDF5 view of the selected object (attributes, paged values).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use ns_protocol::{
    DimSelection, ErrorKind, FileSource, GetObject, GetValues, ObjectInfo, ObjectSummary, Overview,
    Selection, Values, WorkerError,
};

use crate::client;
use crate::components::{ErrorPanel, human_bytes};
use crate::net;

/// Rows of values shown per page in the raw view.
const PAGE_ROWS: u64 = 100;
/// Columns shown at most for 2-D datasets.
const MAX_COLUMNS: u64 = 32;

/// The LINDI index of a DANDI asset, where Neurosift keeps them, if there is one.
async fn lindi_index(url: &str, dandiset_id: &str) -> Option<String> {
    let asset = ns_links::dandi_asset_id(url)?;
    let candidate = format!(
        "{}/dandi/dandisets/{dandiset_id}/assets/{asset}/nwb.lindi.json",
        net::lindi_base().trim_end_matches('/')
    );
    // A JSON document, not an HTML error page.
    let probe = net::probe_size(&candidate).await.ok()?;
    (probe.first_byte == Some(b'{')).then_some(candidate)
}

/// The download URL of the asset at `path` in a dandiset.
async fn asset_url(id: &str, version: &str, path: &str) -> Result<String, WorkerError> {
    let api = net::dandi_api();
    let not_found = |message: String| WorkerError {
        kind: ErrorKind::NotFound,
        message,
    };
    let json = net::get_json(&ns_links::api::assets_by_glob(&api, id, version, path))
        .await
        .map_err(not_found)?;
    json["results"]
        .as_array()
        .and_then(|r| r.iter().find(|a| a["path"].as_str() == Some(path)))
        .and_then(|a| a["asset_id"].as_str())
        .map(|asset| ns_links::dandi_download_url(&api, asset))
        .ok_or_else(|| not_found(format!("DANDI:{id}/{version}: no asset at {path}")))
}

/// The asset's path in its dandiset, for a DANDI link (the download URL's
/// last segment is only "download"): the `path=` of the link, else asked
/// of the DANDI API. `None` when the link names no DANDI asset or the API
/// does not answer; the title is then the file name.
async fn asset_path(url: Option<&str>, path: Option<String>, dandiset: bool) -> Option<String> {
    if path.is_some() {
        return path;
    }
    let url = url?;
    let on_dandi = dandiset || net::api_key_for(url).is_some();
    let info = ns_links::dandi_asset_info_url(url).filter(|_| on_dandi)?;
    let json = net::get_json(&info).await.ok()?;
    json["path"].as_str().map(str::to_string)
}

async fn open(url: Option<String>, local: Option<String>) -> Result<Overview, WorkerError> {
    let overview = if let Some(url) = url {
        let probe = net::probe_size(&url).await?;
        let seed = match &probe.validator {
            Some(v) => crate::meta_cache::load(&url, probe.size_bytes, v).await,
            None => None,
        };
        let source = FileSource::Url {
            url: url.clone(),
            size_bytes: Some(probe.size_bytes),
            // Only to a DANDI API host (whose redirect to S3 the browser
            // follows without it); never to a file server named in a link.
            api_key: net::api_key_for(&url),
        };
        let (overview, pages) = client::open(source, None, seed).await?;
        if let (Some(v), Some(pages)) = (&probe.validator, &pages) {
            crate::meta_cache::store(&url, probe.size_bytes, v, pages).await;
        }
        overview
    } else if let Some(name) = local {
        let file = crate::local::get()
            .filter(|f| f.name() == name)
            .ok_or_else(|| WorkerError {
                kind: ErrorKind::BadRequest,
                message: format!(
                    "{name}: pick the file again (local files cannot be reopened from a link)"
                ),
            })?;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "file sizes are integers below 2^53"
        )]
        let size_bytes = file.size() as u64;
        let source = FileSource::Local { name, size_bytes };
        client::open(source, Some(file), None).await?.0
    } else {
        return Err(WorkerError::new(ErrorKind::BadRequest, "no url= given"));
    };
    Ok(overview)
}

#[component]
pub fn NwbPage() -> impl IntoView {
    let query = use_query_map();
    let overview = LocalResource::new(move || {
        let q = query.get();
        async move {
            let url = match (q.get("url"), q.get("path"), q.get("dandisetId")) {
                (Some(url), _, _) => Some(url),
                // `path=<asset path>` instead of `url=`: look the asset up.
                (None, Some(path), Some(id)) => {
                    let version = q.get("dandisetVersion").unwrap_or_else(|| "draft".into());
                    Some(asset_url(&id, &version, &path).await?)
                }
                _ => None,
            };
            // A DANDI asset may have a LINDI index (one request for the
            // whole tree); fall back to the HDF5 file. `lindi=0` skips it.
            let url = match (&url, q.get("dandisetId")) {
                (Some(u), Some(id)) if q.get("lindi").as_deref() != Some("0") => {
                    Some(lindi_index(u, &id).await.unwrap_or_else(|| u.clone()))
                }
                _ => url,
            };
            open(url, q.get("local")).await
        }
    });
    let title = LocalResource::new(move || {
        let q = query.get();
        async move {
            let dandiset = q.get("dandisetId").is_some();
            asset_path(
                q.get("url").as_deref(),
                q.get("path").filter(|_| dandiset),
                dandiset,
            )
            .await
        }
    });
    let title = Signal::derive(move || title.get().flatten());
    let tab = move || {
        query
            .get()
            .get("tab")
            .and_then(|t| match ns_links::parse_tab(&t) {
                Some(ns_links::Tab::Object(p)) => Some(p),
                Some(ns_links::Tab::View { path, .. }) => Some(path),
                Some(ns_links::Tab::Many(paths)) => paths.into_iter().next(),
                None => None,
            })
    };
    let dandiset = move || {
        let q = query.get();
        q.get("dandisetId").map(|id| {
            (
                id,
                q.get("dandisetVersion").unwrap_or_else(|| "draft".into()),
            )
        })
    };
    view! {
        <div class="nwb-page">
            {move || dandiset().map(|(id, v)| view! {
                <nav class="crumbs"><a href=format!("/dandiset/{id}?dandisetVersion={v}")>{format!("DANDI:{id} ({v})")}</a></nav>
            })}
            <Suspense fallback=move || view! { <Opening/> }>
                {move || overview.get().map(|r| match r {
                    Ok(o) => view! { <OverviewView overview=o initial=tab() title=title/> }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                })}
            </Suspense>
        </div>
    }
}

/// What shows while a file opens: the bytes loaded so far.
#[component]
fn Opening() -> impl IntoView {
    let activity = client::start().ok();
    view! {
        <p class="loading" data-testid="loading">
            "Opening the file… "
            {move || activity.map(|a| {
                let s = a.stats.get();
                if s.requests == 0 { String::new() } else { format!("{} loaded in {} requests", human_bytes(s.bytes), s.requests) }
            })}
        </p>
    }
}

/// Top-level groups in the order Neurosift shows them.
const SECTIONS: [&str; 8] = [
    "/acquisition",
    "/processing",
    "/intervals",
    "/units",
    "/stimulus",
    "/analysis",
    "/general",
    "/specifications",
];

fn parent_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((p, _)) => p.into(),
    }
}

#[component]
fn OverviewView(
    overview: Overview,
    initial: Option<String>,
    /// The asset's path in its dandiset, when known (else the file name shows).
    title: Signal<Option<String>>,
) -> impl IntoView {
    let selected = RwSignal::new(initial);
    let expanded = RwSignal::new(HashSet::<String>::new());
    let mut children: HashMap<String, Vec<ObjectSummary>> = HashMap::new();
    for o in &overview.objects {
        if o.path != "/" {
            children
                .entry(parent_of(&o.path))
                .or_default()
                .push(o.clone());
        }
    }
    let children = Arc::new(children);
    let root_kids: Vec<ObjectSummary> = children.get("/").cloned().unwrap_or_default();
    let mut sections: Vec<ObjectSummary> = SECTIONS
        .iter()
        .filter_map(|s| root_kids.iter().find(|o| o.path == *s).cloned())
        .collect();
    let others: Vec<ObjectSummary> = root_kids
        .iter()
        .filter(|o| !SECTIONS.contains(&o.path.as_str()))
        .cloned()
        .collect();
    let name = ns_links::file_name(&overview.location);
    let count = overview.objects.len();
    let other_rows = others.clone();
    sections.retain(|s| s.kind == "group");
    view! {
        <section class="session" data-testid="session">
            <h2 class="file-name" data-testid="file-name" title=overview.location.clone()>{move || title.get().unwrap_or_else(|| name.clone())}</h2>
            <table class="meta">
                {overview.session.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
                <tr><th>"File size"</th><td>{human_bytes(overview.size_bytes)}</td></tr>
                <tr><th>"Source"</th><td class="source">{overview.location.clone()}</td></tr>
                <tr><th>"Objects"</th><td>{count}</td></tr>
            </table>
        </section>
        <div class="columns">
            <section class="tree" data-testid="tree">
                {sections.into_iter().map(|s| {
                    let kids = children.get(&s.path).cloned().unwrap_or_default();
                    let title = s.path.trim_start_matches('/').to_string();
                    let n = kids.len();
                    // A typed top-level group (the Units table at /units)
                    // shows its type like the rows do.
                    let kind = s.neurodata_type.clone();
                    view! {
                        <details class="section" open=true data-path=s.path.clone()>
                            <summary>
                                <span class="section-name">{title}</span><span class="count">{format!(" ({n})")}</span>
                                {kind.map(|t| view! { <span class="type">{t}</span> })}
                            </summary>
                            <table class="objects">
                                {rows(Arc::clone(&children), kids, 0, expanded, selected)}
                            </table>
                        </details>
                    }
                }).collect_view()}
                <details class="section" open=true>
                    <summary><span class="section-name">"other"</span></summary>
                    <table class="objects">{rows(Arc::clone(&children), other_rows, 0, expanded, selected)}</table>
                </details>
            </section>
            <aside class="raw" data-testid="raw">
                {move || match selected.get() {
                    None => view! { <p class="hint">"Select an object to see its attributes and values."</p> }.into_any(),
                    Some(p) => view! { <RawView path=p/> }.into_any(),
                }}
            </aside>
        </div>
    }
}

fn rows(
    children: Arc<HashMap<String, Vec<ObjectSummary>>>,
    items: Vec<ObjectSummary>,
    depth: usize,
    expanded: RwSignal<HashSet<String>>,
    selected: RwSignal<Option<String>>,
) -> AnyView {
    items
        .into_iter()
        .map(|o| {
            let path = o.path.clone();
            let name = path.rsplit('/').next().unwrap_or("").to_string();
            let is_group = o.kind == "group";
            let has_kids = children.get(&path).is_some_and(|k| !k.is_empty());
            let toggle_path = path.clone();
            let open_path = path.clone();
            let select_path = path.clone();
            let sel_path = path.clone();
            let kids = children.get(&path).cloned().unwrap_or_default();
            let children2 = Arc::clone(&children);
            let indent = format!("padding-left: {}em", 0.4 + 1.2 * f64::from(u16::try_from(depth).unwrap_or(u16::MAX)));
            let summary = o.data_summary.clone().or_else(|| o.target.as_ref().map(|t| format!("→ {t}"))).unwrap_or_default();
            view! {
                <tr class={move || if selected.get().as_deref() == Some(sel_path.as_str()) { "row selected" } else { "row" }} data-path=path.clone()>
                    <td class="name" style=indent>
                        {has_kids.then(|| view! {
                            <button class="toggle" on:click=move |_| expanded.update(|e| { if !e.remove(&toggle_path) { e.insert(toggle_path.clone()); } })>
                                {let p = open_path.clone(); move || if expanded.get().contains(&p) { "▾" } else { "▸" }}
                            </button>
                        })}
                        <a href="#" on:click=move |ev| { ev.prevent_default(); selected.set(Some(select_path.clone())); }>
                            {name}{is_group.then_some("/")}
                        </a>
                    </td>
                    <td class="type">{o.neurodata_type.clone().unwrap_or_default()}</td>
                    <td class="desc">{o.description.clone().unwrap_or_default()}</td>
                    <td class="data">{summary}</td>
                </tr>
                {move || expanded.get().contains(&path).then(|| rows(Arc::clone(&children2), kids.clone(), depth + 1, expanded, selected))}
            }
        })
        .collect_view()
        .into_any()
}

#[component]
fn RawView(path: String) -> impl IntoView {
    let p = path.clone();
    let info = LocalResource::new(move || {
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
    let values = LocalResource::new(move || {
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
