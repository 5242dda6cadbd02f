//! Zarr v2 read into the object model of [`ns_model`].
//!
//! Two layers:
//! - what every Zarr-shaped format shares ([`meta`]: `.zarray` and the
//!   codecs of its chunks (numcodecs ids, decoded by `ns-codecs`);
//!   [`elements`]: raw chunk bytes, fill values and object elements as
//!   [`Value`](ns_model::Value)s; [`read`]: selections that fetch only the
//!   chunks they touch, through the caller's fetch; [`tree`]: nodes by
//!   path with soft links followed). `ns-lindi` reads LINDI reference
//!   files with it.
//! - [`ZarrFile`]: a Zarr v2 store (NWB as hdmf-zarr writes it) through an
//!   [`ns_io::ReadKey`] source: a directory, or HTTP GETs of `<url>/<key>`
//!   natively and in the browser worker. The tree comes from the
//!   consolidated `.zmetadata` (one read), or, for a store that can list
//!   its keys, from every `.zgroup`/`.zarray`/`.zattrs`.
//!
//! Every size read from metadata is checked before it is used (rank,
//! chunk element counts, chunks per read, decoded sizes).

pub mod elements;
mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod json;
pub mod meta;
pub mod read;
mod store;
pub mod tree;

pub use error::{Error, Result};
pub use store::{HDMF_ATTRS, OpenOptions, ZarrFile, attr_value, reference};
