//! Reading a selection of a Zarr array: only the chunks it touches are
//! fetched (in one batch, through the caller's fetch: LINDI references, a
//! directory, HTTP GETs), decoded (in parallel natively), and their selected
//! elements copied out. Shared by every Zarr-shaped format.

use std::collections::BTreeMap;

use ns_io::Bytes;
use ns_model::{Array, Data, Dtype, ResolvedDim, Selection, Value};

use crate::Error;
use crate::elements::{ObjectKind, RefFn, fill_bytes, object_value, to_data};
use crate::meta::{ArrayMeta, ElemType};

/// The selected elements of one dimension inside one chunk: `count`
/// elements, the first at `out` in the output and at `local` in the chunk,
/// then every `step` in the chunk (every 1 in the output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    out: u64,
    local: u64,
    count: u64,
    step: u64,
}

/// Per dimension, the segment of each chunk index along it that the
/// selection touches (one entry per chunk, whatever the selection's size).
type DimPlan = BTreeMap<u64, Segment>;

/// The plan of one dimension: `dim` cut at multiples of `chunk`.
fn plan_dim(dim: &ResolvedDim, chunk: u64) -> DimPlan {
    let mut plan = DimPlan::new();
    let mut i = 0;
    while i < dim.count {
        let index = dim.start + i * dim.step;
        let k = index / chunk;
        // Near the end of a 2^64-element dimension the chunk's end does
        // not fit; nothing is selected past the dimension anyway.
        let chunk_end = (k + 1).saturating_mul(chunk);
        let n = (chunk_end - index).div_ceil(dim.step).min(dim.count - i);
        plan.insert(
            k,
            Segment {
                out: i,
                local: index - k * chunk,
                count: n,
                step: dim.step,
            },
        );
        i += n;
    }
    plan
}

/// Most chunks one read visits: each costs a key and a request, so a file
/// of one-element chunks cannot make a read build millions of them.
pub const MAX_CHUNKS_PER_READ: usize = 1 << 20;

/// How many chunks of size `chunk` the elements of `dim` fall in, at most.
fn chunks_touched(dim: &ResolvedDim, chunk: u64) -> u64 {
    let Some(last_offset) = dim.count.checked_sub(1) else {
        return 0;
    };
    // The last selected element is inside the dimension, so this fits.
    let last = dim.start + last_offset * dim.step;
    (last / chunk - dim.start / chunk + 1).min(dim.count)
}

/// A decoded chunk.
enum Decoded {
    Bytes(Vec<u8>),
    Values(Vec<Value>),
}

/// One array and how to read it.
pub struct ArrayRead<'a> {
    /// The file (path or URL) and the dataset's path, for errors.
    pub location: &'a str,
    pub path: &'a str,
    pub meta: &'a ArrayMeta,
    /// Stored as a 1-element array, read as a scalar.
    pub scalar: bool,
    pub dtype: Dtype,
    /// What the elements of an object array are (strings by default).
    pub object: Option<&'a ObjectKind>,
    /// How the writer spells a reference inside object elements.
    pub reference: RefFn,
    /// A decoded chunk shorter than a whole chunk is padded with zeros
    /// (LINDI stores the last piece of a contiguous HDF5 dataset short);
    /// otherwise it is an error, as in zarr.
    pub pad_short_chunks: bool,
    /// Largest selection (and chunk) one read may allocate.
    pub max_read_bytes: usize,
    /// Chunks decoded at once.
    pub threads: usize,
}

impl ArrayRead<'_> {
    fn error(&self, make: fn(String, String, String) -> Error, message: String) -> Error {
        make(self.location.to_string(), self.path.to_string(), message)
    }

    fn bad(&self, message: String) -> Error {
        self.error(
            |location, path, message| Error::Selection {
                location,
                path,
                message,
            },
            message,
        )
    }

    fn format(&self, message: String) -> Error {
        self.error(
            |location, path, message| Error::Format {
                location,
                path,
                message,
            },
            message,
        )
    }

    fn unsupported(&self, message: String) -> Error {
        self.error(
            |location, path, message| Error::Unsupported {
                location,
                path,
                message,
            },
            message,
        )
    }

    /// Reads `selection`. `fetch` gets the keys (relative to the array:
    /// `0.1`) of the chunks the selection touches and returns their stored
    /// bytes, `None` for a chunk never written (read as the fill value).
    pub fn read<E: From<Error>>(
        &self,
        selection: &Selection,
        fetch: impl FnOnce(&[String]) -> Result<Vec<Option<Bytes>>, E>,
    ) -> Result<Array, E> {
        let meta = self.meta;
        let shape: Vec<u64> = if self.scalar {
            Vec::new()
        } else {
            meta.shape.clone()
        };
        let dims = selection.resolve(&shape).map_err(|m| self.bad(m))?;
        let out_shape: Vec<u64> = dims.iter().filter(|d| d.keep).map(|d| d.count).collect();
        let count = dims
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(d.count))
            .ok_or_else(|| self.bad("selection size overflows".into()))?;
        let element = match &meta.elem {
            ElemType::Object => 16,
            e => e.itemsize().max(1),
        } as u64;
        let limit = self.max_read_bytes as u64;
        if count.saturating_mul(element) > limit {
            return Err(self
                .bad(format!(
                    "selection of {count} elements ({} bytes) is larger than the {limit}-byte read limit; select fewer elements",
                    count.saturating_mul(element)
                ))
                .into());
        }
        if let ElemType::Unsupported(t) = &meta.elem {
            return Err(self
                .unsupported(format!("the dtype {t} is not supported"))
                .into());
        }
        if meta.object_codec == Some(crate::meta::ObjectCodec::Pickle) {
            return Err(self
                .unsupported(crate::meta::PICKLE_REFUSED.to_string())
                .into());
        }
        if meta.fortran_order {
            return Err(self
                .unsupported("column-major (order \"F\") chunks are not supported".into())
                .into());
        }
        let array = |data: Data| Array {
            shape: out_shape.clone(),
            dtype: self.dtype,
            data,
        };
        if count == 0 {
            return Ok(array(Data::empty(self.dtype)));
        }
        // A scalar is stored as one element of a 1-element array.
        let dims = if self.scalar {
            vec![
                ResolvedDim {
                    start: 0,
                    step: 1,
                    count: 1,
                    keep: false,
                };
                meta.shape.len().max(1)
            ]
        } else {
            dims
        };
        let count = usize::try_from(count).map_err(|_| self.bad("selection too large".into()))?;
        Ok(array(self.read_chunks(&dims, count, fetch)?))
    }

    fn read_chunks<E: From<Error>>(
        &self,
        dims: &[ResolvedDim],
        count: usize,
        fetch: impl FnOnce(&[String]) -> Result<Vec<Option<Bytes>>, E>,
    ) -> Result<Data, E> {
        let meta = self.meta;
        let chunk_len = usize::try_from(meta.chunk_len()).unwrap_or(usize::MAX);
        let itemsize = meta.elem.itemsize();
        let chunk_bytes = chunk_len.saturating_mul(itemsize.max(1));
        if chunk_bytes > self.max_read_bytes {
            return Err(self
                .bad(format!(
                    "one chunk holds {chunk_bytes} bytes, more than the {}-byte read limit",
                    self.max_read_bytes
                ))
                .into());
        }
        // At most this many chunks along each dimension: checked before the
        // plans (a map entry per chunk) are built.
        let touched = dims
            .iter()
            .zip(&meta.chunks)
            .map(|(d, &chunk)| chunks_touched(d, chunk))
            .try_fold(1u64, u64::checked_mul)
            .unwrap_or(u64::MAX);
        if touched > MAX_CHUNKS_PER_READ as u64 {
            return Err(self
                .bad(format!(
                    "the selection touches {touched} chunks, more than the {MAX_CHUNKS_PER_READ} one read may"
                ))
                .into());
        }
        let plans: Vec<DimPlan> = dims
            .iter()
            .zip(&meta.chunks)
            .map(|(d, &chunk)| plan_dim(d, chunk))
            .collect();
        let grid: Vec<Vec<u64>> = plans.iter().map(|p| p.keys().copied().collect()).collect();
        let coords = cartesian(&grid);
        let keys: Vec<String> = coords.iter().map(|c| meta.chunk_key(c)).collect();
        let stored = fetch(&keys)?;
        if stored.len() != keys.len() {
            return Err(self
                .format(format!(
                    "{} chunks asked, {} returned",
                    keys.len(),
                    stored.len()
                ))
                .into());
        }
        // Decompression may not produce more than a whole chunk (plus a
        // checksum); object chunks are bounded by the read limit.
        let max_len = if meta.elem == ElemType::Object {
            self.max_read_bytes
        } else {
            chunk_bytes.saturating_add(1024)
        };
        let out_strides = strides(&dims.iter().map(|d| d.count).collect::<Vec<_>>());
        let chunk_strides = strides(&meta.chunks);
        let work: Vec<(&Vec<u64>, &String, &Option<Bytes>)> = coords
            .iter()
            .zip(&keys)
            .zip(&stored)
            .map(|((c, k), s)| (c, k, s))
            .collect();
        // Decoded a few at a time (in parallel natively), so that memory
        // holds the output and a handful of decoded chunks.
        let batch = self.threads.max(1) * 2;
        let mut decoded_batches = work.chunks(batch).map(|batch| {
            let decoded = ns_io::par_map(batch, self.threads, |(_, key, raw)| {
                raw.as_ref()
                    .map(|raw| self.decode_chunk(key, raw, chunk_len, max_len))
                    .transpose()
            });
            batch
                .iter()
                .map(|(coord, _, _)| *coord)
                .zip(decoded)
                .collect::<Vec<_>>()
        });
        if meta.elem == ElemType::Object {
            let mut out = vec![Value::Null; count];
            for decoded in decoded_batches.by_ref() {
                for (coord, chunk) in decoded {
                    let Some(Decoded::Values(values)) = chunk? else {
                        continue;
                    };
                    scatter(&plans, coord, &out_strides, &chunk_strides, |o, l, n| {
                        for k in 0..n {
                            if let (Some(slot), Some(v)) = (out.get_mut(o + k), values.get(l + k)) {
                                slot.clone_from(v);
                            }
                        }
                    });
                }
            }
            return Ok(Data::Values(out));
        }
        let fill = fill_bytes(&meta.elem, &meta.fill);
        let mut out: Vec<u8> = fill
            .iter()
            .copied()
            .cycle()
            .take(count * itemsize)
            .collect();
        for decoded in decoded_batches {
            for (coord, chunk) in decoded {
                let Some(Decoded::Bytes(bytes)) = chunk? else {
                    continue;
                };
                scatter(&plans, coord, &out_strides, &chunk_strides, |o, l, n| {
                    let (o, l, n) = (o * itemsize, l * itemsize, n * itemsize);
                    if let (Some(dst), Some(src)) = (out.get_mut(o..o + n), bytes.get(l..l + n)) {
                        dst.copy_from_slice(src);
                    }
                });
            }
        }
        Ok(to_data(&meta.elem, &out))
    }

    fn decode_chunk(
        &self,
        key: &str,
        stored: &[u8],
        chunk_len: usize,
        max_len: usize,
    ) -> Result<Decoded, Error> {
        let meta = self.meta;
        let bytes = meta
            .decode(stored, max_len)
            .map_err(|m| self.format(format!("chunk {key}: {m}")))?;
        if meta.elem != ElemType::Object {
            let mut bytes = bytes;
            let want = chunk_len.saturating_mul(meta.elem.itemsize());
            if bytes.len() < want {
                if !self.pad_short_chunks {
                    return Err(self.format(format!(
                        "chunk {key} decodes to {} bytes, a whole chunk has {want}",
                        bytes.len()
                    )));
                }
                bytes.resize(want, 0);
            }
            return Ok(Decoded::Bytes(bytes));
        }
        let codec = meta.object_codec.as_ref().ok_or_else(|| {
            self.format("object array without an object codec (json2, vlen-utf8)".into())
        })?;
        let items = codec
            .items(&bytes)
            .map_err(|m| self.format(format!("chunk {key}: {m}")))?;
        let kind = self.object.cloned().unwrap_or(ObjectKind::Strings);
        Ok(Decoded::Values(
            items
                .iter()
                .map(|v| object_value(v, &kind, self.reference))
                .collect(),
        ))
    }
}

/// Row-major strides of `shape`.
fn strides(shape: &[u64]) -> Vec<usize> {
    let mut out = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        out[i] = out[i + 1].saturating_mul(usize::try_from(shape[i + 1]).unwrap_or(usize::MAX));
    }
    out
}

/// Every combination of one value per list, in row-major order.
fn cartesian(lists: &[Vec<u64>]) -> Vec<Vec<u64>> {
    let mut out: Vec<Vec<u64>> = vec![Vec::new()];
    for list in lists {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                list.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push(*v);
                    next
                })
            })
            .collect();
    }
    out
}

/// Calls `copy(out_offset, chunk_offset, n)` for each run of selected
/// elements of the chunk at `coord` (element offsets; a run is contiguous
/// in both the output and the chunk).
fn scatter(
    plans: &[DimPlan],
    coord: &[u64],
    out_strides: &[usize],
    chunk_strides: &[usize],
    mut copy: impl FnMut(usize, usize, usize),
) {
    let segments: Vec<Segment> = plans
        .iter()
        .zip(coord)
        .filter_map(|(p, c)| p.get(c).copied())
        .collect();
    if segments.len() != plans.len() || segments.iter().any(|s| s.count == 0) {
        return;
    }
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    // Offsets of the `j`th element of dimension `d`'s segment.
    let at = |d: usize, j: u64| -> (usize, usize) {
        let s = segments[d];
        (
            size(s.out + j).saturating_mul(out_strides[d]),
            size(s.local + j * s.step).saturating_mul(chunk_strides[d]),
        )
    };
    let rank = segments.len();
    let last = segments[rank - 1];
    let mut idx = vec![0u64; rank - 1];
    loop {
        let (mut o, mut l) = (0usize, 0usize);
        for (d, &j) in idx.iter().enumerate() {
            let (od, ld) = at(d, j);
            o += od;
            l += ld;
        }
        if last.step == 1 {
            let (ol, ll) = at(rank - 1, 0);
            copy(o + ol, l + ll, size(last.count));
        } else {
            for j in 0..last.count {
                let (ol, ll) = at(rank - 1, j);
                copy(o + ol, l + ll, 1);
            }
        }
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < segments[d].count {
                break;
            }
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cartesian_order() {
        assert_eq!(
            cartesian(&[vec![0, 1], vec![5, 6]]),
            vec![vec![0, 5], vec![0, 6], vec![1, 5], vec![1, 6]]
        );
        assert_eq!(cartesian(&[]), vec![Vec::<u64>::new()]);
    }

    #[test]
    fn plans_cut_selections_at_chunks() {
        let dim = |start, step, count| ResolvedDim {
            start,
            step,
            count,
            keep: true,
        };
        // 2..10 in chunks of 4: [2,3] [4..8] [8,9].
        let p = plan_dim(&dim(2, 1, 8), 4);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[&1],
            Segment {
                out: 2,
                local: 0,
                count: 4,
                step: 1
            }
        );
        assert_eq!(p[&2].count, 2);
        // 1, 4, 7, 10 in chunks of 4: [1] [4, 7] [10].
        let p = plan_dim(&dim(1, 3, 4), 4);
        let counts: Vec<(u64, u64, u64)> = p.iter().map(|(k, s)| (*k, s.out, s.count)).collect();
        assert_eq!(counts, vec![(0, 0, 1), (1, 1, 2), (2, 3, 1)]);
        assert_eq!(p[&1].local, 0);
        // A step longer than a chunk skips chunks.
        let p = plan_dim(&dim(0, 10, 3), 4);
        assert_eq!(p.keys().copied().collect::<Vec<_>>(), vec![0, 2, 5]);
        // The last element of a dimension of u64::MAX elements, in chunks
        // whose end would overflow.
        let chunk = (1u64 << 63) + 1;
        let p = plan_dim(&dim(u64::MAX - 1, 1, 1), chunk);
        assert_eq!(p[&1].local, u64::MAX - 1 - chunk);
        assert_eq!(p[&1].count, 1);
        // The chunk counts checked before planning.
        assert_eq!(chunks_touched(&dim(2, 1, 8), 4), 3);
        assert_eq!(chunks_touched(&dim(0, 10, 3), 4), 3);
        assert_eq!(chunks_touched(&dim(0, 1, 0), 4), 0);
        assert_eq!(chunks_touched(&dim(0, 1, 1 << 40), 1), 1 << 40);
    }

    #[test]
    fn scatter_runs() {
        // A 4x4 chunk; rows 1..3, columns 0, 2 (out 2x2).
        let mut plans = vec![DimPlan::new(), DimPlan::new()];
        plans[0].insert(
            0,
            Segment {
                out: 0,
                local: 1,
                count: 2,
                step: 1,
            },
        );
        plans[1].insert(
            0,
            Segment {
                out: 0,
                local: 0,
                count: 2,
                step: 2,
            },
        );
        let mut calls = Vec::new();
        scatter(
            &plans,
            &[0, 0],
            &strides(&[2, 2]),
            &strides(&[4, 4]),
            |o, l, n| {
                calls.push((o, l, n));
            },
        );
        assert_eq!(calls, vec![(0, 4, 1), (1, 6, 1), (2, 8, 1), (3, 10, 1)]);
        // Contiguous along the last dimension: one run per row.
        plans[1].insert(
            0,
            Segment {
                out: 0,
                local: 1,
                count: 3,
                step: 1,
            },
        );
        let mut calls = Vec::new();
        scatter(
            &plans,
            &[0, 0],
            &strides(&[2, 3]),
            &strides(&[4, 4]),
            |o, l, n| {
                calls.push((o, l, n));
            },
        );
        assert_eq!(calls, vec![(0, 5, 3), (3, 9, 3)]);
    }
}
