//! The `.lindi.tar` layout: a plain (ustar) tar whose first member,
//! `.tar_entry.json` (1024 bytes at offset 512), points at the index
//! `.tar_index.json` (`{"files": [{"n": name, "o": header offset, "d": data
//! offset, "s": size}, ...]}`). The reference document is the member
//! `lindi.json`; references of the form `./<member>` point inside the tar,
//! their offsets relative to the member's data.

use std::collections::HashMap;

use ns_io::ReadAt;
use serde_json::Value as Json;

use crate::{Error, Result};

const BLOCK: u64 = 512;
const ENTRY_NAME: &str = ".tar_entry.json";
const ENTRY_SIZE: u64 = 1024;
/// The member holding the reference document.
pub(crate) const LINDI_JSON: &str = "lindi.json";
/// Largest tar index read (`.tar_index.json` lists a name and three numbers
/// per member: a few MB for the largest files LINDI writes).
pub(crate) const MAX_INDEX_BYTES: u64 = 64 << 20;

/// Whether `head` (at least the first 512 bytes) starts a LINDI tar.
pub(crate) fn is_lindi_tar(head: &[u8]) -> bool {
    head.len() >= 512 && head.get(257..262) == Some(b"ustar") && header_name(head) == ENTRY_NAME
}

fn header_name(header: &[u8]) -> &str {
    let name = header.get(..100).unwrap_or_default();
    let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
    std::str::from_utf8(&name[..end]).unwrap_or("")
}

/// Where one member's data is in the tar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    pub offset: u64,
    pub size: u64,
}

/// The members of a LINDI tar, from its index (two small reads).
#[derive(Debug, Clone, Default)]
pub(crate) struct Members(HashMap<String, Member>);

impl Members {
    pub(crate) fn read(source: &dyn ReadAt) -> Result<Self> {
        let location = source.describe();
        let not_lindi = |reason: String| Error::NotLindi {
            location: location.clone(),
            reason,
        };
        let len = source.len();
        if len < BLOCK + ENTRY_SIZE {
            return Err(not_lindi(format!(
                "a LINDI tar is at least {} bytes; this file has {len}",
                BLOCK + ENTRY_SIZE
            )));
        }
        let head = source.read_range(0..BLOCK + ENTRY_SIZE)?;
        if !is_lindi_tar(&head) {
            return Err(not_lindi(format!(
                "not a tar starting with {ENTRY_NAME} (a .lindi.tar)"
            )));
        }
        let entry = ns_zarr::json::parse(&head[usize_of(BLOCK)..])
            .map_err(|e| not_lindi(format!("{ENTRY_NAME} is not JSON: {e}")))?;
        let index = member_of(entry.get("index").unwrap_or(&Json::Null))
            .ok_or_else(|| not_lindi(format!("{ENTRY_NAME} does not locate the index")))?;
        if index.size > MAX_INDEX_BYTES {
            return Err(not_lindi(format!(
                "the tar index says it has {} bytes, more than the {MAX_INDEX_BYTES} allowed",
                index.size
            )));
        }
        if index.offset.saturating_add(index.size) > len {
            return Err(not_lindi(format!(
                "the index (bytes {}..{}) is past the end of the {len}-byte file",
                index.offset,
                index.offset.saturating_add(index.size)
            )));
        }
        let bytes = source.read_range(index.offset..index.offset + index.size)?;
        let doc = ns_zarr::json::parse(&bytes)
            .map_err(|e| not_lindi(format!("the tar index is not JSON: {e}")))?;
        let files = doc
            .get("files")
            .and_then(Json::as_array)
            .ok_or_else(|| not_lindi("the tar index has no \"files\" list".into()))?;
        let mut members = HashMap::new();
        for file in files {
            let (Some(name), Some(member)) =
                (file.get("n").and_then(Json::as_str), member_of(file))
            else {
                return Err(not_lindi(format!("bad tar index entry {file}")));
            };
            if member.offset.saturating_add(member.size) > len {
                return Err(not_lindi(format!(
                    "tar member {name} (bytes {}..{}) is past the end of the {len}-byte file",
                    member.offset,
                    member.offset.saturating_add(member.size)
                )));
            }
            members.insert(name.to_string(), member);
        }
        Ok(Self(members))
    }

    pub(crate) fn get(&self, name: &str) -> Option<Member> {
        self.0.get(name).copied()
    }
}

fn member_of(entry: &Json) -> Option<Member> {
    Some(Member {
        offset: entry.get("d")?.as_u64()?,
        size: entry.get("s")?.as_u64()?,
    })
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar whose `.tar_entry.json` is `entry` (no index member).
    fn tar_with_entry(entry: &str) -> ns_io::MemorySource {
        let mut tar = vec![0u8; 4096];
        tar[..ENTRY_NAME.len()].copy_from_slice(ENTRY_NAME.as_bytes());
        tar[257..262].copy_from_slice(b"ustar");
        tar[512..1536].fill(b' ');
        tar[512..512 + entry.len()].copy_from_slice(entry.as_bytes());
        ns_io::MemorySource::new(tar, "t.lindi.tar")
    }

    #[test]
    fn hostile_sizes_are_refused_before_reading() {
        // A size of 10^18 bytes, and one whose end overflows a u64.
        for entry in [
            r#"{"index": {"n": ".tar_index.json", "o": 0, "d": 2048, "s": 1000000000000000000}}"#,
            r#"{"index": {"n": ".tar_index.json", "o": 0, "d": 18446744073709551615, "s": 10}}"#,
            r#"{"index": {"n": ".tar_index.json", "o": 0, "d": 2048, "s": 67108865}}"#,
        ] {
            let err = Members::read(&tar_with_entry(entry)).expect_err("refused");
            let text = err.to_string();
            assert!(
                text.contains("past the end") || text.contains("allowed"),
                "{text}"
            );
        }
        // A member of the index with a size of 10^18.
        let mut tar =
            tar_with_entry(r#"{"index": {"n": ".tar_index.json", "o": 0, "d": 2048, "s": 128}}"#);
        let index = br#"{"files": [{"n": "x", "o": 0, "d": 0, "s": 1000000000000000000}]}"#;
        let mut bytes = tar.read_range(0..4096).expect("reads").to_vec();
        bytes[2048..2048 + index.len()].copy_from_slice(index);
        bytes[2048 + index.len()..2048 + 128].fill(b' ');
        tar = ns_io::MemorySource::new(bytes, "t.lindi.tar");
        let err = Members::read(&tar).expect_err("refused").to_string();
        assert!(err.contains("tar member x"), "{err}");
    }
}
