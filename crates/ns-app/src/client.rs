//! The app's side of the reader workers: a small pool, so that several
//! requests are in flight at once (each worker reads with synchronous XHR,
//! one request at a time). The first worker opens a file; the others open it
//! from the metadata pages the first one hands back, which costs them no
//! request. Replies are routed to the futures waiting for them; a future
//! dropped before its reply (a view that went away) cancels its request.
//! A worker that crashes (a panic it reports, or an error event) fails the
//! requests it held with a visible error and is replaced by a fresh one,
//! which reopens the current file from the saved metadata pages.

use std::cell::RefCell;
use std::collections::HashMap;

use futures_channel::oneshot;
use leptos::prelude::*;
use ns_protocol::{
    Answer, EARLY_OPEN_ID, ErrorKind, FileSource, FromWorker, IoStats, OpenFile, Overview, Query,
    Reply as _, Request, RequestId, ToWorker, WorkerError, decode, encode,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{File, MessageEvent, Worker};

/// Workers in the pool.
pub const POOL_SIZE: usize = 3;

type Reply = (Result<Answer, WorkerError>, Option<js_sys::Uint8Array>);

struct Slot {
    worker: Worker,
    /// Unique per worker ever started: events of a replaced worker are
    /// ignored.
    serial: u64,
    ready: bool,
    /// Messages sent before the worker said it was ready.
    backlog: Vec<JsValue>,
    in_flight: usize,
    /// Which open (generation) this worker has completed, if any.
    opened: Option<u64>,
    stats: IoStats,
}

/// What the current file was opened from, to reopen it in a replacement
/// worker.
#[derive(Clone)]
struct CurrentOpen {
    source: FileSource,
    file: Option<File>,
    pages: Option<js_sys::Uint8Array>,
}

/// The open the first worker started by itself for the page's link
/// (`www/index.html`), until the app claims it.
struct EarlyClaim {
    url: String,
    reply: oneshot::Receiver<Reply>,
}

struct Client {
    slots: Vec<Slot>,
    current: Option<CurrentOpen>,
    early: Option<EarlyClaim>,
    /// What the early open's reply said besides its answer (`early` of the
    /// message: size, validator, `retry`).
    early_info: Option<JsValue>,
    pending: HashMap<RequestId, (usize, oneshot::Sender<Reply>)>,
    next_id: RequestId,
    /// Incremented by every open; workers serve requests only for the current one.
    generation: u64,
    stats: RwSignal<IoStats>,
    busy: RwSignal<usize>,
    notice: RwSignal<Option<String>>,
}

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
    static NEXT_SERIAL: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// While `Some`, requests wait (each its sender here): the page shows
    /// an overview before the file is open (see [`hold_requests`]).
    static HELD: RefCell<Option<Vec<oneshot::Sender<()>>>> = const { RefCell::new(None) };
}

/// Requests about the file wait from now until [`release_requests`]: the
/// page drew a saved overview, and its views ask before the workers have
/// the file open (a worker answers a request that comes before its open
/// with "no file is open").
pub fn hold_requests() {
    HELD.with(|h| {
        h.borrow_mut().get_or_insert_with(Vec::new);
    });
}

/// The open that [`hold_requests`] waited for is done (or failed): the
/// waiting requests go.
pub fn release_requests() {
    for waiting in HELD.with(|h| h.borrow_mut().take()).unwrap_or_default() {
        let _ = waiting.send(());
    }
}

/// Waits while requests are held.
async fn unheld() {
    let wait = HELD.with(|h| {
        h.borrow_mut().as_mut().map(|waiting| {
            let (tx, rx) = oneshot::channel();
            waiting.push(tx);
            rx
        })
    });
    if let Some(rx) = wait {
        let _ = rx.await;
    }
}

/// I/O counters of the open file (all workers) and the number of requests
/// in flight, updated as the workers report progress.
#[derive(Clone, Copy)]
pub struct Activity {
    pub stats: RwSignal<IoStats>,
    pub busy: RwSignal<usize>,
    /// Something the user should know that no page shows (a reader crashed).
    pub notice: RwSignal<Option<String>>,
}

/// Starts the workers (once) and returns the activity signals.
pub fn start() -> Result<Activity, String> {
    if let Some(a) = CLIENT.with(|c| {
        c.borrow().as_ref().map(|c| Activity {
            stats: c.stats,
            busy: c.busy,
            notice: c.notice,
        })
    }) {
        return Ok(a);
    }
    let stats = RwSignal::new(IoStats::default());
    let busy = RwSignal::new(0usize);
    let notice = RwSignal::new(None);
    // The first worker only (possibly already started by index.html): the
    // others start once it has opened a file, so that their loading does
    // not compete with the first open.
    let (first, early_events, early_open) = match adopt_early_worker() {
        Some((worker, events, open)) => (slot_for(0, worker), events, open),
        None => (new_slot(0)?, Vec::new(), None),
    };
    let first_serial = first.serial;
    let slots = vec![first];
    // The early open's reply is routed like any other (a crash fails it).
    let mut pending = HashMap::new();
    let early = early_open.map(|url| {
        let (tx, rx) = oneshot::channel();
        pending.insert(EARLY_OPEN_ID, (0, tx));
        EarlyClaim { url, reply: rx }
    });
    CLIENT.with(|c| {
        *c.borrow_mut() = Some(Client {
            slots,
            current: None,
            early,
            early_info: None,
            pending,
            next_id: 1,
            generation: 0,
            stats,
            busy,
            notice,
        });
    });
    // What the early worker said before the app listened (its `Ready`).
    for event in &early_events {
        on_message(0, first_serial, event);
    }
    expose_crash_test();
    Ok(Activity {
        stats,
        busy,
        notice,
    })
}

/// The worker `index.html` started while the app loaded
/// (`window.neurosiftEarlyWorker`), with the messages it sent meanwhile and
/// the URL it was asked to open by itself, if any; taken once. `None` when
/// there is none or it failed to load.
fn adopt_early_worker() -> Option<(Worker, Vec<MessageEvent>, Option<String>)> {
    let window = web_sys::window()?;
    let key = JsValue::from_str("neurosiftEarlyWorker");
    let early = js_sys::Reflect::get(&window, &key).ok()?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    let worker = js_sys::Reflect::get(&early, &"worker".into())
        .ok()?
        .dyn_into::<Worker>()
        .ok()?;
    let failed = js_sys::Reflect::get(&early, &"failed".into())
        .ok()
        .is_some_and(|f| f.is_truthy());
    if failed {
        worker.terminate();
        return None;
    }
    let events = js_sys::Reflect::get(&early, &"events".into())
        .ok()
        .and_then(|e| e.dyn_into::<js_sys::Array>().ok())
        .map(|a| {
            a.iter()
                .filter_map(|e| e.dyn_into::<MessageEvent>().ok())
                .collect()
        })
        .unwrap_or_default();
    let open = js_sys::Reflect::get(&early, &"open".into())
        .ok()
        .and_then(|o| o.as_string());
    Some((worker, events, open))
}

/// Starts the workers of the pool that are not running yet.
fn fill_pool() {
    CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let Some(c) = c.as_mut() else { return };
        while c.slots.len() < POOL_SIZE {
            match new_slot(c.slots.len()) {
                Ok(slot) => c.slots.push(slot),
                Err(e) => {
                    leptos::logging::error!("{e}");
                    return;
                }
            }
        }
    });
}

/// Starts worker `index` with its message and error handlers, from the
/// workers' code `www/index.html` made (a Blob URL: `neurosiftWorkerUrl`),
/// which runs this page's own wasm (`ns-web`, the module posted to it) as
/// the reader.
fn new_slot(index: usize) -> Result<Slot, String> {
    let url = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"neurosiftWorkerUrl".into()).ok())
        .and_then(|u| u.as_string())
        .ok_or("cannot start the reader worker: index.html did not define it")?;
    // A module worker: its loader imports the page's bindings (an ES module).
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = Worker::new_with_options(&url, &options)
        .map_err(|e| format!("cannot start the reader worker: {e:?}"))?;
    // Its wasm: this page's compiled module, which its loader instantiates.
    let message = js_sys::Object::new();
    js_sys::Reflect::set(&message, &"neurosiftWasm".into(), &wasm_bindgen::module())
        .and_then(|_| worker.post_message(&message))
        .map_err(|e| format!("cannot start the reader worker: {e:?}"))?;
    Ok(slot_for(index, worker))
}

/// Worker `index` of the pool: `worker` with its message and error handlers.
fn slot_for(index: usize, worker: Worker) -> Slot {
    let serial = NEXT_SERIAL.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        on_message(index, serial, &event);
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    // An uncaught error in the worker (its wasm trapped after a panic, or
    // failed to load): the worker is unusable.
    let onerror =
        Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
            event.prevent_default();
            crashed(
                index,
                serial,
                format!("the file reader stopped: {}", event.message()),
            );
        });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    onerror.forget();
    Slot {
        worker,
        serial,
        ready: false,
        backlog: Vec::new(),
        in_flight: 0,
        opened: None,
        stats: IoStats::default(),
    }
}

/// Worker `index` died: every request it held fails with `message`, and a
/// new worker takes its place (reopening the current file, if any).
fn crashed(index: usize, serial: u64, message: String) {
    let reopen = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let c = c.as_mut()?;
        // A panic is reported twice (its message, then the trap's error
        // event): only the first one counts.
        if c.slots.get(index)?.serial != serial {
            return None;
        }
        leptos::logging::error!("worker {index}: {message}");
        let failed: Vec<RequestId> = c
            .pending
            .iter()
            .filter(|(_, (slot, _))| *slot == index)
            .map(|(id, _)| *id)
            .collect();
        for id in failed {
            if let Some((_, sender)) = c.pending.remove(&id) {
                let error = WorkerError::new(ErrorKind::Crashed, message.clone());
                let _ = sender.send((Err(error), None));
            }
        }
        c.notice.set(Some(format!(
            "A file reader crashed and was restarted ({message})"
        )));
        let slot = c.slots.get_mut(index)?;
        slot.worker.terminate();
        match new_slot(index) {
            Ok(fresh) => *slot = fresh,
            Err(e) => leptos::logging::error!("{e}"),
        }
        Some((c.current.clone()?, c.generation))
    });
    if let Some((current, generation)) = reopen {
        open_in_background(index, current, generation);
    }
}

/// Opens the file in worker `index` from pages another worker read (no
/// request to the server), and marks it open for `generation` once done.
fn open_in_background(index: usize, open: CurrentOpen, generation: u64) {
    wasm_bindgen_futures::spawn_local(async move {
        let CurrentOpen {
            source,
            file,
            pages,
        } = open;
        let opened = send(
            Target::Slot(index),
            move |id| ToWorker::Request {
                id,
                query: OpenFile { source }.into(),
            },
            file,
            pages,
        )
        .await;
        if opened.is_ok() {
            mark_opened(index, generation);
        }
    });
}

/// `window.neurosiftCrashWorker(index)`: makes worker `index` panic and
/// resolves with the error its pending request got. For the browser tests
/// of crash recovery (a panic cannot be provoked otherwise).
fn expose_crash_test() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let crash = Closure::<dyn FnMut(u32) -> js_sys::Promise>::new(|index: u32| {
        wasm_bindgen_futures::future_to_promise(async move {
            let index = usize::try_from(index).unwrap_or(usize::MAX);
            let result = send(Target::Slot(index), |id| ToWorker::Panic { id }, None, None).await;
            Ok(match result {
                Ok(_) => JsValue::from_str("no error"),
                Err(e) => JsValue::from_str(&format!("{:?}: {}", e.kind, e.message)),
            })
        })
    });
    let _ = js_sys::Reflect::set(&window, &"neurosiftCrashWorker".into(), crash.as_ref());
    crash.forget();
}

/// The numeric buffers that came beside a message (transferred `ArrayBuffer`s).
fn buffers_of(data: &JsValue) -> Vec<Vec<u8>> {
    js_sys::Reflect::get(data, &"bufs".into())
        .ok()
        .and_then(|b| b.dyn_into::<js_sys::Array>().ok())
        .map(|bufs| {
            bufs.iter()
                .map(|b| js_sys::Uint8Array::new(&b).to_vec())
                .collect()
        })
        .unwrap_or_default()
}

fn on_message(index: usize, serial: u64, event: &MessageEvent) {
    // `{msg: "<json>", bufs: [ArrayBuffer…], pages?: Uint8Array}`
    let data = event.data();
    let Some(text) = js_sys::Reflect::get(&data, &"msg".into())
        .ok()
        .and_then(|m| m.as_string())
    else {
        return;
    };
    let pages = js_sys::Reflect::get(&data, &"pages".into())
        .ok()
        .and_then(|p| p.dyn_into::<js_sys::Uint8Array>().ok());
    let message = match decode::<FromWorker>(&text, buffers_of(&data)) {
        Ok(FromWorker::Crashed { message }) => {
            crashed(index, serial, message);
            return;
        }
        Ok(m) => m,
        Err(e) => {
            leptos::logging::warn!("worker {index}: {e}");
            return;
        }
    };
    CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let Some(c) = c.as_mut() else { return };
        let Some(slot) = c.slots.get_mut(index).filter(|s| s.serial == serial) else {
            return;
        };
        match message {
            FromWorker::Ready => {
                slot.ready = true;
                for msg in slot.backlog.drain(..) {
                    let _ = slot.worker.post_message(&msg);
                }
            }
            FromWorker::Progress { stats, .. } => {
                slot.stats = stats;
                publish(c);
            }
            FromWorker::Reply { id, result, stats } => {
                slot.stats = stats;
                publish(c);
                if id == EARLY_OPEN_ID {
                    c.early_info = js_sys::Reflect::get(&data, &"early".into()).ok();
                }
                if let Some((_, sender)) = c.pending.remove(&id) {
                    let _ = sender.send((result, pages));
                }
            }
            FromWorker::Crashed { .. } => {}
        }
    });
}

fn publish(c: &Client) {
    let total = c.slots.iter().fold(IoStats::default(), |acc, s| IoStats {
        requests: acc.requests + s.stats.requests,
        bytes: acc.bytes + s.stats.bytes,
        memory_bytes: acc.memory_bytes + s.stats.memory_bytes,
    });
    c.stats.set(total);
}

fn post(slot: &mut Slot, msg: ToWorker, file: Option<&File>, seed: Option<&js_sys::Uint8Array>) {
    let obj = js_sys::Object::new();
    // Requests carry no numeric buffers: the text is the whole message.
    let _ = js_sys::Reflect::set(&obj, &"msg".into(), &encode(msg).text.into());
    if let Some(f) = file {
        let _ = js_sys::Reflect::set(&obj, &"file".into(), f);
    }
    if let Some(seed) = seed {
        let _ = js_sys::Reflect::set(&obj, &"seed".into(), seed);
    }
    let value: JsValue = obj.into();
    if slot.ready {
        let _ = slot.worker.post_message(&value);
    } else {
        slot.backlog.push(value);
    }
}

/// Which worker a request goes to.
#[derive(Clone, Copy)]
enum Target {
    /// This one.
    Slot(usize),
    /// The least busy of those that have the current file open.
    AnyOpen,
    /// Always the same one (of those with the file open) for the same key:
    /// requests that build on a worker's caches (a series' decimation
    /// pyramid) go where those caches are.
    Affinity(u64),
}

/// Cancels its request when dropped before the reply came.
struct Guard {
    id: RequestId,
    slot: usize,
    done: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        CLIENT.with(|c| {
            let mut c = c.borrow_mut();
            let Some(c) = c.as_mut() else { return };
            c.pending.remove(&self.id);
            c.busy.update(|b| *b = b.saturating_sub(1));
            if let Some(slot) = c.slots.get_mut(self.slot) {
                slot.in_flight = slot.in_flight.saturating_sub(1);
                if !self.done {
                    post(slot, ToWorker::Cancel { id: self.id }, None, None);
                }
            }
        });
    }
}

async fn send(
    target: Target,
    make: impl FnOnce(RequestId) -> ToWorker,
    file: Option<File>,
    seed: Option<js_sys::Uint8Array>,
) -> Result<(Answer, Option<js_sys::Uint8Array>), WorkerError> {
    let (tx, rx) = oneshot::channel();
    let routed = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let c = c.as_mut()?;
        let index = match target {
            Target::Slot(i) => i,
            Target::AnyOpen => {
                let generation = c.generation;
                c.slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.opened == Some(generation))
                    .min_by_key(|(_, s)| s.in_flight)
                    .map_or(0, |(i, _)| i)
            }
            Target::Affinity(key) => {
                let generation = c.generation;
                let open: Vec<usize> = c
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.opened == Some(generation))
                    .map(|(i, _)| i)
                    .collect();
                // Only once the whole pool has the file, so that a key
                // keeps its worker.
                if open.len() == POOL_SIZE.max(c.slots.len()) {
                    let n = u64::try_from(open.len()).unwrap_or(1).max(1);
                    usize::try_from(key % n)
                        .ok()
                        .and_then(|i| open.get(i).copied())
                        .unwrap_or(0)
                } else {
                    0
                }
            }
        };
        let id = c.next_id;
        c.next_id += 1;
        c.pending.insert(id, (index, tx));
        c.busy.update(|b| *b += 1);
        let slot = c.slots.get_mut(index)?;
        slot.in_flight += 1;
        post(slot, make(id), file.as_ref(), seed.as_ref());
        Some((id, index))
    });
    let Some((id, slot)) = routed else {
        return Err(WorkerError::new(
            ErrorKind::Crashed,
            "the reader worker is not running",
        ));
    };
    let mut guard = Guard {
        id,
        slot,
        done: false,
    };
    let reply = rx.await;
    guard.done = true;
    match reply {
        Ok((result, pages)) => result.map(|answer| (answer, pages)),
        Err(_) => Err(WorkerError::new(
            ErrorKind::Crashed,
            "the reader worker stopped",
        )),
    }
}

/// Sends a request about the open file to the least busy worker that has
/// it open, and waits for its reply (of the type the request names).
pub async fn request<R: Request>(request: R) -> Result<R::Reply, WorkerError> {
    request_to(Target::AnyOpen, request).await
}

/// Like [`request`], always to worker `index` (modulo the pool) once
/// the whole pool has the file open: for requests that build on that
/// worker's caches.
pub async fn request_on_worker<R: Request>(
    index: usize,
    request: R,
) -> Result<R::Reply, WorkerError> {
    request_to(Target::Affinity(index as u64), request).await
}

async fn request_to<R: Request>(target: Target, request: R) -> Result<R::Reply, WorkerError> {
    let query: Query = request.into();
    // A figure page answers from the figure; otherwise keep the answer for
    // "Share".
    let answer = match crate::share::frozen_answer(&query) {
        Some(frozen) => frozen?,
        None => {
            unheld().await;
            let asked = query.clone();
            let (answer, _) = send(
                target,
                move |id| ToWorker::Request { id, query },
                None,
                None,
            )
            .await?;
            crate::share::record(&asked, &answer);
            answer
        }
    };
    R::Reply::from_answer(answer).map_err(|other| {
        WorkerError::new(
            ErrorKind::Protocol,
            format!("the reader answered {other} to a different request"),
        )
    })
}

/// Opens a file: the first worker reads it (starting from `seed`, metadata
/// pages saved earlier, if any) and answers with the overview and the pages
/// it read; the other workers then open it from those pages in the
/// background. Returns the answer and the pages (for the metadata cache).
pub async fn open(
    source: FileSource,
    file: Option<File>,
    seed: Option<js_sys::Uint8Array>,
) -> Result<(Overview, Option<js_sys::Uint8Array>), WorkerError> {
    let Some(generation) = begin_open() else {
        return Err(WorkerError::new(
            ErrorKind::Crashed,
            "the reader worker is not running",
        ));
    };
    let first_source = source.clone();
    let (answer, pages) = send(
        Target::Slot(0),
        move |id| ToWorker::Request {
            id,
            query: OpenFile {
                source: first_source,
            }
            .into(),
        },
        file.clone(),
        seed,
    )
    .await?;
    let overview = Overview::from_answer(answer).map_err(|other| {
        WorkerError::new(
            ErrorKind::Protocol,
            format!("the reader answered {other} to an open"),
        )
    })?;
    finish_open(generation, source, file, pages.clone());
    Ok((overview, pages))
}

/// A new open: a new generation, no worker has it yet.
fn begin_open() -> Option<u64> {
    CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let c = c.as_mut()?;
        c.generation += 1;
        c.current = None;
        for slot in &mut c.slots {
            slot.opened = None;
            slot.stats = IoStats::default();
        }
        publish(c);
        Some(c.generation)
    })
}

/// The first worker has the file open: it serves requests, and the other
/// workers open it from its pages, started after the overview's first
/// paint (their wasm would compete with the rendering).
fn finish_open(
    generation: u64,
    source: FileSource,
    file: Option<File>,
    pages: Option<js_sys::Uint8Array>,
) {
    mark_opened(0, generation);
    let current = CurrentOpen {
        source,
        file,
        pages,
    };
    CLIENT.with(|c| {
        if let Some(c) = c.borrow_mut().as_mut()
            && c.generation == generation
        {
            c.current = Some(current.clone());
        }
    });
    request_animation_frame(move || {
        set_timeout(
            move || {
                let still = CLIENT.with(|c| {
                    c.borrow()
                        .as_ref()
                        .is_some_and(|c| c.generation == generation)
                });
                if still {
                    fill_pool();
                    for index in 1..POOL_SIZE {
                        open_in_background(index, current.clone(), generation);
                    }
                }
            },
            std::time::Duration::ZERO,
        );
    });
}

/// What the early open's probe learned.
pub struct EarlyOpened {
    pub overview: Overview,
    pub size_bytes: u64,
    /// ETag or Last-Modified.
    pub validator: Option<String>,
    /// The worker saved the pages (Cache Storage) for this version.
    pub saved: bool,
}

/// The open the first worker started by itself for `url` (the page's
/// link; see `www/index.html`): its overview, once the worker has
/// checked the probe and opened the file. `None` when there was none for
/// this URL, or when it could not decide (a probe error, a size the server
/// hides, a crash): the caller then probes and opens as usual.
pub async fn claim_early_open(url: &str) -> Option<Result<EarlyOpened, WorkerError>> {
    // The pool adopts the early worker when it starts (this may run first).
    start().ok()?;
    let claim = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let c = c.as_mut()?;
        if c.early.as_ref()?.url != url {
            // Not this file (nor ever again).
            c.early = None;
            return None;
        }
        c.early.take()
    })?;
    let generation = begin_open()?;
    let (result, pages) = claim.reply.await.ok()?;
    let info = CLIENT
        .with(|c| c.borrow_mut().as_mut().and_then(|c| c.early_info.take()))
        .unwrap_or(JsValue::UNDEFINED);
    let get = |key: &str| js_sys::Reflect::get(&info, &key.into()).ok();
    let answer = match result {
        Ok(answer) => answer,
        Err(e) if e.kind == ErrorKind::Crashed || get("retry").is_some_and(|r| r.is_truthy()) => {
            return None;
        }
        Err(e) => return Some(Err(e)),
    };
    let overview = match Overview::from_answer(answer) {
        Ok(overview) => overview,
        Err(other) => {
            return Some(Err(WorkerError::new(
                ErrorKind::Protocol,
                format!("the reader answered {other} to an open"),
            )));
        }
    };
    let size_bytes = overview.size_bytes;
    let source = FileSource::Url {
        url: url.to_string(),
        size_bytes: Some(size_bytes),
        api_key: None,
    };
    finish_open(generation, source, None, pages);
    Some(Ok(EarlyOpened {
        overview,
        size_bytes,
        validator: get("validator").and_then(|v| v.as_string()),
        saved: get("saved").is_some_and(|v| v.is_truthy()),
    }))
}

fn mark_opened(index: usize, generation: u64) {
    CLIENT.with(|c| {
        if let Some(c) = c.borrow_mut().as_mut()
            && c.generation == generation
            && let Some(slot) = c.slots.get_mut(index)
        {
            slot.opened = Some(generation);
        }
    });
}
