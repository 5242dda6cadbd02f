/// Errors of the NWB layer: those of the file below, and NWB
/// structure that is missing or malformed. Each names the file and the
/// object.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the file failed.
    #[error(transparent)]
    Store(#[from] ns_model::Error),
    /// No object (or no column) at this path.
    #[error("{location}: no object at {path}")]
    NotFound { location: String, path: String },
    /// The object is not what NWB says it should be (wrong type, missing
    /// dataset, inconsistent index, ...).
    #[error("{location}: {path}: {message}")]
    Invalid {
        location: String,
        path: String,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
