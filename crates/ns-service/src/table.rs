//! Pages of DynamicTables (any table, every column as text) and the
//! intervals of TimeIntervals tables laid out by a label column.

use std::collections::HashMap;

use ns_model::Value;
use ns_nwb::{DynamicTable, NwbFile};
use ns_protocol::{
    CellValues, ErrorKind, GetCell, GetIntervals, GetTable, Intervals, TableColumn, TablePage,
    TypedBuffer, WorkerError,
};

use crate::Limits;
use crate::error::nwb_error;
use crate::values::value_text;

/// Rows one page may have.
const MAX_PAGE_ROWS: u64 = 1000;
/// Characters of a cell shown in a page (the rest is elided).
const MAX_CELL_CHARS: usize = 200;
/// A column names interval rows when it has at least two distinct values
/// and at most this many or a quarter of the rows (as Neurosift chooses).
const MAX_LABELS: usize = 10;

fn bad(nwb: &NwbFile, path: &str, kind: ErrorKind, message: String) -> WorkerError {
    WorkerError::new(kind, format!("{}: {path}: {message}", nwb.location()))
}

pub(crate) fn page(
    nwb: &NwbFile,
    req: &GetTable,
    limits: &Limits,
) -> Result<TablePage, WorkerError> {
    let table = nwb.dynamic_table(&req.path).map_err(|e| nwb_error(&e))?;
    let (start, end) = req.rows;
    let end = end.min(table.num_rows());
    let start = start.min(end);
    let rows = end - start;
    let columns = table.columns();
    if rows > MAX_PAGE_ROWS || rows.saturating_mul(columns.len() as u64) > limits.max_values {
        return Err(bad(
            nwb,
            &req.path,
            ErrorKind::TooLarge,
            format!(
                "{rows} rows × {} columns in one page; at most {MAX_PAGE_ROWS} rows and {} cells",
                columns.len(),
                limits.max_values
            ),
        ));
    }
    let ids = table.ids_of(start..end).map_err(|e| nwb_error(&e))?;
    let width = columns.len();
    let rows_usize = usize::try_from(rows).unwrap_or(0);
    let mut cells = vec![String::new(); rows_usize * width];
    for (c, column) in columns.iter().enumerate() {
        let texts = column_texts(&table, column, start..end)
            .unwrap_or_else(|e| vec![format!("⚠ {e}"); rows_usize]);
        for (r, text) in texts.into_iter().enumerate().take(rows_usize) {
            if let Some(cell) = cells.get_mut(r * width + c) {
                *cell = text;
            }
        }
    }
    Ok(TablePage {
        path: table.path().to_string(),
        neurodata_type: table.neurodata_type().map(str::to_string),
        description: table.description().map(str::to_string),
        num_rows: table.num_rows(),
        columns: columns
            .iter()
            .map(|c| TableColumn {
                name: c.name.clone(),
                description: c.description.clone(),
                kind: if c.is_ragged() {
                    "ragged"
                } else if c.is_region() {
                    "region"
                } else {
                    "plain"
                }
                .into(),
                dtype: c.dtype.name().to_string(),
            })
            .collect(),
        row_start: start,
        ids,
        cells,
    })
}

/// The cells of `rows` of one column as text: a ragged cell as its length,
/// a region cell as the table and row it refers to.
fn column_texts(
    table: &DynamicTable<'_>,
    column: &ns_nwb::Column,
    rows: std::ops::Range<u64>,
) -> ns_nwb::Result<Vec<String>> {
    if column.is_ragged() {
        let lengths = table.row_lengths(&column.name, rows)?;
        return Ok(lengths
            .into_iter()
            .map(|n| format!("[{n} item{}]", if n == 1 { "" } else { "s" }))
            .collect());
    }
    let values = table.rows(&column.name, rows)?;
    let target = column
        .table
        .as_deref()
        .map(|t| t.rsplit('/').next().unwrap_or(t).to_string());
    Ok(values
        .iter()
        .map(|v| match (&target, v) {
            (Some(t), Value::Int(_) | Value::UInt(_)) => format!("{t}[{}]", value_text(v)),
            _ => elide(value_text(v)),
        })
        .collect())
}

fn elide(mut text: String) -> String {
    if let Some((i, _)) = text.char_indices().nth(MAX_CELL_CHARS) {
        text.truncate(i);
        text.push('…');
    }
    text
}

pub(crate) fn cell(
    nwb: &NwbFile,
    req: &GetCell,
    limits: &Limits,
) -> Result<CellValues, WorkerError> {
    let table = nwb.dynamic_table(&req.path).map_err(|e| nwb_error(&e))?;
    let column = table.column_info(&req.column).ok_or_else(|| {
        bad(
            nwb,
            &req.path,
            ErrorKind::NotFound,
            format!("no column {:?}", req.column),
        )
    })?;
    if column.is_ragged() {
        let n = table
            .row_lengths(&req.column, req.row..req.row + 1)
            .map_err(|e| nwb_error(&e))?
            .first()
            .copied()
            .unwrap_or(0);
        if n > limits.max_values {
            return Err(bad(
                nwb,
                &req.path,
                ErrorKind::TooLarge,
                format!(
                    "{}[{}] holds {n} values; at most {} at once",
                    req.column, req.row, limits.max_values
                ),
            ));
        }
    }
    let value = table
        .cell(&req.column, req.row)
        .map_err(|e| nwb_error(&e))?;
    let values = match value {
        Value::List(items) => items.iter().map(value_text).collect(),
        other => vec![value_text(&other)],
    };
    Ok(CellValues {
        path: req.path.clone(),
        column: req.column.clone(),
        row: req.row,
        values,
    })
}

pub(crate) fn intervals(
    nwb: &NwbFile,
    req: &GetIntervals,
    limits: &Limits,
) -> Result<Intervals, WorkerError> {
    let ti = nwb.time_intervals(&req.path).map_err(|e| nwb_error(&e))?;
    if ti.len() > limits.max_values {
        return Err(bad(
            nwb,
            &req.path,
            ErrorKind::TooLarge,
            format!(
                "{} intervals; at most {} at once",
                ti.len(),
                limits.max_values
            ),
        ));
    }
    let start = ti.start_times().map_err(|e| nwb_error(&e))?;
    let stop = ti.stop_times().map_err(|e| nwb_error(&e))?;
    if start.len() != stop.len() {
        return Err(bad(
            nwb,
            &req.path,
            ErrorKind::Format,
            format!("{} start times but {} stop times", start.len(), stop.len()),
        ));
    }
    let table = ti.table();
    // Plain 1-D columns other than the times, with their values as text.
    let most = MAX_LABELS.max(start.len() / 4);
    let mut candidates: Vec<(String, Vec<String>, usize)> = Vec::new();
    for column in table.columns() {
        if column.is_ragged()
            || column.shape.len() != 1
            || matches!(column.name.as_str(), "start_time" | "stop_time")
        {
            continue;
        }
        if matches!(
            column.dtype,
            ns_model::Dtype::Float16 | ns_model::Dtype::Float32 | ns_model::Dtype::Float64
        ) && req.label_column.as_deref() != Some(column.name.as_str())
        {
            continue;
        }
        let Ok(values) = table.column(&column.name) else {
            continue;
        };
        let texts: Vec<String> = values.iter().map(value_text).collect();
        let distinct = distinct_in_order(&texts).len();
        let requested = req.label_column.as_deref() == Some(column.name.as_str());
        if requested || (2..=most).contains(&distinct) {
            candidates.push((column.name.clone(), texts, distinct));
        }
    }
    let chosen = match &req.label_column {
        Some(name) => Some(
            candidates
                .iter()
                .find(|(n, _, _)| n == name)
                .ok_or_else(|| {
                    bad(
                        nwb,
                        &req.path,
                        ErrorKind::NotFound,
                        format!("no plain column {name:?} to label intervals by"),
                    )
                })?
                .clone(),
        ),
        // The number of distinct values closest to 10 (the first of ties).
        None => candidates
            .iter()
            .min_by_key(|(_, _, d)| d.abs_diff(MAX_LABELS))
            .cloned(),
    };
    let (labels, label_of) = match &chosen {
        Some((_, texts, _)) => {
            let labels = distinct_in_order(texts);
            let index: HashMap<&str, u32> = labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.as_str(), u32::try_from(i).unwrap_or(u32::MAX)))
                .collect();
            let of: Vec<u32> = texts
                .iter()
                .map(|t| index.get(t.as_str()).copied().unwrap_or(0))
                .collect();
            (labels, of)
        }
        None => (Vec::new(), vec![0; start.len()]),
    };
    Ok(Intervals {
        path: req.path.clone(),
        start: TypedBuffer::from_f64(&start),
        stop: TypedBuffer::from_f64(&stop),
        label_column: chosen.map(|(n, _, _)| n),
        label_candidates: candidates.into_iter().map(|(n, _, _)| n).collect(),
        labels,
        label_of: TypedBuffer::from_u32(&label_of),
    })
}

fn distinct_in_order(texts: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    texts
        .iter()
        .filter(|t| seen.insert(t.as_str()))
        .cloned()
        .collect()
}
