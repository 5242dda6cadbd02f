//! The answers behind the image views (image info, frames turned and
//! downsampled, projections, ROI masks) on the pynwb-written ophys fixture,
//! checked against numpy on what h5py reads from the same file.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{ask, floats};
use ns_protocol::{
    ErrorKind, Frame, FrameAt, GetFrame, GetImageInfo, GetProjection, GetRois, ImageInfo,
    Orientation, Projection, Rois,
};
use ns_service::{Limits, Service};
use serde_json::Value as Json;

const FILE: &str = "nwb_ophys.nwb";

fn service_with(limits: Limits) -> Service {
    common::service(FILE, limits)
}

fn service() -> Service {
    service_with(Limits::default())
}

/// Runs `script` with `f` (the fixture, open in h5py), `np`, `json`,
/// `turn(a, o)` (numpy's version of an orientation: `swap`, `fx`, `fy`) and
/// `flat(a)` (floats, NaN as `null`).
fn numpy(script: &str) -> Json {
    common::python_json(
        FILE,
        "def turn(a, o):\n\
         \x20   if 'swap' in o: a = np.swapaxes(a, 0, 1)\n\
         \x20   if 'fx' in o: a = a[:, ::-1]\n\
         \x20   if 'fy' in o: a = a[::-1]\n\
         \x20   return np.ascontiguousarray(a)\n\
         def flat(a): return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype='float64').ravel()]",
        script,
    )
}

fn same(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let ok = (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol * (1.0 + y.abs());
        assert!(ok, "{what}: value {i}: {x} vs {y}");
    }
}

fn all_orientations() -> Vec<Orientation> {
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

fn frame_req(path: &str, at: FrameAt, o: Orientation) -> GetFrame {
    GetFrame {
        path: path.into(),
        at,
        count: 1,
        plane: 0,
        orientation: o,
        max_size: 2048,
    }
}

#[test]
fn image_info_describes_series_volumes_and_stills() {
    let s = service();
    let info = |p: &str| -> ImageInfo { ask(&s, GetImageInfo { path: p.into() }).unwrap() };
    let t = info("/acquisition/TwoPhotonSeries");
    assert!(t.is_series);
    assert_eq!(
        (t.num_frames, t.rows, t.cols, t.planes, t.channels),
        (40, 48, 64, 1, 1)
    );
    assert_eq!(t.dtype, "uint16");
    assert_eq!(t.rate, Some(10.0));
    assert!((t.start_secs - 0.5).abs() < 1e-12 && (t.end_secs - 4.5).abs() < 1e-12);
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    let v = info("/acquisition/Volume");
    assert_eq!((v.num_frames, v.rows, v.cols, v.planes), (12, 32, 40, 5));
    assert!(v.warnings.iter().any(|w| w.contains("5 planes")));
    let e = info("/acquisition/external_movie");
    assert_eq!(e.external_files, vec!["behavior_movie.avi".to_string()]);
    assert_eq!(e.num_frames, 0);
    assert!(
        e.warnings[0].contains("behavior_movie.avi"),
        "{:?}",
        e.warnings
    );
    let z = info("/acquisition/empty_movie");
    assert_eq!(z.num_frames, 0);
    assert!(z.warnings[0].contains("no pixels"), "{:?}", z.warnings);
    let rgb = info("/acquisition/stills/rgb");
    assert!(!rgb.is_series);
    assert_eq!((rgb.rows, rgb.cols, rgb.channels), (20, 30, 3));
    assert_eq!(info("/acquisition/stills/rgba").channels, 4);
    assert_eq!(info("/acquisition/stills/plain").dtype, "uint16");
    // An Images group is not one image.
    let err = ask(
        &s,
        GetImageInfo {
            path: "/acquisition/stills".into(),
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Format);
    assert!(
        err.message.contains("/acquisition/stills"),
        "{}",
        err.message
    );
}

#[test]
fn frames_are_turned_as_numpy_turns_them() {
    let s = service();
    let want = numpy(
        "a = f['/acquisition/TwoPhotonSeries/data'][7]\n\
         out = {}\n\
         for o in ['', 'fy', 'fx', 'fx,fy', 'swap', 'swap,fy', 'swap,fx', 'swap,fx,fy']:\n\
         \x20   out[o] = turn(a, o).ravel().tolist()\n\
         v = a.astype('float64').ravel()\n\
         out['stats'] = [v.min(), v.max(), np.percentile(v, 0.5, method='nearest'), np.percentile(v, 99.5, method='nearest')]\n\
         print(json.dumps(out))",
    );
    for o in all_orientations() {
        let f: Frame = ask(
            &s,
            frame_req("/acquisition/TwoPhotonSeries", FrameAt::Index(7), o),
        )
        .unwrap();
        let (h, w) = o.dims(48, 64);
        assert_eq!(
            (f.height, f.width),
            (u32::try_from(h).unwrap(), u32::try_from(w).unwrap()),
            "{o}"
        );
        assert_eq!((f.index, f.count, f.step, f.channels), (7, 1, 1, 1));
        assert_eq!(f.pixels.dtype, ns_protocol::NumericType::UInt16);
        assert_eq!(f.pixels.to_f64(), floats(&want[o.to_string()]), "{o}");
        let stats = floats(&want["stats"]);
        assert_eq!(
            [f.min, f.max, f.low, f.high],
            [stats[0], stats[1], stats[2], stats[3]]
        );
        // The outlier is outside the default display range.
        assert_eq!(f.max, 60000.0);
        assert!(f.high < 5000.0, "{}", f.high);
        assert!((f.times.to_f64()[0] - 1.2).abs() < 1e-12);
    }
}

#[test]
fn frames_follow_time_and_come_several_at_once() {
    let s = service();
    let index_at = |t: f64| -> u64 {
        ask(
            &s,
            frame_req(
                "/acquisition/TwoPhotonSeries",
                FrameAt::Time(t),
                Orientation::IDENTITY,
            ),
        )
        .unwrap()
        .index
    };
    // Frames at 0.5, 0.6, 0.7, ...: the last at or before the time.
    assert_eq!(index_at(0.85), 3);
    assert_eq!(index_at(0.9), 4);
    assert_eq!(index_at(-10.0), 0);
    assert_eq!(index_at(1e9), 39);
    // Stored timestamps (0.25, 0.75, ...).
    let f: Frame = ask(
        &s,
        frame_req(
            "/acquisition/Volume",
            FrameAt::Time(1.3),
            Orientation::IDENTITY,
        ),
    )
    .unwrap();
    assert_eq!(f.index, 2);
    assert_eq!(f.times.to_f64(), vec![1.25]);
    let mut req = frame_req(
        "/acquisition/TwoPhotonSeries",
        FrameAt::Index(36),
        Orientation::IDENTITY,
    );
    req.count = 8;
    let f: Frame = ask(&s, req).unwrap();
    // Clipped to the series.
    assert_eq!((f.index, f.count), (36, 4));
    assert_eq!(f.pixels.len(), 4 * 48 * 64);
    same(&f.times.to_f64(), &[4.1, 4.2, 4.3, 4.4], 1e-12, "times");
    let want = numpy("print(json.dumps(flat(f['/acquisition/TwoPhotonSeries/data'][36:40])))");
    assert_eq!(f.pixels.to_f64(), floats(&want));
    // Frames past the reply limit are left for the next request.
    let s2 = service_with(Limits {
        max_frame_values: 48 * 64 * 3,
        ..Limits::default()
    });
    let mut req = frame_req(
        "/acquisition/TwoPhotonSeries",
        FrameAt::Index(0),
        Orientation::IDENTITY,
    );
    req.count = 10;
    assert_eq!(ask(&s2, req).unwrap().count, 3);
}

#[test]
fn volume_planes_signed_and_float_data() {
    let s = service();
    let o = Orientation::IDENTITY.rotate();
    let mut req = frame_req("/acquisition/Volume", FrameAt::Index(3), o);
    req.plane = 0;
    let f0: Frame = ask(&s, req.clone()).unwrap();
    req.plane = 2;
    let f2: Frame = ask(&s, req.clone()).unwrap();
    let want = numpy(
        "a = f['/acquisition/Volume/data']\n\
         print(json.dumps([flat(np.rot90(a[3, :, :, 0], -1)), flat(np.rot90(a[3, :, :, 2], -1))]))",
    );
    assert_eq!((f0.height, f0.width), (40, 32));
    same(&f0.pixels.to_f64(), &floats(&want[0]), 0.0, "plane 0");
    same(&f2.pixels.to_f64(), &floats(&want[1]), 0.0, "plane 2");
    assert!(f0.pixels.to_f64().iter().any(|v| v.is_nan()));
    assert!(f0.min.is_finite() && f0.low.is_finite());
    req.plane = 5;
    assert_eq!(ask(&s, req).unwrap_err().kind, ErrorKind::BadRequest);
    let one: Frame = ask(
        &s,
        frame_req(
            "/acquisition/OnePhoton",
            FrameAt::Index(19),
            Orientation::IDENTITY,
        ),
    )
    .unwrap();
    assert_eq!(one.dtype, "int16");
    let want = numpy("print(json.dumps(flat(f['/acquisition/OnePhoton/data'][19])))");
    assert_eq!(one.pixels.to_f64(), floats(&want));
    assert!(one.min < 0.0);
}

#[test]
fn large_frames_are_downsampled_from_blocks_of_rows() {
    // Small blocks: the 4096 × 4096 frame is read in 64 blocks of rows.
    let s = service_with(Limits {
        frame_block_values: 4096 * 64,
        ..Limits::default()
    });
    let mut req = frame_req(
        "/acquisition/big_frame",
        FrameAt::Index(0),
        Orientation::IDENTITY.flip_x(),
    );
    req.max_size = 512;
    let f: Frame = ask(&s, req).unwrap();
    assert_eq!((f.width, f.height, f.step), (512, 512, 8));
    assert_eq!(f.pixels.dtype, ns_protocol::NumericType::Float32);
    let want = numpy(
        "a = f['/acquisition/big_frame/data'][0].astype('float64')\n\
         m = a.reshape(512, 8, 512, 8).mean(axis=(1, 3))\n\
         print(json.dumps(flat(turn(m, 'fx'))))",
    );
    same(&f.pixels.to_f64(), &floats(&want), 1e-6, "downsampled");
}

#[test]
fn projections_match_numpy_and_merge_in_parts() {
    let s = service();
    let o = Orientation::IDENTITY.swap().flip_y();
    let req = |frames: (u64, u64)| GetProjection {
        path: "/acquisition/TwoPhotonSeries".into(),
        frames,
        plane: 0,
        orientation: o,
        max_size: 2048,
    };
    let whole: Projection = ask(&s, req((5, 30))).unwrap();
    let want = numpy(
        "a = f['/acquisition/TwoPhotonSeries/data'][5:30].astype('float64')\n\
         print(json.dumps([flat(turn(a.mean(axis=0), 'swap,fy')), flat(turn(a.max(axis=0), 'swap,fy'))]))",
    );
    assert_eq!((whole.width, whole.height, whole.frames), (48, 64, (5, 30)));
    same(&whole.mean.to_f64(), &floats(&want[0]), 1e-6, "mean");
    same(&whole.max.to_f64(), &floats(&want[1]), 0.0, "max");
    let mut parts: Projection = ask(&s, req((5, 12))).unwrap();
    parts.merge(&ask(&s, req((12, 30))).unwrap()).unwrap();
    assert_eq!(parts.frames, (5, 30));
    same(&parts.mean.to_f64(), &floats(&want[0]), 1e-6, "merged mean");
    assert_eq!(parts.max, whole.max);
    // NaN in a frame: NaN in the projection, as numpy has it.
    let v: Projection = ask(
        &s,
        GetProjection {
            path: "/acquisition/Volume".into(),
            frames: (0, 12),
            plane: 0,
            orientation: Orientation::IDENTITY,
            max_size: 2048,
        },
    )
    .unwrap();
    let want = numpy(
        "a = f['/acquisition/Volume/data'][:, :, :, 0].astype('float64')\n\
         print(json.dumps([flat(a.mean(axis=0)), flat(a.max(axis=0))]))",
    );
    same(&v.mean.to_f64(), &floats(&want[0]), 1e-6, "volume mean");
    same(&v.max.to_f64(), &floats(&want[1]), 0.0, "volume max");
    let bad = ask(&s, req((30, 30))).unwrap_err();
    assert_eq!(bad.kind, ErrorKind::BadRequest);
}

#[test]
fn bad_series_say_what_is_wrong() {
    let s = service();
    let e = ask(
        &s,
        frame_req(
            "/acquisition/external_movie",
            FrameAt::Index(0),
            Orientation::IDENTITY,
        ),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("behavior_movie.avi"), "{}", e.message);
    let e = ask(
        &s,
        frame_req(
            "/acquisition/empty_movie",
            FrameAt::Index(0),
            Orientation::IDENTITY,
        ),
    )
    .unwrap_err();
    assert!(e.message.contains("no pixels"), "{}", e.message);
    let e = ask(
        &s,
        frame_req(
            "/acquisition/TwoPhotonSeries",
            FrameAt::Index(40),
            Orientation::IDENTITY,
        ),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("frame 40"), "{}", e.message);
}

#[test]
fn still_images_gray_color_and_plain() {
    let s = service();
    for (name, channels) in [("rgb", 3), ("rgba", 4), ("gray_float", 1), ("plain", 1)] {
        let path = format!("/acquisition/stills/{name}");
        let o = Orientation::IDENTITY.rotate().rotate();
        let f: Frame = ask(&s, frame_req(&path, FrameAt::Index(0), o)).unwrap();
        assert_eq!(f.channels, channels, "{name}");
        let want = numpy(&format!(
            "a = f['{path}'][()]\nprint(json.dumps(flat(a[::-1, ::-1])))"
        ));
        same(&f.pixels.to_f64(), &floats(&want), 1e-12, name);
    }
}

/// numpy's crop of each ROI of `path` (bounding box of nonzero weights,
/// turned as `o`), rasterized from whichever mask the table has.
fn numpy_rois(path: &str, o: &str, plane: u64) -> Json {
    numpy(&format!(
        "g = f['{path}']\n\
         if 'image_mask' in g:\n\
         \x20   m = g['image_mask'][()]\n\
         \x20   masks = [x[..., {plane}] if x.ndim == 3 else x for x in m]\n\
         else:\n\
         \x20   voxel = 'voxel_mask' in g\n\
         \x20   name = 'voxel_mask' if voxel else 'pixel_mask'\n\
         \x20   data, idx = g[name][()], g[name + '_index'][()]\n\
         \x20   masks, start = [], 0\n\
         \x20   for end in idx:\n\
         \x20       img = np.zeros((48, 64) if not voxel else (32, 40))\n\
         \x20       for e in data[start:end]:\n\
         \x20           if voxel and e['z'] != {plane}: continue\n\
         \x20           img[e['x'], e['y']] = e['weight']\n\
         \x20       masks.append(img); start = end\n\
         out = []\n\
         for x in masks:\n\
         \x20   t = turn(x, '{o}')\n\
         \x20   r, c = np.nonzero(t)\n\
         \x20   if len(r) == 0: out.append(None); continue\n\
         \x20   crop = t[r.min():r.max() + 1, c.min():c.max() + 1]\n\
         \x20   out.append({{'box': [int(c.min()), int(r.min()), int(crop.shape[1]), int(crop.shape[0])], 'w': flat(crop)}})\n\
         print(json.dumps({{'rois': out, 'ids': g['id'][()].tolist()}}))"
    ))
}

fn check_rois(r: &Rois, want: &Json) {
    let weights = r.weights.to_f64();
    let mut at = 0;
    for (i, w) in want["rois"].as_array().unwrap().iter().enumerate() {
        let b = r.boxes[i];
        if w.is_null() {
            assert_eq!(b, [0, 0, 0, 0], "ROI {i} is empty");
            continue;
        }
        let want_box: Vec<u32> = w["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| u32::try_from(v.as_u64().unwrap()).unwrap())
            .collect();
        assert_eq!(b.to_vec(), want_box, "box of ROI {i}");
        let n = usize::try_from(b[2] * b[3]).unwrap();
        same(
            &weights[at..at + n],
            &floats(&w["w"]),
            1e-7,
            &format!("ROI {i}"),
        );
        at += n;
    }
    assert_eq!(at, weights.len());
    let ids: Vec<i64> = want["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(r.ids, ids);
}

#[test]
fn image_masks_are_cropped_and_turned() {
    let s = service();
    let path = "/processing/ophys/ImageSegmentation/PlaneSegmentation";
    for o in [
        Orientation::IDENTITY,
        Orientation::IDENTITY.rotate(),
        Orientation::IDENTITY.swap().flip_x(),
    ] {
        let r: Rois = ask(
            &s,
            GetRois {
                path: path.into(),
                rois: (0, 100),
                plane: 0,
                orientation: o,
            },
        )
        .unwrap();
        assert_eq!(r.mask_kind, "image_mask");
        assert_eq!((r.rows, r.cols, r.num_rois, r.rois), (48, 64, 6, (0, 6)));
        assert_eq!((r.height as usize, r.width as usize), o.dims(48, 64), "{o}");
        check_rois(&r, &numpy_rois(path, &o.to_string(), 0));
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("1 ROI of rows 0..6 has an empty mask")),
            "{:?}",
            r.warnings
        );
        let quality = r.columns.iter().find(|(n, _)| n == "quality").unwrap();
        assert_eq!(quality.1[0], "good");
        assert_eq!(quality.1[5], "empty");
        let refs: Vec<&str> = r.references.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            refs,
            [
                "/processing/ophys/ImageSegmentation/PlaneSegmentation/reference_images/mean_image",
                "/processing/ophys/SummaryImages/mean",
                "/processing/ophys/SummaryImages/max",
                "/acquisition/TwoPhotonSeries",
            ]
        );
    }
    // Parts: an answer covers what the limit allows, the rest is asked next.
    let small = service_with(Limits {
        max_frame_values: 48 * 64 * 4,
        ..Limits::default()
    });
    let r: Rois = ask(
        &small,
        GetRois {
            path: path.into(),
            rois: (1, 6),
            plane: 0,
            orientation: Orientation::IDENTITY,
        },
    )
    .unwrap();
    assert_eq!(r.rois, (1, 5));
    assert_eq!(r.ids, vec![101, 102, 103, 104]);
}

#[test]
fn pixel_and_voxel_masks_are_rasterized() {
    let s = service();
    let path = "/processing/ophys/ImageSegmentation/PixelMasks";
    let o = Orientation::IDENTITY.flip_y();
    let r: Rois = ask(
        &s,
        GetRois {
            path: path.into(),
            rois: (0, 10),
            plane: 0,
            orientation: o,
        },
    )
    .unwrap();
    assert_eq!(r.mask_kind, "pixel_mask");
    // The size comes from the summary images of the module.
    assert_eq!((r.rows, r.cols), (48, 64));
    assert_eq!(r.references[0].path, "/processing/ophys/SummaryImages/mean");
    check_rois(&r, &numpy_rois(path, "fy", 0));
    let path = "/processing/ophys/ImageSegmentation/VoxelMasks";
    for plane in [0, 1, 3] {
        let r: Rois = ask(
            &s,
            GetRois {
                path: path.into(),
                rois: (0, 10),
                plane,
                orientation: Orientation::IDENTITY,
            },
        )
        .unwrap();
        assert_eq!(r.mask_kind, "voxel_mask");
        assert_eq!((r.rows, r.cols, r.planes), (32, 40, 5));
        assert_eq!(r.references[0].path, "/acquisition/Volume");
        check_rois(&r, &numpy_rois(path, "", plane));
    }
}

#[test]
fn masks_of_another_size_than_the_images_are_said_so() {
    let s = service();
    let r: Rois = ask(
        &s,
        GetRois {
            path: "/processing/ophys/ImageSegmentation/Mismatch".into(),
            rois: (0, 10),
            plane: 0,
            orientation: Orientation::IDENTITY,
        },
    )
    .unwrap();
    assert_eq!((r.rows, r.cols), (20, 20));
    assert!(r.references.is_empty(), "{:?}", r.references);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("SummaryImages/mean is 48 × 64 but the masks are 20 × 20")),
        "{:?}",
        r.warnings
    );
    assert_eq!(r.boxes[1], [3, 10, 6, 4]);
}

#[test]
fn roi_traces_are_labeled_by_roi_and_read_transposed_when_stored_so() {
    use ns_protocol::{GetSeries, GetWindow, SeriesInfo, Window};
    let s = service();
    let info: SeriesInfo = ask(
        &s,
        GetSeries {
            path: "/processing/ophys/Fluorescence/RoiResponseSeries".into(),
        },
    )
    .unwrap();
    let labels: Vec<&str> = info.channels.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["100", "101", "102", "103", "104", "105"]);
    let quality = info
        .channel_columns
        .iter()
        .find(|(n, _)| n == "quality")
        .unwrap();
    assert_eq!(quality.1[5], "empty");
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    let path = "/processing/ophys/DfOverF/Transposed";
    let info: SeriesInfo = ask(&s, GetSeries { path: path.into() }).unwrap();
    assert_eq!((info.num_samples, info.num_channels), (40, 6));
    assert!((info.end_secs - 4.5).abs() < 1e-12);
    assert!(
        info.warnings[0].contains("[ROIs × time] (6 × 40"),
        "{:?}",
        info.warnings
    );
    assert_eq!(info.channels[2].label, "102");
    let w: Window = ask(
        &s,
        GetWindow {
            path: path.into(),
            start_secs: 0.5,
            end_secs: 4.5,
            channels: Some((1, 4)),
            max_buckets: 1000,
        },
    )
    .unwrap();
    assert_eq!((w.sample_end - w.sample_start, w.channels), (40, 3));
    let want = numpy(&format!(
        "print(json.dumps(flat(f['{path}/data'][()].T[:, 1:4])))"
    ));
    same(&w.min.to_f64(), &floats(&want), 1e-6, "transposed window");
    assert_eq!(w.min, w.max);
}
