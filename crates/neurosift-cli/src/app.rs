//! The web app embedded at build time (see `build.rs`): each file gzip-compressed, answered
//! as it is to clients that accept gzip (every browser), decompressed for the others.
//! Client-side routes (`/nwb?url=…`, `/dandiset/…`) get `index.html`.

use std::io::Read;
use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use ns_serve::{Answer, Representation};

/// One file of the app.
pub struct EmbeddedFile {
    /// Its path below the app's root (`index.html`, `ns-app-….wasm`).
    pub path: &'static str,
    /// Its length, uncompressed.
    pub length: usize,
    /// A hash of its content (the opaque part of its `ETag`).
    pub etag: &'static str,
    /// Its content, gzip-compressed.
    pub gzip: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/app_files.rs"));

/// The file a URL path (without its leading `/`) names, else `index.html`.
fn lookup(path: &str) -> Option<&'static EmbeddedFile> {
    FILES
        .iter()
        .find(|f| f.path == path)
        .or_else(|| FILES.iter().find(|f| f.path == "index.html"))
}

/// Whether the request accepts a gzip body (`Accept-Encoding` names `gzip`, not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| p.replace(' ', "") == "q=0" || p == "q=0.0");
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// Answers a request for the app (a fallback service: any path).
pub async fn serve(request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let path = parts.uri.path().strip_prefix('/').unwrap_or_default();
    let Some(file) = lookup(path) else {
        return status(axum::http::StatusCode::NOT_FOUND);
    };
    let gzip = accepts_gzip(&parts.headers);
    let bytes: bytes::Bytes = if gzip {
        bytes::Bytes::from_static(file.gzip)
    } else {
        let mut out = Vec::with_capacity(file.length);
        if flate2::read::GzDecoder::new(file.gzip)
            .read_to_end(&mut out)
            .is_err()
        {
            return status(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        }
        out.into()
    };
    let representation = Representation {
        length_bytes: bytes.len() as u64,
        etag: Some(if gzip {
            format!("{}-gz", file.etag)
        } else {
            file.etag.to_string()
        }),
        modified: None,
        content_type: ns_serve::content_type(Path::new(file.path)),
    };
    let mut response = match ns_serve::answer(&representation, &parts.method, &parts.headers) {
        Answer::Complete(response) => response,
        Answer::Body {
            mut response,
            first_byte,
            count_bytes,
        } => {
            let range = usize::try_from(first_byte)
                .ok()
                .zip(usize::try_from(first_byte + count_bytes).ok())
                .and_then(|(start, end)| bytes.get(start..end));
            match range {
                Some(body) => {
                    *response.body_mut() = Body::from(bytes.slice_ref(body));
                    response
                }
                None => status(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
            }
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    // The app's files have fixed names (`ns-web.js`, `ns-web_bg.wasm`: the
    // reader workers' loader names them), so each is revalidated (cheap: ETag).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn status(code: axum::http::StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = code;
    response
}
