//! The messages between the app (main thread) and the reader worker.
//!
//! Every message is a [`ToWorker`] or [`FromWorker`], encoded as JSON text by
//! [`encode`] and decoded by [`decode`], here and nowhere else. Requests
//! carry an id; the worker answers each with exactly one [`FromWorker::Reply`]
//! (or none, if it was cancelled before it started) and may send
//! [`FromWorker::Progress`] while it works.

use serde::{Deserialize, Serialize};

/// A request id, unique per app session.
pub type RequestId = u64;

/// Where a file comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileSource {
    /// A URL read with HTTP Range requests. `size_bytes` is used when the
    /// server does not expose the size to scripts (S3 exposes only ETag).
    Url {
        url: String,
        size_bytes: Option<u64>,
        /// Sent as `Authorization: token …` (embargoed DANDI data).
        api_key: Option<String>,
    },
    /// A local file the user picked or dropped; the worker reads slices of it.
    /// The `File` object itself travels next to the message (not JSON).
    Local { name: String, size_bytes: u64 },
}

/// What the app asks of the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Open a file (replacing any open one) and answer with its overview.
    Open { id: RequestId, source: FileSource },
    /// Attributes and metadata of one object.
    Object { id: RequestId, path: String },
    /// Values of a dataset: `selection` as in `neurosift cat --slice`.
    Values {
        id: RequestId,
        path: String,
        selection: String,
    },
    /// Forget a request: if it has not started, it never will.
    Cancel { id: RequestId },
}

impl ToWorker {
    pub fn id(&self) -> RequestId {
        match self {
            ToWorker::Open { id, .. }
            | ToWorker::Object { id, .. }
            | ToWorker::Values { id, .. }
            | ToWorker::Cancel { id } => *id,
        }
    }
}

/// What the worker sends back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's wasm has started; messages sent before this are lost.
    Ready,
    /// Bytes and requests so far, sent while a request runs.
    Progress { id: RequestId, stats: IoStats },
    Reply {
        id: RequestId,
        result: Result<Answer, WorkerError>,
        stats: IoStats,
    },
}

/// Requests made and bytes received by the worker for the open file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoStats {
    pub requests: u64,
    pub bytes: u64,
}

/// A failure, said so that a person can act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerError {
    pub kind: ErrorKind,
    /// One line naming the file or URL and the object.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    NotFound,
    /// The request was blocked (CORS) or the network failed.
    Network,
    /// The server does not answer Range requests with 206.
    NoRangeSupport,
    NotHdf5,
    /// Anything else from the server (status codes other than 404).
    Http,
    /// The file is damaged or uses something unsupported.
    Format,
    BadRequest,
    NoFileOpen,
}

/// Successful answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Answer {
    Opened(Overview),
    Object(ObjectInfo),
    Values(Values),
}

/// What the first screen shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Overview {
    pub location: String,
    pub size_bytes: u64,
    pub session: Vec<(String, String)>,
    pub objects: Vec<ObjectSummary>,
}

/// One row of the object tree.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectSummary {
    pub path: String,
    /// `group`, `dataset`, `soft_link`, `external_link`.
    pub kind: String,
    pub neurodata_type: Option<String>,
    pub description: Option<String>,
    /// For datasets: `int16 [30000 × 64]`.
    pub data_summary: Option<String>,
    /// For links: where they point.
    pub target: Option<String>,
}

/// Everything about one object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub path: String,
    pub kind: String,
    /// Attribute name and its value as JSON text.
    pub attrs: Vec<(String, String)>,
    pub shape: Option<Vec<u64>>,
    pub dtype: Option<String>,
    pub chunks: Option<Vec<u64>>,
    pub filters: Vec<String>,
}

/// Values of a selection, flattened row-major, as JSON text per value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Values {
    pub path: String,
    pub selection: String,
    pub shape: Vec<u64>,
    pub dtype: String,
    pub values: Vec<String>,
}

/// Pages of a file (offset, bytes) as one buffer: for each page its offset
/// (u64, little-endian), its length (u32) and its bytes. Travels next to
/// `Open` (cached metadata to start from) and its reply (pages to cache).
pub fn encode_pages<'a>(pages: impl IntoIterator<Item = (u64, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (offset, bytes) in pages {
        let Ok(len) = u32::try_from(bytes.len()) else {
            continue;
        };
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// Reads [`encode_pages`]'s format; `None` if it is damaged. Lengths are
/// checked against the bytes there (a length near `u32::MAX` must not wrap
/// on wasm32, where `usize` is 32 bits).
pub fn decode_pages(mut buf: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    let mut pages = Vec::new();
    while !buf.is_empty() {
        let offset = u64::from_le_bytes(buf.get(..8)?.try_into().ok()?);
        let len = usize::try_from(u32::from_le_bytes(buf.get(8..12)?.try_into().ok()?)).ok()?;
        let end = len.checked_add(12)?;
        let bytes = buf.get(12..end)?;
        pages.push((offset, bytes));
        buf = buf.get(end..)?;
    }
    Some(pages)
}

/// Encodes a message for `postMessage`.
pub fn encode<T: Serialize>(message: &T) -> String {
    serde_json::to_string(message).unwrap_or_else(|e| {
        // Our own types always serialize; keep the failure visible anyway.
        format!(r#"{{"type":"encode_error","message":{:?}}}"#, e.to_string())
    })
}

/// Decodes a message received from `postMessage`.
pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("bad message ({e}): {}", truncate(text, 200)))
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_trip_and_reject_damage() {
        let a = vec![1u8, 2, 3];
        let b = vec![9u8; 70_000];
        let buf = encode_pages([(0, a.as_slice()), (65_536, b.as_slice())]);
        let pages = decode_pages(&buf).expect("decodes");
        assert_eq!(pages, vec![(0, a.as_slice()), (65_536, b.as_slice())]);
        assert!(decode_pages(&buf[..buf.len() - 1]).is_none());
        assert_eq!(decode_pages(&[]), Some(Vec::new()));
    }

    #[test]
    fn pages_with_hostile_lengths() {
        // A page claiming u32::MAX bytes over a 13-byte buffer.
        let mut buf = 7u64.to_le_bytes().to_vec();
        buf.extend_from_slice(&u32::MAX.to_le_bytes());
        buf.push(1);
        assert!(decode_pages(&buf).is_none());
        // A header cut short.
        assert!(decode_pages(&buf[..10]).is_none());
    }

    #[test]
    fn round_trip() {
        let msgs = vec![
            ToWorker::Open {
                id: 1,
                source: FileSource::Url {
                    url: "http://x/f.nwb".into(),
                    size_bytes: Some(10),
                    api_key: None,
                },
            },
            ToWorker::Values {
                id: 2,
                path: "/a".into(),
                selection: "0:10".into(),
            },
            ToWorker::Cancel { id: 2 },
        ];
        for m in msgs {
            let back: ToWorker = decode(&encode(&m)).expect("decodes");
            assert_eq!(back, m);
        }
        let reply = FromWorker::Reply {
            id: 3,
            result: Err(WorkerError {
                kind: ErrorKind::NoRangeSupport,
                message: "x".into(),
            }),
            stats: IoStats::default(),
        };
        let back: FromWorker = decode(&encode(&reply)).expect("decodes");
        assert_eq!(back, reply);
        assert!(decode::<ToWorker>("{\"type\":\"nope\"}").is_err());
    }
}
