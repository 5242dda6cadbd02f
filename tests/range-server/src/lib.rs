//! A small HTTP server for reader tests, benchmarks and browser tests.
//!
//! Serves files from a directory on 127.0.0.1 with single-range `Range` support, CORS, a
//! configurable latency, injectable faults and request/byte counters.
//!
//! Routes:
//! - `GET|HEAD /files/<name>`: the file (`<name>` may contain `/`; `..` is rejected with 400).
//!   `bytes=a-b`, `bytes=a-` and `bytes=-n` give 206; an unsatisfiable range gives 416; no
//!   `Range` gives 200. A multi-range request (`bytes=0-1,5-6`) or a malformed header is answered
//!   200 with the whole file, as RFC 9110 allows. Latency, faults and counters apply here.
//! - `GET|HEAD /redirect/<name>`: 302 to `/files/<name>` (latency applies; counted in the total
//!   `requests` only, not per file; no faults).
//! - `GET|HEAD /static/<path>`: files from the optional static directory (same range logic; no
//!   latency, faults or counting; a directory serves its `index.html`).
//! - `GET /__control/stats`, `POST /__control/reset`, `POST /__control/fault?mode=M&every=N&file=F`,
//!   `POST /__control/latency?ms=N`: runtime control (not delayed, not counted).
//! - `OPTIONS` on any path: CORS preflight answered with 204 (not delayed, not counted).

use std::collections::BTreeMap;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io::{self, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::serve::{IncomingStream, Listener};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Size of the chunks a body is streamed in.
const CHUNK: u64 = 64 * 1024;
/// How long a shutdown waits for open requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Errors from starting the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("not a directory: {}", .0.display())]
    NotADirectory(PathBuf),
    #[error(
        "unknown fault mode {0:?} (expected none, status500, status404, reset, ignore_range, wrong_content_range or truncate)"
    )]
    UnknownFault(String),
}

/// A fault injected into `/files` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Answer normally.
    #[default]
    None,
    /// Answer 500.
    Status500,
    /// Answer 404.
    Status404,
    /// Close the connection without sending any response.
    Reset,
    /// Answer a Range request with 200 and the whole file.
    IgnoreRange,
    /// Answer 206 with the right bytes, but a `Content-Range` that names a different start.
    WrongContentRange,
    /// Send correct headers, then close the connection after half of the body.
    Truncate,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Status500 => "status500",
            Fault::Status404 => "status404",
            Fault::Reset => "reset",
            Fault::IgnoreRange => "ignore_range",
            Fault::WrongContentRange => "wrong_content_range",
            Fault::Truncate => "truncate",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Fault {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "none" => Fault::None,
            "status500" => Fault::Status500,
            "status404" => Fault::Status404,
            "reset" => Fault::Reset,
            "ignore_range" => Fault::IgnoreRange,
            "wrong_content_range" => Fault::WrongContentRange,
            "truncate" => Fault::Truncate,
            _ => return Err(Error::UnknownFault(s.to_string())),
        })
    }
}

/// A fault plus the filter choosing which `/files` requests get it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FaultSpec {
    pub mode: Fault,
    /// Apply to every Nth matching request (the Nth, 2Nth, ...); 0 or 1 means every one.
    pub every: u64,
    /// Apply only to requests for this file name (as in `/files/<name>`).
    pub file: Option<String>,
}

impl From<Fault> for FaultSpec {
    fn from(mode: Fault) -> Self {
        FaultSpec {
            mode,
            every: 1,
            file: None,
        }
    }
}

/// Server configuration. `port: 0` picks an ephemeral port.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub dir: PathBuf,
    pub port: u16,
    pub latency_ms: u64,
    pub fault: Fault,
    pub fault_every: u64,
    pub fault_file: Option<String>,
    pub static_dir: Option<PathBuf>,
    /// A built single-page app served at `/` (unknown paths get its
    /// `index.html`, so that client-side routes like `/nwb?url=…` load).
    pub app_dir: Option<PathBuf>,
    /// A fake DANDI API under `/api/`: a JSON file
    /// `{"json": {"/api/path?query": <body>, ...}, "redirects": {"/api/path": "<location>"}}`.
    /// A request matches its path and query exactly, else its path alone.
    pub api_routes: Option<PathBuf>,
}

/// The fake API's answers (see [`Config::api_routes`]).
#[derive(Debug, Clone, Default, Deserialize)]
struct ApiRoutes {
    #[serde(default)]
    json: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    redirects: BTreeMap<String, String>,
}

/// Counters for one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileStats {
    pub requests: u64,
    pub bytes: u64,
}

/// Requests and body bytes sent, in total and per file (`GET /__control/stats`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stats {
    pub requests: u64,
    pub bytes: u64,
    pub files: BTreeMap<String, FileStats>,
}

/// State shared by all requests.
struct Shared {
    dir: PathBuf,
    static_dir: Option<PathBuf>,
    app_dir: Option<PathBuf>,
    api: ApiRoutes,
    latency_ms: AtomicU64,
    /// The fault and how many matching requests have been seen since it was set.
    fault: Mutex<(FaultSpec, u64)>,
    stats: Mutex<Stats>,
}

impl Shared {
    fn new(config: &Config) -> Result<Self, Error> {
        let api = match &config.api_routes {
            Some(path) => {
                let text = std::fs::read_to_string(path)?;
                serde_json::from_str(&text).map_err(|e| {
                    Error::Io(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: {e}", path.display()),
                    ))
                })?
            }
            None => ApiRoutes::default(),
        };
        for dir in std::iter::once(&config.dir)
            .chain(&config.static_dir)
            .chain(&config.app_dir)
        {
            if !dir.is_dir() {
                return Err(Error::NotADirectory(dir.clone()));
            }
        }
        let spec = FaultSpec {
            mode: config.fault,
            every: config.fault_every,
            file: config.fault_file.clone(),
        };
        Ok(Shared {
            dir: config.dir.clone(),
            static_dir: config.static_dir.clone(),
            app_dir: config.app_dir.clone(),
            api,
            latency_ms: AtomicU64::new(config.latency_ms),
            fault: Mutex::new((spec, 0)),
            stats: Mutex::new(Stats::default()),
        })
    }

    fn set_fault(&self, spec: FaultSpec) {
        *self.fault.lock() = (spec, 0);
    }

    /// The fault to apply to this request for `name` (`Fault::None` when the filter skips it).
    fn pick_fault(&self, name: &str) -> Fault {
        let mut guard = self.fault.lock();
        let (spec, seen) = &mut *guard;
        if spec.mode == Fault::None || spec.file.as_deref().is_some_and(|f| f != name) {
            return Fault::None;
        }
        *seen += 1;
        if spec.every <= 1 || *seen % spec.every == 0 {
            spec.mode
        } else {
            Fault::None
        }
    }

    async fn delay(&self) {
        let ms = self.latency_ms.load(Ordering::Relaxed);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    fn count_request(&self, name: Option<&str>) {
        let mut stats = self.stats.lock();
        stats.requests += 1;
        if let Some(name) = name {
            stats.files.entry(name.to_string()).or_default().requests += 1;
        }
    }

    fn count_bytes(&self, name: &str, n: u64) {
        let mut stats = self.stats.lock();
        stats.bytes += n;
        stats.files.entry(name.to_string()).or_default().bytes += n;
    }
}

// ---------------------------------------------------------------------------------------------
// In-process handle

/// A running server with its own tokio runtime on a background thread; stops on drop.
pub struct RangeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RangeServer {
    /// Binds 127.0.0.1:`config.port` and starts serving in the background.
    pub fn start(config: Config) -> Result<Self, Error> {
        let shared = Arc::new(Shared::new(&config)?);
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("range-server")
            .enable_all()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("range-server".into())
            .spawn(move || {
                let shutdown = async move {
                    let _ = stopped.await;
                };
                if let Err(e) = runtime.block_on(run(listener, state, shutdown)) {
                    eprintln!("range-server: {e}");
                }
            })?;
        Ok(RangeServer {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/files/<name>` (percent-encoded).
    pub fn url(&self, name: &str) -> String {
        format!("{}/files/{}", self.base_url(), encode_path(name))
    }

    /// `http://127.0.0.1:PORT/redirect/<name>`, which redirects to [`RangeServer::url`].
    pub fn redirect_url(&self, name: &str) -> String {
        format!("{}/redirect/{}", self.base_url(), encode_path(name))
    }

    /// `http://127.0.0.1:PORT/static/<path>`.
    pub fn static_url(&self, path: &str) -> String {
        format!("{}/static/{}", self.base_url(), encode_path(path))
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats.lock().clone()
    }

    pub fn reset_stats(&self) {
        *self.shared.stats.lock() = Stats::default();
    }

    /// Sets the fault: `set_fault(Fault::Reset)` for every request, or a [`FaultSpec`] to filter.
    pub fn set_fault(&self, fault: impl Into<FaultSpec>) {
        self.shared.set_fault(fault.into());
    }

    pub fn set_latency_ms(&self, ms: u64) {
        self.shared.latency_ms.store(ms, Ordering::Relaxed);
    }
}

impl Drop for RangeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Binds 127.0.0.1:`config.port`, calls `on_ready` with the bound address, then serves until
/// `shutdown` completes (open requests get a short grace period). Used by the binary.
pub async fn serve(
    config: Config,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let shared = Arc::new(Shared::new(&config)?);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
    on_ready(listener.local_addr()?);
    run(listener, shared, shutdown).await
}

async fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let app = axum::Router::new()
        .route("/files/{*name}", get(files))
        .route("/redirect/{*name}", get(redirect))
        .route("/static", get(static_files))
        .route("/static/", get(static_files))
        .route("/static/{*path}", get(static_files))
        .route("/__control/stats", get(control_stats))
        .route("/__control/reset", post(control_reset))
        .route("/__control/fault", post(control_fault))
        .route("/__control/latency", post(control_latency))
        .route("/api/{*rest}", get(api))
        .fallback(app_files)
        .layer(middleware::from_fn(cors))
        .with_state(shared);
    let (begin_grace, grace) = tokio::sync::oneshot::channel::<()>();
    let graceful = axum::serve(
        KillableListener(listener),
        app.into_make_service_with_connect_info::<ConnKill>(),
    )
    .with_graceful_shutdown(async move {
        let _ = grace.await;
    })
    .into_future();
    let deadline = async move {
        shutdown.await;
        let _ = begin_grace.send(());
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = graceful => result?,
        () = deadline => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn files(
    State(st): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnKill>,
    UrlPath(name): UrlPath<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    st.delay().await;
    let Some(path) = safe_join(&st.dir, &name) else {
        st.count_request(None);
        return StatusCode::BAD_REQUEST.into_response();
    };
    st.count_request(Some(&name));
    let fault = st.pick_fault(&name);
    match fault {
        Fault::Status500 => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Fault::Status404 => return StatusCode::NOT_FOUND.into_response(),
        Fault::Reset => {
            // Every later write on this connection fails, so hyper drops it unanswered.
            conn.0.store(true, Ordering::Relaxed);
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        _ => {}
    }
    let counter = Some((st.clone(), name));
    serve_file(
        &path,
        &method,
        &headers,
        fault,
        counter,
        "application/octet-stream",
    )
    .await
}

async fn redirect(State(st): State<Arc<Shared>>, UrlPath(name): UrlPath<String>) -> Response {
    st.delay().await;
    st.count_request(None);
    let location = format!("/files/{}", encode_path(&name));
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn static_files(
    State(st): State<Arc<Shared>>,
    path: Option<UrlPath<String>>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let rel = path.map(|UrlPath(p)| p).unwrap_or_default();
    let Some(dir) = &st.static_dir else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(mut path) = safe_join(dir, &rel) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if path.is_dir() {
        path.push("index.html");
    }
    let content_type = content_type(&path);
    serve_file(&path, &method, &headers, Fault::None, None, content_type).await
}

/// The fake DANDI API: canned JSON and redirects.
async fn api(State(st): State<Arc<Shared>>, uri: axum::http::Uri) -> Response {
    let path = uri.path().to_string();
    let full = uri
        .path_and_query()
        .map_or(path.clone(), |pq| pq.as_str().to_string());
    if let Some(location) = st.api.redirects.get(&path) {
        st.delay().await;
        return (StatusCode::FOUND, [(header::LOCATION, location.clone())]).into_response();
    }
    match st.api.json.get(&full).or_else(|| st.api.json.get(&path)) {
        Some(body) => Json(body.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"detail": "Not found."})),
        )
            .into_response(),
    }
}

/// The single-page app: its files, or `index.html` for client-side routes.
async fn app_files(
    State(st): State<Arc<Shared>>,
    uri: axum::http::Uri,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let Some(dir) = &st.app_dir else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let rel = uri.path().trim_start_matches('/');
    let Some(mut path) = safe_join(dir, rel) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if path.is_dir() || !path.exists() {
        path = dir.join("index.html");
    }
    let content_type = content_type(&path);
    serve_file(&path, &method, &headers, Fault::None, None, content_type).await
}

async fn control_stats(State(st): State<Arc<Shared>>) -> Json<Stats> {
    Json(st.stats.lock().clone())
}

async fn control_reset(State(st): State<Arc<Shared>>) -> StatusCode {
    *st.stats.lock() = Stats::default();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct FaultQuery {
    mode: Option<String>,
    every: Option<u64>,
    file: Option<String>,
}

async fn control_fault(State(st): State<Arc<Shared>>, Query(q): Query<FaultQuery>) -> Response {
    let mode = match q.mode.as_deref().unwrap_or("none").parse::<Fault>() {
        Ok(mode) => mode,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let spec = FaultSpec {
        mode,
        every: q.every.unwrap_or(1),
        file: q.file.filter(|f| !f.is_empty()),
    };
    st.set_fault(spec.clone());
    Json(spec).into_response()
}

#[derive(Deserialize)]
struct LatencyQuery {
    ms: u64,
}

async fn control_latency(
    State(st): State<Arc<Shared>>,
    Query(q): Query<LatencyQuery>,
) -> StatusCode {
    st.latency_ms.store(q.ms, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

async fn cors(req: Request, next: Next) -> Response {
    let any = HeaderValue::from_static("*");
    if req.method() == Method::OPTIONS {
        let headers = [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, any),
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, OPTIONS"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Range, Authorization, Content-Type"),
            ),
            (
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            ),
        ];
        return (StatusCode::NO_CONTENT, headers).into_response();
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, any);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(
            "Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified",
        ),
    );
    resp
}

// ---------------------------------------------------------------------------------------------
// Ranges and bodies

#[derive(Debug, PartialEq, Eq)]
enum RangeReq {
    Full,
    /// Inclusive first and last byte.
    Partial(u64, u64),
    Unsatisfiable,
}

/// Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// The `Range` header parser against a file of `total` bytes: the first
    /// and last byte served, or `None` for a whole-file or 416 answer.
    pub fn parse_range(header: Option<&str>, total: u64) -> Option<(u64, u64)> {
        match super::parse_range(header, total) {
            super::RangeReq::Partial(first, last) => Some((first, last)),
            super::RangeReq::Full | super::RangeReq::Unsatisfiable => None,
        }
    }
}

/// Parses a single-range `Range` header; anything else (absent, malformed, multi-range) is `Full`.
fn parse_range(header: Option<&str>, total: u64) -> RangeReq {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeReq::Full;
    };
    let Some((a, b)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
        return RangeReq::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return match b.parse::<u64>() {
            Ok(0) => RangeReq::Unsatisfiable,
            Ok(_) if total == 0 => RangeReq::Unsatisfiable,
            Ok(n) => RangeReq::Partial(total.saturating_sub(n), total - 1),
            Err(_) => RangeReq::Full,
        };
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeReq::Full;
    };
    let end = match b {
        "" => u64::MAX,
        b => match b.parse::<u64>() {
            Ok(end) if end >= start => end,
            _ => return RangeReq::Full,
        },
    };
    if start >= total {
        RangeReq::Unsatisfiable
    } else {
        RangeReq::Partial(start, end.min(total - 1))
    }
}

async fn serve_file(
    path: &Path,
    method: &Method,
    headers: &HeaderMap,
    fault: Fault,
    counter: Option<(Arc<Shared>, String)>,
    content_type: &'static str,
) -> Response {
    let Ok(mut file) = tokio::fs::File::open(path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let meta = match file.metadata().await {
        Ok(meta) if meta.is_file() => meta,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let total = meta.len();
    let mtime = meta.modified().ok();
    let mtime_ns = mtime
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let mut resp = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ETAG, format!("\"{total:x}-{mtime_ns:x}\""));
    if let Some(mtime) = mtime {
        resp = resp.header(header::LAST_MODIFIED, httpdate::fmt_http_date(mtime));
    }
    let range = match fault {
        Fault::IgnoreRange => None,
        _ => headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
    };
    let (start, len) = match parse_range(range, total) {
        RangeReq::Full => {
            resp = resp.status(StatusCode::OK);
            (0, total)
        }
        RangeReq::Unsatisfiable => {
            return resp
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{total}"))
                .body(Body::empty())
                .unwrap_or_else(|e| internal_error(e.to_string()));
        }
        RangeReq::Partial(start, end) => {
            let shown = match fault {
                Fault::WrongContentRange if end + 1 >= total && start > 0 => start - 1,
                Fault::WrongContentRange => start + 1,
                _ => start,
            };
            let range = format!("bytes {shown}-{}/{total}", shown + (end - start));
            resp = resp
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, range);
            (start, end - start + 1)
        }
    };
    resp = resp.header(header::CONTENT_LENGTH, len);
    let body = if *method == Method::HEAD || len == 0 {
        Body::empty()
    } else {
        if let Err(e) = file.seek(SeekFrom::Start(start)).await {
            return internal_error(e.to_string());
        }
        let truncate = fault == Fault::Truncate;
        body_stream(
            file,
            if truncate { len / 2 } else { len },
            truncate,
            counter,
        )
    };
    resp.body(body)
        .unwrap_or_else(|e| internal_error(e.to_string()))
}

struct BodyState {
    file: tokio::fs::File,
    left: u64,
    fail_at_end: bool,
    done: bool,
    counter: Option<(Arc<Shared>, String)>,
}

/// Streams `len` bytes from the file's position; with `fail_at_end`, the stream then fails,
/// which makes hyper close the connection before the declared length was sent.
fn body_stream(
    file: tokio::fs::File,
    len: u64,
    fail_at_end: bool,
    counter: Option<(Arc<Shared>, String)>,
) -> Body {
    let state = BodyState {
        file,
        left: len,
        fail_at_end,
        done: false,
        counter,
    };
    Body::from_stream(futures_util::stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        if s.left == 0 {
            if !s.fail_at_end {
                return None;
            }
            // Give hyper a moment to flush what was sent before the connection is closed.
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.done = true;
            return Some((Err(io::Error::other("injected truncation")), s));
        }
        let mut buf = vec![0u8; s.left.min(CHUNK) as usize];
        match s.file.read(&mut buf).await {
            Ok(0) => {
                s.done = true;
                Some((Err(io::Error::from(io::ErrorKind::UnexpectedEof)), s))
            }
            Ok(n) => {
                buf.truncate(n);
                s.left -= n as u64;
                if let Some((shared, name)) = &s.counter {
                    shared.count_bytes(name, n as u64);
                }
                Some((Ok(Bytes::from(buf)), s))
            }
            Err(e) => {
                s.done = true;
                Some((Err(e), s))
            }
        }
    }))
}

fn internal_error(msg: String) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, msg).into_response()
}

/// Joins a URL path below `base`, refusing anything but plain names (`..`, absolute, `\`).
fn safe_join(base: &Path, name: &str) -> Option<PathBuf> {
    let rel = Path::new(name);
    let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && !name.contains(['\\', '\0'])).then(|| base.join(rel))
}

/// Percent-encodes everything but unreserved characters and `/`.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

// ---------------------------------------------------------------------------------------------
// Connections that a handler can kill (for `Fault::Reset`)

struct KillableListener(TcpListener);

struct KillableIo {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

/// Per-connection switch, given to handlers as `ConnectInfo`.
#[derive(Clone)]
struct ConnKill(Arc<AtomicBool>);

impl Connected<IncomingStream<'_, KillableListener>> for ConnKill {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        ConnKill(stream.io().killed.clone())
    }
}

impl Listener for KillableListener {
    type Io = KillableIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (KillableIo, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((inner, addr)) => {
                    let _ = inner.set_nodelay(true);
                    return (
                        KillableIo {
                            inner,
                            killed: Arc::default(),
                        },
                        addr,
                    );
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl KillableIo {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::Relaxed) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "injected reset",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for KillableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeReq::*;
        assert_eq!(parse_range(None, 10), Full);
        assert_eq!(parse_range(Some("bytes=2-5"), 10), Partial(2, 5));
        assert_eq!(parse_range(Some("bytes=2-"), 10), Partial(2, 9));
        assert_eq!(parse_range(Some("bytes=2-100"), 10), Partial(2, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Partial(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Partial(0, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-2"), 10), Full);
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), Full);
        assert_eq!(parse_range(Some("bytes=x-1"), 10), Full);
    }

    #[test]
    fn paths() {
        let base = Path::new("/d");
        assert_eq!(safe_join(base, "a/b.h5"), Some(PathBuf::from("/d/a/b.h5")));
        assert_eq!(safe_join(base, "../x"), None);
        assert_eq!(safe_join(base, "a/../../x"), None);
        assert_eq!(safe_join(base, "/etc/passwd"), None);
        assert_eq!(safe_join(base, "a\\..\\x"), None);
        assert_eq!(encode_path("a b/c%.h5"), "a%20b/c%25.h5");
    }
}
