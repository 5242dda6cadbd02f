//! What a view needs to know about a TimeSeries.

use ns_nwb::NwbFile;
use ns_protocol::{ErrorKind, SeriesInfo, WorkerError};

pub(crate) fn series(nwb: &NwbFile, path: &str) -> Result<SeriesInfo, WorkerError> {
    Err(WorkerError::new(
        ErrorKind::BadRequest,
        format!("{}: {path}: not yet", nwb.location()),
    ))
}
