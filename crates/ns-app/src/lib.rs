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
mod router;
mod share;
pub mod url;
pub mod views;

use leptos::prelude::*;

use crate::components::StatusLine;
use crate::pages::{DandisetPage, FigurePage, HomePage, NwbPage};
use crate::router::Route;

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
    let route = router::start().route();
    view! {
            <Show when=move || !embedded>
                <header class="appbar">
                    <a href="/" class="brand">"Neurosift"</a>
                    <span class="tagline">"NWB files in the browser, read lazily"</span>
                </header>
            </Show>
            <main>
                {match activity.clone() {
                    Err(e) => view! { <div class="error-panel"><strong>"Cannot start: "</strong>{e}</div> }.into_any(),
                    Ok(_) => (move || match route.get() {
                        Route::Home => view! { <HomePage/> }.into_any(),
                        Route::Nwb => view! { <NwbPage/> }.into_any(),
                        Route::Figure => view! { <FigurePage/> }.into_any(),
                        Route::Dandiset => view! { <DandisetPage/> }.into_any(),
                        Route::NotFound => view! { <p class="empty">"Page not found."</p> }.into_any(),
                    }).into_any(),
                }}
            </main>
            {activity.ok().map(|a| view! { <StatusLine activity=a/> })}
    }
}
