//! Errors of the layers below as the protocol's [`WorkerError`]s: a kind
//! the app can act on and one line naming the file and the object.

use ns_protocol::{ErrorKind, WorkerError};

pub fn io_error(e: &ns_io::Error) -> WorkerError {
    let kind = match e {
        ns_io::Error::HttpStatus { status: 404, .. } => ErrorKind::NotFound,
        ns_io::Error::NotPartial { .. } => ErrorKind::NoRangeSupport,
        ns_io::Error::HttpStatus { .. }
        | ns_io::Error::ContentRangeMismatch { .. }
        | ns_io::Error::BadContentRange { .. }
        | ns_io::Error::SizeChanged { .. }
        | ns_io::Error::Unsatisfiable { .. }
        | ns_io::Error::Overlong { .. } => ErrorKind::Http,
        ns_io::Error::Http { .. } | ns_io::Error::Truncated { .. } => ErrorKind::Network,
        ns_io::Error::OutOfBounds { .. }
        | ns_io::Error::Io { .. }
        | ns_io::Error::Invalid { .. } => ErrorKind::Format,
    };
    WorkerError::new(kind, e.to_string())
}

pub fn model_error(e: &ns_model::Error) -> WorkerError {
    let kind = match e {
        ns_model::Error::Io(io) => return io_error(io),
        ns_model::Error::NotFormat { .. } => ErrorKind::NotHdf5,
        ns_model::Error::NotFound { .. } => ErrorKind::NotFound,
        ns_model::Error::Selection { .. } => ErrorKind::BadRequest,
        ns_model::Error::Format { .. } | ns_model::Error::Unsupported { .. } => ErrorKind::Format,
    };
    WorkerError::new(kind, e.to_string())
}

pub fn nwb_error(e: &ns_nwb::Error) -> WorkerError {
    match e {
        ns_nwb::Error::Store(m) => model_error(m),
        ns_nwb::Error::NotFound { .. } => WorkerError::new(ErrorKind::NotFound, e.to_string()),
        ns_nwb::Error::Invalid { .. } => WorkerError::new(ErrorKind::Format, e.to_string()),
    }
}
