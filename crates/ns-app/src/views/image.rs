//! Images on a canvas: pixels (gray, RGB or RGBA) mapped through a
//! display range into one RGBA buffer at the image's own resolution, put
//! on the canvas at once and scaled by CSS (nearest-neighbour), with the
//! pixel under the pointer named in stored coordinates. Shared by the
//! image, imaging-series and ROI views; this module also has the Image
//! view (one Image dataset) and the Images gallery (each image read when
//! scrolled into view), the orientation controls (kept in the URL as
//! `orient=`, one for the file) and the display-range controls.

use std::rc::Rc;
use std::sync::Arc;

use leptos::html::{Canvas, Figure};
use leptos::prelude::*;
use ns_protocol::{
    Frame, FrameAt, GetFrame, GetImageInfo, ImageInfo, Orientation, Projection, TypedBuffer,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::CanvasRenderingContext2d;

use super::{ViewDef, ViewProps};
use crate::client;
use crate::components::ErrorPanel;

pub const DEF: ViewDef = ViewDef {
    name: "Image",
    title: "Image",
    aliases: &["Images"],
    types: &["Image", "Images"],
    render: Some(|p| view! { <ImageView props=p/> }.into_any()),
};

/// Largest side frames are asked for at (larger ones come downsampled).
pub const MAX_SIZE: u32 = 1024;
/// Largest side an image is shown at, in CSS pixels.
pub const SHOWN: f64 = 560.0;
/// In a gallery.
const THUMB: f64 = 280.0;
/// The URL parameter keeping the orientation.
const ORIENT_PARAM: &str = "orient";

/// Pixels ready to paint: row-major, channels last, as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Pixels {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub values: Vec<f32>,
    /// Each pixel is the mean of `step × step` stored ones.
    pub step: u32,
    pub orientation: Orientation,
}

fn usize_of(n: u32) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// The values of a buffer as f32, straight from its bytes.
pub fn decode(b: &TypedBuffer) -> Vec<f32> {
    use ns_draw::Elem as E;
    use ns_protocol::NumericType as T;
    let elem = match b.dtype {
        T::UInt8 => E::U8,
        T::Int8 => E::I8,
        T::UInt16 => E::U16,
        T::Int16 => E::I16,
        T::UInt32 => E::U32,
        T::Int32 => E::I32,
        T::Float32 => E::F32,
        T::UInt64 => E::U64,
        T::Int64 => E::I64,
        T::Float64 => E::F64,
    };
    ns_draw::decode_le(b.bytes(), elem)
}

impl Pixels {
    /// Each frame of a [`Frame`] answer.
    pub fn frames(f: &Frame) -> Vec<Arc<Pixels>> {
        let (w, h, ch) = (usize_of(f.width), usize_of(f.height), usize_of(f.channels));
        let per = (w * h * ch).max(1);
        let all = decode(&f.pixels);
        all.chunks_exact(per)
            .map(|values| {
                Arc::new(Pixels {
                    width: w,
                    height: h,
                    channels: ch,
                    values: values.to_vec(),
                    step: f.step,
                    orientation: f.orientation,
                })
            })
            .collect()
    }

    /// The mean (or the maximum) of a projection.
    pub fn projection(p: &Projection, max: bool, orientation: Orientation) -> Pixels {
        Pixels {
            width: usize_of(p.width),
            height: usize_of(p.height),
            channels: usize_of(p.channels),
            values: decode(if max { &p.max } else { &p.mean }),
            step: p.step,
            orientation,
        }
    }

    /// The 0.5th and 99.5th percentiles of the finite values (sampled).
    pub fn auto_range(&self) -> Option<(f64, f64)> {
        let stride = (self.values.len() / 65_536).max(1);
        let mut v: Vec<f32> = self
            .values
            .iter()
            .step_by(stride)
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f32::total_cmp);
        let at = |p: f64| {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "an index into the sample"
            )]
            let i = ((v.len() - 1) as f64 * p).round() as usize;
            f64::from(v[i.min(v.len() - 1)])
        };
        Some(widen((at(0.005), at(0.995))))
    }

    /// The least and greatest finite values.
    pub fn full_range(&self) -> Option<(f64, f64)> {
        let (lo, hi) = self
            .values
            .iter()
            .filter(|x| x.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), x| {
                (a.min(*x), b.max(*x))
            });
        (lo <= hi).then(|| widen((f64::from(lo), f64::from(hi))))
    }

    /// What the pixel at shown `(x, y)` is: its stored row and column and
    /// its value(s).
    pub fn describe(&self, x: usize, y: usize) -> Option<String> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let at = (y * self.width + x) * self.channels;
        let values = self.values.get(at..at + self.channels)?;
        // The shown pixel's place in the stored (downsampled) image.
        let (rows, cols) = if self.orientation.swap {
            (self.width, self.height)
        } else {
            (self.height, self.width)
        };
        let (r, c) = self.orientation.source(rows, cols, y, x);
        let step = usize_of(self.step).max(1);
        let place = if step > 1 {
            format!(
                "rows {}–{}, columns {}–{} (mean)",
                r * step,
                r * step + step - 1,
                c * step,
                c * step + step - 1
            )
        } else {
            format!("row {r}, column {c}")
        };
        let text: Vec<String> = values.iter().map(|v| format_value(*v)).collect();
        Some(format!("{place}: {}", text.join(", ")))
    }
}

fn format_value(v: f32) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

/// A range that is not empty.
fn widen((lo, hi): (f64, f64)) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    }
}

/// The default display range of a frame: all of an 8-bit type, else the
/// percentiles the worker found.
pub fn default_range(f: &Frame) -> Option<(f64, f64)> {
    if f.dtype == "uint8" && f.step == 1 {
        return Some((0.0, 255.0));
    }
    (f.low.is_finite() && f.high.is_finite()).then(|| widen((f.low, f.high)))
}

/// Paints `p` through the range `lo..hi` into an RGBA buffer.
pub fn paint(p: &Pixels, range: (f64, f64), out: &mut Vec<u8>) {
    ns_draw::paint(&p.values, p.width, p.height, p.channels, range, out);
}

/// The orientation kept in the URL (one for the file).
pub fn orientation_from_url() -> Orientation {
    crate::url::param(ORIENT_PARAM)
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

fn orientation_to_url(o: Orientation) {
    let value = (o != Orientation::IDENTITY).then(|| o.to_string());
    crate::url::set_params(&[(ORIENT_PARAM, value)]);
}

/// A signal with the URL's orientation, written back when it changes.
pub fn orientation_signal() -> RwSignal<Orientation> {
    let orient = RwSignal::new(orientation_from_url());
    Effect::new(move |first: Option<()>| {
        let o = orient.get();
        if first.is_some() {
            orientation_to_url(o);
        }
    });
    orient
}

/// Rotate, flip and swap buttons.
#[component]
pub fn OrientationControls(orient: RwSignal<Orientation>) -> impl IntoView {
    view! {
        <span class="orient-controls" data-testid="orient-controls">
            <button title="Rotate 90° clockwise" data-testid="rotate" on:click=move |_| orient.update(|o| *o = o.rotate())>"⟳ 90°"</button>
            <button title="Mirror left-right" data-testid="flip-x" on:click=move |_| orient.update(|o| *o = o.flip_x())>"⇆"</button>
            <button title="Mirror upside down" data-testid="flip-y" on:click=move |_| orient.update(|o| *o = o.flip_y())>"⇅"</button>
            <button title="Swap rows and columns" data-testid="swap" on:click=move |_| orient.update(|o| *o = o.swap())>"⤡"</button>
            <button title="As stored" on:click=move |_| orient.set(Orientation::IDENTITY)>"reset"</button>
            <span class="orient-text" data-testid="orient-text">{move || orient.get().describe()}</span>
        </span>
    }
}

/// The display range: its two ends, and buttons for the automatic range
/// (percentiles) and the full one (least to greatest).
#[component]
pub fn RangeControls(
    range: RwSignal<Option<(f64, f64)>>,
    auto: Signal<Option<(f64, f64)>>,
    full: Signal<Option<(f64, f64)>>,
) -> impl IntoView {
    let set_end = move |end: usize, text: String| {
        if let Ok(v) = text.trim().parse::<f64>()
            && v.is_finite()
        {
            range.update(|r| {
                let (lo, hi) = r.unwrap_or((0.0, 1.0));
                *r = Some(if end == 0 { (v, hi) } else { (lo, v) });
            });
        }
    };
    let text = move |end: usize| {
        range
            .get()
            .map(|(lo, hi)| format_range_end(if end == 0 { lo } else { hi }))
            .unwrap_or_default()
    };
    view! {
        <span class="range-controls">
            "range "
            <input type="text" size="8" data-testid="range-min" prop:value=move || text(0)
                on:change=move |ev| set_end(0, event_target_value(&ev))/>
            " – "
            <input type="text" size="8" data-testid="range-max" prop:value=move || text(1)
                on:change=move |ev| set_end(1, event_target_value(&ev))/>
            <button title="0.5th to 99.5th percentile" data-testid="range-auto" on:click=move |_| if let Some(r) = auto.get_untracked() { range.set(Some(r)); }>"auto"</button>
            <button title="Least to greatest value" on:click=move |_| if let Some(r) = full.get_untracked() { range.set(Some(r)); }>"min–max"</button>
        </span>
    }
}

fn format_range_end(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

/// A pointer event on an image, in shown pixels.
#[derive(Debug, Clone, Copy)]
pub struct PixelEvent {
    pub x: usize,
    pub y: usize,
    pub shift: bool,
}

/// Handlers of pointer events on an image.
pub type PixelHandler = Rc<dyn Fn(Option<PixelEvent>)>;

/// Fills an image's RGBA buffer.
pub type Render = Rc<dyn Fn(&mut Vec<u8>)>;

/// An image on a canvas at its own resolution, scaled by CSS. `render`
/// fills the RGBA buffer (`size` pixels); signals it reads make it redraw.
#[component]
pub fn ImageCanvas(
    size: Signal<Option<(usize, usize)>>,
    render: Render,
    #[prop(optional)] on_hover: Option<PixelHandler>,
    #[prop(optional)] on_click: Option<PixelHandler>,
    #[prop(into)] test_id: String,
    /// Largest side shown, in CSS pixels.
    #[prop(default = SHOWN)]
    shown: f64,
    #[prop(optional, into)] class: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let buffer = StoredValue::new_local(Vec::<u8>::new());
    crate::reactive::effect(move || {
        let (Some(c), Some((w, h))) = (canvas.get(), size.get()) else {
            return;
        };
        if w == 0 || h == 0 {
            return;
        }
        let (Ok(pw), Ok(ph)) = (u32::try_from(w), u32::try_from(h)) else {
            return;
        };
        if c.width() != pw {
            c.set_width(pw);
        }
        if c.height() != ph {
            c.set_height(ph);
        }
        let Some(ctx) = c
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        else {
            return;
        };
        buffer.update_value(|buf| {
            render(buf);
            buf.resize(w * h * 4, 0);
        });
        buffer.with_value(|buf| {
            if let Ok(img) =
                web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(buf), pw, ph)
            {
                let _ = ctx.put_image_data(&img, 0.0, 0.0);
            }
        });
    });
    let style = move || {
        let Some((w, h)) = size.get() else {
            return String::new();
        };
        #[expect(clippy::cast_precision_loss, reason = "image sizes")]
        let (wf, hf) = (w.max(1) as f64, h.max(1) as f64);
        let mut scale = (shown / wf).min(shown / hf);
        if scale > 1.0 {
            scale = scale.floor();
        }
        format!("width: {:.0}px; height: {:.0}px", wf * scale, hf * scale)
    };
    // The shown pixel under the pointer.
    let pixel = move |ev: &web_sys::MouseEvent| -> Option<PixelEvent> {
        let c = canvas.get_untracked()?;
        let (w, h) = size.get_untracked()?;
        let (cw, ch) = (f64::from(c.client_width()), f64::from(c.client_height()));
        if cw <= 0.0 || ch <= 0.0 {
            return None;
        }
        #[expect(clippy::cast_precision_loss, reason = "image sizes")]
        let (x, y) = (
            f64::from(ev.offset_x()) / cw * w as f64,
            f64::from(ev.offset_y()) / ch * h as f64,
        );
        if x < 0.0 || y < 0.0 {
            return None;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked non-negative; compared with the size below"
        )]
        let (x, y) = (x.floor() as usize, y.floor() as usize);
        (x < w && y < h).then_some(PixelEvent {
            x,
            y,
            shift: ev.shift_key(),
        })
    };
    let hover = on_hover.clone();
    let leave = on_hover;
    view! {
        <canvas class=format!("image-canvas {class}") node_ref=canvas data-testid=test_id style=style
            on:mousemove=move |ev| if let Some(h) = &hover { h(pixel(&ev)); }
            on:mouseleave=move |_| if let Some(h) = &leave { h(None); }
            on:click=move |ev| if let Some(c) = &on_click { c(pixel(&ev)); }
        ></canvas>
    }
}

#[component]
fn ImageView(props: ViewProps) -> impl IntoView {
    let path = props.path.clone();
    let is_group = !props
        .overview
        .objects
        .iter()
        .any(|o| o.path == path && o.kind == "dataset");
    if is_group {
        // An Images group: its images as a gallery.
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let items: Vec<String> = props
            .overview
            .objects
            .iter()
            .filter(|o| o.kind == "dataset")
            .filter(|o| o.path.starts_with(&prefix) && !o.path[prefix.len()..].contains('/'))
            .filter(|o| o.neurodata_type.is_some())
            .map(|o| o.path.clone())
            .collect();
        if items.is_empty() {
            return view! { <p class="empty">"This group holds no images."</p> }.into_any();
        }
        let orient = orientation_signal();
        return view! {
            <div class="toolbar"><OrientationControls orient=orient/></div>
            <div class="gallery" data-testid="gallery">
                {items.into_iter().map(|p| view! { <LazyImage path=p orient=orient/> }).collect_view()}
            </div>
        }
        .into_any();
    }
    let orient = orientation_signal();
    view! {
        <div class="toolbar"><OrientationControls orient=orient/></div>
        <StillImage path=path orient=orient/>
    }
    .into_any()
}

/// An image of a gallery, read once it is scrolled into view.
#[component]
fn LazyImage(path: String, orient: RwSignal<Orientation>) -> impl IntoView {
    let node = NodeRef::<Figure>::new();
    let visible = RwSignal::new(false);
    crate::reactive::effect(move || {
        let Some(el) = node.get() else { return };
        let seen = Closure::<dyn FnMut(js_sys::Array, web_sys::IntersectionObserver)>::new(
            move |entries: js_sys::Array, observer: web_sys::IntersectionObserver| {
                let any = entries.iter().any(|e| {
                    e.dyn_into::<web_sys::IntersectionObserverEntry>()
                        .is_ok_and(|e| e.is_intersecting())
                });
                if any {
                    visible.set(true);
                    observer.disconnect();
                }
            },
        );
        if let Ok(observer) = web_sys::IntersectionObserver::new(seen.as_ref().unchecked_ref()) {
            observer.observe(&el);
        }
        seen.forget();
    });
    let name = path.rsplit('/').next().unwrap_or(&path).to_string();
    let attr_path = path.clone();
    view! {
        <figure class="gallery-item" node_ref=node data-path=attr_path>
            <figcaption>{name}</figcaption>
            {move || if visible.get() {
                view! { <StillImage path=path.clone() orient=orient shown=THUMB/> }.into_any()
            } else {
                view! { <p class="loading">"…"</p> }.into_any()
            }}
        </figure>
    }
}

/// One Image dataset with its display range.
#[component]
fn StillImage(
    path: String,
    orient: RwSignal<Orientation>,
    #[prop(default = SHOWN)] shown: f64,
) -> impl IntoView {
    let info_path = path.clone();
    let info = crate::reactive::resource(move || {
        let path = info_path.clone();
        async move { client::request(GetImageInfo { path }).await }
    });
    let frame = crate::reactive::resource(move || {
        let path = path.clone();
        let orientation = orient.get();
        async move {
            client::request(GetFrame {
                path,
                at: FrameAt::Index(0),
                count: 1,
                plane: 0,
                orientation,
                max_size: MAX_SIZE,
            })
            .await
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the image…"</p> }>
            {move || info.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(i) => view! { <ImageHead info=i/> }.into_any(),
            })}
            {move || frame.get().map(|r| match r {
                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                Ok(f) => view! { <StillCanvas frame=f shown=shown/> }.into_any(),
            })}
        </Suspense>
    }
}

/// A line about an image or series: type, shape, type of values.
#[component]
pub fn ImageHead(info: ImageInfo) -> impl IntoView {
    let dims: Vec<String> = info.shape.iter().map(ToString::to_string).collect();
    let kind = match info.channels {
        3 => " · RGB",
        4 => " · RGBA",
        _ => "",
    };
    let text = format!(
        "{} · [{}] {}{kind}",
        info.neurodata_type
            .clone()
            .unwrap_or_else(|| "Image".into()),
        dims.join(" × "),
        info.dtype
    );
    view! {
        <p class="view-head">{text}</p>
        {info.description.clone().filter(|d| !d.is_empty() && d != "no description").map(|d| view! { <p class="view-desc">{d}</p> })}
        {info.warnings.into_iter().map(|w| view! { <p class="warning" data-testid="warning">"⚠ " {w}</p> }).collect_view()}
    }
}

#[component]
fn StillCanvas(frame: Frame, shown: f64) -> impl IntoView {
    let Some(pixels) = Pixels::frames(&frame).into_iter().next() else {
        return view! { <p class="empty">"The image holds no pixels."</p> }.into_any();
    };
    let range = RwSignal::new(default_range(&frame).or_else(|| pixels.auto_range()));
    let auto = pixels.auto_range();
    let full = pixels.full_range();
    let hover = RwSignal::new(None::<String>);
    let size = (pixels.width, pixels.height);
    let p = Arc::clone(&pixels);
    let render: Render = Rc::new(move |buf: &mut Vec<u8>| {
        if let Some(r) = range.get() {
            paint(&p, r, buf);
        }
    });
    let p2 = Arc::clone(&pixels);
    let on_hover: PixelHandler = Rc::new(move |e: Option<PixelEvent>| {
        hover.set(e.and_then(|e| p2.describe(e.x, e.y)));
    });
    let step = frame.step;
    view! {
        <div class="toolbar">
            <RangeControls range=range auto=Signal::derive(move || auto) full=Signal::derive(move || full)/>
            {(step > 1).then(|| view! { <span class="count">{format!("shown at 1/{step} (mean of {step} × {step} pixels)")}</span> })}
        </div>
        <ImageCanvas size=Signal::derive(move || Some(size)) render=render on_hover=on_hover test_id="image-canvas" shown=shown/>
        <p class="pixel-readout" data-testid="pixel-readout">{move || hover.get().unwrap_or_default()}</p>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_gray_color_and_nan() {
        let p = Pixels {
            width: 3,
            height: 1,
            channels: 1,
            values: vec![0.0, 5.0, f32::NAN],
            step: 1,
            orientation: Orientation::IDENTITY,
        };
        let mut out = Vec::new();
        paint(&p, (0.0, 10.0), &mut out);
        assert_eq!(&out[..4], &[0, 0, 0, 255]);
        assert_eq!(&out[4..8], &[127, 127, 127, 255]);
        assert_eq!(&out[8..11], &ns_draw::NAN_COLOR);
        let c = Pixels {
            width: 1,
            height: 1,
            channels: 4,
            values: vec![255.0, 0.0, 128.0, 64.0],
            step: 1,
            orientation: Orientation::IDENTITY,
        };
        paint(&c, (0.0, 255.0), &mut out);
        assert_eq!(out, vec![255, 0, 128, 64]);
        assert_eq!(p.full_range(), Some((0.0, 5.0)));
    }

    #[test]
    fn decodes_every_type() {
        assert_eq!(
            decode(&TypedBuffer::from_u16(&[1, 65535])),
            vec![1.0, 65535.0]
        );
        assert_eq!(decode(&TypedBuffer::from_i16(&[-3])), vec![-3.0]);
        assert_eq!(decode(&TypedBuffer::from_i8(&[-3])), vec![-3.0]);
        assert_eq!(decode(&TypedBuffer::from_f64(&[0.5])), vec![0.5]);
        assert!(decode(&TypedBuffer::from_f32(&[f32::NAN]))[0].is_nan());
    }

    #[test]
    fn names_the_stored_pixel() {
        // Stored 2 × 3, shown rotated (3 × 2).
        let o = Orientation::IDENTITY.rotate();
        let stored = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
        let p = Pixels {
            width: 2,
            height: 3,
            channels: 1,
            values: o.apply(2, 3, 1, &stored),
            step: 1,
            orientation: o,
        };
        // Shown top-left is stored (1, 0) = 3.
        assert_eq!(p.describe(0, 0).as_deref(), Some("row 1, column 0: 3"));
        assert_eq!(p.describe(1, 2).as_deref(), Some("row 0, column 2: 2"));
        assert_eq!(p.describe(2, 0), None);
    }
}
