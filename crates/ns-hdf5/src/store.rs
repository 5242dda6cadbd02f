//! [`H5File`] as an [`ObjectStore`] of the object model.

use ns_model::{Array, Node, ObjectStore, Selection};

use crate::{Error, H5File};

impl ObjectStore for H5File {
    fn location(&self) -> &str {
        H5File::location(self)
    }

    fn size_bytes(&self) -> u64 {
        H5File::size_bytes(self)
    }

    fn walk(&self) -> ns_model::Result<Vec<Node>> {
        Ok(H5File::walk(self)?)
    }

    fn node(&self, path: &str) -> ns_model::Result<Node> {
        Ok(H5File::node(self, path)?)
    }

    fn read(&self, path: &str, selection: &Selection) -> ns_model::Result<Array> {
        Ok(H5File::read(self, path, selection)?)
    }
}

/// Through [`ObjectStore`] an HDF5 file reports errors as the object
/// model's errors, keeping their kind.
impl From<Error> for ns_model::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(io) => Self::Io(io),
            Error::NotHdf5 { location, reason } => Self::NotFormat {
                location,
                format: "an HDF5",
                reason,
            },
            Error::Format {
                location,
                path,
                message,
            } => Self::Format {
                location,
                path,
                message,
            },
            Error::Unsupported {
                location,
                path,
                message,
            } => Self::Unsupported {
                location,
                path,
                message,
            },
            Error::NotFound { location, path } => Self::NotFound { location, path },
            Error::Selection {
                location,
                path,
                message,
            } => Self::Selection {
                location,
                path,
                message,
            },
        }
    }
}
