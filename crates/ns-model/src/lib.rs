//! The object model every file format answers with.
//!
//! A file (HDF5, LINDI, later NWB-Zarr) is an [`ObjectStore`]: a tree of
//! [`Node`]s (groups, datasets, links) with attribute [`Value`]s, and
//! datasets read by [`Selection`] into typed [`Array`]s. Nothing here knows
//! a format; the NWB layer and the service layer above see only this.

mod dtype;
mod error;
mod node;
pub mod path;
mod select;
mod store;
mod value;

pub use dtype::Dtype;
pub use error::{Error, Result};
pub use node::{DatasetInfo, Node, NodeKind, VirtualSource};
pub use select::{Array, Data, DimSelection, ResolvedDim, Selection};
pub use store::ObjectStore;
pub use value::{MAX_EMPTY_LISTS, Value, dims_usize, f16_to_f32, float_json, nest};
