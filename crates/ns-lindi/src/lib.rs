//! LINDI reference files read into the object model of [`ns_model`].
//!
//! [LINDI](https://github.com/NeurodataWithoutBorders/lindi) describes an
//! HDF5 file (usually NWB) as a Zarr v2 store written out as a JSON of
//! references (the kerchunk format): `refs` maps each store key
//! (`path/.zgroup`, `path/.zattrs`, `path/.zarray`, `path/<i.j>`) to an
//! inline value, `base64:<data>`, or `[url, offset, length]` of the bytes
//! in another file (usually the original HDF5 file); `templates` shorten
//! repeated URLs. A `.lindi.tar` holds the JSON (`lindi.json`) and data
//! members in one tar; its `./<member>` references point inside it.
//!
//! [`LindiFile`] builds the whole tree from the document when it is opened
//! (no other request) and gives the same [`Node`](ns_model::Node)s,
//! [`Value`](ns_model::Value)s and [`Array`](ns_model::Array)s as
//! [`ns_hdf5::H5File`]; it implements [`ns_model::ObjectStore`], so
//! `ns_nwb::NwbFile::from_store` reads NWB through it. A read fetches only
//! the chunks its selection touches, one request per chunk (batched per
//! file), through byte sources the caller's [`Opener`] makes.
//!
//! LINDI's conventions, as the `lindi` Python package (0.4) writes them:
//! - attributes `_SOFT_LINK: {"path"}` (a soft link, stored as a group),
//!   `_SCALAR: true` (a scalar stored as a 1-element array),
//!   `_COMPOUND_DTYPE: [[name, type], ...]` (compound elements stored as
//!   JSON lists), `_EXTERNAL_ARRAY_LINK: {"link_type": "hdf5_dataset",
//!   "url", "name"}` (a dataset with too many chunks to list, read from the
//!   HDF5 file); these are not shown as attributes;
//! - references `{"_REFERENCE": {"path", "object_id", ...}}` in attributes
//!   and object arrays; non-finite float attributes as `"NaN"`,
//!   `"Infinity"`, `"-Infinity"`;
//! - arrays with fewer than 1000 numbers, scalars and all strings,
//!   references and compounds are stored inline, encoded by zarr (Blosc
//!   LZ4 with shuffle; strings as numpy `<U` or through the `json2` object
//!   codec); other datasets keep the HDF5 chunks and filters, as the codecs
//!   `zlib`, `shuffle`, `fletcher32`.
//!
//! ```no_run
//! # fn demo(json: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! use ns_model::Selection;
//! // Natively: `ns_io_native::open`; in the browser: the worker's XHR source.
//! let opener = |url: &str| ns_io_native::open(url, &ns_io_native::OpenOptions::default());
//! let file = ns_lindi::LindiFile::open(json, "x.nwb.lindi.json", opener, Default::default())?;
//! for node in file.walk()? {
//!     println!("{} {}", node.path, node.kind.name());
//! }
//! let rows = file.read("/units/spike_times", &Selection::rows(0, 10))?;
//! # Ok(())
//! # }
//! ```

mod error;
mod file;
mod read;
mod refs;
mod slice;
mod tar;
mod value;

pub use error::{Error, Result};
pub use file::{Format, LindiFile, OpenOptions, Opener, detect};
