//! File pages (offset, bytes) as one buffer: the metadata a worker read
//! while opening, handed to the app for its cache and to the other workers.

/// For each page: its offset (u64, little-endian), its length (u32) and its
/// bytes. Travels next to `Open` (cached metadata to start from) and its
/// reply (pages to cache).
pub fn encode_pages<'a>(pages: impl IntoIterator<Item = (u64, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (offset, bytes) in pages {
        let Ok(len) = u32::try_from(bytes.len()) else {
            continue;
        };
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// Reads [`encode_pages`]'s format; `None` if it is damaged.
pub fn decode_pages(mut buf: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    let mut pages = Vec::new();
    while !buf.is_empty() {
        let offset = u64::from_le_bytes(buf.get(..8)?.try_into().ok()?);
        let len = usize::try_from(u32::from_le_bytes(buf.get(8..12)?.try_into().ok()?)).ok()?;
        let end = 12usize.checked_add(len)?;
        let bytes = buf.get(12..end)?;
        pages.push((offset, bytes));
        buf = buf.get(end..)?;
    }
    Some(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_trip_and_reject_damage() {
        let a = vec![1u8, 2, 3];
        let b = vec![9u8; 70_000];
        let buf = encode_pages([(0, a.as_slice()), (65_536, b.as_slice())]);
        let pages = decode_pages(&buf).expect("decodes");
        assert_eq!(pages, vec![(0, a.as_slice()), (65_536, b.as_slice())]);
        assert!(decode_pages(&buf[..buf.len() - 1]).is_none());
        assert_eq!(decode_pages(&[]), Some(Vec::new()));
        // A length field far beyond the buffer.
        let mut hostile = 0u64.to_le_bytes().to_vec();
        hostile.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_pages(&hostile).is_none());
        // A page claiming u32::MAX bytes over a 13-byte buffer, and a header cut short.
        let mut buf = 7u64.to_le_bytes().to_vec();
        buf.extend_from_slice(&u32::MAX.to_le_bytes());
        buf.push(1);
        assert!(decode_pages(&buf).is_none());
        assert!(decode_pages(&buf[..10]).is_none());
    }
}
