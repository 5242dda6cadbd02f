//! The `Range` request header (RFC 9110 §14), `bytes` unit only.

/// Most range-specs looked at in one header; a longer list is ignored (whole representation).
const MAX_RANGE_SPECS: usize = 64;

/// What a `Range` header asks of a representation of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// Send the whole representation (200): the header is absent, names another unit, is
    /// malformed, or asks for several ranges that do not merge into one (RFC 9110 §14.2 lets a
    /// server ignore `Range`; multipart answers are not produced).
    Full,
    /// Send one range (206); both ends inclusive, `first_byte <= last_byte < length`.
    Partial {
        /// Offset of the first byte sent.
        first_byte: u64,
        /// Offset of the last byte sent.
        last_byte: u64,
    },
    /// A well-formed `bytes` range set that selects no byte (416).
    Unsatisfiable,
}

impl RangeRequest {
    /// Parses a `Range` header value for a representation of `length_bytes` bytes.
    ///
    /// Strict where RFC 9110 is: numbers are ASCII digits only (no sign, no spaces inside),
    /// `last < first` makes the header invalid (ignored), a suffix `-0` and any range on an
    /// empty file are unsatisfiable. Numbers too large for `u64` saturate. Of several ranges,
    /// the unsatisfiable ones are dropped and overlapping or adjacent ones merged; if one range
    /// is left it is served, if none the header is unsatisfiable, else it is ignored.
    #[must_use]
    pub fn parse(header: &str, length_bytes: u64) -> RangeRequest {
        let Some((unit, set)) = header.trim().split_once('=') else {
            return RangeRequest::Full;
        };
        if !unit.eq_ignore_ascii_case("bytes") {
            return RangeRequest::Full;
        }
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        let mut specs = 0usize;
        // `1#range-spec`: empty list elements are allowed and ignored (RFC 9110 §5.6.1.2).
        for spec in set.split(',').map(|s| s.trim_matches([' ', '\t'])) {
            if spec.is_empty() {
                continue;
            }
            specs += 1;
            if specs > MAX_RANGE_SPECS {
                return RangeRequest::Full;
            }
            let Some(spec) = Spec::parse(spec) else {
                return RangeRequest::Full;
            };
            if let Some(range) = spec.resolve(length_bytes) {
                ranges.push(range);
            }
        }
        if specs == 0 {
            return RangeRequest::Full;
        }
        ranges.sort_unstable();
        let mut merged = ranges.into_iter();
        let Some((first_byte, mut last_byte)) = merged.next() else {
            return RangeRequest::Unsatisfiable;
        };
        for (first, last) in merged {
            if first > last_byte.saturating_add(1) {
                return RangeRequest::Full;
            }
            last_byte = last_byte.max(last);
        }
        RangeRequest::Partial {
            first_byte,
            last_byte,
        }
    }
}

/// One syntactically valid range-spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-` or `first-last`.
    FromTo { first: u64, last: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl Spec {
    fn parse(spec: &str) -> Option<Spec> {
        let (a, b) = spec.split_once('-')?;
        if a.is_empty() {
            return Some(Spec::Suffix(digits(b)?));
        }
        let first = digits(a)?;
        let last = if b.is_empty() { None } else { Some(digits(b)?) };
        if last.is_some_and(|last| last < first) {
            return None;
        }
        Some(Spec::FromTo { first, last })
    }

    /// The inclusive byte range it selects in `length` bytes, if any.
    fn resolve(self, length: u64) -> Option<(u64, u64)> {
        let end = length.checked_sub(1)?;
        match self {
            Spec::FromTo { first, last } => {
                (first <= end).then(|| (first, last.map_or(end, |last| last.min(end))))
            }
            Spec::Suffix(0) => None,
            Spec::Suffix(n) => Some((length - n.min(length), end)),
        }
    }
}

/// `1*DIGIT` as a number, saturating at `u64::MAX`.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::RangeRequest::{self, Full, Partial, Unsatisfiable};

    fn p(first_byte: u64, last_byte: u64) -> RangeRequest {
        Partial {
            first_byte,
            last_byte,
        }
    }

    #[test]
    fn single_ranges() {
        let parse = |h| RangeRequest::parse(h, 10);
        assert_eq!(parse("bytes=2-5"), p(2, 5));
        assert_eq!(parse("bytes=2-"), p(2, 9));
        assert_eq!(parse("bytes=2-100"), p(2, 9));
        assert_eq!(parse("bytes=9-9"), p(9, 9));
        assert_eq!(parse("bytes=-3"), p(7, 9));
        assert_eq!(parse("bytes=-30"), p(0, 9));
        assert_eq!(parse("BYTES=0-0"), p(0, 0));
        assert_eq!(parse(" bytes=1-2 "), p(1, 2));
        assert_eq!(parse("bytes=1-2,"), p(1, 2), "empty list elements");
        assert_eq!(parse("bytes=0-99999999999999999999999"), p(0, 9));
        assert_eq!(parse("bytes=-99999999999999999999999"), p(0, 9));
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(RangeRequest::parse("bytes=10-", 10), Unsatisfiable);
        assert_eq!(RangeRequest::parse("bytes=10-20", 10), Unsatisfiable);
        assert_eq!(RangeRequest::parse("bytes=-0", 10), Unsatisfiable);
        assert_eq!(RangeRequest::parse("bytes=0-", 0), Unsatisfiable);
        assert_eq!(RangeRequest::parse("bytes=-5", 0), Unsatisfiable);
        assert_eq!(
            RangeRequest::parse("bytes=99999999999999999999999-", 10),
            Unsatisfiable
        );
        assert_eq!(RangeRequest::parse("bytes=10-11,20-", 10), Unsatisfiable);
    }

    #[test]
    fn ignored() {
        for h in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=-",
            "bytes=5-2",
            "bytes=x-1",
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=1 -2",
            "bytes=1--2",
            "bytes=0x1-2",
            "bytes=١-٢",
            "items=0-1",
            "bytes 0-1",
            "bytes=0-1;2-3",
            "bytes=0-1,5-2",
        ] {
            assert_eq!(RangeRequest::parse(h, 10), Full, "{h:?}");
        }
    }

    #[test]
    fn several_ranges() {
        let parse = |h| RangeRequest::parse(h, 10);
        assert_eq!(
            parse("bytes=0-1,5-6"),
            Full,
            "disjoint: not served as multipart"
        );
        assert_eq!(parse("bytes=0-3, 2-5"), p(0, 5), "overlapping merge");
        assert_eq!(parse("bytes=4-5,0-3"), p(0, 5), "adjacent merge");
        assert_eq!(
            parse("bytes=0-2,20-30"),
            p(0, 2),
            "unsatisfiable ones dropped"
        );
        assert_eq!(parse("bytes=-2,0-1"), Full);
        let many = format!("bytes={}", vec!["0-0"; 65].join(","));
        assert_eq!(parse(&many), Full, "too many ranges");
        let enough = format!("bytes={}", vec!["0-0"; 64].join(","));
        assert_eq!(parse(&enough), p(0, 0));
    }
}
