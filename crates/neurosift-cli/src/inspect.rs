//! `neurosift inspect`: the tree as text or JSON.

use std::io::Write;

use anyhow::Result;
use ns_model::{Array, Data, Node, NodeKind, ObjectStore, Value, float_json};
use serde_json::{Value as Json, json};

use crate::writeln_checked;

pub(crate) fn run(file: Box<dyn ObjectStore>, as_json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if as_json {
        let nodes = file.walk()?;
        let objects: Vec<Json> = nodes.iter().map(node_json).collect();
        writeln_checked(&mut out, &json!({ "objects": objects }).to_string())?;
    } else {
        let nwb = ns_nwb::NwbFile::new(file)?;
        if nwb.neurodata_type("/") == Some("NWBFile") {
            print_session(&mut out, nwb.session())?;
        }
        print_tree(&mut out, nwb.store(), nwb.nodes())?;
    }
    Ok(())
}

/// One object in `inspect --json`: `path`, `kind`, `attrs`, and
/// `shape`/`dtype`/`chunks`/`filters` for datasets (and `virtual_sources`
/// for a virtual dataset: `file`, `dataset`, `source_selection`,
/// `virtual_selection` per mapping), `target` (and `file`)
/// for links, `error` for an object that could not be decoded (the rest of
/// the file is listed all the same). Attribute values as
/// [`Value::to_json`] encodes them.
fn node_json(node: &Node) -> Json {
    let attrs: serde_json::Map<String, Json> = node
        .attrs
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    let mut obj = json!({ "path": node.path, "kind": node.kind.name(), "attrs": attrs });
    if let Some(ds) = &node.dataset {
        obj["shape"] = json!(ds.shape);
        obj["dtype"] = json!(ds.dtype.name());
        obj["chunks"] = json!(ds.chunks);
        obj["filters"] = json!(ds.filters);
        if !ds.virtual_sources.is_empty() {
            obj["virtual_sources"] = ds
                .virtual_sources
                .iter()
                .map(|v| {
                    json!({
                        "file": v.file,
                        "dataset": v.dataset,
                        "source_selection": v.source_selection,
                        "virtual_selection": v.virtual_selection,
                    })
                })
                .collect();
        }
    }
    match &node.kind {
        NodeKind::SoftLink { target } => obj["target"] = json!(target),
        NodeKind::ExternalLink { file, target } => {
            obj["target"] = json!(target);
            obj["file"] = json!(file);
        }
        _ => {}
    }
    if let Some(error) = &node.error {
        obj["error"] = json!(error);
    }
    obj
}

fn print_session(out: &mut impl Write, s: &ns_nwb::Session) -> Result<()> {
    let mut rows: Vec<(&str, String)> = Vec::new();
    let mut add = |label: &'static str, value: Option<&String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            rows.push((label, truncate(v, 100)));
        }
    };
    add("session", s.session_description.as_ref());
    add("identifier", s.identifier.as_ref());
    add("start time", s.session_start_time.as_ref());
    let experimenter = s.experimenter.join("; ");
    add("experimenter", Some(&experimenter));
    add("lab", s.lab.as_ref());
    add("institution", s.institution.as_ref());
    let publications = s.related_publications.join("; ");
    add("publications", Some(&publications));
    add("NWB version", s.nwb_version.as_ref());
    for (label, value) in rows {
        writeln_checked(out, &format!("{label:>13}: {value}"))?;
    }
    writeln_checked(out, "")
}

/// A text attribute: a string, or (as MatNWB writes them) an array of one.
fn text_attr<'a>(node: &'a Node, name: &str) -> Option<&'a str> {
    match node.attr(name)? {
        Value::List(items) if items.len() == 1 => items[0].as_str(),
        other => other.as_str(),
    }
}

fn print_tree(out: &mut impl Write, file: &dyn ObjectStore, nodes: &[Node]) -> Result<()> {
    let groups = nodes.iter().filter(|n| n.kind == NodeKind::Group).count();
    let datasets = nodes.iter().filter(|n| n.kind == NodeKind::Dataset).count();
    writeln_checked(
        out,
        &format!(
            "{}  ({}, {groups} groups, {datasets} datasets)",
            file.location(),
            human_bytes(file.size_bytes())
        ),
    )?;
    for node in nodes {
        let depth = node.path.matches('/').count().saturating_sub(1);
        let name = if node.path == "/" { "/" } else { node.name() };
        let indent = "  ".repeat(depth + usize::from(node.path != "/"));
        let mut line = format!("{indent}{name}");
        if node.kind == NodeKind::Group && node.path != "/" {
            line.push('/');
        }
        let mut cols: Vec<String> = Vec::new();
        if let Some(t) = text_attr(node, "neurodata_type") {
            cols.push(t.to_string());
        }
        match &node.kind {
            NodeKind::Dataset => {
                if let Some(ds) = &node.dataset {
                    let shape: Vec<String> = ds.shape.iter().map(ToString::to_string).collect();
                    let mut s = format!("{} [{}]", ds.dtype_description, shape.join(" x "));
                    if !ds.filters.is_empty() {
                        s.push_str(&format!(" ({})", ds.filters.join("+")));
                    }
                    match ds.virtual_sources.as_slice() {
                        [] => {}
                        [one] => {
                            s.push_str(&format!(" (virtual: {})", truncate(&one.describe(), 80)))
                        }
                        many => s.push_str(&format!(" (virtual: {} mappings)", many.len())),
                    }
                    cols.push(s);
                }
            }
            NodeKind::SoftLink { target } => cols.push(format!("-> {target}")),
            NodeKind::ExternalLink { file, target } => cols.push(format!("-> {file}:{target}")),
            _ => {}
        }
        if let Some(d) =
            text_attr(node, "description").filter(|d| !d.is_empty() && *d != "no description")
        {
            cols.push(format!("\"{}\"", truncate(d, 60)));
        }
        if let Some(error) = &node.error {
            cols.push(format!("[unreadable: {}]", truncate(error, 120)));
        }
        if cols.is_empty() {
            writeln_checked(out, &line)?;
        } else {
            let pad = 44usize.saturating_sub(line.chars().count()).max(1);
            writeln_checked(
                out,
                &format!("{line}{}{}", " ".repeat(pad), cols.join("  ")),
            )?;
        }
    }
    Ok(())
}

fn truncate(s: &str, max_chars: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() <= max_chars {
        return one_line;
    }
    let cut: String = one_line.chars().take(max_chars - 1).collect();
    format!("{cut}…")
}

#[expect(clippy::cast_precision_loss, reason = "display only")]
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Below this many values, one thread formats them all.
const PARALLEL_MIN: usize = 1 << 16;

/// Writes each value with `fmt`, `sep` between values and a newline after
/// every `row` values (0: no newlines), into consecutive parts: large
/// arrays are split over the machine's cores (a second of 64 channels is
/// two million numbers), and the parts are written out in order.
fn format_values<T: Sync>(
    values: &[T],
    row: usize,
    sep: &str,
    fmt: impl Fn(&mut Vec<u8>, &T) + Sync,
) -> Vec<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if values.len() < PARALLEL_MIN || threads < 2 {
        return vec![format_part(values, 0, row, sep, &fmt)];
    }
    let part = values.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let fmt = &fmt;
        let mut parts = values.chunks(part).enumerate();
        let first = parts.next();
        let rest: Vec<_> = parts
            .map(|(k, chunk)| scope.spawn(move || format_part(chunk, k * part, row, sep, fmt)))
            .collect();
        let mut out = Vec::with_capacity(rest.len() + 1);
        if let Some((_, chunk)) = first {
            out.push(format_part(chunk, 0, row, sep, fmt));
        }
        for handle in rest {
            out.push(
                handle
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
        }
        out
    })
}

/// One part of [`format_values`]: `values` are the array's elements from
/// index `start` on (a separator goes before every element but the
/// array's first).
fn format_part<T>(
    values: &[T],
    start: usize,
    row: usize,
    sep: &str,
    fmt: &impl Fn(&mut Vec<u8>, &T),
) -> Vec<u8> {
    let mut s = Vec::with_capacity(values.len() * 8);
    for (i, v) in (start..).zip(values) {
        if i > 0 {
            if row > 0 && i % row == 0 {
                s.push(b'\n');
            } else {
                s.extend_from_slice(sep.as_bytes());
            }
        }
        fmt(&mut s, v);
    }
    s
}

macro_rules! format_numeric {
    ($array:expr, $row:expr, $sep:expr, $float:expr, $other:expr) => {{
        match &$array.data {
            Data::Int8(v) => format_values(v, $row, $sep, |s, x| {
                s.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
            }),
            Data::Int16(v) => format_values(v, $row, $sep, |s, x| {
                s.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
            }),
            Data::Int32(v) => format_values(v, $row, $sep, |s, x| {
                s.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
            }),
            Data::Int64(v) => format_values(v, $row, $sep, |s, x| {
                s.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
            }),
            Data::UInt8(v) => format_values(v, $row, $sep, |s, x| {
                s.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
            }),
            Data::UInt16(v) => format_values(v, $row, $sep, |s, x| {
                s.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
            }),
            Data::UInt32(v) => format_values(v, $row, $sep, |s, x| {
                s.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
            }),
            Data::UInt64(v) => format_values(v, $row, $sep, |s, x| {
                s.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
            }),
            Data::Float32(v) => format_values(v, $row, $sep, |s, x| $float(s, f64::from(*x))),
            Data::Float64(v) => format_values(v, $row, $sep, |s, x| $float(s, *x)),
            Data::Values(v) => format_values(v, $row, $sep, $other),
        }
    }};
}

/// The values as one flat JSON array, formatted without building a JSON tree.
pub(crate) fn write_json_values(out: &mut impl Write, array: &Array) -> Result<()> {
    let body = format_numeric!(
        array,
        0,
        ",",
        |s: &mut Vec<u8>, f: f64| {
            if f.is_finite() {
                // What serde_json writes for a finite f64, without a tree.
                s.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
            } else {
                s.extend_from_slice(float_json(f).to_string().as_bytes());
            }
        },
        |s: &mut Vec<u8>, v: &Value| s.extend_from_slice(v.to_json().to_string().as_bytes())
    );
    crate::write_checked(out, b"[")?;
    for part in &body {
        crate::write_checked(out, part)?;
    }
    crate::write_checked(out, b"]")
}

/// Values as text: one line per row (last dimension across), tab-separated.
pub(crate) fn print_values(out: &mut impl Write, array: &Array) -> Result<()> {
    let row = match array.shape.as_slice() {
        [] | [_] => 1,
        dims => usize::try_from(dims[dims.len() - 1]).unwrap_or(1).max(1),
    };
    let body = format_numeric!(
        array,
        row,
        "\t",
        |s: &mut Vec<u8>, f: f64| {
            use std::io::Write as _;
            let _ = write!(s, "{f}");
        },
        |s: &mut Vec<u8>, v: &Value| match v {
            Value::String(text) => s.extend_from_slice(text.as_bytes()),
            other => s.extend_from_slice(other.to_json().to_string().as_bytes()),
        }
    );
    for part in &body {
        crate::write_checked(out, part)?;
    }
    if body.iter().any(|part| !part.is_empty()) {
        crate::write_checked(out, b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Split over threads or not, the text is the same: separators between
    /// parts, newlines at row ends across part boundaries.
    #[test]
    fn values_formatted_in_parts_read_as_in_one() {
        let values: Vec<i32> = (0..200_003).map(|i| (i * 7919) % 20_011 - 10_000).collect();
        for (row, sep) in [(0, ","), (7, "\t"), (64, "\t"), (1, "\t")] {
            let mut one = String::new();
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    one.push_str(if row > 0 && i % row == 0 { "\n" } else { sep });
                }
                one.push_str(&v.to_string());
            }
            let parts = format_values(&values, row, sep, |s, x| {
                s.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes());
            });
            assert!(values.len() < PARALLEL_MIN || parts.len() > 1 || num_threads() < 2);
            assert_eq!(parts.concat(), one.into_bytes(), "row {row}");
        }
    }

    fn num_threads() -> usize {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    }
}
