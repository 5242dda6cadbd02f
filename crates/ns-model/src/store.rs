//! [`ObjectStore`]: what readers of the object model (NWB semantics, the
//! service layer, the CLI, the browser worker) need from a file, whichever
//! its format.

use crate::{Array, Node, Result, Selection};

/// A tree of groups, datasets and links with attributes, whose datasets can
/// be read by selection: an HDF5 file (`ns_hdf5::H5File`) or another layout
/// of the same content (a LINDI reference file, `ns_lindi::LindiFile`).
///
/// Every backend returns this crate's model ([`Node`], [`Array`],
/// [`Value`](crate::Value)) and errors ([`Error`](crate::Error)), so callers
/// do not care which one they hold.
pub trait ObjectStore: Send + Sync {
    /// The path or URL the file was opened from.
    fn location(&self) -> &str;

    /// Size in bytes of what was opened (for a reference file: the
    /// reference document, not the data it points to).
    fn size_bytes(&self) -> u64;

    /// Every object and link reachable from `/`, sorted by path. Soft and
    /// external links are listed, not followed.
    fn walk(&self) -> Result<Vec<Node>>;

    /// One object by path, following soft links to it.
    fn node(&self, path: &str) -> Result<Node>;

    /// Reads a selection of the dataset at `path` (soft links followed).
    fn read(&self, path: &str, selection: &Selection) -> Result<Array>;
}
