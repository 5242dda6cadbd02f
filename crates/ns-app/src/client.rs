//! The app's side of the reader workers: a small pool, so that several
//! requests are in flight at once (each worker reads with synchronous XHR,
//! one request at a time). The first worker opens a file; the others open it
//! from the metadata pages the first one hands back, which costs them no
//! request. Replies are routed to the futures waiting for them; a future
//! dropped before its reply (a view that went away) cancels its request.

use std::cell::RefCell;
use std::collections::HashMap;

use futures_channel::oneshot;
use leptos::prelude::*;
use ns_protocol::{
    Answer, ErrorKind, FileSource, FromWorker, IoStats, RequestId, ToWorker, WorkerError, decode,
    encode,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{File, MessageEvent, Worker};

/// Workers in the pool.
const POOL_SIZE: usize = 3;

type Reply = (Result<Answer, WorkerError>, Option<js_sys::Uint8Array>);

struct Slot {
    worker: Worker,
    ready: bool,
    /// Messages sent before the worker said it was ready.
    backlog: Vec<JsValue>,
    in_flight: usize,
    /// Which open (generation) this worker has completed, if any.
    opened: Option<u64>,
    stats: IoStats,
}

struct Client {
    slots: Vec<Slot>,
    pending: HashMap<RequestId, (usize, oneshot::Sender<Reply>)>,
    next_id: RequestId,
    /// Incremented by every open; workers serve requests only for the current one.
    generation: u64,
    stats: RwSignal<IoStats>,
    busy: RwSignal<usize>,
}

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
}

/// I/O counters of the open file (all workers) and the number of requests
/// in flight, updated as the workers report progress.
#[derive(Clone, Copy)]
pub struct Activity {
    pub stats: RwSignal<IoStats>,
    pub busy: RwSignal<usize>,
}

/// Starts the workers (once) and returns the activity signals.
pub fn start() -> Result<Activity, String> {
    if let Some(a) = CLIENT.with(|c| {
        c.borrow().as_ref().map(|c| Activity {
            stats: c.stats,
            busy: c.busy,
        })
    }) {
        return Ok(a);
    }
    let stats = RwSignal::new(IoStats::default());
    let busy = RwSignal::new(0usize);
    let mut slots = Vec::with_capacity(POOL_SIZE);
    for index in 0..POOL_SIZE {
        let worker = Worker::new("/worker_loader.js")
            .map_err(|e| format!("cannot start the reader worker: {e:?}"))?;
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            on_message(index, &event);
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
        slots.push(Slot {
            worker,
            ready: false,
            backlog: Vec::new(),
            in_flight: 0,
            opened: None,
            stats: IoStats::default(),
        });
    }
    CLIENT.with(|c| {
        *c.borrow_mut() = Some(Client {
            slots,
            pending: HashMap::new(),
            next_id: 1,
            generation: 0,
            stats,
            busy,
        });
    });
    Ok(Activity { stats, busy })
}

fn on_message(index: usize, event: &MessageEvent) {
    // `{msg: "<json>", pages?: Uint8Array}`
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
    let message = match decode::<FromWorker>(&text) {
        Ok(m) => m,
        Err(e) => {
            leptos::logging::warn!("worker {index}: {e}");
            return;
        }
    };
    CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let Some(c) = c.as_mut() else { return };
        let Some(slot) = c.slots.get_mut(index) else {
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
                if let Some((_, sender)) = c.pending.remove(&id) {
                    let _ = sender.send((result, pages));
                }
            }
        }
    });
}

fn publish(c: &Client) {
    let total = c.slots.iter().fold(IoStats::default(), |acc, s| IoStats {
        requests: acc.requests + s.stats.requests,
        bytes: acc.bytes + s.stats.bytes,
    });
    c.stats.set(total);
}

fn post(slot: &mut Slot, msg: &ToWorker, file: Option<&File>, seed: Option<&js_sys::Uint8Array>) {
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"msg".into(), &encode(msg).into());
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
                    post(slot, &ToWorker::Cancel { id: self.id }, None, None);
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
        };
        let id = c.next_id;
        c.next_id += 1;
        c.pending.insert(id, (index, tx));
        c.busy.update(|b| *b += 1);
        let slot = c.slots.get_mut(index)?;
        slot.in_flight += 1;
        post(slot, &make(id), file.as_ref(), seed.as_ref());
        Some((id, index))
    });
    let Some((id, slot)) = routed else {
        return Err(WorkerError {
            kind: ErrorKind::BadRequest,
            message: "the reader worker is not running".into(),
        });
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
        Err(_) => Err(WorkerError {
            kind: ErrorKind::BadRequest,
            message: "the reader worker stopped".into(),
        }),
    }
}

/// Sends a request about the open file to the least busy worker that has
/// it open, and waits for the answer.
pub async fn request(make: impl FnOnce(RequestId) -> ToWorker) -> Result<Answer, WorkerError> {
    send(Target::AnyOpen, make, None, None)
        .await
        .map(|(answer, _)| answer)
}

/// Opens a file: the first worker reads it (starting from `seed`, metadata
/// pages saved earlier, if any) and answers with the overview and the pages
/// it read; the other workers then open it from those pages in the
/// background. Returns the answer and the pages (for the metadata cache).
pub async fn open(
    source: FileSource,
    file: Option<File>,
    seed: Option<js_sys::Uint8Array>,
) -> Result<(Answer, Option<js_sys::Uint8Array>), WorkerError> {
    let generation = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let c = c.as_mut()?;
        c.generation += 1;
        for slot in &mut c.slots {
            slot.opened = None;
            slot.stats = IoStats::default();
        }
        publish(c);
        Some(c.generation)
    });
    let Some(generation) = generation else {
        return Err(WorkerError {
            kind: ErrorKind::BadRequest,
            message: "the reader worker is not running".into(),
        });
    };
    let first_source = source.clone();
    let (answer, pages) = send(
        Target::Slot(0),
        move |id| ToWorker::Open {
            id,
            source: first_source,
        },
        file.clone(),
        seed,
    )
    .await?;
    mark_opened(0, generation);
    for index in 1..POOL_SIZE {
        let (source, file, pages) = (source.clone(), file.clone(), pages.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let opened = send(
                Target::Slot(index),
                move |id| ToWorker::Open { id, source },
                file,
                pages,
            )
            .await;
            if opened.is_ok() {
                mark_opened(index, generation);
            }
        });
    }
    Ok((answer, pages))
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
