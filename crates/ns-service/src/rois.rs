//! ROIs of a PlaneSegmentation, for drawing over an image: each mask
//! (`image_mask` read in blocks of ROIs; `pixel_mask`/`voxel_mask` ragged
//! lists of `(x, y[, z], weight)`) cropped to its bounding box and turned
//! as the image is, with the table's other columns and the images the ROIs
//! can be drawn over.
//!
//! A pixel's `x` is its index along the first image dimension (drawn
//! down), `y` along the second, as `image_mask`'s `[roi, x, y]` and
//! pynwb's `image_to_pixel` have them.

use ns_model::Value;
use ns_model::path::parent_of;
use ns_nwb::{DynamicTable, NwbFile};
use ns_protocol::{ErrorKind, GetRois, ReferenceImage, Rois, TypedBuffer, WorkerError};

use crate::Limits;
use crate::error::{model_error, nwb_error};
use crate::images::{error, layout};
use crate::values::value_text;

/// Most ROIs one answer covers (the app asks for the rest).
const MAX_ROIS: u64 = 2000;
/// Mask entries scanned at most to find the extent of pixel or voxel masks
/// when no image tells their size.
const MAX_SCANNED_ROWS: u64 = 100_000;

const SUMMARY: &str = "summary images of the module";

const MASKS: [&str; 3] = ["image_mask", "pixel_mask", "voxel_mask"];

/// One mask as cropped: its stored box and weights (row-major).
struct Crop {
    row: usize,
    col: usize,
    rows: usize,
    cols: usize,
    weights: Vec<f32>,
}

impl Crop {
    const EMPTY: Crop = Crop {
        row: 0,
        col: 0,
        rows: 0,
        cols: 0,
        weights: Vec::new(),
    };

    /// The nonzero part of a `rows × cols` mask.
    fn of_image(mask: &[f64], rows: usize, cols: usize) -> Self {
        let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
        for r in 0..rows {
            for c in 0..cols {
                let v = mask[r * cols + c];
                if v != 0.0 && v.is_finite() {
                    r0 = r0.min(r);
                    r1 = r1.max(r + 1);
                    c0 = c0.min(c);
                    c1 = c1.max(c + 1);
                }
            }
        }
        if r0 == usize::MAX {
            return Self::EMPTY;
        }
        let mut weights = Vec::with_capacity((r1 - r0) * (c1 - c0));
        for r in r0..r1 {
            for c in c0..c1 {
                let v = mask[r * cols + c];
                #[expect(clippy::cast_possible_truncation, reason = "f32 weights")]
                weights.push(if v.is_finite() { v as f32 } else { 0.0 });
            }
        }
        Self {
            row: r0,
            col: c0,
            rows: r1 - r0,
            cols: c1 - c0,
            weights,
        }
    }

    /// The box of `(row, col, weight)` pixels (those outside `rows × cols`
    /// left out and counted).
    fn of_pixels(pixels: &[(u64, u64, f64)], rows: u64, cols: u64, outside: &mut u64) -> Self {
        let inside: Vec<&(u64, u64, f64)> = pixels
            .iter()
            .filter(|(r, c, _)| {
                let ok = *r < rows && *c < cols;
                if !ok {
                    *outside += 1;
                }
                ok
            })
            .collect();
        let (Some(r0), Some(r1), Some(c0), Some(c1)) = (
            inside.iter().map(|p| p.0).min(),
            inside.iter().map(|p| p.0).max(),
            inside.iter().map(|p| p.1).min(),
            inside.iter().map(|p| p.1).max(),
        ) else {
            return Self::EMPTY;
        };
        let (h, w) = (usize_of(r1 - r0 + 1), usize_of(c1 - c0 + 1));
        let mut weights = vec![0.0f32; h * w];
        for (r, c, v) in inside {
            let i = usize_of(r - r0) * w + usize_of(c - c0);
            #[expect(clippy::cast_possible_truncation, reason = "f32 weights")]
            let v = if v.is_finite() { *v as f32 } else { 0.0 };
            weights[i] = weights[i].max(v);
        }
        Self {
            row: usize_of(r0),
            col: usize_of(c0),
            rows: h,
            cols: w,
            weights,
        }
    }
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A field of a mask entry: by name in a compound, by position in a list.
fn field(entry: &Value, name: &str, position: usize) -> Option<f64> {
    match entry {
        Value::Compound(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .or_else(|| fields.get(position))
            .and_then(|(_, v)| v.as_f64()),
        Value::List(items) => items.get(position).and_then(Value::as_f64),
        _ => None,
    }
}

/// A coordinate of a mask entry (non-negative and whole).
fn coordinate(entry: &Value, name: &str, position: usize) -> Option<u64> {
    let v = field(entry, name, position)?;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked whole and in range"
    )]
    let c = (v >= 0.0 && v.fract() == 0.0 && v < 1e15).then_some(v as u64);
    c
}

/// The `(row, col, weight)` of one ROI's pixel or voxel mask (voxels of
/// plane `plane` only) and the greatest plane any voxel is on.
fn entries(cell: &Value, voxel: bool, plane: u64) -> (Vec<(u64, u64, f64)>, u64) {
    let items: &[Value] = match cell {
        Value::List(items) => items,
        _ => &[],
    };
    let mut out = Vec::with_capacity(items.len());
    let mut top = 0;
    for e in items {
        let (Some(x), Some(y)) = (coordinate(e, "x", 0), coordinate(e, "y", 1)) else {
            continue;
        };
        let weight = field(e, "weight", if voxel { 3 } else { 2 }).unwrap_or(1.0);
        if voxel {
            let Some(z) = coordinate(e, "z", 2) else {
                continue;
            };
            top = top.max(z);
            if z != plane {
                continue;
            }
        }
        out.push((x, y, weight));
    }
    (out, top)
}

/// Rows, columns and planes of an image.
type Dims = (u64, u64, u64);

/// Images the ROIs of `path` can be drawn over, best first, each with its
/// stored rows and columns (`None` when it cannot be read as an image).
fn candidates(nwb: &NwbFile, path: &str) -> Vec<(ReferenceImage, Option<Dims>)> {
    let mut out: Vec<ReferenceImage> = Vec::new();
    // The table's own reference images.
    for n in nwb.children(&format!("{path}/reference_images")) {
        out.push(ReferenceImage {
            path: n.path.clone(),
            kind: if n.dataset.is_some() {
                "image"
            } else {
                "series"
            }
            .into(),
            source: "reference_images".into(),
        });
    }
    // Summary images of the same processing module (suite2p's mean image,
    // max projection, correlation image).
    let module = parent_of(parent_of(path)).to_string();
    let prefix = format!("{}/", module.trim_end_matches('/'));
    let mut summary: Vec<String> = nwb
        .objects_of_type("Images")
        .into_iter()
        .filter(|n| n.path.starts_with(&prefix))
        .flat_map(|images| nwb.children(&images.path))
        .filter(|n| n.dataset.is_some())
        .map(|n| n.path.clone())
        .collect();
    let rank = |p: &str| {
        let name = p.rsplit('/').next().unwrap_or(p).to_lowercase();
        ["mean", "max", "corr"]
            .iter()
            .position(|k| name.contains(k))
            .unwrap_or(3)
    };
    ns_sort::sort_by_key(&mut summary, |p| rank(p));
    out.extend(summary.into_iter().map(|p| ReferenceImage {
        path: p,
        kind: "image".into(),
        source: SUMMARY.into(),
    }));
    // Imaging series of the same imaging plane.
    if let Some(plane) = nwb.node(&format!("{path}/imaging_plane")) {
        let plane = plane.path.clone();
        for s in nwb.objects_of_type("ImageSeries") {
            let same = nwb
                .node(&format!("{}/imaging_plane", s.path))
                .is_some_and(|p| p.path == plane);
            if same {
                out.push(ReferenceImage {
                    path: s.path.clone(),
                    kind: "series".into(),
                    source: "imaging series of the same plane".into(),
                });
            }
        }
    }
    out.into_iter()
        .map(|r| {
            let dims = layout(nwb, &r.path)
                .ok()
                .filter(|l| l.frames > 0 && l.rows > 0 && l.cols > 0 && l.external.is_empty())
                .map(|l| (l.rows, l.cols, l.planes));
            (r, dims)
        })
        .collect()
}

/// The extent (rows, columns, planes) of every pixel or voxel mask.
fn mask_extent(
    nwb: &NwbFile,
    table: &DynamicTable<'_>,
    name: &str,
) -> Result<(u64, u64, u64), WorkerError> {
    let n = table.num_rows();
    if n > MAX_SCANNED_ROWS {
        return Err(error(
            nwb,
            ErrorKind::TooLarge,
            table.path(),
            &format!(
                "{n} ROIs and no image of their size; at most {MAX_SCANNED_ROWS} are scanned for it"
            ),
        ));
    }
    let voxel = name == "voxel_mask";
    let cells = table.rows(name, 0..n).map_err(|e| nwb_error(&e))?;
    let (mut rows, mut cols, mut planes) = (0, 0, 1);
    for cell in &cells {
        for (r, c, _) in entries(cell, false, 0).0 {
            rows = rows.max(r + 1);
            cols = cols.max(c + 1);
        }
        if voxel {
            planes = planes.max(entries(cell, true, u64::MAX).1 + 1);
        }
    }
    Ok((rows, cols, planes))
}

pub(crate) fn rois(nwb: &NwbFile, req: &GetRois, limits: &Limits) -> Result<Rois, WorkerError> {
    let path = req.path.as_str();
    let table = nwb.dynamic_table(path).map_err(|e| nwb_error(&e))?;
    let Some(mask) = MASKS
        .iter()
        .find_map(|m| table.column_info(m).map(|c| (*m, c.clone())))
    else {
        return Err(error(
            nwb,
            ErrorKind::Format,
            path,
            "has no image_mask, pixel_mask or voxel_mask column",
        ));
    };
    let (kind, column) = mask;
    let mut warnings = Vec::new();
    let found = candidates(nwb, path);
    // The image the masks lie on.
    let (rows, cols, planes) = if kind == "image_mask" {
        match column.shape.as_slice() {
            [_, r, c] => (*r, *c, 1),
            [_, r, c, z] => (*r, *c, *z),
            other => {
                return Err(error(
                    nwb,
                    ErrorKind::Format,
                    &column.path,
                    &format!(
                        "image_mask of shape {other:?} (expected ROIs × rows × columns [× planes])"
                    ),
                ));
            }
        }
    } else {
        // The table's own references and the series of its plane tell the
        // size; summary images of the module only when nothing else does
        // (a module may hold several planes).
        let authoritative = found
            .iter()
            .filter(|(r, _)| r.source != SUMMARY)
            .find_map(|(_, d)| *d);
        let from_image = authoritative.or_else(|| found.iter().find_map(|(_, d)| *d));
        match from_image {
            Some((r, c, z)) if kind == "pixel_mask" || z > 1 => (r, c, z),
            _ => {
                let (r, c, z) = mask_extent(nwb, &table, kind)?;
                match from_image {
                    Some((ir, ic, _)) => (ir, ic, z),
                    None => {
                        warnings.push(format!(
                            "no image tells the plane's size; the masks' extent ({r} × {c}) is used"
                        ));
                        (r, c, z)
                    }
                }
            }
        }
    };
    let mut references = Vec::new();
    for (r, dims) in found {
        match dims {
            Some((rr, cc, _)) if (rr, cc) == (rows, cols) => references.push(r),
            Some((rr, cc, _)) => warnings.push(format!(
                "{} is {rr} × {cc} but the masks are {rows} × {cols}; the ROIs are not drawn over it",
                r.path
            )),
            None => {}
        }
    }
    if req.plane >= planes.max(1) {
        return Err(error(
            nwb,
            ErrorKind::BadRequest,
            path,
            &format!("plane {} asked for; the masks have {planes}", req.plane),
        ));
    }
    let n = table.num_rows();
    let a = req.rois.0.min(n);
    let per_roi = (rows * cols).max(1);
    let most = if kind == "image_mask" {
        (limits.max_frame_values / per_roi).clamp(1, MAX_ROIS)
    } else {
        MAX_ROIS
    };
    let b = req.rois.1.min(n).min(a + most).max(a);
    let ids = table.ids_of(a..b).map_err(|e| nwb_error(&e))?;
    let crops = if kind == "image_mask" {
        image_masks(
            nwb,
            &column.path,
            (a, b),
            (rows, cols, planes),
            req.plane,
            limits,
        )?
    } else {
        let voxel = kind == "voxel_mask";
        let cells = table.rows(kind, a..b).map_err(|e| nwb_error(&e))?;
        let mut outside = 0;
        let crops = cells
            .iter()
            .map(|cell| {
                Crop::of_pixels(&entries(cell, voxel, req.plane).0, rows, cols, &mut outside)
            })
            .collect();
        if outside > 0 {
            warnings.push(format!(
                "{outside} mask pixels lie outside the {rows} × {cols} image and are not drawn"
            ));
        }
        crops
    };
    let empty = crops.iter().filter(|c| c.weights.is_empty()).count();
    if empty > 0 {
        warnings.push(format!(
            "{empty} ROI{} of rows {a}..{b} {} an empty mask{}",
            if empty == 1 { "" } else { "s" },
            if empty == 1 { "has" } else { "have" },
            if planes > 1 { " on this plane" } else { "" }
        ));
    }
    let o = req.orientation;
    let (r_img, c_img) = (usize_of(rows), usize_of(cols));
    let mut boxes = Vec::with_capacity(crops.len());
    let mut weights = Vec::new();
    for c in &crops {
        if c.weights.is_empty() {
            boxes.push([0, 0, 0, 0]);
            continue;
        }
        let (y, x, h, w) = o.dest_box(r_img, c_img, (c.row, c.col, c.rows, c.cols));
        boxes.push([u32_of(x), u32_of(y), u32_of(w), u32_of(h)]);
        weights.extend(o.apply(c.rows, c.cols, 1, &c.weights));
    }
    let (height, width) = o.dims(r_img, c_img);
    Ok(Rois {
        path: table.path().to_string(),
        mask_kind: kind.to_string(),
        num_rois: n,
        rois: (a, b),
        rows,
        cols,
        width: u32_of(width),
        height: u32_of(height),
        planes,
        ids,
        boxes,
        weights: TypedBuffer::from_f32(&weights),
        columns: columns(&table, (a, b)),
        references,
        warnings,
    })
}

/// Crops of `image_mask` rows `a..b`, read in blocks.
fn image_masks(
    nwb: &NwbFile,
    data: &str,
    (a, b): (u64, u64),
    (rows, cols, planes): (u64, u64, u64),
    plane: u64,
    limits: &Limits,
) -> Result<Vec<Crop>, WorkerError> {
    use ns_model::{DimSelection, Selection};
    let per = rows * cols * planes.max(1);
    let k = (limits.frame_block_values / per.max(1)).max(1);
    let (r, c) = (usize_of(rows), usize_of(cols));
    let mut crops = Vec::new();
    let mut start = a;
    while start < b {
        let end = (start + k).min(b);
        let mut dims = vec![DimSelection::Range {
            start: Some(start),
            stop: Some(end),
            step: 1,
        }];
        if planes > 1 {
            dims.push(DimSelection::Range {
                start: None,
                stop: None,
                step: 1,
            });
            dims.push(DimSelection::Range {
                start: None,
                stop: None,
                step: 1,
            });
            dims.push(DimSelection::Index(plane));
        }
        let values = nwb
            .store()
            .read(data, &Selection(dims))
            .map_err(|e| model_error(&e))?
            .to_f64();
        for mask in values.chunks_exact((r * c).max(1)) {
            crops.push(Crop::of_image(mask, r, c));
        }
        start = end;
    }
    Ok(crops)
}

/// The table's plain 1-D columns (not the masks), as text per ROI.
fn columns(table: &DynamicTable<'_>, (a, b): (u64, u64)) -> Vec<(String, Vec<String>)> {
    table
        .columns()
        .iter()
        .filter(|c| !MASKS.contains(&c.name.as_str()) && !c.is_ragged() && c.shape.len() == 1)
        .filter_map(|c| {
            let values = table.rows(&c.name, a..b).ok()?;
            Some((c.name.clone(), values.iter().map(value_text).collect()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_are_bounding_boxes() {
        let mut mask = vec![0.0; 4 * 5];
        mask[6] = 0.5; // (1, 1)
        mask[13] = f64::NAN; // (2, 3): not part of the mask
        mask[18] = 1.0; // (3, 3)
        let c = Crop::of_image(&mask, 4, 5);
        assert_eq!((c.row, c.col, c.rows, c.cols), (1, 1, 3, 3));
        assert_eq!(c.weights[0], 0.5);
        assert_eq!(c.weights[8], 1.0);
        assert_eq!(c.weights[5], 0.0);
        assert!(Crop::of_image(&[0.0; 6], 2, 3).weights.is_empty());
        let mut outside = 0;
        let p = Crop::of_pixels(&[(2, 3, 0.5), (4, 1, 1.0), (9, 9, 1.0)], 5, 5, &mut outside);
        assert_eq!((p.row, p.col, p.rows, p.cols, outside), (2, 1, 3, 3, 1));
        assert_eq!(p.weights[2], 0.5);
        assert_eq!(p.weights[6], 1.0);
    }
}
