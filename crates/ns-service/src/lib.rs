//! Requests to answers over any open file.
//!
//! The browser worker and the CLI both open a file with [`open_store`]
//! (HDF5 or LINDI, told apart by their first bytes), wrap it in a
//! [`Service`], and ask it for the protocol's answers: the overview, one
//! object, values of a selection, a decimated window of a TimeSeries.
//! Everything here is plain Rust over [`ns_model::ObjectStore`], tested
//! natively against files written by pynwb/h5py; the worker is only a
//! message loop around it.

mod error;
mod events;
mod images;
mod open;
mod overview;
mod pyramid;
mod rois;
mod series;
mod table;
mod units;
mod values;
mod window;

use ns_nwb::NwbFile;
use ns_protocol::{Answer, Overview, Query, WorkerError};

pub use error::{io_error, model_error, nwb_error};
pub use ns_nwb::NwbOptions;
pub use open::{ReadOptions, open_store, open_zarr};

/// How much one answer may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most values one `GetValues` may return (checked before reading).
    pub max_values: u64,
    /// Most samples × channels a `GetWindow` read raw may cover (checked
    /// before reading). Windows longer than `exact_window_values` are read
    /// raw only when their buckets would be shorter than the pyramid's
    /// finest (16 samples); every other window is answered from the
    /// pyramid, whatever its length.
    pub max_window_values: u64,
    /// Windows of at most this many samples × channels (and at most
    /// `max_window_values`) are read raw: exact buckets from the window's
    /// first sample.
    pub exact_window_values: u64,
    /// Values read at once while decimating a window.
    pub window_block_values: u64,
    /// Most raw values one `GetWindow` reads to build the pyramid; when
    /// they run out the window is answered `pending` and the next request
    /// continues.
    pub window_read_values: u64,
    /// Bytes the pyramid cache may hold (least recently used segments are
    /// dropped).
    pub window_cache_bytes: u64,
    /// Most buckets × channels one `GetWindow` may answer (its reply holds
    /// two f32 per cell; checked before reading).
    pub max_window_cells: u64,
    /// Most values (pixels × channels × frames) one `GetFrame` answers;
    /// frames past it are left for the next request (one frame always
    /// comes: its size is bounded by the request's `max_size`).
    pub max_frame_values: u64,
    /// Values read at once while downsampling or projecting frames and
    /// while reading image masks (memory stays bounded by it).
    pub frame_block_values: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_values: 1_000_000,
            max_window_values: 64 * 1024 * 1024,
            exact_window_values: 4 * 1024 * 1024,
            window_block_values: 4 * 1024 * 1024,
            window_read_values: 16 * 1024 * 1024,
            window_cache_bytes: 32 * 1024 * 1024,
            max_window_cells: 4 * 1024 * 1024,
            max_frame_values: 16 * 1024 * 1024,
            frame_block_values: 4 * 1024 * 1024,
        }
    }
}

/// An open NWB file and the answers about it.
pub struct Service {
    nwb: NwbFile,
    limits: Limits,
    /// Min/max summaries of the series windows were drawn from.
    pyramid: pyramid::Pyramid,
    /// Spike times of units read so far (byte-bounded).
    spikes: units::SpikeCache,
}

impl Service {
    /// Walks the file (an [`ns_model::ObjectStore`] from [`open_store`]).
    ///
    /// # Errors
    /// When the tree cannot be walked.
    pub fn new(store: Box<dyn ns_model::ObjectStore>, limits: Limits) -> Result<Self, WorkerError> {
        Self::with_options(store, limits, &ns_nwb::NwbOptions::default())
    }

    /// [`Service::new`] with the NWB reader's options.
    ///
    /// # Errors
    /// When the tree cannot be walked.
    pub fn with_options(
        store: Box<dyn ns_model::ObjectStore>,
        limits: Limits,
        options: &ns_nwb::NwbOptions,
    ) -> Result<Self, WorkerError> {
        let nwb = NwbFile::with_options(store, options).map_err(|e| nwb_error(&e))?;
        Ok(Self {
            nwb,
            limits,
            pyramid: pyramid::Pyramid::new(limits.window_cache_bytes),
            spikes: units::SpikeCache::default(),
        })
    }

    pub fn nwb(&self) -> &NwbFile {
        &self.nwb
    }

    /// Bytes and segments held by the window pyramid's cache (at most
    /// `Limits::window_cache_bytes`).
    pub fn window_cache(&self) -> (u64, usize) {
        (self.pyramid.bytes(), self.pyramid.len())
    }

    /// What the first screen shows.
    pub fn overview(&self) -> Overview {
        overview::overview(&self.nwb)
    }

    /// Answers any request about the open file (`Open` is the caller's:
    /// it makes the service).
    ///
    /// # Errors
    /// What the request's own method returns; `Open` is a bad request here.
    pub fn handle(&self, query: Query) -> Result<Answer, WorkerError> {
        match query {
            Query::Open(_) => Err(WorkerError::new(
                ns_protocol::ErrorKind::BadRequest,
                "a file is opened by the worker, not by the service",
            )),
            Query::Object(r) => overview::object(&self.nwb, &r.path).map(Answer::Object),
            Query::Values(r) => values::values(&self.nwb, &r, &self.limits).map(Answer::Values),
            Query::Window(r) => {
                window::window(&self.nwb, &r, &self.limits, &self.pyramid).map(Answer::Window)
            }
            Query::Series(r) => series::series(&self.nwb, &r.path).map(Answer::Series),
            Query::Table(r) => table::page(&self.nwb, &r, &self.limits).map(Answer::Table),
            Query::Cell(r) => table::cell(&self.nwb, &r, &self.limits).map(Answer::Cell),
            Query::Intervals(r) => {
                table::intervals(&self.nwb, &r, &self.limits).map(Answer::Intervals)
            }
            Query::Events(r) => events::events(&self.nwb, &r, &self.limits).map(Answer::Events),
            Query::Samples(r) => events::samples(&self.nwb, &r, &self.limits).map(Answer::Samples),
            Query::ImageInfo(r) => images::info(&self.nwb, &r.path).map(Answer::ImageInfo),
            Query::Frame(r) => images::frame(&self.nwb, &r, &self.limits).map(Answer::Frame),
            Query::Projection(r) => {
                images::projection(&self.nwb, &r, &self.limits).map(Answer::Projection)
            }
            Query::Rois(r) => rois::rois(&self.nwb, &r, &self.limits).map(Answer::Rois),
            Query::Units(r) => units::units_info(&self.nwb, &r.path).map(Answer::Units),
            Query::Raster(r) => {
                units::raster(&self.nwb, &self.spikes, &r, &self.limits).map(Answer::Raster)
            }
            Query::Psth(r) => {
                units::psth(&self.nwb, &self.spikes, &r, &self.limits).map(Answer::Psth)
            }
        }
    }
}
