/// Errors of any [`ObjectStore`](crate::ObjectStore), whatever its format.
/// Each names the file (path or URL) and, where there is one, the object.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes could not be read (the message names the file).
    #[error(transparent)]
    Io(#[from] ns_io::Error),
    /// The file is not of the format it was opened as.
    #[error("{location}: not {format} file ({reason})")]
    NotFormat {
        location: String,
        /// `an HDF5`, `a LINDI`.
        format: &'static str,
        reason: String,
    },
    /// Something in the file is malformed.
    #[error("{location}: {path}: {message}")]
    Format {
        location: String,
        path: String,
        message: String,
    },
    /// Well-formed, but uses a feature this reader does not have.
    #[error("{location}: {path}: {message}")]
    Unsupported {
        location: String,
        path: String,
        message: String,
    },
    #[error("{location}: no object at {path}")]
    NotFound { location: String, path: String },
    /// The selection does not fit the dataset (or is too large to read).
    #[error("{location}: {path}: {message}")]
    Selection {
        location: String,
        path: String,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
