//! Pages of DynamicTables and the intervals of TimeIntervals tables.

use ns_nwb::NwbFile;
use ns_protocol::{
    CellValues, ErrorKind, GetCell, GetIntervals, GetTable, Intervals, TablePage, WorkerError,
};

use crate::Limits;

fn todo(nwb: &NwbFile, path: &str) -> WorkerError {
    WorkerError::new(
        ErrorKind::BadRequest,
        format!("{}: {path}: not yet", nwb.location()),
    )
}

pub(crate) fn page(
    nwb: &NwbFile,
    req: &GetTable,
    _limits: &Limits,
) -> Result<TablePage, WorkerError> {
    Err(todo(nwb, &req.path))
}

pub(crate) fn cell(
    nwb: &NwbFile,
    req: &GetCell,
    _limits: &Limits,
) -> Result<CellValues, WorkerError> {
    Err(todo(nwb, &req.path))
}

pub(crate) fn intervals(
    nwb: &NwbFile,
    req: &GetIntervals,
    _limits: &Limits,
) -> Result<Intervals, WorkerError> {
    Err(todo(nwb, &req.path))
}
