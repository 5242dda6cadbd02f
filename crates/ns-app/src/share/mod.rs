//! Sharing: "Share" on every tab makes (a) a frozen figure, the answers
//! that drew what is on screen stored in the sha1 store under a short
//! `/f?…` URL, and (b) a live link (the file and the view state, no data);
//! each with a copy button and an `<iframe>` snippet. Without a store the
//! figure is offered as a file for `neurosift figure publish`.

mod record;
pub mod store;

use std::cell::RefCell;
use std::sync::Arc;

use leptos::prelude::*;
use ns_figures::{Figure, FrozenView, Provenance, ViewState};
use ns_protocol::Overview;

pub use record::{clear, current_for, freeze, frozen_answer, record};

/// Where the open file came from, for provenance.
#[derive(Debug, Clone, Default)]
pub struct SourceInfo {
    pub url: String,
    pub size_bytes: Option<u64>,
    pub etag: Option<String>,
    pub dandiset_id: Option<String>,
    pub dandiset_version: Option<String>,
}

thread_local! {
    static SOURCE: RefCell<Option<SourceInfo>> = const { RefCell::new(None) };
}

/// Notes the open file (and forgets the previous file's answers).
pub fn set_source(info: SourceInfo) {
    clear();
    SOURCE.with(|s| *s.borrow_mut() = Some(info));
}

fn now_rfc3339() -> String {
    js_sys::Date::new_0()
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
}

pub fn made_by() -> String {
    format!("neurosift {} (web app)", env!("CARGO_PKG_VERSION"))
}

/// The view state of the page: its tab, the other query parameters that
/// views keep (not the file's), the hash, the tab's width.
fn view_state(width_px: Option<u32>) -> ViewState {
    const FILE_PARAMS: &[&str] = &[
        "url",
        "local",
        "dandisetId",
        "dandisetVersion",
        "path",
        "st",
        "embedded",
        "tab",
    ];
    let params = crate::url::params()
        .into_iter()
        .filter(|(k, _)| !FILE_PARAMS.contains(&k.as_str()))
        .collect();
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map(|h| h.trim_start_matches('#').to_string())
        .filter(|h| !h.is_empty());
    ViewState {
        tab: crate::url::param("tab").unwrap_or_default(),
        params,
        hash,
        width_px,
    }
}

/// The frozen figure of the tab on screen.
fn frozen(tab: &ns_links::Tab, overview: &Overview, width_px: Option<u32>) -> Figure {
    let mut paths: Vec<String> = Vec::new();
    for item in tab.items() {
        paths.push(item.path.clone());
        paths.extend(item.secondary.iter().cloned());
    }
    let answers = current_for(&paths);
    // Objects the answers are about too (a PSTH's trials table).
    let objects: Vec<_> = overview
        .objects
        .iter()
        .filter(|o| paths.contains(&o.path))
        .cloned()
        .collect();
    let types: Vec<&str> = objects
        .iter()
        .filter_map(|o| o.neurodata_type.as_deref())
        .collect();
    let type_chains = overview
        .type_chains
        .iter()
        .filter(|c| c.first().is_some_and(|t| types.contains(&t.as_str())))
        .cloned()
        .collect();
    let source = SOURCE.with(|s| s.borrow().clone()).unwrap_or_default();
    let state = view_state(width_px);
    Figure::Frozen(FrozenView {
        title: paths.join(", "),
        provenance: provenance(&source, overview, paths),
        state,
        objects,
        type_chains,
        answers,
    })
}

fn provenance(source: &SourceInfo, overview: &Overview, object_paths: Vec<String>) -> Provenance {
    Provenance {
        source_url: if source.url.is_empty() {
            overview.location.clone()
        } else {
            source.url.clone()
        },
        dandiset_id: source.dandiset_id.clone(),
        dandiset_version: source.dandiset_version.clone(),
        asset_id: ns_links::dandi_asset_id(&source.url),
        file_size_bytes: source.size_bytes.or(Some(overview.size_bytes)),
        etag: source.etag.clone(),
        object_paths,
        made_by: made_by(),
        created: now_rfc3339(),
    }
}

fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

fn iframe_snippet(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let src = format!("{url}{sep}embedded=1")
        .replace('&', "&amp;")
        .replace('"', "&quot;");
    format!(r#"<iframe src="{src}" width="100%" height="600" frameborder="0"></iframe>"#)
}

fn copy(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// A URL with copy button and iframe snippet.
#[component]
fn LinkBox(url: String, testid: &'static str) -> impl IntoView {
    let snippet = iframe_snippet(&url);
    let (u1, s1) = (url.clone(), snippet.clone());
    view! {
        <div class="link-box" data-testid=testid>
            <div class="link-row">
                <input class="link" readonly prop:value=url.clone() data-testid=format!("{testid}-url")/>
                <button on:click=move |_| copy(&u1)>"Copy"</button>
                <a href=url.clone() target="_blank" rel="noopener">"Open"</a>
            </div>
            <div class="link-row">
                <input class="snippet" readonly prop:value=snippet.clone() data-testid=format!("{testid}-iframe")/>
                <button on:click=move |_| copy(&s1)>"Copy <iframe>"</button>
            </div>
        </div>
    }
}

#[derive(Clone)]
enum Frozen {
    Idle,
    Working,
    Stored(String),
    /// No store (or it refused): the figure as a file, and why.
    File {
        json: String,
        why: String,
    },
    Failed(String),
}

/// The tab's "Share" button and its dialog.
#[component]
pub fn ShareButton(tab: ns_links::Tab, overview: Arc<Overview>) -> impl IntoView {
    let open = RwSignal::new(false);
    let frozen_state = RwSignal::new(Frozen::Idle);
    let root = NodeRef::<leptos::html::Span>::new();
    let store_url = RwSignal::new(String::new());
    let store_token = RwSignal::new(String::new());
    let make = Callback::new(move |()| {
        frozen_state.set(Frozen::Working);
        // The tab's width, so the figure draws at the same size.
        let width = root
            .get_untracked()
            .and_then(|el| el.closest(".tab-content").ok().flatten())
            .map(|el| el.get_bounding_client_rect().width());
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a pixel width"
        )]
        let width_px = width.map(|w| w.round() as u32);
        let figure = frozen(&tab, &overview, width_px);
        leptos::task::spawn_local(async move {
            let json = match figure.to_canonical_json() {
                Ok(j) => j,
                Err(e) => return frozen_state.set(Frozen::Failed(e.to_string())),
            };
            let text = String::from_utf8_lossy(&json).into_owned();
            let Some(config) = store::config().await else {
                return frozen_state.set(Frozen::File {
                    json: text,
                    why: "No store is set for this app.".into(),
                });
            };
            if config.token.is_none() {
                store_url.set(config.url.clone());
                return frozen_state.set(Frozen::File {
                    json: text,
                    why: format!("The store {} needs a token to write.", config.url),
                });
            }
            let label = figure.view_name();
            match store::client(&config).put(&json, Some("figure.json")).await {
                Ok(stored) => {
                    let link = ns_links::FigureLink {
                        view: label,
                        data: format!("sha1://{}", stored.uri.hash().to_hex()),
                        label: Some(match &figure {
                            Figure::Frozen(f) => f.title.clone(),
                            _ => String::new(),
                        })
                        .filter(|l| !l.is_empty()),
                        state: None,
                        embedded: false,
                    };
                    frozen_state.set(Frozen::Stored(format!("{}{}", origin(), link.to_path())));
                }
                Err(e) => frozen_state.set(Frozen::File {
                    json: text,
                    why: format!("The store {} refused it: {e}", config.url),
                }),
            }
        });
    });
    let save_store = move |_| {
        store::save(&store_url.get_untracked(), &store_token.get_untracked());
        make.run(());
    };
    view! {
        <span class="share" node_ref=root>
            <button class="share-button" data-testid="share" on:click=move |_| open.update(|o| *o = !*o)>"Share"</button>
            <Show when=move || open.get()>
                <div class="share-dialog" role="dialog" data-testid="share-dialog">
                    <section>
                        <h4>"Frozen figure"</h4>
                        <p class="hint">"The data on screen, stored by its sha1: anyone with the link sees this figure, without the file."</p>
                        {move || {
                            match frozen_state.get() {
                                Frozen::Idle => view! { <button data-testid="make-frozen" on:click=move |_| make.run(())>"Make frozen figure"</button> }.into_any(),
                                Frozen::Working => view! { <p class="loading">"Storing the figure…"</p> }.into_any(),
                                Frozen::Stored(url) => view! { <LinkBox url=url testid="frozen"/> }.into_any(),
                                Frozen::Failed(e) => view! { <p class="error" data-testid="share-error">{e}</p> }.into_any(),
                                Frozen::File { json, why } => {
                                    let href = blob_url(&json);
                                    view! {
                                        <div data-testid="frozen-file">
                                            <p class="warning">{why}</p>
                                            <p>
                                                <a href=href download="figure.json" data-testid="download-figure">"Download figure.json"</a>
                                                " and publish it with " <code>"neurosift figure publish figure.json"</code>
                                                ", or set a store:"
                                            </p>
                                            <div class="link-row">
                                                <input placeholder="store URL (https://…)" data-testid="store-url"
                                                    prop:value=move || store_url.get()
                                                    on:input=move |ev| store_url.set(event_target_value(&ev))/>
                                                <input placeholder="token" type="password" data-testid="store-token"
                                                    prop:value=move || store_token.get()
                                                    on:input=move |ev| store_token.set(event_target_value(&ev))/>
                                                <button data-testid="store-save" on:click=save_store>"Save and store"</button>
                                            </div>
                                        </div>
                                    }.into_any()
                                }
                            }
                        }}
                    </section>
                    <section>
                        <h4>"Live link"</h4>
                        <p class="hint">"The file and this view's state: opening it reads the file again."</p>
                        {move || open.get().then(|| {
                            let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
                            view! { <LinkBox url=href testid="live"/> }
                        })}
                    </section>
                </div>
            </Show>
        </span>
    }
}

fn blob_url(text: &str) -> String {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .ok()
        .and_then(|b| web_sys::Url::create_object_url_with_blob(&b).ok())
        .unwrap_or_default()
}
