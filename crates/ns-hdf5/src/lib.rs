//! Lazy HDF5 reading over [`ns_io`] byte sources.
//!
//! A thin layer over the pure-Rust `hdf5-reader` crate that adds what a
//! viewer needs: the tree of objects with link kinds (soft and external
//! links listed, not followed), walked level by level with siblings in
//! parallel; attribute and dataset values of every type decoded to
//! [`Value`] (references resolved to paths); hyperslab reads that touch only
//! the chunks they need, fetched concurrently natively; errors that name the
//! file and the object.

mod dtype;
mod error;
mod file;
mod links;
pub mod path;
mod plan;
mod select;
mod storage;
mod store;
mod value;

pub use dtype::{Dtype, describe};
pub use error::{Error, Result};
pub use file::{DatasetInfo, H5File, Node, NodeKind, OpenOptions};
pub use select::{Array, Data, DimSelection, ResolvedDim, Selection};
pub use store::ObjectStore;
pub use value::{MAX_EMPTY_LISTS, Value, dims_usize, f16_to_f32, float_json, nest};
