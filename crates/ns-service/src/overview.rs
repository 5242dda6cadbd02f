//! The overview (session and object tree) and one object's details.

use ns_model::{NodeKind, Value};
use ns_nwb::NwbFile;
use ns_protocol::{ObjectInfo, ObjectSummary, Overview, WorkerError};

use crate::error::model_error;

pub(crate) fn overview(nwb: &NwbFile) -> Overview {
    let s = nwb.session();
    let mut session = Vec::new();
    let mut add = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            session.push((label.to_string(), v));
        }
    };
    add("Session description", s.session_description.clone());
    add("Identifier", s.identifier.clone());
    add("Session start time", s.session_start_time.clone());
    add("Experimenter", Some(s.experimenter.join("; ")));
    add("Lab", s.lab.clone());
    add("Institution", s.institution.clone());
    add(
        "Related publications",
        Some(s.related_publications.join("; ")),
    );
    add("Experiment description", s.experiment_description.clone());
    add("Session ID", s.session_id.clone());
    add("NWB version", s.nwb_version.clone());
    let objects: Vec<ObjectSummary> = nwb
        .nodes()
        .iter()
        .map(|node| {
            let text = |name: &str| node.attr(name).and_then(Value::as_str).map(str::to_string);
            let data_summary = node.dataset.as_ref().map(|d| {
                let dims: Vec<String> = d.shape.iter().map(ToString::to_string).collect();
                format!("{} [{}]", d.dtype_description, dims.join(" × "))
            });
            // An object the reader could not decode is listed with its error
            // (the app shows the summary in the tree).
            let data_summary = match &node.error {
                Some(error) => Some(format!("⚠ cannot be read: {error}")),
                None => data_summary,
            };
            let target = match &node.kind {
                NodeKind::SoftLink { target } => Some(target.clone()),
                NodeKind::ExternalLink { file, target } => Some(format!("{file}:{target}")),
                _ => None,
            };
            ObjectSummary {
                path: node.path.clone(),
                kind: node.kind.name().to_string(),
                neurodata_type: nwb.neurodata_type(&node.path).map(str::to_string),
                description: text("description"),
                data_summary,
                target,
            }
        })
        .collect();
    let mut types: Vec<&str> = objects
        .iter()
        .filter_map(|o: &ObjectSummary| o.neurodata_type.as_deref())
        .collect();
    ns_sort::sort(&mut types);
    types.dedup();
    let type_chains = types
        .into_iter()
        .map(|t| {
            nwb.types()
                .ancestors(t)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    Overview {
        location: nwb.location().to_string(),
        size_bytes: nwb.store().size_bytes(),
        session,
        objects,
        type_chains,
    }
}

pub(crate) fn object(nwb: &NwbFile, path: &str) -> Result<ObjectInfo, WorkerError> {
    // The object itself (a link is shown as a link), else ask the store.
    let node = match nwb.nodes().iter().find(|n| n.path == path) {
        Some(node) => node.clone(),
        None => nwb.store().node(path).map_err(|e| model_error(&e))?,
    };
    if let Some(error) = &node.error {
        return Err(WorkerError::new(
            ns_protocol::ErrorKind::Format,
            format!("{}: {}: {error}", nwb.location(), node.path),
        ));
    }
    let dataset = node.dataset.as_ref();
    Ok(ObjectInfo {
        path: node.path.clone(),
        kind: node.kind.name().to_string(),
        attrs: node
            .attrs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json().to_string()))
            .collect(),
        shape: dataset.map(|d| d.shape.clone()),
        dtype: dataset.map(|d| d.dtype_description.clone()),
        chunks: dataset.and_then(|d| d.chunks.clone()),
        filters: dataset.map(|d| d.filters.clone()).unwrap_or_default(),
        virtual_sources: dataset
            .map(|d| {
                d.virtual_sources
                    .iter()
                    .map(ns_model::VirtualSource::describe)
                    .collect()
            })
            .unwrap_or_default(),
    })
}
