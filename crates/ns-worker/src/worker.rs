//! Message loop: requests are queued as they arrive and run one at a time
//! from a zero-delay timer, so that a `Cancel` that arrives while another
//! request runs is seen before the cancelled one starts.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ns_hdf5::{H5File, NodeKind, Selection, Value};
use ns_io::{Counters, PageCache, PageCacheConfig, ReadAt};
use ns_nwb::NwbFile;
use ns_protocol::{
    Answer, ErrorKind, FileSource, FromWorker, IoStats, ObjectInfo, ObjectSummary, Overview,
    RequestId, ToWorker, Values, WorkerError, decode, encode,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{DedicatedWorkerGlobalScope, File, MessageEvent};

use crate::sources::{LocalFileSource, XhrSource};

/// Bytes probed from the head (and fetched from the tail) when opening.
const PREFETCH_BYTES: u64 = 256 * 1024;
/// Files up to this size are read whole at once.
const WHOLE_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Largest selection one read may allocate in the browser.
const MAX_READ_BYTES: usize = 256 * 1024 * 1024;
/// Most bytes of pages handed to the app for its metadata cache.
const MAX_EXPORT_BYTES: u64 = 16 * 1024 * 1024;
/// Most values one `Values` request may return.
const MAX_VALUES: u64 = 1_000_000;

static CURRENT: AtomicU64 = AtomicU64::new(0);

struct State {
    queue: VecDeque<(ToWorker, Option<File>, Option<Vec<u8>>)>,
    cancelled: Vec<RequestId>,
    scheduled: bool,
    file: Option<NwbFile>,
    counters: Arc<Counters>,
    /// The open file's page cache, to hand its pages to the app.
    pages: Option<Arc<dyn ExportPages>>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        queue: VecDeque::new(),
        cancelled: Vec::new(),
        scheduled: false,
        file: None,
        counters: Arc::default(),
        pages: None,
    });
}

fn scope() -> Option<DedicatedWorkerGlobalScope> {
    js_sys::global()
        .dyn_into::<DedicatedWorkerGlobalScope>()
        .ok()
}

fn post(message: &FromWorker) {
    post_with(message, None);
}

/// Posts `{msg: "<json>", pages?: Uint8Array}`.
fn post_with(message: &FromWorker, pages: Option<&[u8]>) {
    let Some(scope) = scope() else { return };
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"msg".into(), &encode(message).into());
    if let Some(pages) = pages {
        let _ = js_sys::Reflect::set(&obj, &"pages".into(), &js_sys::Uint8Array::from(pages));
    }
    let _ = scope.post_message(&obj);
}

fn stats(counters: &Counters) -> IoStats {
    let s = counters.stats();
    IoStats {
        requests: s.requests,
        bytes: s.bytes,
    }
}

pub fn start() {
    let Some(scope) = scope() else { return };
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let data = event.data();
        // `{msg: "<json>", file?: File}`
        let text = js_sys::Reflect::get(&data, &"msg".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        let file = js_sys::Reflect::get(&data, &"file".into())
            .ok()
            .and_then(|v| v.dyn_into::<File>().ok());
        let seed = js_sys::Reflect::get(&data, &"seed".into())
            .ok()
            .and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok())
            .map(|a| a.to_vec());
        match decode::<ToWorker>(&text) {
            Ok(ToWorker::Cancel { id }) => {
                STATE.with(|s| s.borrow_mut().cancelled.push(id));
            }
            Ok(msg) => {
                STATE.with(|s| s.borrow_mut().queue.push_back((msg, file, seed)));
                schedule();
            }
            Err(message) => post(&FromWorker::Reply {
                id: 0,
                result: Err(WorkerError {
                    kind: ErrorKind::BadRequest,
                    message,
                }),
                stats: IoStats::default(),
            }),
        }
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&FromWorker::Ready);
}

fn schedule() {
    let already = STATE.with(|s| std::mem::replace(&mut s.borrow_mut().scheduled, true));
    if already {
        return;
    }
    let Some(scope) = scope() else { return };
    let run = Closure::once_into_js(run_next);
    let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(run.unchecked_ref(), 0);
}

fn run_next() {
    let next = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.scheduled = false;
        while let Some((msg, file, seed)) = s.queue.pop_front() {
            let id = msg.id();
            if let Some(i) = s.cancelled.iter().position(|c| *c == id) {
                s.cancelled.swap_remove(i);
                continue;
            }
            return Some((msg, file, seed));
        }
        None
    });
    let Some((msg, file, seed)) = next else {
        return;
    };
    let id = msg.id();
    let is_open = matches!(msg, ToWorker::Open { .. });
    CURRENT.store(id, Ordering::Relaxed);
    let result = handle(msg, file, seed.as_deref());
    let counters = STATE.with(|s| Arc::clone(&s.borrow().counters));
    // After an open, the pages read so far (the metadata) go to the app,
    // which keeps them for the next open of the same file.
    let pages = (is_open && result.is_ok())
        .then(|| STATE.with(|s| s.borrow().pages.clone()))
        .flatten()
        .map(|cache| {
            let pages = cache.export(MAX_EXPORT_BYTES);
            ns_protocol::encode_pages(pages.iter().map(|(o, b)| (*o, b.as_ref())))
        });
    post_with(
        &FromWorker::Reply {
            id,
            result,
            stats: stats(&counters),
        },
        pages.as_deref(),
    );
    if STATE.with(|s| !s.borrow().queue.is_empty()) {
        schedule();
    }
}

fn handle(msg: ToWorker, file: Option<File>, seed: Option<&[u8]>) -> Result<Answer, WorkerError> {
    match msg {
        ToWorker::Open { source, .. } => open(source, file, seed).map(Answer::Opened),
        ToWorker::Object { path, .. } => with_file(|f| object(f, &path)).map(Answer::Object),
        ToWorker::Values {
            path, selection, ..
        } => with_file(|f| values(f, &path, &selection)).map(Answer::Values),
        ToWorker::Cancel { .. } => Err(WorkerError {
            kind: ErrorKind::BadRequest,
            message: "cancel is not a request".into(),
        }),
    }
}

fn with_file<T>(f: impl FnOnce(&NwbFile) -> Result<T, WorkerError>) -> Result<T, WorkerError> {
    STATE.with(|s| {
        let s = s.borrow();
        let file = s.file.as_ref().ok_or_else(|| WorkerError {
            kind: ErrorKind::NoFileOpen,
            message: "no file is open".into(),
        })?;
        f(file)
    })
}

fn io_error(e: &ns_io::Error) -> WorkerError {
    let kind = match e {
        ns_io::Error::HttpStatus { status: 404, .. } => ErrorKind::NotFound,
        ns_io::Error::HttpStatus { .. } => ErrorKind::Http,
        ns_io::Error::NotPartial { .. } => ErrorKind::NoRangeSupport,
        ns_io::Error::Http { .. } | ns_io::Error::Truncated { .. } => ErrorKind::Network,
        _ => ErrorKind::Format,
    };
    WorkerError {
        kind,
        message: e.to_string(),
    }
}

fn h5_error(e: &ns_hdf5::Error) -> WorkerError {
    match e {
        ns_hdf5::Error::Io(io) => io_error(io),
        ns_hdf5::Error::NotHdf5 { .. } => WorkerError {
            kind: ErrorKind::NotHdf5,
            message: e.to_string(),
        },
        ns_hdf5::Error::NotFound { .. } => WorkerError {
            kind: ErrorKind::NotFound,
            message: e.to_string(),
        },
        ns_hdf5::Error::Selection { .. } => WorkerError {
            kind: ErrorKind::BadRequest,
            message: e.to_string(),
        },
        ns_hdf5::Error::Format { .. } => WorkerError {
            kind: ErrorKind::Format,
            message: e.to_string(),
        },
    }
}

fn nwb_error(e: &ns_nwb::Error) -> WorkerError {
    match e {
        ns_nwb::Error::Hdf5(h) => h5_error(h),
        other => WorkerError {
            kind: ErrorKind::Format,
            message: other.to_string(),
        },
    }
}

fn open(
    source: FileSource,
    file: Option<File>,
    seed: Option<&[u8]>,
) -> Result<Overview, WorkerError> {
    let counters: Arc<Counters> = Arc::default();
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.file = None;
        s.pages = None;
        s.counters = Arc::clone(&counters);
    });
    let progress_counters = Arc::clone(&counters);
    let on_request = Arc::new(move || {
        post(&FromWorker::Progress {
            id: CURRENT.load(Ordering::Relaxed),
            stats: stats(&progress_counters),
        });
    });
    let ref_counters = Arc::clone(&counters);
    let ref_progress: crate::sources::OnRequest = on_request.clone();
    // The key (sent only for an allowed URL) goes only to references on
    // that same origin: never to another host a LINDI file names.
    let (ref_key, ref_root) = match &source {
        FileSource::Url { api_key, url, .. } => (api_key.clone(), url.clone()),
        FileSource::Local { .. } => (None, String::new()),
    };
    let source: Arc<dyn ReadAt> = match source {
        FileSource::Url {
            url,
            size_bytes,
            api_key,
        } => {
            let (xhr, head) = match size_bytes {
                // The app's probe already checked Range support and the size.
                Some(len) => (
                    XhrSource::with_size(&url, len, api_key, Arc::clone(&counters), on_request),
                    bytes::Bytes::new(),
                ),
                None => XhrSource::open(
                    &url,
                    None,
                    api_key,
                    PREFETCH_BYTES,
                    Arc::clone(&counters),
                    on_request,
                )
                .map_err(|e| io_error(&e))?,
            };
            cached(xhr, &head, seed, WHOLE_FILE_BYTES)?
        }
        FileSource::Local { name, .. } => {
            let file = file.ok_or_else(|| WorkerError {
                kind: ErrorKind::BadRequest,
                message: format!("{name}: the file object did not arrive"),
            })?;
            // Local reads are cheap: no whole-file read, head and tail only.
            let local = LocalFileSource::open(file, Arc::clone(&counters));
            cached(local, &bytes::Bytes::new(), seed, 0)?
        }
    };
    let head = source
        .read_range(0..source.len().min(512))
        .map_err(|e| io_error(&e))?;
    let nwb = if ns_lindi::detect(&head).is_some() {
        // A LINDI reference file: the tree is in it; chunk references are
        // read from the URLs it names.
        let opener = move |url: &str| -> ns_io::Result<Arc<dyn ReadAt>> {
            open_reference(
                url,
                ref_key
                    .clone()
                    .filter(|_| ns_links::credentials_allowed(url, &[ref_root.as_str()])),
                Arc::clone(&ref_counters),
                Arc::clone(&ref_progress),
            )
        };
        let options = ns_lindi::OpenOptions {
            max_read_bytes: MAX_READ_BYTES,
            threads: 1,
        };
        let lindi = ns_lindi::LindiFile::open_source(source, opener, options)
            .map_err(|e| h5_error(&ns_hdf5::Error::from(e)))?;
        NwbFile::from_store(Box::new(lindi)).map_err(|e| nwb_error(&e))?
    } else {
        let h5 = H5File::open(
            source,
            ns_hdf5::OpenOptions {
                max_read_bytes: MAX_READ_BYTES,
                threads: 1,
            },
        )
        .map_err(|e| h5_error(&e))?;
        NwbFile::new(h5).map_err(|e| nwb_error(&e))?
    };
    let overview = overview(&nwb);
    STATE.with(|s| s.borrow_mut().file = Some(nwb));
    Ok(overview)
}

/// Opens a URL that a LINDI file refers to: with a page cache when the
/// server tells the size, else as exact-range reads.
fn open_reference(
    url: &str,
    api_key: Option<String>,
    counters: Arc<Counters>,
    on_request: crate::sources::OnRequest,
) -> ns_io::Result<Arc<dyn ReadAt>> {
    match XhrSource::open(
        url,
        None,
        api_key.clone(),
        64 * 1024,
        Arc::clone(&counters),
        on_request.clone(),
    ) {
        Ok((xhr, head)) => {
            let cache = PageCache::new(xhr, cache_config());
            cache.insert(0, &head);
            Ok(Arc::new(cache))
        }
        Err(ns_io::Error::Http { .. }) => Ok(Arc::new(XhrSource::without_size(
            url, api_key, counters, on_request,
        ))),
        Err(e) => Err(e),
    }
}

/// A page cache whose pages can be handed to the app.
trait ExportPages {
    fn export(&self, max_bytes: u64) -> Vec<(u64, bytes::Bytes)>;
}

impl<S: ReadAt> ExportPages for PageCache<S> {
    fn export(&self, max_bytes: u64) -> Vec<(u64, bytes::Bytes)> {
        self.export_pages(max_bytes)
    }
}

/// The page cache of a freshly opened file: starts from the bytes a probe
/// read (`head`) and from `seed` pages, fetches head and tail (or the whole
/// file up to `whole_file_bytes`), and is kept for handing its pages to the
/// app.
fn cached<S: ReadAt + 'static>(
    source: S,
    head: &bytes::Bytes,
    seed: Option<&[u8]>,
    whole_file_bytes: u64,
) -> Result<Arc<PageCache<S>>, WorkerError> {
    let cache = Arc::new(PageCache::new(source, cache_config()));
    cache.insert(0, head);
    seed_cache(&cache, seed);
    ns_io::warm_up(&cache, PREFETCH_BYTES, whole_file_bytes).map_err(|e| io_error(&e))?;
    STATE.with(|s| s.borrow_mut().pages = Some(cache.clone()));
    Ok(cache)
}

/// Page cache settings in the browser, where three workers share memory.
fn cache_config() -> PageCacheConfig {
    PageCacheConfig {
        capacity_bytes: 128 * 1024 * 1024,
        ..PageCacheConfig::default()
    }
}

/// Starts a cache from pages read before: saved by an earlier open of this
/// very file (the app checked size and ETag/Last-Modified), or read by the
/// first worker of the pool.
fn seed_cache<S: ReadAt>(cache: &PageCache<S>, seed: Option<&[u8]>) {
    if let Some(pages) = seed.and_then(ns_protocol::decode_pages) {
        for (offset, bytes) in pages {
            cache.insert(offset, &bytes::Bytes::copy_from_slice(bytes));
        }
    }
}

fn overview(nwb: &NwbFile) -> Overview {
    let s = nwb.session();
    let mut session = Vec::new();
    let mut add = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            session.push((label.to_string(), v));
        }
    };
    add("Session description", s.session_description.clone());
    add("Identifier", s.identifier.clone());
    add("Session start time", s.session_start_time.clone());
    add("Experimenter", Some(s.experimenter.join("; ")));
    add("Lab", s.lab.clone());
    add("Institution", s.institution.clone());
    add(
        "Related publications",
        Some(s.related_publications.join("; ")),
    );
    add("Experiment description", s.experiment_description.clone());
    add("Session ID", s.session_id.clone());
    add("NWB version", s.nwb_version.clone());
    let objects = nwb
        .nodes()
        .iter()
        .map(|node| {
            let text = |name: &str| node.attr(name).and_then(Value::as_str).map(str::to_string);
            let data_summary = node.dataset.as_ref().map(|d| {
                let dims: Vec<String> = d.shape.iter().map(ToString::to_string).collect();
                format!("{} [{}]", d.dtype_description, dims.join(" × "))
            });
            let target = match &node.kind {
                NodeKind::SoftLink { target } => Some(target.clone()),
                NodeKind::ExternalLink { file, target } => Some(format!("{file}:{target}")),
                _ => None,
            };
            ObjectSummary {
                path: node.path.clone(),
                kind: node.kind.name().to_string(),
                neurodata_type: nwb.neurodata_type(&node.path).map(str::to_string),
                description: text("description"),
                data_summary,
                target,
            }
        })
        .collect();
    Overview {
        location: nwb.location().to_string(),
        size_bytes: nwb.h5().size_bytes(),
        session,
        objects,
    }
}

fn object(nwb: &NwbFile, path: &str) -> Result<ObjectInfo, WorkerError> {
    let node = match nwb.nodes().iter().find(|n| n.path == path) {
        Some(node) => node.clone(),
        None => nwb.h5().node(path).map_err(|e| h5_error(&e))?,
    };
    Ok(ObjectInfo {
        path: node.path.clone(),
        kind: node.kind.name().to_string(),
        attrs: node
            .attrs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json().to_string()))
            .collect(),
        shape: node.dataset.as_ref().map(|d| d.shape.clone()),
        dtype: node.dataset.as_ref().map(|d| d.dtype_description.clone()),
        chunks: node.dataset.as_ref().and_then(|d| d.chunks.clone()),
        filters: node
            .dataset
            .as_ref()
            .map(|d| d.filters.clone())
            .unwrap_or_default(),
    })
}

fn values(nwb: &NwbFile, path: &str, selection: &str) -> Result<Values, WorkerError> {
    let bad = |message: String| WorkerError {
        kind: ErrorKind::BadRequest,
        message: format!("{path}: {message}"),
    };
    let sel: Selection = selection.parse().map_err(bad)?;
    let array = nwb.h5().read(path, &sel).map_err(|e| h5_error(&e))?;
    if array.len() as u64 > MAX_VALUES {
        return Err(bad(format!(
            "{} values selected; at most {MAX_VALUES} at once",
            array.len()
        )));
    }
    Ok(Values {
        path: path.to_string(),
        selection: selection.to_string(),
        shape: array.shape.clone(),
        dtype: array.dtype.name().to_string(),
        values: array
            .to_values()
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_json().to_string(),
            })
            .collect(),
    })
}
