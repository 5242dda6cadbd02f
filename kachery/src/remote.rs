//! A store server as a backend (`--store http(s)://host[/zone]`): `HEAD`, `GET` and `PUT`
//! of `/sha1/<hash>` below the zone's URL. What comes back is verified by the caller
//! ([`crate::Store`]), as from any backend.

use bytes::Bytes;
use futures_util::stream::StreamExt;
use ns_store_uri::Sha1Hash;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH};

use crate::Error;
use crate::verify::ByteStream;

/// A store server's zone, and the token that lets us write to it.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    /// The zone's URL, without a trailing `/`.
    base: String,
    token: Option<String>,
    client: reqwest::Client,
}

/// What a store server says after a `PUT`.
#[derive(Debug, serde::Deserialize)]
struct PutReply {
    already_stored: bool,
}

impl Remote {
    pub(crate) fn new(base: &str, token: Option<String>) -> Result<Remote, Error> {
        crate::init_tls();
        let client = reqwest::Client::builder()
            .build()
            .map_err(|source| Error::Http {
                url: base.to_string(),
                source,
            })?;
        Ok(Remote {
            base: base.trim_end_matches('/').to_string(),
            token,
            client,
        })
    }

    pub(crate) fn url(&self, hash: Sha1Hash) -> String {
        format!("{}/sha1/{hash}", self.base)
    }

    fn http_error(&self, hash: Sha1Hash) -> impl Fn(reqwest::Error) -> Error + '_ {
        move |source| Error::Http {
            url: self.url(hash),
            source,
        }
    }

    /// The object's size, `None` if the server does not have it.
    pub(crate) async fn size_of(&self, hash: Sha1Hash) -> Result<Option<u64>, Error> {
        let mut request = self.client.head(self.url(hash));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(self.http_error(hash))?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => {
                let length = response
                    .headers()
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                length.map(Some).ok_or_else(|| Error::Server {
                    url: self.url(hash),
                    status: s.as_u16(),
                    message: "HEAD answer without Content-Length".into(),
                })
            }
            _ => Err(self.refusal(hash, response).await),
        }
    }

    /// The object's bytes as the server sends them (not yet verified), and their length.
    pub(crate) async fn get(&self, hash: Sha1Hash) -> Result<(u64, ByteStream), Error> {
        let url = self.url(hash);
        let mut request = self.client.get(&url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(self.http_error(hash))?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound {
                hash,
                store: self.base.clone(),
            });
        }
        if response.status() != StatusCode::OK {
            return Err(self.refusal(hash, response).await);
        }
        let length = response.content_length().unwrap_or(0);
        let mut received = 0u64;
        let stream = response
            .bytes_stream()
            .map(move |piece| {
                piece
                    .inspect(|p| received += p.len() as u64)
                    .map_err(|e| Error::Interrupted {
                        what: format!("GET {url}"),
                        bytes: received,
                        message: e.to_string(),
                    })
            })
            .boxed();
        Ok((length, stream))
    }

    /// Sends `length_bytes` bytes to be stored as `hash`; whether the server already had them.
    pub(crate) async fn put(
        &self,
        hash: Sha1Hash,
        length_bytes: u64,
        body: ByteStream,
    ) -> Result<bool, Error> {
        let mut request = self
            .client
            .put(self.url(hash))
            .header(CONTENT_LENGTH, length_bytes)
            .body(reqwest::Body::wrap_stream(body));
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = request.send().await.map_err(self.http_error(hash))?;
        if !response.status().is_success() {
            return Err(self.refusal(hash, response).await);
        }
        let body = response.bytes().await.map_err(self.http_error(hash))?;
        let reply: PutReply = serde_json::from_slice(&body).map_err(|e| Error::Server {
            url: self.url(hash),
            status: 200,
            message: format!(
                "unexpected answer to PUT ({e}): {}",
                String::from_utf8_lossy(&body)
            ),
        })?;
        Ok(reply.already_stored)
    }

    /// The error a non-success answer means, with the server's `{"error": "..."}` message.
    async fn refusal(&self, hash: Sha1Hash, response: reqwest::Response) -> Error {
        let status = response.status();
        let body: Bytes = response.bytes().await.unwrap_or_default();
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_string))
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(&body).trim().to_string();
                if text.is_empty() {
                    status.canonical_reason().unwrap_or("error").to_string()
                } else {
                    text
                }
            });
        Error::Server {
            url: self.url(hash),
            status: status.as_u16(),
            message,
        }
    }
}
