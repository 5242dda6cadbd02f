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

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    fn uint(&mut self, n: usize) -> Option<u64> {
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
}

/// The selection as text: `[2:5]`, `[0:2, 1:4] + [5:6, 0:1]`, `points (1, 2), (3, 4)`, `[...]` (all),
/// `[]` (none).
fn selection_text(bytes: &[u8]) -> Option<String> {
    let mut r = Reader { bytes, at: 0 };
    let kind = r.u32()?;
    let version = r.u32()?;
    match u32::try_from(kind).ok()? {
        SEL_NONE => Some("[]".into()),
        SEL_ALL => Some("[...]".into()),
        SEL_POINTS => points(&mut r, version),
        SEL_HYPERSLABS => hyperslabs(&mut r, version),
        _ => None,
    }
}

fn points(r: &mut Reader<'_>, version: u64) -> Option<String> {
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
    let rank = usize::try_from(rank).ok().filter(|r| (1..=32).contains(r))?;
    let count = usize::try_from(count).ok()?;
    if !matches!(enc, 2 | 4 | 8) || count > r.left() / (enc * rank) {
        return None;
    }
    let mut shown = Vec::new();
    for _ in 0..count.min(MAX_SHOWN) {
        let coords: Option<Vec<String>> = (0..rank)
            .map(|_| r.uint(enc).map(|c| c.to_string()))
            .collect();
        shown.push(format!("({})", coords?.join(", ")));
    }
    Some(format!("points {}{}", shown.join(", "), more(count)))
}

fn hyperslabs(r: &mut Reader<'_>, version: u64) -> Option<String> {
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
    let rank = usize::try_from(rank).ok().filter(|r| (1..=32).contains(r))?;
    if !matches!(enc, 2 | 4 | 8) {
        return None;
    }
    let mut blocks: Vec<(Vec<u64>, Vec<u64>)> = Vec::new();
    let total;
    if regular {
        // start, stride, count, block per dimension: the blocks of the grid.
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push([r.uint(enc)?, r.uint(enc)?, r.uint(enc)?, r.uint(enc)?]);
        }
        total = dims
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(usize::try_from(d[2]).ok()?))?;
        let mut index = vec![0u64; rank];
        for _ in 0..total.min(MAX_SHOWN) {
            let start: Vec<u64> = dims
                .iter()
                .zip(&index)
                .map(|(d, i)| d[0].saturating_add(d[1].saturating_mul(*i)))
                .collect();
            let end = start
                .iter()
                .zip(&dims)
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
    } else {
        let count = usize::try_from(r.uint(enc)?).ok()?;
        if count > r.left() / (enc * rank * 2) {
            return None;
        }
        total = count;
        for _ in 0..count.min(MAX_SHOWN) {
            let start: Option<Vec<u64>> = (0..rank).map(|_| r.uint(enc)).collect();
            let end: Option<Vec<u64>> = (0..rank).map(|_| r.uint(enc)).collect();
            blocks.push((start?, end?));
        }
    }
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
    Some(format!("{}{}", shown.join(" + "), more(total)))
}

fn more(total: usize) -> String {
    if total > MAX_SHOWN {
        format!(" + {} more", total - MAX_SHOWN)
    } else {
        String::new()
    }
}

#[cfg(test)]
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
