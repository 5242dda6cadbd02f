//! Message loop: requests are queued as they arrive and run one at a time
//! from a zero-delay timer, so that a `Cancel` that arrives while another
//! request runs is seen before the cancelled one starts.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ns_io::{CacheSetup, Counters, PageCache, ReadAt};
use ns_protocol::{
    Answer, ErrorKind, FileSource, FromWorker, IoStats, OpenFile, Overview, Query, RequestId,
    ToWorker, WorkerError, decode, encode,
};
use ns_service::{Limits, ReadOptions, Service, io_error};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{DedicatedWorkerGlobalScope, File, MessageEvent};

use crate::sources::{LocalFileSource, XhrKeys, XhrSource};

/// Bytes probed from the head (and fetched from the tail) when opening.
const PREFETCH_BYTES: u64 = 256 * 1024;
/// Largest selection one read may allocate in the browser (reads larger
/// than a quarter of the page cache stream around it).
const MAX_READ_BYTES: usize = 256 * 1024 * 1024;
/// Most bytes of pages handed to the app for its metadata cache.
const MAX_EXPORT_BYTES: u64 = 16 * 1024 * 1024;

static CURRENT: AtomicU64 = AtomicU64::new(0);

struct State {
    queue: VecDeque<(ToWorker, Option<File>, Option<Vec<u8>>)>,
    cancelled: Vec<RequestId>,
    scheduled: bool,
    file: Option<Service>,
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

fn post(message: FromWorker) {
    post_with(message, None);
}

/// Posts `{msg: "<json>", bufs: [ArrayBuffer…], pages?: Uint8Array}`, the
/// numeric buffers (and pages) transferred, not copied.
fn post_with(message: FromWorker, pages: Option<&[u8]>) {
    let Some(scope) = scope() else { return };
    let encoded = encode(message);
    let obj = js_sys::Object::new();
    let transfer = js_sys::Array::new();
    let bufs = js_sys::Array::new();
    for buffer in &encoded.buffers {
        let array = js_sys::Uint8Array::from(buffer.as_slice());
        bufs.push(&array.buffer());
        transfer.push(&array.buffer());
    }
    let _ = js_sys::Reflect::set(&obj, &"msg".into(), &encoded.text.into());
    let _ = js_sys::Reflect::set(&obj, &"bufs".into(), &bufs);
    if let Some(pages) = pages {
        let array = js_sys::Uint8Array::from(pages);
        transfer.push(&array.buffer());
        let _ = js_sys::Reflect::set(&obj, &"pages".into(), &array);
    }
    if scope.post_message_with_transfer(&obj, &transfer).is_err() {
        let _ = scope.post_message(&obj);
    }
}

/// A `performance.mark` in the worker's timeline (read by
/// `tests/browser/open_bench.mjs`); nothing when there is no `performance`.
pub fn mark(name: &str) {
    let global = js_sys::global();
    let Ok(performance) = js_sys::Reflect::get(&global, &"performance".into()) else {
        return;
    };
    let Ok(mark) = js_sys::Reflect::get(&performance, &"mark".into()) else {
        return;
    };
    if let Some(mark) = mark.dyn_ref::<js_sys::Function>() {
        let _ = mark.call1(&performance, &name.into());
    }
}

/// The NWB reader's phases as marks (`w-walk`, `w-session+specs`).
fn mark_phase(name: &'static str) {
    mark(&format!("w-{name}"));
}

fn stats(counters: &Counters) -> IoStats {
    let s = counters.stats();
    let memory_bytes = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0, |b| u64::from(b.byte_length()));
    IoStats {
        requests: s.requests,
        bytes: s.bytes,
        memory_bytes,
    }
}

/// Reports a panic to the app before the worker dies: the app fails the
/// requests this worker holds and starts another one.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("the file reader crashed: {info}");
        post(FromWorker::Crashed { message });
    }));
}

pub fn start() {
    mark("w-start");
    install_panic_hook();
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
        match decode::<ToWorker>(&text, Vec::new()) {
            Ok(ToWorker::Cancel { id }) => {
                STATE.with(|s| s.borrow_mut().cancelled.push(id));
            }
            Ok(msg) => {
                STATE.with(|s| s.borrow_mut().queue.push_back((msg, file, seed)));
                schedule();
            }
            Err(message) => post(FromWorker::Reply {
                id: 0,
                result: Err(WorkerError::new(ErrorKind::Protocol, message)),
                stats: IoStats::default(),
            }),
        }
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(FromWorker::Ready);
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
    let is_open = matches!(
        msg,
        ToWorker::Request {
            query: Query::Open(_),
            ..
        }
    );
    CURRENT.store(id, Ordering::Relaxed);
    if is_open {
        mark("w-open-begin");
    }
    let result = handle(msg, file, seed.as_deref());
    if is_open {
        mark("w-open-done");
    }
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
    if is_open {
        mark("w-pages-exported");
    }
    post_with(
        FromWorker::Reply {
            id,
            result,
            stats: stats(&counters),
        },
        pages.as_deref(),
    );
    if is_open {
        mark("w-posted");
    }
    if STATE.with(|s| !s.borrow().queue.is_empty()) {
        schedule();
    }
}

fn handle(msg: ToWorker, file: Option<File>, seed: Option<&[u8]>) -> Result<Answer, WorkerError> {
    match msg {
        ToWorker::Request {
            query: Query::Open(OpenFile { source }),
            ..
        } => open(source, file, seed).map(Answer::Open),
        ToWorker::Request { query, .. } => STATE.with(|s| {
            let s = s.borrow();
            let service = s
                .file
                .as_ref()
                .ok_or_else(|| WorkerError::new(ErrorKind::NoFileOpen, "no file is open"))?;
            service.handle(query)
        }),
        ToWorker::Cancel { .. } => Err(WorkerError::new(
            ErrorKind::BadRequest,
            "cancel is not a request",
        )),
        ToWorker::Panic { id } => panic!("request {id} asked the worker to panic (a test)"),
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
        post(FromWorker::Progress {
            id: CURRENT.load(Ordering::Relaxed),
            stats: stats(&progress_counters),
        });
    });
    if let FileSource::Zarr { url, api_key } = &source {
        // A Zarr store: no byte source, no pages to share; every key is a
        // GET of its own (the other workers read `.zmetadata` themselves).
        let keys = XhrKeys::new(url, api_key.clone(), Arc::clone(&counters), on_request);
        let options = ReadOptions {
            max_read_bytes: MAX_READ_BYTES,
            threads: 1,
        };
        let store = ns_service::open_zarr(Arc::new(keys), options, false)?;
        let service = Service::new(store, Limits::default())?;
        let overview = service.overview();
        STATE.with(|s| s.borrow_mut().file = Some(service));
        return Ok(overview);
    }
    let ref_counters = Arc::clone(&counters);
    let ref_progress: crate::sources::OnRequest = on_request.clone();
    // The key (sent only for an allowed URL) goes only to references on
    // that same origin: never to another host a LINDI file names.
    let (ref_key, ref_root) = match &source {
        FileSource::Url { api_key, url, .. } => (api_key.clone(), url.clone()),
        FileSource::Local { .. } | FileSource::Zarr { .. } => (None, String::new()),
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
            cached(xhr, head, seed, CacheSetup::browser().whole_file_bytes)?
        }
        FileSource::Zarr { url, .. } => {
            return Err(WorkerError::new(
                ErrorKind::BadRequest,
                format!("{url}: a Zarr store is opened by key, not as a byte source"),
            ));
        }
        FileSource::Local { name, .. } => {
            let file = file.ok_or_else(|| WorkerError {
                kind: ErrorKind::BadRequest,
                message: format!("{name}: the file object did not arrive"),
            })?;
            // Local reads are cheap: no whole-file read, head and tail only.
            let local = LocalFileSource::open(file, Arc::clone(&counters));
            cached(local, bytes::Bytes::new(), seed, 0)?
        }
    };
    // A LINDI reference file has the tree in it; its chunk references are
    // read from the URLs it names. Virtual datasets read their source files
    // through it too (resolved against the file's URL). Only http(s) URLs:
    // a bare name (the sources of a file picked from the disk) would be
    // fetched from the app's own server.
    let opener = move |url: &str| -> ns_io::Result<Arc<dyn ReadAt>> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ns_io::Error::Io {
                location: url.to_string(),
                message: "only http(s) URLs can be opened here".into(),
            });
        }
        open_reference(
            url,
            ref_key
                .clone()
                .filter(|_| ns_links::credentials_allowed(url, &[ref_root.as_str()])),
            Arc::clone(&ref_counters),
            Arc::clone(&ref_progress),
        )
    };
    let options = ReadOptions {
        max_read_bytes: MAX_READ_BYTES,
        threads: 1,
    };
    mark("w-source-ready");
    let store = ns_service::open_store(source, opener, options)?;
    mark("w-store-open");
    let nwb_options = ns_service::NwbOptions {
        on_phase: Some(mark_phase),
        ..ns_service::NwbOptions::default()
    };
    let service = Service::with_options(store, Limits::default(), &nwb_options)?;
    let overview = service.overview();
    mark("w-overview");
    STATE.with(|s| s.borrow_mut().file = Some(service));
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
            // No warm-up: only the chunks a selection names are read.
            let setup = CacheSetup {
                prefetch_bytes: 0,
                whole_file_bytes: 0,
                ..CacheSetup::browser()
            };
            Ok(Arc::new(ns_io::open_cached(xhr, [(0, head)], &setup)?))
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

/// The page cache of a freshly opened file ([`ns_io::open_cached`] with the
/// browser's settings): starts from the bytes a probe read (`head`) and from
/// `seed` pages (saved by an earlier open of this very file, or read by the
/// first worker of the pool), fetches head and tail (or the whole file up to
/// `whole_file_bytes`), and is kept for handing its pages to the app.
fn cached<S: ReadAt + 'static>(
    source: S,
    head: bytes::Bytes,
    seed: Option<&[u8]>,
    whole_file_bytes: u64,
) -> Result<Arc<PageCache<S>>, WorkerError> {
    let saved = seed.and_then(ns_protocol::decode_pages).unwrap_or_default();
    let seeds = std::iter::once((0, head)).chain(
        saved
            .into_iter()
            .map(|(offset, bytes)| (offset, bytes::Bytes::copy_from_slice(bytes))),
    );
    let setup = CacheSetup {
        whole_file_bytes,
        ..CacheSetup::browser()
    };
    let cache = Arc::new(ns_io::open_cached(source, seeds, &setup).map_err(|e| io_error(&e))?);
    STATE.with(|s| s.borrow_mut().pages = Some(cache.clone()));
    Ok(cache)
}
