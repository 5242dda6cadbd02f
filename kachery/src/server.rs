//! The store server (`neurosift store-server`), over a directory or S3 store.
//!
//! - `GET`/`HEAD /sha1/<hash>` (the `default` zone) and `/<zone>/sha1/<hash>`: the object,
//!   verified; `Range` (206/416), a strong `ETag` (the hash), conditional requests (304, 412)
//!   through [`ns_serve::answer`]; `Cache-Control: public, max-age=31536000, immutable`
//!   (content never changes under a name); CORS for any origin (figure data must load from
//!   any page). An object up to [`crate::BUFFER_BYTES`] is checked before its first byte is
//!   sent (a corrupt one answers 500); a larger one streams and the connection is cut before
//!   its last piece if it turns out corrupt.
//! - `PUT /sha1/<hash>`: `Authorization: Bearer <token>` of the zone (401 without, 403 with
//!   a wrong one), the body streamed and hashed (400 if it is not `<hash>`), at most
//!   `max_object_bytes` (413), visible only once complete and verified. 201 when stored, 200
//!   when it was already there: `{"sha1": …, "size": …, "already_stored": …}`.
//! - Errors are JSON, `{"error": "..."}`: 400 a bad hash (anything that is not 40 lowercase
//!   hex digits, so no path can escape), 404 an unknown object, zone or route, 405 another
//!   method. One log line per request (`tracing`, target `store_server`).
//!
//! Zones (the config file, TOML): the `default` zone lives at the root of the store, zone
//! `Z` below `zones/Z/`.
//!
//! ```toml
//! max_object_bytes = 1073741824   # 1 GiB, the default
//! [zones.default]
//! public_read = true              # the default; otherwise read_tokens (or write_tokens) read
//! write_tokens = ["a-long-random-secret"]
//! [zones.lab]
//! public_read = false
//! read_tokens = ["another-secret"]
//! write_tokens = ["a-third-secret"]
//! ```

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::stream::StreamExt;
use ns_serve::{Answer, Representation};
use ns_store_uri::{DEFAULT_ZONE, Sha1Hash, StoreUri, Verifier, Zone};
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{BUFFER_BYTES, Error, NoProgress, Store};

/// The default limit of one object's size: 1 GiB.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 1 << 30;

/// What the server serves and who may write (see the module docs for the file format).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The largest object a `PUT` may store.
    #[serde(default = "default_max_object_bytes")]
    pub max_object_bytes: u64,
    /// The zones by name.
    #[serde(default)]
    pub zones: BTreeMap<String, ZoneConfig>,
}

/// One zone's rights.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Anyone may read (default); otherwise a read or write token is needed.
    #[serde(default = "yes")]
    pub public_read: bool,
    /// Tokens that may store objects.
    #[serde(default)]
    pub write_tokens: Vec<String>,
    /// Tokens that may read when `public_read` is false.
    #[serde(default)]
    pub read_tokens: Vec<String>,
}

fn default_max_object_bytes() -> u64 {
    DEFAULT_MAX_OBJECT_BYTES
}

fn yes() -> bool {
    true
}

impl Config {
    /// Only the `default` zone, readable by anyone, writable with `token` (read-only without).
    #[must_use]
    pub fn single_zone(token: Option<String>) -> Config {
        let zone = ZoneConfig {
            public_read: true,
            write_tokens: token.into_iter().collect(),
            read_tokens: Vec::new(),
        };
        Config {
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
            zones: BTreeMap::from([(DEFAULT_ZONE.to_string(), zone)]),
        }
    }

    /// Reads a TOML config file and checks it.
    pub fn load(path: &FsPath) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        config.check().map_err(|reason| Error::Config {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        if self.zones.is_empty() {
            return Err("no zones (add a [zones.default] table)".into());
        }
        for (name, zone) in &self.zones {
            Zone::new(name).map_err(|e| e.to_string())?;
            if zone
                .write_tokens
                .iter()
                .chain(&zone.read_tokens)
                .any(|t| t.trim().is_empty() || t.trim() != t)
            {
                return Err(format!(
                    "zone {name}: a token is empty or has spaces around it"
                ));
            }
        }
        Ok(())
    }
}

/// One zone as served.
struct ZoneState {
    store: Store,
    public_read: bool,
    write_tokens: Vec<String>,
    read_tokens: Vec<String>,
}

struct ServerState {
    zones: BTreeMap<String, ZoneState>,
    max_object_bytes: u64,
}

type Shared = Arc<ServerState>;

/// The server's routes over `store` (a directory or S3 store, not another server).
pub fn router(store: &Store, config: &Config) -> Result<Router, Error> {
    config.check().map_err(|reason| Error::Config {
        path: "(given)".into(),
        reason,
    })?;
    let Some(root) = store.object_store() else {
        return Err(Error::BadLocation {
            location: store.name().to_string(),
            reason: "a store server serves a directory or an s3:// store, not another server"
                .into(),
        });
    };
    let mut zones = BTreeMap::new();
    for (name, zone) in &config.zones {
        // Named by zone in messages: clients are not told where the server keeps its files.
        let zone_store = if name == DEFAULT_ZONE {
            Store::with_object_store(Arc::clone(root), format!("zone {name}"))
        } else {
            let prefix = format!("zones/{name}");
            Store::with_object_store(
                Arc::new(object_store::prefix::PrefixStore::new(
                    Arc::clone(root),
                    prefix.as_str(),
                )),
                format!("zone {name}"),
            )
        };
        zones.insert(
            name.clone(),
            ZoneState {
                store: zone_store,
                public_read: zone.public_read,
                write_tokens: zone.write_tokens.clone(),
                read_tokens: zone.read_tokens.clone(),
            },
        );
    }
    let state: Shared = Arc::new(ServerState {
        zones,
        max_object_bytes: config.max_object_bytes,
    });
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::HEAD, Method::PUT, Method::OPTIONS])
        .allow_headers(ns_serve::Cors::ALLOW_HEADERS)
        .expose_headers(ns_serve::Cors::EXPOSE_HEADERS)
        .max_age(Duration::from_secs(86_400));
    Ok(Router::new()
        .route("/sha1/{hash}", any(default_zone_object))
        .route("/{zone}/sha1/{hash}", any(zone_object))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such route: use /sha1/<hash> or /<zone>/sha1/<hash>",
            )
        })
        .with_state(state)
        .layer(cors)
        .layer(axum::middleware::from_fn(log)))
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// One line per request: method, path, status, length, time.
async fn log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let length = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    tracing::info!(
        target: "store_server",
        "{method} {path} {} {length} {:.1}ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// `{"error": message}` with `status`, never cached.
fn error(status: StatusCode, message: impl Display) -> Response {
    let body = serde_json::json!({ "error": message.to_string() });
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The status an error of the store is answered with.
fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::WrongHash { .. } | Error::Interrupted { .. } | Error::Uri(_) => {
            StatusCode::BAD_REQUEST
        }
        Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Http { .. } | Error::Server { .. } => StatusCode::BAD_GATEWAY,
        Error::Corrupt { .. }
        | Error::Backend { .. }
        | Error::Io { .. }
        | Error::BadLocation { .. }
        | Error::Config { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn store_error(e: &Error) -> Response {
    let status = status_of(e);
    if status.is_server_error() {
        tracing::error!(target: "store_server", "{e}");
    }
    error(status, e)
}

async fn default_zone_object(
    State(state): State<Shared>,
    hash: Result<Path<String>, PathRejection>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match hash {
        Ok(Path(hash)) => object(&state, DEFAULT_ZONE, &hash, &method, &headers, body).await,
        Err(e) => error(StatusCode::BAD_REQUEST, e.body_text()),
    }
}

async fn zone_object(
    State(state): State<Shared>,
    path: Result<Path<(String, String)>, PathRejection>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match path {
        Ok(Path((zone, hash))) => object(&state, &zone, &hash, &method, &headers, body).await,
        Err(e) => error(StatusCode::BAD_REQUEST, e.body_text()),
    }
}

/// `None` if `headers` carry `Authorization: Bearer <one of tokens>`, else the answer
/// (401 without a bearer token, 403 with a wrong one).
fn authorize(headers: &HeaderMap, tokens: &[&String], zone: &str, what: &str) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let Some(given) = given else {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            format!("{what} in zone {zone} needs Authorization: Bearer <token>"),
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"neurosift-store\""),
        );
        return Some(response);
    };
    // Every token is compared, in time independent of where they differ.
    let matched = tokens
        .iter()
        .fold(false, |ok, token| same_secret(token, given) | ok);
    (!matched).then(|| {
        error(
            StatusCode::FORBIDDEN,
            format!("this token may not {what} in zone {zone}"),
        )
    })
}

fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

async fn object(
    state: &ServerState,
    zone_name: &str,
    hash: &str,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let Some(zone) = state.zones.get(zone_name) else {
        return error(StatusCode::NOT_FOUND, format!("no zone {zone_name:?}"));
    };
    let hash = match Sha1Hash::from_hex(hash) {
        Ok(hash) => hash,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match *method {
        Method::GET | Method::HEAD => {
            if !zone.public_read {
                let tokens: Vec<&String> =
                    zone.read_tokens.iter().chain(&zone.write_tokens).collect();
                if let Some(refused) = authorize(headers, &tokens, zone_name, "read") {
                    return refused;
                }
            }
            get(zone, hash, method, headers).await
        }
        Method::PUT => {
            let tokens: Vec<&String> = zone.write_tokens.iter().collect();
            if let Some(refused) = authorize(headers, &tokens, zone_name, "store objects") {
                return refused;
            }
            put(zone, zone_name, hash, headers, body, state.max_object_bytes).await
        }
        _ => {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed here (GET, HEAD, PUT)"),
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, PUT"));
            response
        }
    }
}

fn object_headers(response: &mut Response, public: bool) {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if public {
            "public, max-age=31536000, immutable"
        } else {
            "private, max-age=31536000, immutable"
        }),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

async fn get(zone: &ZoneState, hash: Sha1Hash, method: &Method, headers: &HeaderMap) -> Response {
    let length_bytes = match zone.store.size_of(hash).await {
        Ok(Some(length_bytes)) => length_bytes,
        Ok(None) => {
            return store_error(&Error::NotFound {
                hash,
                store: "this zone".into(),
            });
        }
        Err(e) => return store_error(&e),
    };
    let representation = Representation {
        length_bytes,
        etag: Some(hash.to_hex()),
        modified: None,
        content_type: HeaderValue::from_static("application/octet-stream"),
    };
    let mut response = match ns_serve::answer(&representation, method, headers) {
        Answer::Complete(response) => response,
        Answer::Body {
            mut response,
            first_byte,
            count_bytes,
        } => {
            let range = first_byte..first_byte.saturating_add(count_bytes);
            if length_bytes <= BUFFER_BYTES {
                // Checked whole before the first byte goes out.
                let bytes = match zone.store.get_bytes(hash, BUFFER_BYTES).await {
                    Ok(bytes) => bytes,
                    Err(e) => return store_error(&e),
                };
                let (Ok(start), Ok(end)) =
                    (usize::try_from(range.start), usize::try_from(range.end))
                else {
                    return error(StatusCode::INTERNAL_SERVER_ERROR, "range too large");
                };
                if end > bytes.len() {
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("object {hash} changed length while served"),
                    );
                }
                *response.body_mut() = Body::from(bytes.slice(start..end));
            } else {
                let stream = match zone.store.get_range(hash, range).await {
                    Ok((_, stream)) => stream,
                    Err(e) => return store_error(&e),
                };
                let logged = stream.inspect(|piece| {
                    if let Err(e) = piece {
                        tracing::error!(target: "store_server", "cut off: {e}");
                    }
                });
                *response.body_mut() = Body::from_stream(logged);
            }
            response
        }
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        object_headers(&mut response, zone.public_read);
    }
    response
}

async fn put(
    zone: &ZoneState,
    zone_name: &str,
    hash: Sha1Hash,
    headers: &HeaderMap,
    body: Body,
    max_object_bytes: u64,
) -> Response {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared
        && length > max_object_bytes
    {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{length} bytes is more than this server's limit of {max_object_bytes}"),
        );
    }
    let mut received = 0u64;
    let what = format!("PUT of {hash}");
    let body = body
        .into_data_stream()
        .map(move |piece| {
            piece
                .inspect(|p| received += p.len() as u64)
                .map_err(|e| Error::Interrupted {
                    what: what.clone(),
                    bytes: received,
                    message: e.to_string(),
                })
        })
        .boxed();
    // Stored with another length than the one declared: damaged, so written again.
    let already = match zone.store.size_of(hash).await {
        Ok(size) => size.is_some() && declared.is_none_or(|d| size == Some(d)),
        Err(e) => return store_error(&e),
    };
    let stored = if already {
        drain(body, hash, max_object_bytes).await
    } else {
        zone.store
            .put_stream(
                hash,
                declared.unwrap_or(0),
                body,
                Some(max_object_bytes),
                &NoProgress,
            )
            .await
            .map(|stored| stored.size_bytes)
    };
    match stored {
        Ok(size) => {
            let uri = if zone_name == DEFAULT_ZONE {
                StoreUri::sha1(hash, None).to_string()
            } else {
                format!("kachery:{zone_name}:sha1:{hash}:")
            };
            let status = if already {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let reply = serde_json::json!({
                "sha1": hash.to_hex(),
                "size": size,
                "already_stored": already,
                "uri": uri,
            });
            (status, axum::Json(reply)).into_response()
        }
        Err(e) => store_error(&e),
    }
}

/// Reads and checks an upload of an object already stored, writing nothing.
async fn drain(
    mut body: crate::verify::ByteStream,
    hash: Sha1Hash,
    max_object_bytes: u64,
) -> Result<u64, Error> {
    let mut verifier = Verifier::new(hash);
    while let Some(piece) = body.next().await {
        verifier.update(&piece?);
        if verifier.bytes() > max_object_bytes {
            return Err(Error::TooLarge {
                hash,
                limit_bytes: max_object_bytes,
                store: "this server".into(),
            });
        }
    }
    let bytes = verifier.bytes();
    verifier.finish().map_err(|e| match e {
        ns_store_uri::Error::Mismatch { actual, .. } => Error::WrongHash {
            expected: hash,
            actual,
            bytes,
            store: "this server".into(),
        },
        other => Error::Uri(other),
    })
}
