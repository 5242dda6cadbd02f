//! Hyperslab selections (`start:stop[:step]` or an index per dimension) and
//! reading them into typed arrays.

use hdf5_reader::messages::HdfMessage;
use hdf5_reader::{Dataset, SliceInfo, SliceInfoElem};
use ns_model::path::normalize;
use ns_model::{Array, Data, Dtype, ResolvedDim, Selection, Value};

use crate::dtype::dtype_of;
use crate::file::H5File;
use crate::{Error, Result};

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
        // Once per path: later reads find its metadata parsed.
        let chunks_fetched =
            self.speculated.lock().insert(path.clone()) && self.prefetch_path(&path, selection);
        let ds = match self.inner.dataset(&path) {
            Ok(ds) => ds,
            Err(e) => {
                // hdf5-reader does not read virtual datasets: we do.
                if let Ok(node) = self.node(&path)
                    && let (Some(address), Some(info)) = (node.address, &node.dataset)
                    && !info.virtual_sources.is_empty()
                {
                    return self.read_virtual(&path, address, selection);
                }
                return Err(self.error(&path, &e));
            }
        };
        self.check_filters(&ds, &path)?;
        let dtype = dtype_of(ds.dtype());
        if self.null_dataspace(&ds) {
            // A null dataspace (h5py's `Empty`) holds no elements.
            selection
                .resolve(&[0])
                .map_err(|message| Error::Selection {
                    location: self.location.clone(),
                    path: path.clone(),
                    message,
                })?;
            return Ok(Array {
                shape: vec![0],
                dtype,
                data: Data::empty(dtype),
            });
        }
        let shape = ds.shape().to_vec();
        let bad = |message: String| Error::Selection {
            location: self.location.clone(),
            path: path.clone(),
            message,
        };
        let resolved = selection.resolve(&shape).map_err(bad)?;
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
                "selection of {count} elements ({} bytes) is larger than the {limit}-byte read limit; select fewer elements",
                count.saturating_mul(element)
            )));
        }
        let info = slice_info(&resolved);
        if count > 0 {
            let bounds: crate::plan::Bounds = resolved
                .iter()
                .map(|r| r.start..r.start + (r.count - 1) * r.step + 1)
                .collect();
            if !chunks_fetched {
                self.prefetch_chunks(&ds, &bounds, &info);
            }
        }
        let data = if count == 0 {
            Data::empty(dtype)
        } else if matches!(ds.dtype(), hdf5_reader::Datatype::Bitfield { .. }) {
            // hdf5-reader reads no bitfield as integers: decode the bytes.
            let values = self.read_values(&ds, dtype, &shape, &resolved, &path)?;
            unsigned_data(dtype, &values)
        } else if dtype.is_numeric() {
            self.read_numeric(&ds, dtype, &info)
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

    /// Whether the dataset's dataspace is null (no elements at all).
    pub(crate) fn null_dataspace(&self, ds: &Dataset) -> bool {
        self.inner
            .get_or_parse_header(ds.address())
            .is_ok_and(|header| {
                header.messages.iter().any(|m| {
                    matches!(m, HdfMessage::Dataspace(d)
                        if d.dataspace_type == hdf5_reader::messages::dataspace::DataspaceType::Null)
                })
            })
    }

    /// A filter this reader cannot decode is an error naming it and the
    /// dataset, before any chunk is read (never fill values or raw bytes).
    fn check_filters(&self, ds: &Dataset, path: &str) -> Result<()> {
        let header = self
            .inner
            .get_or_parse_header(ds.address())
            .map_err(|e| self.error(path, &e))?;
        for msg in &header.messages {
            if let HdfMessage::FilterPipeline(pipeline) = msg
                && let Some(message) = pipeline
                    .filters
                    .iter()
                    .find_map(crate::filters::unsupported_reason)
            {
                return Err(Error::Unsupported {
                    location: self.location.clone(),
                    path: path.to_string(),
                    message,
                });
            }
        }
        Ok(())
    }

    fn read_numeric(
        &self,
        ds: &Dataset,
        dtype: Dtype,
        info: &SliceInfo,
    ) -> hdf5_reader::error::Result<Data> {
        use crate::native::Native;
        // One thread (the worker's setting): chunks one after another.
        let parallel = self.options.threads > 1;
        // Read by width (see `native`), then typed.
        fn read<const N: usize, T>(
            ds: &Dataset,
            info: &SliceInfo,
            parallel: bool,
            typed: fn([u8; N]) -> T,
        ) -> hdf5_reader::error::Result<Vec<T>> {
            let array = if info.selections.is_empty() {
                ds.read_array::<Native<N>>()?
            } else {
                #[cfg(target_arch = "wasm32")]
                let _ = parallel;
                #[cfg(not(target_arch = "wasm32"))]
                if let (true, Some(pool)) = (parallel, pool()) {
                    let a = pool.install(|| ds.read_slice_parallel::<Native<N>>(info))?;
                    return Ok(a.iter().map(|n| typed(n.0)).collect());
                }
                ds.read_slice::<Native<N>>(info)?
            };
            Ok(array.iter().map(|n| typed(n.0)).collect())
        }
        Ok(match dtype {
            Dtype::Int8 => Data::Int8(read(ds, info, parallel, i8::from_ne_bytes)?),
            Dtype::Int16 => Data::Int16(read(ds, info, parallel, i16::from_ne_bytes)?),
            Dtype::Int32 => Data::Int32(read(ds, info, parallel, i32::from_ne_bytes)?),
            Dtype::Int64 => Data::Int64(read(ds, info, parallel, i64::from_ne_bytes)?),
            Dtype::UInt8 => Data::UInt8(read(ds, info, parallel, u8::from_ne_bytes)?),
            Dtype::UInt16 => Data::UInt16(read(ds, info, parallel, u16::from_ne_bytes)?),
            Dtype::UInt32 => Data::UInt32(read(ds, info, parallel, u32::from_ne_bytes)?),
            Dtype::UInt64 => Data::UInt64(read(ds, info, parallel, u64::from_ne_bytes)?),
            Dtype::Float32 => Data::Float32(read(ds, info, parallel, f32::from_ne_bytes)?),
            _ => Data::Float64(read(ds, info, parallel, f64::from_ne_bytes)?),
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

/// The hdf5-reader selection of resolved dimensions.
fn slice_info(resolved: &[ResolvedDim]) -> SliceInfo {
    SliceInfo {
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
    }
}

/// Unsigned integers decoded as values (bitfields), as typed data.
fn unsigned_data(dtype: Dtype, values: &[Value]) -> Data {
    let ints = values.iter().map(|v| match v {
        Value::UInt(u) => *u,
        _ => 0,
    });
    match dtype {
        Dtype::UInt8 => Data::UInt8(ints.map(|u| u8::try_from(u).unwrap_or(u8::MAX)).collect()),
        Dtype::UInt16 => Data::UInt16(ints.map(|u| u16::try_from(u).unwrap_or(u16::MAX)).collect()),
        Dtype::UInt32 => Data::UInt32(ints.map(|u| u32::try_from(u).unwrap_or(u32::MAX)).collect()),
        Dtype::UInt64 => Data::UInt64(ints.collect()),
        _ => Data::Values(values.to_vec()),
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
    fn flat_selection_with_a_shape_that_overflows() {
        // Strides of [2^40, 2^40, 2^40] overflow a u64: elements past
        // `all` are nulls, nothing panics or allocates by the shape.
        let shape = [1u64 << 40, 1 << 40, 1 << 40];
        let sel: Selection = "1:2,1:2,0:2".parse().expect("parses");
        let r = sel.resolve(&shape).expect("resolves");
        let got = select_flat(vec![Value::Int(0)], &shape, &r);
        assert_eq!(got, vec![Value::Null, Value::Null]);
    }

    #[test]
    fn flat_selection() {
        let all: Vec<Value> = (0..12).map(Value::Int).collect();
        let sel: Selection = "1:3,0:4:2".parse().expect("parses");
        let r = sel.resolve(&[3, 4]).expect("resolves");
        let got = select_flat(all, &[3, 4], &r);
        assert_eq!(
            got,
            vec![Value::Int(4), Value::Int(6), Value::Int(8), Value::Int(10)]
        );
    }
}
