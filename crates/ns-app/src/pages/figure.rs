//! `/f?v=<view>&d=<data URI>&label=…&s=<state>`: a shared figure. The data
//! comes from the store, checked against its sha1 before anything is
//! drawn. A frozen NWB view is drawn by the same views as a live one, from
//! the answers it holds; a TimeseriesGraph by its own canvas; a layout
//! draws its parts on one time axis; a live view opens its source. A `v=`
//! that is a plugin's URL runs in a sandboxed iframe (see [`plugin`]).

mod plugin;
mod timeseries_graph;

use std::sync::Arc;

use leptos::prelude::*;
use ns_figures::{Figure, FrozenView, Provenance};
use ns_links::FigureLink;
use ns_protocol::Overview;
use ns_store_client::StoreUri;

use crate::views::{TabView, TimeContext};

fn link() -> Option<FigureLink> {
    let search = web_sys::window()?.location().search().ok()?;
    FigureLink::parse_query(&search)
}

async fn load(data: &str) -> Result<Vec<u8>, String> {
    let uri: StoreUri = data
        .parse()
        .map_err(|e| format!("d={data}: not a sha1:// or kachery: URI ({e})"))?;
    crate::share::store::get(&uri).await
}

#[component]
pub fn FigurePage() -> impl IntoView {
    let Some(link) = link() else {
        return view! {
            <div class="error-panel" role="alert" data-testid="error">
                <strong>"Not a figure link"</strong>
                <p class="message">"A figure link is /f?v=<view>&d=sha1://<hash>."</p>
            </div>
        }
        .into_any();
    };
    if let Some(title) = &link.label
        && let Some(doc) = web_sys::window().and_then(|w| w.document())
    {
        doc.set_title(&format!("{title} · Neurosift"));
    }
    if let Some(url) = ns_links::plugin_url(&link.view) {
        return view! { <plugin::PluginHost url=url link=link/> }.into_any();
    }
    let data = link.data.clone();
    let figure = crate::reactive::resource(move || {
        let data = data.clone();
        async move {
            let bytes = load(&data).await?;
            Figure::from_json(&bytes).map_err(|e| format!("{data}: {e}"))
        }
    });
    let embedded = link.embedded;
    let label = link.label.clone();
    view! {
        <div class="figure-page" data-testid="figure-page">
            {label.filter(|_| !embedded).map(|l| view! { <h2 class="figure-label" data-testid="figure-label">{l}</h2> })}
            <Suspense fallback=|| view! { <p class="loading">"Loading the figure…"</p> }>
                {move || figure.get().map(|r| match r {
                    Err(e) => view! {
                        <div class="error-panel" role="alert" data-testid="error">
                            <strong>"This figure cannot be shown"</strong>
                            <p class="message">{e}</p>
                        </div>
                    }.into_any(),
                    Ok(f) => view! { <FigureView figure=f embedded=embedded/> }.into_any(),
                })}
            </Suspense>
        </div>
    }
    .into_any()
}

/// Any figure, with its provenance below.
#[component]
fn FigureView(figure: Figure, embedded: bool) -> impl IntoView {
    let provenance = figure.provenance().cloned();
    let time = TimeContext::new(None);
    let body = part(figure, time);
    view! {
        {body}
        {provenance.map(|p| view! { <ProvenancePanel p=p embedded=embedded/> })}
    }
}

fn part(figure: Figure, time: TimeContext) -> AnyView {
    match figure {
        Figure::Frozen(f) => view! { <Frozen f=f time=time/> }.into_any(),
        Figure::TimeseriesGraph(g) => {
            view! { <timeseries_graph::TimeseriesGraphView graph=g time=time/> }.into_any()
        }
        Figure::Layout(l) => {
            let class = match l.direction.as_str() {
                "columns" => "layout layout-columns",
                _ => "layout layout-rows",
            };
            view! {
                <div class=class data-testid="layout">
                    {l.items.into_iter().map(|item| view! {
                        <div class="layout-item">
                            {(!item.label.is_empty()).then(|| view! { <h4>{item.label.clone()}</h4> })}
                            {part(*item.figure, time)}
                        </div>
                    }).collect_view()}
                </div>
            }
            .into_any()
        }
        Figure::Live(l) => {
            let target = live_url(&l.provenance, &l.state);
            if let Some(w) = web_sys::window() {
                let _ = w.location().replace(&target);
            }
            view! { <p class="loading">"Opening " {l.provenance.source_url.clone()} "…"</p> }
                .into_any()
        }
    }
}

/// The viewer's URL for a source and a view state.
fn live_url(p: &Provenance, state: &ns_figures::ViewState) -> String {
    let mut url = ns_links::nwb_link(
        &p.source_url,
        p.dandiset_id.as_deref(),
        p.dandiset_version.as_deref(),
    );
    if !state.tab.is_empty() {
        url.push_str(&format!("&tab={}", ns_links::encode_component(&state.tab)));
    }
    for (k, v) in &state.params {
        url.push_str(&format!(
            "&{}={}",
            ns_links::encode_component(k),
            ns_links::encode_component(v)
        ));
    }
    if let Some(h) = &state.hash {
        url.push('#');
        url.push_str(h);
    }
    url
}

/// A frozen NWB view: its answers serve every request of the same views
/// that drew it, at the width it was drawn.
#[component]
fn Frozen(f: FrozenView, time: TimeContext) -> impl IntoView {
    let Some(tab) = ns_links::parse_tab(&f.state.tab) else {
        return view! { <p class="error">"The figure names no tab."</p> }.into_any();
    };
    let mut base = f.state.params.clone();
    base.insert("tab".into(), f.state.tab.clone());
    crate::url::use_figure_state(base);
    if let (Some(h), Some(w)) = (&f.state.hash, web_sys::window())
        && w.location().hash().ok().as_deref().unwrap_or("").is_empty()
    {
        let _ = w.location().set_hash(h);
    }
    if let Some((a, b, c)) = f
        .state
        .params
        .get("tab-time")
        .and_then(|t| ns_links::parse_tab_time(t))
    {
        time.window.set(Some((a, b)));
        time.current.set(c);
    }
    time.frozen.set(true);
    crate::share::freeze(f.answers);
    let overview = Arc::new(Overview {
        location: f.provenance.source_url.clone(),
        size_bytes: f.provenance.file_size_bytes.unwrap_or(0),
        session: Vec::new(),
        objects: f.objects,
        type_chains: f.type_chains,
    });
    let style = f
        .state
        .width_px
        .map(|w| format!("width: {w}px; max-width: none;"));
    view! {
        <div class="figure-frame" style=style data-testid="frozen-figure">
            <TabView tab=tab time=time overview=overview figure=true/>
        </div>
    }
    .into_any()
}

/// Where the figure came from, as text (never as HTML), and a link that
/// opens the source in the viewer.
#[component]
fn ProvenancePanel(p: Provenance, embedded: bool) -> impl IntoView {
    let open = live_url(&p, &ns_figures::ViewState::default());
    let row = |k: &'static str, v: Option<String>| {
        v.filter(|v| !v.is_empty())
            .map(|v| view! { <tr><th>{k}</th><td>{v}</td></tr> })
    };
    view! {
        <details class="provenance" data-testid="provenance" open=!embedded>
            <summary>"Provenance"</summary>
            <table>
                {row("source", Some(p.source_url.clone()))}
                {row("dandiset", p.dandiset_id.clone().map(|id| match &p.dandiset_version {
                    Some(v) => format!("{id} ({v})"),
                    None => id,
                }))}
                {row("asset", p.asset_id.clone())}
                {row("size", p.file_size_bytes.map(crate::components::human_bytes))}
                {row("ETag", p.etag.clone())}
                {row("objects", Some(p.object_paths.join(", ")))}
                {row("made by", Some(p.made_by.clone()))}
                {row("created", Some(p.created.clone()))}
            </table>
            <a href=open data-testid="open-source" target="_blank" rel="noopener">"Open the source file in the viewer"</a>
        </details>
    }
}
