//! `neurosift`: look inside NWB/HDF5 files (or LINDI reference files:
//! `.lindi.json`, `.lindi.tar`), local or remote, reading only the bytes
//! needed; store, load and print objects of the sha1 store, and serve one; open a file in the
//! web app (embedded in the binary) or serve the app, a directory and a store together.

mod app;
mod figure;
mod inspect;
mod launch;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use kachery::StoreUri;
use ns_io::Counters;
use ns_model::{ObjectStore, Selection};

#[derive(Parser)]
#[command(
    name = "neurosift",
    version,
    about = "Browse NWB/HDF5 (and LINDI .lindi.json/.lindi.tar) files, local or remote (HTTP Range reads); keep objects in the sha1 store"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Source {
    /// A local path or an http(s) URL (DANDI asset URLs work; redirects are
    /// followed): an HDF5 file, a LINDI `.lindi.json` / `.lindi.tar`, or an
    /// NWB-Zarr store (a directory, or the URL of one ending in `.zarr` or
    /// `.../zarr/<id>/`, with consolidated `.zmetadata`).
    file: String,
    /// Print `stats: requests=N bytes=M seconds=S` as the last line on stderr.
    #[arg(long)]
    stats: bool,
    /// Extra HTTP header, e.g. `Authorization: token KEY`: sent only to the
    /// host of FILE (https, or a local server), never to another host that a
    /// redirect or a LINDI reference leads to.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// List every group, dataset and link with attributes, shapes and types.
    Inspect {
        #[command(flatten)]
        source: Source,
        /// One JSON document `{"objects":[...]}` on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print dataset values; or, given a store URI (`sha1://…`, `kachery:…`) instead of a
    /// file, the stored object's bytes (verified before any is printed).
    Cat {
        #[command(flatten)]
        source: Source,
        /// Dataset paths inside the file (none for a store URI).
        paths: Vec<String>,
        /// Per dimension `start:stop[:step]` or an index, comma-separated; missing trailing dims are whole.
        #[arg(long, allow_hyphen_values = true)]
        slice: Option<String>,
        /// One JSON object per dataset per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: store::StoreArgs,
    },
    /// Put files (or standard input) into the sha1 store; prints one
    /// `sha1://<hash>?label=<name>` URI per object.
    Store {
        /// Files to store.
        files: Vec<PathBuf>,
        /// Store what standard input yields instead.
        #[arg(long)]
        stdin: bool,
        /// The label in the printed URIs (default: the file name).
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        store: store::StoreArgs,
    },
    /// Write a stored object (`sha1://…` or `kachery:<zone>:sha1:…` URI) to a file, verified.
    Load {
        /// The object's URI.
        uri: String,
        /// Output file (default: the URI's label, else its hash, in the current directory).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        #[command(flatten)]
        store: store::StoreArgs,
    },
    /// Serve a store over HTTP: public GET/HEAD /sha1/<hash> (Range, ETag, CORS), PUT with a
    /// bearer token.
    StoreServer(store::ServerArgs),
    /// Open a local NWB file (HDF5, .lindi.json, .lindi.tar, or an NWB-Zarr directory) in the
    /// web app: serves the app and that file on 127.0.0.1 (a random token in the file's URL), prints the URL and
    /// opens the browser.
    ViewNwb(launch::ViewArgs),
    /// Figures: `make` one from a file's view (as the app's Share button does), `publish` one
    /// (store it, print its URL).
    #[command(subcommand)]
    Figure(FigureCommand),
    /// A self-hosted Neurosift: the web app, the files under --dir (read-only, /files/...),
    /// and the sha1 store (/sha1/<hash>, written with --token) in one server.
    Serve(launch::ServeArgs),
}

#[derive(Subcommand)]
enum FigureCommand {
    /// Build a frozen figure of a view of FILE (Raster, PSTH) through the same service the
    /// app's workers run; writes its JSON.
    Make {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        args: figure::MakeArgs,
    },
    /// Validate a figure JSON, store it, print its figure URL.
    Publish(figure::PublishArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let started = Instant::now();
    let counters: Arc<Counters> = Arc::default();
    let (result, stats) = match cli.command {
        Command::Inspect { source, json } => {
            let r = open(&source, &counters).and_then(|file| inspect::run(file, json));
            (r, source.stats)
        }
        Command::Cat {
            source,
            paths,
            slice,
            json,
            store,
        } => {
            let r = if StoreUri::has_scheme(&source.file) {
                if paths.is_empty() && slice.is_none() && !json {
                    store::cat(&store, &source.file)
                } else {
                    Err(anyhow::anyhow!(
                        "cat {}: a store URI prints the stored bytes; dataset paths, --slice and --json are for files",
                        source.file
                    ))
                }
            } else if paths.is_empty() {
                Err(anyhow::anyhow!(
                    "cat {}: give dataset paths inside the file (or a store URI sha1://… / kachery:… instead of a file)",
                    source.file
                ))
            } else {
                open(&source, &counters)
                    .and_then(|file| cat(file.as_ref(), &paths, slice.as_deref(), json))
            };
            (r, source.stats)
        }
        Command::Store {
            files,
            stdin,
            label,
            store,
        } => (store::store(&store, &files, stdin, label.as_deref()), false),
        Command::Load { uri, output, store } => {
            (store::load(&store, &uri, output.as_deref()), false)
        }
        Command::StoreServer(args) => (store::serve(&args), false),
        Command::ViewNwb(args) => (launch::view_nwb(&args), false),
        Command::Serve(args) => (launch::serve(&args), false),
        Command::Figure(FigureCommand::Make { source, args }) => {
            let r = open(&source, &counters)
                .and_then(figure::service)
                .and_then(|service| figure::make(&service, &source.file, &args))
                .and_then(|fig| figure::write(&fig, args.output.as_ref()));
            (r, source.stats)
        }
        Command::Figure(FigureCommand::Publish(args)) => (figure::publish(&args), false),
    };
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", dedup_chain(&chain));
            ExitCode::FAILURE
        }
    };
    if stats {
        let s = counters.stats();
        eprintln!(
            "stats: requests={} bytes={} seconds={:.3}",
            s.requests,
            s.bytes,
            started.elapsed().as_secs_f64()
        );
    }
    code
}

/// Joins an error chain on one line, skipping a cause already contained in
/// the message before it.
fn dedup_chain(chain: &[String]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for msg in chain {
        if out.last().is_some_and(|prev| prev.contains(msg.as_str())) {
            continue;
        }
        out.push(msg);
    }
    out.join(": ")
}

/// Opens an HDF5 file or a LINDI file (told apart by their first bytes), or
/// a Zarr store (a local directory, or a URL that names one).
fn open(source: &Source, counters: &Arc<Counters>) -> Result<Box<dyn ObjectStore>> {
    let mut options = ns_io_native::OpenOptions {
        counters: Arc::clone(counters),
        ..Default::default()
    };
    if !source.headers.is_empty() {
        options.http.credential_roots = vec![source.file.clone()];
        if !ns_links::credentials_allowed(&source.file, &options.http.credential_roots) {
            eprintln!(
                "warning: --header is not sent: {} is not an https URL (nor one on this machine)",
                source.file
            );
        }
    }
    for header in &source.headers {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("--header {header:?} is not `Name: value`"))?;
        options
            .http
            .headers
            .push((name.trim().to_string(), value.trim().to_string()));
    }
    let is_url = ns_io_native::is_url(&source.file);
    if !is_url && std::path::Path::new(&source.file).is_dir() {
        let keys = ns_io_native::DirKeys::open(&source.file, Arc::clone(counters))?;
        return Ok(ns_service::open_zarr(
            Arc::new(keys),
            ns_service::ReadOptions::default(),
            true,
        )?);
    }
    if is_url && ns_links::looks_like_zarr(&source.file) {
        let keys =
            ns_io_native::HttpKeys::new(&source.file, options.http.clone(), Arc::clone(counters));
        return Ok(ns_service::open_zarr(
            Arc::new(keys),
            ns_service::ReadOptions::default(),
            true,
        )?);
    }
    let bytes = ns_io_native::open(&source.file, &options)?;
    // The files a LINDI file points to: one probe (head and tail at once)
    // when first used, then only the chunks read.
    let data_options = ns_io_native::OpenOptions {
        prefetch_bytes: 64 * 1024,
        whole_file_bytes: 0,
        ..options
    };
    let opener = move |url: &str| ns_io_native::open(url, &data_options);
    Ok(ns_service::open_store(
        bytes,
        opener,
        ns_service::ReadOptions::default(),
    )?)
}

fn cat(file: &dyn ObjectStore, paths: &[String], slice: Option<&str>, json: bool) -> Result<()> {
    let selection: Selection = match slice {
        Some(spec) => spec
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--slice {spec:?}: {e}"))?,
        None => Selection::all(),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    for path in paths {
        let array = file.read(path, &selection).map_err(|e| match e {
            // Out of range or too much at once: say how to ask otherwise.
            ns_model::Error::Selection { .. } => anyhow::anyhow!("{e} (see --slice)"),
            other => other.into(),
        })?;
        if json {
            let head = serde_json::json!({
                "path": path,
                "shape": array.shape,
                "dtype": array.dtype.name(),
            })
            .to_string();
            // `{..., "data": [...]}` with the values streamed, not built as a tree.
            let head = head.strip_suffix('}').unwrap_or(&head);
            let mut line = String::with_capacity(head.len() + 8);
            line.push_str(head);
            line.push_str(",\"data\":");
            write_checked(&mut out, line.as_bytes())?;
            inspect::write_json_values(&mut out, &array)?;
            write_checked(&mut out, b"}\n")?;
        } else {
            writeln_checked(
                &mut out,
                &format!("{path}: {} {:?}", array.dtype, array.shape),
            )?;
            inspect::print_values(&mut out, &array)?;
        }
    }
    match std::io::Write::flush(&mut out) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Writes bytes; a closed pipe (`| head`) ends quietly.
pub(crate) fn write_checked(out: &mut impl std::io::Write, bytes: &[u8]) -> Result<()> {
    match out.write_all(bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

/// Writes a line; a closed pipe (`| head`) ends quietly.
pub(crate) fn writeln_checked(out: &mut impl std::io::Write, line: &str) -> Result<()> {
    match writeln!(out, "{line}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}
