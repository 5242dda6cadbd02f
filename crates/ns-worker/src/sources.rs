//! Byte sources of the browser worker: HTTP Range requests with synchronous
//! XHR, and slices of a local `File` with `FileReaderSync`.
//!
//! Both keep no JavaScript object in the source itself (those are not
//! `Send`): an XHR is made per request, and the `File` lives in a
//! thread-local slot of the (single-threaded) worker.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use js_sys::{ArrayBuffer, Uint8Array};
use ns_io::{
    Bytes, Counters, Error, Expected, RangeRequest, ReadAt, ResponseHead, Result, check_range,
    check_range_response,
};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{File, FileReaderSync, XmlHttpRequest};

thread_local! {
    static LOCAL_FILE: RefCell<Option<File>> = const { RefCell::new(None) };
}

/// Called after every request, with the counters (progress reports).
pub type OnRequest = Arc<dyn Fn() + Send + Sync>;

fn js_message(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

/// A remote file read with synchronous Range XHRs (one at a time).
pub struct XhrSource {
    url: String,
    len: u64,
    api_key: Option<String>,
    counters: Arc<Counters>,
    on_request: OnRequest,
}

/// One answer to a Range request.
struct Answer {
    status: u16,
    bytes: Vec<u8>,
    content_range: Option<String>,
}

impl XhrSource {
    /// Opens `url`: one probe of the first `probe_bytes` tells whether the
    /// server honours Range, and the size (from `Content-Range` when the
    /// server exposes it, else `known_size`).
    pub fn open(
        url: &str,
        known_size: Option<u64>,
        api_key: Option<String>,
        probe_bytes: u64,
        counters: Arc<Counters>,
        on_request: OnRequest,
    ) -> Result<(Self, Bytes)> {
        let mut source = Self {
            url: url.to_string(),
            len: 0,
            api_key,
            counters,
            on_request,
        };
        let request = RangeRequest::Span(0..probe_bytes.max(1));
        let answer = source.get(&request.header_value())?;
        if answer.status == 206 && answer.content_range.is_none() && known_size.is_none() {
            return Err(Error::Http {
                url: url.to_string(),
                message: "the server does not expose the file size (Content-Range) to \
                          scripts; open the file from its DANDI page, which knows the size"
                    .into(),
            });
        }
        let (expected, head) = source.check(&request, known_size, answer)?;
        source.len = expected
            .total_bytes
            .or(known_size)
            .unwrap_or(expected.range.end);
        Ok((source, Bytes::from(head)))
    }

    /// A source whose size (and Range support) the app already learned.
    pub fn with_size(
        url: &str,
        len: u64,
        api_key: Option<String>,
        counters: Arc<Counters>,
        on_request: OnRequest,
    ) -> Self {
        Self {
            url: url.to_string(),
            len,
            api_key,
            counters,
            on_request,
        }
    }

    /// A source whose size cannot be learned (the server hides
    /// Content-Range): it reads exact ranges only, with no page cache
    /// (pages past the end could not be told apart). Used for the chunk
    /// references of a LINDI file, which name exact byte ranges.
    pub fn without_size(
        url: &str,
        api_key: Option<String>,
        counters: Arc<Counters>,
        on_request: OnRequest,
    ) -> Self {
        Self::with_size(url, u64::MAX, api_key, counters, on_request)
    }

    /// One Range request, checked.
    fn fetch(&self, request: &RangeRequest, known_len: Option<u64>) -> Result<(Expected, Vec<u8>)> {
        let answer = self.get(&request.header_value())?;
        self.check(request, known_len, answer)
    }

    /// Checks an answer with [`ns_io::check_range_response`]: the body
    /// returned holds exactly the range returned.
    fn check(
        &self,
        request: &RangeRequest,
        known_len: Option<u64>,
        answer: Answer,
    ) -> Result<(Expected, Vec<u8>)> {
        let got_bytes = answer.bytes.len() as u64;
        let head = ResponseHead {
            status: answer.status,
            content_range: answer.content_range.as_deref(),
            // A synchronous XHR has read the body already: its length
            // stands for Content-Length where that decides (a 200), and is
            // checked against the range otherwise.
            content_length: (answer.status == 200).then_some(got_bytes),
            content_range_may_be_hidden: true,
        };
        let expected = check_range_response(&self.url, request, &head, known_len)?;
        expected.check_body(&self.url, got_bytes)?;
        Ok((expected, answer.bytes))
    }

    fn get(&self, range: &str) -> Result<Answer> {
        let fail = |message: String| Error::Http {
            url: self.url.clone(),
            message,
        };
        let xhr = XmlHttpRequest::new().map_err(|e| fail(js_message(&e)))?;
        xhr.open_with_async("GET", &self.url, false)
            .map_err(|e| fail(js_message(&e)))?;
        xhr.set_request_header("Range", range)
            .map_err(|e| fail(js_message(&e)))?;
        if let Some(key) = &self.api_key {
            xhr.set_request_header("Authorization", &format!("token {key}"))
                .map_err(|e| fail(js_message(&e)))?;
        }
        // web-sys's setter cannot report failure: go through Reflect.
        js_sys::Reflect::set(&xhr, &"responseType".into(), &"arraybuffer".into())
            .map_err(|e| fail(js_message(&e)))?;
        let sent = xhr.send();
        let status = xhr.status().unwrap_or(0);
        if sent.is_err() || status == 0 {
            self.counters.record(0);
            (self.on_request)();
            return Err(fail(
                "the request failed: network error or blocked by CORS (the server must allow \
                 this origin and the Range header)"
                    .into(),
            ));
        }
        let body = xhr
            .response()
            .ok()
            .and_then(|r| r.dyn_into::<ArrayBuffer>().ok())
            .map(|b| Uint8Array::new(&b).to_vec())
            .unwrap_or_default();
        self.counters.record(body.len() as u64);
        (self.on_request)();
        Ok(Answer {
            status,
            bytes: body,
            content_range: xhr.get_response_header("Content-Range").ok().flatten(),
        })
    }
}

impl ReadAt for XhrSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        check_range(&range, self.len, &|| self.describe())?;
        let Some(request) = RangeRequest::span(range.clone()) else {
            return Ok(Bytes::new());
        };
        // `u64::MAX`: a source without a known size (see `without_size`).
        let known_len = (self.len != u64::MAX).then_some(self.len);
        let (expected, body) = self.fetch(&request, known_len)?;
        if expected.range != range {
            // Clipped by the end of the file: fewer bytes than asked.
            return Err(Error::Truncated {
                url: self.url.clone(),
                expected: range.end - range.start,
                got: body.len() as u64,
            });
        }
        Ok(Bytes::from(body))
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

/// The local file the user picked, read in slices.
pub struct LocalFileSource {
    name: String,
    len: u64,
    counters: Arc<Counters>,
}

impl LocalFileSource {
    /// Keeps `file` for the worker's later reads.
    pub fn open(file: File, counters: Arc<Counters>) -> Self {
        let name = file.name();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "file sizes are non-negative integers below 2^53"
        )]
        let len = file.size() as u64;
        LOCAL_FILE.with(|slot| *slot.borrow_mut() = Some(file));
        Self {
            name,
            len,
            counters,
        }
    }
}

impl ReadAt for LocalFileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        check_range(&range, self.len, &|| self.describe())?;
        let fail = |message: String| Error::Io {
            location: self.name.clone(),
            message,
        };
        let bytes = LOCAL_FILE.with(|slot| -> Result<Vec<u8>> {
            let slot = slot.borrow();
            let file = slot
                .as_ref()
                .ok_or_else(|| fail("the file is no longer open".into()))?;
            #[expect(clippy::cast_precision_loss, reason = "offsets below 2^53")]
            let blob = file
                .slice_with_f64_and_f64(range.start as f64, range.end as f64)
                .map_err(|e| fail(js_message(&e)))?;
            let reader = FileReaderSync::new().map_err(|e| fail(js_message(&e)))?;
            let buffer = reader
                .read_as_array_buffer(&blob)
                .map_err(|e| fail(js_message(&e)))?;
            Ok(Uint8Array::new(&buffer).to_vec())
        })?;
        self.counters.record(bytes.len() as u64);
        Ok(Bytes::from(bytes))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// A Zarr store at a URL: each key is a plain synchronous GET of
/// `<base>/<key>` (404: a key never written; any other failure is an
/// error). Credentials go only where [`ns_links::credentials_allowed`]
/// says, per key URL.
pub struct XhrKeys {
    /// Without a trailing `/` (nor query).
    base: String,
    /// The query of the given URL (a signature), appended to every key.
    query: String,
    api_key: Option<String>,
    /// The URL the user gave: credentials only to its origin.
    root: String,
    counters: Arc<Counters>,
    on_request: OnRequest,
}

impl XhrKeys {
    pub fn new(
        url: &str,
        api_key: Option<String>,
        counters: Arc<Counters>,
        on_request: OnRequest,
    ) -> Self {
        let (base, query) = match url.find('?') {
            Some(i) => (&url[..i], url[i..].to_string()),
            None => (url, String::new()),
        };
        Self {
            base: base.trim_end_matches('/').to_string(),
            query,
            api_key,
            root: url.to_string(),
            counters,
            on_request,
        }
    }
}

impl ns_io::ReadKey for XhrKeys {
    fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Bytes>> {
        if !ns_io::is_safe_key(key) {
            return Err(Error::Invalid {
                location: self.base.clone(),
                message: format!("key {key:?} is not a relative path inside the store"),
            });
        }
        let url = format!(
            "{}/{}{}",
            self.base,
            ns_links::encode_component(key),
            self.query
        );
        let fail = |message: String| Error::Http {
            url: url.clone(),
            message,
        };
        let xhr = XmlHttpRequest::new().map_err(|e| fail(js_message(&e)))?;
        xhr.open_with_async("GET", &url, false)
            .map_err(|e| fail(js_message(&e)))?;
        if let Some(key) = self
            .api_key
            .as_ref()
            .filter(|_| ns_links::credentials_allowed(&url, &[self.root.as_str()]))
        {
            xhr.set_request_header("Authorization", &format!("token {key}"))
                .map_err(|e| fail(js_message(&e)))?;
        }
        js_sys::Reflect::set(&xhr, &"responseType".into(), &"arraybuffer".into())
            .map_err(|e| fail(js_message(&e)))?;
        let sent = xhr.send();
        let status = xhr.status().unwrap_or(0);
        (self.on_request)();
        if sent.is_err() || status == 0 {
            self.counters.record(0);
            return Err(fail(
                "the request failed: network error or blocked by CORS (the server must allow \
                 this origin)"
                    .into(),
            ));
        }
        if status == 404 {
            self.counters.record(0);
            return Ok(None);
        }
        if status != 200 {
            self.counters.record(0);
            return Err(Error::HttpStatus { url, status });
        }
        let body = xhr
            .response()
            .ok()
            .and_then(|r| r.dyn_into::<ArrayBuffer>().ok())
            .map(|b| Uint8Array::new(&b).to_vec())
            .unwrap_or_default();
        self.counters.record(body.len() as u64);
        if body.len() as u64 > max_bytes {
            return Err(ns_io::too_large(&url, body.len() as u64, max_bytes));
        }
        Ok(Some(Bytes::from(body)))
    }

    fn describe(&self) -> String {
        self.base.clone()
    }
}
