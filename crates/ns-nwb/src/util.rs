//! Small helpers: turning read values into rows and offsets.

use ns_model::{Array, Value};

/// One value per row (first dimension) of `array`: the element itself for
/// 1-D data, nested lists for more dimensions. A shape that names more
/// (empty) rows than the values justify, such as `[2^40, 0]`, is not
/// expanded (see `ns_model::MAX_EMPTY_LISTS`): its values come back flat.
pub(crate) fn rows_of(array: &Array) -> Vec<Value> {
    let values = array.to_values();
    let Some(dims) = ns_model::dims_usize(&array.shape) else {
        return values;
    };
    if dims.len() < 2 {
        return values;
    }
    match ns_model::nest(values, &dims) {
        Value::List(rows) => rows,
        other => vec![other],
    }
}

/// An integer value as u64 (non-negative integers only; floats that are
/// whole numbers too, as some writers store indices as floats).
pub(crate) fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::UInt(u) => Some(*u),
        Value::Int(i) => u64::try_from(*i).ok(),
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked whole and in range"
        )]
        Value::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19 => Some(*f as u64),
        _ => None,
    }
}

/// An integer value as i64.
pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        Value::UInt(u) => i64::try_from(*u).ok(),
        _ => None,
    }
}

/// Splits `items` into consecutive lists ending at the cumulative offsets
/// `ends` (relative to the start of `items`). `None` if the offsets
/// decrease or run past the end.
pub(crate) fn split_at_ends<T>(items: Vec<T>, ends: &[u64]) -> Option<Vec<Vec<T>>> {
    let mut out = Vec::with_capacity(ends.len());
    let mut it = items.into_iter();
    let mut prev = 0u64;
    for &end in ends {
        let n = usize::try_from(end.checked_sub(prev)?).ok()?;
        let part: Vec<T> = it.by_ref().take(n).collect();
        if part.len() != n {
            return None;
        }
        out.push(part);
        prev = end;
    }
    Some(out)
}
