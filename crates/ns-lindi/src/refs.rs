//! The reference document: `{"refs": {key: value}, "templates": {...}}`.
//!
//! A key is a Zarr v2 store key: `path/.zgroup`, `path/.zattrs`,
//! `path/.zarray` (metadata; the value is the JSON itself, or its text) or
//! `path/<i.j...>` (a chunk). A chunk value is inline (a string, or
//! `base64:<data>` for binary) or a reference `[url, offset, length]`, where
//! `url` may use `{{name}}` templates and, with a `./` prefix, is relative:
//! to the reference file's folder, or inside a `.lindi.tar`, to the tar
//! member of that name.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::tar::Members;

/// Where a referenced byte range lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    /// The `.lindi.tar` the document came from (offset already absolute).
    Tar,
    /// A file or URL, by index into [`Parsed::urls`].
    Url(u32),
}

/// One stored chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChunkRef {
    Inline(ns_io::Bytes),
    Range {
        target: Target,
        offset: u64,
        length: u64,
    },
}

/// The metadata keys of one group or array (by its path without the
/// leading `/`; the root is `""`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    pub zgroup: bool,
    pub zarray: Option<Json>,
    /// Every attribute, LINDI's own included.
    pub zattrs: Map<String, Json>,
    /// LINDI's own attributes, parsed.
    pub lindi: LindiAttrs,
}

/// The attributes LINDI uses for its own bookkeeping (not the file's).
pub(crate) const LINDI_ATTRS: [&str; 5] = [
    "_SCALAR",
    "_COMPOUND_DTYPE",
    "_REFERENCE",
    "_EXTERNAL_ARRAY_LINK",
    "_SOFT_LINK",
];

/// LINDI's own keys of a `.zattrs`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct LindiAttrs {
    /// A scalar stored as a 1-element array.
    #[serde(rename = "_SCALAR", default)]
    pub scalar: Option<bool>,
    /// A soft link: the group holds nothing of its own.
    #[serde(rename = "_SOFT_LINK", default)]
    pub soft_link: Option<SoftLink>,
    /// Compound elements stored as JSON lists: `[name, type]` per field.
    #[serde(rename = "_COMPOUND_DTYPE", default)]
    pub compound_dtype: Option<Vec<(String, String)>>,
    /// The dataset is read from an HDF5 file. Kept as JSON: a link of a kind
    /// this reader does not follow is an error when read, not when opened.
    #[serde(rename = "_EXTERNAL_ARRAY_LINK", default)]
    pub external_array_link: Option<Json>,
}

/// `_SOFT_LINK`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SoftLink {
    pub path: String,
}

/// The one `_EXTERNAL_ARRAY_LINK` form LINDI writes.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ExternalArrayLink {
    pub link_type: String,
    pub url: String,
    pub name: String,
}

impl LindiAttrs {
    /// LINDI's keys of `zattrs`; an error names the key that is malformed.
    pub(crate) fn parse(zattrs: &Map<String, Json>) -> Result<Self, String> {
        let own: Map<String, Json> = zattrs
            .iter()
            .filter(|(k, _)| LINDI_ATTRS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if own.is_empty() {
            return Ok(Self::default());
        }
        Self::deserialize(&Json::Object(own)).map_err(|e| format!("bad LINDI attribute: {e}"))
    }
}

/// A reference document, resolved.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub entries: BTreeMap<String, Entry>,
    /// Chunks by full key (`path/0.0`, no leading `/`).
    pub chunks: HashMap<String, ChunkRef>,
    /// Files and URLs that chunks point to, resolved (templates expanded,
    /// relative paths joined to the document's folder).
    pub urls: Vec<String>,
}

/// How relative references are resolved.
pub(crate) struct Base<'a> {
    /// The path or URL of the reference document.
    pub location: &'a str,
    /// The members of the `.lindi.tar` holding the document, if any.
    pub tar: Option<&'a Members>,
}

impl Base<'_> {
    /// `url` made usable: templates expanded, `./` references resolved.
    fn resolve(
        &self,
        url: &str,
        templates: &Map<String, Json>,
        offset: u64,
        length: u64,
    ) -> Result<(ResolvedUrl, u64), String> {
        let mut url = url.to_string();
        if url.contains("{{") {
            for (name, value) in templates {
                if let Some(v) = value.as_str() {
                    url = url.replace(&format!("{{{{{name}}}}}"), v);
                }
            }
            if url.contains("{{") {
                return Err(format!("reference URL {url:?} uses an undefined template"));
            }
        }
        let Some(relative) = url.strip_prefix("./") else {
            return Ok((ResolvedUrl::External(url), offset));
        };
        if let Some(tar) = self.tar {
            let member = tar
                .get(relative)
                .ok_or_else(|| format!("reference to {url:?}, which is not in the tar"))?;
            if offset.saturating_add(length) > member.size {
                return Err(format!(
                    "reference to bytes {offset}..{} of {url:?}, which has {} bytes",
                    offset.saturating_add(length),
                    member.size
                ));
            }
            return Ok((ResolvedUrl::Tar, member.offset + offset));
        }
        Ok((
            ResolvedUrl::External(format!("{}{relative}", folder_of(self.location))),
            offset,
        ))
    }
}

enum ResolvedUrl {
    Tar,
    External(String),
}

/// The folder part of a path or URL, with its trailing `/` (empty for a
/// bare file name). A URL's query and fragment are not part of it.
pub(crate) fn folder_of(location: &str) -> String {
    let Some(scheme_end) = location.find("://") else {
        return location
            .rfind('/')
            .map_or_else(String::new, |i| location[..=i].to_string());
    };
    let end = location.find(['?', '#']).unwrap_or(location.len());
    let base = &location[..end];
    let path_start = scheme_end + 3;
    match base.get(path_start..).and_then(|p| p.rfind('/')) {
        Some(i) => base[..path_start + i + 1].to_string(),
        None => format!("{base}/"),
    }
}

/// Whether `location` is an http(s) URL (not a local path, not `file:`).
pub(crate) fn is_http_url(location: &str) -> bool {
    let head = location.get(..8).unwrap_or(location).to_ascii_lowercase();
    head.starts_with("http://") || head.starts_with("https://")
}

/// Why a document could not be read: not LINDI at all, or one bad key.
#[derive(Debug)]
pub(crate) enum ParseError {
    NotLindi(String),
    Key { key: String, message: String },
}

/// Parses and resolves a reference document.
pub(crate) fn parse(bytes: &[u8], base: &Base<'_>) -> Result<Parsed, ParseError> {
    let doc =
        ns_zarr::json::parse(bytes).map_err(|e| ParseError::NotLindi(format!("not JSON: {e}")))?;
    let Json::Object(mut doc) = doc else {
        return Err(ParseError::NotLindi("the JSON is not an object".into()));
    };
    let Some(Json::Object(refs)) = doc.remove("refs") else {
        return Err(ParseError::NotLindi(
            "the JSON has no \"refs\" object (a kerchunk/LINDI reference file has one)".into(),
        ));
    };
    let templates = match doc.remove("templates") {
        Some(Json::Object(t)) => t,
        _ => Map::new(),
    };
    let mut parsed = Parsed::default();
    let mut url_index: HashMap<String, u32> = HashMap::new();
    for (key, value) in refs {
        let key = key.trim_start_matches('/').to_string();
        let bad = |message: String| ParseError::Key {
            key: key.clone(),
            message,
        };
        let (parent, name) = match key.rsplit_once('/') {
            Some((p, n)) => (p.to_string(), n),
            None => (String::new(), key.as_str()),
        };
        match name {
            ".zgroup" | ".zarray" | ".zattrs" => {
                let json = metadata_json(value).map_err(bad)?;
                let entry = parsed.entries.entry(parent).or_default();
                match name {
                    ".zgroup" => entry.zgroup = true,
                    ".zarray" => entry.zarray = Some(json),
                    _ => match json {
                        Json::Object(map) => {
                            entry.lindi = LindiAttrs::parse(&map).map_err(bad)?;
                            entry.zattrs = map;
                        }
                        other => return Err(bad(format!(".zattrs is {other}, not an object"))),
                    },
                }
            }
            "zarr.json" => {
                return Err(ParseError::NotLindi(
                    "Zarr v3 metadata (zarr.json) is not supported; LINDI files use Zarr v2".into(),
                ));
            }
            _ if name.starts_with('.') => {}
            _ => {
                let chunk = match value {
                    Json::String(text) => {
                        ChunkRef::Inline(inline_bytes(&text).map_err(bad)?.into())
                    }
                    Json::Array(parts) => {
                        let (url, offset, length) = match parts.as_slice() {
                            [Json::String(url), offset, length] => (
                                url.as_str(),
                                offset.as_u64().ok_or_else(|| {
                                    bad(format!("offset {offset} is not a byte offset"))
                                })?,
                                length.as_u64().ok_or_else(|| {
                                    bad(format!("length {length} is not a byte count"))
                                })?,
                            ),
                            [Json::String(_)] => {
                                return Err(bad(
                                    "a reference to a whole file (no offset and length) is not supported".into(),
                                ));
                            }
                            _ => {
                                return Err(bad(format!(
                                    "reference {} is not [url, offset, length]",
                                    Json::Array(parts.clone())
                                )));
                            }
                        };
                        let (resolved, offset) =
                            base.resolve(url, &templates, offset, length).map_err(bad)?;
                        let target = match resolved {
                            ResolvedUrl::Tar => Target::Tar,
                            ResolvedUrl::External(url) => {
                                let next = u32::try_from(parsed.urls.len())
                                    .map_err(|_| bad("too many distinct URLs".into()))?;
                                let index = *url_index.entry(url.clone()).or_insert_with(|| {
                                    parsed.urls.push(url);
                                    next
                                });
                                Target::Url(index)
                            }
                        };
                        ChunkRef::Range {
                            target,
                            offset,
                            length,
                        }
                    }
                    Json::Object(_) => ChunkRef::Inline(value.to_string().into_bytes().into()),
                    other => {
                        return Err(bad(format!(
                            "chunk value {other} is not data or a reference"
                        )));
                    }
                };
                parsed.chunks.insert(key.clone(), chunk);
            }
        }
    }
    if parsed.entries.is_empty() {
        return Err(ParseError::NotLindi(
            "no .zgroup or .zarray keys in \"refs\"".into(),
        ));
    }
    Ok(parsed)
}

/// The JSON of a metadata key: stored as JSON, or as its text.
fn metadata_json(value: Json) -> Result<Json, String> {
    match value {
        Json::String(text) => {
            let bytes = inline_bytes(&text)?;
            ns_zarr::json::parse(&bytes).map_err(|e| format!("metadata is not JSON: {e}"))
        }
        Json::Array(_) => Err("metadata stored by reference (not inline) is not supported".into()),
        other => Ok(other),
    }
}

/// The bytes of an inline value: `base64:<data>`, or the text itself.
fn inline_bytes(text: &str) -> Result<Vec<u8>, String> {
    match text.strip_prefix("base64:") {
        Some(data) => base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| format!("bad base64 data: {e}")),
        None => Ok(text.as_bytes().to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls() {
        assert!(is_http_url("https://h/x"));
        assert!(is_http_url("HTTP://h/x"));
        for local in [
            "/etc/passwd",
            "file:///etc/passwd",
            "data.nwb",
            "./x",
            "C:\\x",
            "http:/x",
            "",
        ] {
            assert!(!is_http_url(local), "{local}");
        }
    }

    #[test]
    fn folders() {
        assert_eq!(folder_of("a/b/x.lindi.json"), "a/b/");
        assert_eq!(folder_of("x.lindi.json"), "");
        assert_eq!(folder_of("/abs/x.json"), "/abs/");
        assert_eq!(
            folder_of("http://h:1/d/x.lindi.json?sig=a/b#f"),
            "http://h:1/d/"
        );
        assert_eq!(folder_of("http://host"), "http://host/");
        assert_eq!(folder_of("https://h/x.json?u=http://a/b"), "https://h/");
    }

    fn base() -> Base<'static> {
        Base {
            location: "http://h/d/f.lindi.json",
            tar: None,
        }
    }

    #[test]
    fn keys_values_and_references() {
        let doc = br#"{"version": 1, "templates": {"u1": "./data.nwb"}, "refs": {
            ".zgroup": {"zarr_format": 2},
            ".zattrs": "{\"a\": 1}",
            "g/.zgroup": "base64:eyJ6YXJyX2Zvcm1hdCI6IDJ9",
            "g/x/.zarray": {"shape": [2], "chunks": [2], "dtype": "<i2"},
            "g/x/0": "base64:AQACAA==",
            "g/y/.zarray": {"shape": [4], "chunks": [2], "dtype": "<i2"},
            "g/y/0": ["{{u1}}", 10, 4],
            "g/y/1": ["https://other/z.h5", 0, 4]
        }}"#;
        let p = parse(doc, &base()).expect("parses");
        assert!(p.entries[""].zgroup);
        assert!(p.entries[""].lindi.soft_link.is_none());
        assert_eq!(p.entries[""].zattrs["a"], 1);
        assert!(p.entries["g"].zgroup);
        assert!(p.entries["g/x"].zarray.is_some());
        assert_eq!(p.chunks["g/x/0"], ChunkRef::Inline(vec![1, 0, 2, 0].into()));
        assert_eq!(
            p.chunks["g/y/0"],
            ChunkRef::Range {
                target: Target::Url(0),
                offset: 10,
                length: 4
            }
        );
        assert_eq!(p.urls[0], "http://h/d/data.nwb");
        assert!(matches!(
            p.chunks["g/y/1"],
            ChunkRef::Range {
                target: Target::Url(1),
                ..
            }
        ));
    }

    #[test]
    fn not_lindi_and_bad_keys() {
        assert!(matches!(
            parse(b"[1]", &base()),
            Err(ParseError::NotLindi(_))
        ));
        assert!(matches!(
            parse(b"{\"a\": 1}", &base()),
            Err(ParseError::NotLindi(_))
        ));
        assert!(matches!(
            parse(b"{\"refs\": {}}", &base()),
            Err(ParseError::NotLindi(_))
        ));
        assert!(matches!(
            parse(b"garbage", &base()),
            Err(ParseError::NotLindi(_))
        ));
        let undefined = br#"{"refs": {".zgroup": {}, "x/0": ["{{nope}}", 0, 1]}}"#;
        assert!(matches!(
            parse(undefined, &base()),
            Err(ParseError::Key { .. })
        ));
        let whole = br#"{"refs": {".zgroup": {}, "x/0": ["http://a/b"]}}"#;
        assert!(matches!(parse(whole, &base()), Err(ParseError::Key { .. })));
        let b64 = br#"{"refs": {".zgroup": {}, "x/0": "base64:!!"}}"#;
        assert!(matches!(parse(b64, &base()), Err(ParseError::Key { .. })));
        let link = br#"{"refs": {"x/.zattrs": {"_SOFT_LINK": {"to": "/a"}}}}"#;
        match parse(link, &base()) {
            Err(ParseError::Key { key, message }) => {
                assert_eq!(key, "x/.zattrs");
                assert!(message.contains("path"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
