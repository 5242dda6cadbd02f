//! One file as an HTTP answer: ranges, HEAD, validators and conditional requests.

use std::io::{self, SeekFrom};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::range::RangeRequest;

/// Size of the pieces a body is read and sent in.
const CHUNK_BYTES: u64 = 128 * 1024;

/// Answers a `GET` or `HEAD` for the file at `path` (already resolved and checked by the
/// caller: this opens whatever it is given).
///
/// - `Range`: one range gives 206 with `Content-Range`; an unsatisfiable range 416 with
///   `Content-Range: bytes */LEN`; no range, a malformed one or several disjoint ones 200 with
///   the whole file (see [`RangeRequest::parse`]). `If-Range` with a different validator turns
///   the answer into 200 with the whole file.
/// - Validators: a strong `ETag` made of the size and the modification time in nanoseconds,
///   and `Last-Modified`; `If-None-Match` / `If-Modified-Since` give 304, `If-Match` /
///   `If-Unmodified-Since` 412 (evaluated in the order of RFC 9110 §13.2.2).
/// - `Accept-Ranges: bytes`, `Content-Length`, `Content-Type` from the file extension.
/// - `HEAD` has the headers `GET` would have and no body; other methods get 405.
/// - A missing file or a directory gives 404.
pub async fn serve_file(path: &Path, method: &Method, headers: &HeaderMap) -> Response {
    if let Some(resp) = method_not_allowed(method) {
        return resp;
    }
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(e) => return io_error(&e),
    };
    let meta = match file.metadata().await {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return status(StatusCode::NOT_FOUND),
        Err(e) => return io_error(&e),
    };
    let representation = Representation {
        length_bytes: meta.len(),
        etag: None,
        modified: meta.modified().ok(),
        content_type: content_type(path),
    };
    match answer(&representation, method, headers) {
        Answer::Complete(resp) => resp,
        Answer::Body {
            mut response,
            first_byte,
            count_bytes,
        } => {
            if first_byte > 0
                && let Err(e) = file.seek(SeekFrom::Start(first_byte)).await
            {
                return io_error(&e);
            }
            *response.body_mut() = file_body(file, count_bytes);
            response
        }
    }
}

/// One version of something served (a file, a stored object), described before any of its
/// bytes are read: what [`answer`] needs.
#[derive(Debug, Clone)]
pub struct Representation {
    /// Its length.
    pub length_bytes: u64,
    /// The opaque part of its strong entity tag, without quotes (e.g. a content hash). `None`:
    /// made of the length and `modified` (nanoseconds), as for files; none without `modified`.
    pub etag: Option<String>,
    /// When it last changed (`Last-Modified`, `If-Modified-Since`, …).
    pub modified: Option<SystemTime>,
    /// Its `Content-Type`.
    pub content_type: HeaderValue,
}

/// What [`answer`] decided.
#[derive(Debug)]
pub enum Answer {
    /// The whole answer: 304, 412, 416, 405, an empty body, or any `HEAD`.
    Complete(Response),
    /// The headers (200 or 206) of an answer whose body is `count_bytes` bytes from
    /// `first_byte` (`count_bytes > 0`): the caller reads them into the body.
    Body {
        /// Status and headers; the body is still empty.
        response: Response,
        /// Offset of the first byte to send.
        first_byte: u64,
        /// How many bytes to send.
        count_bytes: u64,
    },
}

/// Decides the answer to a `GET` or `HEAD` of `representation` from the request's `Range`
/// and conditional headers, as [`serve_file`] does for files (which calls it): status,
/// `Accept-Ranges`, `Content-Type`, `Content-Length`, `Content-Range`, `ETag`,
/// `Last-Modified`, and which bytes the body holds. Other methods get 405.
#[must_use]
pub fn answer(representation: &Representation, method: &Method, headers: &HeaderMap) -> Answer {
    if let Some(resp) = method_not_allowed(method) {
        return Answer::Complete(resp);
    }
    let length_bytes = representation.length_bytes;
    let validators = match &representation.etag {
        Some(etag) => Validators::with_etag(etag.clone(), representation.modified),
        None => Validators::new(length_bytes, representation.modified),
    };

    if let Some(code) = validators.preconditions(headers) {
        let mut resp = status(code);
        if code == StatusCode::NOT_MODIFIED {
            validators.insert_into(resp.headers_mut());
        }
        return Answer::Complete(resp);
    }

    let range = match single_value(headers, &header::RANGE) {
        Some(value) if validators.if_range_passes(headers) => {
            RangeRequest::parse(value, length_bytes)
        }
        _ => RangeRequest::Full,
    };
    let mut resp = Response::new(Body::empty());
    let out = resp.headers_mut();
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CONTENT_TYPE, representation.content_type.clone());
    validators.insert_into(out);
    let (first_byte, count_bytes) = match range {
        RangeRequest::Full => (0, length_bytes),
        RangeRequest::Unsatisfiable => {
            insert_string(
                out,
                header::CONTENT_RANGE,
                format!("bytes */{length_bytes}"),
            );
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            return Answer::Complete(resp);
        }
        RangeRequest::Partial {
            first_byte,
            last_byte,
        } => {
            insert_string(
                out,
                header::CONTENT_RANGE,
                format!("bytes {first_byte}-{last_byte}/{length_bytes}"),
            );
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            // `last_byte < length_bytes <= u64::MAX`, so this cannot overflow.
            (first_byte, last_byte - first_byte + 1)
        }
    };
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(count_bytes));
    if method == Method::GET && count_bytes > 0 {
        Answer::Body {
            response: resp,
            first_byte,
            count_bytes,
        }
    } else {
        Answer::Complete(resp)
    }
}

/// 405 (with `Allow`) for anything but `GET` and `HEAD`.
fn method_not_allowed(method: &Method) -> Option<Response> {
    if method == Method::GET || method == Method::HEAD {
        return None;
    }
    let mut resp = status(StatusCode::METHOD_NOT_ALLOWED);
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    Some(resp)
}

/// The `Content-Type` for a file name: by extension, `application/octet-stream` when unknown,
/// with `charset=utf-8` for text.
#[must_use]
pub fn content_type(path: &Path) -> HeaderValue {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let text = if mime.type_() == mime_guess::mime::TEXT && mime.get_param("charset").is_none() {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    HeaderValue::try_from(text)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// An empty answer with this status.
pub(crate) fn status(code: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = code;
    resp
}

fn io_error(e: &io::Error) -> Response {
    match e.kind() {
        io::ErrorKind::NotFound
        | io::ErrorKind::PermissionDenied
        | io::ErrorKind::IsADirectory
        | io::ErrorKind::NotADirectory => status(StatusCode::NOT_FOUND),
        _ => status(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn insert_string(headers: &mut HeaderMap, name: HeaderName, value: String) {
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name, value);
    }
}

/// The header's value if it occurs exactly once and is visible ASCII.
fn single_value<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()
}

/// `ETag` and `Last-Modified` of one version of a file.
struct Validators {
    /// The opaque part of the strong entity tag (without quotes); none without a modification
    /// time, since the size alone would not change when the content does.
    etag: Option<String>,
    modified: Option<SystemTime>,
    modified_secs: Option<u64>,
}

impl Validators {
    fn new(length_bytes: u64, modified: Option<SystemTime>) -> Self {
        let since_epoch = modified.and_then(|m| m.duration_since(UNIX_EPOCH).ok());
        Validators {
            etag: since_epoch.map(|d| format!("{length_bytes:x}-{:x}", d.as_nanos())),
            modified,
            modified_secs: since_epoch.map(|d| d.as_secs()),
        }
    }

    fn with_etag(etag: String, modified: Option<SystemTime>) -> Self {
        let since_epoch = modified.and_then(|m| m.duration_since(UNIX_EPOCH).ok());
        Validators {
            etag: Some(etag),
            modified,
            modified_secs: since_epoch.map(|d| d.as_secs()),
        }
    }

    fn insert_into(&self, headers: &mut HeaderMap) {
        if let Some(etag) = &self.etag {
            insert_string(headers, header::ETAG, format!("\"{etag}\""));
        }
        if let Some(modified) = self.modified {
            insert_string(
                headers,
                header::LAST_MODIFIED,
                httpdate::fmt_http_date(modified),
            );
        }
    }

    /// The status that ends a conditional request here (304 or 412), if any.
    fn preconditions(&self, headers: &HeaderMap) -> Option<StatusCode> {
        // Step 1 and 2: If-Match, else If-Unmodified-Since.
        if headers.contains_key(header::IF_MATCH) {
            let ok = match entity_tags(headers, &header::IF_MATCH) {
                Some(Tags::Any) => true,
                Some(Tags::List(tags)) => tags.iter().any(|t| self.strong_match(t)),
                None => false,
            };
            if !ok {
                return Some(StatusCode::PRECONDITION_FAILED);
            }
        } else if let Some(since) = self.date_header(headers, &header::IF_UNMODIFIED_SINCE)
            && self.modified_secs.is_some_and(|m| m > since)
        {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
        // Step 3 and 4: If-None-Match, else If-Modified-Since (GET and HEAD only come here).
        if headers.contains_key(header::IF_NONE_MATCH) {
            let matched = match entity_tags(headers, &header::IF_NONE_MATCH) {
                Some(Tags::Any) => true,
                Some(Tags::List(tags)) => tags.iter().any(|t| self.weak_match(t)),
                None => false,
            };
            if matched {
                return Some(StatusCode::NOT_MODIFIED);
            }
        } else if let Some(since) = self.date_header(headers, &header::IF_MODIFIED_SINCE)
            && self.modified_secs.is_some_and(|m| m <= since)
        {
            return Some(StatusCode::NOT_MODIFIED);
        }
        None
    }

    /// Whether `If-Range` (if present) names this version: a strong ETag match, or exactly
    /// the `Last-Modified` date.
    fn if_range_passes(&self, headers: &HeaderMap) -> bool {
        if !headers.contains_key(header::IF_RANGE) {
            return true;
        }
        let Some(value) = single_value(headers, &header::IF_RANGE).map(str::trim) else {
            return false;
        };
        if value.starts_with('"') || value.starts_with("W/") {
            return match parse_tags(value) {
                Some(Tags::List(tags)) if tags.len() == 1 => self.strong_match(&tags[0]),
                _ => false,
            };
        }
        httpdate::parse_http_date(value)
            .ok()
            .and_then(|d| d.duration_since(UNIX_EPOCH).ok())
            .is_some_and(|d| self.modified_secs == Some(d.as_secs()))
    }

    fn date_header(&self, headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
        let value = single_value(headers, name)?;
        let date = httpdate::parse_http_date(value.trim()).ok()?;
        date.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
    }

    fn strong_match(&self, tag: &Tag) -> bool {
        !tag.weak && self.etag.as_deref() == Some(tag.opaque.as_str())
    }

    fn weak_match(&self, tag: &Tag) -> bool {
        self.etag.as_deref() == Some(tag.opaque.as_str())
    }
}

/// One entity tag from a request header.
#[derive(Debug, PartialEq, Eq)]
struct Tag {
    weak: bool,
    opaque: String,
}

/// `*` or a list of entity tags.
#[derive(Debug, PartialEq, Eq)]
enum Tags {
    Any,
    List(Vec<Tag>),
}

/// All lines of a header as one list; `None` when any line is malformed.
fn entity_tags(headers: &HeaderMap, name: &HeaderName) -> Option<Tags> {
    let mut all = Vec::new();
    for value in headers.get_all(name) {
        match parse_tags(value.to_str().ok()?)? {
            Tags::Any => return Some(Tags::Any),
            Tags::List(tags) => all.extend(tags),
        }
    }
    Some(Tags::List(all))
}

/// `"*" / #entity-tag` (RFC 9110 §8.8.3, §13.1.2). Entity tags may contain commas, so the
/// list is scanned tag by tag rather than split.
fn parse_tags(value: &str) -> Option<Tags> {
    let value = value.trim_matches([' ', '\t']);
    if value == "*" {
        return Some(Tags::Any);
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(Tags::List(tags));
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(quoted) => (true, quoted),
            None => (false, rest),
        };
        let body = quoted.strip_prefix('"')?;
        let end = body.find('"')?;
        let opaque = &body[..end];
        if !opaque
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b))
        {
            return None;
        }
        tags.push(Tag {
            weak,
            opaque: opaque.to_string(),
        });
        rest = body[end + 1..].trim_start_matches([' ', '\t']);
        if !(rest.is_empty() || rest.starts_with(',')) {
            return None;
        }
    }
}

/// Streams `count_bytes` bytes from the file's current position. A file that got shorter
/// meanwhile ends the stream with an error, so the client sees a short body, not wrong bytes.
fn file_body(file: tokio::fs::File, count_bytes: u64) -> Body {
    let state = (file, count_bytes);
    Body::from_stream(futures_util::stream::unfold(
        state,
        |(mut file, left)| async move {
            if left == 0 {
                return None;
            }
            // At most CHUNK_BYTES, so it fits in usize.
            let want = usize::try_from(left.min(CHUNK_BYTES)).unwrap_or(64 * 1024);
            let mut buf = vec![0u8; want];
            match file.read(&mut buf).await {
                Ok(0) => Some((
                    Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                    (file, 0),
                )),
                Ok(n) => {
                    buf.truncate(n);
                    let left = left.saturating_sub(n as u64);
                    Some((Ok(Bytes::from(buf)), (file, left)))
                }
                Err(e) => Some((Err(e), (file, 0))),
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(weak: bool, opaque: &str) -> Tag {
        Tag {
            weak,
            opaque: opaque.into(),
        }
    }

    #[test]
    fn entity_tag_lists() {
        assert_eq!(parse_tags("*"), Some(Tags::Any));
        assert_eq!(
            parse_tags(" \"a\" "),
            Some(Tags::List(vec![tag(false, "a")]))
        );
        assert_eq!(
            parse_tags("\"a,b\", W/\"c\",,\"\""),
            Some(Tags::List(vec![
                tag(false, "a,b"),
                tag(true, "c"),
                tag(false, "")
            ]))
        );
        for bad in ["a", "\"a", "\"a\"b", "w/\"a\"", "\"a\" \"b\"", "\"a b\""] {
            assert_eq!(parse_tags(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn validators_compare() {
        let v = Validators::new(10, Some(UNIX_EPOCH + std::time::Duration::new(1000, 5)));
        assert_eq!(v.etag.as_deref(), Some("a-e8d4a51005"));
        assert!(v.strong_match(&tag(false, "a-e8d4a51005")));
        assert!(!v.strong_match(&tag(true, "a-e8d4a51005")));
        assert!(v.weak_match(&tag(true, "a-e8d4a51005")));
        let none = Validators::new(10, None);
        assert_eq!(none.etag, None);
        assert!(!none.weak_match(&tag(false, "a")));
    }

    #[test]
    fn content_types() {
        let ct = |name: &str| content_type(Path::new(name));
        assert_eq!(ct("index.html"), "text/html; charset=utf-8");
        assert_eq!(ct("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(ct("app_bg.wasm"), "application/wasm");
        assert_eq!(ct("f.lindi.json"), "application/json");
        assert_eq!(ct("f.nwb"), "application/octet-stream");
        assert_eq!(ct("f.h5"), "application/octet-stream");
        assert_eq!(ct("noext"), "application/octet-stream");
    }
}
