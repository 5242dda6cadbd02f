//! `neurosift store | load | cat URI | store-server`: the sha1 store (`kachery`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kachery::server::Config;
use kachery::{Location, Progress, Store, StoreUri};

/// Transfers at least this long get a progress bar (on a terminal).
const BAR_BYTES: u64 = 4 * 1024 * 1024;
/// `cat` keeps an object up to this size in memory; a larger one goes through a temporary
/// file (either way nothing is printed before the whole object is verified).
const CAT_MEMORY_BYTES: u64 = 64 * 1024 * 1024;

/// Where the store is and how to write to it.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// The store: a directory, `s3://BUCKET/PREFIX` (configured by the AWS_* environment
    /// variables: AWS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ALLOW_HTTP) or a store server `http(s)://HOST[/ZONE]`. Default: a per-user
    /// directory (~/.local/share/neurosift/store on Linux).
    #[arg(long, env = "NEUROSIFT_STORE", value_name = "DIR|s3://…|http(s)://…")]
    pub store: Option<String>,
    /// Bearer token for writing to a store server.
    #[arg(long, env = "NEUROSIFT_STORE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl StoreArgs {
    fn location(&self) -> Result<Location> {
        Ok(Location::from_option(self.store.as_deref())?)
    }

    fn open(&self) -> Result<Store> {
        Ok(Store::open(&self.location()?, self.token.clone())?)
    }

    /// A store server's address (the origin of `http(s)://HOST[/ZONE]`), which also serves
    /// the viewer when it is `neurosift serve`.
    pub fn server_url(&self) -> Option<String> {
        let s = self.store.as_deref()?;
        if !(s.starts_with("http://") || s.starts_with("https://")) {
            return None;
        }
        let (scheme, rest) = s.split_once("://")?;
        let host = rest.split('/').next()?;
        Some(format!("{scheme}://{host}"))
    }

    /// The store holding the object `uri` names (its zone on a store server).
    fn open_for(&self, uri: &StoreUri) -> Result<Store> {
        let location = self.location()?;
        let location = match uri.zone() {
            Some(zone) => location.for_zone(zone),
            None => location,
        };
        Ok(Store::open(&location, self.token.clone())?)
    }
}

/// The store server's options.
#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// The store served: a directory or `s3://BUCKET/PREFIX` (default: the per-user
    /// directory).
    #[arg(long, env = "NEUROSIFT_STORE", value_name = "DIR|s3://…")]
    pub store: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub bind: SocketAddr,
    /// Zones, their tokens and the size limit (TOML; see `kachery::server`). Without it: the
    /// `default` zone only, public read, written with --token.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Token that may write to the `default` zone (without --config).
    #[arg(long, env = "NEUROSIFT_STORE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Largest object accepted (bytes), overriding the config (default 1 GiB).
    #[arg(long)]
    pub max_object_bytes: Option<u64>,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// A progress bar on stderr for transfers of [`BAR_BYTES`] or more (hidden when stderr is
/// not a terminal).
#[derive(Default)]
struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bar {
    fn start(&self, what: &str, total_bytes: u64) {
        if total_bytes < BAR_BYTES {
            return;
        }
        let bar = ProgressBar::new(total_bytes);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:>11} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, bytes: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(bytes);
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}

/// `neurosift store FILE... | --stdin`: prints one URI per object on stdout.
pub fn store(args: &StoreArgs, files: &[PathBuf], stdin: bool, label: Option<&str>) -> Result<()> {
    if stdin != files.is_empty() {
        bail!("give FILE... or --stdin (one of them)");
    }
    let rt = runtime()?;
    let store = args.open()?;
    let bar = Bar::default();
    let mut out = std::io::stdout().lock();
    if stdin {
        let stored = rt.block_on(store.put_reader(tokio::io::stdin(), &bar))?;
        report("standard input", &stored, store.name());
        writeln!(out, "{}", StoreUri::sha1(stored.hash, label))?;
    }
    for file in files {
        let stored = rt
            .block_on(store.put_file(file, &bar))
            .with_context(|| format!("storing {}", file.display()))?;
        report(&file.display().to_string(), &stored, store.name());
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let label = label.map(str::to_string).or(name);
        writeln!(out, "{}", StoreUri::sha1(stored.hash, label.as_deref()))?;
        out.flush()?;
    }
    Ok(())
}

/// Stores bytes (a figure), reporting as `store` does.
pub fn put_bytes(args: &StoreArgs, bytes: Vec<u8>) -> Result<kachery::Stored> {
    let rt = runtime()?;
    let store = args.open()?;
    Ok(rt.block_on(store.put_bytes(bytes.into()))?)
}

fn report(what: &str, stored: &kachery::Stored, store: &str) {
    if stored.already_stored {
        eprintln!(
            "{what}: already stored in {store} ({} bytes)",
            stored.size_bytes
        );
    } else {
        eprintln!("{what}: stored in {store} ({} bytes)", stored.size_bytes);
    }
}

fn parse_uri(text: &str) -> Result<StoreUri> {
    Ok(StoreUri::parse(text)?)
}

/// `neurosift load URI [-o FILE]`: the object into a file (by default named by its label, else
/// its hash, in the current directory; an existing file is not overwritten unless named by -o).
pub fn load(args: &StoreArgs, uri: &str, output: Option<&Path>) -> Result<()> {
    let uri = parse_uri(uri)?;
    let path = match output {
        Some(path) => path.to_path_buf(),
        None => {
            let name = uri
                .label()
                .and_then(|l| Path::new(l).file_name())
                .map_or_else(|| uri.hash().to_hex(), |n| n.to_string_lossy().into_owned());
            let path = PathBuf::from(name);
            if path.exists() {
                bail!(
                    "{} exists: give -o FILE to write it anyway or elsewhere",
                    path.display()
                );
            }
            path
        }
    };
    let store = args.open_for(&uri)?;
    let rt = runtime()?;
    let bytes = rt.block_on(store.load_to_file(uri.hash(), &path, &Bar::default()))?;
    eprintln!("{}: {bytes} bytes from {}", path.display(), store.name());
    Ok(())
}

/// `neurosift cat URI`: the object's bytes on stdout, once verified.
pub fn cat(args: &StoreArgs, uri: &str) -> Result<()> {
    let uri = parse_uri(uri)?;
    let store = args.open_for(&uri)?;
    let rt = runtime()?;
    let hash = uri.hash();
    let size = rt
        .block_on(store.size_of(hash))?
        .ok_or_else(|| kachery::Error::NotFound {
            hash,
            store: store.name().to_string(),
        })?;
    let mut out = std::io::stdout().lock();
    if size <= CAT_MEMORY_BYTES {
        let bytes = rt.block_on(store.get_bytes(hash, CAT_MEMORY_BYTES))?;
        crate::write_checked(&mut out, &bytes)?;
    } else {
        let temp = tempfile::NamedTempFile::new().context("a temporary file for cat")?;
        rt.block_on(store.load_to_file(hash, temp.path(), &Bar::default()))?;
        let mut file = std::fs::File::open(temp.path())?;
        match std::io::copy(&mut file, &mut out) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            other => drop(other?),
        }
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// `neurosift store-server`: serves until Ctrl-C.
pub fn serve(args: &ServerArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    let location = Location::from_option(args.store.as_deref())?;
    if matches!(location, Location::Server { .. }) {
        bail!("--store {location}: a store server serves a directory or an s3:// store");
    }
    let mut config = match &args.config {
        Some(path) => {
            if args.token.is_some() {
                eprintln!("warning: --token / NEUROSIFT_STORE_TOKEN is ignored with --config");
            }
            Config::load(path)?
        }
        None => Config::single_zone(args.token.clone()),
    };
    if let Some(max) = args.max_object_bytes {
        config.max_object_bytes = max;
    }
    let store = Store::open(&location, None)?;
    let router = kachery::server::router(&store, &config)?;
    let rt = runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("listening on {}", args.bind))?;
        let addr = listener.local_addr()?;
        let zones: Vec<String> = config
            .zones
            .iter()
            .map(|(name, zone)| {
                let read = if zone.public_read {
                    "public read"
                } else {
                    "read with a token"
                };
                let write = if zone.write_tokens.is_empty() {
                    "read-only"
                } else {
                    "write with a token"
                };
                format!("{name} ({read}, {write})")
            })
            .collect();
        eprintln!(
            "serving {location} on http://{addr} (zones: {}; objects up to {} bytes)",
            zones.join(", "),
            config.max_object_bytes
        );
        kachery::server::serve(listener, router, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
    })
}
