//! `/`: open a URL, a local file (picked or dropped; read lazily by the
//! worker, never loaded whole), search DANDI, or follow an example. Old
//! `?p=/nwb&…` links are rewritten to their new form here.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement};

use crate::net;
use crate::router::navigate;

#[component]
pub fn HomePage() -> impl IntoView {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    if let Some(target) = ns_links::rewrite_legacy(&search) {
        request_animation_frame(move || {
            navigate(&target, true);
        });
    }

    let url = RwSignal::new(String::new());
    let open_url = {
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let u = url.get_untracked().trim().to_string();
            // A figure URL, or a figure's store URI, opens the figure.
            if let Some(link) = ns_links::FigureLink::parse_url(&u) {
                navigate(&link.to_path(), false);
            } else if u.starts_with("sha1://") || u.starts_with("kachery:") {
                let link = ns_links::FigureLink {
                    view: "auto".into(),
                    data: u,
                    ..Default::default()
                };
                navigate(&link.to_path(), false);
            } else if !u.is_empty() {
                navigate(&ns_links::nwb_link(&u, None, None), false);
            }
        }
    };
    let open_file = {
        move |file: web_sys::File| {
            let name = file.name();
            crate::local::set(file);
            navigate(
                &format!("/nwb?local={}", ns_links::encode_component(&name)),
                false,
            );
        }
    };
    let on_pick = {
        move |ev: leptos::ev::Event| {
            let input: Option<HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
            if let Some(file) = input.and_then(|i| i.files()).and_then(|f| f.get(0)) {
                open_file(file);
            }
        }
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            open_file(file);
        }
    };

    let query = RwSignal::new(String::new());
    let submitted = RwSignal::new(String::new());
    let results = crate::reactive::resource(move || {
        let text = submitted.get();
        async move {
            if text.is_empty() {
                return Ok(Vec::new());
            }
            let json = net::get_json(&ns_links::api::search(&net::dandi_api(), &text)).await?;
            Ok::<_, String>(
                json["results"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .map(|d| {
                                let id = d["identifier"].as_str().unwrap_or_default().to_string();
                                let name = d["most_recent_published_version"]["name"]
                                    .as_str()
                                    .or_else(|| d["draft_version"]["name"].as_str())
                                    .unwrap_or_default()
                                    .to_string();
                                (id, name)
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        }
    });
    let api_key = RwSignal::new(net::api_key().unwrap_or_default());

    view! {
        <section class="home">
            <h1>"Open an NWB file"</h1>
            <form class="url-form" on:submit=open_url>
                <input type="url" placeholder="https://… .nwb (any server with HTTP Range support)" data-testid="url-input"
                    prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                <button type="submit">"Open"</button>
            </form>
            <div class={move || if dragging.get() { "dropzone over" } else { "dropzone" }}
                on:dragover=move |ev: DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop>
                <p>"Drop an .nwb file here, or "</p>
                <label class="button">
                    "open a local file"
                    <input type="file" accept=".nwb,.h5,.hdf5" data-testid="file-input" on:change=on_pick/>
                </label>
                <p class="hint">"The file stays on your computer; only the parts needed are read."</p>
            </div>
            <h2>"Search DANDI"</h2>
            <form class="url-form" on:submit=move |ev| { ev.prevent_default(); submitted.set(query.get_untracked()); }>
                <input type="search" placeholder="dandiset name, species, lab…" data-testid="dandi-search"
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
                <button type="submit">"Search"</button>
            </form>
            <Suspense fallback=|| view! { <p class="hint">"Searching…"</p> }>
                {move || results.get().map(|r| match r {
                    Err(e) => view! { <p class="error-panel">{e}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="results">
                            {list.into_iter().map(|(id, name)| view! {
                                <li><a href=format!("/dandiset/{id}")>{id.clone()}</a>" "{name}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
            <h2>"Examples"</h2>
            <ul class="examples">
                <li><a href="/dandiset/000409">"DANDI:000409 (IBL brain-wide map)"</a></li>
                <li><a href="/dandiset/000020">"DANDI:000020 (patch-seq, mouse motor cortex)"</a></li>
            </ul>
            <details class="settings">
                <summary>"DANDI API key (embargoed data)"</summary>
                <input type="password" placeholder="API key" data-testid="api-key"
                    prop:value=move || api_key.get()
                    on:change=move |ev| { let v = event_target_value(&ev); net::set_api_key(&v); api_key.set(v); }/>
                <p class="hint">"Kept in this browser only; sent as Authorization: token … to the DANDI API only."</p>
            </details>
        </section>
    }
}
