//! Hyperslab selections (`start:stop[:step]` or an index per dimension) and
//! reading them into typed arrays.

use std::str::FromStr;

use hdf5_reader::{Dataset, H5Type, SliceInfo, SliceInfoElem};

use crate::dtype::Dtype;
use crate::file::H5File;
use crate::path::normalize;
use crate::value::{Value, float_json};
use crate::{Error, Result};

/// The selection along one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimSelection {
    /// One index; the dimension is dropped from the result.
    Index(u64),
    /// `start..stop` by `step`; missing ends mean the whole extent.
    Range {
        start: Option<u64>,
        stop: Option<u64>,
        step: u64,
    },
}

/// A selection over the leading dimensions; missing trailing ones are whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection(pub Vec<DimSelection>);

impl Selection {
    /// Everything.
    pub fn all() -> Self {
        Self(Vec::new())
    }

    /// Rows `start..stop` of the first dimension.
    pub fn rows(start: u64, stop: u64) -> Self {
        Self(vec![DimSelection::Range {
            start: Some(start),
            stop: Some(stop),
            step: 1,
        }])
    }
}

impl FromStr for Selection {
    type Err = String;

    /// Parses `0:100:2,5,:` (comma-separated per dimension).
    fn from_str(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Ok(Self::all());
        }
        let parse_num = |s: &str| -> Result<Option<u64>, String> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<u64>()
                .map(Some)
                .map_err(|_| format!("{s:?} is not a non-negative integer"))
        };
        let mut dims = Vec::new();
        for part in spec.split(',') {
            let fields: Vec<&str> = part.split(':').collect();
            let dim = match fields.as_slice() {
                [index] => DimSelection::Index(
                    parse_num(index)?.ok_or_else(|| "empty dimension in selection".to_string())?,
                ),
                [start, stop] => DimSelection::Range {
                    start: parse_num(start)?,
                    stop: parse_num(stop)?,
                    step: 1,
                },
                [start, stop, step] => {
                    let step = parse_num(step)?.unwrap_or(1);
                    if step == 0 {
                        return Err("step must be at least 1".into());
                    }
                    DimSelection::Range {
                        start: parse_num(start)?,
                        stop: parse_num(stop)?,
                        step,
                    }
                }
                _ => return Err(format!("{part:?} is not start:stop[:step] or an index")),
            };
            dims.push(dim);
        }
        Ok(Self(dims))
    }
}

/// A selection along one dimension, resolved against the dimension's
/// extent: elements `start, start + step, ...` (`count` of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedDim {
    pub start: u64,
    pub step: u64,
    pub count: u64,
    /// Whether the dimension stays in the result (`false` for an index).
    pub keep: bool,
}

impl Selection {
    /// Resolves the selection against a dataset `shape`, like numpy: range
    /// ends past the extent are clipped, indices out of range are errors.
    /// Every backend reading [`Selection`]s uses this, so they agree.
    pub fn resolve(&self, shape: &[u64]) -> Result<Vec<ResolvedDim>, String> {
        resolve(self, shape)
    }
}

fn resolve(selection: &Selection, shape: &[u64]) -> Result<Vec<ResolvedDim>, String> {
    if selection.0.len() > shape.len() {
        return Err(format!(
            "selection has {} dimensions but the dataset has {}",
            selection.0.len(),
            shape.len()
        ));
    }
    let mut out = Vec::with_capacity(shape.len());
    for (i, &extent) in shape.iter().enumerate() {
        let dim = selection.0.get(i).copied().unwrap_or(DimSelection::Range {
            start: None,
            stop: None,
            step: 1,
        });
        out.push(match dim {
            DimSelection::Index(index) => {
                if index >= extent {
                    return Err(format!(
                        "index {index} is out of range for dimension {i} of size {extent}"
                    ));
                }
                ResolvedDim {
                    start: index,
                    step: 1,
                    count: 1,
                    keep: false,
                }
            }
            DimSelection::Range { start, stop, step } => {
                // Like numpy: ends past the extent are clipped.
                let stop = stop.unwrap_or(extent).min(extent);
                let start = start.unwrap_or(0).min(stop);
                ResolvedDim {
                    start,
                    step,
                    count: (stop - start).div_ceil(step),
                    keep: true,
                }
            }
        });
    }
    Ok(out)
}

/// Values read from a dataset, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Int8(Vec<i8>),
    Int16(Vec<i16>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    UInt8(Vec<u8>),
    UInt16(Vec<u16>),
    UInt32(Vec<u32>),
    UInt64(Vec<u64>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    /// Anything that is not a plain number (strings, references, ...).
    Values(Vec<Value>),
}

macro_rules! each_numeric {
    ($data:expr, $v:ident => $body:expr, $values:ident => $other:expr) => {
        match $data {
            Data::Int8($v) => $body,
            Data::Int16($v) => $body,
            Data::Int32($v) => $body,
            Data::Int64($v) => $body,
            Data::UInt8($v) => $body,
            Data::UInt16($v) => $body,
            Data::UInt32($v) => $body,
            Data::UInt64($v) => $body,
            Data::Float32($v) => $body,
            Data::Float64($v) => $body,
            Data::Values($values) => $other,
        }
    };
}

/// A selection read from a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<u64>,
    pub dtype: Dtype,
    pub data: Data,
}

impl Array {
    pub fn len(&self) -> usize {
        each_numeric!(&self.data, v => v.len(), values => values.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as floats (numbers and bools; others are NaN).
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_lossless,
        clippy::unnecessary_cast,
        reason = "as numpy's astype(float)"
    )]
    pub fn to_f64(&self) -> Vec<f64> {
        each_numeric!(&self.data, v => v.iter().map(|x| *x as f64).collect(),
            values => values.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
    }

    /// The values as general [`Value`]s.
    pub fn to_values(&self) -> Vec<Value> {
        match &self.data {
            Data::Int8(v) => v.iter().map(|x| Value::Int(i64::from(*x))).collect(),
            Data::Int16(v) => v.iter().map(|x| Value::Int(i64::from(*x))).collect(),
            Data::Int32(v) => v.iter().map(|x| Value::Int(i64::from(*x))).collect(),
            Data::Int64(v) => v.iter().map(|x| Value::Int(*x)).collect(),
            Data::UInt8(v) => v.iter().map(|x| Value::UInt(u64::from(*x))).collect(),
            Data::UInt16(v) => v.iter().map(|x| Value::UInt(u64::from(*x))).collect(),
            Data::UInt32(v) => v.iter().map(|x| Value::UInt(u64::from(*x))).collect(),
            Data::UInt64(v) => v.iter().map(|x| Value::UInt(*x)).collect(),
            Data::Float32(v) => v.iter().map(|x| Value::Float(f64::from(*x))).collect(),
            Data::Float64(v) => v.iter().map(|x| Value::Float(*x)).collect(),
            Data::Values(v) => v.clone(),
        }
    }

    /// Flat JSON array of the values (encoded as in [`Value::to_json`]).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        J::Array(match &self.data {
            Data::Float32(v) => v.iter().map(|x| float_json(f64::from(*x))).collect(),
            Data::Float64(v) => v.iter().map(|x| float_json(*x)).collect(),
            _ => self.to_values().iter().map(Value::to_json).collect(),
        })
    }

    /// The values as strings (for string datasets).
    pub fn to_strings(&self) -> Vec<String> {
        self.to_values()
            .into_iter()
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_json().to_string(),
            })
            .collect()
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(16)
            .thread_name(|i| format!("ns-hdf5-read-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

impl H5File {
    /// Reads a selection of the dataset at `path` (soft links followed).
    pub fn read(&self, path: &str, selection: &Selection) -> Result<Array> {
        let path = normalize(path);
        let ds = self
            .inner
            .dataset(&path)
            .map_err(|e| self.error(&path, &e))?;
        let shape = ds.shape().to_vec();
        let dtype = Dtype::of(ds.dtype());
        let bad = |message: String| Error::Selection {
            location: self.location.clone(),
            path: path.clone(),
            message,
        };
        let resolved = resolve(selection, &shape).map_err(bad)?;
        let out_shape: Vec<u64> = resolved
            .iter()
            .filter(|r| r.keep)
            .map(|r| r.count)
            .collect();
        let count = resolved
            .iter()
            .try_fold(1u64, |acc, r| acc.checked_mul(r.count))
            .ok_or_else(|| bad("selection size overflows".into()))?;
        let element = crate::value::element_size(ds.dtype()).max(1) as u64;
        let limit = self.options.max_read_bytes as u64;
        if count.saturating_mul(element) > limit {
            return Err(bad(format!(
                "selection of {count} elements ({} bytes) is larger than the {limit}-byte read limit; select fewer elements with --slice",
                count.saturating_mul(element)
            )));
        }
        if count > 0 {
            let bounds: crate::plan::Bounds = resolved
                .iter()
                .map(|r| r.start..r.start + (r.count - 1) * r.step + 1)
                .collect();
            self.prefetch_chunks(ds.address(), &bounds);
        }
        let data = if count == 0 {
            empty_data(dtype)
        } else if dtype.is_numeric() {
            self.read_numeric(&ds, dtype, &resolved)
                .map_err(|e| self.error(&path, &e))?
        } else {
            Data::Values(self.read_values(&ds, dtype, &shape, &resolved, &path)?)
        };
        Ok(Array {
            shape: out_shape,
            dtype,
            data,
        })
    }

    fn read_numeric(
        &self,
        ds: &Dataset,
        dtype: Dtype,
        resolved: &[ResolvedDim],
    ) -> hdf5_reader::error::Result<Data> {
        let info = SliceInfo {
            selections: resolved
                .iter()
                .map(|r| {
                    if r.keep {
                        SliceInfoElem::Slice {
                            start: r.start,
                            end: r.start + r.count.saturating_sub(1) * r.step + 1,
                            step: r.step,
                        }
                    } else {
                        SliceInfoElem::Index(r.start)
                    }
                })
                .collect(),
        };
        fn read<T: H5Type + Copy>(
            ds: &Dataset,
            info: &SliceInfo,
        ) -> hdf5_reader::error::Result<Vec<T>> {
            if info.selections.is_empty() {
                return Ok(ds.read_array::<T>()?.iter().copied().collect());
            }
            #[cfg(not(target_arch = "wasm32"))]
            if let Some(pool) = pool() {
                return pool
                    .install(|| ds.read_slice_parallel::<T>(info))
                    .map(|a| a.iter().copied().collect());
            }
            Ok(ds.read_slice::<T>(info)?.iter().copied().collect())
        }
        Ok(match dtype {
            Dtype::Int8 => Data::Int8(read(ds, &info)?),
            Dtype::Int16 => Data::Int16(read(ds, &info)?),
            Dtype::Int32 => Data::Int32(read(ds, &info)?),
            Dtype::Int64 => Data::Int64(read(ds, &info)?),
            Dtype::UInt8 => Data::UInt8(read(ds, &info)?),
            Dtype::UInt16 => Data::UInt16(read(ds, &info)?),
            Dtype::UInt32 => Data::UInt32(read(ds, &info)?),
            Dtype::UInt64 => Data::UInt64(read(ds, &info)?),
            Dtype::Float32 => Data::Float32(read(ds, &info)?),
            _ => Data::Float64(read(ds, &info)?),
        })
    }

    /// Non-numeric types: the whole dataset is decoded, then selected.
    fn read_values(
        &self,
        ds: &Dataset,
        dtype: Dtype,
        shape: &[u64],
        resolved: &[ResolvedDim],
        path: &str,
    ) -> Result<Vec<Value>> {
        if crate::value::has_references(ds.dtype()) && !self.paths_known() {
            // References print as paths: learn them first.
            self.walk()?;
        }
        let total = shape
            .iter()
            .try_fold(1u64, |n, d| n.checked_mul(*d))
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX);
        let element = crate::value::element_size(ds.dtype()).max(1);
        if total.saturating_mul(element) > self.options.max_read_bytes {
            return Err(Error::Selection {
                location: self.location.clone(),
                path: path.to_string(),
                message: format!(
                    "{dtype} datasets are read whole, and this one ({total} elements) is larger than the read limit"
                ),
            });
        }
        let all: Vec<Value> = if dtype == Dtype::String {
            ds.read_strings()
                .map_err(|e| self.error(path, &e))?
                .into_iter()
                .map(Value::String)
                .collect()
        } else {
            let raw = ds.read_raw_bytes().map_err(|e| self.error(path, &e))?;
            self.with_decoder(|d| d.decode_all(ds.dtype(), &raw, total))
        };
        Ok(select_flat(all, shape, resolved))
    }
}

impl Data {
    /// No values, in the variant that `dtype` reads into.
    pub fn empty(dtype: Dtype) -> Self {
        empty_data(dtype)
    }
}

fn empty_data(dtype: Dtype) -> Data {
    match dtype {
        Dtype::Int8 => Data::Int8(Vec::new()),
        Dtype::Int16 => Data::Int16(Vec::new()),
        Dtype::Int32 => Data::Int32(Vec::new()),
        Dtype::Int64 => Data::Int64(Vec::new()),
        Dtype::UInt8 => Data::UInt8(Vec::new()),
        Dtype::UInt16 => Data::UInt16(Vec::new()),
        Dtype::UInt32 => Data::UInt32(Vec::new()),
        Dtype::UInt64 => Data::UInt64(Vec::new()),
        Dtype::Float32 => Data::Float32(Vec::new()),
        Dtype::Float64 => Data::Float64(Vec::new()),
        _ => Data::Values(Vec::new()),
    }
}

/// Picks the selected elements of a row-major array, in row-major order.
fn select_flat(all: Vec<Value>, shape: &[u64], resolved: &[ResolvedDim]) -> Vec<Value> {
    if resolved
        .iter()
        .zip(shape)
        .all(|(r, &n)| r.start == 0 && r.step == 1 && r.count == n)
    {
        return all;
    }
    // Shapes come from the file: an offset that overflows is out of `all`
    // (a null), and the capacity is bounded by what `all` holds.
    let mut strides = vec![1u64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1].saturating_mul(shape[i + 1]);
    }
    let total = resolved
        .iter()
        .try_fold(1u64, |n, r| n.checked_mul(r.count))
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(total.min(all.len()));
    let mut idx = vec![0u64; resolved.len()];
    'outer: loop {
        let flat = idx
            .iter()
            .zip(resolved)
            .zip(&strides)
            .try_fold(0u64, |acc, ((i, r), s)| {
                let at = i.checked_mul(r.step)?.checked_add(r.start)?;
                acc.checked_add(at.checked_mul(*s)?)
            });
        out.push(
            flat.and_then(|f| usize::try_from(f).ok())
                .and_then(|f| all.get(f).cloned())
                .unwrap_or(Value::Null),
        );
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < resolved[d].count {
                continue 'outer;
            }
            idx[d] = 0;
        }
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_selection() {
        let s: Selection = "0:10:2, 5 ,:".parse().expect("parses");
        assert_eq!(
            s.0,
            vec![
                DimSelection::Range {
                    start: Some(0),
                    stop: Some(10),
                    step: 2
                },
                DimSelection::Index(5),
                DimSelection::Range {
                    start: None,
                    stop: None,
                    step: 1
                },
            ]
        );
        assert!("1:2:0".parse::<Selection>().is_err());
        assert!("a".parse::<Selection>().is_err());
        assert!("1:2:3:4".parse::<Selection>().is_err());
    }

    #[test]
    fn resolve_clips_and_counts() {
        let sel: Selection = "2:100:3,1".parse().expect("parses");
        let r = resolve(&sel, &[10, 4]).expect("resolves");
        assert_eq!((r[0].start, r[0].count, r[0].keep), (2, 3, true));
        assert_eq!((r[1].start, r[1].count, r[1].keep), (1, 1, false));
        assert!(resolve(&"4".parse().expect("parses"), &[4]).is_err());
        assert!(resolve(&"1,1".parse().expect("parses"), &[4]).is_err());
    }

    #[test]
    fn flat_selection_with_a_shape_that_overflows() {
        // Strides of [2^40, 2^40, 2^40] overflow a u64: elements past
        // `all` are nulls, nothing panics or allocates by the shape.
        let shape = [1u64 << 40, 1 << 40, 1 << 40];
        let sel: Selection = "1:2,1:2,0:2".parse().expect("parses");
        let r = resolve(&sel, &shape).expect("resolves");
        let got = select_flat(vec![Value::Int(0)], &shape, &r);
        assert_eq!(got, vec![Value::Null, Value::Null]);
    }

    #[test]
    fn flat_selection() {
        let all: Vec<Value> = (0..12).map(Value::Int).collect();
        let sel: Selection = "1:3,0:4:2".parse().expect("parses");
        let r = resolve(&sel, &[3, 4]).expect("resolves");
        let got = select_flat(all, &[3, 4], &r);
        assert_eq!(
            got,
            vec![Value::Int(4), Value::Int(6), Value::Int(8), Value::Int(10)]
        );
    }
}
