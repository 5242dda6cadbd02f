//! Images, imaging series and ROIs: the requests of the image views, their
//! replies, and [`Orientation`] (how a frame is turned for display), which
//! the worker applies and the app inverts to name the pixel under the
//! pointer.

use serde::{Deserialize, Serialize};

use crate::TypedBuffer;

/// How a frame is turned before it is shown: the stored image (rows =
/// the first image dimension, as numpy's `imshow` draws it) is transposed
/// if `swap`, then mirrored left-right if `flip_x`, then upside down if
/// `flip_y`. These eight cover every rotation by 90° steps and every
/// mirroring; [`Orientation::rotate`], [`Orientation::flip_x`] and
/// [`Orientation::swap`] compose one more step onto the current one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Orientation {
    pub swap: bool,
    pub flip_x: bool,
    pub flip_y: bool,
}

/// A signed permutation matrix over `(row, column)`.
type Matrix = [[i8; 2]; 2];

impl Orientation {
    /// As stored.
    pub const IDENTITY: Self = Self {
        swap: false,
        flip_x: false,
        flip_y: false,
    };

    fn matrix(self) -> Matrix {
        let t: Matrix = if self.swap {
            [[0, 1], [1, 0]]
        } else {
            [[1, 0], [0, 1]]
        };
        let sy = if self.flip_y { -1 } else { 1 };
        let sx = if self.flip_x { -1 } else { 1 };
        [[sy * t[0][0], sy * t[0][1]], [sx * t[1][0], sx * t[1][1]]]
    }

    fn from_matrix(m: Matrix) -> Self {
        let swap = m[0][0] == 0;
        // m = diag(sy, sx) · T, so diag(sy, sx) = m · T.
        let (sy, sx) = if swap {
            (m[0][1], m[1][0])
        } else {
            (m[0][0], m[1][1])
        };
        Self {
            swap,
            flip_x: sx < 0,
            flip_y: sy < 0,
        }
    }

    /// `step` applied after `self`.
    fn then(self, step: Matrix) -> Self {
        let a = self.matrix();
        let mut m = [[0i8; 2]; 2];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = step[i][0] * a[0][j] + step[i][1] * a[1][j];
            }
        }
        Self::from_matrix(m)
    }

    /// Turned a further 90° clockwise.
    #[must_use]
    pub fn rotate(self) -> Self {
        // (r, c) → (c, h-1-r): transpose, then mirror left-right.
        self.then([[0, 1], [-1, 0]])
    }

    /// Mirrored left-right as shown now.
    #[must_use]
    pub fn flip_x(self) -> Self {
        self.then([[1, 0], [0, -1]])
    }

    /// Mirrored upside down as shown now.
    #[must_use]
    pub fn flip_y(self) -> Self {
        self.then([[-1, 0], [0, 1]])
    }

    /// Rows and columns exchanged as shown now.
    #[must_use]
    pub fn swap(self) -> Self {
        self.then([[0, 1], [1, 0]])
    }

    /// The shown height and width of a stored `rows × cols` image.
    pub fn dims(self, rows: usize, cols: usize) -> (usize, usize) {
        if self.swap {
            (cols, rows)
        } else {
            (rows, cols)
        }
    }

    /// The stored `(row, col)` of the shown pixel `(y, x)`, for an image
    /// stored as `rows × cols`.
    pub fn source(self, rows: usize, cols: usize, y: usize, x: usize) -> (usize, usize) {
        let (h, w) = self.dims(rows, cols);
        let y = if self.flip_y { h - 1 - y } else { y };
        let x = if self.flip_x { w - 1 - x } else { x };
        if self.swap { (x, y) } else { (y, x) }
    }

    /// The shown `(y, x)` of the stored pixel `(row, col)`.
    pub fn dest(self, rows: usize, cols: usize, row: usize, col: usize) -> (usize, usize) {
        let (h, w) = self.dims(rows, cols);
        let (y, x) = if self.swap { (col, row) } else { (row, col) };
        let y = if self.flip_y { h - 1 - y } else { y };
        let x = if self.flip_x { w - 1 - x } else { x };
        (y, x)
    }

    /// The shown box `(y, x, height, width)` of a stored box.
    pub fn dest_box(
        self,
        rows: usize,
        cols: usize,
        (r, c, h, w): (usize, usize, usize, usize),
    ) -> (usize, usize, usize, usize) {
        if h == 0 || w == 0 {
            let (bh, bw) = self.dims(h, w);
            return (0, 0, bh, bw);
        }
        let (y0, x0) = self.dest(rows, cols, r, c);
        let (y1, x1) = self.dest(rows, cols, r + h - 1, c + w - 1);
        let (bh, bw) = self.dims(h, w);
        (y0.min(y1), x0.min(x1), bh, bw)
    }

    /// A stored `rows × cols × channels` image (row-major, channels last),
    /// turned as shown.
    pub fn apply<T: Copy>(self, rows: usize, cols: usize, channels: usize, src: &[T]) -> Vec<T> {
        if self == Self::IDENTITY {
            return src.to_vec();
        }
        let (h, w) = self.dims(rows, cols);
        let mut out = Vec::with_capacity(src.len());
        for y in 0..h {
            for x in 0..w {
                let (r, c) = self.source(rows, cols, y, x);
                let at = (r * cols + c) * channels;
                out.extend_from_slice(&src[at..at + channels]);
            }
        }
        out
    }

    /// What a person reads: `as stored`, or the steps (`swap`, `flip x`,
    /// `flip y`).
    pub fn describe(self) -> String {
        let mut parts = Vec::new();
        if self.swap {
            parts.push("rows ↔ columns");
        }
        if self.flip_x {
            parts.push("mirrored left-right");
        }
        if self.flip_y {
            parts.push("upside down");
        }
        if parts.is_empty() {
            "as stored".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// The URL form: `swap,fx,fy` (any of them, in this order); empty as stored.
impl std::fmt::Display for Orientation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.swap {
            parts.push("swap");
        }
        if self.flip_x {
            parts.push("fx");
        }
        if self.flip_y {
            parts.push("fy");
        }
        f.write_str(&parts.join(","))
    }
}

impl std::str::FromStr for Orientation {
    type Err = String;

    /// Parses the URL form; `r90`, `r180`, `r270` (clockwise) are accepted
    /// too and applied after the others.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut o = Self::IDENTITY;
        let mut turns = 0;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "swap" => o.swap = true,
                "fx" => o.flip_x = true,
                "fy" => o.flip_y = true,
                "r90" => turns += 1,
                "r180" => turns += 2,
                "r270" => turns += 3,
                other => return Err(format!("{other:?} is not an orientation step")),
            }
        }
        for _ in 0..turns % 4 {
            o = o.rotate();
        }
        Ok(o)
    }
}

/// What the image views need to know about an image or an imaging series
/// before drawing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetImageInfo {
    /// An ImageSeries (or subtype) group, or an Image dataset.
    pub path: String,
}

/// See [`GetImageInfo`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageInfo {
    pub path: String,
    pub neurodata_type: Option<String>,
    pub description: Option<String>,
    /// Whether it is a series of frames (else one image).
    pub is_series: bool,
    /// The shape of `data` (empty when there is none).
    pub shape: Vec<u64>,
    /// The stored type (`uint16`, `float32`, ...).
    pub dtype: String,
    pub num_frames: u64,
    /// Stored rows and columns of a frame.
    pub rows: u64,
    pub cols: u64,
    /// Planes of a volume (the last dimension of 4-D data); 1 otherwise.
    pub planes: u64,
    /// 1 (gray), 3 (RGB) or 4 (RGBA).
    pub channels: u64,
    /// Time of the first frame and just after the last (series only).
    pub start_secs: f64,
    pub end_secs: f64,
    pub rate: Option<f64>,
    /// Files the frames are in, when they are not in this file.
    pub external_files: Vec<String>,
    /// What is odd: no frames, external data, a shape read another way...
    pub warnings: Vec<String>,
}

/// Which frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameAt {
    Index(u64),
    /// The last frame at or before this time (the first if none).
    Time(f64),
}

/// Frames of an imaging series (or the image of an Image dataset), turned
/// as asked and, if larger than `max_size` on a side, downsampled by the
/// mean of square blocks (read once, in blocks of rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetFrame {
    pub path: String,
    pub at: FrameAt,
    /// Consecutive frames from `at` (clipped to the series; ignored for an
    /// image).
    pub count: u32,
    /// For a volume: the plane (index along the last dimension).
    pub plane: u64,
    pub orientation: Orientation,
    /// Largest side shown; larger frames are downsampled.
    pub max_size: u32,
}

/// See [`GetFrame`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub path: String,
    /// The first frame's index, and how many frames `pixels` holds.
    pub index: u64,
    pub count: u32,
    pub plane: u64,
    /// f64 seconds, one per frame (NaN when unknown).
    pub times: TypedBuffer,
    /// As shown (after orientation and downsampling).
    pub width: u32,
    pub height: u32,
    /// 1 (gray), 3 (RGB) or 4 (RGBA).
    pub channels: u32,
    /// Each shown pixel is the mean of `step × step` stored pixels.
    pub step: u32,
    pub orientation: Orientation,
    /// Frame after frame, row-major, channels last: the stored type when
    /// `step` is 1, f32 means otherwise.
    pub pixels: TypedBuffer,
    /// The stored type.
    pub dtype: String,
    /// Of the first frame's finite values: least, greatest, and the 0.5th
    /// and 99.5th percentiles (a display range that ignores a few
    /// outliers). NaN when it has none.
    pub min: f64,
    pub max: f64,
    pub low: f64,
    pub high: f64,
}

/// Mean and maximum over frames `frames.0..frames.1` of an imaging
/// series (one plane of a volume). Long ranges are asked for in parts
/// (the app shows progress between them and can stop); parts combine with
/// [`Projection::merge`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetProjection {
    pub path: String,
    pub frames: (u64, u64),
    pub plane: u64,
    pub orientation: Orientation,
    pub max_size: u32,
}

/// See [`GetProjection`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    pub path: String,
    /// The frames covered.
    pub frames: (u64, u64),
    pub width: u32,
    pub height: u32,
    pub channels: u32,
    pub step: u32,
    /// f32 per shown pixel (NaN where a frame had NaN, as numpy's).
    pub mean: TypedBuffer,
    pub max: TypedBuffer,
}

impl Projection {
    /// Frames covered.
    pub fn count(&self) -> u64 {
        self.frames.1.saturating_sub(self.frames.0)
    }

    /// Combines with the projection of other frames of the same plane
    /// (mean weighted by frame counts). `Err` when their pixels differ.
    ///
    /// # Errors
    /// When the two are of different sizes.
    pub fn merge(&mut self, other: &Projection) -> Result<(), String> {
        if (self.width, self.height, self.channels) != (other.width, other.height, other.channels) {
            return Err(format!(
                "projections of {}×{} and {}×{} pixels cannot be combined",
                self.width, self.height, other.width, other.height
            ));
        }
        let (a, b) = (self.count(), other.count());
        #[expect(clippy::cast_precision_loss, reason = "frame counts below 2^53")]
        let (wa, wb) = if a + b == 0 {
            (0.5, 0.5)
        } else {
            (a as f64 / (a + b) as f64, b as f64 / (a + b) as f64)
        };
        let mean: Vec<f32> = self
            .mean
            .to_f64()
            .iter()
            .zip(other.mean.to_f64())
            .map(|(x, y)| {
                #[expect(clippy::cast_possible_truncation, reason = "f32 pixels")]
                let v = (x * wa + y * wb) as f32;
                v
            })
            .collect();
        let max: Vec<f32> = self
            .max
            .to_f64()
            .iter()
            .zip(other.max.to_f64())
            .map(|(x, y)| {
                // NaN wins, as in numpy.
                let m = if x.is_nan() || y.is_nan() {
                    f64::NAN
                } else {
                    x.max(y)
                };
                #[expect(clippy::cast_possible_truncation, reason = "f32 pixels")]
                let v = m as f32;
                v
            })
            .collect();
        self.mean = TypedBuffer::from_f32(&mean);
        self.max = TypedBuffer::from_f32(&max);
        self.frames = (
            self.frames.0.min(other.frames.0),
            self.frames.1.max(other.frames.1),
        );
        Ok(())
    }
}

/// ROIs of a PlaneSegmentation, rows `rois.0..rois.1` (long tables are
/// asked for in parts), each mask cropped to its bounding box and turned
/// as asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetRois {
    pub path: String,
    pub rois: (u64, u64),
    /// For 3-D masks (`voxel_mask`, 4-D `image_mask`): the plane shown.
    pub plane: u64,
    pub orientation: Orientation,
}

/// An image that ROIs can be drawn over.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReferenceImage {
    /// An Image dataset, or an imaging series (whose mean projection is
    /// the reference).
    pub path: String,
    /// `image` or `series`.
    pub kind: String,
    /// Where it was found (`reference_images`, `summary images of the
    /// module`, `imaging series of the same plane`).
    pub source: String,
}

/// See [`GetRois`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rois {
    pub path: String,
    /// `image_mask`, `pixel_mask` or `voxel_mask`.
    pub mask_kind: String,
    /// Rows of the table.
    pub num_rois: u64,
    /// The rows covered by this answer.
    pub rois: (u64, u64),
    /// The image the masks lie on, as stored (`image_mask`'s size, else
    /// the reference image's, else the masks' extent) and as shown.
    pub rows: u64,
    pub cols: u64,
    pub width: u32,
    pub height: u32,
    /// Planes of 3-D masks (1 for 2-D).
    pub planes: u64,
    /// Row ids of the ROIs covered.
    pub ids: Vec<i64>,
    /// Per ROI: its box as shown, `[x, y, width, height]` (zero-sized when
    /// its mask is empty on this plane).
    pub boxes: Vec<[u32; 4]>,
    /// f32 weights of each ROI's box, row-major, one box after the other.
    pub weights: TypedBuffer,
    /// Other columns of the table, as text per ROI of the answer.
    pub columns: Vec<(String, Vec<String>)>,
    /// Images to draw them over, best first.
    pub references: Vec<ReferenceImage>,
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every orientation, as numpy would turn `a` (`rows × cols`).
    fn numpy_like(o: Orientation, rows: usize, cols: usize, a: &[u32]) -> Vec<u32> {
        let mut img: Vec<Vec<u32>> = (0..rows)
            .map(|r| a[r * cols..(r + 1) * cols].to_vec())
            .collect();
        if o.swap {
            img = (0..cols)
                .map(|c| (0..rows).map(|r| img[r][c]).collect())
                .collect();
        }
        if o.flip_x {
            for row in &mut img {
                row.reverse();
            }
        }
        if o.flip_y {
            img.reverse();
        }
        img.concat()
    }

    fn all() -> Vec<Orientation> {
        let mut v = Vec::new();
        for swap in [false, true] {
            for flip_x in [false, true] {
                for flip_y in [false, true] {
                    v.push(Orientation {
                        swap,
                        flip_x,
                        flip_y,
                    });
                }
            }
        }
        v
    }

    #[test]
    fn applies_as_numpy_and_maps_both_ways() {
        let (rows, cols) = (3, 5);
        let a: Vec<u32> = (0..15).collect();
        for o in all() {
            let out = o.apply(rows, cols, 1, &a);
            assert_eq!(out, numpy_like(o, rows, cols, &a), "{o:?}");
            let (h, w) = o.dims(rows, cols);
            for y in 0..h {
                for x in 0..w {
                    let (r, c) = o.source(rows, cols, y, x);
                    assert_eq!(out[y * w + x], a[r * cols + c]);
                    assert_eq!(o.dest(rows, cols, r, c), (y, x));
                }
            }
            // A box of the stored image is the same pixels shown.
            let (by, bx, bh, bw) = o.dest_box(rows, cols, (1, 2, 2, 3));
            let crop: Vec<u32> = (1..3)
                .flat_map(|r| (2..5).map(move |c| r * cols + c))
                .map(|i| a[i])
                .collect();
            let turned = o.apply(2, 3, 1, &crop);
            let shown: Vec<u32> = (by..by + bh)
                .flat_map(|y| (bx..bx + bw).map(move |x| (y, x)))
                .map(|(y, x)| out[y * w + x])
                .collect();
            assert_eq!(turned, shown, "{o:?}");
        }
    }

    #[test]
    fn steps_compose() {
        let id = Orientation::IDENTITY;
        assert_eq!(id.rotate().rotate().rotate().rotate(), id);
        assert_eq!(id.flip_x().flip_x(), id);
        assert_eq!(id.swap().swap(), id);
        // Rotating 90° clockwise: (r, c) → (c, rows-1-r).
        let (rows, cols) = (3, 5);
        let r = id.rotate();
        assert_eq!(r.dims(rows, cols), (5, 3));
        assert_eq!(r.dest(rows, cols, 0, 0), (0, 2));
        assert_eq!(r.dest(rows, cols, 2, 4), (4, 0));
        // Mirroring what is shown, after a rotation: the shown left-right
        // mirror of the rotated image.
        let rf = r.flip_x();
        let (h, w) = rf.dims(rows, cols);
        for row in 0..rows {
            for col in 0..cols {
                let (y, x) = r.dest(rows, cols, row, col);
                assert_eq!(rf.dest(rows, cols, row, col), (y, w - 1 - x));
                let (y2, x2) = r.dest(rows, cols, row, col);
                assert_eq!(r.flip_y().dest(rows, cols, row, col), (h - 1 - y2, x2));
            }
        }
        for o in all() {
            let back: Orientation = o.to_string().parse().expect("parses");
            assert_eq!(back, o);
        }
        assert_eq!("r90".parse::<Orientation>(), Ok(id.rotate()));
        assert_eq!("".parse::<Orientation>(), Ok(id));
        assert!("tilt".parse::<Orientation>().is_err());
    }

    #[test]
    fn projections_merge_weighted() {
        let p = |frames: (u64, u64), mean: &[f32], max: &[f32]| Projection {
            path: "/s".into(),
            frames,
            width: 2,
            height: 1,
            channels: 1,
            step: 1,
            mean: TypedBuffer::from_f32(mean),
            max: TypedBuffer::from_f32(max),
        };
        let mut a = p((0, 1), &[1.0, 4.0], &[1.0, 4.0]);
        a.merge(&p((1, 4), &[5.0, f32::NAN], &[9.0, 2.0]))
            .expect("same size");
        assert_eq!(a.frames, (0, 4));
        assert_eq!(a.mean.to_f64()[0], 4.0);
        assert!(a.mean.to_f64()[1].is_nan());
        assert_eq!(a.max.to_f64(), vec![9.0, 4.0]);
        let mut wide = p((0, 1), &[1.0, 2.0], &[1.0, 2.0]);
        wide.width = 1;
        wide.height = 2;
        assert!(a.merge(&wide).is_err());
    }
}
