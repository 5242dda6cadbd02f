/// A buffer that a codec could not decode. Says which codec and what is
/// wrong; the caller adds where (file, dataset, chunk).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{codec}: {message}")]
pub struct Error {
    /// `blosc`, `zstd`, `lz4`, `bitshuffle`, `lzf`, `bzip2`, ...
    pub codec: &'static str,
    pub message: String,
}

impl Error {
    pub(crate) fn new(codec: &'static str, message: impl Into<String>) -> Self {
        Self {
            codec,
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
