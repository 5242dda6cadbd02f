//! The app's per-frame pixel loops, kept apart from the app so the browser
//! build can optimize them for speed (`opt-level = 3`) while the rest of the
//! app, mostly view and reactive code, is optimized for size. Plain slices
//! in, RGBA bytes out: no browser types, no generics the app would
//! instantiate (so the code is compiled here, at this crate's level).

#![forbid(unsafe_code)]

mod image;
mod trace;

pub use image::{Elem, NAN_COLOR, decode_le, paint};
pub use trace::{Envelope, XMap, draw_trace};
