//! [`ZarrFile`]: a Zarr v2 hierarchy (NWB as hdmf-zarr writes it) opened
//! as a tree of nodes, through a key-value source.

use std::collections::{BTreeMap, HashMap};

use ns_io::{Bytes, DynKeys};
use ns_model::{Array, DatasetInfo, Dtype, Node, NodeKind, Selection, Value};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::elements::{FieldType, ObjectKind, dtype_of, non_finite, number};
use crate::meta::{ArrayMeta, ElemType};
use crate::read::ArrayRead;
use crate::tree::Tree;
use crate::{Error, Result};

/// Limits of an open store.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// Largest selection (in bytes) one read may allocate; also the largest
    /// metadata document and stored chunk fetched.
    pub max_read_bytes: usize,
    /// Chunks decoded at once.
    pub threads: usize,
    /// Fetch the chunk of every 1-element array (scalars: the session's
    /// fields, the embedded specifications) when opening, in one batch:
    /// an NWB reader asks for all of them, one after the other.
    pub prefetch_scalars: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            max_read_bytes: 1 << 30,
            threads: 16,
            prefetch_scalars: true,
        }
    }
}

/// Most scalar chunks fetched when opening (beyond, none are).
const MAX_PREFETCHED_SCALARS: usize = 512;

/// The attributes hdmf-zarr keeps for itself (not shown, as hdmf-zarr's
/// reader does not show them): the dtype it wrote, links, and the location
/// of the embedded specifications.
pub const HDMF_ATTRS: [&str; 3] = ["zarr_dtype", "zarr_link", ".specloc"];

/// Most metadata documents (`.zgroup`, `.zarray`, `.zattrs`) a store may
/// have: each becomes map entries and nodes.
const MAX_METADATA_KEYS: usize = 4_000_000;

/// What reading an array needs.
#[derive(Debug, Clone)]
struct ArrayInfo {
    meta: ArrayMeta,
    scalar: bool,
    dtype: Dtype,
    object: Option<ObjectKind>,
    /// The store key of the array (no leading `/`).
    key: String,
}

/// The metadata documents of one group or array.
#[derive(Debug, Default)]
struct Entry {
    zgroup: bool,
    zarray: Option<Json>,
    zattrs: Map<String, Json>,
}

/// `.zmetadata`, as zarr's `consolidate_metadata` writes it.
#[derive(Debug, Deserialize)]
struct Consolidated {
    metadata: Map<String, Json>,
}

/// One `zarr_link` entry (hdmf-zarr).
#[derive(Debug, Deserialize)]
struct ZarrLink {
    name: String,
    #[serde(default)]
    source: Option<String>,
    path: String,
}

/// A Zarr v2 store read through a key-value source: the tree from its
/// metadata (`.zmetadata` in one read, else every `.zgroup`, `.zarray`,
/// `.zattrs` of a store that can list its keys), then only the chunks a
/// read touches.
///
/// hdmf-zarr's conventions: `zarr_link` (links: soft links within the
/// store, external links to another), references `{"source": ".",
/// "path"}` (in attributes as `{"zarr_dtype": "object", "value": ...}`,
/// in object arrays through a JSON codec), `zarr_dtype` (`"scalar"`: a
/// 1-element array read as a scalar; `"object"`: references; a list of
/// `{name, dtype}`: compound elements stored as lists).
pub struct ZarrFile {
    location: String,
    keys: DynKeys,
    tree: Tree,
    arrays: HashMap<String, ArrayInfo>,
    metadata_bytes: u64,
    options: OpenOptions,
    /// Chunks fetched when opening (`OpenOptions::prefetch_scalars`), by key.
    prefetched: HashMap<String, Option<Bytes>>,
}

impl ZarrFile {
    /// Opens the store behind `keys` (its `describe()` names it in errors).
    pub fn open(keys: DynKeys, options: OpenOptions) -> Result<Self> {
        let location = keys.describe();
        let max = options.max_read_bytes as u64;
        let not_zarr = |reason: String| Error::NotZarr {
            location: location.clone(),
            reason,
        };
        let mut metadata_bytes = 0u64;
        let documents: Vec<(String, Json)> = if let Some(doc) = keys.get(".zmetadata", max)? {
            metadata_bytes += doc.len() as u64;
            let json = crate::json::parse(&doc)
                .map_err(|e| not_zarr(format!(".zmetadata is not JSON: {e}")))?;
            let consolidated = Consolidated::deserialize(&json)
                .map_err(|e| not_zarr(format!("bad .zmetadata: {e}")))?;
            consolidated.metadata.into_iter().collect()
        } else {
            let listed = match keys.list() {
                Some(listed) => listed?,
                None => {
                    let hint = if keys.get("zarr.json", max)?.is_some() {
                        "it is Zarr v3 (zarr.json), which is not supported; hdmf-zarr writes Zarr v2"
                    } else if keys.get(".zgroup", max)?.is_some() {
                        "it has no consolidated metadata (.zmetadata), which reading over HTTP \
                         requires (zarr.consolidate_metadata(path) writes it)"
                    } else {
                        "no .zmetadata nor .zgroup at its root"
                    };
                    return Err(not_zarr(hint.into()));
                }
            };
            let wanted: Vec<String> = listed
                .into_iter()
                .filter(|k| {
                    let name = k.rsplit('/').next().unwrap_or(k);
                    matches!(name, ".zgroup" | ".zarray" | ".zattrs")
                })
                .collect();
            if wanted.len() > MAX_METADATA_KEYS {
                return Err(not_zarr(format!(
                    "{} metadata documents, more than {MAX_METADATA_KEYS}",
                    wanted.len()
                )));
            }
            let values = keys.get_many(&wanted, max)?;
            let mut out = Vec::with_capacity(wanted.len());
            for (key, value) in wanted.into_iter().zip(values) {
                let Some(bytes) = value else { continue };
                metadata_bytes += bytes.len() as u64;
                let json = crate::json::parse(&bytes).map_err(|e| Error::Format {
                    location: location.clone(),
                    path: format!("/{key}"),
                    message: format!("not JSON: {e}"),
                })?;
                out.push((key, json));
            }
            if out.is_empty() {
                let hint = if keys.get("zarr.json", max)?.is_some() {
                    "it is Zarr v3 (zarr.json), which is not supported; hdmf-zarr writes Zarr v2"
                } else {
                    "no .zgroup, .zarray or .zmetadata in it"
                };
                return Err(not_zarr(hint.into()));
            }
            out
        };
        if documents.len() > MAX_METADATA_KEYS {
            return Err(not_zarr(format!(
                "{} metadata documents, more than {MAX_METADATA_KEYS}",
                documents.len()
            )));
        }
        let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
        for (key, json) in documents {
            let key = key.trim_start_matches('/');
            let (parent, name) = match key.rsplit_once('/') {
                Some((p, n)) => (p.to_string(), n),
                None => (String::new(), key),
            };
            let entry = || Error::Format {
                location: location.clone(),
                path: format!("/{key}"),
                message: format!("{json} is not a JSON object"),
            };
            match name {
                ".zgroup" => entries.entry(parent).or_default().zgroup = true,
                ".zarray" => entries.entry(parent).or_default().zarray = Some(json),
                ".zattrs" => match json {
                    Json::Object(map) => entries.entry(parent).or_default().zattrs = map,
                    _ => return Err(entry()),
                },
                _ => {}
            }
        }
        match entries.get("") {
            Some(root) if root.zarray.is_some() => {
                return Err(not_zarr(
                    "its root is an array, not a group (an NWB file is a group)".into(),
                ));
            }
            Some(root) if root.zgroup => {}
            _ => return Err(not_zarr("no .zgroup at its root".into())),
        }
        let mut file = Self {
            location,
            keys,
            tree: Tree::default(),
            arrays: HashMap::new(),
            metadata_bytes,
            options,
            prefetched: HashMap::new(),
        };
        let mut nodes = Vec::with_capacity(entries.len());
        for (key, entry) in &entries {
            let path = format!("/{key}");
            let path = if key.is_empty() {
                "/".to_string()
            } else {
                path
            };
            let attrs = user_attrs(&entry.zattrs);
            if let Some(zarray) = &entry.zarray {
                let (info, array) = file.describe_array(key, &path, zarray, &entry.zattrs)?;
                file.arrays.insert(path.clone(), array);
                nodes.push(Node {
                    path,
                    kind: NodeKind::Dataset,
                    address: None,
                    attrs,
                    dataset: Some(info),
                    error: None,
                });
                continue;
            }
            // Links of this group: soft links within the store, external
            // links to another one; a name already taken is not shadowed.
            if let Some(links) = entry.zattrs.get("zarr_link") {
                let links = Vec::<ZarrLink>::deserialize(links).map_err(|e| Error::Format {
                    location: file.location.clone(),
                    path: path.clone(),
                    message: format!("bad zarr_link attribute: {e}"),
                })?;
                for link in links {
                    if matches!(link.name.as_str(), "" | "." | "..") || link.name.contains('/') {
                        return Err(Error::Format {
                            location: file.location.clone(),
                            path: path.clone(),
                            message: format!("zarr_link name {:?} is not a name", link.name),
                        });
                    }
                    let child = ns_model::path::join(&path, &link.name);
                    let child_key = child.trim_start_matches('/');
                    if entries.contains_key(child_key) {
                        continue;
                    }
                    let target = if link.path.starts_with('/') {
                        link.path.clone()
                    } else {
                        format!("/{}", link.path)
                    };
                    let kind = match link.source.as_deref() {
                        None | Some(".") => NodeKind::SoftLink { target },
                        Some(source) => NodeKind::ExternalLink {
                            file: source.to_string(),
                            target,
                        },
                    };
                    nodes.push(Node {
                        path: child,
                        kind,
                        address: None,
                        attrs: Vec::new(),
                        dataset: None,
                        error: None,
                    });
                }
            }
            nodes.push(Node {
                path,
                kind: NodeKind::Group,
                address: None,
                attrs,
                dataset: None,
                error: None,
            });
        }
        file.tree = Tree::new(nodes);
        if file.options.prefetch_scalars {
            let mut keys: Vec<String> = file
                .arrays
                .values()
                .filter(|a| a.meta.element_count() == Some(1))
                .map(|a| chunk_key(&a.key, &a.meta.chunk_key(&vec![0; a.meta.shape.len()])))
                .collect();
            ns_sort::sort(&mut keys);
            if keys.len() <= MAX_PREFETCHED_SCALARS {
                let values = file.keys.get_many(&keys, max)?;
                file.prefetched = keys.into_iter().zip(values).collect();
            }
        }
        Ok(file)
    }

    /// The dataset description and read plan of the array at `key`.
    fn describe_array(
        &self,
        key: &str,
        path: &str,
        zarray: &Json,
        zattrs: &Map<String, Json>,
    ) -> Result<(DatasetInfo, ArrayInfo)> {
        let meta = ArrayMeta::parse(zarray).map_err(|message| Error::Format {
            location: self.location.clone(),
            path: path.to_string(),
            message,
        })?;
        let zarr_dtype = zattrs.get("zarr_dtype");
        let scalar =
            zarr_dtype.and_then(Json::as_str) == Some("scalar") && meta.element_count() == Some(1);
        let object = (meta.elem == ElemType::Object).then(|| match zarr_dtype {
            Some(Json::String(s)) if s == "object" => ObjectKind::References,
            Some(Json::Array(fields)) => ObjectKind::Compound(
                fields
                    .iter()
                    .map(|f| {
                        let name = f.get("name").and_then(Json::as_str).unwrap_or_default();
                        let ty = f.get("dtype").and_then(Json::as_str).unwrap_or_default();
                        (name.to_string(), FieldType::parse(ty))
                    })
                    .collect(),
            ),
            _ => ObjectKind::Strings,
        });
        let (dtype, description) = dtype_of(&meta.elem, object.as_ref());
        // The object codec (vlen-utf8, json2) is how elements are spelled,
        // not a filter of the bytes: not listed (as in ns-lindi).
        let filters: Vec<String> = meta.codecs.iter().map(crate::meta::Codec::name).collect();
        let info = DatasetInfo {
            shape: if scalar {
                Vec::new()
            } else {
                meta.shape.clone()
            },
            dtype,
            dtype_description: description,
            chunks: (!scalar).then(|| meta.chunks.clone()),
            filters,
            virtual_sources: Vec::new(),
        };
        let array = ArrayInfo {
            meta,
            scalar,
            dtype,
            object,
            key: key.to_string(),
        };
        Ok((info, array))
    }

    /// The store's location (a directory or URL).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Bytes of metadata read to open it.
    pub fn metadata_bytes(&self) -> u64 {
        self.metadata_bytes
    }

    /// Every group, dataset and link, sorted by path.
    pub fn walk(&self) -> Result<Vec<Node>> {
        Ok(self.tree.nodes().to_vec())
    }

    /// One object by path, following soft links to it.
    pub fn node(&self, path: &str) -> Result<Node> {
        self.tree.node(path, &self.location)
    }

    /// Reads a selection of the dataset at `path` (soft links followed):
    /// only the chunks it touches are fetched, all in one batch.
    pub fn read(&self, path: &str, selection: &Selection) -> Result<Array> {
        let asked = ns_model::path::normalize(path);
        let resolved = self.tree.resolve(&asked, &self.location)?;
        let Some(info) = self.arrays.get(&resolved) else {
            let node = self.tree.node(&resolved, &self.location)?;
            let message = match node.kind {
                NodeKind::ExternalLink { file, target } => format!(
                    "is a link to {target} in another store ({file}), which is not followed"
                ),
                _ => "is a group, not a dataset".into(),
            };
            return Err(Error::Unsupported {
                location: self.location.clone(),
                path: asked,
                message,
            });
        };
        let max = self.options.max_read_bytes as u64;
        let reader = ArrayRead {
            location: &self.location,
            path: &asked,
            meta: &info.meta,
            scalar: info.scalar,
            dtype: info.dtype,
            object: info.object.as_ref(),
            reference,
            pad_short_chunks: false,
            max_read_bytes: self.options.max_read_bytes,
            threads: self.options.threads,
        };
        reader.read(selection, |chunks| -> Result<Vec<Option<Bytes>>> {
            let keys: Vec<String> = chunks.iter().map(|c| chunk_key(&info.key, c)).collect();
            if let Some(all) = keys
                .iter()
                .map(|k| self.prefetched.get(k).cloned())
                .collect::<Option<Vec<_>>>()
            {
                return Ok(all);
            }
            Ok(self.keys.get_many(&keys, max)?)
        })
    }
}

/// The store key of chunk `chunk` of the array at `array` (the root: `""`).
fn chunk_key(array: &str, chunk: &str) -> String {
    if array.is_empty() {
        chunk.to_string()
    } else {
        format!("{array}/{chunk}")
    }
}

/// The attributes a reader sees: hdmf-zarr's own are left out.
fn user_attrs(zattrs: &Map<String, Json>) -> Vec<(String, Value)> {
    zattrs
        .iter()
        .filter(|(k, _)| !HDMF_ATTRS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), attr_value(v)))
        .collect()
}

/// An attribute value: JSON as zarr stores it; a reference is
/// `{"zarr_dtype": "object", "value": {"source", "path", ...}}`.
pub fn attr_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => number(n),
        Json::String(s) => match non_finite(s) {
            Some(f) => Value::Float(f),
            None => Value::String(s.clone()),
        },
        Json::Array(items) => Value::List(items.iter().map(attr_value).collect()),
        Json::Object(map) => {
            if map.get("zarr_dtype").and_then(Json::as_str) == Some("object")
                && let Some(r) = map.get("value").and_then(reference)
            {
                return r;
            }
            Value::Compound(
                map.iter()
                    .map(|(k, v)| (k.clone(), attr_value(v)))
                    .collect(),
            )
        }
    }
}

/// hdmf-zarr's reference `{"source": ".", "path": "/x", ...}` to an object
/// of the same store, as a reference to its path. (A reference into
/// another store stays a compound of its fields.)
pub fn reference(json: &Json) -> Option<Value> {
    let path = json.get("path")?.as_str()?;
    match json.get("source").map(Json::as_str) {
        None | Some(Some(".")) => {}
        _ => return None,
    }
    Some(Value::Ref(Some(if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    })))
}

impl ns_model::ObjectStore for ZarrFile {
    fn location(&self) -> &str {
        ZarrFile::location(self)
    }

    fn size_bytes(&self) -> u64 {
        self.metadata_bytes
    }

    fn walk(&self) -> ns_model::Result<Vec<Node>> {
        Ok(ZarrFile::walk(self)?)
    }

    fn node(&self, path: &str) -> ns_model::Result<Node> {
        Ok(ZarrFile::node(self, path)?)
    }

    fn read(&self, path: &str, selection: &Selection) -> ns_model::Result<Array> {
        Ok(ZarrFile::read(self, path, selection)?)
    }
}
