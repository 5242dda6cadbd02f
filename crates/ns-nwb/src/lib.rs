//! NWB semantics over any open [`ns_model::ObjectStore`] (an HDF5 file
//! from `ns-hdf5`, a LINDI file from `ns-lindi`): no format is known here.
//!
//! [`NwbFile::new`] walks the tree once and
//! reads the session metadata and the embedded specifications; everything
//! else is read on demand through the store, touching only what is asked
//! for.
//!
//! - [`NwbFile::session`]: description, identifier, start time,
//!   experimenters, ...
//! - Neurodata types: [`NwbFile::neurodata_type`], [`NwbFile::is_a`] and
//!   [`NwbFile::objects_of_type`] follow inheritance ([`TypeTree`], from the
//!   file's specs, falling back on the built-in core hierarchy).
//! - Typed views that borrow the file: [`TimeSeries`] (timing by rate or
//!   timestamps, data reads, time ↔ sample lookups), [`ElectricalSeries`]
//!   (channels and their [`Electrode`] rows), [`DynamicTable`] (plain,
//!   ragged and region columns), [`Units`] (spike times per unit) and
//!   [`TimeIntervals`] (trials, epochs).
//!
//! ```no_run
//! # fn demo(store: Box<dyn ns_model::ObjectStore>) -> ns_nwb::Result<()> {
//! let nwb = ns_nwb::NwbFile::new(store)?;
//! println!("{:?}", nwb.session().identifier);
//! for node in nwb.objects_of_type("TimeSeries") {
//!     let series = nwb.time_series(&node.path)?;
//!     let samples = series.sample_range_for_times(10.0, 11.0)?;
//!     let data = series.read_data(samples, None)?;
//!     println!("{}: {} values", node.path, data.len());
//! }
//! # Ok(())
//! # }
//! ```

mod error;
mod file;
mod series;
mod table;
mod types;
mod util;

pub use error::{Error, Result};
pub use file::{NwbFile, NwbOptions, Session, SpecNamespace};
pub use series::{ElectricalSeries, Electrode, SeriesData, TimeSeries, Timing};
pub use table::{Column, DynamicTable, TimeIntervals, Units};
pub use types::TypeTree;
