//! [`LindiFile`]: a LINDI reference file opened as a tree of nodes.

use std::collections::HashMap;
use std::sync::Arc;

use ns_hdf5::H5File;
use ns_io::{DynSource, ReadAt};
use ns_model::{DatasetInfo, Dtype, Node, NodeKind, Value};
use parking_lot::Mutex;
use serde_json::{Map, Value as Json};

use crate::refs::{self, ChunkRef, ExternalArrayLink, LINDI_ATTRS, LindiAttrs, ParseError, Target};
use crate::slice::SliceSource;
use crate::tar::{self, Members};
use crate::value::{FieldType, ObjectKind, attr_value, reference};
use crate::{Error, Result};
use ns_zarr::elements::dtype_of;
use ns_zarr::meta::{ArrayMeta, ElemType};
use ns_zarr::tree::Tree;
use serde::Deserialize;

/// Opens the file or URL a reference points to, as a byte source. Natively
/// `ns_io_native::open`; in the browser, the worker's own sources.
pub type Opener = dyn Fn(&str) -> ns_io::Result<DynSource> + Send + Sync;

/// How to open a file: the same limits as an HDF5 file (largest read;
/// chunks decoded at once natively).
pub use ns_hdf5::OpenOptions;

/// The two LINDI containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A `.lindi.json` reference document.
    Json,
    /// A `.lindi.tar`: the document and data in one tar.
    Tar,
}

/// Which LINDI container `head` (the first bytes of a file; 512 are enough)
/// starts, if any: a JSON object, or a tar whose first member is
/// `.tar_entry.json`. HDF5 files and anything else give `None`.
pub fn detect(head: &[u8]) -> Option<Format> {
    if tar::is_lindi_tar(head) {
        return Some(Format::Tar);
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace())?;
    (*first == b'{').then_some(Format::Json)
}

/// A dataset link `_EXTERNAL_ARRAY_LINK`: the data is a dataset of an HDF5
/// file, read through `ns-hdf5`.
#[derive(Debug, Clone)]
pub(crate) struct ExternalLink {
    pub url: String,
    pub name: String,
}

/// What reading a dataset needs.
#[derive(Debug, Clone)]
pub(crate) struct ArrayInfo {
    pub meta: ArrayMeta,
    /// Stored as a 1-element array, read as a scalar (`_SCALAR`).
    pub scalar: bool,
    pub dtype: Dtype,
    pub object: Option<ObjectKind>,
    pub external: Option<Result<ExternalLink, String>>,
    /// The store key of the array (no leading `/`), chunk keys append
    /// `/<i.j>`.
    pub key: String,
}

/// A LINDI file: the tree it describes (built when it is opened, from the
/// reference document alone) and reads of its datasets, which fetch only
/// the chunks a selection needs, through byte sources the caller's
/// [`Opener`] makes.
pub struct LindiFile {
    pub(crate) location: String,
    size: u64,
    /// Every node, sorted by path.
    tree: Tree,
    pub(crate) arrays: HashMap<String, ArrayInfo>,
    pub(crate) chunks: HashMap<String, ChunkRef>,
    pub(crate) urls: Vec<String>,
    /// The `.lindi.tar` (for `./` references into it).
    tar: Option<(DynSource, Members)>,
    opener: Box<Opener>,
    sources: Mutex<HashMap<u32, DynSource>>,
    external: Mutex<HashMap<String, Arc<H5File>>>,
    pub(crate) options: OpenOptions,
}

impl LindiFile {
    /// Opens a `.lindi.json` document. `location` is where it came from (a
    /// path or URL): `./` references are relative to its folder, and errors
    /// name it. `opener` opens the files and URLs that references point to.
    pub fn open(
        json: &[u8],
        location: &str,
        opener: impl Fn(&str) -> ns_io::Result<DynSource> + Send + Sync + 'static,
        options: OpenOptions,
    ) -> Result<Self> {
        Self::build(
            json,
            location,
            json.len() as u64,
            None,
            Box::new(opener),
            options,
        )
    }

    /// Opens a `.lindi.tar` through its byte source: reads the tar's index,
    /// then the document (`lindi.json`); chunks stored in the tar are read
    /// from `source` by offset, others through `opener`.
    pub fn open_tar(
        source: DynSource,
        opener: impl Fn(&str) -> ns_io::Result<DynSource> + Send + Sync + 'static,
        options: OpenOptions,
    ) -> Result<Self> {
        let location = source.describe();
        let members = Members::read(source.as_ref())?;
        let doc = members
            .get(tar::LINDI_JSON)
            .ok_or_else(|| Error::NotLindi {
                location: location.clone(),
                reason: format!("the tar has no {} member", tar::LINDI_JSON),
            })?;
        if doc.size > options.max_read_bytes as u64 {
            return Err(Error::NotLindi {
                location,
                reason: format!(
                    "its {} is {} bytes, more than the {}-byte read limit",
                    tar::LINDI_JSON,
                    doc.size,
                    options.max_read_bytes
                ),
            });
        }
        let json = source.read_range(doc.offset..doc.offset.saturating_add(doc.size))?;
        let size = source.len();
        Self::build(
            &json,
            &location,
            size,
            Some((source, members)),
            Box::new(opener),
            options,
        )
    }

    /// Opens a `.lindi.json` or `.lindi.tar` from its byte source, telling
    /// them apart by their first bytes.
    pub fn open_source(
        source: DynSource,
        opener: impl Fn(&str) -> ns_io::Result<DynSource> + Send + Sync + 'static,
        options: OpenOptions,
    ) -> Result<Self> {
        let location = source.describe();
        let len = source.len();
        let head = source.read_range(0..len.min(512))?;
        match detect(&head) {
            Some(Format::Tar) => Self::open_tar(source, opener, options),
            Some(Format::Json) => {
                if len > options.max_read_bytes as u64 {
                    return Err(Error::NotLindi {
                        location,
                        reason: format!(
                            "a {len}-byte reference document is more than the {}-byte read limit",
                            options.max_read_bytes
                        ),
                    });
                }
                let json = source.read_range(0..len)?;
                Self::open(&json, &location, opener, options)
            }
            None => Err(Error::NotLindi {
                location,
                reason: "neither a JSON reference document nor a LINDI tar".into(),
            }),
        }
    }

    fn build(
        json: &[u8],
        location: &str,
        size: u64,
        tar: Option<(DynSource, Members)>,
        opener: Box<Opener>,
        options: OpenOptions,
    ) -> Result<Self> {
        let base = refs::Base {
            location,
            tar: tar.as_ref().map(|(_, m)| m),
        };
        let parsed = refs::parse(json, &base).map_err(|e| match e {
            ParseError::NotLindi(reason) => Error::NotLindi {
                location: location.to_string(),
                reason,
            },
            ParseError::Key { key, message } => Error::Format {
                location: location.to_string(),
                path: format!("/{key}"),
                message,
            },
        })?;
        let mut file = Self {
            location: location.to_string(),
            size,
            tree: Tree::default(),
            arrays: HashMap::new(),
            chunks: parsed.chunks,
            urls: parsed.urls,
            tar,
            opener,
            sources: Mutex::new(HashMap::new()),
            external: Mutex::new(HashMap::new()),
            options,
        };
        let soft_links: Vec<String> = parsed
            .entries
            .iter()
            .filter(|(_, e)| e.lindi.soft_link.is_some())
            .map(|(key, _)| node_path(key))
            .collect();
        let mut nodes = Vec::with_capacity(parsed.entries.len());
        for (key, entry) in &parsed.entries {
            let path = node_path(key);
            // A soft link has no children of its own.
            if soft_links.iter().any(|l| {
                path.len() > l.len()
                    && path.starts_with(l.as_str())
                    && path.as_bytes()[l.len()] == b'/'
            }) {
                continue;
            }
            let attrs = user_attrs(&entry.zattrs);
            if let Some(link) = &entry.lindi.soft_link {
                nodes.push(Node {
                    path,
                    kind: NodeKind::SoftLink {
                        target: link.path.clone(),
                    },
                    address: None,
                    attrs: Vec::new(),
                    dataset: None,
                    error: None,
                });
            } else if let Some(zarray) = &entry.zarray {
                let (info, array) = file.describe_array(key, zarray, &entry.lindi)?;
                file.arrays.insert(path.clone(), array);
                nodes.push(Node {
                    path,
                    kind: NodeKind::Dataset,
                    address: None,
                    attrs,
                    dataset: Some(info),
                    error: None,
                });
            } else {
                nodes.push(Node {
                    path,
                    kind: NodeKind::Group,
                    address: None,
                    attrs,
                    dataset: None,
                    error: None,
                });
            }
        }
        // Zarr needs no .zgroup for a folder that only holds other keys;
        // such folders are groups without attributes (`Tree::new`).
        file.tree = Tree::new(nodes);
        Ok(file)
    }

    /// The dataset description and read plan of the array at store key `key`.
    fn describe_array(
        &self,
        key: &str,
        zarray: &Json,
        lindi: &LindiAttrs,
    ) -> Result<(DatasetInfo, ArrayInfo)> {
        let path = node_path(key);
        let meta = ArrayMeta::parse(zarray).map_err(|m| self.format_error(&path, &m))?;
        let scalar = lindi.scalar == Some(true) && meta.element_count() == Some(1);
        let object = (meta.elem == ElemType::Object).then(|| match &lindi.compound_dtype {
            Some(fields) => ObjectKind::Compound(
                fields
                    .iter()
                    .map(|(name, ty)| (name.clone(), FieldType::parse(ty)))
                    .collect(),
            ),
            None => self.peek_object_kind(key, &meta),
        });
        let external = lindi.external_array_link.as_ref().map(|link| {
            match ExternalArrayLink::deserialize(link) {
                Ok(l) if l.link_type == "hdf5_dataset" => Ok(ExternalLink {
                    url: l.url,
                    name: l.name,
                }),
                _ => Err(format!("_EXTERNAL_ARRAY_LINK {link} is not supported (only hdf5_dataset links with url and name are)")),
            }
        });
        let (dtype, description) = dtype_of(&meta.elem, object.as_ref());
        let info = DatasetInfo {
            shape: if scalar {
                Vec::new()
            } else {
                meta.shape.clone()
            },
            dtype,
            dtype_description: description,
            chunks: (!scalar).then(|| meta.chunks.clone()),
            filters: meta.codecs.iter().map(ns_zarr::meta::Codec::name).collect(),
            virtual_sources: Vec::new(),
        };
        let array = ArrayInfo {
            meta,
            scalar,
            dtype,
            object,
            external,
            key: key.to_string(),
        };
        Ok((info, array))
    }

    /// Whether an object array holds strings or references: LINDI does not
    /// say, so the first element of its first chunk tells, when that chunk
    /// is inline (it always is in files LINDI writes). Strings otherwise.
    fn peek_object_kind(&self, key: &str, meta: &ArrayMeta) -> ObjectKind {
        let first = format!("{key}/{}", meta.chunk_key(&vec![0; meta.shape.len()]));
        let Some(ChunkRef::Inline(stored)) = self.chunks.get(&first) else {
            return ObjectKind::Strings;
        };
        let items = meta
            .decode(stored, self.options.max_read_bytes)
            .ok()
            .and_then(|bytes| meta.object_codec.as_ref()?.items(&bytes).ok());
        match items
            .as_deref()
            .and_then(|items| items.iter().find(|v| !v.is_null()))
        {
            Some(first) if reference(first).is_some() => ObjectKind::References,
            _ => ObjectKind::Strings,
        }
    }

    /// The path or URL the file was opened from.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Size in bytes of the reference document (or of the whole tar).
    pub fn size_bytes(&self) -> u64 {
        self.size
    }

    /// Every group, dataset and soft link, sorted by path. (LINDI has no
    /// external links; a hard link appears as a copy under each path.)
    pub fn walk(&self) -> Result<Vec<Node>> {
        Ok(self.tree.nodes().to_vec())
    }

    /// One object by path, following soft links to it (also in its parent
    /// groups); the node keeps the path asked for, as in `H5File::node`.
    pub fn node(&self, path: &str) -> Result<Node> {
        Ok(self.tree.node(path, &self.location)?)
    }

    /// `path` with soft links (of it and of its parents) followed, to a
    /// listed node that is not a link.
    pub(crate) fn resolve(&self, path: &str) -> Result<String> {
        Ok(self.tree.resolve(path, &self.location)?)
    }

    /// The byte source of a reference target, opened on first use (for a
    /// read of the dataset at `path`).
    pub(crate) fn source(&self, target: Target, path: &str) -> Result<DynSource> {
        match target {
            Target::Tar => match &self.tar {
                Some((source, _)) => Ok(Arc::clone(source)),
                None => {
                    Err(self.format_error("/", "reference into a tar, but the file is not a tar"))
                }
            },
            Target::Url(i) => {
                let mut sources = self.sources.lock();
                if let Some(s) = sources.get(&i) {
                    return Ok(Arc::clone(s));
                }
                let url = self
                    .urls
                    .get(i as usize)
                    .ok_or_else(|| self.format_error("/", "bad reference target"))?;
                let source = self.open_reference(url, path)?;
                sources.insert(i, Arc::clone(&source));
                Ok(source)
            }
        }
    }

    /// The HDF5 file an `_EXTERNAL_ARRAY_LINK` points to, opened on first
    /// use. `./name` is a member of the tar (for a `.lindi.tar`) or a file
    /// next to the reference document. `path` is the dataset being read.
    pub(crate) fn external_file(&self, url: &str, path: &str) -> Result<Arc<H5File>> {
        let mut files = self.external.lock();
        if let Some(f) = files.get(url) {
            return Ok(Arc::clone(f));
        }
        let source: DynSource = match (url.strip_prefix("./"), &self.tar) {
            (Some(member), Some((tar, members))) if members.get(member).is_some() => {
                let m = members
                    .get(member)
                    .ok_or_else(|| self.format_error("/", "tar member vanished"))?;
                Arc::new(SliceSource::new(Arc::clone(tar), m.offset, m.size, url))
            }
            (Some(relative), _) => self.open_reference(
                &format!("{}{relative}", refs::folder_of(&self.location)),
                path,
            )?,
            (None, _) => self.open_reference(url, path)?,
        };
        let h5 = Arc::new(H5File::open(
            source,
            ns_hdf5::OpenOptions {
                max_read_bytes: self.options.max_read_bytes,
                threads: self.options.threads.max(1),
                ..ns_hdf5::OpenOptions::default()
            },
        )?);
        files.insert(url.to_string(), Arc::clone(&h5));
        Ok(h5)
    }

    /// Opens what a reference names through the caller's opener. A remote
    /// reference file may name only http(s) URLs: a local path in it
    /// (`/etc/passwd`, `file:///…`, `data.nwb`) is an error naming the
    /// reference, and nothing local is opened.
    fn open_reference(&self, url: &str, path: &str) -> Result<DynSource> {
        if refs::is_http_url(&self.location) && !refs::is_http_url(url) {
            return Err(self.format_error(
                path,
                &format!(
                    "reference to {url:?} refused: a remote LINDI file may refer only to \
                     http(s) URLs, not to local files"
                ),
            ));
        }
        Ok((self.opener)(url)?)
    }

    pub(crate) fn format_error(&self, path: &str, message: &str) -> Error {
        Error::Format {
            location: self.location.clone(),
            path: path.to_string(),
            message: message.to_string(),
        }
    }
}

/// The attributes a reader sees: LINDI's own are left out.
fn user_attrs(zattrs: &Map<String, Json>) -> Vec<(String, Value)> {
    zattrs
        .iter()
        .filter(|(k, _)| !LINDI_ATTRS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), attr_value(v)))
        .collect()
}

/// A store key (`a/b`, root `""`) as a node path (`/a/b`, `/`).
fn node_path(key: &str) -> String {
    format!("/{key}")
}

impl ns_model::ObjectStore for LindiFile {
    fn location(&self) -> &str {
        LindiFile::location(self)
    }

    fn size_bytes(&self) -> u64 {
        LindiFile::size_bytes(self)
    }

    fn walk(&self) -> ns_model::Result<Vec<Node>> {
        Ok(LindiFile::walk(self)?)
    }

    fn node(&self, path: &str) -> ns_model::Result<Node> {
        Ok(LindiFile::node(self, path)?)
    }

    fn read(
        &self,
        path: &str,
        selection: &ns_model::Selection,
    ) -> ns_model::Result<ns_model::Array> {
        Ok(LindiFile::read(self, path, selection)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_containers() {
        assert_eq!(detect(b"  \n{\"refs\": {}}"), Some(Format::Json));
        assert_eq!(detect(b"\x89HDF\r\n\x1a\n"), None);
        assert_eq!(detect(b""), None);
        let mut tar = vec![0u8; 512];
        tar[..15].copy_from_slice(b".tar_entry.json");
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(detect(&tar), Some(Format::Tar));
    }
}
