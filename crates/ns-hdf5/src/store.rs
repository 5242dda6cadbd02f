//! [`ObjectStore`]: what readers of the object model (NWB semantics, the
//! CLI, the browser worker) need from a file, whichever its format.

use crate::{Array, H5File, Node, Result, Selection};

/// A tree of groups, datasets and links with attributes, whose datasets can
/// be read by selection: an HDF5 file ([`H5File`]) or another layout of the
/// same content (a LINDI reference file in the `ns-lindi` crate).
///
/// Every backend returns this crate's model ([`Node`], [`Array`], [`Value`](crate::Value))
/// and errors ([`Error`](crate::Error)), so callers do not care which one
/// they hold.
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

impl ObjectStore for H5File {
    fn location(&self) -> &str {
        H5File::location(self)
    }

    fn size_bytes(&self) -> u64 {
        H5File::size_bytes(self)
    }

    fn walk(&self) -> Result<Vec<Node>> {
        H5File::walk(self)
    }

    fn node(&self, path: &str) -> Result<Node> {
        H5File::node(self, path)
    }

    fn read(&self, path: &str, selection: &Selection) -> Result<Array> {
        H5File::read(self, path, selection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_object_safe(_: Option<&dyn ObjectStore>) {}

    #[test]
    fn h5file_is_a_store() {
        fn is_store<T: ObjectStore>() {}
        is_store::<H5File>();
        assert_object_safe(None);
    }
}
