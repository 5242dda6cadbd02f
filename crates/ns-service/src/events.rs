//! Events (times in a window) and strided samples (trajectories).

use ns_nwb::NwbFile;
use ns_protocol::{ErrorKind, Events, GetEvents, GetSamples, Samples, WorkerError};

use crate::Limits;

fn todo(nwb: &NwbFile, path: &str) -> WorkerError {
    WorkerError::new(
        ErrorKind::BadRequest,
        format!("{}: {path}: not yet", nwb.location()),
    )
}

pub(crate) fn events(
    nwb: &NwbFile,
    req: &GetEvents,
    _limits: &Limits,
) -> Result<Events, WorkerError> {
    Err(todo(nwb, &req.path))
}

pub(crate) fn samples(
    nwb: &NwbFile,
    req: &GetSamples,
    _limits: &Limits,
) -> Result<Samples, WorkerError> {
    Err(todo(nwb, &req.path))
}
