//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): the
//! parsers of untrusted bytes that a whole Zarr store or LINDI file reaches
//! only through layers of JSON. Not a stable API.

use crate::meta::{ArrayMeta, ElemType};

/// Parses `zarray` (the text of a `.zarray`), decodes `stored` (one chunk)
/// through its codecs with at most `max_len` bytes out of each, and turns
/// the result into elements; returns how many.
pub fn zarr_chunk(zarray: &[u8], stored: &[u8], max_len: usize) -> Result<usize, String> {
    let doc = crate::json::parse(zarray).map_err(|e| format!(".zarray is not JSON: {e}"))?;
    let meta = ArrayMeta::parse(&doc)?;
    let _ = crate::elements::fill_bytes(&meta.elem, &meta.fill);
    let bytes = meta.decode(stored, max_len)?;
    if meta.elem == ElemType::Object {
        let codec = meta
            .object_codec
            .as_ref()
            .ok_or_else(|| "object array without an object codec".to_string())?;
        return codec.items(&bytes).map(|items| items.len());
    }
    let data = crate::elements::to_data(&meta.elem, &bytes);
    Ok(match data {
        ns_model::Data::Values(values) => values.len(),
        _ => bytes.len() / meta.elem.itemsize().max(1),
    })
}
