use std::ops::Range;

use bytes::{Bytes, BytesMut};

/// Sorts `ranges` and merges those that overlap or are at most `max_gap_bytes`
/// apart. Empty ranges are dropped.
pub fn coalesce_ranges(ranges: &[Range<u64>], max_gap_bytes: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.iter().filter(|r| r.start < r.end).cloned().collect();
    ns_sort::sort_by_key(&mut sorted, |r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(sorted.len());
    for range in sorted {
        match out.last_mut() {
            Some(last) if range.start <= last.end.saturating_add(max_gap_bytes) => {
                last.end = last.end.max(range.end);
            }
            _ => out.push(range),
        }
    }
    out
}

/// Cuts `wanted` out of `parts` (fetched ranges with their bytes, each range
/// fully covered by its bytes). Returns `None` if some byte is not covered.
pub fn merge_parts(parts: &[(Range<u64>, Bytes)], wanted: &Range<u64>) -> Option<Bytes> {
    // Fast path: one part covers everything.
    for (range, bytes) in parts {
        if range.start <= wanted.start && wanted.end <= range.end {
            let from = usize::try_from(wanted.start - range.start).ok()?;
            let to = usize::try_from(wanted.end - range.start).ok()?;
            return bytes.get(from..to).map(|_| bytes.slice(from..to));
        }
    }
    let total = usize::try_from(wanted.end - wanted.start).ok()?;
    let mut out = BytesMut::with_capacity(total);
    let mut pos = wanted.start;
    while pos < wanted.end {
        let (range, bytes) = parts.iter().find(|(r, _)| r.start <= pos && pos < r.end)?;
        let end = range.end.min(wanted.end);
        let from = usize::try_from(pos - range.start).ok()?;
        let to = usize::try_from(end - range.start).ok()?;
        out.extend_from_slice(bytes.get(from..to)?);
        pos = end;
    }
    Some(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_merges_close_and_overlapping() {
        let got = coalesce_ranges(&[10..20, 0..5, 22..30, 100..110, 4..8, 50..50], 2);
        assert_eq!(got, vec![0..30, 100..110]);
        assert_eq!(coalesce_ranges(&[0..8, 11..12], 2), vec![0..8, 11..12]);
    }

    #[test]
    fn coalesce_random_covers_exactly_the_input() {
        // Deterministic pseudo-random ranges: every input byte is covered by
        // the output, outputs are sorted and separated by more than the gap.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..500 {
            let n = next() % 20;
            let gap = next() % 16;
            let input: Vec<Range<u64>> = (0..n)
                .map(|_| {
                    let s = next() % 1000;
                    s..s + next() % 50
                })
                .collect();
            let out = coalesce_ranges(&input, gap);
            for w in out.windows(2) {
                assert!(w[0].end + gap < w[1].start);
            }
            for r in input.iter().filter(|r| r.start < r.end) {
                assert!(out.iter().any(|o| o.start <= r.start && r.end <= o.end));
            }
        }
    }

    #[test]
    fn merge_parts_spans_several() {
        let parts = vec![
            (0..4, Bytes::from_static(b"abcd")),
            (4..8, Bytes::from_static(b"efgh")),
        ];
        assert_eq!(merge_parts(&parts, &(2..6)).as_deref(), Some(&b"cdef"[..]));
        assert_eq!(merge_parts(&parts, &(6..9)), None);
    }
}
