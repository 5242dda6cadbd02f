//! Virtual datasets (data layout class 3, HDF5 1.10+): the mapping list in
//! the global heap (source file, source dataset, source and virtual
//! selections; encodings 0 and 1 with its shared-name and same-file flags,
//! Jenkins checksum), listed with the dataset, and reads that assemble a
//! selection from the sources: the same file (`.`), or files found through
//! the caller's opener next to this one. Elements no mapping covers read as
//! the fill value, as in h5py. hdf5-reader does not decode this layout; its
//! message reaches us as [`HdfMessage::Unreadable`] with its bytes.

use std::sync::Arc;

use hdf5_reader::messages::HdfMessage;
use hdf5_reader::object_header::ObjectHeader;
use ns_model::{Array, Data, DatasetInfo, DimSelection, Dtype, Selection, Value, VirtualSource};

use crate::dtype::{describe, dtype_of};
use crate::file::H5File;
use crate::region::{Reader, Sel, parse_selection};
use crate::{Error, Result};

/// One mapping: `source` of `dataset` in `file` fills `target`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mapping {
    pub(crate) file: String,
    pub(crate) dataset: String,
    pub(crate) source: Sel,
    pub(crate) target: Sel,
}

/// Encoding 1 flags of one mapping.
const SOURCE_FILE_SHARED: u64 = 0x01;
const SOURCE_DATASET_SHARED: u64 = 0x02;
const SOURCE_SAME_FILE: u64 = 0x04;

/// Most elements one mapping's selections may enumerate in a read (their
/// coordinates are held while reading).
const MAX_MAPPED_ELEMENTS: usize = 1 << 22;

/// Virtual datasets read from virtual datasets at most this deep (a
/// mapping back to itself would never end).
const MAX_NESTING: usize = 8;

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts one level of virtual reads on this thread while it lives.
struct Nested;

impl Nested {
    fn enter() -> Option<Self> {
        NESTING.with(|n| {
            if n.get() >= MAX_NESTING {
                None
            } else {
                n.set(n.get() + 1);
                Some(Nested)
            }
        })
    }
}

impl Drop for Nested {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// The heap object (collection address, index) of a data layout message of
/// version 4+ and class 3 (virtual).
fn heap_id(data: &[u8], offset_size: u8) -> Option<(u64, u32)> {
    let (&version, &class) = (data.first()?, data.get(1)?);
    if version < 4 || class != 3 {
        return None;
    }
    let mut r = Reader { bytes: data, at: 2 };
    let address = r.uint(usize::from(offset_size))?;
    let index = u32::try_from(r.uint(4)?).ok()?;
    Some((address, index))
}

/// Whether the header's layout is virtual, and where its mappings are.
pub(crate) fn virtual_layout(header: &ObjectHeader, offset_size: u8) -> Option<(u64, u32)> {
    header.messages.iter().find_map(|m| match m {
        HdfMessage::Unreadable {
            type_id: hdf5_reader::messages::MSG_DATA_LAYOUT,
            data,
            ..
        } => heap_id(data, offset_size),
        _ => None,
    })
}

/// The mapping list of a virtual dataset's heap object.
pub(crate) fn parse_mappings(
    object: &[u8],
    length_size: u8,
) -> std::result::Result<Vec<Mapping>, String> {
    let bad = |what: &str| format!("virtual dataset mappings: {what}");
    let length = usize::from(length_size);
    let mut r = Reader {
        bytes: object,
        at: 0,
    };
    let version = r.uint(1).ok_or_else(|| bad("empty"))?;
    if version > 1 {
        return Err(bad(&format!("encoding version {version} is not supported")));
    }
    let count = r.uint(length).ok_or_else(|| bad("truncated"))?;
    // Each mapping takes at least two selections of 16 bytes.
    if count > (object.len() / 32) as u64 {
        return Err(bad(&format!("{count} mappings in {} bytes", object.len())));
    }
    let mut mappings: Vec<Mapping> = Vec::new();
    for i in 0..count {
        let at = |what: &str| bad(&format!("mapping {i}: {what}"));
        let flags = if version >= 1 {
            r.uint(1).ok_or_else(|| at("truncated"))?
        } else {
            0
        };
        let shared = |r: &mut Reader<'_>| -> std::result::Result<&Mapping, String> {
            let k = r.uint(length).ok_or_else(|| at("truncated"))?;
            usize::try_from(k)
                .ok()
                .and_then(|k| mappings.get(k))
                .ok_or_else(|| at(&format!("refers to mapping {k}, which comes later")))
        };
        let file = if flags & SOURCE_SAME_FILE != 0 {
            ".".to_string()
        } else if flags & SOURCE_FILE_SHARED != 0 {
            shared(&mut r)?.file.clone()
        } else {
            r.cstr().ok_or_else(|| at("source file name"))?
        };
        let dataset = if flags & SOURCE_DATASET_SHARED != 0 {
            shared(&mut r)?.dataset.clone()
        } else {
            r.cstr().ok_or_else(|| at("source dataset name"))?
        };
        let source = parse_selection(&mut r).ok_or_else(|| at("source selection"))?;
        let target = parse_selection(&mut r).ok_or_else(|| at("virtual selection"))?;
        mappings.push(Mapping {
            file,
            dataset,
            source,
            target,
        });
    }
    let end = r.at;
    let stored = r.uint(4).ok_or_else(|| bad("no checksum"))?;
    let computed = u64::from(hdf5_reader::checksum::jenkins_lookup3(&object[..end]));
    if stored != computed {
        return Err(bad(&format!(
            "checksum {stored:#010x} does not match the contents ({computed:#010x})"
        )));
    }
    Ok(mappings)
}

impl Mapping {
    pub(crate) fn describe(&self) -> VirtualSource {
        VirtualSource {
            file: self.file.clone(),
            dataset: self.dataset.clone(),
            source_selection: self.source.text(),
            virtual_selection: self.target.text(),
        }
    }
}

/// The coordinates `sel` selects in `shape`, in HDF5's order (row-major for
/// all and hyperslabs, as listed for points), refusing more than `max`.
fn coords(sel: &Sel, shape: &[u64], max: usize) -> std::result::Result<Vec<Vec<u64>>, String> {
    let rank = shape.len();
    let too_many = || format!("selects more than {max} elements");
    let product = |axes: Vec<Vec<u64>>| -> std::result::Result<Vec<Vec<u64>>, String> {
        let total = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.len()))
            .filter(|n| *n <= max)
            .ok_or_else(too_many)?;
        let mut out = Vec::with_capacity(total);
        if total == 0 {
            return Ok(out);
        }
        let mut index = vec![0usize; axes.len()];
        loop {
            out.push(index.iter().zip(&axes).map(|(i, a)| a[*i]).collect());
            let mut k = axes.len();
            loop {
                if k == 0 {
                    return Ok(out);
                }
                k -= 1;
                index[k] += 1;
                if index[k] < axes[k].len() {
                    break;
                }
                index[k] = 0;
            }
        }
    };
    let check_rank = |n: usize| {
        if n == rank {
            Ok(())
        } else {
            Err(format!(
                "a selection of rank {n} over a dataspace of rank {rank}"
            ))
        }
    };
    match sel {
        Sel::None => Ok(Vec::new()),
        Sel::All => product(shape.iter().map(|&n| (0..n).collect()).collect()),
        Sel::Points(points) => {
            if points.len() > max {
                return Err(too_many());
            }
            for p in points {
                check_rank(p.len())?;
            }
            Ok(points.clone())
        }
        Sel::Regular(dims) => {
            check_rank(dims.len())?;
            // Per dimension the selected coordinates, clipped to the extent
            // (an unlimited count or block runs to the extent).
            let mut axes = Vec::with_capacity(rank);
            for (d, &extent) in dims.iter().zip(shape) {
                let [start, stride, count, block] = *d;
                let mut axis = Vec::new();
                let mut c = 0u64;
                while c < count && block > 0 {
                    let Some(first) = stride.checked_mul(c).and_then(|o| o.checked_add(start))
                    else {
                        break;
                    };
                    if first >= extent {
                        break;
                    }
                    // Each round adds at least one coordinate, checked first.
                    let last = first.saturating_add(block).min(extent);
                    if last - first > (max.saturating_sub(axis.len())) as u64 {
                        return Err(too_many());
                    }
                    axis.extend(first..last);
                    if stride == 0 {
                        break;
                    }
                    c += 1;
                }
                ns_sort::sort(&mut axis);
                axis.dedup();
                axes.push(axis);
            }
            product(axes)
        }
        Sel::Blocks(blocks) => {
            let mut all = Vec::new();
            for (start, end) in blocks {
                check_rank(start.len())?;
                let mut axes = Vec::with_capacity(rank);
                for ((&s, &e), &extent) in start.iter().zip(end).zip(shape) {
                    let last = e.saturating_add(1).min(extent);
                    if last.saturating_sub(s) > max as u64 {
                        return Err(too_many());
                    }
                    axes.push((s..last).collect());
                }
                all.extend(product(axes)?);
                if all.len() > max {
                    return Err(too_many());
                }
            }
            ns_sort::sort(&mut all);
            all.dedup();
            Ok(all)
        }
    }
}

/// Typed data of `dtype` from values (numbers of a numeric type).
fn data_of(dtype: Dtype, values: Vec<Value>) -> Data {
    macro_rules! ints {
        ($variant:ident, $t:ty) => {
            Data::$variant(
                values
                    .iter()
                    .map(|v| match v {
                        Value::Int(i) => <$t>::try_from(*i).unwrap_or_default(),
                        Value::UInt(u) => <$t>::try_from(*u).unwrap_or_default(),
                        _ => <$t>::default(),
                    })
                    .collect(),
            )
        };
    }
    match dtype {
        Dtype::Int8 => ints!(Int8, i8),
        Dtype::Int16 => ints!(Int16, i16),
        Dtype::Int32 => ints!(Int32, i32),
        Dtype::Int64 => ints!(Int64, i64),
        Dtype::UInt8 => ints!(UInt8, u8),
        Dtype::UInt16 => ints!(UInt16, u16),
        Dtype::UInt32 => ints!(UInt32, u32),
        Dtype::UInt64 => ints!(UInt64, u64),
        #[expect(clippy::cast_possible_truncation, reason = "float32 values")]
        Dtype::Float32 => Data::Float32(
            values
                .iter()
                .map(|v| v.as_f64().unwrap_or(f64::NAN) as f32)
                .collect(),
        ),
        Dtype::Float64 => Data::Float64(
            values
                .iter()
                .map(|v| v.as_f64().unwrap_or(f64::NAN))
                .collect(),
        ),
        _ => Data::Values(values),
    }
}

/// The default fill value of a type (zero), as h5py reads unmapped
/// elements of a virtual dataset without a fill value.
fn zero(dtype: Dtype) -> Value {
    match dtype {
        Dtype::Int8 | Dtype::Int16 | Dtype::Int32 | Dtype::Int64 => Value::Int(0),
        Dtype::UInt8 | Dtype::UInt16 | Dtype::UInt32 | Dtype::UInt64 => Value::UInt(0),
        Dtype::Float32 | Dtype::Float64 => Value::Float(0.0),
        _ => Value::Null,
    }
}

/// Where a source file named `name` is looked for, from a file at
/// `location` (a path or a URL): as h5py does, a relative name next to the
/// file; an absolute path as it is (local files only), then its file name
/// next to the file. Names that are URLs are refused.
pub(crate) fn source_candidates(
    location: &str,
    name: &str,
) -> std::result::Result<Vec<String>, String> {
    if name.contains("://") {
        return Err(format!(
            "source file {name:?} is a URL; only file names are followed"
        ));
    }
    let base_name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let absolute = name.starts_with('/') || name.starts_with('\\') || name.get(1..3) == Some(":\\");
    if let Some(scheme_end) = location.find("://") {
        // The directory of the URL, without query or fragment.
        let without_query = location.split(['?', '#']).next().unwrap_or(location);
        let path_start = without_query[scheme_end + 3..]
            .find('/')
            .map_or(without_query.len(), |i| scheme_end + 3 + i);
        let dir_end = without_query[path_start..]
            .rfind('/')
            .map_or(without_query.len(), |i| path_start + i);
        let dir = &without_query[..dir_end];
        let relative = if absolute { base_name } else { name };
        if relative.split('/').any(|part| part == "..") {
            return Err(format!(
                "source file {name:?} leaves the directory of the file"
            ));
        }
        return Ok(vec![format!("{dir}/{}", encode_path(relative))]);
    }
    let dir = std::path::Path::new(location)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let beside = |n: &str| {
        if dir.is_empty() {
            n.to_string()
        } else {
            format!("{dir}/{n}")
        }
    };
    Ok(if absolute {
        vec![name.to_string(), beside(base_name)]
    } else {
        vec![beside(name)]
    })
}

/// Percent-encodes what may not stand in a URL path.
fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl H5File {
    /// The mappings of the virtual dataset whose header this is, if it is
    /// one (`Some(Err)`: it is, but they cannot be read).
    pub(crate) fn virtual_mappings(
        &self,
        header: &ObjectHeader,
    ) -> Option<std::result::Result<Vec<Mapping>, String>> {
        let superblock = self.inner.superblock();
        let (collection, index) = virtual_layout(header, superblock.offset_size)?;
        Some((|| {
            let heap = hdf5_reader::global_heap::GlobalHeapCollection::parse_at_storage(
                self.inner.storage(),
                collection,
                superblock.offset_size,
                superblock.length_size,
            )
            .map_err(|e| format!("virtual dataset mappings at {collection:#x}: {e}"))?;
            let object = u16::try_from(index)
                .ok()
                .and_then(|i| heap.get_object(i))
                .ok_or_else(|| {
                    format!("virtual dataset mappings: no heap object {index} at {collection:#x}")
                })?;
            parse_mappings(&object.data, superblock.length_size)
        })())
    }

    /// The dataset info of a virtual dataset (shape and type from its
    /// header, its mappings).
    pub(crate) fn virtual_info(
        &self,
        header: &ObjectHeader,
        mappings: &[Mapping],
    ) -> Option<DatasetInfo> {
        let (shape, datatype) = shape_and_type(header)?;
        Some(DatasetInfo {
            shape,
            dtype: dtype_of(datatype),
            dtype_description: describe(datatype),
            chunks: None,
            filters: Vec::new(),
            virtual_sources: mappings.iter().map(Mapping::describe).collect(),
        })
    }

    /// Reads a selection of the virtual dataset at `path` (header at
    /// `address`) from its sources.
    pub(crate) fn read_virtual(
        &self,
        path: &str,
        address: u64,
        selection: &Selection,
    ) -> Result<Array> {
        let format = |message: String| Error::Format {
            location: self.location.clone(),
            path: path.to_string(),
            message,
        };
        let Some(_nested) = Nested::enter() else {
            return Err(format(format!(
                "virtual datasets read from virtual datasets more than {MAX_NESTING} deep (a mapping that leads back to itself?)"
            )));
        };
        let header = self
            .inner
            .get_or_parse_header(address)
            .map_err(|e| self.error(path, &e))?;
        let mappings = self
            .virtual_mappings(&header)
            .ok_or_else(|| format("not a virtual dataset".into()))?
            .map_err(format)?;
        let (shape, datatype) = shape_and_type(&header)
            .ok_or_else(|| format("virtual dataset without dataspace or datatype".into()))?;
        let dtype = dtype_of(datatype);
        let bad = |message: String| Error::Selection {
            location: self.location.clone(),
            path: path.to_string(),
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
            .try_fold(1u64, |n, r| n.checked_mul(r.count))
            .ok_or_else(|| bad("selection size overflows".into()))?;
        let element = crate::value::element_size(datatype).max(1) as u64;
        let limit = self.options.max_read_bytes as u64;
        if count.saturating_mul(element) > limit {
            return Err(bad(format!(
                "selection of {count} elements ({} bytes) is larger than the {limit}-byte read limit; select fewer elements",
                count.saturating_mul(element)
            )));
        }
        let count = usize::try_from(count).map_err(|_| bad("selection too large".into()))?;
        let fill = header
            .messages
            .iter()
            .find_map(|m| match m {
                HdfMessage::FillValue(f) => f.value.clone(),
                _ => None,
            })
            .map_or_else(
                || zero(dtype),
                |bytes| self.with_decoder(|d| d.decode(datatype, &bytes)),
            );
        let mut out = vec![fill; count];
        let mut strides = vec![1u64; resolved.len()];
        for i in (0..resolved.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1].saturating_mul(resolved[i + 1].count);
        }
        let out_index = |c: &[u64]| -> Option<usize> {
            let mut at = 0u64;
            for ((r, &x), s) in resolved.iter().zip(c).zip(&strides) {
                let off = x.checked_sub(r.start)?;
                if off % r.step != 0 || off / r.step >= r.count {
                    return None;
                }
                at += off / r.step * s;
            }
            usize::try_from(at).ok()
        };
        let max = MAX_MAPPED_ELEMENTS.min(self.options.max_read_bytes);
        for mapping in &mappings {
            let at = |message: String| {
                format(format!(
                    "virtual dataset source {}:{}: {message}",
                    mapping.file, mapping.dataset
                ))
            };
            let targets = coords(&mapping.target, &shape, max)
                .map_err(|m| at(format!("virtual selection {m}")))?;
            let wanted: Vec<(usize, usize)> = targets
                .iter()
                .enumerate()
                .filter_map(|(k, c)| out_index(c).map(|o| (k, o)))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let source_file = self.source_file(&mapping.file).map_err(at)?;
            let source_file: &H5File = source_file.as_deref().unwrap_or(self);
            let dataset = if mapping.dataset.starts_with('/') {
                mapping.dataset.clone()
            } else {
                format!("/{}", mapping.dataset)
            };
            let node = source_file.node(&dataset).map_err(|e| at(e.to_string()))?;
            let source_shape = node
                .dataset
                .as_ref()
                .map(|d| d.shape.clone())
                .ok_or_else(|| at("not a dataset".into()))?;
            let sources = coords(&mapping.source, &source_shape, max)
                .map_err(|m| at(format!("source selection {m}")))?;
            if sources.len() != targets.len() {
                return Err(at(format!(
                    "the source selection has {} elements, the virtual one {}",
                    sources.len(),
                    targets.len()
                )));
            }
            // Read the bounding box of the source elements needed, once.
            let rank = source_shape.len();
            let mut lo = vec![u64::MAX; rank];
            let mut hi = vec![0u64; rank];
            for (k, _) in &wanted {
                for d in 0..rank {
                    lo[d] = lo[d].min(sources[*k][d]);
                    hi[d] = hi[d].max(sources[*k][d]);
                }
            }
            let bbox = Selection(
                lo.iter()
                    .zip(&hi)
                    .map(|(&l, &h)| DimSelection::Range {
                        start: Some(l),
                        stop: Some(h + 1),
                        step: 1,
                    })
                    .collect(),
            );
            let values = source_file
                .read(&dataset, &bbox)
                .map_err(|e| at(e.to_string()))?
                .to_values();
            let extent: Vec<u64> = lo.iter().zip(&hi).map(|(l, h)| h - l + 1).collect();
            for (k, o) in wanted {
                let mut flat = 0u64;
                for d in 0..rank {
                    flat = flat * extent[d] + (sources[k][d] - lo[d]);
                }
                if let Some(v) = usize::try_from(flat).ok().and_then(|f| values.get(f)) {
                    out[o] = v.clone();
                }
            }
        }
        Ok(Array {
            shape: out_shape,
            dtype,
            data: data_of(dtype, out),
        })
    }

    /// This file for `.`, else the source file opened through the opener
    /// (once; kept for later reads).
    fn source_file(&self, name: &str) -> std::result::Result<Option<Arc<H5File>>, String> {
        if name == "." {
            return Ok(None);
        }
        if let Some(file) = self.sources.lock().get(name) {
            return Ok(Some(Arc::clone(file)));
        }
        let opener = self.opener.as_ref().ok_or_else(|| {
            format!("source file {name:?} cannot be opened here (no other files are reachable)")
        })?;
        let mut tried = Vec::new();
        for candidate in source_candidates(&self.location, name)? {
            match opener(&candidate)
                .map_err(|e| e.to_string())
                .and_then(|source| {
                    H5File::open(source, self.options.clone()).map_err(|e| e.to_string())
                }) {
                Ok(file) => {
                    let file = Arc::new(file);
                    self.sources
                        .lock()
                        .insert(name.to_string(), Arc::clone(&file));
                    return Ok(Some(file));
                }
                Err(e) => tried.push(format!("{candidate}: {e}")),
            }
        }
        Err(format!(
            "source file {name:?} cannot be opened ({})",
            tried.join("; ")
        ))
    }
}

/// The dims and datatype of a dataset header.
fn shape_and_type(header: &ObjectHeader) -> Option<(Vec<u64>, &hdf5_reader::Datatype)> {
    let dims = header.messages.iter().find_map(|m| match m {
        HdfMessage::Dataspace(d) => Some(d.dims.clone()),
        _ => None,
    })?;
    let datatype = header.messages.iter().find_map(|m| match m {
        HdfMessage::Datatype(d) => Some(&d.datatype),
        _ => None,
    })?;
    Some((dims, datatype))
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn sources_are_looked_for_next_to_the_file() {
        assert_eq!(
            source_candidates("/data/x/vds.h5", "a.h5").unwrap(),
            vec!["/data/x/a.h5"]
        );
        assert_eq!(
            source_candidates("/data/x/vds.h5", "/gone/a.h5").unwrap(),
            vec!["/gone/a.h5", "/data/x/a.h5"]
        );
        assert_eq!(source_candidates("vds.h5", "a.h5").unwrap(), vec!["a.h5"]);
        assert_eq!(
            source_candidates("https://h.org/d/vds.h5?x=1", "sub/a b.h5").unwrap(),
            vec!["https://h.org/d/sub/a%20b.h5"]
        );
        // A remote file's sources are relative to it; an absolute path
        // becomes its file name there.
        assert_eq!(
            source_candidates("https://h.org/d/vds.h5", "/etc/a.h5").unwrap(),
            vec!["https://h.org/d/a.h5"]
        );
        assert!(source_candidates("https://h.org/d/vds.h5", "../a.h5").is_err());
        assert!(source_candidates("/d/vds.h5", "http://evil/a.h5").is_err());
    }

    #[test]
    fn coordinates_in_hdf5_order() {
        // A regular hyperslab of 2 x 2 blocks of 1 x 2: row-major over the
        // whole selection, not block by block.
        let sel = Sel::Regular(vec![[0, 2, 2, 1], [0, 3, 2, 2]]);
        let got = coords(&sel, &[4, 6], 100).unwrap();
        let want: Vec<Vec<u64>> = [
            [0, 0],
            [0, 1],
            [0, 3],
            [0, 4],
            [2, 0],
            [2, 1],
            [2, 3],
            [2, 4],
        ]
        .iter()
        .map(|c| c.to_vec())
        .collect();
        assert_eq!(got, want);
        // Unlimited counts run to the extent.
        let sel = Sel::Regular(vec![[1, 4, u64::MAX, 2]]);
        assert_eq!(
            coords(&sel, &[10], 100).unwrap(),
            vec![vec![1], vec![2], vec![5], vec![6], vec![9]]
        );
        // Too many elements are refused, not enumerated.
        assert!(coords(&Sel::All, &[1 << 20, 1 << 20], 1000).is_err());
        assert!(coords(&Sel::Points(vec![vec![1, 2]]), &[4], 10).is_err());
    }
}
