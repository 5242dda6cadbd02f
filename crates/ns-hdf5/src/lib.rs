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
mod filters;
mod links;
mod native;
mod plan;
mod region;
mod select;
mod storage;
mod store;
mod value;
mod vds;
mod walk;

pub use dtype::{describe, dtype_of};
pub use error::{Error, Result};
pub use file::{H5File, OpenOptions, Opener};
// The object model this crate answers with, re-exported for convenience.
pub use ns_model::{
    Array, Data, DatasetInfo, DimSelection, Dtype, Node, NodeKind, ObjectStore, ResolvedDim,
    Selection, Value, f16_to_f32, float_json, path,
};
