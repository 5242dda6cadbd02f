use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ns_io::{Bytes, Counters, Error, ReadAt, Result, check_range};
use parking_lot_free::Slots;
use ureq::ResponseExt;

/// Settings of the HTTP backend.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Most requests in flight at once for one `read_ranges` call.
    pub max_concurrency: usize,
    /// Retries of a request that failed in a way that may pass (5xx, reset).
    pub retries: u32,
    /// Extra headers sent with every request (e.g. `Authorization`).
    pub headers: Vec<(String, String)>,
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
            timeout: Duration::from_secs(120),
            log_requests: std::env::var_os("NEUROSIFT_LOG_REQUESTS").is_some_and(|v| v != "0"),
        }
    }
}

/// A remote file read with HTTP Range requests.
///
/// Redirects (such as DANDI's 302 to S3) are resolved once, when the source
/// is opened; later requests go straight to the final URL. A server that
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
    total: u64,
    start: u64,
    final_url: String,
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
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(10)
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
            let tail = s.spawn(|| source.request(&format!("bytes=-{probe}"), None));
            let head = source.request(&format!("bytes=0-{}", probe - 1), None);
            (head, tail.join())
        });
        let head = head?;
        source.len = head.total;
        source.resolved = head.final_url.clone();
        let mut seeds = vec![(head.start, head.bytes)];
        if let Ok(Ok(tail)) = tail
            && tail.total == head.total
        {
            seeds.push((tail.start, tail.bytes));
        }
        Ok((source, seeds))
    }

    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// One GET with a `Range` header, retried when the failure may pass.
    /// `expect` is the exact byte range asked for, when known.
    fn request(&self, range_header: &str, expect: Option<&Range<u64>>) -> Result<Part> {
        let mut attempt = 0;
        loop {
            match self.request_once(range_header, expect) {
                Err(err) if err.is_transient() && attempt < self.options.retries => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100 * (1 << attempt)));
                }
                other => return other,
            }
        }
    }

    fn request_once(&self, range_header: &str, expect: Option<&Range<u64>>) -> Result<Part> {
        let url = &self.resolved;
        if self.options.log_requests {
            eprintln!("neurosift: GET {url} Range: {range_header}");
        }
        let mut req = self.agent.get(url).header("Range", range_header);
        for (name, value) in &self.options.headers {
            req = req.header(name, value);
        }
        let http_err = |message: String| Error::Http {
            url: self.url.clone(),
            message,
        };
        let mut resp = req.call().map_err(|e| {
            self.counters.record(0);
            http_err(format!("request failed: {e}"))
        })?;
        let status = resp.status().as_u16();
        let final_url = resp.get_uri().to_string();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_range = header("content-range");
        let content_length = header("content-length").and_then(|v| v.parse::<u64>().ok());
        let (start, end_inclusive, total) = match status {
            206 => {
                let Some(cr) = content_range.as_deref() else {
                    self.counters.record(0);
                    return Err(http_err("206 answer without a Content-Range header".into()));
                };
                let Some(parsed) = parse_content_range(cr) else {
                    self.counters.record(0);
                    return Err(http_err(format!("unreadable Content-Range {cr:?}")));
                };
                parsed
            }
            200 => {
                // A server that ignores Range. Only acceptable when the whole
                // file is no bigger than what was asked for.
                let asked = expect.map_or(0, |r| r.end - r.start);
                let small = content_length
                    .is_some_and(|n| expect.is_some_and(|r| r.start == 0) && n <= asked);
                if !small {
                    self.counters.record(0);
                    return Err(Error::NotPartial {
                        url: self.url.clone(),
                    });
                }
                let n = content_length.unwrap_or(0);
                (0, n.saturating_sub(1), n)
            }
            416 => {
                // An empty file cannot satisfy any range.
                self.counters.record(0);
                if content_range.as_deref() == Some("bytes */0") {
                    return Ok(Part {
                        bytes: Bytes::new(),
                        total: 0,
                        start: 0,
                        final_url,
                    });
                }
                return Err(Error::HttpStatus {
                    url: self.url.clone(),
                    status,
                });
            }
            _ => {
                self.counters.record(0);
                return Err(Error::HttpStatus {
                    url: self.url.clone(),
                    status,
                });
            }
        };
        if let Some(want) = expect {
            let clipped_end = want.end.min(total);
            if start != want.start || end_inclusive + 1 != clipped_end {
                self.counters.record(0);
                return Err(Error::ContentRangeMismatch {
                    url: self.url.clone(),
                    requested: want.clone(),
                    content_range: content_range.unwrap_or_default(),
                });
            }
        }
        let expected = if total == 0 {
            0
        } else {
            end_inclusive + 1 - start
        };
        let body = resp
            .body_mut()
            .with_config()
            .limit(expected + 1)
            .read_to_vec();
        let body = match body {
            Ok(body) => body,
            Err(e) => {
                self.counters.record(0);
                return Err(match e {
                    ureq::Error::Io(e) => http_err(format!(
                        "response truncated: connection closed while reading the body ({e})"
                    )),
                    other => http_err(format!("reading body: {other}")),
                });
            }
        };
        self.counters.record(body.len() as u64);
        if body.len() as u64 != expected {
            return Err(Error::Truncated {
                url: self.url.clone(),
                expected,
                got: body.len() as u64,
            });
        }
        Ok(Part {
            bytes: Bytes::from(body),
            total,
            start,
            final_url,
        })
    }
}

/// Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// The `Content-Range` parser: `(start, end inclusive, total)`.
    pub fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
        super::parse_content_range(value)
    }
}

/// Parses `bytes START-END/TOTAL` (TOTAL may not be `*` here).
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (span, total) = rest.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    let (start, end, total) = (
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (start <= end && end < total).then_some((start, end, total))
}

impl ReadAt for HttpSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        check_range(&range, self.len, &|| self.describe())?;
        if range.start == range.end {
            return Ok(Bytes::new());
        }
        let header = format!("bytes={}-{}", range.start, range.end - 1);
        Ok(self.request(&header, Some(&range))?.bytes)
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

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn content_range_parsing() {
        assert_eq!(parse_content_range("bytes 0-99/1000"), Some((0, 99, 1000)));
        assert_eq!(parse_content_range("bytes 5-4/1000"), None);
        assert_eq!(parse_content_range("bytes 0-1000/1000"), None);
        assert_eq!(parse_content_range("bytes */1000"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }
}
