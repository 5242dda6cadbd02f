/// Errors of byte sources. Each names the source (path or URL) it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{location}: read of bytes {start}..{end} is outside the {len}-byte file")]
    OutOfBounds {
        location: String,
        start: u64,
        end: u64,
        len: u64,
    },
    #[error("{location}: {message}")]
    Io { location: String, message: String },
    #[error("{url}: HTTP {status}{}", hint_for_status(*status))]
    HttpStatus { url: String, status: u16 },
    #[error(
        "{url}: the server ignored the Range header (answered 200 with the whole file); \
         it must support HTTP Range requests (206 Partial Content)"
    )]
    NotPartial { url: String },
    #[error("{url}: asked for {requested}, the server answered with Content-Range {content_range}")]
    ContentRangeMismatch {
        url: String,
        /// The `Range` header sent.
        requested: String,
        content_range: String,
    },
    #[error(
        "{url}: {}",
        match value {
            Some(value) => format!("unreadable Content-Range {value:?}"),
            None => "a 206 answer without a (visible) Content-Range header".to_string(),
        }
    )]
    BadContentRange {
        url: String,
        /// The header's value, `None` when it is missing.
        value: Option<String>,
    },
    #[error("{url}: the file changed on the server (it had {expected} bytes, now {got})")]
    SizeChanged {
        url: String,
        expected: u64,
        got: u64,
    },
    #[error(
        "{url}: the server cannot satisfy {requested} (HTTP 416 range not satisfiable{})",
        total_bytes.map(|t| format!("; the file has {t} bytes")).unwrap_or_default()
    )]
    Unsatisfiable {
        url: String,
        requested: String,
        total_bytes: Option<u64>,
    },
    #[error("{url}: response body ended after {got} of {expected} bytes (truncated)")]
    Truncated {
        url: String,
        expected: u64,
        got: u64,
    },
    #[error("{url}: response body has {got} bytes, {expected} expected (overlong)")]
    Overlong {
        url: String,
        expected: u64,
        got: u64,
    },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
}

fn hint_for_status(status: u16) -> &'static str {
    match status {
        404 => " (not found)",
        403 => " (forbidden: the URL may have expired or need credentials)",
        401 => " (unauthorized: an API key may be needed)",
        416 => " (range not satisfiable)",
        500..=599 => " (server error)",
        _ => "",
    }
}

impl Error {
    /// Whether retrying the same request may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::HttpStatus { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Error::Http { .. } | Error::Truncated { .. } | Error::Io { .. } => true,
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
