//! Fetches from the main thread, all through gloo-net: DANDI API JSON, and
//! the size probe that runs before a remote file is handed to the worker.
//!
//! The user's DANDI API key goes only where [`api_key_for`] allows: the
//! DANDI API hosts (see [`ns_links::credentials_allowed`]).

use ns_io::{Expected, RangeRequest, ResponseHead, check_range_response};
use ns_protocol::{ErrorKind, WorkerError};
use wasm_bindgen::JsCast;
use web_sys::AbortController;

const API_KEY: &str = "neurosift.dandiApiKey";
const API_ROOT: &str = "neurosift.dandiApi";
const LINDI_BASE: &str = "neurosift.lindiBase";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The DANDI API root the user configured (`localStorage["neurosift.dandiApi"]`).
fn configured_api() -> Option<String> {
    storage()
        .and_then(|s| s.get_item(API_ROOT).ok().flatten())
        .filter(|s| !s.is_empty())
}

/// The DANDI API root: `localStorage["neurosift.dandiApi"]` or the public one.
pub fn dandi_api() -> String {
    configured_api().unwrap_or_else(|| ns_links::DANDI_API.to_string())
}

/// Where LINDI indexes of DANDI assets are looked for:
/// `localStorage["neurosift.lindiBase"]` or the one Neurosift uses.
pub fn lindi_base() -> String {
    storage()
        .and_then(|s| s.get_item(LINDI_BASE).ok().flatten())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "https://lindi.neurosift.org".to_string())
}

/// The user's DANDI API key (for embargoed data), kept in this browser only.
pub fn api_key() -> Option<String> {
    storage()
        .and_then(|s| s.get_item(API_KEY).ok().flatten())
        .filter(|s| !s.is_empty())
}

/// The API key, if one is set and `url` may get it: only the DANDI API
/// hosts (public, sandbox, and the configured API) do, never a file server
/// named in a link or a LINDI reference.
pub fn api_key_for(url: &str) -> Option<String> {
    let roots = ns_links::dandi_credential_roots(configured_api().as_deref());
    api_key().filter(|_| ns_links::credentials_allowed(url, &roots))
}

pub fn set_api_key(key: &str) {
    if let Some(s) = storage() {
        let _ = if key.is_empty() {
            s.remove_item(API_KEY)
        } else {
            s.set_item(API_KEY, key)
        };
    }
}

fn js_text(v: &wasm_bindgen::JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| format!("{v:?}"))
}

/// GETs JSON from the DANDI API (with the API key when one is set and the
/// URL is a DANDI API's).
pub async fn get_json(url: &str) -> Result<serde_json::Value, String> {
    // The query goes in as pairs: gloo-net appends a stray `&` to a URL
    // that already has one.
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let pairs = ns_links::parse_query(query);
    let mut request = gloo_net::http::Request::get(base)
        .query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .cache(web_sys::RequestCache::NoStore);
    if let Some(key) = api_key_for(url) {
        request = request.header("Authorization", &format!("token {key}"));
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("{url}: network error or blocked by CORS: {e}"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    response
        .json::<serde_json::Value>()
        .await
        .map_err(|e| format!("{url}: not JSON ({e})"))
}

/// What the probe of a remote file learned.
pub struct Probe {
    pub size_bytes: u64,
    /// The first byte of the file, when the one-byte probe sufficed.
    pub first_byte: Option<u8>,
    /// ETag or Last-Modified, when the server shows one.
    pub validator: Option<String>,
    /// Bytes read from the file's ends (offset, bytes), by [`probe_ends`]:
    /// the worker starts from them instead of fetching them again.
    pub ends: Vec<(u64, Vec<u8>)>,
}

/// [`probe_size`] that also reads the first and the last `bytes` of the
/// file (pynwb puts the metadata there), in the same round trip: two
/// concurrent Range requests, `bytes=0-(n-1)` and `bytes=-n`. The size comes
/// from their `Content-Range`; when the server hides it (S3 without CORS
/// exposure), from a `bytes=0-` request as in [`probe_size`], and the tail
/// is dropped (it cannot be placed).
pub async fn probe_ends(url: &str, bytes: u64) -> Result<Probe, WorkerError> {
    let (tx, rx) = futures_channel::oneshot::channel();
    let tail_url = url.to_string();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = tx.send(probe_once(&tail_url, &RangeRequest::Suffix(bytes), true).await);
    });
    let head = probe_once(url, &RangeRequest::Span(0..bytes.max(1)), true).await?;
    // The tail is a bonus: an error there shows again in the worker's reads.
    let tail = rx.await.ok().and_then(Result::ok);
    ends_probe(url, head, tail).await
}

/// The probe from the answers for the head and the tail.
async fn ends_probe(
    url: &str,
    head: ProbeAnswer,
    tail: Option<ProbeAnswer>,
) -> Result<Probe, WorkerError> {
    let mut ends = Vec::new();
    let size_bytes = match head.expected.total_bytes {
        Some(total) => total,
        None => {
            probe_once(url, &RangeRequest::From(0), false)
                .await?
                .into_probe(url)?
                .size_bytes
        }
    };
    if let Some(body) = head.body.clone() {
        ends.push((0, body));
    }
    if let Some(tail) = tail
        && tail.expected.total_bytes == Some(size_bytes)
        && let Some(body) = tail.body
    {
        ends.push((tail.expected.range.start, body));
    }
    let first_byte = ends.first().and_then(|(_, b)| b.first().copied());
    Ok(Probe {
        size_bytes,
        first_byte,
        validator: head.validator,
        ends,
    })
}

/// Learns a remote file's size and checks that its server honours Range,
/// without downloading it: asks for `bytes=0-`, reads the headers
/// (`Content-Length` is readable cross-origin, unlike `Content-Range` on
/// S3), then aborts the body. Follows redirects (DANDI → S3). Every answer
/// goes through [`ns_io::check_range_response`], like the worker's reads.
pub async fn probe_size(url: &str) -> Result<Probe, WorkerError> {
    // First one byte: enough when the server lets scripts read Content-Range.
    let first = probe_once(url, &RangeRequest::Span(0..1), true).await?;
    if first.expected.total_bytes.is_some() {
        return first.into_probe(url);
    }
    // S3 exposes only ETag: ask for everything, read Content-Length, abort.
    probe_once(url, &RangeRequest::From(0), false)
        .await?
        .into_probe(url)
}

/// The answer to the one-byte probe `www/index.html` made of `url` before
/// the app started (its `Response`, body already read), checked as
/// [`probe_size`] checks its own.
pub async fn check_page_probe(
    url: &str,
    response: web_sys::Response,
) -> Result<Probe, WorkerError> {
    let controller = AbortController::new().map_err(|e| WorkerError {
        kind: ErrorKind::Network,
        message: js_text(&e),
    })?;
    let request = RangeRequest::Span(0..1);
    check_answer(url, &request, false, &response.into(), &controller)
        .await?
        .into_probe(url)
}

/// One checked probe answer.
struct ProbeAnswer {
    expected: Expected,
    /// The body, when it was read.
    body: Option<Vec<u8>>,
    validator: Option<String>,
}

/// The kind of a failed probe, for the app's messages.
fn probe_error(e: &ns_io::Error) -> WorkerError {
    let kind = match e {
        ns_io::Error::NotPartial { .. } => ErrorKind::NoRangeSupport,
        ns_io::Error::HttpStatus { status: 404, .. } => ErrorKind::NotFound,
        _ => ErrorKind::Http,
    };
    WorkerError {
        kind,
        message: e.to_string(),
    }
}

/// One probe request; its body is read when `read_body` and the answer is
/// the range asked for (never a whole file).
async fn probe_once(
    url: &str,
    request: &RangeRequest,
    read_body: bool,
) -> Result<ProbeAnswer, WorkerError> {
    probe_answer(url, request, read_body).await
}

/// [`probe_once`].
async fn probe_answer(
    url: &str,
    request: &RangeRequest,
    read_body: bool,
) -> Result<ProbeAnswer, WorkerError> {
    let controller = AbortController::new().map_err(|e| WorkerError {
        kind: ErrorKind::Network,
        message: js_text(&e),
    })?;
    let mut headers = vec![("Range", request.header_value())];
    if let Some(key) = api_key_for(url) {
        headers.push(("Authorization", format!("token {key}")));
    }
    let mut builder = gloo_net::http::Request::get(url)
        // Never from the HTTP cache: the probe is what tells a changed file.
        .cache(web_sys::RequestCache::NoStore)
        .abort_signal(Some(&controller.signal()));
    for (name, value) in &headers {
        builder = builder.header(name, value);
    }
    let response = builder.send().await.map_err(|e| WorkerError {
        kind: ErrorKind::Network,
        message: format!("{url}: network error or blocked by CORS: {e}"),
    })?;
    check_answer(url, request, read_body, &response, &controller).await
}

/// Checks one probe answer ([`check_range_response`]) and reads its body
/// when asked and partial; aborts the rest.
async fn check_answer(
    url: &str,
    request: &RangeRequest,
    read_body: bool,
    response: &gloo_net::http::Response,
    controller: &AbortController,
) -> Result<ProbeAnswer, WorkerError> {
    let header = |name: &str| response.headers().get(name);
    let content_range = header("content-range");
    let head = ResponseHead {
        status: response.status(),
        content_range: content_range.as_deref(),
        content_length: header("content-length").and_then(|v| v.trim().parse::<u64>().ok()),
        content_range_may_be_hidden: true,
    };
    // What tells one version of the file from another (S3 exposes ETag;
    // Last-Modified is always readable).
    let validator = header("etag").or_else(|| header("last-modified"));
    let checked = check_range_response(url, request, &head, None);
    let expected = match checked {
        Ok(expected) => expected,
        Err(e) => {
            controller.abort();
            return Err(probe_error(&e));
        }
    };
    // The body of a checked partial answer is read when asked for; a
    // `bytes=0-` body never is: a server that ignores Range must not send
    // the whole file to us (a 200 was refused above).
    let body = if read_body && !matches!(request, RangeRequest::From(_)) {
        match response.binary().await.ok() {
            Some(body) => {
                expected
                    .check_body(url, body.len() as u64)
                    .map_err(|e| probe_error(&e))?;
                Some(body)
            }
            None => None,
        }
    } else {
        None
    };
    controller.abort();
    Ok(ProbeAnswer {
        expected,
        body,
        validator,
    })
}

impl ProbeAnswer {
    fn into_probe(self, url: &str) -> Result<Probe, WorkerError> {
        let ProbeAnswer {
            expected,
            body,
            validator,
        } = self;
        let first_byte = body.as_ref().and_then(|b| b.first().copied());
        let size_bytes = expected.total_bytes.ok_or_else(|| WorkerError {
            kind: ErrorKind::Http,
            message: format!("{url}: the server does not tell the file size"),
        })?;
        Ok(Probe {
            size_bytes,
            first_byte,
            validator,
            ends: Vec::new(),
        })
    }
}
