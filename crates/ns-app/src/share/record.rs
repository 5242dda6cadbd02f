//! What the views were last answered, so "Share" can freeze what is on
//! screen, and the frozen answers a figure page serves instead of a worker.
//!
//! Every answer is kept under its request's *slot*: the request without the
//! fields that move with the view (the time window, the pixel budget, the
//! page of rows or units, the frame). A view that pans replaces its slot's
//! answer, so a slot holds what the view shows now. Bounded by bytes.

use std::cell::RefCell;
use std::collections::VecDeque;

use ns_figures::Recorded;
use ns_protocol::{Answer, ErrorKind, Query, WorkerError};

/// Bytes of answers kept (numeric payloads counted).
const MAX_BYTES: usize = 96 << 20;

thread_local! {
    static LOG: RefCell<VecDeque<(String, Query, Answer, usize)>> = const { RefCell::new(VecDeque::new()) };
    static FROZEN: RefCell<Option<Vec<(Query, Answer)>>> = const { RefCell::new(None) };
}

/// The fields of each request kind that move with the view.
fn moving(kind: &str) -> &'static [&'static str] {
    match kind {
        "Window" => &["start_secs", "end_secs", "max_buckets"],
        "Events" => &["start_secs", "end_secs", "max_events"],
        "Samples" => &["start_secs", "end_secs", "max_points"],
        "Raster" => &["start_secs", "end_secs", "bins", "units", "max_spikes"],
        "Table" => &["rows"],
        "Frame" => &["at", "count", "max_size"],
        "Projection" => &["frames", "max_size"],
        _ => &[],
    }
}

fn slot(query: &Query) -> String {
    let mut v = serde_json::to_value(query).unwrap_or_default();
    if let Some(map) = v.as_object_mut() {
        for f in moving(query.kind()) {
            map.remove(*f);
        }
    }
    v.to_string()
}

fn size_of(answer: &Answer) -> usize {
    let mut a = answer.clone();
    a.take_arrays().iter().map(|(_, b)| b.len()).sum::<usize>() + 256
}

/// Keeps an answer (not while a frozen figure is shown).
pub fn record(query: &Query, answer: &Answer) {
    if FROZEN.with(|f| f.borrow().is_some()) || matches!(query, Query::Open(_)) {
        return;
    }
    let key = slot(query);
    let size = size_of(answer);
    LOG.with(|log| {
        let mut log = log.borrow_mut();
        log.retain(|(k, ..)| *k != key);
        log.push_back((key, query.clone(), answer.clone(), size));
        let mut total: usize = log.iter().map(|e| e.3).sum();
        while total > MAX_BYTES && log.len() > 1 {
            if let Some(old) = log.pop_front() {
                total -= old.3;
            }
        }
    });
}

/// Forgets every answer (a new file is open).
pub fn clear() {
    LOG.with(|log| log.borrow_mut().clear());
}

/// Whether the request names one of `paths` (as its object, units, trials…).
fn mentions(query: &Query, paths: &[String]) -> bool {
    fn walk(v: &serde_json::Value, paths: &[String]) -> bool {
        match v {
            serde_json::Value::String(s) => paths.iter().any(|p| p == s),
            serde_json::Value::Array(a) => a.iter().any(|x| walk(x, paths)),
            serde_json::Value::Object(m) => m.values().any(|x| walk(x, paths)),
            _ => false,
        }
    }
    walk(&serde_json::to_value(query).unwrap_or_default(), paths)
}

/// The current answers about these objects, oldest first.
pub fn current_for(paths: &[String]) -> Vec<Recorded> {
    LOG.with(|log| {
        log.borrow()
            .iter()
            .filter(|(_, q, ..)| mentions(q, paths))
            .map(|(_, q, a, _)| Recorded {
                query: q.clone(),
                answer: a.clone(),
            })
            .collect()
    })
}

/// From now on, requests are answered from these (a figure page).
pub fn freeze(answers: Vec<Recorded>) {
    FROZEN.with(|f| {
        f.borrow_mut()
            .get_or_insert_with(Vec::new)
            .extend(answers.into_iter().map(|r| (r.query, r.answer)));
    });
}

/// A raster request without what does not change a raster answer of
/// spike times (its bins only shape per-bin counts).
fn equivalent(query: &Query) -> Query {
    match query {
        Query::Raster(r) => Query::Raster(ns_protocol::GetRaster {
            bins: 0,
            ..r.clone()
        }),
        other => other.clone(),
    }
}

fn equivalent_answer(answer: &Answer) -> bool {
    matches!(answer, Answer::Raster(r) if r.times.is_some() && r.binned.is_none())
}

/// The frozen answer to a request: `None` when no figure is frozen (ask a
/// worker); an error when the figure does not hold it. Only an identical
/// request gets an answer: an answer to another window or size could show
/// wrong values (a rate over the wrong duration, counts in the wrong bins).
pub fn frozen_answer(query: &Query) -> Option<Result<Answer, WorkerError>> {
    FROZEN.with(|f| {
        let f = f.borrow();
        let answers = f.as_ref()?;
        let want = equivalent(query);
        Some(
            answers
                .iter()
                .rev()
                .find(|(q, a)| q == query || (equivalent_answer(a) && equivalent(q) == want))
                .map(|(_, a)| a.clone())
                .ok_or_else(|| {
                    WorkerError::new(
                        ErrorKind::NotFound,
                        format!(
                            "This figure is frozen: it holds the data that was on screen when it was shared, not this ({}). Open the source file for everything else.",
                            query.kind()
                        ),
                    )
                }),
        )
    })
}
