//! Reading a selection of a dataset: `ns_zarr::read` plans the chunks it
//! touches; here they are fetched from where the references point (inline,
//! the tar, other files: one batch per file, which natively goes out
//! concurrently).

use std::collections::HashMap;
use std::ops::Range;

use ns_io::Bytes;
use ns_model::path::normalize;
use ns_model::{Array, Selection};
use ns_zarr::read::ArrayRead;

use crate::file::LindiFile;
use crate::refs::{ChunkRef, Target};
use crate::value::reference;
use crate::{Error, Result};

impl LindiFile {
    /// Reads a selection of the dataset at `path` (soft links followed).
    pub fn read(&self, path: &str, selection: &Selection) -> Result<Array> {
        let asked = normalize(path);
        let resolved = self.resolve(&asked)?;
        let Some(info) = self.arrays.get(&resolved) else {
            return Err(self.format_error(&asked, "is a group, not a dataset"));
        };
        if let Some(link) = &info.external {
            let link = link.as_ref().map_err(|m| Error::Unsupported {
                location: self.location.clone(),
                path: asked.clone(),
                message: m.clone(),
            })?;
            return Ok(self
                .external_file(&link.url, &asked)?
                .read(&link.name, selection)?);
        }
        let reader = ArrayRead {
            location: &self.location,
            path: &asked,
            meta: &info.meta,
            scalar: info.scalar,
            dtype: info.dtype,
            object: info.object.as_ref(),
            reference,
            // The last piece of a contiguous HDF5 dataset may be stored
            // short; LINDI pads it with zeros.
            pad_short_chunks: true,
            max_read_bytes: self.options.max_read_bytes,
            threads: self.options.threads,
        };
        reader.read(selection, |chunks| {
            let keys: Vec<String> = chunks.iter().map(|c| format!("{}/{c}", info.key)).collect();
            self.fetch(&asked, &keys)
        })
    }

    /// The stored bytes of each chunk key, `None` for a chunk that was never
    /// written (it reads as the fill value). Referenced ranges are fetched
    /// in one batch per file.
    fn fetch(&self, path: &str, keys: &[String]) -> Result<Vec<Option<Bytes>>> {
        let mut out: Vec<Option<Bytes>> = vec![None; keys.len()];
        let mut wanted: HashMap<Target, Vec<(usize, Range<u64>)>> = HashMap::new();
        let mut total = 0u64;
        for (i, key) in keys.iter().enumerate() {
            match self.chunks.get(key) {
                None => {}
                Some(ChunkRef::Inline(bytes)) => out[i] = Some(bytes.clone()),
                Some(ChunkRef::Range {
                    target,
                    offset,
                    length,
                }) => {
                    total = total.saturating_add(*length);
                    wanted
                        .entry(*target)
                        .or_default()
                        .push((i, *offset..offset.saturating_add(*length)));
                }
            }
        }
        if total > self.options.max_read_bytes as u64 {
            return Err(Error::Selection {
                location: self.location.clone(),
                path: path.to_string(),
                message: format!(
                    "the chunks of this selection hold {total} bytes, more than the {}-byte read limit",
                    self.options.max_read_bytes
                ),
            });
        }
        let mut targets: Vec<_> = wanted.into_iter().collect();
        ns_sort::sort_by_key(&mut targets, |(t, _)| match t {
            Target::Tar => 0,
            Target::Url(i) => u64::from(*i) + 1,
        });
        for (target, parts) in targets {
            let source = self.source(target, path)?;
            let ranges: Vec<Range<u64>> = parts.iter().map(|(_, r)| r.clone()).collect();
            let fetched = source.read_ranges(&ranges)?;
            for ((i, _), bytes) in parts.iter().zip(fetched) {
                out[*i] = Some(bytes);
            }
        }
        Ok(out)
    }
}
