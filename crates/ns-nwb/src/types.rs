//! Neurodata types and their inheritance.
//!
//! NWB files embed the specifications they were written with under
//! `/specifications/<namespace>/<version>/<source>`, each a JSON document of
//! `groups` and `datasets` that define types (`neurodata_type_def`, or
//! `data_type_def` in hdmf-common) and name their parents
//! (`neurodata_type_inc` / `data_type_inc`). [`TypeTree`] collects those
//! child → parent links; [`TypeTree::builtin`] holds the core NWB and
//! hdmf-common hierarchy for files without (or with unreadable) specs.
//!
//! Types are keyed by name only: an extension that redefines a core name
//! replaces its parent.

use std::collections::HashMap;

use serde_json::Value as Json;

/// One type known to a [`TypeTree`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct TypeEntry {
    parent: Option<String>,
    /// The spec namespace that defined the type; `None` for built-in entries.
    namespace: Option<String>,
}

/// Child → parent links between neurodata types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeTree {
    types: HashMap<String, TypeEntry>,
}

/// The built-in hierarchy (child, parent) of each namespace it covers, as
/// NWB core 2.11, hdmf-common 1.10 and hdmf-experimental 0.6 define it
/// (checked against the specs pynwb embeds by the ns-nwb tests; earlier
/// versions lack some types, e.g. `BaseImage` between `Image` and
/// `NWBData` before core 2.7). Root types (`Data`, `Container`, hdmf-common's)
/// have no entry as children; they are added without a parent.
const BUILTIN: &[(&str, &[(&str, &str)])] = &[
    ("hdmf-common", HDMF_COMMON),
    ("hdmf-experimental", HDMF_EXPERIMENTAL),
    ("core", CORE),
];

/// The root types, defined by hdmf-common.
const ROOTS: [&str; 2] = ["Data", "Container"];

const HDMF_COMMON: &[(&str, &str)] = &[
    ("SimpleMultiContainer", "Container"),
    ("VectorData", "Data"),
    ("VectorIndex", "VectorData"),
    ("ElementIdentifiers", "Data"),
    ("DynamicTableRegion", "VectorData"),
    ("DynamicTable", "Container"),
    ("AlignedDynamicTable", "DynamicTable"),
    ("CSRMatrix", "Container"),
    ("MeaningsTable", "DynamicTable"),
    ("HERD", "Container"),
];

const HDMF_EXPERIMENTAL: &[(&str, &str)] = &[("EnumData", "VectorData")];

const CORE: &[(&str, &str)] = &[
    // nwb.base
    ("NWBData", "Data"),
    ("TimeSeriesReferenceVectorData", "VectorData"),
    ("BaseImage", "NWBData"),
    ("Image", "BaseImage"),
    ("ExternalImage", "BaseImage"),
    ("TimestampVectorData", "VectorData"),
    ("DurationVectorData", "VectorData"),
    ("ImageReferences", "NWBData"),
    ("NWBContainer", "Container"),
    ("NWBDataInterface", "NWBContainer"),
    ("TimeSeries", "NWBDataInterface"),
    ("ProcessingModule", "NWBContainer"),
    ("Images", "NWBDataInterface"),
    // nwb.device
    ("Device", "NWBContainer"),
    ("DeviceModel", "NWBContainer"),
    // nwb.epoch
    ("TimeIntervals", "DynamicTable"),
    // nwb.event
    ("EventsTable", "DynamicTable"),
    // nwb.file
    ("NWBFile", "NWBContainer"),
    ("LabMetaData", "NWBContainer"),
    ("Subject", "NWBContainer"),
    ("ScratchData", "NWBData"),
    // nwb.misc
    ("AbstractFeatureSeries", "TimeSeries"),
    ("AnnotationSeries", "TimeSeries"),
    ("IntervalSeries", "TimeSeries"),
    ("DecompositionSeries", "TimeSeries"),
    ("Units", "DynamicTable"),
    // nwb.behavior
    ("SpatialSeries", "TimeSeries"),
    ("BehavioralEpochs", "NWBDataInterface"),
    ("BehavioralEvents", "NWBDataInterface"),
    ("BehavioralTimeSeries", "NWBDataInterface"),
    ("PupilTracking", "NWBDataInterface"),
    ("EyeTracking", "NWBDataInterface"),
    ("CompassDirection", "NWBDataInterface"),
    ("Position", "NWBDataInterface"),
    // nwb.ecephys
    ("ElectricalSeries", "TimeSeries"),
    ("SpikeEventSeries", "ElectricalSeries"),
    ("FeatureExtraction", "NWBDataInterface"),
    ("EventDetection", "NWBDataInterface"),
    ("EventWaveform", "NWBDataInterface"),
    ("FilteredEphys", "NWBDataInterface"),
    ("LFP", "NWBDataInterface"),
    ("ElectrodeGroup", "NWBContainer"),
    ("ElectrodesTable", "DynamicTable"),
    ("FrequencyBandsTable", "DynamicTable"),
    ("ClusterWaveforms", "NWBDataInterface"),
    ("Clustering", "NWBDataInterface"),
    // nwb.icephys
    ("PatchClampSeries", "TimeSeries"),
    ("CurrentClampSeries", "PatchClampSeries"),
    ("IZeroClampSeries", "CurrentClampSeries"),
    ("CurrentClampStimulusSeries", "PatchClampSeries"),
    ("VoltageClampSeries", "PatchClampSeries"),
    ("VoltageClampStimulusSeries", "PatchClampSeries"),
    ("IntracellularElectrode", "NWBContainer"),
    ("SweepTable", "DynamicTable"),
    ("IntracellularElectrodesTable", "DynamicTable"),
    ("IntracellularStimuliTable", "DynamicTable"),
    ("IntracellularResponsesTable", "DynamicTable"),
    ("IntracellularRecordingsTable", "AlignedDynamicTable"),
    ("SimultaneousRecordingsTable", "DynamicTable"),
    ("SequentialRecordingsTable", "DynamicTable"),
    ("RepetitionsTable", "DynamicTable"),
    ("ExperimentalConditionsTable", "DynamicTable"),
    // nwb.image
    ("GrayscaleImage", "Image"),
    ("RGBImage", "Image"),
    ("RGBAImage", "Image"),
    ("ImageSeries", "TimeSeries"),
    ("ImageMaskSeries", "ImageSeries"),
    ("OpticalSeries", "ImageSeries"),
    ("IndexSeries", "TimeSeries"),
    // nwb.ogen
    ("OptogeneticSeries", "TimeSeries"),
    ("OptogeneticStimulusSite", "NWBContainer"),
    // nwb.ophys
    ("OnePhotonSeries", "ImageSeries"),
    ("TwoPhotonSeries", "ImageSeries"),
    ("RoiResponseSeries", "TimeSeries"),
    ("DfOverF", "NWBDataInterface"),
    ("Fluorescence", "NWBDataInterface"),
    ("ImageSegmentation", "NWBDataInterface"),
    ("PlaneSegmentation", "DynamicTable"),
    ("ImagingPlane", "NWBContainer"),
    ("OpticalChannel", "NWBContainer"),
    ("MotionCorrection", "NWBDataInterface"),
    ("CorrectedImageStack", "NWBDataInterface"),
    // nwb.retinotopy
    ("ImagingRetinotopy", "NWBDataInterface"),
];

/// Inheritance chains longer than this are treated as cycles.
const MAX_DEPTH: usize = 64;

impl TypeTree {
    /// The built-in core NWB / hdmf-common hierarchy.
    pub fn builtin() -> Self {
        let mut tree = Self::default();
        for root in ROOTS {
            tree.types.insert(
                root.to_string(),
                TypeEntry {
                    parent: None,
                    namespace: None,
                },
            );
        }
        for (_, table) in BUILTIN {
            for (child, parent) in *table {
                tree.types.insert(
                    (*child).to_string(),
                    TypeEntry {
                        parent: Some((*parent).to_string()),
                        namespace: None,
                    },
                );
            }
        }
        tree
    }

    /// Whether the built-in table covers `namespace` (`core`,
    /// `hdmf-common`, `hdmf-experimental`).
    pub fn is_builtin_namespace(namespace: &str) -> bool {
        BUILTIN.iter().any(|(ns, _)| *ns == namespace)
    }

    /// Whether the built-in table defines `ty`.
    pub fn is_builtin_type(ty: &str) -> bool {
        ROOTS.contains(&ty)
            || BUILTIN
                .iter()
                .any(|(_, table)| table.iter().any(|(child, _)| *child == ty))
    }

    /// Takes the built-in entries of `namespace` as that namespace's
    /// definitions (a file embeds its spec, and the built-in table is what
    /// that spec says): they replace any other definition of the same
    /// names, as applying the spec document would. The root types go with
    /// `hdmf-common`.
    pub fn claim_builtin(&mut self, namespace: &str) {
        let Some((ns, table)) = BUILTIN.iter().find(|(ns, _)| *ns == namespace) else {
            return;
        };
        if *ns == "hdmf-common" {
            for root in ROOTS {
                self.types.insert(
                    root.to_string(),
                    TypeEntry {
                        parent: None,
                        namespace: Some((*ns).to_string()),
                    },
                );
            }
        }
        for (child, parent) in *table {
            self.types.insert(
                (*child).to_string(),
                TypeEntry {
                    parent: Some((*parent).to_string()),
                    namespace: Some((*ns).to_string()),
                },
            );
        }
    }

    /// Adds the types defined by one specification source document (the
    /// JSON text of `/specifications/<namespace>/<version>/<source>`),
    /// replacing earlier entries of the same name. Returns how many types
    /// it defined, or the JSON error.
    pub fn add_spec(&mut self, namespace: &str, json: &str) -> Result<usize, serde_json::Error> {
        let doc: Json = serde_json::from_str(json)?;
        let mut count = 0;
        self.add_spec_items(namespace, &doc, &mut count);
        Ok(count)
    }

    /// Walks `groups` and `datasets` of `spec` recursively (types may be
    /// defined inside other types).
    fn add_spec_items(&mut self, namespace: &str, spec: &Json, count: &mut usize) {
        for key in ["groups", "datasets"] {
            let Some(items) = spec.get(key).and_then(Json::as_array) else {
                continue;
            };
            for item in items {
                let field = |names: [&str; 2]| {
                    names
                        .iter()
                        .find_map(|n| item.get(*n).and_then(Json::as_str))
                        .map(str::to_string)
                };
                if let Some(def) = field(["neurodata_type_def", "data_type_def"]) {
                    let parent = field(["neurodata_type_inc", "data_type_inc"]);
                    self.types.insert(
                        def,
                        TypeEntry {
                            parent,
                            namespace: Some(namespace.to_string()),
                        },
                    );
                    *count += 1;
                }
                self.add_spec_items(namespace, item, count);
            }
        }
    }

    /// Records `child` as a subtype of `parent` (or as a root type).
    pub fn insert(&mut self, child: &str, parent: Option<&str>) {
        self.types.insert(
            child.to_string(),
            TypeEntry {
                parent: parent.map(str::to_string),
                namespace: None,
            },
        );
    }

    /// Whether the tree knows `ty` (as a defined type).
    pub fn contains(&self, ty: &str) -> bool {
        self.types.contains_key(ty)
    }

    /// The direct parent of `ty`.
    pub fn parent(&self, ty: &str) -> Option<&str> {
        self.types.get(ty).and_then(|e| e.parent.as_deref())
    }

    /// The spec namespace that defined `ty`, or `None` when it is unknown or
    /// comes from the built-in table.
    pub fn namespace_of(&self, ty: &str) -> Option<&str> {
        self.types.get(ty).and_then(|e| e.namespace.as_deref())
    }

    /// `ty` followed by its ancestors, nearest first (`["ElectricalSeries",
    /// "TimeSeries", "NWBDataInterface", ...]`). Stops at a cycle.
    pub fn ancestors<'a>(&'a self, ty: &'a str) -> Vec<&'a str> {
        let mut chain = vec![ty];
        let mut current = ty;
        while let Some(parent) = self.parent(current) {
            if chain.len() >= MAX_DEPTH || chain.contains(&parent) {
                break;
            }
            chain.push(parent);
            current = parent;
        }
        chain
    }

    /// Whether `ty` is `base` or inherits from it.
    pub fn is_a(&self, ty: &str, base: &str) -> bool {
        self.ancestors(ty).contains(&base)
    }

    /// Number of known types.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_chains() {
        let t = TypeTree::builtin();
        assert!(t.is_a("ElectricalSeries", "TimeSeries"));
        assert!(t.is_a("SpikeEventSeries", "NWBDataInterface"));
        assert!(t.is_a("ElectrodesTable", "DynamicTable"));
        assert!(t.is_a("VectorIndex", "VectorData"));
        assert!(!t.is_a("Units", "TimeSeries"));
        assert!(t.is_a("Unknown", "Unknown"));
        assert_eq!(
            t.ancestors("TwoPhotonSeries"),
            [
                "TwoPhotonSeries",
                "ImageSeries",
                "TimeSeries",
                "NWBDataInterface",
                "NWBContainer",
                "Container"
            ]
        );
        assert_eq!(t.namespace_of("TimeSeries"), None);
    }

    #[test]
    fn spec_documents_nest_and_override() {
        let mut t = TypeTree::builtin();
        let doc = r#"{"groups":[{"neurodata_type_def":"MySeries","neurodata_type_inc":"ElectricalSeries",
            "groups":[{"neurodata_type_def":"Inner","neurodata_type_inc":"NWBContainer"}]}],
            "datasets":[{"data_type_def":"MyData","data_type_inc":"VectorData"},{"name":"plain"}]}"#;
        assert_eq!(t.add_spec("ext", doc).ok(), Some(3));
        assert!(t.is_a("MySeries", "TimeSeries"));
        assert!(t.is_a("Inner", "Container"));
        assert!(t.is_a("MyData", "Data"));
        assert_eq!(t.namespace_of("MySeries"), Some("ext"));
        assert!(t.add_spec("ext", "not json").is_err());
    }

    #[test]
    fn cycles_end() {
        let mut t = TypeTree::default();
        t.insert("A", Some("B"));
        t.insert("B", Some("A"));
        assert_eq!(t.ancestors("A"), ["A", "B"]);
        assert!(!t.is_a("A", "C"));
    }
}
