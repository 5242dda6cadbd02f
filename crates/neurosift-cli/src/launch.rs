//! `neurosift view-nwb FILE` (the app and one file, on 127.0.0.1 behind a random token) and
//! `neurosift serve` (the app, the NWB files under a directory and the sha1 store in one
//! process): the embedded app (`app.rs`), files through `ns-serve`, the store through
//! `kachery::server`.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use kachery::server::Config;
use kachery::{Location, Store};
use ns_serve::{Cors, NamedFiles, ServeDir};

use crate::app;

/// `neurosift view-nwb`'s options.
#[derive(clap::Args, Debug)]
pub struct ViewArgs {
    /// The file: NWB/HDF5, or a LINDI `.lindi.json` (the local files it refers to, next to
    /// it, are served too) or `.lindi.tar`, or an NWB-Zarr directory (with `.zmetadata`).
    pub file: PathBuf,
    /// Port (0: a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on (anything but a loopback address lets other machines in, with
    /// the URL's token).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Print the URL but do not open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// The store that the app's "Share" writes frozen figures to (served at /sha1/<hash>,
    /// written with this run's random token): a directory or `s3://BUCKET/PREFIX` (default:
    /// the per-user directory).
    #[arg(long, env = "NEUROSIFT_STORE", value_name = "DIR|s3://…")]
    pub store: Option<String>,
}

/// `neurosift serve`'s options.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Directory whose files are served read-only under /files/ (NWB files, LINDI files).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// The store served at /sha1/<hash> (and /<zone>/sha1/<hash>): a directory or
    /// `s3://BUCKET/PREFIX` (default: the per-user directory).
    #[arg(long, env = "NEUROSIFT_STORE", value_name = "DIR|s3://…")]
    pub store: Option<String>,
    /// Address to listen on (0.0.0.0:PORT for other machines).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Token that may write to the store (PUT with `Authorization: Bearer TOKEN`); without
    /// it the store is read-only.
    #[arg(long, env = "NEUROSIFT_STORE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The URL other machines reach this server at, for the printed links (default: from
    /// --bind).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

/// The largest number of files `serve` lists (at start and at /api/files).
const MAX_LISTED: usize = 10_000;

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// What a file to view is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hdf5,
    LindiJson,
    LindiTar,
}

const HDF5_SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Tells HDF5 (the signature at 0, 512, 1024, … for a user block) and LINDI apart; anything
/// else is an error saying what the file is not.
fn detect(path: &Path) -> Result<Kind> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut head = vec![0; 4096];
    let mut filled = 0;
    while filled < head.len() {
        let n = file
            .read(&mut head[filled..])
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    head.truncate(filled);
    let mut offset = 0_u64;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut buf = [0_u8; 8];
    while offset + 8 <= len {
        let found = match usize::try_from(offset)
            .ok()
            .and_then(|o| head.get(o..o + 8))
        {
            Some(bytes) => bytes == HDF5_SIGNATURE,
            None => {
                use std::io::Seek;
                file.seek(std::io::SeekFrom::Start(offset))
                    .and_then(|_| file.read_exact(&mut buf))
                    .is_ok()
                    && &buf == HDF5_SIGNATURE
            }
        };
        if found {
            return Ok(Kind::Hdf5);
        }
        offset = if offset == 0 { 512 } else { offset * 2 };
    }
    match ns_lindi::detect(&head) {
        Some(ns_lindi::Format::Tar) => Ok(Kind::LindiTar),
        Some(ns_lindi::Format::Json) => Ok(Kind::LindiJson),
        None => bail!(
            "{}: not an NWB file: neither HDF5 (no HDF5 signature) nor LINDI (.lindi.json, .lindi.tar)",
            path.display()
        ),
    }
}

/// The local files a `.lindi.json` refers to (`./name` or a relative path, in its `templates`,
/// its `refs` and its external array links) that may be served next to it: below its folder,
/// no `..`, no link out of the folder. Each is (name relative to the folder, path); the others
/// are reported on stderr and not served.
fn lindi_references(path: &Path) -> Result<Vec<(String, PathBuf)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a LINDI file: invalid JSON", path.display()))?;
    if doc.get("refs").is_none_or(|r| !r.is_object()) {
        bail!("{}: not a LINDI file: no \"refs\" object", path.display());
    }
    let mut urls = std::collections::BTreeSet::new();
    if let Some(templates) = doc.get("templates").and_then(|t| t.as_object()) {
        urls.extend(
            templates
                .values()
                .filter_map(|v| v.as_str().map(str::to_string)),
        );
    }
    if let Some(refs) = doc.get("refs").and_then(|r| r.as_object()) {
        for value in refs.values() {
            if let Some(url) = value.get(0).and_then(|u| u.as_str()) {
                urls.insert(url.to_string());
            }
            if let Some(zattrs) = value.as_object() {
                collect_links(zattrs, &mut urls);
            }
        }
        // `.zattrs` are JSON text inside the refs.
        for value in refs.values() {
            if let Some(attrs) = value
                .as_str()
                .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                && let Some(attrs) = attrs.as_object()
            {
                collect_links(attrs, &mut urls);
            }
        }
    }
    let folder = path.parent().unwrap_or(Path::new("."));
    let folder =
        std::fs::canonicalize(folder).with_context(|| format!("resolving {}", folder.display()))?;
    let mut served = Vec::new();
    for url in urls {
        if url.contains("{{") || url.contains("://") || url.starts_with("file:") {
            continue;
        }
        let name = url.strip_prefix("./").unwrap_or(&url);
        match local_reference(&folder, name) {
            Ok(file) => served.push((name.to_string(), file)),
            Err(why) => eprintln!(
                "warning: {}: reference {url:?} not served: {why}",
                path.display()
            ),
        }
    }
    Ok(served)
}

fn collect_links(
    attrs: &serde_json::Map<String, serde_json::Value>,
    urls: &mut std::collections::BTreeSet<String>,
) {
    if let Some(url) = attrs
        .get("_EXTERNAL_ARRAY_LINK")
        .and_then(|l| l.get("url"))
        .and_then(|u| u.as_str())
    {
        urls.insert(url.to_string());
    }
}

/// A referenced file, if it is a regular file below `folder` (after resolving links).
fn local_reference(folder: &Path, name: &str) -> std::result::Result<PathBuf, &'static str> {
    let rel = ns_serve::RelPath::from_decoded(name)
        .ok_or("not a plain relative path below the file's folder")?;
    let file = std::fs::canonicalize(rel.join(folder)).map_err(|_| "no such file")?;
    if !file.starts_with(folder) {
        return Err("it leads out of the file's folder");
    }
    if !file.is_file() {
        return Err("not a regular file");
    }
    Ok(file)
}

/// 128 random bits, hex.
fn random_token() -> Result<String> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Equal without an early exit (the time taken tells nothing about where a guess differs).
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Binds, with a clear message for a busy port.
async fn bind(addr: SocketAddr, flag: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
                "port {} on {} is busy (another program listens there): choose another {flag}{}",
                addr.port(),
                addr.ip(),
                if flag == "--port" {
                    ", or --port 0 for a free one"
                } else {
                    ""
                }
            ),
            std::io::ErrorKind::AddrNotAvailable => {
                anyhow::anyhow!("cannot listen on {addr}: no such address on this machine")
            }
            _ => anyhow::Error::new(e).context(format!("listening on {addr}")),
        })
}

/// `http://HOST:PORT` for an address (a browser on this machine reaches an unspecified
/// address through 127.0.0.1).
fn origin(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// The app's link for a file URL: `BASE/nwb?url=<file URL>`.
fn app_link(base: &str, file_url: &str) -> String {
    format!("{base}/nwb?url={}", ns_links::encode_component(file_url))
}

/// A `/`-separated name with each segment percent-encoded.
fn encode_path(name: &str) -> String {
    name.split('/')
        .map(ns_links::encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// One line per request on stderr: method, path, status, bytes.
async fn log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let length = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    eprintln!("{method} {path} {} {length}", response.status().as_u16());
    response
}

/// Serves until Ctrl-C (or SIGTERM); requests under way get a few seconds to finish.
async fn serve_until_stopped(listener: tokio::net::TcpListener, router: Router) -> Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            ns_serve::stop_signal().await;
            eprintln!("stopping");
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                std::process::exit(0);
            });
        })
        .await
        .context("serving")
}

/// Opens `url` in the default browser (not waited for); says so when it cannot.
fn open_browser(url: &str) {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    let spawned = cmd
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        eprintln!("could not start a browser: open the URL above in one");
    }
}

struct ViewState {
    token: String,
    files: NamedFiles,
    /// A Zarr store (a directory) served under this name.
    zarr: Option<(String, ServeDir)>,
}

/// `/files/<token>/<name>`: the named files, only with the token; anything else 404.
async fn token_files(State(state): State<Arc<ViewState>>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let rest = parts.uri.path().strip_prefix("/files/").unwrap_or_default();
    match rest.split_once('/') {
        Some((token, name)) if same_token(token, &state.token) => {
            if let Some((zarr, dir)) = &state.zarr
                && let Some(key) = name
                    .strip_prefix(zarr.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
            {
                return dir.serve(key, &parts.method, &parts.headers).await;
            }
            state.files.serve(name, &parts.method, &parts.headers).await
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Prints lines on stdout, flushed; a closed stdout is ignored (the server goes on).
fn print_lines(lines: &[String]) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// `neurosift view-nwb FILE`: serves until Ctrl-C.
pub fn view_nwb(args: &ViewArgs) -> Result<()> {
    let path = &args.file;
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!("{}: no such file", path.display()),
        _ => anyhow::Error::new(e).context(format!("{}", path.display())),
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("{}: no file name", path.display()))?;
    let mut files = NamedFiles::new();
    let mut zarr = None;
    // An NWB-Zarr store: the directory, under a name ending in `.zarr` (how
    // the app tells a store from a file).
    let name = if meta.is_dir() {
        if !path.join(".zmetadata").is_file() && !path.join(".zgroup").is_file() {
            bail!(
                "{}: a directory, but not a Zarr store (no .zmetadata or .zgroup)",
                path.display()
            );
        }
        if !path.join(".zmetadata").is_file() {
            bail!(
                "{}: the store has no consolidated metadata (.zmetadata), which the app needs \
                 (zarr.consolidate_metadata(path) writes it)",
                path.display()
            );
        }
        let served = if name.to_ascii_lowercase().ends_with(".zarr") {
            name
        } else {
            format!("{name}.zarr")
        };
        let dir = ServeDir::new(path).with_context(|| format!("serving {}", path.display()))?;
        zarr = Some((encode_path(&served), dir));
        served
    } else if meta.is_file() {
        files
            .insert(&name, path)
            .with_context(|| format!("serving {}", path.display()))?;
        name
    } else {
        bail!("{}: not a file", path.display());
    };
    if zarr.is_none() && detect(path)? == Kind::LindiJson {
        for (reference, file) in lindi_references(path)? {
            files
                .insert(&reference, &file)
                .with_context(|| format!("serving {}", file.display()))?;
        }
    }
    let token = random_token()?;
    let location = Location::from_option(args.store.as_deref())?;
    if matches!(location, Location::Server { .. }) {
        bail!(
            "--store {location}: view-nwb keeps a directory or an s3:// store, not another server"
        );
    }
    let store = Store::open(&location, None)?;
    let store_routes = kachery::server::router(&store, &Config::single_zone(Some(token.clone())))?;
    // The app learns its store (and, here, the write token: this server is the user's own,
    // and the token only lets it add verified content-addressed objects) from this file;
    // same-origin only (no CORS for it).
    let app_config = serde_json::json!({ "store": { "url": "/", "token": token } }).to_string();
    if !app::EMBEDDED {
        eprintln!(
            "warning: this neurosift was built without the app (a placeholder page is served): run `cargo xtask web`, then build it again"
        );
    }
    let rt = runtime()?;
    rt.block_on(async {
        let listener = bind(SocketAddr::new(args.host, args.port), "--port").await?;
        let addr = listener.local_addr()?;
        let base = origin(addr);
        let mut origins = vec![base.clone()];
        if addr.ip().is_loopback() || addr.ip().is_unspecified() {
            origins.push(format!("http://localhost:{}", addr.port()));
        }
        let state = Arc::new(ViewState {
            token: token.clone(),
            files,
            zarr,
        });
        let rest = Router::new()
            .route("/files/{*rest}", any(token_files))
            .route("/files", any(|| async { StatusCode::NOT_FOUND }))
            .route("/files/", any(|| async { StatusCode::NOT_FOUND }))
            .route("/neurosift-config.json", any(move || config_json(app_config.clone())))
            .with_state(state)
            .fallback(app::serve);
        let rest = Cors::Origins(origins).apply(rest)?;
        let router = store_routes
            .fallback_service(rest)
            .layer(axum::middleware::from_fn(log));
        let file_url = format!("{base}/files/{token}/{}", encode_path(&name));
        let link = app_link(&base, &file_url);
        // A closed stdout (`| head -1`) does not stop the server.
        print_lines(std::slice::from_ref(&link));
        eprintln!(
            "serving {} (and the app) on {base}: open the URL above; Ctrl-C to stop",
            path.display()
        );
        if !args.host.is_loopback() {
            eprintln!(
                "warning: listening on {}: other machines can reach the app, and the file with the URL's token",
                args.host
            );
        }
        if !args.no_browser {
            open_browser(&link);
        }
        serve_until_stopped(listener, router).await
    })
}

/// `/neurosift-config.json`: where the app's "Share" stores figures.
async fn config_json(body: String) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The NWB and LINDI files below `dir` (relative `/`-separated paths, sorted), links not
/// followed, at most [`MAX_LISTED`].
fn list_nwb_files(dir: &Path) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new(), 0_usize)];
    while let Some((path, prefix, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let rel = format!("{prefix}{name}");
            if meta.is_dir() && depth < 16 {
                pending.push((entry.path(), format!("{rel}/"), depth + 1));
            } else if meta.is_file()
                && [".nwb", ".lindi.json", ".lindi.tar", ".nwb.h5"]
                    .iter()
                    .any(|ext| name.ends_with(ext))
            {
                found.push((rel, meta.len()));
                if found.len() >= MAX_LISTED {
                    pending.clear();
                    break;
                }
            }
        }
    }
    found.sort();
    found
}

struct ServeState {
    dir: PathBuf,
    base: String,
}

/// `GET /api/files`: `{"files": [{"path", "size", "url", "app_url"}]}`.
async fn file_list(State(state): State<Arc<ServeState>>) -> Response {
    let dir = state.dir.clone();
    let Ok(files) = tokio::task::spawn_blocking(move || list_nwb_files(&dir)).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let files: Vec<serde_json::Value> = files
        .into_iter()
        .map(|(path, size)| {
            let url = format!("{}/files/{}", state.base, encode_path(&path));
            serde_json::json!({
                "path": path,
                "size": size,
                "app_url": app_link(&state.base, &url),
                "url": url,
            })
        })
        .collect();
    axum::Json(serde_json::json!({ "files": files })).into_response()
}

/// `neurosift serve`: serves until Ctrl-C.
pub fn serve(args: &ServeArgs) -> Result<()> {
    let files =
        ServeDir::new(&args.dir).with_context(|| format!("--dir {}", args.dir.display()))?;
    let location = Location::from_option(args.store.as_deref())?;
    if matches!(location, Location::Server { .. }) {
        bail!("--store {location}: serve keeps a directory or an s3:// store, not another server");
    }
    let store = Store::open(&location, None)?;
    let config = Config::single_zone(args.token.clone());
    let store_routes = kachery::server::router(&store, &config)?;
    if !app::EMBEDDED {
        eprintln!(
            "warning: this neurosift was built without the app (a placeholder page is served): run `cargo xtask web`, then build it again"
        );
    }
    let rt = runtime()?;
    rt.block_on(async {
        let listener = bind(args.bind, "--bind").await?;
        let addr = listener.local_addr()?;
        let base = args
            .url
            .as_deref()
            .map_or_else(|| origin(addr), |u| u.trim_end_matches('/').to_string());
        let state = Arc::new(ServeState {
            dir: files.root().to_path_buf(),
            base: base.clone(),
        });
        // The app finds its store here; the write token is the user's to give.
        let app_config = serde_json::json!({ "store": { "url": "/" } }).to_string();
        let rest = Router::new()
            .route("/api/files", any(file_list))
            .route("/neurosift-config.json", any(move || config_json(app_config.clone())))
            .with_state(Arc::clone(&state))
            .nest_service("/files", files)
            .fallback(app::serve);
        // The store's routes (`/sha1/<hash>`, `/<zone>/sha1/<hash>`, CORS for any origin),
        // everything else (same-origin only) in place of its 404.
        let router = store_routes
            .fallback_service(rest)
            .layer(axum::middleware::from_fn(log));
        let listed = list_nwb_files(&state.dir);
        let mut lines = vec![format!("{base}/")];
        lines.extend(
            listed
                .iter()
                .take(20)
                .map(|(path, _)| app_link(&base, &format!("{base}/files/{}", encode_path(path)))),
        );
        print_lines(&lines);
        let write = if args.token.is_some() {
            "written with the token"
        } else {
            "read-only: no --token"
        };
        eprintln!(
            "serving the app on {base}/, the {} NWB/LINDI files of {} under {base}/files/ (list: {base}/api/files), the store {location} at {base}/sha1/<hash> ({write}); Ctrl-C to stop",
            listed.len(),
            state.dir.display()
        );
        if addr.ip().is_unspecified() && args.url.is_none() {
            eprintln!(
                "note: the links above name 127.0.0.1; give --url http://HOST:{} for links that open from other machines",
                addr.port()
            );
        }
        serve_until_stopped(listener, router).await
    })
}
