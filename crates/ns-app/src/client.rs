//! The app's side of the worker: sends typed requests, routes replies to
//! the futures waiting for them, cancels requests whose future was dropped
//! (a view that went away), and publishes I/O progress.

use std::cell::RefCell;
use std::collections::HashMap;

use futures_channel::oneshot;
use leptos::prelude::*;
use ns_protocol::{
    Answer, ErrorKind, FromWorker, IoStats, RequestId, ToWorker, WorkerError, decode, encode,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{File, MessageEvent, Worker};

type Reply = (Result<Answer, WorkerError>, Option<js_sys::Uint8Array>);

struct Client {
    worker: Worker,
    ready: bool,
    /// Messages sent before the worker said it was ready.
    backlog: Vec<JsValue>,
    pending: HashMap<RequestId, oneshot::Sender<Reply>>,
    next_id: RequestId,
    stats: RwSignal<IoStats>,
    busy: RwSignal<usize>,
}

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
}

/// I/O counters of the open file and the number of requests in flight,
/// updated as the worker reports progress.
#[derive(Clone, Copy)]
pub struct Activity {
    pub stats: RwSignal<IoStats>,
    pub busy: RwSignal<usize>,
}

/// Starts the worker (once) and returns the activity signals.
pub fn start() -> Result<Activity, String> {
    if let Some(a) = CLIENT.with(|c| {
        c.borrow().as_ref().map(|c| Activity {
            stats: c.stats,
            busy: c.busy,
        })
    }) {
        return Ok(a);
    }
    let worker = Worker::new("/worker_loader.js")
        .map_err(|e| format!("cannot start the reader worker: {e:?}"))?;
    let stats = RwSignal::new(IoStats::default());
    let busy = RwSignal::new(0usize);
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
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
        match decode::<FromWorker>(&text) {
            Ok(FromWorker::Ready) => CLIENT.with(|c| {
                if let Some(c) = c.borrow_mut().as_mut() {
                    c.ready = true;
                    for msg in c.backlog.drain(..) {
                        let _ = c.worker.post_message(&msg);
                    }
                }
            }),
            Ok(FromWorker::Progress { stats: s, .. }) => stats.set(s),
            Ok(FromWorker::Reply {
                id,
                result,
                stats: s,
            }) => {
                stats.set(s);
                let sender =
                    CLIENT.with(|c| c.borrow_mut().as_mut().and_then(|c| c.pending.remove(&id)));
                if let Some(sender) = sender {
                    let _ = sender.send((result, pages));
                }
            }
            Err(e) => leptos::logging::warn!("worker: {e}"),
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    CLIENT.with(|c| {
        *c.borrow_mut() = Some(Client {
            worker,
            ready: false,
            backlog: Vec::new(),
            pending: HashMap::new(),
            next_id: 1,
            stats,
            busy,
        });
    });
    Ok(Activity { stats, busy })
}

fn send(msg: &ToWorker, file: Option<&File>, seed: Option<&js_sys::Uint8Array>) {
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"msg".into(), &encode(msg).into());
    if let Some(f) = file {
        let _ = js_sys::Reflect::set(&obj, &"file".into(), f);
    }
    if let Some(seed) = seed {
        let _ = js_sys::Reflect::set(&obj, &"seed".into(), seed);
    }
    let value: JsValue = obj.into();
    CLIENT.with(|c| {
        if let Some(c) = c.borrow_mut().as_mut() {
            if c.ready {
                let _ = c.worker.post_message(&value);
            } else {
                c.backlog.push(value);
            }
        }
    });
}

/// Cancels its request when dropped before the reply came.
struct Guard {
    id: RequestId,
    done: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        CLIENT.with(|c| {
            if let Some(c) = c.borrow_mut().as_mut() {
                c.pending.remove(&self.id);
                c.busy.update(|b| *b = b.saturating_sub(1));
            }
        });
        if !self.done {
            send(&ToWorker::Cancel { id: self.id }, None, None);
        }
    }
}

/// Sends a request built from a fresh id and waits for its answer.
pub async fn request(
    make: impl FnOnce(RequestId) -> ToWorker,
    file: Option<File>,
) -> Result<Answer, WorkerError> {
    request_with(make, file, None)
        .await
        .map(|(answer, _)| answer)
}

/// [`request`] with cached pages sent along (`seed`), returning the pages the
/// worker sends back with its answer (after an open: the file's metadata).
pub async fn request_with(
    make: impl FnOnce(RequestId) -> ToWorker,
    file: Option<File>,
    seed: Option<js_sys::Uint8Array>,
) -> Result<(Answer, Option<js_sys::Uint8Array>), WorkerError> {
    let (tx, rx) = oneshot::channel();
    let id = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        let c = c.as_mut()?;
        let id = c.next_id;
        c.next_id += 1;
        c.pending.insert(id, tx);
        c.busy.update(|b| *b += 1);
        Some(id)
    });
    let Some(id) = id else {
        return Err(WorkerError {
            kind: ErrorKind::BadRequest,
            message: "the reader worker is not running".into(),
        });
    };
    let mut guard = Guard { id, done: false };
    send(&make(id), file.as_ref(), seed.as_ref());
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
