//! Dataset region references: the referenced object and the selection
//! serialized beside it in the global heap (`H5S_SELECT_SERIALIZE` of the
//! HDF5 library: none, all, points and hyperslabs, versions 1 to 3), shown as
//! h5py's `f[ref].name` and the selection in numpy-like text.

/// Most blocks or points written out; the rest are counted.
const MAX_SHOWN: usize = 64;

const SEL_NONE: u32 = 0;
const SEL_POINTS: u32 = 1;
const SEL_HYPERSLABS: u32 = 2;
const SEL_ALL: u32 = 3;

/// The object address and the selection text of a region reference's heap
/// object (`offset_size` bytes of address, then the serialized selection).
pub(crate) fn decode(object: &[u8], offset_size: u8) -> Option<(u64, String)> {
    let n = usize::from(offset_size);
    if n == 0 || n > 8 {
        return None;
    }
    let addr_bytes = object.get(..n)?;
    let mut addr = [0u8; 8];
    addr[..n].copy_from_slice(addr_bytes);
    let address = u64::from_le_bytes(addr);
    let selection = selection_text(object.get(n..)?)?;
    Some((address, selection))
}

/// Reads the little-endian fields of a serialized selection.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) at: usize,
}

impl Reader<'_> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&[u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    pub(crate) fn uint(&mut self, n: usize) -> Option<u64> {
        let b = self.take(n)?;
        let mut v = [0u8; 8];
        v.get_mut(..n)?.copy_from_slice(b);
        Some(u64::from_le_bytes(v))
    }
    fn u32(&mut self) -> Option<u64> {
        self.uint(4)
    }
    fn u8(&mut self) -> Option<u64> {
        self.uint(1)
    }
    /// Bytes left, for bounding counts read from the data.
    fn left(&self) -> usize {
        self.bytes.len().saturating_sub(self.at)
    }
    /// A NUL-terminated string.
    pub(crate) fn cstr(&mut self) -> Option<String> {
        let rest = self.bytes.get(self.at..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        let s = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.at += end + 1;
        Some(s)
    }
}

/// A dataspace selection as HDF5 serializes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sel {
    None,
    All,
    /// Points in the order they were selected.
    Points(Vec<Vec<u64>>),
    /// A regular hyperslab: start, stride, count, block per dimension
    /// (`u64::MAX` count or block: unlimited).
    Regular(Vec<[u64; 4]>),
    /// Blocks given by their first and last (inclusive) coordinates.
    Blocks(Vec<(Vec<u64>, Vec<u64>)>),
}

/// Reads one serialized selection (`H5S_SELECT_SERIALIZE`), consuming
/// exactly its bytes.
pub(crate) fn parse_selection(r: &mut Reader<'_>) -> Option<Sel> {
    let kind = r.u32()?;
    let version = r.u32()?;
    match u32::try_from(kind).ok()? {
        SEL_NONE | SEL_ALL => {
            // Version 1: reserved and length fields, both zero.
            if version == 1 {
                r.take(8)?;
            }
            Some(if kind == u64::from(SEL_ALL) {
                Sel::All
            } else {
                Sel::None
            })
        }
        SEL_POINTS => points(r, version),
        SEL_HYPERSLABS => hyperslabs(r, version),
        _ => None,
    }
}

impl Sel {
    /// The selection as text: `[2:5]`, `[0:2, 1:4] + [5:6, 0:1]`,
    /// `points (1, 2), (3, 4)`, `[...]` (all), `[]` (none).
    pub(crate) fn text(&self) -> String {
        match self {
            Sel::None => "[]".into(),
            Sel::All => "[...]".into(),
            Sel::Points(points) => {
                let shown: Vec<String> = points
                    .iter()
                    .take(MAX_SHOWN)
                    .map(|p| {
                        let coords: Vec<String> = p.iter().map(ToString::to_string).collect();
                        format!("({})", coords.join(", "))
                    })
                    .collect();
                format!("points {}{}", shown.join(", "), more(points.len()))
            }
            Sel::Regular(dims) => {
                if dims.iter().any(|d| d[2] == u64::MAX || d[3] == u64::MAX) {
                    let dims: Vec<String> = dims
                        .iter()
                        .map(|d| {
                            let n = |v: u64| {
                                if v == u64::MAX {
                                    "unlimited".to_string()
                                } else {
                                    v.to_string()
                                }
                            };
                            format!(
                                "start {} stride {} count {} block {}",
                                d[0],
                                d[1],
                                n(d[2]),
                                n(d[3])
                            )
                        })
                        .collect();
                    return format!("hyperslab ({})", dims.join("; "));
                }
                let total = dims
                    .iter()
                    .try_fold(1usize, |n, d| n.checked_mul(usize::try_from(d[2]).ok()?))
                    .unwrap_or(usize::MAX);
                blocks_text(regular_blocks(dims, MAX_SHOWN), total)
            }
            Sel::Blocks(blocks) => blocks_text(
                blocks.iter().take(MAX_SHOWN).cloned().collect(),
                blocks.len(),
            ),
        }
    }
}

/// The first `max` blocks of a regular hyperslab, in row-major order of
/// their grid positions.
pub(crate) fn regular_blocks(dims: &[[u64; 4]], max: usize) -> Vec<(Vec<u64>, Vec<u64>)> {
    let rank = dims.len();
    let total = dims
        .iter()
        .try_fold(1usize, |n, d| n.checked_mul(usize::try_from(d[2]).ok()?))
        .unwrap_or(usize::MAX);
    let mut blocks = Vec::new();
    let mut index = vec![0u64; rank];
    for _ in 0..total.min(max) {
        let start: Vec<u64> = dims
            .iter()
            .zip(&index)
            .map(|(d, i)| d[0].saturating_add(d[1].saturating_mul(*i)))
            .collect();
        let end = start
            .iter()
            .zip(dims)
            .map(|(s, d)| s.saturating_add(d[3]).saturating_sub(1))
            .collect();
        blocks.push((start, end));
        for k in (0..rank).rev() {
            index[k] += 1;
            if index[k] < dims[k][2] {
                break;
            }
            index[k] = 0;
        }
    }
    blocks
}

fn blocks_text(blocks: Vec<(Vec<u64>, Vec<u64>)>, total: usize) -> String {
    let shown: Vec<String> = blocks
        .iter()
        .map(|(start, end)| {
            let dims: Vec<String> = start
                .iter()
                .zip(end)
                .map(|(s, e)| format!("{s}:{}", e.saturating_add(1)))
                .collect();
            format!("[{}]", dims.join(", "))
        })
        .collect();
    format!("{}{}", shown.join(" + "), more(total))
}

fn selection_text(bytes: &[u8]) -> Option<String> {
    parse_selection(&mut Reader { bytes, at: 0 }).map(|s| s.text())
}

fn points(r: &mut Reader<'_>, version: u64) -> Option<Sel> {
    let (enc, rank, count) = match version {
        1 => {
            r.take(8)?; // reserved, length
            (4, r.u32()?, r.u32()?)
        }
        2 => {
            let enc = usize::try_from(r.u8()?).ok()?;
            let rank = r.u32()?;
            (enc, rank, r.uint(enc)?)
        }
        _ => return None,
    };
    let rank = usize::try_from(rank)
        .ok()
        .filter(|r| (1..=32).contains(r))?;
    let count = usize::try_from(count).ok()?;
    if !matches!(enc, 2 | 4 | 8) || count > r.left() / (enc * rank) {
        return None;
    }
    let mut points = Vec::with_capacity(count);
    for _ in 0..count {
        let coords: Option<Vec<u64>> = (0..rank).map(|_| r.uint(enc)).collect();
        points.push(coords?);
    }
    Some(Sel::Points(points))
}

fn hyperslabs(r: &mut Reader<'_>, version: u64) -> Option<Sel> {
    let (enc, regular, rank) = match version {
        1 => {
            r.take(8)?; // reserved, length
            (4, false, r.u32()?)
        }
        2 => {
            let flags = r.u8()?;
            r.take(4)?; // length
            (8, flags & 1 != 0, r.u32()?)
        }
        3 => {
            let flags = r.u8()?;
            let enc = usize::try_from(r.u8()?).ok()?;
            (enc, flags & 1 != 0, r.u32()?)
        }
        _ => return None,
    };
    let rank = usize::try_from(rank)
        .ok()
        .filter(|r| (1..=32).contains(r))?;
    if !matches!(enc, 2 | 4 | 8) {
        return None;
    }
    // All ones in the encoded width: H5S_UNLIMITED.
    let unlimited = if enc == 8 {
        u64::MAX
    } else {
        (1u64 << (enc * 8)) - 1
    };
    let field = |r: &mut Reader<'_>| {
        r.uint(enc)
            .map(|v| if v == unlimited { u64::MAX } else { v })
    };
    if regular {
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push([field(r)?, field(r)?, field(r)?, field(r)?]);
        }
        return Some(Sel::Regular(dims));
    }
    let count = usize::try_from(r.uint(enc)?).ok()?;
    if count > r.left() / (enc * rank * 2) {
        return None;
    }
    let mut blocks = Vec::with_capacity(count);
    for _ in 0..count {
        let start: Option<Vec<u64>> = (0..rank).map(|_| r.uint(enc)).collect();
        let end: Option<Vec<u64>> = (0..rank).map(|_| r.uint(enc)).collect();
        blocks.push((start?, end?));
    }
    Some(Sel::Blocks(blocks))
}

fn more(total: usize) -> String {
    if total > MAX_SHOWN {
        format!(" + {} more", total - MAX_SHOWN)
    } else {
        String::new()
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn u32s(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn encodings_of_each_version() {
        // Hyperslab v1: two blocks of a 2-D selection.
        let v1 = u32s(&[2, 1, 0, 0, 2, 2, 0, 1, 1, 3, 4, 0, 4, 0]);
        assert_eq!(selection_text(&v1).unwrap(), "[0:2, 1:4] + [4:5, 0:1]");
        // Hyperslab v3, regular, 2-byte encoding: start 2, stride 3, count 2, block 1.
        let mut v3 = u32s(&[2, 3]);
        v3.extend([1, 2]);
        v3.extend(u32s(&[1]));
        v3.extend([2u8, 0, 3, 0, 2, 0, 1, 0]);
        assert_eq!(selection_text(&v3).unwrap(), "[2:3] + [5:6]");
        // Points v1 and v2.
        let p1 = u32s(&[1, 1, 0, 0, 2, 2, 1, 2, 3, 4]);
        assert_eq!(selection_text(&p1).unwrap(), "points (1, 2), (3, 4)");
        let mut p2 = u32s(&[1, 2]);
        p2.push(8);
        p2.extend(u32s(&[1]));
        p2.extend(1u64.to_le_bytes());
        p2.extend(7u64.to_le_bytes());
        assert_eq!(selection_text(&p2).unwrap(), "points (7)");
        assert_eq!(selection_text(&u32s(&[3, 1, 0, 0])).unwrap(), "[...]");
        assert_eq!(selection_text(&u32s(&[0, 1, 0, 0])).unwrap(), "[]");
        // Counts larger than the bytes there are refused, not allocated.
        let huge = u32s(&[2, 1, 0, 0, 1, u32::MAX]);
        assert!(selection_text(&huge).is_none());
    }
}
