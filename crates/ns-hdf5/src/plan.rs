//! Planning a selection's reads before making them.
//!
//! hdf5-reader walks a version-1 B-tree chunk index one node at a time and
//! visits every leaf, even for a selection inside one chunk: on a remote
//! file that is one round trip per node. Here the index is walked level by
//! level, keeping only the subtrees that can hold selected chunks, each
//! level's nodes fetched together; then every selected chunk is fetched in
//! one concurrent batch. The other indexes (fixed and extensible arrays,
//! version-2 B-trees, single chunk, implicit) are walked by hdf5-reader
//! itself, which batches each level's reads through `Storage::prefetch`
//! (vendor patch 5); then their selected chunks are fetched in one batch
//! too. The reads that follow are served by the page cache. Everything here
//! is best effort: the real read reports errors.

use std::collections::HashSet;
use std::ops::Range;

use hdf5_reader::messages::HdfMessage;
use hdf5_reader::messages::layout::DataLayout;
use hdf5_reader::{Dataset, SliceInfo, SliceInfoElem};
use ns_io::ReadAt;

use crate::file::H5File;
use crate::storage::MAX_PREFETCH_BYTES;
/// Deepest index walked.
const MAX_LEVELS: usize = 32;

/// Per dimension, the selected element range `lo..hi`.
pub(crate) type Bounds = Vec<Range<u64>>;

struct Node {
    level: u8,
    /// `(key offsets, child address, chunk size)`: for leaves the child is a
    /// chunk; keys hold each child's first chunk offsets.
    children: Vec<(Vec<u64>, u64, u32)>,
    /// The key after the last child (upper bound of the last subtree).
    last_key: Vec<u64>,
}

impl H5File {
    /// Fetches the index nodes and chunks that `selection` (enclosed by
    /// `bounds`) of `ds` needs, each level of the index in one round of
    /// concurrent requests, then the chunks in one more.
    pub(crate) fn prefetch_chunks(&self, ds: &Dataset, bounds: &Bounds, selection: &SliceInfo) {
        if !self.options.plan_reads {
            return;
        }
        let Ok(header) = self.inner.get_or_parse_header(ds.address()) else {
            return;
        };
        let Some((btree, chunk_dims, v1)) = header.messages.iter().find_map(|m| match m {
            HdfMessage::DataLayout(l) => match &l.layout {
                DataLayout::Chunked {
                    address,
                    dims,
                    chunk_indexing,
                    ..
                } => Some((*address, dims.clone(), chunk_indexing.is_none())),
                _ => None,
            },
            _ => None,
        }) else {
            return;
        };
        if !v1 {
            // Every index but the v1 B-tree: hdf5-reader's own walk.
            let _ = ds.prefetch_slice(selection, MAX_PREFETCH_BYTES);
            return;
        }
        let superblock = self.inner.superblock();
        let offset_size = usize::from(superblock.offset_size);
        // Version 0 superblocks do not store K; HDF5's default is 32.
        let k = match superblock.indexed_storage_k {
            0 => 32,
            k => usize::from(k),
        };
        let file_len = self.source.len();
        let mut fetch = |ranges: &[Range<u64>]| self.source.read_ranges(ranges).ok();
        let Some(mut chunks) = v1_chunk_ranges(
            &mut fetch,
            &V1Index {
                btree,
                chunk_dims: &chunk_dims,
                offset_size,
                k,
                file_len,
            },
            bounds,
            selection,
        ) else {
            return;
        };
        limit_prefetch(&mut chunks);
        if !chunks.is_empty() {
            let _ = self.source.read_ranges(&chunks);
        }
    }
}

/// Reads a batch of ranges (`None`: give up).
pub(crate) type Fetch<'a> = dyn FnMut(&[Range<u64>]) -> Option<Vec<ns_io::Bytes>> + 'a;

/// A version-1 B-tree chunk index and what reading its nodes takes.
pub(crate) struct V1Index<'a> {
    pub btree: u64,
    pub chunk_dims: &'a [u32],
    pub offset_size: usize,
    /// The superblock's indexed storage K (32 when it stores 0).
    pub k: usize,
    pub file_len: u64,
}

/// The first chunks up to [`MAX_PREFETCH_BYTES`] (the rest are read as the
/// read needs them).
pub(crate) fn limit_prefetch(chunks: &mut Vec<Range<u64>>) {
    let mut total = 0u64;
    chunks.retain(|r| {
        total = total.saturating_add(r.end - r.start);
        total <= MAX_PREFETCH_BYTES
    });
}

/// Walks a version-1 B-tree chunk index level by level, each level's nodes
/// read by one `fetch` (a batch), keeping only the subtrees that can hold
/// chunks of `bounds`; returns the byte ranges of the selected chunks
/// (`None` when a node cannot be read or parsed: the real read decides).
pub(crate) fn v1_chunk_ranges(
    fetch: &mut Fetch<'_>,
    index: &V1Index<'_>,
    bounds: &Bounds,
    selection: &SliceInfo,
) -> Option<Vec<Range<u64>>> {
    let V1Index {
        btree,
        chunk_dims,
        offset_size,
        k,
        file_len,
    } = *index;
    if chunk_dims.len() != bounds.len() || bounds.iter().any(|b| b.start >= b.end) {
        return None;
    }
    if !matches!(offset_size, 1 | 2 | 4 | 8) {
        return None;
    }
    // Each key: chunk size (4), filter mask (4), one offset per dimension
    // plus the element-size dimension.
    let key_len = 8 + 8 * (chunk_dims.len() + 1);
    let node_len = (8 + 2 * offset_size + (2 * k + 1) * key_len + 2 * k * offset_size) as u64;
    let first_chunk: Vec<u64> = bounds
        .iter()
        .zip(chunk_dims)
        .map(|(b, &d)| b.start / u64::from(d.max(1)))
        .collect();
    let last_chunk: Vec<u64> = bounds
        .iter()
        .zip(chunk_dims)
        .map(|(b, &d)| (b.end - 1) / u64::from(d.max(1)))
        .collect();
    let mut level: Vec<u64> = vec![btree];
    let mut seen: HashSet<u64> = HashSet::new();
    for _ in 0..MAX_LEVELS {
        level.retain(|a| *a < file_len && seen.insert(*a));
        if level.is_empty() {
            return None;
        }
        let ranges: Vec<Range<u64>> = level
            .iter()
            .map(|&a| a..a.saturating_add(node_len).min(file_len))
            .collect();
        let parts = fetch(&ranges)?;
        let mut next = Vec::new();
        let mut chunks: Vec<Range<u64>> = Vec::new();
        for part in &parts {
            let node = parse_node(part, offset_size, chunk_dims.len())?;
            if node.level == 0 {
                for (offsets, addr, size) in &node.children {
                    // Addresses and sizes are the file's: one that
                    // overflows is not fetched.
                    if let (true, Some(end)) = (
                        chunk_selected(offsets, chunk_dims, selection),
                        addr.checked_add(u64::from(*size)),
                    ) {
                        chunks.push(*addr..end);
                    }
                }
            } else {
                // Keys are sorted lexicographically by chunk index: a
                // child whose keys all lie before the box's first chunk
                // or after its last holds none of it (hdf5-reader's
                // walk prunes by the same rule, vendor patch 5).
                for (i, (offsets, addr, _)) in node.children.iter().enumerate() {
                    let upper = node.children.get(i + 1).map_or(&node.last_key, |c| &c.0);
                    let low = scaled(offsets, chunk_dims);
                    let high = scaled(upper, chunk_dims);
                    if low <= last_chunk && high >= first_chunk {
                        next.push(*addr);
                    }
                }
            }
        }
        if !chunks.is_empty() {
            chunks.retain(|r| r.end <= file_len);
            return Some(chunks);
        }
        level = next;
    }
    None
}

/// Chunk indices of element offsets (the first `chunk_dims.len()`).
fn scaled(offsets: &[u64], chunk_dims: &[u32]) -> Vec<u64> {
    offsets
        .iter()
        .zip(chunk_dims)
        .map(|(&o, &d)| o / u64::from(d.max(1)))
        .collect()
}

/// Whether the chunk at element `offsets` holds an element of `selection`
/// (a strided selection skips the chunks between its elements).
fn chunk_selected(offsets: &[u64], chunk_dims: &[u32], selection: &SliceInfo) -> bool {
    offsets.len() >= selection.selections.len()
        && selection
            .selections
            .iter()
            .zip(offsets)
            .zip(chunk_dims)
            .all(|((sel, &lo), &dim)| {
                let hi = lo.saturating_add(u64::from(dim));
                let (start, end, step) = match *sel {
                    SliceInfoElem::Index(i) => (i, i.saturating_add(1), 1),
                    SliceInfoElem::Slice { start, end, step } => (start, end, step.max(1)),
                };
                if hi <= start || lo >= end {
                    return false;
                }
                let first = if lo <= start {
                    start
                } else {
                    start.saturating_add((lo - start).div_ceil(step).saturating_mul(step))
                };
                first < hi.min(end)
            })
}

fn parse_node(bytes: &[u8], offset_size: usize, rank: usize) -> Option<Node> {
    if bytes.get(..4)? != b"TREE" || *bytes.get(4)? != 1 {
        return None;
    }
    let level = *bytes.get(5)?;
    let entries = usize::from(u16::from_le_bytes([*bytes.get(6)?, *bytes.get(7)?]));
    let mut pos = 8 + 2 * offset_size;
    let read_u = |pos: usize, n: usize| -> Option<u64> {
        if n > 8 {
            return None;
        }
        let b = bytes.get(pos..pos.checked_add(n)?)?;
        let mut buf = [0u8; 8];
        buf[..n].copy_from_slice(b);
        Some(u64::from_le_bytes(buf))
    };
    let read_key = |pos: &mut usize| -> Option<(u32, Vec<u64>)> {
        let size = u32::try_from(read_u(*pos, 4)?).ok()?;
        *pos += 8;
        let mut offsets = Vec::with_capacity(rank);
        for d in 0..=rank {
            let v = read_u(*pos, 8)?;
            if d < rank {
                offsets.push(v);
            }
            *pos += 8;
        }
        Some((size, offsets))
    };
    // `entries` is the file's: a child takes at least 8 bytes of `bytes`.
    let mut children = Vec::with_capacity(entries.min(bytes.len() / 8));
    for _ in 0..entries {
        let (size, offsets) = read_key(&mut pos)?;
        let child = read_u(pos, offset_size)?;
        pos += offset_size;
        children.push((offsets, child, size));
    }
    let (_, last_key) = read_key(&mut pos)?;
    Some(Node {
        level,
        children,
        last_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v1 B-tree node of `entries` children over a rank-1 chunk grid.
    fn node(entries: u16, offset_size: usize) -> Vec<u8> {
        let mut b = b"TREE".to_vec();
        b.push(1); // type: chunks
        b.push(0); // level
        b.extend_from_slice(&entries.to_le_bytes());
        b.extend(std::iter::repeat_n(0xff, 2 * offset_size)); // siblings
        b
    }

    #[test]
    fn hostile_nodes_parse_to_none_or_bounded() {
        // An entry count of 65535 over an 8-byte node body: nothing is
        // reserved for 65535 children, and the node is incomplete.
        assert!(parse_node(&node(u16::MAX, 8), 8, 1).is_none());
        // Offsets wider than 8 bytes (a corrupt superblock): not read.
        let mut b = node(1, 16);
        b.extend(std::iter::repeat_n(0, 64));
        assert!(parse_node(&b, 16, 1).is_none());
        // A child whose offsets are u64::MAX parses; what uses it must not overflow.
        let mut b = node(1, 8);
        b.extend_from_slice(&8u32.to_le_bytes()); // chunk size
        b.extend_from_slice(&0u32.to_le_bytes()); // filter mask
        b.extend_from_slice(&u64::MAX.to_le_bytes()); // offset, dim 0
        b.extend_from_slice(&0u64.to_le_bytes()); // element-size dim
        b.extend_from_slice(&u64::MAX.to_le_bytes()); // child address
        b.extend(std::iter::repeat_n(0, 24)); // last key
        let n = parse_node(&b, 8, 1).expect("parses");
        let (offsets, addr, size) = &n.children[0];
        assert_eq!((offsets[0], *addr, *size), (u64::MAX, u64::MAX, 8));
        assert_eq!(addr.checked_add(u64::from(*size)), None);
    }
}
