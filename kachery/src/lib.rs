//! The content-addressed (sha1) store: objects named by the sha1 of their bytes, as figurl
//! and kachery keep figure data.
//!
//! - [`Location`]: where a store is: a local directory (the default: a per-user data
//!   directory), S3-compatible object storage (`s3://bucket/prefix`, configured by
//!   `object_store`'s AWS environment variables), or a store server (`http(s)://host[/zone]`).
//! - [`Store`]: put and get objects there. Objects live at `sha1/ab/cd/ef/<hash>`
//!   ([`Sha1Hash::object_key`]). Writes are atomic (a local file is written aside and renamed;
//!   S3 gets one PUT or a multipart upload completed only once all bytes are in), idempotent
//!   (content already there is "already stored") and verified (the sha1 is computed while
//!   streaming; a mismatch is refused and nothing becomes visible). Every read verifies the
//!   sha1 of what it returns: a corrupted object is an error naming it, never returned.
//! - [`server`]: the store server (`neurosift store-server`): public `GET`/`HEAD
//!   /sha1/<hash>` with ranges, ETag, CORS and immutable caching; `PUT` with a bearer token
//!   per zone.
//!
//! URIs (`sha1://…`, `kachery:…`) and hashes come from [`ns_store_uri`], shared with the
//! browser client.

mod location;
mod remote;
pub mod server;
mod store;
mod verify;

use std::path::PathBuf;

pub use location::Location;
pub use ns_store_uri::{Sha1Hash, StoreUri, Zone};
pub use object_store;
pub use store::{NoProgress, Progress, Store, Stored};

/// Objects up to this size are buffered and checked whole: a local or S3 write is then one
/// atomic put, and the server answers a corrupt object with an error before sending a byte.
pub const BUFFER_BYTES: u64 = 8 * 1024 * 1024;

/// Errors of the store, its backends and its server; each says what and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No object with this hash in the store.
    #[error("object {hash} not found in {store}")]
    NotFound {
        /// The object.
        hash: Sha1Hash,
        /// The store (its location).
        store: String,
    },
    /// An object whose bytes do not hash to its name: never returned.
    #[error("{store}: {source}")]
    Corrupt {
        /// The store (its location).
        store: String,
        /// The hashes ([`ns_store_uri::Error::Mismatch`]).
        source: ns_store_uri::Error,
    },
    /// Bytes sent to be stored under a hash that they do not have.
    #[error("refused to store {expected} in {store}: the {bytes} bytes given hash to {actual}")]
    WrongHash {
        /// The hash they were sent for.
        expected: Sha1Hash,
        /// The hash they have.
        actual: Sha1Hash,
        /// How many bytes.
        bytes: u64,
        /// The store.
        store: String,
    },
    /// An object larger than the store accepts.
    #[error("refused to store {hash} in {store}: larger than the limit of {limit_bytes} bytes")]
    TooLarge {
        /// The object.
        hash: Sha1Hash,
        /// The limit.
        limit_bytes: u64,
        /// The store.
        store: String,
    },
    /// The body of an upload or a download broke off.
    #[error("{what}: the stream broke off after {bytes} bytes: {message}")]
    Interrupted {
        /// What was being transferred.
        what: String,
        /// How many bytes had come.
        bytes: u64,
        /// Why.
        message: String,
    },
    /// An error of the object storage (local directory or S3).
    #[error("{store}: {source}")]
    Backend {
        /// The store.
        store: String,
        /// What went wrong there.
        source: object_store::Error,
    },
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A request to a store server failed before it answered.
    #[error("{url}: {source}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        source: reqwest::Error,
    },
    /// A store server refused a request (its JSON `error` message).
    #[error("{url}: {status}: {message}")]
    Server {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A `--store` / `NEUROSIFT_STORE` value that names no store.
    #[error("store location {location:?}: {reason}")]
    BadLocation {
        /// The value.
        location: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A store server configuration file that cannot be used.
    #[error("store server config {}: {reason}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A bad hash or URI.
    #[error(transparent)]
    Uri(#[from] ns_store_uri::Error),
}

/// Installs the TLS provider (ring) that reqwest and object_store's S3 client use, once.
fn init_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err: a provider is already installed (by the application), which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
