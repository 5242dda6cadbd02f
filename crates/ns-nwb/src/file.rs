//! [`NwbFile`]: an open HDF5 (or LINDI) file read as NWB.

use ns_model::path::{absolute, normalize, parent_of};
use std::collections::{HashMap, HashSet};

use ns_model::{Array, Node, NodeKind, ObjectStore, Selection, Value};

use crate::series::{ElectricalSeries, TimeSeries};
use crate::table::{DynamicTable, TimeIntervals, Units};
use crate::types::TypeTree;
use crate::{Error, Result};

/// How to open an [`NwbFile`].
#[derive(Debug, Clone)]
pub struct NwbOptions {
    /// Read the specifications embedded under `/specifications` to learn
    /// the type hierarchy (one small read per spec document). Without
    /// them, only the built-in core/hdmf-common hierarchy is known.
    pub read_specs: bool,
    /// Called with the name of each phase of opening as it ends (`"walk"`,
    /// `"session+specs"`): the browser worker marks them for its timing.
    pub on_phase: Option<fn(&'static str)>,
}

impl Default for NwbOptions {
    fn default() -> Self {
        Self {
            read_specs: true,
            on_phase: None,
        }
    }
}

/// The session metadata stored in scalar and 1-D string datasets under `/`
/// and `/general`. Missing fields are `None` or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    pub session_description: Option<String>,
    pub identifier: Option<String>,
    /// As stored: an ISO 8601 string such as `2024-03-15T10:30:00-07:00`.
    pub session_start_time: Option<String>,
    pub timestamps_reference_time: Option<String>,
    pub file_create_date: Vec<String>,
    pub experimenter: Vec<String>,
    pub lab: Option<String>,
    pub institution: Option<String>,
    pub related_publications: Vec<String>,
    pub experiment_description: Option<String>,
    pub session_id: Option<String>,
    /// The root attribute `nwb_version` (or the `/nwb_version` dataset of
    /// old files).
    pub nwb_version: Option<String>,
}

/// A specification namespace embedded in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecNamespace {
    pub name: String,
    /// The version whose documents apply (the highest stored one).
    pub version: String,
    /// Whether its documents were parsed; else the built-in table stood
    /// for them (core, hdmf-common and hdmf-experimental, unless the file
    /// uses a type the table does not know).
    pub parsed: bool,
}

/// An NWB file: the tree of an open [`ObjectStore`] (an HDF5 file, or a
/// LINDI reference file from `ns-lindi`), walked once, with NWB meaning on
/// top. All reads go through the store.
pub struct NwbFile {
    store: Box<dyn ObjectStore>,
    /// Every object and link, sorted by path (as [`ObjectStore::walk`] gives them).
    nodes: Vec<Node>,
    types: TypeTree,
    namespaces: Vec<SpecNamespace>,
    session: Session,
    warnings: Vec<String>,
}

/// The text read from a spec document (or a string dataset): `None` when
/// the path is not a dataset.
type SpecText = Result<Option<Vec<String>>>;

/// Soft links followed in a row before giving up.
const MAX_LINK_HOPS: usize = 32;

/// The session datasets, in the order `session_from` takes them.
const SESSION_PATHS: [&str; 12] = [
    "/session_description",
    "/identifier",
    "/session_start_time",
    "/timestamps_reference_time",
    "/file_create_date",
    "/general/experimenter",
    "/general/lab",
    "/general/institution",
    "/general/related_publications",
    "/general/experiment_description",
    "/general/session_id",
    "/nwb_version",
];

impl NwbFile {
    /// Walks `store` (an HDF5 file, a LINDI file, ...), reads the session
    /// metadata and the embedded specs.
    pub fn new(store: Box<dyn ObjectStore>) -> Result<Self> {
        Self::with_options(store, &NwbOptions::default())
    }

    /// [`NwbFile::new`] with options. Fails only if the tree cannot be
    /// walked; unreadable session fields or specs become [`warnings`](Self::warnings).
    pub fn with_options(store: Box<dyn ObjectStore>, options: &NwbOptions) -> Result<Self> {
        let phase = |name| {
            if let Some(f) = options.on_phase {
                f(name);
            }
        };
        let nodes = store.walk()?;
        phase("walk");
        let mut file = Self {
            store,
            nodes,
            types: TypeTree::builtin(),
            namespaces: Vec::new(),
            session: Session::default(),
            warnings: Vec::new(),
        };
        // Session fields and spec documents are small independent reads:
        // issue them together.
        let specs = if options.read_specs {
            let all = file.spec_documents();
            let needed = file.needed_namespaces(&all);
            all.into_iter()
                .filter(|(ns, _)| needed.contains(ns))
                .collect()
        } else {
            Vec::new()
        };
        let mut paths: Vec<&str> = SESSION_PATHS.to_vec();
        paths.extend(specs.iter().map(|(_, path)| path.as_str()));
        let mut texts = ns_io::par_map(&paths, 8, |path| file.read_strings(path)).into_iter();
        // An unreadable field leaves it empty, with a warning.
        let session_texts: Vec<Vec<String>> = SESSION_PATHS
            .iter()
            .zip(texts.by_ref())
            .map(|(path, text)| {
                text.unwrap_or_else(|e| {
                    file.warnings
                        .push(format!("session field {path} unreadable: {e}"));
                    None
                })
                .unwrap_or_default()
            })
            .collect();
        file.session = file.session_from(&session_texts);
        file.apply_specs(&specs, texts.collect());
        phase("session+specs");
        Ok(file)
    }

    /// The file underneath: its tree, nodes and dataset reads.
    pub fn store(&self) -> &dyn ObjectStore {
        self.store.as_ref()
    }

    /// The same as [`store`](Self::store), under its older name (the store
    /// was always an HDF5 file before LINDI). It has the methods callers
    /// used: `size_bytes`, `node`, `read`, `walk`, `location`.
    pub fn h5(&self) -> &dyn ObjectStore {
        self.store.as_ref()
    }

    /// The path or URL the file was opened from.
    pub fn location(&self) -> &str {
        self.store.location()
    }

    /// Every object and link of the file, sorted by path.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The type hierarchy: built-in, overridden by the file's specs.
    pub fn types(&self) -> &TypeTree {
        &self.types
    }

    /// The spec namespaces embedded in the file, in the order they were
    /// applied (`parsed` tells whose documents were read).
    pub fn spec_namespaces(&self) -> &[SpecNamespace] {
        &self.namespaces
    }

    /// Problems that did not stop opening the file (unreadable session
    /// fields or specs).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The object at `path`, following soft links (also in its parent
    /// groups). The node keeps its own (target) path.
    pub fn node(&self, path: &str) -> Option<&Node> {
        let mut path = normalize(path);
        for _ in 0..MAX_LINK_HOPS {
            if let Some(node) = self.lookup(&path) {
                match &node.kind {
                    NodeKind::SoftLink { target } => {
                        path = absolute(parent_of(&path), target);
                        continue;
                    }
                    _ => return Some(node),
                }
            }
            // Not listed: a parent group may be a soft link.
            let mut head = path.as_str();
            let linked = loop {
                let Some((h, _)) = head.rsplit_once('/') else {
                    break None;
                };
                if h.is_empty() {
                    break None;
                }
                head = h;
                if let Some(node) = self.lookup(head) {
                    break match &node.kind {
                        NodeKind::SoftLink { target } => Some((head.len(), target)),
                        _ => None,
                    };
                }
            };
            let (len, target) = linked?;
            path = normalize(&format!(
                "{}{}",
                absolute(parent_of(&path[..len]), target),
                &path[len..]
            ));
        }
        None
    }

    /// The direct children of the group at `path` (soft links followed to
    /// reach the group; the children themselves are listed as they are).
    pub fn children(&self, path: &str) -> Vec<&Node> {
        let Some(group) = self.node(path) else {
            return Vec::new();
        };
        let prefix = if group.path == "/" {
            "/".to_string()
        } else {
            format!("{}/", group.path)
        };
        let start = self
            .nodes
            .partition_point(|n| n.path.as_str() < prefix.as_str());
        self.nodes[start..]
            .iter()
            .take_while(|n| n.path.starts_with(&prefix))
            .filter(|n| n.path.len() > prefix.len() && !n.path[prefix.len()..].contains('/'))
            .collect()
    }

    /// The `neurodata_type` (or hdmf `data_type`) attribute of the object
    /// at `path`.
    pub fn neurodata_type(&self, path: &str) -> Option<&str> {
        self.node(path).and_then(type_of)
    }

    /// The `namespace` attribute of the object at `path`.
    pub fn type_namespace(&self, path: &str) -> Option<&str> {
        self.node(path)
            .and_then(|n| n.attr("namespace"))
            .and_then(|v| single(v).as_str())
    }

    /// Whether the object at `path` has a neurodata type that is `base` or
    /// inherits from it.
    pub fn is_a(&self, path: &str, base: &str) -> bool {
        self.neurodata_type(path)
            .is_some_and(|t| self.types.is_a(t, base))
    }

    /// Every group or dataset whose neurodata type is `base` or inherits
    /// from it, sorted by path. An object with several hard-link paths is
    /// listed once, at its first path.
    pub fn objects_of_type(&self, base: &str) -> Vec<&Node> {
        let mut seen = HashSet::new();
        self.nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Group | NodeKind::Dataset))
            .filter(|n| type_of(n).is_some_and(|t| self.types.is_a(t, base)))
            .filter(|n| n.address.is_none_or(|a| seen.insert(a)))
            .collect()
    }

    /// The TimeSeries (or subtype) group at `path`.
    pub fn time_series(&self, path: &str) -> Result<TimeSeries<'_>> {
        TimeSeries::new(self, self.typed_node(path, "TimeSeries")?)
    }

    /// The ElectricalSeries (or subtype) group at `path`.
    pub fn electrical_series(&self, path: &str) -> Result<ElectricalSeries<'_>> {
        ElectricalSeries::new(self, self.typed_node(path, "ElectricalSeries")?)
    }

    /// The DynamicTable (or subtype: Units, TimeIntervals, electrodes, ...)
    /// group at `path`.
    pub fn dynamic_table(&self, path: &str) -> Result<DynamicTable<'_>> {
        DynamicTable::new(self, self.typed_node(path, "DynamicTable")?)
    }

    /// The Units table at `path` (usually `/units`).
    pub fn units(&self, path: &str) -> Result<Units<'_>> {
        Units::new(DynamicTable::new(self, self.typed_node(path, "Units")?)?)
    }

    /// The TimeIntervals table at `path` (`/intervals/trials`,
    /// `/intervals/epochs`, ...).
    pub fn time_intervals(&self, path: &str) -> Result<TimeIntervals<'_>> {
        TimeIntervals::new(DynamicTable::new(
            self,
            self.typed_node(path, "TimeIntervals")?,
        )?)
    }

    /// The group at `path`, unless its type is known not to be `expected`.
    /// Objects without a type, or of a type the tree does not know, are
    /// accepted; their structure is checked by the caller.
    fn typed_node(&self, path: &str, expected: &str) -> Result<&Node> {
        let node = self.node(path).ok_or_else(|| self.not_found(path))?;
        if node.kind != NodeKind::Group {
            return Err(self.invalid(&node.path, format!("is not a group, so not a {expected}")));
        }
        if let Some(ty) = type_of(node)
            && self.types.contains(ty)
            && !self.types.is_a(ty, expected)
        {
            return Err(self.invalid(&node.path, format!("is a {ty}, not a {expected}")));
        }
        Ok(node)
    }

    /// The dataset at `path` (soft links followed).
    pub(crate) fn dataset(&self, path: &str) -> Result<&Node> {
        let node = self.node(path).ok_or_else(|| self.not_found(path))?;
        if node.dataset.is_none() {
            return Err(self.invalid(&node.path, "is not a dataset".into()));
        }
        Ok(node)
    }

    pub(crate) fn read(&self, path: &str, selection: &Selection) -> Result<Array> {
        Ok(self.store.read(path, selection)?)
    }

    /// A dataset's values as strings, or `None` if there is no such dataset.
    fn read_strings(&self, path: &str) -> Result<Option<Vec<String>>> {
        match self.node(path) {
            Some(node) if node.dataset.is_some() => {
                Ok(Some(self.read(&node.path, &Selection::all())?.to_strings()))
            }
            _ => Ok(None),
        }
    }

    /// The session from the texts of [`SESSION_PATHS`], in order.
    fn session_from(&self, texts: &[Vec<String>]) -> Session {
        let list = |i: usize| texts.get(i).cloned().unwrap_or_default();
        let text = |i: usize| texts.get(i).and_then(|v| v.first()).cloned();
        let session_description = text(0);
        let identifier = text(1);
        let session_start_time = text(2);
        let timestamps_reference_time = text(3);
        let file_create_date = list(4);
        let experimenter = list(5);
        let lab = text(6);
        let institution = text(7);
        let related_publications = list(8);
        let experiment_description = text(9);
        let session_id = text(10);
        let nwb_version_dataset = text(11);
        let nwb_version = self
            .lookup("/")
            .and_then(|root| root.attr("nwb_version"))
            .and_then(first_string)
            .or(nwb_version_dataset);
        Session {
            session_description,
            identifier,
            session_start_time,
            timestamps_reference_time,
            file_create_date,
            experimenter,
            lab,
            institution,
            related_publications,
            experiment_description,
            session_id,
            nwb_version,
        }
    }

    /// The spec documents to read, as (namespace, dataset path): for each
    /// namespace its highest version, extensions first and `core` last so
    /// that core definitions win over same-named ones.
    fn spec_documents(&mut self) -> Vec<(String, String)> {
        let root = match self
            .lookup("/")
            .and_then(|r| r.attr(".specloc"))
            .map(single)
        {
            Some(Value::Ref(Some(p))) if p.starts_with('/') => p.clone(),
            _ => "/specifications".to_string(),
        };
        let mut namespaces: Vec<SpecNamespace> = Vec::new();
        for ns in self
            .children(&root)
            .into_iter()
            .filter(|n| n.kind == NodeKind::Group)
        {
            let best = self
                .children(&ns.path)
                .into_iter()
                .filter(|v| v.kind == NodeKind::Group)
                .max_by(|a, b| version_key(a.name()).cmp(&version_key(b.name())));
            if let Some(v) = best {
                namespaces.push(SpecNamespace {
                    name: ns.name().to_string(),
                    version: v.name().to_string(),
                    parsed: false,
                });
            }
        }
        let rank = |name: &str| match name {
            "core" => 2,
            n if n.starts_with("hdmf-") => 1,
            _ => 0,
        };
        ns_sort::sort_by_key(&mut namespaces, |ns| rank(&ns.name));
        let mut docs = Vec::new();
        for ns in &namespaces {
            let dir = format!("{}/{}/{}", root.trim_end_matches('/'), ns.name, ns.version);
            for doc in self.children(&dir) {
                if doc.dataset.is_some() && doc.name() != "namespace" {
                    docs.push((ns.name.clone(), doc.path.clone()));
                }
            }
        }
        self.namespaces = namespaces;
        docs
    }

    /// The namespaces whose spec documents must be parsed: those the
    /// built-in table does not cover (extensions) and whose types the file
    /// uses, and all of them when the file uses a type the table does not
    /// know, or when its core/hdmf-common is older than the table (before
    /// NWB 2.2 / hdmf-common 1.2 the hierarchy differed). The others are
    /// taken from the built-in table ([`apply_specs`](Self::apply_specs)):
    /// parsing every JSON document of core and hdmf-common costs more than
    /// the rest of opening a file in the browser.
    fn needed_namespaces(&self, docs: &[(String, String)]) -> HashSet<String> {
        let all: HashSet<String> = docs.iter().map(|(ns, _)| ns.clone()).collect();
        let old = self.namespaces.iter().any(|ns| {
            let min: &[u64] = match ns.name.as_str() {
                "core" => &[2, 2],
                "hdmf-common" => &[1, 2],
                _ => return false,
            };
            version_key(&ns.version).0.as_slice() < min
        });
        if old {
            return all;
        }
        let mut needed = HashSet::new();
        for node in &self.nodes {
            let Some(ty) = type_of(node) else { continue };
            let namespace = node.attr("namespace").and_then(|v| single(v).as_str());
            match namespace {
                Some(ns) if all.contains(ns) && !TypeTree::is_builtin_namespace(ns) => {
                    needed.insert(ns.to_string());
                }
                _ if TypeTree::is_builtin_type(ty) => {}
                // Of an extension the file does not embed: no document
                // defines it.
                Some(ns) if !all.contains(ns) => {}
                // A type of its own in a built-in namespace (a newer core),
                // or of no namespace: read everything.
                _ => return all,
            }
        }
        needed
    }

    /// Applies the spec documents read (`docs`, with their `texts`) and the
    /// built-in table for the namespaces the file embeds but whose
    /// documents were not read, namespace by namespace in the order of
    /// [`spec_documents`](Self::spec_documents) (extensions, then hdmf,
    /// then core: core's definitions win, as when every document is read).
    /// When a type the file uses then inherits from a type still unknown
    /// (defined in a namespace not read), every document is read.
    fn apply_specs(&mut self, docs: &[(String, String)], texts: Vec<SpecText>) {
        let mut by_namespace: HashMap<&str, Vec<(&str, SpecText)>> = HashMap::new();
        for ((ns, path), text) in docs.iter().zip(texts) {
            by_namespace
                .entry(ns.as_str())
                .or_default()
                .push((path.as_str(), text));
        }
        let namespaces: Vec<String> = self.namespaces.iter().map(|n| n.name.clone()).collect();
        for ns in &namespaces {
            match by_namespace.remove(ns.as_str()) {
                Some(texts) => {
                    for (path, text) in texts {
                        self.add_spec_text(ns, path, text);
                    }
                    self.mark_parsed(|n| n == ns);
                }
                None => self.types.claim_builtin(ns),
            }
        }
        if self.has_unknown_ancestor() {
            let skipped: HashSet<&String> = namespaces
                .iter()
                .filter(|ns| !docs.iter().any(|(d, _)| d == *ns))
                .collect();
            if skipped.is_empty() {
                return;
            }
            let all = self.spec_documents();
            let paths: Vec<&str> = all.iter().map(|(_, p)| p.as_str()).collect();
            let texts = ns_io::par_map(&paths, 8, |path| self.read_strings(path));
            self.types = TypeTree::builtin();
            self.apply_all(&all, texts);
            self.mark_parsed(|_| true);
        }
    }

    /// Records the namespaces (by name) whose documents were parsed.
    fn mark_parsed(&mut self, which: impl Fn(&str) -> bool) {
        for ns in &mut self.namespaces {
            if which(&ns.name) {
                ns.parsed = true;
            }
        }
    }

    /// Applies every document of every namespace, in order.
    fn apply_all(&mut self, docs: &[(String, String)], texts: Vec<SpecText>) {
        for ((ns, path), text) in docs.iter().zip(texts) {
            self.add_spec_text(ns, path, text);
        }
    }

    /// Adds one spec document (or a warning when it cannot be read or parsed).
    fn add_spec_text(&mut self, namespace: &str, path: &str, text: SpecText) {
        let text = match text {
            Ok(Some(t)) => t.into_iter().next().unwrap_or_default(),
            Ok(None) => return,
            Err(e) => {
                self.warnings.push(format!("spec {path} unreadable: {e}"));
                return;
            }
        };
        if let Err(e) = self.types.add_spec(namespace, &text) {
            self.warnings
                .push(format!("spec {path} is not valid JSON: {e}"));
        }
    }

    /// Whether a type the file uses and the tree defines has an ancestor
    /// the tree does not know.
    fn has_unknown_ancestor(&self) -> bool {
        let mut seen = HashSet::new();
        self.nodes.iter().filter_map(type_of).any(|ty| {
            seen.insert(ty)
                && self.types.contains(ty)
                && self
                    .types
                    .ancestors(ty)
                    .last()
                    .is_some_and(|top| !self.types.contains(top))
        })
    }

    /// The node listed at exactly `path` (no link following).
    fn lookup(&self, path: &str) -> Option<&Node> {
        self.nodes
            .binary_search_by(|n| n.path.as_str().cmp(path))
            .ok()
            .and_then(|i| self.nodes.get(i))
    }

    pub(crate) fn not_found(&self, path: &str) -> Error {
        Error::NotFound {
            location: self.location().to_string(),
            path: path.to_string(),
        }
    }

    pub(crate) fn invalid(&self, path: &str, message: String) -> Error {
        Error::Invalid {
            location: self.location().to_string(),
            path: path.to_string(),
            message,
        }
    }
}

/// The neurodata type attribute of a node: a string, or (as MatNWB writes
/// it) a one-element array of one.
pub(crate) fn type_of(node: &Node) -> Option<&str> {
    node.attr("neurodata_type")
        .or_else(|| node.attr("data_type"))
        .and_then(|v| single(v).as_str())
}

/// The element of a one-element array (at any depth), else the value
/// itself: MatNWB stores scalar attributes (`neurodata_type`, `namespace`,
/// `table`, ...) as arrays of one.
pub(crate) fn single(value: &Value) -> &Value {
    match value {
        Value::List(items) if items.len() == 1 => single(&items[0]),
        other => other,
    }
}

/// A string attribute, or the first of a list of strings.
pub(crate) fn first_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::List(items) => items.first().and_then(first_string),
        _ => None,
    }
}

/// Orders versions like `2.9.0` < `2.11.0`: numeric parts compare as
/// numbers, then the text breaks ties.
fn version_key(version: &str) -> (Vec<u64>, String) {
    let numbers = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect();
    (numbers, version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize("a//b/"), "/a/b");
        assert_eq!(normalize("/"), "/");
        assert_eq!(parent_of("/a"), "/");
        assert_eq!(parent_of("/a/b"), "/a");
        assert_eq!(absolute("/a/b", "c"), "/a/b/c");
        assert_eq!(absolute("/a", "/x/y"), "/x/y");
        assert!(version_key("2.11.0") > version_key("2.9.0"));
        assert!(version_key("1.10.0") > version_key("1.8.0"));
    }
}
