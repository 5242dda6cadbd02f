//! [`Store`]: objects put and got by their sha1, on any backend, every write and read
//! verified.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::StreamExt;
use ns_store_uri::{Hasher, Sha1Hash, Verifier};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::remote::Remote;
use crate::verify::{ByteStream, collect, verified};
use crate::{BUFFER_BYTES, Error, Location};

/// Size of the pieces files are read in.
const READ_BYTES: usize = 256 * 1024;
/// Parts of a multipart upload in flight at once (each up to [`BUFFER_BYTES`]).
const UPLOAD_CONCURRENCY: usize = 4;

/// Told how a transfer goes (the CLI draws progress bars with it).
pub trait Progress: Send + Sync {
    /// A transfer of `total_bytes` starts; `what` says which (`"hashing"`, `"uploading"`, …).
    fn start(&self, what: &str, total_bytes: u64) {
        let _ = (what, total_bytes);
    }
    /// `bytes` more were transferred.
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }
    /// The transfer ended (successfully or not).
    fn finish(&self) {}
}

/// Progress told to nobody.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// The object's name.
    pub hash: Sha1Hash,
    /// Its length.
    pub size_bytes: u64,
    /// It was there already; nothing was written.
    pub already_stored: bool,
}

#[derive(Debug, Clone)]
enum Backend {
    Objects(Arc<dyn ObjectStore>),
    Remote(Remote),
}

/// A content-addressed store (see the crate docs).
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// Where it is, for messages.
    name: String,
}

impl Store {
    /// Opens the store at `location`; `token` authorizes writes to a store server.
    pub fn open(location: &Location, token: Option<String>) -> Result<Store, Error> {
        let name = location.to_string();
        match location {
            Location::Dir(dir) => Store::local(dir),
            Location::S3 { bucket, prefix } => Store::with_s3(
                object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket),
                prefix,
                name,
            ),
            Location::Server { url } => Ok(Store {
                backend: Backend::Remote(Remote::new(url, token)?),
                name,
            }),
        }
    }

    /// The store in S3-compatible object storage, below `prefix` (may be empty) of the bucket
    /// that `builder` names. [`Store::open`] configures it from the environment.
    pub fn with_s3(
        builder: object_store::aws::AmazonS3Builder,
        prefix: &str,
        name: impl Into<String>,
    ) -> Result<Store, Error> {
        crate::init_tls();
        let name = name.into();
        let s3 = builder.build().map_err(|source| Error::Backend {
            store: name.clone(),
            source,
        })?;
        let objects: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
        };
        Ok(Store::with_object_store(objects, name))
    }

    /// The store in a local directory (created if missing). Writes go to a file beside the
    /// object's, synced, then renamed into place.
    pub fn local(dir: &Path) -> Result<Store, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = dir.display().to_string();
        let objects = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|source| Error::Backend {
                store: name.clone(),
                source,
            })?
            .with_fsync(true);
        Ok(Store::with_object_store(Arc::new(objects), name))
    }

    /// The store in any `object_store` (its objects at `sha1/ab/cd/ef/<hash>`); `name` is
    /// used in messages.
    pub fn with_object_store(objects: Arc<dyn ObjectStore>, name: impl Into<String>) -> Store {
        Store {
            backend: Backend::Objects(objects),
            name: name.into(),
        }
    }

    /// Where the store is.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The object storage below, unless this is a store server.
    #[must_use]
    pub fn object_store(&self) -> Option<&Arc<dyn ObjectStore>> {
        match &self.backend {
            Backend::Objects(objects) => Some(objects),
            Backend::Remote(_) => None,
        }
    }

    fn backend_error(&self) -> impl Fn(object_store::Error) -> Error + '_ {
        |source| Error::Backend {
            store: self.name.clone(),
            source,
        }
    }

    /// The size of the object, `None` if the store does not have it.
    pub async fn size_of(&self, hash: Sha1Hash) -> Result<Option<u64>, Error> {
        match &self.backend {
            Backend::Objects(objects) => match objects.head(&key(hash)).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.backend_error()(e)),
            },
            Backend::Remote(remote) => remote.size_of(hash).await,
        }
    }

    // ----------------------------------------------------------------------------------------
    // Writes.

    /// Stores `bytes`.
    pub async fn put_bytes(&self, bytes: Bytes) -> Result<Stored, Error> {
        let hash = Sha1Hash::of(&bytes);
        let size_bytes = bytes.len() as u64;
        if self.size_of(hash).await? == Some(size_bytes) {
            return Ok(Stored {
                hash,
                size_bytes,
                already_stored: true,
            });
        }
        let body = futures_util::stream::iter([Ok(bytes)]).boxed();
        self.put_stream(hash, size_bytes, body, None, &NoProgress)
            .await
    }

    /// Stores the file at `path`: hashes it first (nothing is sent if the store has it), then
    /// sends it, hashing it again on the way (a file that changed meanwhile is refused).
    pub async fn put_file(&self, path: &Path, progress: &dyn Progress) -> Result<Stored, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let size_bytes = tokio::fs::metadata(path).await.map_err(io)?.len();
        progress.start("hashing", size_bytes);
        let hashed = hash_file(path, progress).await;
        progress.finish();
        let hash = hashed?;
        if self.size_of(hash).await? == Some(size_bytes) {
            return Ok(Stored {
                hash,
                size_bytes,
                already_stored: true,
            });
        }
        let file = tokio::fs::File::open(path).await.map_err(io)?;
        progress.start("uploading", size_bytes);
        let result = self
            .put_stream(
                hash,
                size_bytes,
                file_stream(file, path.to_path_buf()),
                None,
                progress,
            )
            .await;
        progress.finish();
        result
    }

    /// Stores what `reader` yields up to its end (standard input): it is copied to a
    /// temporary file while hashed, then stored like a file.
    pub async fn put_reader(
        &self,
        mut reader: impl AsyncRead + Unpin + Send,
        progress: &dyn Progress,
    ) -> Result<Stored, Error> {
        let spool = tempfile::NamedTempFile::new().map_err(|source| Error::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let path = spool.path().to_path_buf();
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let mut file = tokio::fs::File::from_std(spool.reopen().map_err(io)?);
        let mut buf = vec![0u8; READ_BYTES];
        loop {
            let n = reader.read(&mut buf).await.map_err(|source| Error::Io {
                path: "standard input".into(),
                source,
            })?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        drop(file);
        self.put_file(&path, progress).await
    }

    /// Stores `length_bytes` bytes (what `body` yields) as `hash`, whether or not the store
    /// has it (see [`Store::size_of`]). The bytes are hashed as they come; the object becomes
    /// visible only if they hash to `hash` ([`Error::WrongHash`] otherwise), are no more than
    /// `limit_bytes` ([`Error::TooLarge`]) and `body` ends without error. Up to
    /// [`BUFFER_BYTES`] are kept in memory and written with one put; a larger object goes up
    /// as a multipart upload (a staged file renamed into place, locally), aborted on failure.
    pub async fn put_stream(
        &self,
        hash: Sha1Hash,
        length_bytes: u64,
        body: ByteStream,
        limit_bytes: Option<u64>,
        progress: &dyn Progress,
    ) -> Result<Stored, Error> {
        if let Some(limit_bytes) = limit_bytes
            && length_bytes > limit_bytes
        {
            return Err(Error::TooLarge {
                hash,
                limit_bytes,
                store: self.name.clone(),
            });
        }
        match &self.backend {
            Backend::Objects(objects) => {
                let size_bytes = self
                    .put_objects(objects.as_ref(), hash, body, limit_bytes, progress)
                    .await?;
                Ok(Stored {
                    hash,
                    size_bytes,
                    already_stored: false,
                })
            }
            Backend::Remote(remote) => {
                // The server verifies; checking here too names this side's bytes as the
                // culprit when they are wrong (and ends the upload before the server answers).
                let sent = Arc::new(AtomicU64::new(0));
                let mismatch = Arc::new(Mutex::new(None));
                let body = hashing_body(body, hash, Arc::clone(&sent), Arc::clone(&mismatch));
                let put = remote.put(hash, length_bytes, body);
                tokio::pin!(put);
                let mut reported = 0u64;
                let mut report = || {
                    let now = sent.load(Ordering::Relaxed);
                    progress.advance(now.saturating_sub(reported));
                    reported = now;
                };
                let result = loop {
                    tokio::select! {
                        result = &mut put => break result,
                        () = tokio::time::sleep(Duration::from_millis(100)) => report(),
                    }
                };
                report();
                let mismatched = mismatch.lock().ok().and_then(|mut m| m.take());
                if let Some((actual, bytes)) = mismatched {
                    return Err(Error::WrongHash {
                        expected: hash,
                        actual,
                        bytes,
                        store: self.name.clone(),
                    });
                }
                Ok(Stored {
                    hash,
                    size_bytes: length_bytes,
                    already_stored: result?,
                })
            }
        }
    }

    async fn put_objects(
        &self,
        objects: &dyn ObjectStore,
        hash: Sha1Hash,
        mut body: ByteStream,
        limit_bytes: Option<u64>,
        progress: &dyn Progress,
    ) -> Result<u64, Error> {
        let location = key(hash);
        let mut verifier = Verifier::new(hash);
        let mut buffer: Vec<u8> = Vec::new();
        let mut upload: Option<WriteMultipart> = None;
        let fed: Result<(), Error> = async {
            while let Some(piece) = body.next().await {
                let piece = piece?;
                verifier.update(&piece);
                progress_advance(progress, piece.len());
                if let Some(limit_bytes) = limit_bytes
                    && verifier.bytes() > limit_bytes
                {
                    return Err(Error::TooLarge {
                        hash,
                        limit_bytes,
                        store: self.name.clone(),
                    });
                }
                if let Some(writer) = upload.as_mut() {
                    writer
                        .wait_for_capacity(UPLOAD_CONCURRENCY)
                        .await
                        .map_err(self.backend_error())?;
                    writer.put(piece);
                } else {
                    buffer.extend_from_slice(&piece);
                    if buffer.len() as u64 > BUFFER_BYTES {
                        let started = objects
                            .put_multipart(&location)
                            .await
                            .map_err(self.backend_error())?;
                        let part_bytes = usize::try_from(BUFFER_BYTES).unwrap_or(8 << 20);
                        let mut writer = WriteMultipart::new_with_chunk_size(started, part_bytes);
                        writer.put(Bytes::from(std::mem::take(&mut buffer)));
                        upload = Some(writer);
                    }
                }
            }
            Ok(())
        }
        .await;
        let checked = fed.and_then(|()| {
            let bytes = verifier.bytes();
            verifier.finish().map_err(|e| match e {
                ns_store_uri::Error::Mismatch { actual, .. } => Error::WrongHash {
                    expected: hash,
                    actual,
                    bytes,
                    store: self.name.clone(),
                },
                other => Error::Uri(other),
            })
        });
        let size_bytes = match checked {
            Ok(size_bytes) => size_bytes,
            Err(e) => {
                if let Some(writer) = upload {
                    // Best effort: an upload never completed is not visible either way.
                    if let Err(abort) = writer.abort().await {
                        tracing::warn!("{}: aborting the upload of {hash}: {abort}", self.name);
                    }
                }
                return Err(e);
            }
        };
        match upload {
            Some(writer) => writer.finish().await.map_err(self.backend_error())?,
            None => objects
                .put(&location, PutPayload::from(buffer))
                .await
                .map_err(self.backend_error())?,
        };
        Ok(size_bytes)
    }

    // ----------------------------------------------------------------------------------------
    // Reads.

    /// The object's length and its bytes in `range`, verified (see the crate docs): the
    /// stream ends with [`Error::Corrupt`] before its last piece if the object's content does
    /// not hash to its name. The whole object is read even for a part of it.
    pub async fn get_range(
        &self,
        hash: Sha1Hash,
        range: std::ops::Range<u64>,
    ) -> Result<(u64, ByteStream), Error> {
        let (length_bytes, raw) = match &self.backend {
            Backend::Objects(objects) => {
                let result = match objects.get(&key(hash)).await {
                    Ok(result) => result,
                    Err(object_store::Error::NotFound { .. }) => {
                        return Err(Error::NotFound {
                            hash,
                            store: self.name.clone(),
                        });
                    }
                    Err(e) => return Err(self.backend_error()(e)),
                };
                let length_bytes = result.meta.size;
                let name = self.name.clone();
                let stream = result
                    .into_stream()
                    .map(move |piece| {
                        piece.map_err(|source| Error::Backend {
                            store: name.clone(),
                            source,
                        })
                    })
                    .boxed();
                (length_bytes, stream)
            }
            Backend::Remote(remote) => remote.get(hash).await?,
        };
        Ok((length_bytes, verified(raw, hash, self.name.clone(), range)))
    }

    /// The whole object, verified, as a stream (see [`Store::get_range`]).
    pub async fn get(&self, hash: Sha1Hash) -> Result<(u64, ByteStream), Error> {
        self.get_range(hash, 0..u64::MAX).await
    }

    /// The whole object in memory, verified; refused if longer than `max_bytes`.
    pub async fn get_bytes(&self, hash: Sha1Hash, max_bytes: u64) -> Result<Bytes, Error> {
        let (length_bytes, stream) = self.get(hash).await?;
        if length_bytes > max_bytes {
            return Err(Error::TooLarge {
                hash,
                limit_bytes: max_bytes,
                store: self.name.clone(),
            });
        }
        collect(
            stream,
            &format!("object {hash} in {}", self.name),
            max_bytes,
        )
        .await
    }

    /// Writes the object to the file `path`: the bytes go to a temporary file beside it,
    /// renamed to `path` only once they are verified (a corrupt object leaves no file).
    pub async fn load_to_file(
        &self,
        hash: Sha1Hash,
        path: &Path,
        progress: &dyn Progress,
    ) -> Result<u64, Error> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let temp = tempfile::Builder::new()
            .prefix(".neurosift-load-")
            .tempfile_in(&dir)
            .map_err(io)?;
        let (length_bytes, mut stream) = self.get(hash).await?;
        let mut file = tokio::fs::File::from_std(temp.reopen().map_err(io)?);
        progress.start("downloading", length_bytes);
        let mut written = 0u64;
        let copied: Result<(), Error> = async {
            while let Some(piece) = stream.next().await {
                let piece = piece?;
                file.write_all(&piece).await.map_err(io)?;
                written += piece.len() as u64;
                progress_advance(progress, piece.len());
            }
            file.flush().await.map_err(io)?;
            file.sync_all().await.map_err(io)
        }
        .await;
        progress.finish();
        copied?;
        drop(file);
        temp.persist(path).map_err(|e| io(e.error))?;
        Ok(written)
    }
}

/// Where an object lives.
fn key(hash: Sha1Hash) -> Key {
    Key::from(hash.object_key())
}

fn progress_advance(progress: &dyn Progress, bytes: usize) {
    progress.advance(bytes as u64);
}

/// The sha1 of a file.
async fn hash_file(path: &Path, progress: &dyn Progress) -> Result<Sha1Hash, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(io)?;
    let mut hasher = Hasher::new();
    let mut buf = vec![0u8; READ_BYTES];
    loop {
        let n = file.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(&buf[..n]);
        progress_advance(progress, n);
    }
}

/// `body`, hashed on the way: if it does not hash to `hash` it ends with an error (so the
/// upload it feeds fails) and `mismatch` gets the hash it had and its length. `sent` counts
/// the bytes.
fn hashing_body(
    body: ByteStream,
    hash: Sha1Hash,
    sent: Arc<AtomicU64>,
    mismatch: Arc<Mutex<Option<(Sha1Hash, u64)>>>,
) -> ByteStream {
    futures_util::stream::unfold(
        (body, Some(Verifier::new(hash))),
        move |(mut body, verifier)| {
            let sent = Arc::clone(&sent);
            let mismatch = Arc::clone(&mismatch);
            async move {
                let mut verifier = verifier?;
                match body.next().await {
                    Some(Ok(piece)) => {
                        verifier.update(&piece);
                        sent.fetch_add(piece.len() as u64, Ordering::Relaxed);
                        Some((Ok(piece), (body, Some(verifier))))
                    }
                    Some(Err(e)) => Some((Err(e), (body, None))),
                    None => {
                        let bytes = verifier.bytes();
                        match verifier.finish() {
                            Ok(_) => None,
                            Err(e) => {
                                let actual = match e {
                                    ns_store_uri::Error::Mismatch { actual, .. } => actual,
                                    _ => hash,
                                };
                                if let Ok(mut slot) = mismatch.lock() {
                                    *slot = Some((actual, bytes));
                                }
                                let error = Error::Interrupted {
                                    what: format!("upload of {hash}"),
                                    bytes,
                                    message: format!("the bytes hash to {actual}"),
                                };
                                Some((Err(error), (body, None)))
                            }
                        }
                    }
                }
            }
        },
    )
    .boxed()
}

/// A file's bytes as a stream.
fn file_stream(file: tokio::fs::File, path: PathBuf) -> ByteStream {
    futures_util::stream::unfold(Some(file), move |file| {
        let path = path.clone();
        async move {
            let mut file = file?;
            let mut buf = vec![0u8; READ_BYTES];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(file)))
                }
                Err(source) => Some((Err(Error::Io { path, source }), None)),
            }
        }
    })
    .boxed()
}
