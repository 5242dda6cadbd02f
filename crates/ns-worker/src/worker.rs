//! Message loop: requests are queued as they arrive and run one at a time
//! from a zero-delay timer, so that a `Cancel` that arrives while another
//! request runs is seen before the cancelled one starts.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ns_io::{
    CacheSetup, Counters, PageCache, RangeRequest, ReadAt, ResponseHead, check_range_response,
};
use ns_protocol::{
    Answer, EARLY_OPEN_ID, ErrorKind, FileSource, FromWorker, IoStats, OpenFile, Overview, Query,
    RequestId, ToWorker, WorkerError, decode, encode,
};
use ns_service::{Limits, ReadOptions, Service, io_error};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
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
    /// The file this worker opens by itself (see [`early_open`]), until its
    /// reply is sent.
    early: Option<EarlyOpen>,
}

/// What the early open's probe learned, sent with its reply (the app keeps
/// the validator for "Share") and used to save its pages.
struct EarlyOpen {
    url: String,
    size_bytes: u64,
    validator: Option<String>,
    /// The bytes of each request of the loader's probe that the server
    /// answered: counted as this file's reads (the status line).
    probe: Vec<u64>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        queue: VecDeque::new(),
        cancelled: Vec::new(),
        scheduled: false,
        file: None,
        counters: Arc::default(),
        pages: None,
        early: None,
    });
}

fn scope() -> Option<DedicatedWorkerGlobalScope> {
    js_sys::global()
        .dyn_into::<DedicatedWorkerGlobalScope>()
        .ok()
}

fn post(message: FromWorker) {
    post_with(message, None, None);
}

/// Posts `{msg: "<json>", bufs: [ArrayBuffer…], pages?: Uint8Array,
/// early?: {…}}`, the numeric buffers (and pages) transferred, not copied.
fn post_with(message: FromWorker, pages: Option<&[u8]>, early: Option<&JsValue>) {
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
    if let Some(early) = early {
        let _ = js_sys::Reflect::set(&obj, &"early".into(), early);
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

/// Runs the reader in this worker: takes the messages its loader kept,
/// answers every later one, and says it is ready.
pub fn start() {
    mark("w-start");
    install_panic_hook();
    let Some(scope) = scope() else { return };
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        on_message(&event);
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    // What came before the wasm started (kept by the loader in `www/index.html`).
    let early = js_sys::Reflect::get(&scope, &"neurosiftEarly".into()).ok();
    let events = early
        .as_ref()
        .and_then(|e| js_sys::Reflect::get(e, &"events".into()).ok())
        .and_then(|e| e.dyn_into::<js_sys::Array>().ok());
    if let (Some(early), Some(events)) = (early, events) {
        let _ = js_sys::Reflect::set(&early, &"events".into(), &js_sys::Array::new());
        for event in events.iter() {
            if let Ok(event) = event.dyn_into::<MessageEvent>() {
                on_message(&event);
            }
        }
    }
    post(FromWorker::Ready);
}

fn on_message(event: &MessageEvent) {
    let data = event.data();
    // `{earlyOpen: {…}}` from `www/index.html`: the probe's answers.
    if let Ok(early) = js_sys::Reflect::get(&data, &"earlyOpen".into())
        && early.is_object()
    {
        early_open(&early);
        return;
    }
    // `{msg: "<json>", file?: File, seed?: Uint8Array}`
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
}

/// The open `www/index.html` started for the page's link: its probe's
/// answers are checked as the app's probe checks them (`ns-app`'s
/// `net.rs`), the saved pages are used only when saved for this very
/// version (same size and ETag/Last-Modified; else they are deleted), then
/// the file opens as an [`OpenFile`] would, replied to as
/// [`EARLY_OPEN_ID`]. When the probe cannot decide (an error, a size the
/// server hides), the reply is that error with `early.retry`: the app then
/// probes and opens the file itself.
fn early_open(data: &JsValue) {
    match early_request(data) {
        Ok((source, seed, early)) => {
            STATE.with(|s| {
                let mut s = s.borrow_mut();
                s.early = Some(early);
                let msg = ToWorker::Request {
                    id: EARLY_OPEN_ID,
                    query: OpenFile { source }.into(),
                };
                s.queue.push_back((msg, None, seed));
            });
            schedule();
        }
        Err(error) => {
            let info = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&info, &"retry".into(), &JsValue::TRUE);
            post_with(
                FromWorker::Reply {
                    id: EARLY_OPEN_ID,
                    result: Err(error),
                    stats: IoStats::default(),
                },
                None,
                Some(&info),
            );
        }
    }
}

fn js_get(object: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(object, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn js_string(object: &JsValue, key: &str) -> Option<String> {
    js_get(object, key).and_then(|v| v.as_string())
}

/// Calls `self[name](args…)` (a function of the loader in `www/index.html`).
fn call_loader(name: &str, args: &js_sys::Array) {
    if let Some(f) =
        js_get(&js_sys::global(), name).and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    {
        let _ = f.apply(&JsValue::UNDEFINED, args);
    }
}

/// One checked probe answer (`{status, contentRange, contentLength, etag,
/// lastModified, body}` or `{error}`).
struct ProbeAnswer {
    expected: ns_io::Expected,
    body: Option<Vec<u8>>,
    validator: Option<String>,
}

fn probe_answer(
    url: &str,
    request: &RangeRequest,
    answer: Option<&JsValue>,
) -> Result<ProbeAnswer, WorkerError> {
    let answer =
        answer.ok_or_else(|| WorkerError::new(ErrorKind::Network, format!("{url}: no answer")))?;
    if let Some(error) = js_string(answer, "error") {
        return Err(WorkerError::new(
            ErrorKind::Network,
            format!("{url}: network error or blocked by CORS: {error}"),
        ));
    }
    let status = js_get(answer, "status")
        .and_then(|v| v.as_f64())
        .map(|v| v.to_string())
        .and_then(|v| v.parse::<u16>().ok())
        .unwrap_or(0);
    let content_range = js_string(answer, "contentRange");
    let head = ResponseHead {
        status,
        content_range: content_range.as_deref(),
        content_length: js_string(answer, "contentLength").and_then(|v| v.trim().parse().ok()),
        content_range_may_be_hidden: true,
    };
    let expected = check_range_response(url, request, &head, None).map_err(|e| io_error(&e))?;
    let body = js_get(answer, "body").map(|b| js_sys::Uint8Array::new(&b).to_vec());
    if let Some(body) = &body {
        expected
            .check_body(url, body.len() as u64)
            .map_err(|e| io_error(&e))?;
    }
    let validator = js_string(answer, "etag").or_else(|| js_string(answer, "lastModified"));
    Ok(ProbeAnswer {
        expected,
        body,
        validator,
    })
}

/// The open to make from the early probe: source, seed pages, and what the
/// reply tells the app.
fn early_request(data: &JsValue) -> Result<(FileSource, Option<Vec<u8>>, EarlyOpen), WorkerError> {
    let url = js_string(data, "url")
        .ok_or_else(|| WorkerError::new(ErrorKind::BadRequest, "the early open names no URL"))?;
    if ns_links::looks_like_zarr(&url) {
        return Err(WorkerError::new(
            ErrorKind::BadRequest,
            format!("{url}: a Zarr store is opened by key, not probed"),
        ));
    }
    let answers: Vec<JsValue> = js_get(data, "answers")
        .and_then(|a| a.dyn_into::<js_sys::Array>().ok())
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let probe = answers
        .iter()
        .filter(|a| js_get(a, "status").is_some())
        .map(|a| js_get(a, "body").map_or(0, |b| u64::from(js_sys::Uint8Array::new(&b).length())))
        .collect();
    // One byte when pages were saved, else both ends.
    let one_byte = answers.len() == 1;
    let head_request = RangeRequest::Span(0..if one_byte { 1 } else { PREFETCH_BYTES });
    let head = probe_answer(&url, &head_request, answers.first())?;
    // A hidden size (S3 without CORS exposure): the app asks `bytes=0-`.
    let size_bytes = head.expected.total_bytes.ok_or_else(|| {
        WorkerError::new(
            ErrorKind::Http,
            format!("{url}: the server hides the file size"),
        )
    })?;
    let validator = head.validator.clone();
    let mut ends = Vec::new();
    if !one_byte {
        if let Some(body) = head.body {
            ends.push((0, body));
        }
        // The tail is a bonus: an error there shows again in the reads.
        if let Ok(tail) = probe_answer(&url, &RangeRequest::Suffix(PREFETCH_BYTES), answers.get(1))
            && tail.expected.total_bytes == Some(size_bytes)
            && let Some(body) = tail.body
        {
            ends.push((tail.expected.range.start, body));
        }
    }
    // Saved pages only of this very version; never without a validator.
    let mut seed = None;
    if let Some(saved) = js_get(data, "saved") {
        let same = validator.is_some()
            && js_string(&saved, "validator") == validator
            && js_string(&saved, "size") == Some(size_bytes.to_string());
        if same {
            seed = js_get(&saved, "pages").map(|p| js_sys::Uint8Array::new(&p).to_vec());
        } else {
            call_loader(
                "neurosiftDropSaved",
                &js_sys::Array::of1(&url.as_str().into()),
            );
        }
    }
    let seed = seed.or_else(|| {
        (!ends.is_empty())
            .then(|| ns_protocol::encode_pages(ends.iter().map(|(o, b)| (*o, b.as_slice()))))
    });
    let source = FileSource::Url {
        url: url.clone(),
        size_bytes: Some(size_bytes),
        api_key: None,
    };
    Ok((
        source,
        seed,
        EarlyOpen {
            url,
            size_bytes,
            validator,
            probe,
        },
    ))
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
    if id == EARLY_OPEN_ID {
        // The loader's probe read this file too.
        STATE.with(|s| {
            let s = s.borrow();
            for &bytes in s.early.as_ref().map_or(&[][..], |e| e.probe.as_slice()) {
                s.counters.record(bytes);
            }
        });
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
    // The early open's reply says what its probe learned; its pages are
    // saved here (a copy made now, stored in the background).
    let early = (id == EARLY_OPEN_ID)
        .then(|| STATE.with(|s| s.borrow_mut().early.take()))
        .flatten()
        .map(|early| {
            let info = js_sys::Object::new();
            let set = |k: &str, v: &JsValue| {
                let _ = js_sys::Reflect::set(&info, &k.into(), v);
            };
            set("url", &early.url.as_str().into());
            #[expect(
                clippy::cast_precision_loss,
                reason = "file sizes are integers below 2^53"
            )]
            set("size", &JsValue::from_f64(early.size_bytes as f64));
            if let (Some(validator), Some(pages)) = (&early.validator, &pages) {
                set("validator", &validator.as_str().into());
                let args = js_sys::Array::of4(
                    &early.url.as_str().into(),
                    &early.size_bytes.to_string().into(),
                    &validator.as_str().into(),
                    &js_sys::Uint8Array::from(pages.as_slice()),
                );
                call_loader("neurosiftSavePages", &args);
                set("saved", &JsValue::TRUE);
            }
            JsValue::from(info)
        });
    post_with(
        FromWorker::Reply {
            id,
            result,
            stats: stats(&counters),
        },
        pages.as_deref(),
        early.as_ref(),
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
