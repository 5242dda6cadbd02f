//! Values of a dataset selection: numbers as typed buffers, the rest as text.

use ns_model::{Array, Data, Value};
use ns_nwb::NwbFile;
use ns_protocol::{ErrorKind, GetValues, TypedBuffer, Values, ValuesData, WorkerError};

use crate::Limits;
use crate::error::model_error;

pub(crate) fn values(
    nwb: &NwbFile,
    req: &GetValues,
    limits: &Limits,
) -> Result<Values, WorkerError> {
    let path = req.path.as_str();
    // The size is known from the shape: refuse before reading anything.
    let node = match nwb.node(path) {
        Some(node) => node.clone(),
        None => nwb.store().node(path).map_err(|e| model_error(&e))?,
    };
    let Some(dataset) = &node.dataset else {
        return Err(WorkerError::new(
            ErrorKind::BadRequest,
            format!(
                "{}: {path} is a {}, not a dataset",
                nwb.location(),
                node.kind.name()
            ),
        ));
    };
    let resolved = req.selection.resolve(&dataset.shape).map_err(|message| {
        WorkerError::new(
            ErrorKind::BadRequest,
            format!("{}: {path}: {message}", nwb.location()),
        )
    })?;
    let count = resolved
        .iter()
        .try_fold(1u64, |n, d| n.checked_mul(d.count))
        .unwrap_or(u64::MAX);
    if count > limits.max_values {
        return Err(WorkerError::new(
            ErrorKind::TooLarge,
            format!(
                "{}: {path}: {count} values selected; at most {} at once",
                nwb.location(),
                limits.max_values
            ),
        ));
    }
    let array = nwb
        .store()
        .read(path, &req.selection)
        .map_err(|e| model_error(&e))?;
    Ok(Values {
        path: path.to_string(),
        selection: req.selection.clone(),
        shape: array.shape.clone(),
        dtype: array.dtype.name().to_string(),
        data: values_data(&array),
    })
}

/// Numbers as a typed buffer (no conversion), everything else as text.
pub(crate) fn values_data(array: &Array) -> ValuesData {
    let buffer = match &array.data {
        Data::Int8(v) => TypedBuffer::from_i8(v),
        Data::Int16(v) => TypedBuffer::from_i16(v),
        Data::Int32(v) => TypedBuffer::from_i32(v),
        Data::Int64(v) => TypedBuffer::from_i64(v),
        Data::UInt8(v) => TypedBuffer::from_u8(v),
        Data::UInt16(v) => TypedBuffer::from_u16(v),
        Data::UInt32(v) => TypedBuffer::from_u32(v),
        Data::UInt64(v) => TypedBuffer::from_u64(v),
        Data::Float32(v) => TypedBuffer::from_f32(v),
        Data::Float64(v) => TypedBuffer::from_f64(v),
        Data::Values(values) => {
            return ValuesData::Text {
                values: values.iter().map(value_text).collect(),
            };
        }
    };
    ValuesData::Numbers { buffer }
}

/// A value as a person reads it: strings as they are, references as the
/// path they point to, everything else as JSON.
pub(crate) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Ref(Some(p)) => p.clone(),
        other => other.to_json().to_string(),
    }
}
