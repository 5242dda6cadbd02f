//! The messages between the app (main thread) and the reader worker.
//!
//! Every request type names its reply type ([`Request::Reply`]): the app
//! sends a [`GetValues`] and gets back a [`Values`], checked once in
//! [`Reply::from_answer`], never "some answer" to match at the call site.
//! On the wire a request is a [`ToWorker::Request`] carrying a [`Query`]
//! (one variant per request type) and its id; the worker answers each with
//! exactly one [`FromWorker::Reply`] carrying the [`Answer`] variant of the
//! same name (or nothing, if it was cancelled before it started) and may
//! send [`FromWorker::Progress`] while it works.
//!
//! Encoding ([`encode`] / [`decode`], here and nowhere else): the message
//! as JSON text, and numeric payloads ([`TypedBuffer`]) taken out of it as
//! separate byte buffers, which travel beside the text as transferred
//! `ArrayBuffer`s (not copied, not printed as JSON numbers).

mod buffer;
pub mod filter;
mod imaging;
mod pages;
pub mod tagged;

use serde::{Deserialize, Serialize};

pub use buffer::{NumericType, TypedBuffer};
pub use imaging::{
    Frame, FrameAt, GetFrame, GetImageInfo, GetProjection, GetRois, ImageInfo, Orientation,
    Projection, ReferenceImage, Rois,
};
pub use ns_model::{DimSelection, Selection};
pub use pages::{decode_pages, encode_pages};

internally_tagged!(FileSource, "kind");
internally_tagged!(Query, "query");
internally_tagged!(Answer, "answer");
internally_tagged!(ValuesData, "kind");

/// A request id, unique per app session.
pub type RequestId = u64;

/// Where a file comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum FileSource {
    /// A URL read with HTTP Range requests. `size_bytes` is used when the
    /// server does not expose the size to scripts (S3 exposes only ETag).
    Url {
        url: String,
        size_bytes: Option<u64>,
        /// Sent as `Authorization: token …` (embargoed DANDI data), only to
        /// the hosts the app trusts with it.
        api_key: Option<String>,
    },
    /// A Zarr store (NWB-Zarr) at a URL, read as `<url>/<key>` with plain
    /// GETs; its tree comes from the consolidated `.zmetadata`.
    Zarr {
        url: String,
        /// As for `Url`.
        api_key: Option<String>,
    },
    /// A local file the user picked or dropped; the worker reads slices of it.
    /// The `File` object itself travels next to the message (not JSON).
    Local { name: String, size_bytes: u64 },
}

/// A request: its [`Query`] variant and the reply type it gets.
pub trait Request: Into<Query> {
    type Reply: Reply;
}

/// A reply type: taken out of the [`Answer`] that carries it.
pub trait Reply: Sized {
    /// `Err` names the kind of answer that came instead.
    ///
    /// # Errors
    /// When `answer` is not this reply's variant.
    fn from_answer(answer: Answer) -> Result<Self, &'static str>;
}

/// Open a file (replacing any open one) and answer with its overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenFile {
    pub source: FileSource,
}

/// Attributes and metadata of one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetObject {
    pub path: String,
}

/// Values of a dataset selection (at most the worker's limit of values;
/// the limit is checked before anything is read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetValues {
    pub path: String,
    pub selection: Selection,
}

/// A time window of a TimeSeries, decimated for drawing: for each of at
/// most `max_buckets` buckets of consecutive samples, the minimum and the
/// maximum of every selected channel (in the series' unit, conversion and
/// offset applied). A view asks for about one bucket per pixel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetWindow {
    /// The TimeSeries group.
    pub path: String,
    pub start_secs: f64,
    pub end_secs: f64,
    /// Channels `start..end` (columns of a 2-D `data`); all when `None`.
    pub channels: Option<(u64, u64)>,
    pub max_buckets: u32,
}

/// What a view needs to know about a TimeSeries before drawing it: its
/// extent in samples, channels and seconds, its unit and scaling, the
/// electrodes of its channels, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetSeries {
    pub path: String,
}

/// A page of rows of a DynamicTable (any table: electrodes, trials,
/// units, custom), every column as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetTable {
    pub path: String,
    /// Rows `start..end` (clipped to the table).
    pub rows: (u64, u64),
}

/// All values of one cell of a ragged column (a table page shows only
/// their count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetCell {
    pub path: String,
    pub column: String,
    pub row: u64,
}

/// The intervals of a TimeIntervals table (trials, epochs, any table with
/// `start_time`/`stop_time`), laid out in rows by a label column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetIntervals {
    pub path: String,
    /// The column whose values name the rows; chosen automatically when
    /// `None` (a column with 2 to 10 distinct values, as Neurosift does).
    pub label_column: Option<String>,
}

/// The events of a window: times of a timestamps-only series
/// (BehavioralEvents, IntervalSeries, LabeledEvents, Events) in
/// `start_secs..end_secs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetEvents {
    /// A TimeSeries, or an `Events` type's group.
    pub path: String,
    pub start_secs: f64,
    pub end_secs: f64,
    /// At most this many events (beyond it, every `stride`-th).
    pub max_events: u32,
}

/// Samples of a window, every `stride`-th so that at most `max_points`
/// come back (a trajectory needs samples, not min/max envelopes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetSamples {
    pub path: String,
    pub start_secs: f64,
    pub end_secs: f64,
    /// Channels `start..end` (columns of a 2-D `data`); all when `None`.
    pub channels: Option<(u64, u64)>,
    pub max_points: u32,
}

/// A Units table (or any table with a ragged `spike_times` or
/// `event_times` column): ids, spike counts, the columns to sort, color
/// and subset units by, and the time extent of its spikes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetUnits {
    pub path: String,
}

/// Spikes of some units in a window: their times, or per-bin counts when
/// there are more than `max_spikes` (ticks would overlap anyway).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetRaster {
    pub path: String,
    /// Rows of the table (not ids).
    pub units: Vec<u64>,
    pub start_secs: f64,
    pub end_secs: f64,
    pub max_spikes: u32,
    /// Bins across the window when counts come back instead.
    pub bins: u32,
}

/// A peri-stimulus time histogram of units around trials (or events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetPsth {
    pub units_path: String,
    /// Rows of the units table.
    pub units: Vec<u64>,
    /// A TimeIntervals table, or a series whose timestamps are the events.
    pub trials_path: String,
    /// The column to align to (a table's); ignored for an events series.
    pub align_to: String,
    pub window_start: f64,
    pub window_end: f64,
    pub num_bins: u32,
    /// 30 × finer bins, smoothed with a Gaussian of σ = 15 fine bins (as
    /// Neurosift).
    pub smoothed: bool,
    pub group_by: Option<String>,
    /// Groups to keep (all when empty).
    pub categories: Vec<String>,
    /// Trials kept (conditions on the trials table's columns).
    pub trial_filter: Vec<filter::Condition>,
}

macro_rules! request_reply {
    ($($request:ident => $variant:ident($reply:ident)),* $(,)?) => {
        /// Every request, as it travels.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(remote = "Self", rename_all = "snake_case")]
        pub enum Query {
            $($variant($request),)*
        }

        /// Every successful reply, as it travels: the variant of the same
        /// name as the request's.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(remote = "Self", rename_all = "snake_case")]
        pub enum Answer {
            $($variant($reply),)*
        }

        $(
            impl From<$request> for Query {
                fn from(request: $request) -> Self {
                    Query::$variant(request)
                }
            }

            impl Request for $request {
                type Reply = $reply;
            }

            impl Reply for $reply {
                fn from_answer(answer: Answer) -> Result<Self, &'static str> {
                    match answer {
                        Answer::$variant(reply) => Ok(reply),
                        other => Err(other.kind()),
                    }
                }
            }
        )*

        impl Answer {
            /// The name of its kind, for error messages.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Answer::$variant(_) => stringify!($variant),)*
                }
            }
        }

        impl Query {
            /// The name of its kind: the same as its answer's.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Query::$variant(_) => stringify!($variant),)*
                }
            }
        }
    };
}

request_reply! {
    OpenFile => Open(Overview),
    GetObject => Object(ObjectInfo),
    GetValues => Values(Values),
    GetWindow => Window(Window),
    GetSeries => Series(SeriesInfo),
    GetTable => Table(TablePage),
    GetCell => Cell(CellValues),
    GetIntervals => Intervals(Intervals),
    GetEvents => Events(Events),
    GetSamples => Samples(Samples),
    GetImageInfo => ImageInfo(ImageInfo),
    GetFrame => Frame(Frame),
    GetProjection => Projection(Projection),
    GetRois => Rois(Rois),
    GetUnits => Units(UnitsInfo),
    GetRaster => Raster(Raster),
    GetPsth => Psth(Psth),
}

/// What the app asks of the worker. The two messages are tagged by serde's
/// default (`{"request": {…}}`), which its JSON reader reads directly;
/// they are never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToWorker {
    /// The query is a field of its own, not flattened into the request.
    Request { id: RequestId, query: Query },
    /// Forget a request: if it has not started, it never will.
    Cancel { id: RequestId },
    /// Panic on purpose (its reply is [`FromWorker::Crashed`]): how the
    /// browser tests check that the app survives a worker that dies.
    Panic { id: RequestId },
}

impl ToWorker {
    pub fn id(&self) -> RequestId {
        match self {
            ToWorker::Request { id, .. } | ToWorker::Cancel { id } | ToWorker::Panic { id } => *id,
        }
    }
}

/// The id of the open a worker starts by itself, for the file of the link
/// the page was loaded with (`www/index.html` probes it and hands the answers
/// to the first worker before either wasm has loaded): the app claims its reply instead of asking.
pub const EARLY_OPEN_ID: RequestId = RequestId::MAX;

/// What the worker sends back.
#[cfg_attr(
    target_pointer_width = "64",
    expect(
        clippy::large_enum_variant,
        reason = "each message is built once and moved into its encoding"
    )
)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's wasm has started; messages sent before this are lost.
    Ready,
    /// Bytes and requests so far, sent while a request runs.
    Progress { id: RequestId, stats: IoStats },
    Reply {
        id: RequestId,
        result: Result<Answer, WorkerError>,
        stats: IoStats,
    },
    /// The worker's code panicked: it is unusable, every request it holds
    /// has failed, and the app replaces it.
    Crashed { message: String },
}

/// Requests made and bytes received by the worker for the open file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoStats {
    pub requests: u64,
    pub bytes: u64,
    /// The worker's memory (its wasm linear memory), in bytes: caches are
    /// bounded, so this stays bounded however long one pans. Summed over
    /// the pool in the app.
    #[serde(default)]
    pub memory_bytes: u64,
}

/// A failure, said so that a person can act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerError {
    pub kind: ErrorKind,
    /// One line naming the file or URL and the object.
    pub message: String,
}

impl WorkerError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for WorkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WorkerError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    NotFound,
    /// The request was blocked (CORS) or the network failed.
    Network,
    /// The server does not answer Range requests with 206.
    NoRangeSupport,
    NotHdf5,
    /// Anything else from the server (status codes other than 404).
    Http,
    /// The file is damaged or uses something unsupported.
    Format,
    BadRequest,
    /// The request asks for more than one answer may hold.
    TooLarge,
    NoFileOpen,
    /// The worker died (a bug): the request was not answered.
    Crashed,
    /// The two sides disagree about the messages (a bug).
    Protocol,
}

/// What the first screen shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Overview {
    pub location: String,
    pub size_bytes: u64,
    pub session: Vec<(String, String)>,
    pub objects: Vec<ObjectSummary>,
    /// For each neurodata type the objects have: the type followed by its
    /// ancestors, nearest first (views match through inheritance).
    pub type_chains: Vec<Vec<String>>,
}

impl Overview {
    /// The type of the object at `path` and its ancestors (empty when it
    /// has no type or is not listed).
    pub fn type_chain(&self, path: &str) -> Vec<String> {
        let Some(ty) = self
            .objects
            .iter()
            .find(|o| o.path == path)
            .and_then(|o| o.neurodata_type.as_deref())
        else {
            return Vec::new();
        };
        self.type_chains
            .iter()
            .find(|c| c.first().map(String::as_str) == Some(ty))
            .cloned()
            .unwrap_or_else(|| vec![ty.to_string()])
    }
}

/// One row of the object tree.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectSummary {
    pub path: String,
    /// `group`, `dataset`, `soft_link`, `external_link`.
    pub kind: String,
    pub neurodata_type: Option<String>,
    pub description: Option<String>,
    /// For datasets: `int16 [30000 × 64]`.
    pub data_summary: Option<String>,
    /// For links: where they point.
    pub target: Option<String>,
}

/// Everything about one object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub path: String,
    pub kind: String,
    /// Attribute name and its value as JSON text.
    pub attrs: Vec<(String, String)>,
    pub shape: Option<Vec<u64>>,
    pub dtype: Option<String>,
    pub chunks: Option<Vec<u64>>,
    pub filters: Vec<String>,
    /// For a virtual dataset, its mappings, one line each
    /// (`file:dataset[selection] -> [selection]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_sources: Vec<String>,
}

/// Values of a selection, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Values {
    pub path: String,
    pub selection: Selection,
    pub shape: Vec<u64>,
    /// The stored type (`int16`, `string`, ...).
    pub dtype: String,
    pub data: ValuesData,
}

/// Numbers travel as a typed buffer; everything else as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum ValuesData {
    Numbers {
        buffer: TypedBuffer,
    },
    /// Strings as they are; other values as JSON text.
    Text {
        values: Vec<String>,
    },
}

impl Values {
    pub fn len(&self) -> usize {
        match &self.data {
            ValuesData::Numbers { buffer } => buffer.len(),
            ValuesData::Text { values } => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` as text (numbers as JSON writes them; `NaN`, `Infinity`).
    pub fn text(&self, i: usize) -> Option<String> {
        match &self.data {
            ValuesData::Numbers { buffer } => buffer.text(i),
            ValuesData::Text { values } => values.get(i).cloned(),
        }
    }
}

/// A decimated window of a TimeSeries (see [`GetWindow`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub path: String,
    /// The samples covered: `sample_start..sample_end`.
    pub sample_start: u64,
    pub sample_end: u64,
    /// The channels covered: `channel_start..channel_start + channels`.
    pub channel_start: u64,
    pub channels: u64,
    /// Consecutive samples per bucket (1: every sample, `min == max`).
    pub samples_per_bucket: u64,
    /// Time (seconds) of each bucket's first sample: f64, one per bucket.
    pub times: TypedBuffer,
    /// Per bucket, then per channel (row-major `[bucket][channel]`): f32.
    pub min: TypedBuffer,
    pub max: TypedBuffer,
    pub unit: Option<String>,
    /// Some buckets are not computed yet (their min/max are NaN): the read
    /// budget of one request ran out. Asking again continues where this
    /// one stopped (computed parts are cached).
    pub pending: bool,
    /// The fraction of the window's data summarized so far (1 when not
    /// pending).
    pub progress: f64,
}

impl Window {
    pub fn buckets(&self) -> usize {
        self.times.len()
    }
}

/// One channel of a series, as the view labels and filters it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Channel {
    /// Column of `data` (0 for 1-D data).
    pub index: u64,
    /// What the view writes next to the trace: the electrode id, else the
    /// channel index.
    pub label: String,
}

/// See [`GetSeries`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SeriesInfo {
    pub path: String,
    pub neurodata_type: Option<String>,
    pub description: Option<String>,
    /// The shape of `data`.
    pub shape: Vec<u64>,
    pub num_samples: u64,
    /// Columns of a 2-D `data` (1 for 1-D).
    pub num_channels: u64,
    /// Time (s) of the first sample, and just after the last (the last
    /// sample's time, plus one sample period with a rate). Equal when the
    /// series is empty.
    pub start_secs: f64,
    pub end_secs: f64,
    /// Samples per second, when the series has a rate.
    pub rate: Option<f64>,
    pub unit: Option<String>,
    pub conversion: f64,
    pub offset: f64,
    /// One per channel (at most [`SeriesInfo::MAX_CHANNELS`] described).
    pub channels: Vec<Channel>,
    /// Columns of the electrodes table, each as text per channel (for
    /// filtering channels by location, group, any column).
    pub channel_columns: Vec<(String, Vec<String>)>,
    /// Whether `data` holds anything but timestamps (an events series
    /// has none or ones).
    pub has_data: bool,
    /// What is odd about the series, said once: unsorted or NaN
    /// timestamps, an electrodes region of another width than the data...
    pub warnings: Vec<String>,
}

impl SeriesInfo {
    /// Channels described at most (beyond it, views page by index).
    pub const MAX_CHANNELS: u64 = 10_000;
}

/// One column of a [`TablePage`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TableColumn {
    pub name: String,
    pub description: Option<String>,
    /// `plain`, `ragged` or `region`.
    pub kind: String,
    /// The stored type (`float64`, `string`, ...).
    pub dtype: String,
}

/// See [`GetTable`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TablePage {
    pub path: String,
    pub neurodata_type: Option<String>,
    pub description: Option<String>,
    pub num_rows: u64,
    pub columns: Vec<TableColumn>,
    /// The first row of the page.
    pub row_start: u64,
    /// Row ids of the page.
    pub ids: Vec<i64>,
    /// Row-major: `cells[row * columns.len() + column]`. A ragged cell
    /// shows its length (`GetCell` has its values); a region cell names
    /// the rows it refers to.
    pub cells: Vec<String>,
}

/// See [`GetCell`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CellValues {
    pub path: String,
    pub column: String,
    pub row: u64,
    /// Each value as text.
    pub values: Vec<String>,
}

/// See [`GetIntervals`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    pub path: String,
    /// f64 seconds, one per row.
    pub start: TypedBuffer,
    pub stop: TypedBuffer,
    /// The column naming the rows (none: one row for all).
    pub label_column: Option<String>,
    /// Columns that could name the rows.
    pub label_candidates: Vec<String>,
    /// The distinct labels, in order of first appearance.
    pub labels: Vec<String>,
    /// u32 per interval: its label's index in `labels`.
    pub label_of: TypedBuffer,
}

/// See [`GetEvents`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Events {
    pub path: String,
    /// f64 seconds of the events returned.
    pub times: TypedBuffer,
    /// f64 per event: its data value (IntervalSeries: +1 start, -1 stop;
    /// LabeledEvents: the label index), when the series has data.
    pub values: Option<TypedBuffer>,
    /// Names of the label values (LabeledEvents' `labels`), if any.
    pub label_names: Vec<String>,
    /// Events in the window; `times` has every `stride`-th of them.
    pub total: u64,
    pub stride: u64,
}

/// See [`GetSamples`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    pub path: String,
    /// f64 seconds, one per point.
    pub times: TypedBuffer,
    /// f64, row-major `[point][channel]`, conversion and offset applied.
    pub values: TypedBuffer,
    pub channels: u64,
    /// Every `stride`-th sample of the window.
    pub stride: u64,
    pub unit: Option<String>,
}

/// See [`GetUnits`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UnitsInfo {
    pub path: String,
    /// `spike_times` or `event_times`.
    pub spikes_column: String,
    pub ids: Vec<i64>,
    pub spike_counts: Vec<u64>,
    /// Plain 1-D columns, as text per unit.
    pub columns: Vec<UnitColumn>,
    /// First and last spike (seconds); equal when there are none.
    pub start_secs: f64,
    pub end_secs: f64,
    pub warnings: Vec<String>,
}

/// One column of a units table, for sorting, coloring and subsetting.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UnitColumn {
    pub name: String,
    /// Numbers sort as numbers.
    pub numeric: bool,
    /// Distinct values (for coloring), when there are at most 20.
    pub categories: Option<Vec<String>>,
    pub values: Vec<String>,
}

/// See [`GetRaster`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raster {
    pub path: String,
    pub units: Vec<u64>,
    /// Spikes of each unit in the window.
    pub counts: Vec<u64>,
    /// f64 spike times, unit after unit (`counts` each), when they fit.
    pub times: Option<TypedBuffer>,
    /// Else u32 counts per unit per bin, `[unit][bin]`.
    pub binned: Option<TypedBuffer>,
    pub bins: u32,
}

/// See [`GetPsth`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Psth {
    pub align_to: String,
    /// Group names in order (one empty name without `group_by`).
    pub groups: Vec<String>,
    /// Trials kept per group.
    pub trials_per_group: Vec<u64>,
    /// Bins of the histogram (`num_bins`, or 30 × that when smoothed).
    pub bins: u32,
    /// f64 rates (Hz) `[unit][group][bin]`.
    pub rates: TypedBuffer,
    /// f64 standard errors of the mean across trials, same layout (not
    /// for smoothed histograms).
    pub sem: Option<TypedBuffer>,
    /// The trial raster: rows are kept trials ordered by group; u32 group
    /// of each row.
    pub row_group: TypedBuffer,
    /// f32 spike times relative to alignment, `[unit][row]` concatenated;
    /// u32 end offsets, one per unit × row.
    pub raster_times: TypedBuffer,
    pub raster_ends: TypedBuffer,
    /// Columns one could align to (ending in `_time` / `_times`) and group
    /// by (2 to n/2 distinct values).
    pub align_candidates: Vec<String>,
    pub group_candidates: Vec<String>,
    pub warnings: Vec<String>,
}

use private::Buffers;

impl Answer {
    /// Takes the numeric payloads out (their type and bytes, in a fixed
    /// order), leaving their type and length in the answer: how a figure
    /// stores an answer beside its arrays.
    pub fn take_arrays(&mut self) -> Vec<(NumericType, Vec<u8>)> {
        self.buffers_mut()
            .into_iter()
            .map(|b| (b.dtype, b.take_bytes()))
            .collect()
    }

    /// Puts the arrays taken by [`Answer::take_arrays`] back; their number,
    /// types and lengths must fit.
    ///
    /// # Errors
    /// When they do not fit the answer.
    pub fn put_arrays(&mut self, arrays: Vec<(NumericType, Vec<u8>)>) -> Result<(), String> {
        let kind = self.kind();
        let slots = self.buffers_mut();
        if slots.len() != arrays.len() {
            return Err(format!(
                "a {kind} answer has {} arrays, {} given",
                slots.len(),
                arrays.len()
            ));
        }
        for (slot, (dtype, bytes)) in slots.into_iter().zip(arrays) {
            if slot.dtype != dtype {
                return Err(format!(
                    "a {kind} answer array is {:?}, {dtype:?} given",
                    slot.dtype
                ));
            }
            slot.put_bytes(bytes)?;
        }
        Ok(())
    }
}

impl Buffers for Answer {
    fn buffers_mut(&mut self) -> Vec<&mut TypedBuffer> {
        match self {
            Answer::Values(Values {
                data: ValuesData::Numbers { buffer },
                ..
            }) => vec![buffer],
            Answer::Window(w) => vec![&mut w.times, &mut w.min, &mut w.max],
            Answer::Intervals(i) => vec![&mut i.start, &mut i.stop, &mut i.label_of],
            Answer::Events(e) => {
                let mut out = vec![&mut e.times];
                out.extend(e.values.as_mut());
                out
            }
            Answer::Samples(s) => vec![&mut s.times, &mut s.values],
            Answer::Frame(f) => vec![&mut f.times, &mut f.pixels],
            Answer::Projection(p) => vec![&mut p.mean, &mut p.max],
            Answer::Rois(r) => vec![&mut r.weights],
            Answer::Raster(r) => {
                let mut out = Vec::new();
                out.extend(r.times.as_mut());
                out.extend(r.binned.as_mut());
                out
            }
            Answer::Psth(p) => {
                let mut out = vec![&mut p.rates];
                out.extend(p.sem.as_mut());
                out.extend([&mut p.row_group, &mut p.raster_times, &mut p.raster_ends]);
                out
            }
            _ => Vec::new(),
        }
    }
}

impl Buffers for FromWorker {
    fn buffers_mut(&mut self) -> Vec<&mut TypedBuffer> {
        match self {
            FromWorker::Reply {
                result: Ok(answer), ..
            } => answer.buffers_mut(),
            _ => Vec::new(),
        }
    }
}

impl Buffers for ToWorker {
    fn buffers_mut(&mut self) -> Vec<&mut TypedBuffer> {
        Vec::new()
    }
}

/// A message ready for `postMessage`: its text, and its numeric buffers to
/// transfer beside it (in order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encoded {
    pub text: String,
    pub buffers: Vec<Vec<u8>>,
}

/// Messages that can travel: [`ToWorker`] and [`FromWorker`].
pub trait Message: Serialize + for<'de> Deserialize<'de> + private::Buffers {}
impl Message for ToWorker {}
impl Message for FromWorker {}

mod private {
    /// Byte buffers a message carries beside its JSON text (sealed: only
    /// this crate's messages have them).
    pub trait Buffers {
        fn buffers_mut(&mut self) -> Vec<&mut super::TypedBuffer>;
    }
}

/// Encodes a message for `postMessage`, taking its numeric payloads out.
pub fn encode<T: Message>(mut message: T) -> Encoded {
    let buffers = message
        .buffers_mut()
        .into_iter()
        .map(TypedBuffer::take_bytes)
        .collect();
    // The tagged types inside are written through a `Value` (see
    // `tagged`), as the figures' canonical JSON is: one serializer each.
    let text = serde_json::to_string(&message).unwrap_or_else(|e| {
        // Our own types always serialize; keep the failure visible anyway.
        format!(r#"{{"encode_error":{{"message":{:?}}}}}"#, e.to_string())
    });
    Encoded { text, buffers }
}

/// Decodes a message received from `postMessage`, putting its numeric
/// payloads back; a buffer missing, left over or of the wrong length is an
/// error.
///
/// # Errors
/// When the text is not a message or the buffers do not fit it.
pub fn decode<T: Message>(text: &str, buffers: Vec<Vec<u8>>) -> Result<T, String> {
    let mut message: T = serde_json::from_str(text)
        .map_err(|e| format!("bad message ({e}): {}", truncate(text, 200)))?;
    let slots = message.buffers_mut();
    if slots.len() != buffers.len() {
        return Err(format!(
            "bad message: {} numeric buffers expected, {} arrived",
            slots.len(),
            buffers.len()
        ));
    }
    for (slot, bytes) in slots.into_iter().zip(buffers) {
        slot.put_bytes(bytes)?;
    }
    Ok(message)
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON of the tagged enums inside the messages: as serde's
    /// internally tagged code wrote it (tag first, then the fields in
    /// order), which stored figures hold; read back equal. The messages
    /// themselves have serde's default tags.
    #[test]
    #[expect(clippy::unwrap_used, reason = "tests")]
    fn tagged_json_forms() {
        let forms = [
            r#""ready""#,
            r#"{"cancel":{"id":3}}"#,
            r#"{"crashed":{"message":"boom"}}"#,
            r#"{"request":{"id":7,"query":{"query":"open","source":{"kind":"url","url":"https://x/a.nwb","size_bytes":null,"api_key":null}}}}"#,
            r#"{"request":{"id":8,"query":{"query":"open","source":{"kind":"local","name":"a.nwb","size_bytes":12}}}}"#,
            r#"{"request":{"id":9,"query":{"query":"object","path":"/acquisition"}}}"#,
        ];
        for text in forms {
            if let Ok(to) = serde_json::from_str::<ToWorker>(text) {
                assert_eq!(serde_json::to_string(&to).unwrap(), text);
            } else {
                let from: FromWorker = serde_json::from_str(text).unwrap();
                assert_eq!(serde_json::to_string(&from).unwrap(), text);
            }
        }
        let values = ValuesData::Text {
            values: vec!["a".into()],
        };
        let text = serde_json::to_string(&values).unwrap();
        assert_eq!(text, r#"{"kind":"text","values":["a"]}"#);
        assert_eq!(serde_json::from_str::<ValuesData>(&text).unwrap(), values);
        // What is wrong is said.
        let e = serde_json::from_str::<Query>(r#"{"query":"nope","id":1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `nope`"), "{e}");
        let e = serde_json::from_str::<Query>(r#"{"path":"/a"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `query`"), "{e}");
        let e = serde_json::from_str::<FileSource>(r#"{"kind":"url"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `url`"), "{e}");
    }

    fn window() -> Window {
        Window {
            path: "/acquisition/ts".into(),
            sample_start: 10,
            sample_end: 30,
            channel_start: 0,
            channels: 2,
            samples_per_bucket: 10,
            times: TypedBuffer::from_f64(&[1.0, 2.0]),
            min: TypedBuffer::from_f32(&[0.0, -1.0, 0.5, -2.0]),
            max: TypedBuffer::from_f32(&[1.0, 3.0, f32::NAN, 2.0]),
            unit: Some("volts".into()),
            pending: false,
            progress: 1.0,
        }
    }

    #[test]
    fn requests_round_trip() {
        let msgs = vec![
            ToWorker::Request {
                id: 1,
                query: OpenFile {
                    source: FileSource::Url {
                        url: "http://x/f.nwb".into(),
                        size_bytes: Some(10),
                        api_key: None,
                    },
                }
                .into(),
            },
            ToWorker::Request {
                id: 2,
                query: GetValues {
                    path: "/a".into(),
                    selection: "0:10,3".parse().expect("parses"),
                }
                .into(),
            },
            ToWorker::Request {
                id: 3,
                query: GetWindow {
                    path: "/a".into(),
                    start_secs: 0.5,
                    end_secs: 1.5,
                    channels: Some((0, 4)),
                    max_buckets: 800,
                }
                .into(),
            },
            ToWorker::Cancel { id: 2 },
        ];
        for m in msgs {
            let Encoded { text, buffers } = encode(m.clone());
            assert!(buffers.is_empty());
            let back: ToWorker = decode(&text, buffers).expect("decodes");
            assert_eq!(back, m);
        }
        assert!(decode::<ToWorker>("{\"type\":\"nope\"}", Vec::new()).is_err());
    }

    #[test]
    fn numbers_travel_as_buffers_not_text() {
        let values = Values {
            path: "/a".into(),
            selection: Selection::all(),
            shape: vec![3],
            dtype: "int16".into(),
            data: ValuesData::Numbers {
                buffer: TypedBuffer::from_i16(&[-1, 0, 32767]),
            },
        };
        let reply = FromWorker::Reply {
            id: 3,
            result: Ok(Answer::Values(values.clone())),
            stats: IoStats::default(),
        };
        let Encoded { text, buffers } = encode(reply.clone());
        assert!(
            !text.contains("32767"),
            "numbers must not be in the text: {text}"
        );
        assert_eq!(buffers, vec![vec![0xff, 0xff, 0, 0, 0xff, 0x7f]]);
        let back: FromWorker = decode(&text, buffers.clone()).expect("decodes");
        assert_eq!(back, reply);
        // A missing, extra or short buffer is an error, never other numbers.
        assert!(decode::<FromWorker>(&text, Vec::new()).is_err());
        assert!(decode::<FromWorker>(&text, vec![buffers[0].clone(), vec![]]).is_err());
        assert!(decode::<FromWorker>(&text, vec![buffers[0][..5].to_vec()]).is_err());
        assert_eq!(values.text(2).as_deref(), Some("32767"));
    }

    #[test]
    fn windows_round_trip_with_three_buffers() {
        let reply = FromWorker::Reply {
            id: 9,
            result: Ok(Answer::Window(window())),
            stats: IoStats::default(),
        };
        let Encoded { text, buffers } = encode(reply);
        assert_eq!(buffers.len(), 3);
        let back: FromWorker = decode(&text, buffers).expect("decodes");
        let FromWorker::Reply {
            result: Ok(Answer::Window(w)),
            ..
        } = back
        else {
            panic!("not a window: {back:?}");
        };
        assert_eq!(w.min.to_f64(), vec![0.0, -1.0, 0.5, -2.0]);
        assert!(w.max.to_f64()[2].is_nan());
        assert_eq!(w.buckets(), 2);
    }

    #[test]
    fn each_request_names_its_reply() {
        fn reply_of<R: Request>(answer: Answer) -> Result<R::Reply, &'static str> {
            R::Reply::from_answer(answer)
        }
        let answer = Answer::Window(window());
        assert!(reply_of::<GetWindow>(answer.clone()).is_ok());
        let wrong = reply_of::<GetValues>(answer).expect_err("a window is not values");
        assert_eq!(wrong, "Window");
    }

    #[test]
    fn errors_round_trip() {
        let reply = FromWorker::Reply {
            id: 3,
            result: Err(WorkerError::new(ErrorKind::NoRangeSupport, "x")),
            stats: IoStats::default(),
        };
        let Encoded { text, buffers } = encode(reply.clone());
        assert_eq!(decode::<FromWorker>(&text, buffers), Ok(reply));
        let crashed = FromWorker::Crashed {
            message: "panicked at src/x.rs:1".into(),
        };
        let Encoded { text, buffers } = encode(crashed.clone());
        assert_eq!(decode::<FromWorker>(&text, buffers), Ok(crashed));
    }
}
