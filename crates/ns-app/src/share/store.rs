//! Which store figures go to and come from: the one the app is served with
//! (`neurosift serve` / `view-nwb` answer `/neurosift-config.json`), else a
//! store URL and token the user set (kept in this browser's localStorage).

use ns_store_client::{BrowserFetch, StoreClient, StoreUri};
use serde::Deserialize;

const URL_KEY: &str = "neurosift-store-url";
const TOKEN_KEY: &str = "neurosift-store-token";

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct StoreConfig {
    /// The store's base URL (`/sha1/<hash>` below it).
    pub url: String,
    /// A token that may write, when the server handed one to the app
    /// (`view-nwb`: the local store); else the user's.
    #[serde(default)]
    pub token: Option<String>,
}

#[derive(Deserialize)]
struct AppConfig {
    store: Option<StoreConfig>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The store the serving process offers, if any.
async fn served() -> Option<StoreConfig> {
    let origin = web_sys::window()?.location().origin().ok()?;
    let json = crate::net::get_json(&format!("{origin}/neurosift-config.json"))
        .await
        .ok()?;
    let config: AppConfig = serde_json::from_value(json).ok()?;
    let mut store = config.store?;
    if store.url.starts_with('/') || store.url.is_empty() {
        store.url = format!("{origin}{}", store.url.trim_end_matches('/'));
    }
    Some(store)
}

/// The store to use: the served one (with the user's token if it gave
/// none), else the user's settings.
pub async fn config() -> Option<StoreConfig> {
    let saved_token = storage().and_then(|s| s.get_item(TOKEN_KEY).ok().flatten());
    if let Some(mut s) = served().await {
        if s.token.is_none() {
            s.token = saved_token.filter(|t| !t.is_empty());
        }
        return Some(s);
    }
    let url = storage()
        .and_then(|s| s.get_item(URL_KEY).ok().flatten())
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))?;
    Some(StoreConfig {
        url,
        token: saved_token.filter(|t| !t.is_empty()),
    })
}

/// Saves the user's store settings.
pub fn save(url: &str, token: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(URL_KEY, url.trim());
        let _ = s.set_item(TOKEN_KEY, token.trim());
    }
}

pub fn client(config: &StoreConfig) -> StoreClient<BrowserFetch> {
    let c = StoreClient::new(&config.url, BrowserFetch);
    match &config.token {
        Some(t) => c.with_token(t),
        None => c,
    }
}

/// Fetches an object (its sha1 checked before anything is returned).
pub async fn get(uri: &StoreUri) -> Result<Vec<u8>, String> {
    let config = config().await.ok_or_else(|| {
        format!(
            "no store to fetch {uri} from: open this link where it was made, or set a store in the Share dialog"
        )
    })?;
    client(&config)
        .get_uri(uri)
        .await
        .map_err(|e| format!("{uri} from {}: {e}", config.url))
}
