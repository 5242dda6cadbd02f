/// Errors of the HDF5 layer. Each names the file (path or URL) and, where
/// there is one, the object inside it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes could not be read (the message names the file).
    #[error(transparent)]
    Io(#[from] ns_io::Error),
    #[error("{location}: not an HDF5 file ({reason})")]
    NotHdf5 { location: String, reason: String },
    #[error("{location}: {path}: {message}")]
    Format {
        location: String,
        path: String,
        message: String,
    },
    /// Well-formed, but uses a feature this reader does not have (a
    /// filter it cannot decode).
    #[error("{location}: {path}: {message}")]
    Unsupported {
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
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
