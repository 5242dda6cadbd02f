/// Errors of the Zarr layer. Each names the store (path or URL) and, where
/// there is one, the object inside it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bytes could not be read (the message names the key's file or URL).
    #[error(transparent)]
    Io(#[from] ns_io::Error),
    /// The store is not a Zarr v2 hierarchy at all.
    #[error("{location}: not a Zarr store ({reason})")]
    NotZarr { location: String, reason: String },
    /// Something in the store is malformed: metadata, a link, a chunk.
    #[error("{location}: {path}: {message}")]
    Format {
        location: String,
        path: String,
        message: String,
    },
    #[error("{location}: no object at {path}")]
    NotFound { location: String, path: String },
    #[error("{location}: {path}: {message}")]
    Selection {
        location: String,
        path: String,
        message: String,
    },
    /// Well-formed, but uses a feature this reader does not have (a codec,
    /// a dtype, pickled objects).
    #[error("{location}: {path}: {message}")]
    Unsupported {
        location: String,
        path: String,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Through [`ns_model::ObjectStore`] a Zarr store reports errors as the
/// object model's errors, keeping their kind.
impl From<Error> for ns_model::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(io) => Self::Io(io),
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
            Error::NotZarr { location, reason } => Self::NotFormat {
                location,
                format: "a Zarr",
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
        }
    }
}
