//! Reads that verify: the bytes of an object pass through a sha1 check, and the last piece is
//! held back until the whole object has hashed to its name.

use std::ops::Range;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use ns_store_uri::{Sha1Hash, Verifier};

use crate::Error;

/// A stream of an object's bytes (or part of them).
pub(crate) type ByteStream = BoxStream<'static, Result<Bytes, Error>>;

/// The bytes in `range` of the object `hash` whose whole content `inner` streams. Every byte
/// of `inner` is hashed; the pieces in `range` pass through as they come, except the last one,
/// which is sent only once `inner` has ended and the content hashed to `hash`. On a mismatch
/// the stream ends with [`Error::Corrupt`] instead, so whoever waits for a stream that ends
/// without an error (an HTTP client counting `Content-Length`, a file renamed into place only
/// then) never gets all the bytes of a corrupt object.
pub(crate) fn verified(
    inner: ByteStream,
    hash: Sha1Hash,
    store: String,
    range: Range<u64>,
) -> ByteStream {
    struct State {
        inner: ByteStream,
        verifier: Option<Verifier>,
        /// Offset in the object of the next byte of `inner`.
        offset: u64,
        range: Range<u64>,
        held: Option<Bytes>,
        store: String,
    }
    let state = State {
        inner,
        verifier: Some(Verifier::new(hash)),
        offset: 0,
        range,
        held: None,
        store,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        let verifier = s.verifier.as_mut()?;
        loop {
            match s.inner.next().await {
                Some(Ok(chunk)) => {
                    verifier.update(&chunk);
                    let start = s.offset;
                    s.offset = s.offset.saturating_add(chunk.len() as u64);
                    let Some(piece) = slice(&chunk, start, &s.range) else {
                        continue;
                    };
                    if let Some(previous) = s.held.replace(piece) {
                        return Some((Ok(previous), s));
                    }
                }
                Some(Err(e)) => {
                    s.verifier = None;
                    return Some((Err(e), s));
                }
                None => {
                    let verifier = s.verifier.take()?;
                    return match verifier.finish() {
                        Ok(_) => s.held.take().map(|last| (Ok(last), s)),
                        Err(source) => Some((
                            Err(Error::Corrupt {
                                store: s.store.clone(),
                                source,
                            }),
                            s,
                        )),
                    };
                }
            }
        }
    })
    .boxed()
}

/// The part of `chunk` (which starts at object offset `start`) inside `range`, if not empty.
fn slice(chunk: &Bytes, start: u64, range: &Range<u64>) -> Option<Bytes> {
    let end = start.saturating_add(chunk.len() as u64);
    let from = range.start.max(start);
    let to = range.end.min(end);
    if from >= to {
        return None;
    }
    // Both are within the chunk (`start <= from < to <= end`), so they fit in usize.
    let a = usize::try_from(from - start).ok()?;
    let b = usize::try_from(to - start).ok()?;
    Some(chunk.slice(a..b))
}

/// Collects a verified stream into one buffer, refusing more than `max_bytes`.
pub(crate) async fn collect(
    mut stream: ByteStream,
    what: &str,
    max_bytes: u64,
) -> Result<Bytes, Error> {
    let mut out = Vec::new();
    while let Some(piece) = stream.next().await {
        let piece = piece?;
        if (out.len() + piece.len()) as u64 > max_bytes {
            return Err(Error::Interrupted {
                what: what.to_string(),
                bytes: out.len() as u64,
                message: format!("more than the {max_bytes} bytes expected"),
            });
        }
        out.extend_from_slice(&piece);
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn chunks(data: &[u8], size: usize) -> ByteStream {
        let pieces: Vec<Result<Bytes, Error>> = data
            .chunks(size)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures_util::stream::iter(pieces).boxed()
    }

    async fn run(data: &[u8], hash: Sha1Hash, range: Range<u64>) -> (Vec<u8>, Option<String>) {
        let mut stream = verified(chunks(data, 7), hash, "test".into(), range);
        let mut out = Vec::new();
        while let Some(piece) = stream.next().await {
            match piece {
                Ok(p) => out.extend_from_slice(&p),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
        (out, None)
    }

    #[tokio::test]
    async fn good_objects_pass_whole_or_in_part() {
        let data: Vec<u8> = (0..100u8).collect();
        let hash = Sha1Hash::of(&data);
        assert_eq!(run(&data, hash, 0..u64::MAX).await, (data.clone(), None));
        assert_eq!(
            run(&data, hash, 10..13).await,
            (data[10..13].to_vec(), None)
        );
        assert_eq!(run(&data, hash, 95..200).await, (data[95..].to_vec(), None));
        assert_eq!(
            run(b"", Sha1Hash::of(b""), 0..u64::MAX).await,
            (vec![], None)
        );
    }

    #[tokio::test]
    async fn corrupt_objects_never_arrive_complete() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut bad = data.clone();
        bad[99] ^= 1;
        let hash = Sha1Hash::of(&data);
        for range in [0..u64::MAX, 0..3, 50..60, 99..100] {
            let (got, err) = run(&bad, hash, range.clone()).await;
            let err = err.unwrap();
            assert!(err.contains(&format!("object {hash} is corrupt")), "{err}");
            let want = usize::try_from(range.end.min(100) - range.start).unwrap();
            assert!(got.len() < want, "{range:?}: all {want} bytes were sent");
        }
    }
}
