//! Objects of a file: groups, datasets and links, with their attributes.

use crate::dtype::Dtype;
use crate::value::Value;

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Group,
    Dataset,
    SoftLink {
        target: String,
    },
    ExternalLink {
        file: String,
        target: String,
    },
    /// A committed datatype or another object that is neither group nor dataset.
    Other,
}

impl NodeKind {
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Group => "group",
            NodeKind::Dataset => "dataset",
            NodeKind::SoftLink { .. } => "soft_link",
            NodeKind::ExternalLink { .. } => "external_link",
            NodeKind::Other => "other",
        }
    }
}

/// Shape and storage of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetInfo {
    pub shape: Vec<u64>,
    pub dtype: Dtype,
    /// A readable description of the element type.
    pub dtype_description: String,
    pub chunks: Option<Vec<u64>>,
    /// Filter names in pipeline order (`deflate`, `shuffle`, ...).
    pub filters: Vec<String>,
    /// For a virtual dataset, where its values come from, mapping by
    /// mapping (empty for any other dataset).
    pub virtual_sources: Vec<VirtualSource>,
}

/// One mapping of a virtual dataset: the elements `source_selection` of
/// dataset `dataset` in file `file` (`.` is the same file) fill the elements
/// `virtual_selection` of the virtual dataset. Selections as numpy-like
/// text (`[0:2, 1:4]`, `[...]` for all, `points (1, 2), ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualSource {
    pub file: String,
    pub dataset: String,
    pub source_selection: String,
    pub virtual_selection: String,
}

impl VirtualSource {
    /// `file:dataset[selection] → [selection]`.
    pub fn describe(&self) -> String {
        format!(
            "{}:{}{} -> {}",
            self.file, self.dataset, self.source_selection, self.virtual_selection
        )
    }
}

/// One object (or link) of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub path: String,
    pub kind: NodeKind,
    /// Object header address (hard-linked objects only).
    pub address: Option<u64>,
    pub attrs: Vec<(String, Value)>,
    pub dataset: Option<DatasetInfo>,
    /// Why this object (or part of it: its attributes, its members) could
    /// not be decoded. The rest of the file is listed all the same; reading
    /// the object gives this error.
    pub error: Option<String>,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&Value> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The name (last path component).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }
}
