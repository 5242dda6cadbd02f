//! The app's routes: which page a path shows, the query the pages read,
//! and moving between them without reloading (the history API; clicks on
//! same-origin links stay in the page, Back and Forward are followed).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// The page a path shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Home,
    Nwb,
    Figure,
    Dandiset,
    NotFound,
}

impl Route {
    /// The route of `path` (a URL's path; a trailing `/` is allowed).
    pub fn of(path: &str) -> Route {
        match path.trim_end_matches('/') {
            "" => Route::Home,
            "/nwb" => Route::Nwb,
            "/f" => Route::Figure,
            _ if dandiset_id(path).is_some() => Route::Dandiset,
            _ => Route::NotFound,
        }
    }
}

/// The dandiset of a `/dandiset/<id>` path.
pub fn dandiset_id(path: &str) -> Option<String> {
    let id = path.strip_prefix("/dandiset/")?.trim_end_matches('/');
    (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
}

/// A URL's query, decoded, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(search: &str) -> Query {
        Query(ns_links::parse_query(search))
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

/// Where the app is: the path and the query of the page's URL, as of the
/// last navigation (changes made with `history.replaceState` alone, like
/// the open tab in `url.rs`, do not count: they load nothing).
#[derive(Clone, Copy)]
pub struct Location {
    path: RwSignal<String>,
    search: RwSignal<String>,
}

impl Location {
    /// The route shown; it changes only when the page does.
    pub fn route(self) -> Memo<Route> {
        Memo::new(move |_| Route::of(&self.path.read()))
    }
}

thread_local! {
    /// The app's location, once `start` has run.
    static LOCATION: std::cell::Cell<Option<Location>> = const { std::cell::Cell::new(None) };
}

/// Starts following the page's URL (Back/Forward, link clicks).
pub fn start() -> Location {
    let (path, search) = current();
    let location = Location {
        path: RwSignal::new(path),
        search: RwSignal::new(search),
    };
    LOCATION.with(|l| l.set(Some(location)));
    let Some(window) = web_sys::window() else {
        return location;
    };
    let on_pop = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| update(location));
    let _ = window.add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
    on_pop.forget();
    let on_click =
        Closure::<dyn FnMut(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
            if let Some(to) = in_app_link(&ev) {
                ev.prevent_default();
                go(location, &to, false);
            }
        });
    let _ = window.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    on_click.forget();
    location
}

/// The query of the current URL (re-read on navigation).
pub fn use_query() -> Memo<Query> {
    let search = location().map(|l| l.search);
    Memo::new(move |_| Query::parse(&search.map(|s| s.get()).unwrap_or_default()))
}

/// The path of the current URL (re-read on navigation).
pub fn use_path() -> Memo<String> {
    let path = location().map(|l| l.path);
    Memo::new(move |_| path.map(|p| p.get()).unwrap_or_default())
}

fn location() -> Option<Location> {
    LOCATION.with(|l| l.get())
}

/// Goes to `to` (a path with its query) in the app: a new history entry,
/// or in place of the current one with `replace`.
pub fn navigate(to: &str, replace: bool) {
    if let Some(location) = location() {
        go(location, to, replace);
    }
}

fn go(location: Location, to: &str, replace: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(history) = window.history() else {
        let _ = window.location().set_href(to);
        return;
    };
    let done = if replace {
        history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(to))
    } else {
        history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(to))
    };
    if done.is_err() {
        let _ = window.location().set_href(to);
        return;
    }
    if !replace && !to.contains('#') {
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }
    update(location);
}

fn current() -> (String, String) {
    let Some(l) = web_sys::window().map(|w| w.location()) else {
        return ("/".into(), String::new());
    };
    (
        l.pathname().unwrap_or_else(|_| "/".into()),
        l.search().unwrap_or_default(),
    )
}

/// Sets the location from the page's URL (signals set only when they
/// change: a hash change moves neither).
fn update(location: Location) {
    let (path, search) = current();
    if location.path.get_untracked() != path {
        location.path.set(path);
    }
    if location.search.get_untracked() != search {
        location.search.set(search);
    }
}

/// The path and query of the link a plain click followed, if it stays in
/// the app: a same-origin `<a href>` without `target` or `download`, not
/// handled already, to another page or query (not only another `#`).
fn in_app_link(ev: &web_sys::MouseEvent) -> Option<String> {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.meta_key()
        || ev.ctrl_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return None;
    }
    let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
    let a = target.closest("a[href]").ok()??;
    if a.has_attribute("download")
        || a.get_attribute("target").is_some_and(|t| t != "_self")
        || a.get_attribute("rel")
            .is_some_and(|r| r.split_whitespace().any(|r| r == "external"))
    {
        return None;
    }
    let window = web_sys::window()?;
    let here = window.location().href().ok()?;
    let url = web_sys::Url::new_with_base(&a.get_attribute("href")?, &here).ok()?;
    let now = web_sys::Url::new(&here).ok()?;
    if url.origin() != now.origin()
        || (url.pathname() == now.pathname() && url.search() == now.search())
    {
        return None;
    }
    Some(format!("{}{}{}", url.pathname(), url.search(), url.hash()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of("/"), Route::Home);
        assert_eq!(Route::of(""), Route::Home);
        assert_eq!(Route::of("/nwb"), Route::Nwb);
        assert_eq!(Route::of("/nwb/"), Route::Nwb);
        assert_eq!(Route::of("/f"), Route::Figure);
        assert_eq!(Route::of("/dandiset/000409"), Route::Dandiset);
        assert_eq!(Route::of("/dandiset/000409/"), Route::Dandiset);
        assert_eq!(Route::of("/dandiset/"), Route::NotFound);
        assert_eq!(Route::of("/dandiset/1/2"), Route::NotFound);
        assert_eq!(Route::of("/nwbx"), Route::NotFound);
        assert_eq!(dandiset_id("/dandiset/000409/").as_deref(), Some("000409"));
    }

    #[test]
    fn query() {
        let q = Query::parse("?url=https%3A%2F%2Fx%2Fa.nwb%3Fv%3D1&tab=%2Fa&tab=%2Fb&e=a+b");
        assert_eq!(q.get("url").as_deref(), Some("https://x/a.nwb?v=1"));
        assert_eq!(q.get("tab").as_deref(), Some("/a"));
        assert_eq!(q.get("e").as_deref(), Some("a b"));
        assert_eq!(q.get("none"), None);
        assert_eq!(Query::parse(""), Query::default());
    }
}
