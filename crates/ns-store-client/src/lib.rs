//! The browser's client of a store server (`neurosift store-server`, the `kachery` crate): read
//! objects, every one verified against its sha1 before it is returned, and, with a token,
//! store them. Ready for the app's Share button; it holds no UI.
//!
//! HTTP goes through a [`Fetch`]: on wasm32, [`BrowserFetch`] (the page's or the worker's
//! `fetch`); natively, whatever the caller supplies (the tests use a blocking client against
//! the real server). URIs and hashes are [`ns_store_uri`]'s, the same the store uses.
//!
//! ```no_run
//! # async fn run<F: ns_store_client::Fetch>(fetch: F) -> Result<(), ns_store_client::Error> {
//! use ns_store_client::StoreClient;
//! let client = StoreClient::new("https://store.example.org", fetch).with_token("secret");
//! let stored = client.put(b"{\"x\": 1}", Some("figure.json")).await?;
//! let bytes = client.get_uri(&stored.uri).await?; // sha1 checked
//! # Ok(()) }
//! ```

use std::future::Future;

pub use ns_store_uri::{DEFAULT_ZONE, Sha1Hash, StoreUri, Verifier, Zone};

/// Errors of the client: each names the URL or object.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request did not get an answer.
    #[error("{url}: {message}")]
    Network {
        /// The URL.
        url: String,
        /// What the fetch reported.
        message: String,
    },
    /// The server refused (its JSON `error` message).
    #[error("{url}: {status}: {message}")]
    Server {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// No such object.
    #[error("object {hash} not found at {url}")]
    NotFound {
        /// The object.
        hash: Sha1Hash,
        /// Where it was asked for.
        url: String,
    },
    /// What came back is not the object asked for.
    #[error("{url}: {source}")]
    Corrupt {
        /// Where it came from.
        url: String,
        /// The hashes.
        source: ns_store_uri::Error,
    },
    /// Writing needs a token.
    #[error("storing at {url} needs a token")]
    NoToken {
        /// The store.
        url: String,
    },
    /// A bad hash or URI.
    #[error(transparent)]
    Uri(#[from] ns_store_uri::Error),
}

/// An HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `HEAD` or `PUT`.
    pub method: &'static str,
    /// The URL.
    pub url: String,
    /// Headers to send.
    pub headers: Vec<(String, String)>,
    /// The body (for `PUT`).
    pub body: Option<Vec<u8>>,
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    /// The status.
    pub status: u16,
    /// Headers (names in lowercase) the client could read.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A header's value (name in lowercase).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends HTTP requests: the browser's `fetch` on wasm32 ([`BrowserFetch`]), anything natively.
/// `Err` is a failure to get any answer (network, CORS), with a message.
pub trait Fetch {
    /// Sends `request` and reads the whole answer.
    fn fetch(&self, request: HttpRequest) -> impl Future<Output = Result<HttpResponse, String>>;
}

/// What [`StoreClient::put`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The object's URI (`sha1://<hash>[?label=…]`, or `kachery:<zone>:sha1:<hash>:<label>`
    /// for a zone other than the default).
    pub uri: StoreUri,
    /// The server had it already.
    pub already_stored: bool,
}

/// A store server's zone, reached through a [`Fetch`].
#[derive(Debug, Clone)]
pub struct StoreClient<F> {
    /// The server's root URL, without a trailing `/`.
    base: String,
    /// The zone (`None`: the default zone at the root).
    zone: Option<Zone>,
    token: Option<String>,
    fetch: F,
}

impl<F: Fetch> StoreClient<F> {
    /// A client of the server at `base_url` (its root: `https://host[:port]`), default zone.
    pub fn new(base_url: &str, fetch: F) -> StoreClient<F> {
        StoreClient {
            base: base_url.trim_end_matches('/').to_string(),
            zone: None,
            token: None,
            fetch,
        }
    }

    /// Uses `zone` instead of the default zone.
    #[must_use]
    pub fn in_zone(mut self, zone: Zone) -> StoreClient<F> {
        self.zone = (zone.as_str() != DEFAULT_ZONE).then_some(zone);
        self
    }

    /// Sends `Authorization: Bearer <token>` (needed to write, and to read a private zone).
    #[must_use]
    pub fn with_token(mut self, token: &str) -> StoreClient<F> {
        self.token = Some(token.to_string());
        self
    }

    /// The URL of an object in this client's zone, or in `zone`.
    #[must_use]
    pub fn object_url(&self, hash: Sha1Hash, zone: Option<&Zone>) -> String {
        match zone.or(self.zone.as_ref()) {
            Some(zone) if zone.as_str() != DEFAULT_ZONE => {
                format!("{}/{zone}/sha1/{hash}", self.base)
            }
            _ => format!("{}/sha1/{hash}", self.base),
        }
    }

    fn request(&self, method: &'static str, url: String, body: Option<Vec<u8>>) -> HttpRequest {
        let headers = self
            .token
            .iter()
            .map(|t| ("Authorization".to_string(), format!("Bearer {t}")))
            .collect();
        HttpRequest {
            method,
            url,
            headers,
            body,
        }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let url = request.url.clone();
        self.fetch
            .fetch(request)
            .await
            .map_err(|message| Error::Network { url, message })
    }

    /// The object, verified: [`Error::Corrupt`] if the bytes are not the object's.
    pub async fn get(&self, hash: Sha1Hash) -> Result<Vec<u8>, Error> {
        self.get_in(hash, None).await
    }

    /// The object a URI names (in the URI's zone, for `kachery:` URIs), verified.
    pub async fn get_uri(&self, uri: &StoreUri) -> Result<Vec<u8>, Error> {
        self.get_in(uri.hash(), uri.zone()).await
    }

    async fn get_in(&self, hash: Sha1Hash, zone: Option<&Zone>) -> Result<Vec<u8>, Error> {
        let url = self.object_url(hash, zone);
        let response = self.send(self.request("GET", url.clone(), None)).await?;
        match response.status {
            200 => {
                Verifier::check(hash, &response.body)
                    .map_err(|source| Error::Corrupt { url, source })?;
                Ok(response.body)
            }
            404 => Err(Error::NotFound { hash, url }),
            status => Err(refusal(url, status, &response.body)),
        }
    }

    /// The object's size if the server has it.
    pub async fn size_of(&self, hash: Sha1Hash) -> Result<Option<u64>, Error> {
        let url = self.object_url(hash, None);
        let response = self.send(self.request("HEAD", url.clone(), None)).await?;
        match response.status {
            200 => Ok(response
                .header("content-length")
                .and_then(|v| v.trim().parse().ok())),
            404 => Ok(None),
            status => Err(refusal(url, status, &response.body)),
        }
    }

    /// Stores `bytes` (needs a token); `label` goes into the returned URI.
    pub async fn put(&self, bytes: &[u8], label: Option<&str>) -> Result<Stored, Error> {
        let hash = Sha1Hash::of(bytes);
        let url = self.object_url(hash, None);
        if self.token.is_none() {
            return Err(Error::NoToken { url });
        }
        let response = self
            .send(self.request("PUT", url.clone(), Some(bytes.to_vec())))
            .await?;
        if !matches!(response.status, 200 | 201) {
            return Err(refusal(url, response.status, &response.body));
        }
        // Parsed as text (`from_str`), as all JSON in the browser's wasm.
        let reply: serde_json::Value = std::str::from_utf8(&response.body)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()))
            .map_err(|e| Error::Server {
                url: url.clone(),
                status: response.status,
                message: format!("unexpected answer to PUT: {e}"),
            })?;
        if reply["sha1"].as_str() != Some(hash.to_hex().as_str()) {
            return Err(Error::Server {
                url,
                status: response.status,
                message: format!("answered for another object: {reply}"),
            });
        }
        let uri = match &self.zone {
            Some(zone) => StoreUri::Kachery {
                zone: zone.clone(),
                hash,
                label: label.unwrap_or_default().to_string(),
            },
            None => StoreUri::sha1(hash, label),
        };
        Ok(Stored {
            uri,
            already_stored: reply["already_stored"].as_bool().unwrap_or(false),
        })
    }
}

/// The error a refusal means, with the server's `{"error": "..."}` message if it sent one.
fn refusal(url: String, status: u16, body: &[u8]) -> Error {
    let message = std::str::from_utf8(body)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|v| v.get("error")?.as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    Error::Server {
        url,
        status,
        message,
    }
}

mod browser;

pub use browser::BrowserFetch;
