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
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    let mut urls: Vec<String> = storage
        .get_item(SAVED_LIST)
        .ok()
        .flatten()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    urls.retain(|u| u != url);
    urls.push(url.to_string());
    let excess = urls.len().saturating_sub(SAVED_LIST_LEN);
    urls.drain(..excess);
    if let Ok(text) = serde_json::to_string(&urls) {
        let _ = storage.set_item(SAVED_LIST, &text);
    }
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
