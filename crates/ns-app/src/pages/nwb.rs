//! `/nwb?url=…` (or `?local=<name>` after picking a file): the file
//! overview (session metadata, every object grouped like the file) and
//! tabs of views: clicking an object opens its tab; `tab=` links open
//! theirs (see [`crate::views`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use leptos::prelude::*;
use ns_protocol::{ErrorKind, FileSource, ObjectSummary, Overview, WorkerError};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use crate::client;
use crate::components::{ErrorPanel, human_bytes};
use crate::net;
use crate::views::{TabView, TimeContext};

/// A `performance.mark` on the page's timeline: the phases of opening a
/// file (`a-…`), read by `tests/browser/open_bench.mjs`.
fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// Bytes the probe reads from each end of a file opened for the first
/// time (the worker's head/tail warm-up, `ns_io::CacheSetup::browser`).
const PROBE_END_BYTES: u64 = 256 * 1024;

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

thread_local! {
    /// A saved overview disagreed with the file's: none is drawn again in
    /// this page.
    static SAVED_REJECTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// "Share" names the file by URL, size and version.
fn set_source(url: &str, size_bytes: u64, validator: Option<String>) {
    crate::share::set_source(crate::share::SourceInfo {
        url: url.to_string(),
        size_bytes: Some(size_bytes),
        etag: validator,
        dandiset_id: crate::url::param("dandisetId"),
        dandiset_version: crate::url::param("dandisetVersion"),
    });
}

/// `reopen` is bumped when a saved overview that was drawn turns out not
/// to be the file's: the page then opens the file again, without it.
async fn open(
    url: Option<String>,
    local: Option<String>,
    reopen: RwSignal<u64>,
) -> Result<Overview, WorkerError> {
    let overview = if let Some(url) = url.clone().filter(|u| ns_links::looks_like_zarr(u)) {
        // An NWB-Zarr store: a folder of keys, not a file to probe; the
        // worker reads its consolidated `.zmetadata`, then keys.
        let source = FileSource::Zarr {
            api_key: net::api_key_for(&url),
            url: url.clone(),
        };
        let opened = client::open(source, None, None).await?.0;
        crate::share::set_source(crate::share::SourceInfo {
            url,
            size_bytes: None,
            etag: None,
            dandiset_id: crate::url::param("dandisetId"),
            dandiset_version: crate::url::param("dandisetVersion"),
        });
        opened
    } else if let Some(url) = url {
        // Reopened: the overview this build drew of this very version of
        // the file (`meta_cache::saved_overview`) is drawn at once; the
        // file opens meanwhile, and when its overview is not the same (or
        // the open fails) the page opens the file again without it.
        let saved = if SAVED_REJECTED.get() {
            None
        } else {
            crate::meta_cache::saved_overview(&url).await
        };
        if saved.is_none() {
            crate::meta_cache::overview_drawn();
        }
        if let Some(saved) = saved {
            mark("a-saved-overview");
            request_animation_frame(|| {
                set_timeout(crate::meta_cache::overview_drawn, std::time::Duration::ZERO);
            });
            mark("a-overview-received");
            set_source(&url, saved.size_bytes, Some(saved.validator));
            let text = saved.text;
            // The views drawn with it ask once the file is open.
            client::hold_requests();
            wasm_bindgen_futures::spawn_local(async move {
                let fresh = open_url(url.clone(), false).await;
                client::release_requests();
                let same = fresh.is_ok_and(|o| {
                    crate::meta_cache::overview_text(&o).is_some_and(|fresh| fresh == text)
                });
                mark("a-saved-overview-checked");
                if !same {
                    SAVED_REJECTED.set(true);
                    crate::meta_cache::drop_overview(&url);
                    reopen.try_update(|n| *n += 1);
                }
            });
            return Ok(saved.overview);
        }
        open_url(url, true).await?
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
        let source = FileSource::Local {
            name: name.clone(),
            size_bytes,
        };
        let opened = client::open(source, Some(file), None).await?.0;
        crate::share::set_source(crate::share::SourceInfo {
            url: name.clone(),
            ..Default::default()
        });
        opened
    } else {
        return Err(WorkerError::new(ErrorKind::BadRequest, "no url= given"));
    };
    Ok(overview)
}

/// Opens a remote file in the workers: from the open the first worker
/// made by itself for the page's link (`www/index.html`), else after the
/// app's own probe. Once the overview is on screen, the pages the open
/// read are saved for a reopen and, when `save_overview`, the overview.
async fn open_url(url: String, save_overview: bool) -> Result<Overview, WorkerError> {
    // The first worker may have opened it by itself (started by
    // `www/index.html`, its loader probes the link while the app's
    // wasm loads); it saved the pages it read.
    if let Some(opened) = client::claim_early_open(&url).await {
        let opened = opened?;
        mark("a-overview-received");
        if opened.saved {
            crate::meta_cache::remember(&url);
        }
        set_source(&url, opened.size_bytes, opened.validator.clone());
        if let Some(v) = opened.validator.filter(|_| save_overview) {
            save_after_paint(
                url,
                opened.size_bytes,
                v,
                None,
                Some(opened.overview.clone()),
            );
        }
        return Ok(opened.overview);
    }
    // Pages saved by an earlier open: the probe only checks the version.
    // Else the probe reads the file's ends too (one round trip for
    // size, version and the metadata pynwb keeps at both ends).
    mark("a-probe-start");
    let saved = crate::meta_cache::find(&url).await;
    let probe = if saved.is_some() {
        net::probe_size(&url).await?
    } else {
        net::probe_ends(&url, PROBE_END_BYTES).await?
    };
    mark("a-probe-done");
    let seed = match (&probe.validator, saved) {
        (Some(v), Some(saved)) => crate::meta_cache::load(&url, saved, probe.size_bytes, v).await,
        _ => None,
    };
    // Saved pages of this version: saved again only if the open read more.
    let saved_len = seed.as_ref().map(js_sys::Uint8Array::length);
    let seed = seed.or_else(|| {
        (!probe.ends.is_empty()).then(|| {
            let pages =
                ns_protocol::encode_pages(probe.ends.iter().map(|(o, b)| (*o, b.as_slice())));
            js_sys::Uint8Array::from(pages.as_slice())
        })
    });
    mark("a-cache-looked-up");
    let source = FileSource::Url {
        url: url.clone(),
        size_bytes: Some(probe.size_bytes),
        // Only to a DANDI API host (whose redirect to S3 the browser
        // follows without it); never to a file server named in a link.
        api_key: net::api_key_for(&url),
    };
    let (overview, pages) = client::open(source, None, seed).await?;
    set_source(&url, probe.size_bytes, probe.validator.clone());
    mark("a-overview-received");
    if let Some(v) = probe.validator {
        // Only when they are not already saved as they are.
        let pages = pages.filter(|p| saved_len != Some(p.length()));
        let overview = save_overview.then(|| overview.clone());
        save_after_paint(url, probe.size_bytes, v, pages, overview);
    }
    Ok(overview)
}

/// Saves what a reopen of `url` (this version) starts from, once the
/// overview is on screen (not before it): the metadata pages the open
/// read, and the overview drawn (`meta_cache`).
fn save_after_paint(
    url: String,
    size: u64,
    validator: String,
    pages: Option<js_sys::Uint8Array>,
    overview: Option<Overview>,
) {
    request_animation_frame(move || {
        set_timeout(
            move || {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Some(pages) = pages {
                        crate::meta_cache::store(&url, size, &validator, &pages).await;
                        crate::meta_cache::remember(&url);
                        mark("a-pages-saved");
                    }
                    if let Some(text) = overview.and_then(|o| crate::meta_cache::overview_text(&o))
                    {
                        crate::meta_cache::store_overview(&url, size, &validator, &text);
                        mark("a-overview-saved");
                    }
                });
            },
            std::time::Duration::ZERO,
        );
    });
}

#[component]
pub fn NwbPage() -> impl IntoView {
    mark("a-page");
    let query = crate::router::use_query();
    let reopen = RwSignal::new(0u64);
    let overview = crate::reactive::resource(move || {
        let q = query.get();
        reopen.track();
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
            open(url, q.get("local"), reopen).await
        }
    });
    let title = crate::reactive::resource(move || {
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
        let q = query.get_untracked();
        let tab = q.get("tab").and_then(|t| ns_links::parse_tab(&t));
        let time = q.get("tab-time").and_then(|t| ns_links::parse_tab_time(&t));
        tab.map(|t| (t, time))
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
    /// The tab of the link (and its time window), opened first.
    initial: Option<(ns_links::Tab, Option<TabTime>)>,
    /// The asset's path in its dandiset, when known (else the file name shows).
    title: Signal<Option<String>>,
) -> impl IntoView {
    mark("a-render-begin");
    let selected = RwSignal::new(None::<String>);
    let shared = Arc::new(overview.clone());
    let tabs = RwSignal::new(Vec::<OpenTab>::new());
    let active = RwSignal::new(None::<String>);
    if let Some((tab, time)) = initial {
        let key = tab.format();
        selected.set(tab.items().first().map(|i| i.path.clone()));
        tabs.set(vec![OpenTab {
            key: key.clone(),
            tab,
            time: TimeContext::new(time),
        }]);
        active.set(Some(key));
    }
    // Selecting an object in the tree opens (or shows) its tab.
    Effect::new(move |prev: Option<Option<String>>| {
        let sel = selected.get();
        // The active tab already shows it (the tab bar selected it).
        let shown = active.get_untracked().is_some_and(|key| {
            tabs.with_untracked(|t| {
                t.iter()
                    .any(|x| x.key == key && x.tab.items().first().map(|i| &i.path) == sel.as_ref())
            })
        });
        if let (Some(path), Some(prev)) = (&sel, prev)
            && prev.as_ref() != Some(path)
            && !shown
        {
            let tab = ns_links::Tab::Object(path.clone());
            let key = tab.format();
            if !tabs.get_untracked().iter().any(|t| t.key == key) {
                tabs.update(|t| {
                    t.push(OpenTab {
                        key: key.clone(),
                        tab,
                        time: TimeContext::new(None),
                    })
                });
            }
            if active.get_untracked().as_ref() != Some(&key) {
                active.set(Some(key.clone()));
                crate::url::set_params(&[("tab", Some(key)), ("tab-time", None)]);
            }
        }
        sel
    });
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
    // Built and mounted: the next frame shows it.
    request_animation_frame(|| mark("a-rendered"));
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
            <aside class="tabs-area">
                <Tabs tabs=tabs active=active overview=shared selected=selected/>
            </aside>
        </div>
    }
}

/// A `tab-time`: window start, end and current time.
type TabTime = (f64, f64, Option<f64>);

/// An open tab: what it shows and its time context.
#[derive(Clone)]
struct OpenTab {
    key: String,
    tab: ns_links::Tab,
    time: TimeContext,
}

fn tab_title(tab: &ns_links::Tab) -> String {
    let items = tab.items();
    let names: Vec<String> = items
        .iter()
        .map(|i| {
            let name = i.path.rsplit('/').next().unwrap_or(&i.path).to_string();
            match &i.view {
                Some(v) => format!("{v}: {name}"),
                None => name,
            }
        })
        .collect();
    names.join(" + ")
}

#[component]
fn Tabs(
    tabs: RwSignal<Vec<OpenTab>>,
    active: RwSignal<Option<String>>,
    overview: Arc<Overview>,
    /// The object selected in the tree: follows the active tab, so that
    /// clicking an object whose tab was closed opens it again.
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let first_path = move |key: &str| {
        tabs.with_untracked(|t| {
            t.iter()
                .find(|x| x.key == key)
                .and_then(|x| x.tab.items().first().map(|i| i.path.clone()))
        })
    };
    let activate = move |key: String| {
        if active.get_untracked().as_ref() != Some(&key) {
            selected.set(first_path(&key));
            crate::url::set_params(&[("tab", Some(key.clone())), ("tab-time", None)]);
            active.set(Some(key));
        }
    };
    let close = move |key: String| {
        tabs.update(|t| t.retain(|x| x.key != key));
        if active.get_untracked().as_ref() == Some(&key) {
            let next = tabs.get_untracked().last().map(|t| t.key.clone());
            selected.set(next.as_deref().and_then(first_path));
            crate::url::set_params(&[("tab", next.clone()), ("tab-time", None)]);
            active.set(next);
        }
    };
    // Re-rendered when another tab becomes active, not on other changes.
    let current_key = Memo::new(move |_| {
        let key = active.get()?;
        tabs.with(|t| t.iter().any(|x| x.key == key)).then_some(key)
    });
    let current = move || {
        let key = current_key.get()?;
        tabs.with_untracked(|t| t.iter().find(|x| x.key == key).cloned())
            .map(|t| (key, t))
    };
    view! {
        <nav class="tab-bar" data-testid="tab-bar">
            {move || tabs.get().into_iter().map(|t| {
                let key = t.key.clone();
                let key2 = t.key.clone();
                let key3 = t.key.clone();
                view! {
                    <span class=move || if active.get().as_ref() == Some(&key3) { "tab on" } else { "tab" }>
                        <a href="#" title=t.key.clone() on:click=move |ev| { ev.prevent_default(); activate(key.clone()); }>{tab_title(&t.tab)}</a>
                        <button class="close" title="Close" on:click=move |_| close(key2.clone())>"×"</button>
                    </span>
                }
            }).collect_view()}
        </nav>
        {move || match current() {
            None => view! { <p class="hint">"Select an object to see its views, attributes and values."</p> }.into_any(),
            Some((_, t)) => view! { <TabView tab=t.tab time=t.time overview=Arc::clone(&overview)/> }.into_any(),
        }}
    }
}

/// Rows of one list built at first; the others follow in batches of this
/// many as the list's end is scrolled into view (or its "more" row is
/// clicked): a group of thousands of objects opens as fast as a small one.
const ROW_BATCH: usize = 100;

/// The rows of `items` (children of one group), `ROW_BATCH` at a time.
fn rows(
    children: Arc<HashMap<String, Vec<ObjectSummary>>>,
    items: Vec<ObjectSummary>,
    depth: usize,
    expanded: RwSignal<HashSet<String>>,
    selected: RwSignal<Option<String>>,
) -> AnyView {
    if items.len() <= ROW_BATCH {
        return row_views(children, items, depth, expanded, selected);
    }
    let total = items.len();
    let items = Arc::new(items);
    let batches = RwSignal::new(1usize);
    let shown = move || (batches.get() * ROW_BATCH).min(total);
    let more = move || batches.update(|b| *b += 1);
    let sentinel = NodeRef::<leptos::html::Tr>::new();
    // The "more" row coming into view shows the next batch.
    crate::reactive::effect(move || {
        let Some(el) = sentinel.get() else { return };
        let seen = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let any = entries.iter().any(|e| {
                e.dyn_into::<web_sys::IntersectionObserverEntry>()
                    .is_ok_and(|e| e.is_intersecting())
            });
            if any && batches.get_untracked() * ROW_BATCH < total {
                more();
            }
        });
        if let Ok(observer) = web_sys::IntersectionObserver::new(seen.as_ref().unchecked_ref()) {
            observer.observe(&el);
            on_cleanup(move || observer.disconnect());
        }
        seen.forget();
    });
    let batch = move |i: usize| {
        let end = ((i + 1) * ROW_BATCH).min(total);
        let part = items
            .get(i * ROW_BATCH..end)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        row_views(Arc::clone(&children), part, depth, expanded, selected)
    };
    view! {
        <For each=move || 0..batches.get() key=|i| *i children=batch/>
        <tr class="more" node_ref=sentinel style:display=move || if shown() < total { "" } else { "none" }>
            <td colspan="4">
                <button on:click=move |_| more()>{move || format!("Show more ({} of {total} shown)", shown())}</button>
            </td>
        </tr>
    }
    .into_any()
}

/// The rows of `items`, all of them.
fn row_views(
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
