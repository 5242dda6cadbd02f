/// Errors of the LINDI layer. Each names the reference file (path or URL)
/// and, where there is one, the object inside it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bytes could not be read: the reference document or the data a
    /// reference points to (the message names the file).
    #[error(transparent)]
    Io(#[from] ns_io::Error),
    /// The document is not a LINDI reference file at all.
    #[error("{location}: not a LINDI file ({reason})")]
    NotLindi { location: String, reason: String },
    /// Something in the file is malformed: metadata, a reference, a chunk.
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
    /// a dtype, a link type).
    #[error("{location}: {path}: {message}")]
    Unsupported {
        location: String,
        path: String,
        message: String,
    },
    /// Reading a dataset that the LINDI file links to inside an HDF5 file
    /// (`_EXTERNAL_ARRAY_LINK`) failed.
    #[error(transparent)]
    Hdf5(#[from] ns_hdf5::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The shared Zarr layer's errors (array metadata, chunks, selections),
/// kept by kind.
impl From<ns_zarr::Error> for Error {
    fn from(e: ns_zarr::Error) -> Self {
        match e {
            ns_zarr::Error::Io(io) => Self::Io(io),
            ns_zarr::Error::NotZarr { location, reason } => Self::NotLindi { location, reason },
            ns_zarr::Error::Format {
                location,
                path,
                message,
            } => Self::Format {
                location,
                path,
                message,
            },
            ns_zarr::Error::NotFound { location, path } => Self::NotFound { location, path },
            ns_zarr::Error::Selection {
                location,
                path,
                message,
            } => Self::Selection {
                location,
                path,
                message,
            },
            ns_zarr::Error::Unsupported {
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

/// Through [`ns_model::ObjectStore`] a LINDI file reports errors as the
/// object model's errors, keeping their kind.
impl From<Error> for ns_model::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(io) => Self::Io(io),
            Error::Hdf5(h5) => h5.into(),
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
            Error::NotLindi { location, reason } => Self::NotFormat {
                location,
                format: "a LINDI",
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
