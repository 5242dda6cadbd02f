//! Serving local files over HTTP, for the `neurosift` launcher and the test server.
//!
//! - [`serve_file`]: one file as a `GET`/`HEAD` answer with single byte ranges (206, 416),
//!   a strong `ETag`, `Last-Modified` and conditional requests (304, 412, `If-Range`).
//! - [`answer`]: the same decisions for anything else served (a stored object): status,
//!   headers and which bytes, from a [`Representation`] (length, validators, type).
//! - [`NamedFiles`]: only the files it was given, each under a chosen name; nothing else.
//! - [`ServeDir`]: the files below a directory, URL paths checked ([`RelPath`]) and symbolic
//!   links pointing out of it refused; optionally a single-page app (`index.html` for paths
//!   that name no file, so client-side routes load).
//! - [`Cors`]: which other origins may read the answers, with the headers a range reader
//!   needs exposed (`Content-Range`, `Content-Length`, `Accept-Ranges`, `ETag`).
//!
//! Anything refused (`..`, `%2e%2e`, an encoded `/`, an absolute path, a link out of the
//! directory, a name not given) is answered 404, like a missing file.
//!
//! `tower-http`'s `ServeDir` was not used for the files: it has no `ETag`, `If-None-Match`
//! or `If-Range`, answers a malformed or multi-range `Range` with 416 instead of ignoring it,
//! and follows symbolic links out of the directory. Its CORS layer is used as it is.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ns_serve::{Cors, NamedFiles, ServeDir};
//! let files = NamedFiles::new().with("session.nwb", "/data/session.nwb")?;
//! let app = ServeDir::new("dist")?.with_spa_fallback();
//! let router = axum::Router::new()
//!     .nest_service("/files", files)
//!     .fallback_service(app);
//! let router = Cors::Origins(vec!["https://neurosift.app".into()]).apply(router)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, router).await?;
//! # Ok(())
//! # }
//! ```

mod file;
mod path;
mod range;
mod signal;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use file::{Answer, Representation, answer, content_type, serve_file};
pub use path::{RelPath, Unresolved, resolve};
pub use range::RangeRequest;
pub use signal::stop_signal;

/// Errors from setting up what is served.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A directory to serve is not a directory.
    #[error("not a directory: {}", .0.display())]
    NotADirectory(PathBuf),
    /// A file to serve is not a regular file.
    #[error("not a file: {}", .0.display())]
    NotAFile(PathBuf),
    /// A name for a served file is not a plain relative URL path.
    #[error(
        "{0:?} is not a plain relative name (no `..`, `.`, `\\`, empty segments or leading `/`)"
    )]
    BadName(String),
    /// A CORS origin is not a valid header value or is `*` (use [`Cors::AnyOrigin`]).
    #[error("invalid CORS origin {0:?}")]
    BadOrigin(String),
}

fn canonical(path: &Path) -> Result<PathBuf, Error> {
    std::fs::canonicalize(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn not_found() -> Response {
    file::status(StatusCode::NOT_FOUND)
}

/// The URL path of a request without its leading `/` (still percent-encoded).
fn request_path(uri: &axum::http::Uri) -> Option<&str> {
    uri.path().strip_prefix('/')
}

/// The future of the services here.
pub type ServeFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

// ---------------------------------------------------------------------------------------------

/// The files below one directory (a `tower` service; mount it with `nest_service` or
/// `fallback_service`). A directory URL serves its `index.html`.
#[derive(Debug, Clone)]
pub struct ServeDir {
    /// Canonical, so that resolved paths can be checked against it.
    root: Arc<Path>,
    spa_fallback: bool,
}

impl ServeDir {
    /// Serves the files below `dir`.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let root = canonical(dir)?;
        if !root.is_dir() {
            return Err(Error::NotADirectory(dir.to_path_buf()));
        }
        Ok(ServeDir {
            root: root.into(),
            spa_fallback: false,
        })
    }

    /// Answers a path that names no file with the root's `index.html` (status 200), as a
    /// single-page app needs for its client-side routes. Refused paths stay 404.
    #[must_use]
    pub fn with_spa_fallback(mut self) -> Self {
        self.spa_fallback = true;
        self
    }

    /// The served directory (canonical).
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file a URL path below the root names, if it may be served.
    pub async fn resolve(&self, rel: &RelPath) -> Result<PathBuf, Unresolved> {
        resolve(&self.root, rel).await
    }

    /// Answers a request for `raw_path`, the percent-encoded URL path below the mount point
    /// without its leading `/` (see [`RelPath::parse`]).
    pub async fn serve(&self, raw_path: &str, method: &Method, headers: &HeaderMap) -> Response {
        let Some(rel) = RelPath::parse(raw_path) else {
            return not_found();
        };
        match self.resolve(&rel).await {
            Ok(path) => serve_file(&path, method, headers).await,
            Err(Unresolved::NotFound) if self.spa_fallback => {
                match self.resolve(&RelPath::default()).await {
                    Ok(index) => serve_file(&index, method, headers).await,
                    Err(_) => not_found(),
                }
            }
            Err(_) => not_found(),
        }
    }
}

/// A tower `Service` over a type's `serve(raw_path, method, headers)`: the
/// request's path (percent-encoded, without its leading `/`) is answered.
macro_rules! path_service {
    ($ty:ty) => {
        impl<B> tower_service::Service<Request<B>> for $ty {
            type Response = Response;
            type Error = Infallible;
            type Future = ServeFuture;

            fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, req: Request<B>) -> ServeFuture {
                let this = self.clone();
                let (parts, _body) = req.into_parts();
                Box::pin(async move {
                    let Some(raw) = request_path(&parts.uri) else {
                        return Ok(not_found());
                    };
                    Ok(this.serve(raw, &parts.method, &parts.headers).await)
                })
            }
        }
    };
}

path_service!(ServeDir);

// ---------------------------------------------------------------------------------------------

/// Only the files it was given, each under a name (a `tower` service; mount it with
/// `nest_service`). Other names, directories and anything else answer 404.
#[derive(Debug, Clone, Default)]
pub struct NamedFiles {
    /// Name (decoded, `/`-separated) → canonical path.
    files: Arc<BTreeMap<String, PathBuf>>,
}

impl NamedFiles {
    /// Nothing served yet.
    #[must_use]
    pub fn new() -> Self {
        NamedFiles::default()
    }

    /// Serves the regular file at `path` under `name` (plain segments separated by `/`, taken
    /// literally; the URL that reaches it is percent-encoded as usual: `a b%.h5` is reached by
    /// `a%20b%25.h5`).
    pub fn insert(&mut self, name: &str, path: impl AsRef<Path>) -> Result<(), Error> {
        if RelPath::from_decoded(name).is_none() {
            return Err(Error::BadName(name.to_string()));
        }
        let path = path.as_ref();
        let canonical = canonical(path)?;
        if !canonical.is_file() {
            return Err(Error::NotAFile(path.to_path_buf()));
        }
        Arc::make_mut(&mut self.files).insert(name.to_string(), canonical);
        Ok(())
    }

    /// [`NamedFiles::insert`], chained.
    pub fn with(mut self, name: &str, path: impl AsRef<Path>) -> Result<Self, Error> {
        self.insert(name, path)?;
        Ok(self)
    }

    /// The file served under `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Path> {
        self.files.get(name).map(PathBuf::as_path)
    }

    /// Answers a request for `raw_path`, the percent-encoded URL path below the mount point
    /// without its leading `/`.
    pub async fn serve(&self, raw_path: &str, method: &Method, headers: &HeaderMap) -> Response {
        let path = RelPath::parse(raw_path)
            .filter(|rel| !rel.is_directory())
            .and_then(|rel| self.files.get(&rel.to_string()));
        match path {
            Some(path) => serve_file(path, method, headers).await,
            None => not_found(),
        }
    }
}

path_service!(NamedFiles);

// ---------------------------------------------------------------------------------------------

/// Which other origins (web pages elsewhere) may read the answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// No CORS headers: only pages from the same origin can read the answers.
    #[default]
    Off,
    /// Any origin (`Access-Control-Allow-Origin: *`), as public data hosts do.
    AnyOrigin,
    /// These origins only, e.g. `https://neurosift.app` or `http://localhost:8080`.
    Origins(Vec<String>),
}

impl Cors {
    /// Request headers a cross-origin reader may send.
    pub const ALLOW_HEADERS: [header::HeaderName; 8] = [
        header::RANGE,
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        header::IF_MATCH,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::IF_UNMODIFIED_SINCE,
        header::IF_RANGE,
    ];

    /// Response headers a cross-origin reader may see (beyond the always-visible ones).
    pub const EXPOSE_HEADERS: [header::HeaderName; 5] = [
        header::CONTENT_RANGE,
        header::CONTENT_LENGTH,
        header::ACCEPT_RANGES,
        header::ETAG,
        header::LAST_MODIFIED,
    ];

    /// The layer for this policy (`None` for [`Cors::Off`]). It answers every `OPTIONS`
    /// request as a preflight (methods `GET, HEAD, OPTIONS`, [`Cors::ALLOW_HEADERS`], one day
    /// max age) and adds [`Cors::EXPOSE_HEADERS`] to the other answers.
    pub fn layer(&self) -> Result<Option<CorsLayer>, Error> {
        let origin = match self {
            Cors::Off => return Ok(None),
            Cors::AnyOrigin => return Ok(Some(any_origin_layer())),
            Cors::Origins(origins) => {
                let values = origins
                    .iter()
                    .map(|o| {
                        HeaderValue::from_str(o)
                            .ok()
                            .filter(|_| o.trim() != "*")
                            .ok_or_else(|| Error::BadOrigin(o.clone()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                AllowOrigin::list(values)
            }
        };
        Ok(Some(cors_layer(origin)))
    }

    /// `router` with this policy's layer around it.
    pub fn apply<S>(&self, router: axum::Router<S>) -> Result<axum::Router<S>, Error>
    where
        S: Clone + Send + Sync + 'static,
    {
        Ok(match self.layer()? {
            Some(layer) => router.layer(layer),
            None => router,
        })
    }
}

/// The layer of [`Cors::AnyOrigin`] (which cannot fail).
pub fn any_origin_layer() -> CorsLayer {
    cors_layer(AllowOrigin::any())
}

fn cors_layer(origin: AllowOrigin) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers(Cors::ALLOW_HEADERS)
        .expose_headers(Cors::EXPOSE_HEADERS)
        .max_age(Duration::from_secs(86_400))
}
