//! The Neurosift browser app: routes, pages and components. All file
//! reading happens in the worker (see [`client`]); pages only render what
//! it answers.

pub mod client;
mod components;
mod local;
mod meta_cache;
pub mod net;
mod pages;
mod reactive;
mod share;
pub mod url;
pub mod views;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::StatusLine;
use crate::pages::{DandisetPage, FigurePage, HomePage, NwbPage};

#[component]
pub fn App() -> impl IntoView {
    let activity = client::start();
    views::canvas::expose_frame_times();
    let embedded = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| {
            ns_links::parse_query(&q)
                .iter()
                .any(|(k, v)| k == "embedded" && v == "1")
        });
    view! {
        <Router>
            <Show when=move || !embedded>
                <header class="appbar">
                    <a href="/" class="brand">"Neurosift"</a>
                    <span class="tagline">"NWB files in the browser, read lazily"</span>
                </header>
            </Show>
            <main>
                {match activity.clone() {
                    Err(e) => view! { <div class="error-panel"><strong>"Cannot start: "</strong>{e}</div> }.into_any(),
                    Ok(_) => view! {
                        <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                            <Route path=path!("/") view=HomePage/>
                            <Route path=path!("/nwb") view=NwbPage/>
                            <Route path=path!("/f") view=FigurePage/>
                            <Route path=path!("/dandiset/:id") view=DandisetPage/>
                        </Routes>
                    }.into_any(),
                }}
            </main>
            {activity.ok().map(|a| view! { <StatusLine activity=a/> })}
        </Router>
    }
}
