//! The figure types.

use std::collections::BTreeMap;

use ns_protocol::{Answer, ObjectSummary, Query};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::canonical::canonical_json;
use crate::{Error, NdArray, Result};

/// Every figure, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub enum Figure {
    /// A view of NWB objects with the data that drew it.
    #[serde(rename = "neurosift.frozen")]
    Frozen(FrozenView),
    /// A view of NWB objects without data: opened, it reads the source.
    #[serde(rename = "neurosift.live")]
    Live(LiveView),
    /// figurl / sortingview's timeseries graph.
    TimeseriesGraph(TimeseriesGraph),
    /// Figures in rows, columns or tabs, sharing one time axis.
    #[serde(rename = "neurosift.layout")]
    Layout(Layout),
}

ns_protocol::internally_tagged!(Figure, "type");

impl Figure {
    /// Reads a figure from JSON.
    ///
    /// # Errors
    /// [`Error::NotAFigure`] naming what is wrong, [`Error::Invalid`] when
    /// its parts do not hold together.
    pub fn from_json(bytes: &[u8]) -> Result<Figure> {
        // Parsed from `&str`, as every JSON the browser's wasm reads: one
        // copy of each type's deserializer in it.
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::NotAFigure(format!("not UTF-8 text: {e}")))?;
        let figure: Figure =
            serde_json::from_str(text).map_err(|e| Error::NotAFigure(e.to_string()))?;
        figure.validate()?;
        Ok(figure)
    }

    /// The canonical JSON (what is stored and hashed).
    ///
    /// # Errors
    /// When it is invalid or holds a number JSON cannot.
    pub fn to_canonical_json(&self) -> Result<Vec<u8>> {
        self.validate()?;
        canonical_json(self)
    }

    /// The built-in view that renders it: the `v=` of its figure URL.
    pub fn view_name(&self) -> String {
        match self {
            Figure::Frozen(f) => f.view_name(),
            Figure::Live(l) => l.state.view_name(),
            Figure::TimeseriesGraph(_) => "TimeseriesGraph".into(),
            Figure::Layout(_) => "Layout".into(),
        }
    }

    /// Its provenance, when it has one (a layout's is its first part's).
    pub fn provenance(&self) -> Option<&Provenance> {
        match self {
            Figure::Frozen(f) => Some(&f.provenance),
            Figure::Live(l) => Some(&l.provenance),
            Figure::TimeseriesGraph(g) => g.provenance.as_ref(),
            Figure::Layout(l) => l
                .provenance
                .as_ref()
                .or_else(|| l.items.iter().find_map(|i| i.figure.provenance())),
        }
    }

    /// Checks that the parts hold together.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the part.
    pub fn validate(&self) -> Result<()> {
        match self {
            Figure::Frozen(f) => f.validate(),
            Figure::Live(l) => l.state.validate(),
            Figure::TimeseriesGraph(g) => g.validate(),
            Figure::Layout(l) => {
                if l.items.is_empty() {
                    return Err(Error::Invalid("a layout with no figures".into()));
                }
                l.items.iter().try_for_each(|i| i.figure.validate())
            }
        }
    }
}

/// Where a figure's data came from, so it can be reproduced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The file's URL (a local file's name when it has none).
    pub source_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dandiset_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dandiset_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The objects shown.
    #[serde(default)]
    pub object_paths: Vec<String>,
    /// "neurosift <version>" (the app or the CLI that made it).
    pub made_by: String,
    /// When it was made (RFC 3339, UTC).
    pub created: String,
}

/// What is shown and how: the tab (as in `tab=` links), the view's URL
/// parameters (`tab-time`, `units`, `channels`…), the hash state (PSTH),
/// and the width it was drawn at.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ViewState {
    pub tab: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_px: Option<u32>,
}

impl ViewState {
    /// The view the tab names (its first item's), else the object's
    /// default ("auto").
    pub fn view_name(&self) -> String {
        match ns_links::parse_tab(&self.tab) {
            Some(tab) => {
                let items = tab.items();
                if items.len() > 1 {
                    return "Tab".into();
                }
                items
                    .into_iter()
                    .next()
                    .and_then(|i| i.view)
                    .unwrap_or_else(|| "auto".into())
            }
            None => "auto".into(),
        }
    }

    fn validate(&self) -> Result<()> {
        if ns_links::parse_tab(&self.tab).is_none() {
            return Err(Error::Invalid(format!("tab {:?} is not a tab", self.tab)));
        }
        Ok(())
    }
}

/// A view of NWB objects frozen with the answers that drew it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenView {
    #[serde(default)]
    pub title: String,
    pub provenance: Provenance,
    pub state: ViewState,
    /// The objects shown (and their neurodata types' ancestor chains), as
    /// the overview listed them.
    pub objects: Vec<ObjectSummary>,
    #[serde(default)]
    pub type_chains: Vec<Vec<String>>,
    /// The requests the view made and the service's answers.
    pub answers: Vec<Recorded>,
}

impl FrozenView {
    pub fn view_name(&self) -> String {
        self.state.view_name()
    }

    fn validate(&self) -> Result<()> {
        self.state.validate()?;
        for r in &self.answers {
            if r.query.kind() != r.answer.kind() {
                return Err(Error::Invalid(format!(
                    "a {} request is answered by a {} answer",
                    r.query.kind(),
                    r.answer.kind()
                )));
            }
        }
        Ok(())
    }
}

/// A request and its answer. In JSON the answer's numeric arrays are
/// figurl ndarrays beside it (`arrays`, in the answer's order).
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub query: Query,
    pub answer: Answer,
}

#[derive(Serialize, Deserialize)]
struct RecordedJson {
    query: Query,
    answer: Answer,
    arrays: Vec<NdArray>,
}

impl Serialize for Recorded {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut answer = self.answer.clone();
        let arrays = answer
            .take_arrays()
            .into_iter()
            .map(|(dtype, bytes)| NdArray::vector(dtype, bytes))
            .collect::<Result<Vec<_>>>()
            .map_err(serde::ser::Error::custom)?;
        RecordedJson {
            query: self.query.clone(),
            answer,
            arrays,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Recorded {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let RecordedJson {
            query,
            mut answer,
            arrays,
        } = RecordedJson::deserialize(d)?;
        answer
            .put_arrays(arrays.into_iter().map(|a| (a.dtype, a.bytes)).collect())
            .map_err(D::Error::custom)?;
        Ok(Recorded { query, answer })
    }
}

/// A view of NWB objects, read live from the source when opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveView {
    #[serde(default)]
    pub title: String,
    pub provenance: Provenance,
    pub state: ViewState,
}

/// Figures arranged together; time-based parts share one time axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// `rows`, `columns` or `tabs`.
    pub direction: String,
    pub items: Vec<LayoutItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayoutItem {
    #[serde(default)]
    pub label: String,
    pub figure: Box<Figure>,
}

/// sortingview's TimeseriesGraph: datasets of columns, and series drawing
/// them as lines, markers or intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeseriesGraph {
    pub datasets: Vec<TimeseriesDataset>,
    pub series: Vec<Series>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_offset: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_range: Option<YRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_toolbar: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

impl TimeseriesGraph {
    fn validate(&self) -> Result<()> {
        for s in &self.series {
            let ds = self
                .datasets
                .iter()
                .find(|d| d.name == s.dataset)
                .ok_or_else(|| {
                    Error::Invalid(format!("series {:?}: no dataset {:?}", s.title, s.dataset))
                })?;
            let t = ds.data.get(&s.encoding.t);
            let y = ds.data.get(&s.encoding.y);
            let (Some(t), Some(y)) = (t, y) else {
                return Err(Error::Invalid(format!(
                    "series {:?}: dataset {:?} has no column {:?} or {:?}",
                    s.title, s.dataset, s.encoding.t, s.encoding.y
                )));
            };
            if t.len() != y.len() {
                return Err(Error::Invalid(format!(
                    "series {:?}: {} times and {} values",
                    s.title,
                    t.len(),
                    y.len()
                )));
            }
            if !["line", "marker", "interval"].contains(&s.kind.as_str()) {
                return Err(Error::Invalid(format!(
                    "series {:?}: type {:?} (line, marker or interval)",
                    s.title, s.kind
                )));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeseriesDataset {
    pub name: String,
    pub data: BTreeMap<String, Column>,
}

/// A column: an encoded array, or a plain JSON list of numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Column {
    Array(NdArray),
    List(Vec<f64>),
}

/// A JSON list is a `List`, anything else must be an encoded array (read
/// through a JSON value, not serde's untagged `Content`: see
/// `ns_protocol::tagged`).
impl<'de> Deserialize<'de> for Column {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        if value.is_array() {
            Vec::<f64>::deserialize(value).map(Column::List)
        } else {
            NdArray::deserialize(value).map(Column::Array)
        }
        .map_err(D::Error::custom)
    }
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Array(a) => a.len(),
            Column::List(l) => l.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            Column::Array(a) => a.to_f64(),
            Column::List(l) => l.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// `line`, `marker` or `interval`.
    #[serde(rename = "type")]
    pub kind: String,
    pub dataset: String,
    pub encoding: SeriesEncoding,
    #[serde(default)]
    pub attributes: SeriesAttributes,
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesEncoding {
    pub t: String,
    pub y: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SeriesAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dash: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YRange {
    pub ymin: f64,
    pub ymax: f64,
}

#[cfg(test)]
mod tests {
    use ns_protocol::{GetRaster, Raster, TypedBuffer};

    use super::*;

    fn frozen() -> Figure {
        Figure::Frozen(FrozenView {
            title: "units".into(),
            provenance: Provenance {
                source_url: "https://x.org/f.nwb".into(),
                made_by: "neurosift 0.1.0".into(),
                created: "2026-12-01T00:00:00Z".into(),
                object_paths: vec!["/units".into()],
                ..Provenance::default()
            },
            state: ViewState {
                tab: "view:Raster|/units".into(),
                params: [("tab-time".to_string(), "0,10".to_string())].into(),
                hash: None,
                width_px: Some(800),
            },
            objects: vec![],
            type_chains: vec![],
            answers: vec![Recorded {
                query: Query::Raster(GetRaster {
                    path: "/units".into(),
                    units: vec![0, 1],
                    start_secs: 0.0,
                    end_secs: 10.0,
                    max_spikes: 10,
                    bins: 100,
                }),
                answer: Answer::Raster(Raster {
                    path: "/units".into(),
                    units: vec![0, 1],
                    counts: vec![2, 1],
                    times: Some(TypedBuffer::from_f64(&[0.5, 1.5, 2.5])),
                    binned: None,
                    bins: 100,
                }),
            }],
        })
    }

    #[test]
    fn frozen_views_round_trip_with_their_arrays() {
        let f = frozen();
        let bytes = f.to_canonical_json().expect("canonical");
        let text = String::from_utf8(bytes.clone()).expect("utf8");
        assert!(text.contains(r#""_type":"ndarray""#), "{text}");
        assert!(text.starts_with(r#"{"answers":"#), "{text}");
        let back = Figure::from_json(&bytes).expect("read back");
        assert_eq!(back, f);
        assert_eq!(back.view_name(), "Raster");
        assert_eq!(
            back.provenance().map(|p| p.source_url.as_str()),
            Some("https://x.org/f.nwb")
        );
    }

    #[test]
    fn inconsistent_figures_are_refused() {
        let Figure::Frozen(mut f) = frozen() else {
            unreachable!("a frozen view")
        };
        let mut json = serde_json::to_value(&f).expect("json");
        // An answer whose arrays were cut off.
        json["answers"][0]["arrays"] = serde_json::json!([]);
        let e = Figure::from_json(
            serde_json::to_string(&serde_json::json!({"type": "neurosift.frozen"}))
                .expect("json")
                .as_bytes(),
        )
        .expect_err("missing fields");
        assert!(e.to_string().starts_with("not a figure"), "{e}");
        let mut tagged = json;
        tagged["type"] = "neurosift.frozen".into();
        let e = Figure::from_json(tagged.to_string().as_bytes()).expect_err("no arrays");
        assert!(e.to_string().contains("arrays"), "{e}");
        f.state.tab = String::new();
        assert!(Figure::Frozen(f).to_canonical_json().is_err());
        let graph = r#"{"type":"TimeseriesGraph","datasets":[{"name":"d","data":{"t":[0,1,2],"y":[1,2]}}],"series":[{"type":"line","dataset":"d","encoding":{"t":"t","y":"y"}}]}"#;
        let e = Figure::from_json(graph.as_bytes()).expect_err("ragged columns");
        assert!(e.to_string().contains("3 times and 2 values"), "{e}");
    }
}
