//! Figures: what a shared figure is, as data.
//!
//! A figure is JSON in the content-addressed store, named by its sha1 and
//! opened with a figure URL (`/f?v=<view>&d=sha1://<hash>&label=…`, see
//! `ns_links::FigureLink`). This crate holds the figure types
//! ([`Figure`]), their canonical JSON (sorted keys, compact, no NaN:
//! equal figures have equal sha1; [`canonical`]) and figurl's encoding of
//! arrays ([`NdArray`]). Every figure carries its [`Provenance`].
//!
//! A frozen view of an NWB object ([`FrozenView`]) holds the service's
//! typed answers that drew it (a `Raster`, a `Psth`, a `Window` of min/max
//! buckets, `Intervals`, a `Frame`, `Rois`, a `TablePage`…, at the
//! resolution shown), so the viewer redraws it with the very code that
//! drew it live, and nothing is read from the NWB file again.

mod canonical;
mod ndarray;
mod spec;
mod state;

pub use canonical::{canonical_json, sha1_of};
pub use ndarray::NdArray;
pub use spec::{
    Column, Figure, FrozenView, Layout, LayoutItem, LiveView, Provenance, Recorded, Series,
    SeriesAttributes, SeriesEncoding, TimeseriesDataset, TimeseriesGraph, ViewState, YRange,
};
pub use state::{
    PLOT_LEFT_PX, PsthState, RASTER_MAX_SPIKES, filtered_rows, psth_initial_state, psth_requests,
    psth_rows, raster_request, sorted_rows,
};

/// What can go wrong with a figure (one error type for the crate).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON, or not a figure of a known type.
    #[error("not a figure: {0}")]
    NotAFigure(String),
    /// A value JSON cannot hold exactly (NaN, infinity) or that does not
    /// read back as written.
    #[error("the figure cannot be stored as JSON: {0}")]
    NotCanonical(String),
    /// An encoded array that does not decode to its shape and type.
    #[error("bad array {what}: {message}")]
    BadArray { what: String, message: String },
    /// A figure that does not hold together (a recorded answer of the wrong
    /// kind, arrays that do not fit their answer…).
    #[error("invalid figure: {0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, Error>;
