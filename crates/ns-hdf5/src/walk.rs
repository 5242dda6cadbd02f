//! Fetching ahead what resolving a dataset's path will read, before
//! hdf5-reader resolves it.
//!
//! hdf5-reader resolves `/a/b/c` one object at a time and parses each
//! object header whole, continuation blocks included, before it looks at the
//! next: on a remote file every continuation block outside the pages already
//! cached is one dependent round trip. Files that pynwb/h5py wrote and then
//! extended have them: a group header that attributes outgrew continues
//! megabytes away, near the end of the file, and the root group's symbol
//! table message itself may be there.
//!
//! libhdf5 keeps, in each group's symbol table entry (the superblock's for
//! the root, a symbol table node's for the others), the addresses of that
//! group's B-tree and local heap ("cache type 1"). Here they serve as hints
//! only: the path is walked through them without parsing the group headers,
//! every object header met on the way has its continuation blocks queued,
//! and the queue goes out together with the next read that misses the cache
//! (the dataset's chunk index node, its chunks, or its contiguous bytes), so
//! that independent reads share one round trip. Continuation blocks met in
//! fetched blocks are queued in turn. Nothing found here is trusted: the
//! real read parses everything again (now from the cache) and reports
//! errors; a hint that is wrong only costs a useless read. Anything
//! unexpected (version 2 object headers, link messages, shared messages, an
//! unknown layout) ends the walk, and the reads happen as before.

use std::collections::HashSet;
use std::ops::Range;

use hdf5_reader::{SliceInfo, SliceInfoElem};
use ns_io::{Bytes, ReadAt};

use crate::file::H5File;
use crate::plan::{Bounds, V1Index, limit_prefetch, uint, v1_chunk_ranges};
use crate::storage::MAX_PREFETCH_BYTES;

/// Queued blocks are fetched as the aligned block of this size around them,
/// as the page cache reads ahead a small miss (its `readahead_bytes`):
/// metadata clusters, so the next continuation is often in it.
const BLOCK: u64 = 256 * 1024;
/// Most continuation blocks queued for one path (each a block read).
const MAX_QUEUED: usize = 16;
/// Most symbol-table nodes (B-tree nodes and SNODs) read per level.
const MAX_NODES: usize = 256;
/// Largest local heap data segment read to compare names.
const MAX_HEAP: u64 = 1 << 20;
/// Longest B-tree walked.
const MAX_DEPTH: usize = 16;
/// Most bytes of nodes read at once (default-sized group nodes are well
/// under 1 KiB each).
const MAX_READ: u64 = 4 << 20;
/// Most entries of one group tried while its names are not yet fetched
/// (see [`Walk::speculate`]), and most bytes and reads fetched for them.
const MAX_CANDIDATES: usize = 64;
const MAX_SPECULATIVE_BYTES: u64 = 1 << 20;
const MAX_SPECULATIVE_READS: usize = 32;

/// Message types of version-1 object headers.
const MSG_DATASPACE: u16 = 0x01;
const MSG_DATATYPE: u16 = 0x03;
const MSG_LAYOUT: u16 = 0x08;
const MSG_CONTINUATION: u16 = 0x10;

struct Walk<'a> {
    file: &'a H5File,
    len: u64,
    offset_size: usize,
    length_size: usize,
    /// Blocks (address, length, is the 16-byte header prefix) queued and
    /// not yet parsed: a prefix gives the header's first block, a block its
    /// continuations.
    blocks: Vec<(u64, u64, bool)>,
    /// Blocks ever queued (each parsed once).
    queued: HashSet<u64>,
    /// Block reads (aligned) not yet fetched.
    pending: Vec<Range<u64>>,
    /// Speculating (see [`Walk::speculate`]): reads come from the cache
    /// only, and the first one that misses is noted here instead.
    offline: bool,
    wanted: Vec<Range<u64>>,
}

/// What the final object's header says, as far as read here.
#[derive(Default)]
struct Object {
    dims: Option<Vec<u64>>,
    element: Option<u64>,
    /// Layout version 3: chunked (v1 B-tree address, chunk dims without the
    /// element size) or contiguous (address, size).
    chunked: Option<(u64, Vec<u32>)>,
    contiguous: Option<(u64, u64)>,
}

impl H5File {
    /// Fetches ahead the metadata and data that reading `selection` of the
    /// dataset at `path` will read (see the module docs). Returns whether
    /// the selected chunks were fetched (the planner then has nothing left
    /// to do). Best effort: never an error.
    pub(crate) fn prefetch_path(&self, path: &str, selection: &ns_model::Selection) -> bool {
        if !self.options.plan_reads {
            return false;
        }
        let superblock = self.inner.superblock();
        let Some(entry) = superblock.root_symbol_table_entry.as_ref() else {
            return false;
        };
        let (Some(btree), Some(heap)) = (entry.btree_address(), entry.local_heap_address()) else {
            return false;
        };
        let base = superblock.base_address;
        if base != 0 {
            return false;
        }
        let mut walk = Walk::new(
            self,
            usize::from(superblock.offset_size),
            usize::from(superblock.length_size),
            false,
        );
        if !matches!(walk.offset_size, 2 | 4 | 8) || !matches!(walk.length_size, 2 | 4 | 8) {
            return false;
        }
        let k = match superblock.indexed_storage_k {
            0 => 32,
            k => usize::from(k),
        };
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        if parts.is_empty() {
            return false;
        }
        let done = walk.run(
            &parts,
            entry.object_header_address,
            Some((btree, heap)),
            selection,
            k,
        );
        // What is still queued goes out now: the real read needs it.
        walk.flush();
        done
    }
}

impl<'a> Walk<'a> {
    fn new(file: &'a H5File, offset_size: usize, length_size: usize, offline: bool) -> Self {
        Walk {
            file,
            len: file.source.len(),
            offset_size,
            length_size,
            blocks: Vec::new(),
            queued: HashSet::new(),
            pending: Vec::new(),
            offline,
            wanted: Vec::new(),
        }
    }

    /// Walks `parts` down from the group whose header is at `header` (with
    /// its (B-tree, heap) hint) to the dataset, and fetches what reading
    /// `selection` of it needs.
    fn run(
        &mut self,
        parts: &[&str],
        mut header: u64,
        mut hint: Option<(u64, u64)>,
        selection: &ns_model::Selection,
        k: usize,
    ) -> bool {
        for (i, part) in parts.iter().enumerate() {
            self.queue_header(header);
            let Some((btree, heap)) = hint else {
                return false;
            };
            let rest = Rest {
                parts: &parts[i + 1..],
                selection,
                k,
            };
            let Some((child, child_hint)) = self.lookup(btree, heap, part, &rest) else {
                return false;
            };
            header = child;
            hint = child_hint;
        }
        // The dataset: its header's messages, continuation blocks included.
        self.queue_header(header);
        let Some(object) = self.object(header) else {
            return false;
        };
        let Some(dims) = object.dims else {
            return false;
        };
        let Ok(resolved) = selection.resolve(&dims) else {
            return false;
        };
        if resolved.iter().any(|r| r.count == 0) {
            return false;
        }
        let bounds: Bounds = resolved
            .iter()
            .map(|r| r.start..r.start + (r.count - 1) * r.step + 1)
            .collect();
        if let Some((btree, chunk_dims)) = object.chunked {
            let info = SliceInfo {
                selections: resolved
                    .iter()
                    .map(|r| SliceInfoElem::Slice {
                        start: r.start,
                        end: r.start + (r.count - 1) * r.step + 1,
                        step: r.step.max(1),
                    })
                    .collect(),
            };
            let index = V1Index {
                btree,
                chunk_dims: &chunk_dims,
                offset_size: self.offset_size,
                k,
                file_len: self.len,
            };
            let mut fetch = |ranges: &[Range<u64>]| self.read(ranges);
            let Some(mut chunks) = v1_chunk_ranges(&mut fetch, &index, &bounds, &info) else {
                return false;
            };
            limit_prefetch(&mut chunks);
            chunks.retain(|r| !self.file.source.is_cached(r.clone()));
            if chunks.is_empty() {
                return true;
            }
            self.read_with_pending(&chunks).is_some()
        } else if let (Some((address, size)), Some(element)) = (object.contiguous, object.element) {
            // The bytes from the first selected element to the last.
            let linear = |at: &dyn Fn(&Range<u64>) -> u64| {
                bounds
                    .iter()
                    .zip(&dims)
                    .try_fold(0u64, |acc, (b, &d)| acc.checked_mul(d)?.checked_add(at(b)))
            };
            let (Some(first), Some(last)) = (linear(&|b| b.start), linear(&|b| b.end - 1)) else {
                return false;
            };
            let (Some(start), Some(end)) = (
                first.checked_mul(element),
                last.checked_add(1).and_then(|n| n.checked_mul(element)),
            ) else {
                return false;
            };
            if end > size || end - start > MAX_PREFETCH_BYTES {
                return false;
            }
            let (Some(start), Some(end)) = (address.checked_add(start), address.checked_add(end))
            else {
                return false;
            };
            if end > self.len || self.file.source.is_cached(start..end) {
                return false;
            }
            // Not "done": the planner has nothing to do for contiguous data.
            let _ = self.read_with_pending(std::slice::from_ref(&(start..end)));
            false
        } else {
            false
        }
    }

    /// Reads `ranges` for the walk itself: from the cache when it holds
    /// them all, else together with everything queued, in one batch.
    fn read(&mut self, ranges: &[Range<u64>]) -> Option<Vec<Bytes>> {
        if ranges.iter().any(|r| r.end > self.len || r.start > r.end) {
            return None;
        }
        // Sizes come from the file (node K values, heap lengths): a hostile
        // one ends the walk instead of asking for megabytes of "metadata".
        if ranges.iter().map(|r| r.end - r.start).sum::<u64>() > MAX_READ {
            return None;
        }
        self.follow();
        if ranges.iter().all(|r| self.file.source.is_cached(r.clone())) {
            return self.file.source.read_ranges(ranges).ok();
        }
        if self.offline {
            let missing = ranges
                .iter()
                .filter(|r| !self.file.source.is_cached((*r).clone()));
            self.wanted.extend(missing.cloned());
            return None;
        }
        self.read_with_pending(ranges)
    }

    fn read_one(&mut self, range: Range<u64>) -> Option<Bytes> {
        self.read(std::slice::from_ref(&range))?.pop()
    }

    fn read_with_pending(&mut self, ranges: &[Range<u64>]) -> Option<Vec<Bytes>> {
        if self.offline {
            // Speculation fetches metadata only, never a candidate's data.
            return None;
        }
        self.follow();
        let mut batch = ranges.to_vec();
        batch.append(&mut self.pending);
        let mut parts = self.file.source.read_ranges(&batch).ok()?;
        parts.truncate(ranges.len());
        self.follow();
        Some(parts)
    }

    /// Fetches what is still queued (following chains of continuation
    /// blocks, one round each, as the real parse would).
    fn flush(&mut self) {
        for _ in 0..MAX_DEPTH {
            self.follow();
            if self.pending.is_empty() {
                return;
            }
            let batch = std::mem::take(&mut self.pending);
            if self.file.source.read_ranges(&batch).is_err() {
                return;
            }
        }
    }

    /// Queues the version-1 object header at `address`: its prefix, then
    /// its blocks as they arrive.
    fn queue_header(&mut self, address: u64) {
        self.queue(address, 16, true);
    }

    fn queue(&mut self, address: u64, size: u64, prefix: bool) {
        let Some(end) = address.checked_add(size) else {
            return;
        };
        if size == 0 || end > self.len || self.queued.len() >= MAX_QUEUED {
            return;
        }
        if !self.queued.insert(address) {
            return;
        }
        self.blocks.push((address, size, prefix));
        if !self.file.source.is_cached(address..end) {
            let start = address / BLOCK * BLOCK;
            let block_end = (start + BLOCK).min(self.len).max(end);
            self.pending.push(start..block_end);
        }
    }

    /// Parses the queued blocks now cached, queueing their continuations.
    fn follow(&mut self) {
        loop {
            let ready: Vec<(u64, u64, bool)> = self
                .blocks
                .iter()
                .copied()
                .filter(|&(a, n, _)| self.file.source.is_cached(a..a + n))
                .collect();
            if ready.is_empty() {
                return;
            }
            self.blocks.retain(|b| !ready.contains(b));
            for (a, n, prefix) in ready {
                let Ok(bytes) = self.file.source.read_range(a..a + n) else {
                    continue;
                };
                if prefix {
                    // Version 1 only; the first block starts 16 bytes in.
                    if bytes.len() == 16 && bytes[0] == 1 {
                        let size = u64::from(u32::from_le_bytes([
                            bytes[8], bytes[9], bytes[10], bytes[11],
                        ]));
                        self.queue(a + 16, size, false);
                    }
                    continue;
                }
                for (kind, body) in messages(&bytes) {
                    if kind == MSG_CONTINUATION
                        && let Some((at, size)) = self.continuation(body)
                    {
                        self.queue(at, size, false);
                    }
                }
            }
        }
    }

    fn continuation(&self, body: &[u8]) -> Option<(u64, u64)> {
        Some((
            uint(body, 0, self.offset_size)?,
            uint(body, self.offset_size, self.length_size)?,
        ))
    }

    /// The messages of the dataset header at `address` that locate its
    /// data, reading its continuation blocks as needed.
    fn object(&mut self, address: u64) -> Option<Object> {
        let b = self.read_one(address..address.checked_add(16)?)?;
        if b.len() < 16 || b[0] != 1 {
            return None;
        }
        let size = u64::from(u32::from_le_bytes([b[8], b[9], b[10], b[11]]));
        let mut todo = vec![(address + 16, size)];
        let mut seen = HashSet::new();
        let mut object = Object::default();
        while let Some((at, n)) = todo.pop() {
            if !seen.insert(at) || seen.len() > MAX_QUEUED || n > 1 << 20 {
                continue;
            }
            let block = self.read_one(at..at.checked_add(n)?)?;
            for (kind, body) in messages(&block) {
                match kind {
                    MSG_CONTINUATION => todo.push(self.continuation(body)?),
                    MSG_DATASPACE => object.dims = self.dataspace(body),
                    MSG_DATATYPE => {
                        object.element = uint(body, 4, 4).filter(|&n| n > 0);
                    }
                    MSG_LAYOUT => {
                        // Version 3 only; classes: 1 contiguous, 2 chunked.
                        if body.first() != Some(&3) {
                            return None;
                        }
                        match body.get(1) {
                            Some(1) => {
                                object.contiguous = Some((
                                    uint(body, 2, self.offset_size)?,
                                    uint(body, 2 + self.offset_size, self.length_size)?,
                                ));
                            }
                            Some(2) => {
                                let rank = usize::from(*body.get(2)?);
                                let address = uint(body, 3, self.offset_size)?;
                                let dims = (0..rank.checked_sub(1)?)
                                    .map(|d| {
                                        uint(body, 3 + self.offset_size + 4 * d, 4)
                                            .and_then(|v| u32::try_from(v).ok())
                                    })
                                    .collect::<Option<Vec<u32>>>()?;
                                object.chunked = Some((address, dims));
                            }
                            _ => return None,
                        }
                    }
                    _ => {}
                }
            }
        }
        Some(object)
    }

    fn dataspace(&self, body: &[u8]) -> Option<Vec<u64>> {
        let rank = usize::from(*body.get(1)?);
        let first = match body.first()? {
            1 => 8,
            2 => 4,
            _ => return None,
        };
        // A null dataspace (version 2, type 2) has no elements.
        if *body.first()? == 2 && body.get(3) == Some(&2) {
            return None;
        }
        (0..rank)
            .map(|d| uint(body, first + d * self.length_size, self.length_size))
            .collect()
    }

    /// The entry named `name` in the group whose symbol table is the B-tree
    /// at `btree` with names in the local heap at `heap`: its object header
    /// address and, for a group, its own (B-tree, heap) hint.
    fn lookup(
        &mut self,
        btree: u64,
        heap: u64,
        name: &str,
        rest: &Rest<'_>,
    ) -> Option<(u64, Option<(u64, u64)>)> {
        let o = self.offset_size;
        let l = self.length_size;
        // The heap header and the B-tree root in one read.
        let heap_len = (8 + 2 * l + o) as u64;
        let parts = self.read(&[
            heap..heap.checked_add(heap_len)?,
            btree..btree.checked_add(self.node_len())?.min(self.len),
        ])?;
        let h = &parts[0];
        if h.get(..4)? != b"HEAP" {
            return None;
        }
        let data_size = uint(h, 8, l)?;
        let data_at = uint(h, 8 + 2 * l, o)?;
        if data_size > MAX_HEAP {
            return None;
        }
        let names = data_at..data_at.checked_add(data_size)?;
        // The B-tree down to its leaves (SNOD addresses).
        let mut level = vec![parts[1].clone()];
        let mut snods = Vec::new();
        for _ in 0..MAX_DEPTH {
            let mut next = Vec::new();
            for node in &level {
                if node.get(..5)? != b"TREE\0" {
                    return None;
                }
                let depth = *node.get(5)?;
                let entries = usize::from(u16::from_le_bytes([*node.get(6)?, *node.get(7)?]));
                // Keys (heap offsets, `l` bytes) and children alternate.
                let mut pos = 8 + 2 * o + l;
                for _ in 0..entries {
                    let child = uint(node, pos, o)?;
                    pos += o + l;
                    if depth == 0 {
                        snods.push(child);
                    } else {
                        next.push(child);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            if next.len() > MAX_NODES {
                return None;
            }
            let ranges: Vec<Range<u64>> = next
                .iter()
                .map(|&a| Some(a..a.checked_add(self.node_len())?.min(self.len)))
                .collect::<Option<_>>()?;
            level = self.read(&ranges)?;
        }
        if snods.is_empty() || snods.len() > MAX_NODES {
            return None;
        }
        // Symbol table nodes: "SNOD", version, reserved, count, entries.
        let entry_len = 2 * o + 8 + 16;
        let leaf_k = match self.file.inner.superblock().group_leaf_node_k {
            0 => 4,
            k => usize::from(k),
        };
        let snod_len = (8 + 2 * leaf_k * entry_len) as u64;
        let mut ranges: Vec<Range<u64>> = snods
            .iter()
            .map(|&a| Some(a..a.checked_add(snod_len)?.min(self.len)))
            .collect::<Option<_>>()?;
        let cached = |r: &Range<u64>| self.file.source.is_cached(r.clone());
        let here: Vec<Range<u64>> = ranges.iter().filter(|r| cached(r)).cloned().collect();
        let all_here = here.len() == ranges.len() && cached(&names);
        ranges.push(names);
        if !self.offline && !here.is_empty() && !all_here {
            // The names or some entries are a round trip away, other
            // entries are here: what the rest of the path needs under each
            // of these goes out with the missing ones.
            if let Some(nodes) = self.read(&here) {
                self.speculate(&nodes, rest);
            }
        }
        let mut nodes = self.read(&ranges)?;
        let heap_data = nodes.pop()?;
        for node in nodes {
            if node.get(..4)? != b"SNOD" {
                return None;
            }
            let count = usize::from(u16::from_le_bytes([*node.get(6)?, *node.get(7)?]));
            for i in 0..count {
                let e = 8 + i * entry_len;
                let name_at = usize::try_from(uint(&node, e, o)?).ok()?;
                let rest = heap_data.get(name_at..)?;
                let end = rest.iter().position(|&c| c == 0)?;
                if &rest[..end] != name.as_bytes() {
                    continue;
                }
                let header = uint(&node, e + o, o)?;
                let cache = uint(&node, e + 2 * o, 4)?;
                let hint = if cache == 1 {
                    Some((
                        uint(&node, e + 2 * o + 8, o)?,
                        uint(&node, e + 3 * o + 8, o)?,
                    ))
                } else {
                    None
                };
                return Some((header, hint));
            }
        }
        None
    }

    /// Before the names of a group's entries are fetched (its local heap
    /// lies outside the cache, as the root's does in a file extended after
    /// it was written): walks the rest of the path under each entry, from
    /// the cache only, as if it were the one named, and queues the first
    /// read each of those walks misses (a group's names, a dataset's
    /// header, a chunk index node). The real walk then finds what it needs
    /// next already fetched, with the names, instead of one round trip
    /// later. Bounded: a few candidates, a few reads, no data.
    fn speculate(&mut self, nodes: &[Bytes], rest: &Rest<'_>) {
        let o = self.offset_size;
        let entry_len = 2 * o + 8 + 16;
        let mut wanted: Vec<Range<u64>> = Vec::new();
        let entries = nodes.iter().flat_map(|node| {
            // Symbol table nodes only ("SNOD", version, reserved, count).
            let count = node
                .get(..8)
                .filter(|h| h.starts_with(b"SNOD"))
                .map_or(0, |h| usize::from(u16::from_le_bytes([h[6], h[7]])));
            (0..count).map(move |i| (node, 8 + i * entry_len))
        });
        for (node, e) in entries.take(MAX_CANDIDATES) {
            let Some(header) = uint(node, e + o, o) else {
                continue;
            };
            let hint = match uint(node, e + 2 * o, 4) {
                Some(1) => uint(node, e + 2 * o + 8, o).zip(uint(node, e + 3 * o + 8, o)),
                _ => None,
            };
            let mut candidate = Walk::new(self.file, o, self.length_size, true);
            if rest.parts.is_empty() {
                // The entry itself would be the dataset: its header.
                let _ = candidate.object(header);
            } else {
                let _ = candidate.run(rest.parts, header, hint, rest.selection, rest.k);
            }
            wanted.extend(candidate.wanted);
        }
        ns_sort::sort_by_key(&mut wanted, |r| r.start);
        wanted.dedup();
        let mut bytes = 0u64;
        for r in wanted.into_iter().take(MAX_SPECULATIVE_READS) {
            bytes += r.end - r.start;
            if bytes > MAX_SPECULATIVE_BYTES {
                break;
            }
            self.pending.push(r);
        }
    }

    /// Bytes of a group B-tree node (2K children, the superblock's group
    /// internal node K; HDF5's default 16 when it says 0).
    fn node_len(&self) -> u64 {
        let k = match self.file.inner.superblock().group_internal_node_k {
            0 => 16,
            k => usize::from(k),
        };
        (8 + 2 * self.offset_size + (2 * k + 1) * self.length_size + 2 * k * self.offset_size)
            as u64
    }
}

/// What follows a group on the path being walked.
struct Rest<'a> {
    parts: &'a [&'a str],
    selection: &'a ns_model::Selection,
    k: usize,
}

/// The messages of a version-1 object header block: (type, body).
/// Version-1 messages: type (2), size (2), flags (1), reserved (3), body.
/// A shared message (flag 0x02) holds a reference, not the message: skipped.
fn messages(block: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 8 <= block.len() {
        let kind = u16::from_le_bytes([block[pos], block[pos + 1]]);
        let size = usize::from(u16::from_le_bytes([block[pos + 2], block[pos + 3]]));
        let flags = block[pos + 4];
        let Some(body) = block.get(pos + 8..pos + 8 + size) else {
            break;
        };
        if flags & 0x02 == 0 {
            out.push((kind, body));
        }
        pos += 8 + size;
    }
    out
}
