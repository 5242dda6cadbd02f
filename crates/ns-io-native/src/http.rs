use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ns_io::{
    Bytes, Counters, Error, RangeRequest, ReadAt, ResponseHead, Result, check_range,
    check_range_response,
};
use parking_lot_free::Slots;

/// Settings of the HTTP backend.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Most requests in flight at once for one `read_ranges` call.
    pub max_concurrency: usize,
    /// Retries of a request that failed in a way that may pass (5xx, reset).
    pub retries: u32,
    /// Credentials (e.g. `Authorization`), sent only with requests to URLs
    /// that [`ns_links::credentials_allowed`] accepts for
    /// `credential_roots`: checked for every request and every redirect
    /// hop, so they never follow a redirect to another host.
    pub headers: Vec<(String, String)>,
    /// The URLs whose origins (scheme, host, port) may get `headers`.
    /// Empty: `headers` are sent nowhere.
    pub credential_roots: Vec<String>,
    /// Time limit of one request, connect to last byte.
    pub timeout: Duration,
    /// Print every request on stderr (`NEUROSIFT_LOG_REQUESTS=1`).
    pub log_requests: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            max_concurrency: 16,
            retries: 2,
            headers: Vec::new(),
            credential_roots: Vec::new(),
            timeout: Duration::from_secs(120),
            log_requests: std::env::var_os("NEUROSIFT_LOG_REQUESTS").is_some_and(|v| v != "0"),
        }
    }
}

/// Redirects followed at most, per request.
const MAX_REDIRECTS: u32 = 10;

/// One GET of `url` (with a `Range` header when given), following
/// redirects here, one hop at a time, so that the credentials in `options`
/// go only where [`ns_links::credentials_allowed`] says, for every hop.
/// Returns the first answer that is not a redirect and the URL that gave it;
/// an error is its message.
pub(crate) fn get_following(
    agent: &ureq::Agent,
    options: &HttpOptions,
    url: &str,
    range: Option<&str>,
) -> std::result::Result<(ureq::http::Response<ureq::Body>, String), String> {
    let mut at = url.to_string();
    let mut hops = 0;
    loop {
        let send_credentials = ns_links::credentials_allowed(&at, &options.credential_roots);
        if options.log_requests {
            let with = if send_credentials && !options.headers.is_empty() {
                " (with credentials)"
            } else {
                ""
            };
            let range = range.map(|r| format!(" Range: {r}")).unwrap_or_default();
            eprintln!("neurosift: GET {at}{range}{with}");
        }
        let mut req = agent.get(&at);
        if let Some(range) = range {
            req = req.header("Range", range);
        }
        if send_credentials {
            for (name, value) in &options.headers {
                req = req.header(name, value);
            }
        }
        let resp = req.call().map_err(|e| format!("request failed: {e}"))?;
        if !resp.status().is_redirection() {
            return Ok((resp, at));
        }
        let next = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(|location| url::Url::parse(&at).ok()?.join(location).ok())
            .filter(|next| matches!(next.scheme(), "http" | "https"));
        hops += 1;
        match next {
            Some(next) if hops <= MAX_REDIRECTS => at = next.into(),
            Some(_) => return Err(format!("more than {MAX_REDIRECTS} redirects")),
            None => {
                return Err(format!(
                    "HTTP {} redirect without a usable http(s) Location",
                    resp.status().as_u16()
                ));
            }
        }
    }
}

/// A remote file read with HTTP Range requests.
///
/// Redirects (such as DANDI's 302 to S3) are resolved once, when the source
/// is opened; later requests go straight to the final URL. They are
/// followed here, not by ureq, so that credentials are decided for each hop
/// (see [`HttpOptions::headers`]). A server that
/// answers 200 to a Range request is refused before its body is read, so a
/// multi-gigabyte file is never pulled whole.
pub struct HttpSource {
    agent: ureq::Agent,
    /// The URL as given, for messages.
    url: String,
    /// Where requests go (after redirects).
    resolved: String,
    len: u64,
    counters: Arc<Counters>,
    options: HttpOptions,
}

/// What one answer to a Range request held.
struct Part {
    bytes: Bytes,
    total_bytes: Option<u64>,
    start: u64,
    final_url: String,
}

/// A URL a request can go to. A host name outside ASCII is refused with
/// what to give instead: the url crate is built without IDNA tables (see
/// ns-links), and HTTP carries only the ASCII (`xn--`) form anyway.
pub(crate) fn check_url(url: &str) -> Result<()> {
    match url::Url::parse(url) {
        Ok(_) => Ok(()),
        Err(url::ParseError::IdnaError) => Err(Error::Invalid {
            location: url.to_string(),
            message: "the host name is not ASCII: give it in its ASCII form (xn--…, \
                      as a browser's address bar copies it)"
                .to_string(),
        }),
        Err(e) => Err(Error::Invalid {
            location: url.to_string(),
            message: format!("not a URL: {e}"),
        }),
    }
}

impl HttpSource {
    /// Opens `url`: fetches `prefetch_bytes` from the head and from the tail of
    /// the file at once (which also tells the size and follows redirects), and
    /// returns those bytes so that a cache can keep them.
    pub fn open(
        url: &str,
        prefetch_bytes: u64,
        options: HttpOptions,
        counters: Arc<Counters>,
    ) -> Result<(Self, crate::Seeds)> {
        check_url(url)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Followed by `request_once`, which decides credentials per hop.
            .max_redirects(0)
            .timeout_global(Some(options.timeout))
            .user_agent("neurosift")
            .build()
            .into();
        let mut source = Self {
            agent,
            url: url.to_string(),
            resolved: url.to_string(),
            len: 0,
            counters,
            options,
        };
        let probe = prefetch_bytes.max(1);
        let (head, tail) = std::thread::scope(|s| {
            let tail = s.spawn(|| source.request(&RangeRequest::Suffix(probe), None));
            let head = source.request(&RangeRequest::Span(0..probe), None);
            (head, tail.join())
        });
        let head = head?;
        let Some(total) = head.total_bytes else {
            return Err(Error::BadContentRange {
                url: url.to_string(),
                value: None,
            });
        };
        source.len = total;
        source.resolved = head.final_url.clone();
        let mut seeds = vec![(head.start, head.bytes)];
        if let Ok(Ok(tail)) = tail
            && tail.total_bytes == Some(total)
        {
            seeds.push((tail.start, tail.bytes));
        }
        Ok((source, seeds))
    }

    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// One GET with a `Range` header, retried when the failure may pass.
    /// `known_len` is the file's length once known.
    fn request(&self, request: &RangeRequest, known_len: Option<u64>) -> Result<Part> {
        let mut attempt = 0;
        loop {
            match self.request_once(request, known_len) {
                Err(err) if err.is_transient() && attempt < self.options.retries => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100 * (1 << attempt)));
                }
                other => return other,
            }
        }
    }

    /// One GET, checked by [`ns_io::check_range_response`] before its body
    /// is read (a 200 answer is refused unread) and after. Redirects are
    /// followed here, one hop at a time, so that credentials go only to the
    /// hosts allowed to have them.
    fn request_once(&self, request: &RangeRequest, known_len: Option<u64>) -> Result<Part> {
        let range_header = request.header_value();
        let http_err = |message: String| Error::Http {
            url: self.url.clone(),
            message,
        };
        let (mut resp, url) = get_following(
            &self.agent,
            &self.options,
            &self.resolved,
            Some(&range_header),
        )
        .map_err(|message| {
            self.counters.record(0);
            http_err(message)
        })?;
        let final_url = url;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_range = header("content-range");
        let content_length = match header("content-length") {
            Some(value) => Some(value.trim().parse::<u64>().map_err(|_| {
                self.counters.record(0);
                http_err(format!("unreadable Content-Length {value:?}"))
            })?),
            None => None,
        };
        let head = ResponseHead {
            status: resp.status().as_u16(),
            content_range: content_range.as_deref(),
            content_length,
            content_range_may_be_hidden: false,
        };
        let expected =
            check_range_response(&self.url, request, &head, known_len).inspect_err(|_| {
                self.counters.record(0);
            })?;
        let want = expected.body_bytes();
        let body = if want == 0 {
            Vec::new()
        } else {
            // One byte more than expected, to tell an overlong body.
            let read = resp
                .body_mut()
                .with_config()
                .limit(want.saturating_add(1))
                .read_to_vec();
            match read {
                Ok(body) => body,
                Err(e) => {
                    self.counters.record(0);
                    return Err(match e {
                        ureq::Error::Io(e) => http_err(format!(
                            "response truncated: connection closed while reading the body ({e})"
                        )),
                        ureq::Error::BodyExceedsLimit(_) => Error::Overlong {
                            url: self.url.clone(),
                            expected: want,
                            got: want.saturating_add(1),
                        },
                        other => http_err(format!("reading body: {other}")),
                    });
                }
            }
        };
        self.counters.record(body.len() as u64);
        expected.check_body(&self.url, body.len() as u64)?;
        Ok(Part {
            bytes: Bytes::from(body),
            total_bytes: expected.total_bytes,
            start: expected.range.start,
            final_url,
        })
    }
}

impl ReadAt for HttpSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        check_range(&range, self.len, &|| self.describe())?;
        let Some(request) = RangeRequest::span(range) else {
            return Ok(Bytes::new());
        };
        Ok(self.request(&request, Some(self.len))?.bytes)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        if ranges.len() <= 1 {
            return ranges.iter().map(|r| self.read_range(r.clone())).collect();
        }
        let slots = Slots::new(ranges.len());
        let next = AtomicUsize::new(0);
        let workers = self.options.max_concurrency.clamp(1, ranges.len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(range) = ranges.get(i) else { break };
                        let result = self.read_range(range.clone());
                        let failed = result.is_err();
                        slots.put(i, result);
                        if failed {
                            // Stop handing out work; the error is returned below.
                            next.store(ranges.len(), Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        slots.into_results()
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

/// Results written by worker threads, one slot per input.
mod parking_lot_free {
    use std::sync::Mutex;

    use ns_io::{Bytes, Error, Result};

    pub struct Slots(Mutex<Vec<Option<Result<Bytes>>>>);

    impl Slots {
        pub fn new(n: usize) -> Self {
            Self(Mutex::new((0..n).map(|_| None).collect()))
        }

        pub fn put(&self, i: usize, value: Result<Bytes>) {
            let mut guard = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(slot) = guard.get_mut(i) {
                *slot = Some(value);
            }
        }

        pub fn into_results(self) -> Result<Vec<Bytes>> {
            let slots = self
                .0
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut out = Vec::with_capacity(slots.len());
            let mut first_err: Option<Error> = None;
            for slot in slots {
                match slot {
                    Some(Ok(bytes)) => out.push(bytes),
                    Some(Err(e)) => {
                        first_err.get_or_insert(e);
                    }
                    None => {}
                }
            }
            match first_err {
                Some(e) => Err(e),
                None => Ok(out),
            }
        }
    }
}
