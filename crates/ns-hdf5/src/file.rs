//! An open HDF5 file: its tree of objects, their attributes and metadata.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use hdf5_reader::group::Group;
use hdf5_reader::messages::HdfMessage;
use hdf5_reader::{Attribute, Hdf5File};
use ns_io::{DynSource, ReadAt};
use parking_lot::{Mutex, RwLock};

use crate::dtype::{describe, dtype_of};
use crate::links::{Link, LinkKind, group_links};
use ns_io::par_map;
use ns_model::{DatasetInfo, Node, NodeKind};

use crate::value::Decoder;
use crate::{Error, Result};
use ns_model::path::{join, normalize};
use ns_model::{Value, nest};

/// How to open a file.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Largest selection (in bytes) one read may allocate.
    pub max_read_bytes: usize,
    /// Objects described at once while walking the tree (each may wait on
    /// its own request).
    pub threads: usize,
    /// Whether a selection's chunk index nodes and chunks are fetched ahead
    /// in batches (`plan.rs`). Off only to measure what planning saves.
    pub plan_reads: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            max_read_bytes: 2 << 30,
            threads: if cfg!(target_arch = "wasm32") { 1 } else { 16 },
            plan_reads: true,
        }
    }
}

/// An HDF5 file opened over a byte source.
pub struct H5File {
    pub(crate) inner: Hdf5File,
    pub(crate) source: DynSource,
    pub(crate) location: String,
    io_error: Arc<Mutex<Option<ns_io::Error>>>,
    /// Object address → first path (in sorted order) reaching it.
    paths: RwLock<HashMap<u64, String>>,
    pub(crate) options: OpenOptions,
    /// Opens the other files virtual datasets read from (see
    /// [`H5File::with_opener`]).
    pub(crate) opener: Option<Box<Opener>>,
    /// Source files of virtual datasets opened so far, by the name the
    /// mapping gives.
    pub(crate) sources: Mutex<HashMap<String, Arc<H5File>>>,
    /// Dataset paths whose metadata was fetched ahead (`walk.rs`), once each.
    pub(crate) speculated: Mutex<HashSet<String>>,
}

/// Opens a file or URL by name (the caller decides what may be opened).
pub type Opener = dyn Fn(&str) -> ns_io::Result<DynSource> + Send + Sync;

const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

impl H5File {
    pub fn open(source: DynSource, options: OpenOptions) -> Result<Self> {
        let location = source.describe();
        let len = source.len();
        let not_hdf5 = |reason: String| Error::NotHdf5 {
            location: location.clone(),
            reason,
        };
        if len == 0 {
            return Err(not_hdf5("the file is empty (0 bytes)".into()));
        }
        // The superblock is at 0 or after a user block of 512 * 2^n bytes.
        let mut found = false;
        let mut at = 0u64;
        while at + 8 <= len && at <= 1 << 20 {
            if source.read_range(at..at + 8)?.as_ref() == SIGNATURE {
                found = true;
                break;
            }
            at = if at == 0 { 512 } else { at * 2 };
        }
        if !found {
            let head = source.read_range(0..len.min(16))?;
            let shown: String = head
                .iter()
                .map(|b| {
                    if b.is_ascii_graphic() {
                        char::from(*b)
                    } else {
                        '.'
                    }
                })
                .collect();
            return Err(not_hdf5(format!(
                "no HDF5 signature; the file starts with {shown:?}"
            )));
        }
        let (storage, io_error) = crate::storage::SourceStorage::new(Arc::clone(&source));
        let h5_options = hdf5_reader::OpenOptions::default()
            .with_max_read_bytes(options.max_read_bytes)
            .with_chunk_cache_bytes(64 << 20)
            .with_filter_registry(crate::filters::registry());
        let inner =
            Hdf5File::from_storage_with_options(Arc::new(storage), h5_options).map_err(|e| {
                if let Some(io) = io_error.lock().take() {
                    return Error::Io(io);
                }
                Error::NotHdf5 {
                    location: location.clone(),
                    reason: format!("unreadable superblock or root group: {e}"),
                }
            })?;
        Ok(Self {
            inner,
            source,
            location,
            io_error,
            paths: RwLock::new(HashMap::new()),
            options,
            opener: None,
            sources: Mutex::new(HashMap::new()),
            speculated: Mutex::new(HashSet::new()),
        })
    }

    /// Lets virtual datasets read sources in other files: `opener` is given
    /// the path or URL of each source file, resolved next to this file (as
    /// h5py looks for them); without it only sources in this file are read.
    #[must_use]
    pub fn with_opener(
        mut self,
        opener: impl Fn(&str) -> ns_io::Result<DynSource> + Send + Sync + 'static,
    ) -> Self {
        self.opener = Some(Box::new(opener));
        self
    }

    /// The path or URL the file was opened from.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// File size in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.source.len()
    }

    /// The underlying hdf5-reader file, for what this crate does not wrap.
    pub fn raw(&self) -> &Hdf5File {
        &self.inner
    }

    /// Turns an hdf5-reader error at `path` into ours, preferring the I/O
    /// error that caused it, if any.
    pub(crate) fn error(&self, path: &str, e: &hdf5_reader::error::Error) -> Error {
        if let Some(io) = self.io_error.lock().take() {
            return Error::Io(io);
        }
        use hdf5_reader::error::Error as E;
        let mut inner = e;
        while let E::Context { source, .. } = inner {
            inner = source;
        }
        match inner {
            E::DatasetNotFound(_) | E::GroupNotFound(_) => Error::NotFound {
                location: self.location.clone(),
                path: path.to_string(),
            },
            other => Error::Format {
                location: self.location.clone(),
                path: path.to_string(),
                message: other.to_string(),
            },
        }
    }

    fn root(&self) -> Result<Group> {
        self.inner.root_group().map_err(|e| self.error("/", &e))
    }

    /// Every object and link reachable from `/`, sorted by path. Groups are
    /// entered once per hard-link path; soft and external links are listed,
    /// never followed. Siblings are described concurrently, so a remote file
    /// costs about one round of requests per level of the tree.
    pub fn walk(&self) -> Result<Vec<Node>> {
        let root = self.root()?;
        let (root_attrs, root_error) = match self.attributes_of(&root, "/") {
            Ok(attrs) => (attrs, None),
            Err(e) => (Vec::new(), Some(object_error(e)?)),
        };
        let mut raw_nodes: Vec<(Node, Vec<Attribute>)> = vec![(
            Node {
                path: "/".into(),
                kind: NodeKind::Group,
                address: Some(root.address()),
                attrs: Vec::new(),
                dataset: None,
                error: root_error,
            },
            root_attrs,
        )];
        let mut frontier: Vec<(String, Group)> = vec![("/".into(), root)];
        let mut entered: HashSet<(u64, String)> = HashSet::new();
        let mut depth = 0;
        while !frontier.is_empty() {
            depth += 1;
            if depth > 256 {
                return Err(Error::Format {
                    location: self.location.clone(),
                    path: frontier[0].0.clone(),
                    message: "groups nested more than 256 deep".into(),
                });
            }
            let listed = par_map(&frontier, self.options.threads, |(path, group)| {
                group_links(&self.inner, group.address()).map_err(|e| self.error(path, &e))
            });
            let mut pending: Vec<(&Group, String, Link)> = Vec::new();
            for ((path, group), links) in frontier.iter().zip(listed) {
                // A group whose members cannot be listed is listed itself,
                // with the error; its siblings and the rest of the file are not
                // affected.
                let links = match links {
                    Ok(links) => links,
                    Err(e) => {
                        let message = object_error(e)?;
                        if let Some((node, _)) = raw_nodes.iter_mut().find(|(n, _)| &n.path == path)
                        {
                            node.error = Some(format!("its members cannot be listed: {message}"));
                        }
                        continue;
                    }
                };
                for link in links {
                    let child = join(path, &link.name);
                    pending.push((group, child, link));
                }
            }
            let described = par_map(&pending, self.options.threads, |(parent, path, link)| {
                self.describe_child(parent, path, link)
            });
            let mut next = Vec::new();
            for (described, (_, path, link)) in described.into_iter().zip(&pending) {
                let (node, attrs, group) = match described {
                    Ok(described) => described,
                    // One object that cannot be decoded is listed with its
                    // error; I/O errors still fail the walk.
                    Err(e) => (
                        self.unreadable_node(path, link, object_error(e)?),
                        Vec::new(),
                        None,
                    ),
                };
                if let Some(group) = group {
                    // A group reachable from its own subtree would never end.
                    if node.path.matches('/').count() < 256
                        && entered.insert((group.address(), node.path.clone()))
                    {
                        next.push((node.path.clone(), group));
                    }
                }
                raw_nodes.push((node, attrs));
            }
            frontier = next;
        }
        ns_sort::sort_by(&mut raw_nodes, |a, b| a.0.path.cmp(&b.0.path));
        {
            let mut paths = self.paths.write();
            for (node, _) in &raw_nodes {
                if let (Some(addr), NodeKind::Group | NodeKind::Dataset) =
                    (node.address, &node.kind)
                {
                    paths.entry(addr).or_insert_with(|| node.path.clone());
                }
            }
        }
        Ok(raw_nodes
            .into_iter()
            .map(|(mut node, attrs)| {
                node.attrs = self.decode_attributes(&attrs);
                node
            })
            .collect())
    }

    /// The node of an object that could not be described: a dataset or a
    /// group if its header says so, else `Other`, with the error.
    fn unreadable_node(&self, path: &str, link: &Link, message: String) -> Node {
        let address = match &link.kind {
            LinkKind::Hard(address) => Some(*address),
            _ => None,
        };
        let kind = address
            .and_then(|a| self.inner.get_or_parse_header(a).ok())
            .map_or(NodeKind::Other, |header| {
                let has = |f: fn(&HdfMessage) -> bool| header.messages.iter().any(f);
                if has(is_layout) {
                    NodeKind::Dataset
                } else if has(|m| {
                    matches!(
                        m,
                        HdfMessage::SymbolTable(_) | HdfMessage::Link(_) | HdfMessage::LinkInfo(_)
                    )
                }) {
                    NodeKind::Group
                } else {
                    NodeKind::Other
                }
            });
        Node {
            path: path.to_string(),
            kind,
            address,
            attrs: Vec::new(),
            dataset: None,
            error: Some(message),
        }
    }

    fn describe_child(
        &self,
        parent: &Group,
        path: &str,
        link: &Link,
    ) -> Result<(Node, Vec<Attribute>, Option<Group>)> {
        let address = match &link.kind {
            LinkKind::Hard(address) => *address,
            LinkKind::Soft(target) => {
                return Ok((
                    link_node(
                        path,
                        NodeKind::SoftLink {
                            target: target.clone(),
                        },
                    ),
                    Vec::new(),
                    None,
                ));
            }
            LinkKind::External { file, path: target } => {
                return Ok((
                    link_node(
                        path,
                        NodeKind::ExternalLink {
                            file: file.clone(),
                            target: target.clone(),
                        },
                    ),
                    Vec::new(),
                    None,
                ));
            }
        };
        let header = self
            .inner
            .get_or_parse_header(address)
            .map_err(|e| self.error(path, &e))?;
        let is_dataset = header.messages.iter().any(is_layout);
        let is_group = header.messages.iter().any(|m| {
            matches!(
                m,
                HdfMessage::SymbolTable(_) | HdfMessage::Link(_) | HdfMessage::LinkInfo(_)
            )
        }) || (!is_dataset
            && !header
                .messages
                .iter()
                .any(|m| matches!(m, HdfMessage::Datatype(_))));
        if is_dataset && let Some(mappings) = self.virtual_mappings(&header) {
            // A virtual dataset: listed with its mappings (or why they
            // cannot be read); read from its sources.
            let (info, error) = match mappings {
                Ok(mappings) => (self.virtual_info(&header, &mappings), None),
                Err(e) => (None, Some(e)),
            };
            let (attrs, attr_error) = match self.inner.object_attributes(address) {
                Ok(attrs) => (mark_null_attributes(attrs, &header), None),
                Err(e) => (
                    Vec::new(),
                    Some(format!(
                        "its attributes cannot be read: {}",
                        object_error(self.error(path, &e))?
                    )),
                ),
            };
            let node = Node {
                path: path.to_string(),
                kind: NodeKind::Dataset,
                address: Some(address),
                attrs: Vec::new(),
                dataset: info,
                error: error.or(attr_error),
            };
            return Ok((node, attrs, None));
        }
        if is_dataset {
            let ds = parent
                .dataset(&link.name)
                .map_err(|e| self.error(path, &e))?;
            let filters = header
                .messages
                .iter()
                .find_map(|m| match m {
                    HdfMessage::FilterPipeline(p) => Some(
                        p.filters
                            .iter()
                            .map(|f| crate::filters::name(f.id))
                            .collect(),
                    ),
                    _ => None,
                })
                .unwrap_or_default();
            let null = header.messages.iter().any(|m| {
                matches!(m, HdfMessage::Dataspace(d)
                    if d.dataspace_type == hdf5_reader::messages::dataspace::DataspaceType::Null)
            });
            let info = DatasetInfo {
                // A null dataspace (h5py's `Empty`) holds no elements.
                shape: if null { vec![0] } else { ds.shape().to_vec() },
                dtype: dtype_of(ds.dtype()),
                dtype_description: describe(ds.dtype()),
                chunks: ds
                    .chunks()
                    .map(|c| c.iter().map(|d| u64::from(*d)).collect()),
                filters,
                virtual_sources: Vec::new(),
            };
            let node = Node {
                path: path.to_string(),
                kind: NodeKind::Dataset,
                address: Some(address),
                attrs: Vec::new(),
                dataset: Some(info),
                // The values read; the attributes do not.
                error: ds
                    .attribute_error()
                    .map(|e| format!("its attributes cannot be read: {e}")),
            };
            Ok((node, mark_null_attributes(ds.attributes(), &header), None))
        } else if is_group {
            let group = parent.group(&link.name).map_err(|e| self.error(path, &e))?;
            let (attrs, error) = match self.attributes_of(&group, path) {
                Ok(attrs) => (attrs, None),
                Err(e) => (
                    Vec::new(),
                    Some(format!(
                        "its attributes cannot be read: {}",
                        object_error(e)?
                    )),
                ),
            };
            let node = Node {
                path: path.to_string(),
                kind: NodeKind::Group,
                address: Some(address),
                attrs: Vec::new(),
                dataset: None,
                error,
            };
            Ok((node, attrs, Some(group)))
        } else {
            let mut node = link_node(path, NodeKind::Other);
            node.address = Some(address);
            Ok((node, Vec::new(), None))
        }
    }

    fn attributes_of(&self, group: &Group, path: &str) -> Result<Vec<Attribute>> {
        let attrs = group.attributes().map_err(|e| self.error(path, &e))?;
        let header = self
            .inner
            .get_or_parse_header(group.address())
            .map_err(|e| self.error(path, &e))?;
        Ok(mark_null_attributes(attrs, &header))
    }

    /// The decoder for this file's values.
    pub(crate) fn with_decoder<R>(&self, f: impl FnOnce(&Decoder<'_>) -> R) -> R {
        let paths = self.paths.read();
        let root = self.inner.root_group().ok();
        let resolve_ref = |addr: u64| paths.get(&addr).cloned();
        let resolve_vlen = |reference: &[u8], size: usize| {
            root.as_ref()
                .and_then(|g| g.resolve_vlen_reference_bytes(reference, size).ok())
        };
        let superblock = self.inner.superblock();
        // Region references of one read share few heap collections.
        let heaps: std::cell::RefCell<
            HashMap<u64, Option<hdf5_reader::global_heap::GlobalHeapCollection>>,
        > = std::cell::RefCell::default();
        let resolve_heap = |collection: u64, index: u32| {
            let mut heaps = heaps.borrow_mut();
            let heap = heaps.entry(collection).or_insert_with(|| {
                hdf5_reader::global_heap::GlobalHeapCollection::parse_at_storage(
                    self.inner.storage(),
                    collection,
                    superblock.offset_size,
                    superblock.length_size,
                )
                .ok()
            });
            Some(
                heap.as_ref()?
                    .get_object(u16::try_from(index).ok()?)?
                    .data
                    .clone(),
            )
        };
        let decoder = Decoder {
            offset_size: superblock.offset_size,
            resolve_ref: &resolve_ref,
            resolve_vlen: &resolve_vlen,
            resolve_heap: &resolve_heap,
        };
        f(&decoder)
    }

    /// Whether any object path is known yet (references resolve to paths
    /// only after a walk).
    pub(crate) fn paths_known(&self) -> bool {
        !self.paths.read().is_empty()
    }

    fn decode_attributes(&self, attrs: &[Attribute]) -> Vec<(String, Value)> {
        self.with_decoder(|decoder| {
            attrs
                .iter()
                .map(|a| (a.name.clone(), decode_attribute(decoder, a)))
                .collect()
        })
    }

    /// One object by path, following soft links to it. Attributes that are
    /// references resolve to paths only if the tree was walked before.
    pub fn node(&self, path: &str) -> Result<Node> {
        let path = normalize(path);
        if path == "/" {
            let root = self.root()?;
            let attrs = self.attributes_of(&root, "/")?;
            return Ok(Node {
                path,
                kind: NodeKind::Group,
                address: Some(root.address()),
                attrs: self.decode_attributes(&attrs),
                dataset: None,
                error: None,
            });
        }
        let (parent_path, name) = path.rsplit_once('/').unwrap_or(("", &path));
        let parent_path = if parent_path.is_empty() {
            "/"
        } else {
            parent_path
        };
        let parent = self
            .inner
            .group(parent_path)
            .map_err(|e| self.error(parent_path, &e))?;
        let links =
            group_links(&self.inner, parent.address()).map_err(|e| self.error(&path, &e))?;
        let Some(link) = links.into_iter().find(|l| l.name == name) else {
            return Err(Error::NotFound {
                location: self.location.clone(),
                path,
            });
        };
        let link = match link.kind {
            LinkKind::Soft(target) => {
                // Follow a soft link, as h5py does for `f[path]`.
                let target = if target.starts_with('/') {
                    target
                } else {
                    join(parent_path, &target)
                };
                if target == path {
                    return Err(Error::Format {
                        location: self.location.clone(),
                        path,
                        message: "soft link points to itself".into(),
                    });
                }
                let mut node = self.node(&target)?;
                node.path = path;
                return Ok(node);
            }
            _ => link,
        };
        let (mut node, attrs, _) = self.describe_child(&parent, &path, &link)?;
        node.attrs = self.decode_attributes(&attrs);
        Ok(node)
    }
}

/// The message of an error about one object (for [`Node::error`]), or the
/// error itself if it is an I/O error, which concerns the whole file.
fn object_error(e: Error) -> Result<String> {
    match e {
        Error::Io(_) => Err(e),
        Error::Format { message, .. }
        | Error::Unsupported { message, .. }
        | Error::Selection { message, .. } => Ok(message),
        other => Ok(other.to_string()),
    }
}

/// A data layout message, decoded or not: the header is a dataset's.
fn is_layout(m: &HdfMessage) -> bool {
    matches!(
        m,
        HdfMessage::DataLayout(_)
            | HdfMessage::Unreadable {
                type_id: hdf5_reader::messages::MSG_DATA_LAYOUT,
                ..
            }
    )
}

fn link_node(path: &str, kind: NodeKind) -> Node {
    Node {
        path: path.to_string(),
        kind,
        address: None,
        attrs: Vec::new(),
        dataset: None,
        error: None,
    }
}

/// hdf5-reader gives an attribute with a null dataspace (h5py's `Empty`)
/// the shape `[0]`, like an empty array; the header tells them apart. Such
/// attributes get an empty shape and no data, which decodes to null.
fn mark_null_attributes(
    mut attrs: Vec<Attribute>,
    header: &hdf5_reader::object_header::ObjectHeader,
) -> Vec<Attribute> {
    for msg in &header.messages {
        if let HdfMessage::Attribute(a) = msg
            && a.dataspace.dataspace_type == hdf5_reader::messages::dataspace::DataspaceType::Null
        {
            for attr in attrs.iter_mut().filter(|x| x.name == a.name) {
                attr.shape = vec![];
                attr.raw_data.clear();
            }
        }
    }
    attrs
}

fn decode_attribute(decoder: &Decoder<'_>, attr: &Attribute) -> Value {
    // The shape comes from the file: its product may overflow, and
    // `decode_all` and `nest` bound what they allocate by the bytes there.
    let Some(dims) = ns_model::dims_usize(&attr.shape) else {
        return Value::Null;
    };
    let count = dims
        .iter()
        .try_fold(1usize, |n, d| n.checked_mul(*d))
        .unwrap_or(usize::MAX);
    let is_vlen_string = crate::dtype::is_text(&attr.datatype);
    if is_vlen_string {
        if let Some(strings) = &attr.decoded_strings {
            let flat = strings.iter().cloned().map(Value::String).collect();
            return nest(flat, &dims);
        }
        if count == 1 {
            // hdf5-reader already replaced the reference with the text.
            return nest(
                vec![Value::String(crate::value::fixed_string(
                    &attr.raw_data,
                    hdf5_reader::StringPadding::NullTerminate,
                ))],
                &dims,
            );
        }
    }
    if attr.shape.is_empty() && attr.raw_data.is_empty() {
        return Value::Null;
    }
    nest(
        decoder.decode_all(&attr.datatype, &attr.raw_data, count),
        &dims,
    )
}
