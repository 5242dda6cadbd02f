//! Metadata pages of remote files kept across page loads (Cache Storage),
//! so that reopening a file costs one round trip: the probe, which also
//! checks that the file did not change (same size and ETag/Last-Modified).
//! Without a validator nothing is cached: stale data is never shown.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Headers, Response, ResponseInit};

const CACHE_NAME: &str = "neurosift-metadata-v1";

/// The key of `url`'s pages (`www/index.html` and the workers' loader there compute the same one).
fn key(url: &str) -> String {
    format!(
        "https://neurosift.invalid/metadata?url={}",
        js_sys::encode_uri_component(url)
    )
}

async fn open_cache() -> Option<Cache> {
    let caches = web_sys::window()?.caches().ok()?;
    let promise: Promise = caches.open(CACHE_NAME);
    JsFuture::from(promise).await.ok()?.dyn_into::<Cache>().ok()
}

/// Pages saved for `url` (of some version: see [`load`]), unread.
pub struct Saved {
    response: Response,
}

/// Where [`remember`] keeps the URLs whose pages were saved:
/// `www/index.html` reads it (synchronously) to tell the first worker
/// whether a one-byte probe will do.
const SAVED_LIST: &str = "neurosift.metadataSaved";
/// URLs kept in that list, the latest last.
const SAVED_LIST_LEN: usize = 64;

/// Notes that pages of `url` were saved (a hint only: the lookup decides).
pub fn remember(url: &str) {
    if let Some(storage) = local_storage() {
        push_recent(&storage, SAVED_LIST, url, SAVED_LIST_LEN);
    }
}

/// Moves `url` to the end of the list of URLs (JSON) kept at `key`, keeps
/// the `max` latest, and returns the ones it dropped.
fn push_recent(storage: &web_sys::Storage, key: &str, url: &str, max: usize) -> Vec<String> {
    let mut urls: Vec<String> = storage
        .get_item(key)
        .ok()
        .flatten()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    urls.retain(|u| u != url);
    urls.push(url.to_string());
    let excess = urls.len().saturating_sub(max);
    let dropped = urls.drain(..excess).collect();
    if let Ok(text) = serde_json::to_string(&urls) {
        let _ = storage.set_item(key, &text);
    }
    dropped
}

/// Whether pages of `url` were saved (for any version): the caller then
/// probes only the size and version, else it reads the file's ends with
/// the probe.
pub async fn find(url: &str) -> Option<Saved> {
    let cache = open_cache().await?;
    let found = JsFuture::from(cache.match_with_str(&key(url))).await.ok()?;
    let response = found.dyn_into::<Response>().ok()?;
    Some(Saved { response })
}

/// The saved pages of `url`, if they were saved for this very version
/// (else they are deleted).
pub async fn load(url: &str, saved: Saved, size_bytes: u64, validator: &str) -> Option<Uint8Array> {
    let Saved { response } = saved;
    let headers = response.headers();
    let same_size = headers.get("x-size").ok().flatten() == Some(size_bytes.to_string());
    let same_version = headers.get("x-validator").ok().flatten().as_deref() == Some(validator);
    if !(same_size && same_version) {
        if let Some(cache) = open_cache().await {
            let _ = JsFuture::from(cache.delete_with_str(&key(url))).await;
        }
        return None;
    }
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer))
}

/// Saves the pages of `url` for this version.
pub async fn store(url: &str, size_bytes: u64, validator: &str, pages: &Uint8Array) {
    let Some(cache) = open_cache().await else {
        return;
    };
    let Ok(headers) = Headers::new() else { return };
    let _ = headers.set("x-size", &size_bytes.to_string());
    let _ = headers.set("x-validator", validator);
    let init = ResponseInit::new();
    init.set_headers(&headers);
    let Ok(response) = Response::new_with_opt_buffer_source_and_init(Some(pages), &init) else {
        return;
    };
    let _ = JsFuture::from(cache.put_with_str(&key(url), &response)).await;
}

/// The build of the app that draws overviews, `cargo xtask web` sets it
/// (the hash of the app's sources): a saved overview is used only by the
/// build that saved it, since another build may describe the same file
/// differently. Without it (a plain `trunk build`) none is saved or used.
const BUILD: Option<&str> = option_env!("NEUROSIFT_BUILD");

/// Where an overview is saved: `localStorage` (`www/index.html` reads it
/// synchronously as the page starts, where Cache Storage took 100 ms and
/// more), under this prefix and the URL, as `size\nvalidator\nbuild\n`
/// and the overview's JSON.
const OVERVIEW_PREFIX: &str = "neurosift.overview:";
/// The URLs whose overviews are saved, the latest last.
const OVERVIEW_LIST: &str = "neurosift.overviews";
/// At most this many overviews are kept, each of at most this many UTF-16
/// units: `localStorage` holds about 5 M of them per origin, and the page
/// loads all of it on its first use.
const OVERVIEW_COUNT: usize = 4;
const OVERVIEW_MAX_LEN: usize = 256 * 1024;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// An overview saved by this build for the version of the file the page's
/// probe found.
pub struct SavedOverview {
    pub overview: ns_protocol::Overview,
    /// As saved: what a fresh open's overview is compared with.
    pub text: String,
    pub size_bytes: u64,
    pub validator: String,
}

fn js_get(object: &wasm_bindgen::JsValue, key: &str) -> Option<wasm_bindgen::JsValue> {
    js_sys::Reflect::get(object, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// The overview saved for `url`, as `www/index.html` read it beside its
/// one-byte probe (`window.neurosiftSavedOverview`: `{url, saved,
/// response}`): only when that probe's answer, checked as the app's own
/// probe is, gives the same size and ETag/Last-Modified as when it was
/// saved, this build saved it, and it reads back as an overview of `url`
/// of that size (else it is deleted). The caller draws it and checks it
/// against a fresh open.
pub async fn saved_overview(url: &str) -> Option<SavedOverview> {
    let build = BUILD?;
    let lookup = js_get(&web_sys::window()?.into(), "neurosiftSavedOverview")?;
    if js_get(&lookup, "url")?.as_string().as_deref() != Some(url) {
        return None;
    }
    let saved = js_get(&lookup, "saved")?.as_string()?;
    let response = js_get(&lookup, "response")?.dyn_into::<Promise>().ok()?;
    let response = JsFuture::from(response)
        .await
        .ok()?
        .dyn_into::<Response>()
        .ok()?;
    let probe = crate::net::check_page_probe(url, response).await.ok()?;
    let validator = probe.validator?;
    let mut parts = saved.splitn(4, '\n');
    let header = (parts.next(), parts.next(), parts.next());
    let this_version = header
        == (
            Some(probe.size_bytes.to_string().as_str()),
            Some(validator.as_str()),
            Some(build),
        );
    let text = parts.next().unwrap_or_default();
    let overview = this_version
        .then(|| {
            // Through a JSON value: the code that reads the worker's
            // answers (`ns_protocol::tagged`), not a second copy.
            let value = serde_json::from_str::<serde_json::Value>(text).ok()?;
            serde_json::from_value::<ns_protocol::Overview>(value).ok()
        })
        .flatten()
        .filter(|o| o.location == url && o.size_bytes == probe.size_bytes);
    let Some(overview) = overview else {
        drop_overview(url);
        return None;
    };
    Some(SavedOverview {
        overview,
        text: text.to_string(),
        size_bytes: probe.size_bytes,
        validator,
    })
}

/// Tells `www/index.html` that the saved overview is drawn, or will not
/// be: it then sends the first worker the answers of its probe.
pub fn overview_drawn() {
    if let Some(f) = web_sys::window()
        .and_then(|w| js_get(&w.into(), "neurosiftOverviewDrawn"))
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    {
        let _ = f.call0(&wasm_bindgen::JsValue::UNDEFINED);
    }
}

/// The JSON an overview is saved as (through a JSON value: the code that
/// writes the worker's answers, not a second copy).
pub fn overview_text(overview: &ns_protocol::Overview) -> Option<String> {
    serde_json::to_value(overview)
        .and_then(|v| serde_json::to_string(&v))
        .ok()
}

/// Deletes `url`'s saved overview.
pub fn drop_overview(url: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(&format!("{OVERVIEW_PREFIX}{url}"));
    }
}

/// Saves the overview drawn for `url` at this version, `text` being its
/// JSON (nothing without a build, see [`BUILD`], or when it is too long):
/// the oldest beyond [`OVERVIEW_COUNT`] are deleted.
pub fn store_overview(url: &str, size_bytes: u64, validator: &str, text: &str) {
    let (Some(build), Some(storage)) = (BUILD, local_storage()) else {
        return;
    };
    if text.len() > OVERVIEW_MAX_LEN || validator.contains('\n') {
        return;
    }
    for old in push_recent(&storage, OVERVIEW_LIST, url, OVERVIEW_COUNT) {
        drop_overview(&old);
    }
    let saved = format!("{size_bytes}\n{validator}\n{build}\n{text}");
    // Full (other data of this origin): not saved.
    if storage
        .set_item(&format!("{OVERVIEW_PREFIX}{url}"), &saved)
        .is_err()
    {
        drop_overview(url);
    }
}
