//! DynamicTable and the tables built on it: Units, TimeIntervals.
//!
//! A DynamicTable group holds an `id` dataset (ElementIdentifiers) and one
//! dataset per column, listed in order by its `colnames` attribute. A
//! column is
//! - plain (VectorData): one element (or sub-array) per row;
//! - ragged: a `<col>_index` VectorIndex holds cumulative end offsets into
//!   `<col>`, so row `i` is `<col>[index[i-1]..index[i]]`; the index may
//!   itself be indexed (`<col>_index_index`) for doubly ragged columns;
//! - a region (DynamicTableRegion): row indices into the table named by
//!   its `table` reference attribute (plain or ragged).

use std::ops::Range;

use ns_model::{Dtype, Node, NodeKind, Selection, Value};

use crate::Result;
use crate::file::{NwbFile, first_string, type_of};
use crate::util::{as_i64, as_u64, rows_of, split_at_ends};

/// Most row ids made up for a table without an `id` dataset.
const MAX_SYNTHESIZED_IDS: u64 = 1 << 27;

/// Index levels beyond this are not looked for.
const MAX_INDEX_LEVELS: usize = 8;

/// One column of a [`DynamicTable`].
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// The VectorData dataset (soft links resolved).
    pub path: String,
    /// VectorIndex datasets, outermost first (`x_index_index`, `x_index`);
    /// empty for a plain column.
    pub index: Vec<String>,
    /// For a DynamicTableRegion: the table its values index into.
    pub table: Option<String>,
    pub neurodata_type: Option<String>,
    pub description: Option<String>,
    /// Shape and type of the data dataset.
    pub shape: Vec<u64>,
    pub dtype: Dtype,
}

impl Column {
    pub fn is_ragged(&self) -> bool {
        !self.index.is_empty()
    }

    /// Whether values are row indices into another table.
    pub fn is_region(&self) -> bool {
        self.table.is_some() || self.neurodata_type.as_deref() == Some("DynamicTableRegion")
    }
}

/// A DynamicTable (or subtype) group. Holds the column layout; values are
/// read on demand.
pub struct DynamicTable<'a> {
    file: &'a NwbFile,
    path: String,
    neurodata_type: Option<String>,
    description: Option<String>,
    columns: Vec<Column>,
    id: Option<String>,
    num_rows: u64,
}

impl<'a> DynamicTable<'a> {
    /// Reads the layout from the walked tree (no reads).
    pub(crate) fn new(file: &'a NwbFile, node: &Node) -> Result<Self> {
        let path = node.path.clone();
        let names: Vec<String> = match node.attr("colnames") {
            Some(Value::List(items)) => items.iter().filter_map(first_string).collect(),
            Some(Value::String(s)) => vec![s.clone()],
            // No colnames: every dataset that is neither id nor an index.
            _ => file
                .children(&path)
                .into_iter()
                .filter(|n| n.kind == NodeKind::Dataset && n.name() != "id")
                .filter(|n| !(n.name().ends_with("_index") || type_of(n) == Some("VectorIndex")))
                .map(|n| n.name().to_string())
                .collect(),
        };
        // Columns named but not stored are left out.
        let columns: Vec<Column> = names
            .iter()
            .filter_map(|name| column_at(file, &path, name))
            .collect();
        let id = file
            .node(&format!("{path}/id"))
            .filter(|n| n.dataset.is_some())
            .map(|n| n.path.clone());
        let num_rows = match id.as_deref().and_then(|p| file.node(p)) {
            Some(id) => first_dim(id),
            None => columns.first().map_or(0, |c| {
                let outer = c.index.first().and_then(|p| file.node(p));
                outer.map_or_else(|| c.shape.first().copied().unwrap_or(0), first_dim)
            }),
        };
        Ok(Self {
            file,
            neurodata_type: type_of(node).map(str::to_string),
            description: node.attr("description").and_then(first_string),
            path,
            columns,
            id,
            num_rows,
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn neurodata_type(&self) -> Option<&str> {
        self.neurodata_type.as_deref()
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Rows: the length of `id`.
    pub fn num_rows(&self) -> u64 {
        self.num_rows
    }

    /// The columns in `colnames` order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Column names in `colnames` order.
    pub fn colnames(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    pub fn column_info(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The row ids (`id` dataset; 0, 1, ... if it is missing).
    pub fn ids(&self) -> Result<Vec<i64>> {
        let Some(id) = &self.id else {
            // Without ids the row count comes from a column's shape, which a
            // damaged file may make absurd.
            if self.num_rows > MAX_SYNTHESIZED_IDS {
                return Err(self.file.invalid(
                    &self.path,
                    format!("has no id dataset and {} rows", self.num_rows),
                ));
            }
            return Ok((0..self.num_rows)
                .map(|i| i64::try_from(i).unwrap_or(i64::MAX))
                .collect());
        };
        self.file
            .read(id, &Selection::all())?
            .to_values()
            .iter()
            .map(|v| {
                as_i64(v)
                    .ok_or_else(|| self.file.invalid(id, format!("id {v:?} is not an integer")))
            })
            .collect()
    }

    /// Every row of a column: the element (or nested lists for
    /// multi-dimensional data) of a plain column, a `Value::List` per row
    /// of a ragged one, row indices for a region.
    pub fn column(&self, name: &str) -> Result<Vec<Value>> {
        let column = self.column_or_err(name)?;
        let rows = self.column_rows(column);
        self.read_rows(column, 0..rows)
    }

    /// A plain 1-D numeric column as floats.
    pub fn column_f64(&self, name: &str) -> Result<Vec<f64>> {
        let column = self.column_or_err(name)?;
        if column.is_ragged() || column.shape.len() != 1 {
            return Err(self
                .file
                .invalid(&column.path, "is not a plain 1-D column".into()));
        }
        Ok(self.file.read(&column.path, &Selection::all())?.to_f64())
    }

    /// One cell, reading only what it needs (for a ragged column: two index
    /// entries and the row's slice of data).
    pub fn cell(&self, name: &str, row: u64) -> Result<Value> {
        let column = self.column_or_err(name)?;
        let rows = self.column_rows(column);
        if row >= rows {
            return Err(self
                .file
                .invalid(&column.path, format!("has no row {row} (it has {rows})")));
        }
        let mut values = self.read_rows(column, row..row + 1)?;
        Ok(values.pop().unwrap_or(Value::Null))
    }

    /// Rows `range` of a column (clipped): like [`DynamicTable::column`]
    /// for those rows only.
    pub fn rows(&self, name: &str, range: Range<u64>) -> Result<Vec<Value>> {
        let column = self.column_or_err(name)?;
        self.read_rows(column, range)
    }

    /// For rows `range` (clipped) of a ragged column, how many items each
    /// holds (its outermost index only is read).
    pub fn row_lengths(&self, name: &str, range: Range<u64>) -> Result<Vec<u64>> {
        let column = self.column_or_err(name)?;
        let Some(index) = column.index.first() else {
            return Err(self
                .file
                .invalid(&column.path, "is not a ragged column".into()));
        };
        let end = range.end.min(self.column_rows(column));
        let start = range.start.min(end);
        if start == end {
            return Ok(Vec::new());
        }
        let offsets = self.offsets(index, start.saturating_sub(1)..end)?;
        let (mut previous, ends) = match (start, offsets.split_first()) {
            (0, _) => (0, offsets.as_slice()),
            (_, Some((first, rest))) => (*first, rest),
            (_, None) => (0, &[][..]),
        };
        if ends.len() as u64 != end - start {
            return Err(self.file.invalid(
                index,
                format!("has {} offsets for rows {start}..{end}", ends.len()),
            ));
        }
        ends.iter()
            .map(|&e| {
                let n = e.checked_sub(previous).ok_or_else(|| {
                    self.file
                        .invalid(index, format!("offsets decrease at {e} (after {previous})"))
                })?;
                previous = e;
                Ok(n)
            })
            .collect()
    }

    /// The ids of rows `range` (clipped).
    pub fn ids_of(&self, range: Range<u64>) -> Result<Vec<i64>> {
        let end = range.end.min(self.num_rows);
        let start = range.start.min(end);
        let Some(id) = &self.id else {
            return Ok((start..end)
                .map(|i| i64::try_from(i).unwrap_or(i64::MAX))
                .collect());
        };
        if start == end {
            return Ok(Vec::new());
        }
        self.file
            .read(id, &Selection::rows(start, end))?
            .to_values()
            .iter()
            .map(|v| {
                as_i64(v)
                    .ok_or_else(|| self.file.invalid(id, format!("id {v:?} is not an integer")))
            })
            .collect()
    }

    /// The items of one row of a ragged column.
    pub fn ragged_row(&self, name: &str, row: u64) -> Result<Vec<Value>> {
        let column = self.column_or_err(name)?;
        if !column.is_ragged() {
            return Err(self
                .file
                .invalid(&column.path, "is not a ragged column".into()));
        }
        match self.cell(name, row)? {
            Value::List(items) => Ok(items),
            other => Ok(vec![other]),
        }
    }

    /// The data range `index[row-1]..index[row]` of a singly ragged column.
    fn ragged_bounds(&self, column: &Column, row: u64) -> Result<Range<u64>> {
        let [index] = column.index.as_slice() else {
            return Err(self
                .file
                .invalid(&column.path, "is not a singly ragged column".into()));
        };
        let ends = self.offsets(index, row.saturating_sub(1)..row + 1)?;
        match (row, ends.as_slice()) {
            (0, [end]) => Ok(0..*end),
            (_, [start, end]) if start <= end => Ok(*start..*end),
            _ => Err(self
                .file
                .invalid(index, format!("has no valid entry for row {row}"))),
        }
    }

    /// Entries `range` of an index dataset as offsets.
    fn offsets(&self, index: &str, range: Range<u64>) -> Result<Vec<u64>> {
        let selection =
            if range.start == 0 && range.end >= self.file.node(index).map_or(0, first_dim) {
                Selection::all()
            } else {
                Selection::rows(range.start, range.end)
            };
        self.file
            .read(index, &selection)?
            .to_values()
            .iter()
            .map(|v| {
                as_u64(v).ok_or_else(|| {
                    self.file
                        .invalid(index, format!("offset {v:?} is not a non-negative integer"))
                })
            })
            .collect()
    }

    /// Rows of the column: the length of its outermost dataset.
    fn column_rows(&self, column: &Column) -> u64 {
        match column.index.first() {
            Some(index) => self.file.node(index).map_or(0, first_dim),
            None => column.shape.first().copied().unwrap_or(0),
        }
    }

    fn column_or_err(&self, name: &str) -> Result<&Column> {
        self.column_info(name)
            .ok_or_else(|| self.file.not_found(&format!("{}/{name}", self.path)))
    }

    /// Rows `range` of a column (clipped to it), one value per row.
    fn read_rows(&self, column: &Column, range: Range<u64>) -> Result<Vec<Value>> {
        let end = range.end.min(self.column_rows(column));
        self.read_level(&column.index, &column.path, range.start.min(end)..end)
    }

    /// Entries `range` of the first of `levels` (or of the data when there
    /// are none), each as the list of what it spans one level down.
    fn read_level(&self, levels: &[String], data: &str, range: Range<u64>) -> Result<Vec<Value>> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let Some((index, inner)) = levels.split_first() else {
            let array = self
                .file
                .read(data, &Selection::rows(range.start, range.end))?;
            return Ok(rows_of(&array));
        };
        let offsets = self.offsets(index, range.start.saturating_sub(1)..range.end)?;
        let (first, ends) = match (range.start, offsets.split_first()) {
            (0, _) => (0, offsets.as_slice()),
            (_, Some((first, rest))) => (*first, rest),
            (_, None) => (0, &[][..]),
        };
        let bad = || {
            self.file.invalid(
                index,
                format!("offsets for rows {range:?} are inconsistent"),
            )
        };
        if ends.len() as u64 != range.end - range.start {
            return Err(bad());
        }
        let last = ends.last().copied().unwrap_or(first);
        if last < first {
            return Err(bad());
        }
        let relative: Vec<u64> = ends
            .iter()
            .map(|e| e.checked_sub(first))
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        let items = self.read_level(inner, data, first..last)?;
        let parts = split_at_ends(items, &relative).ok_or_else(bad)?;
        Ok(parts.into_iter().map(Value::List).collect())
    }
}

/// The column `name` of the table at `table`, if its dataset exists.
fn column_at(file: &NwbFile, table: &str, name: &str) -> Option<Column> {
    let data = file.node(&format!("{table}/{name}"))?;
    let info = data.dataset.as_ref()?;
    let mut index = Vec::new();
    let mut next = format!("{table}/{name}_index");
    while index.len() < MAX_INDEX_LEVELS {
        match file.node(&next) {
            Some(node) if node.dataset.is_some() => index.push(node.path.clone()),
            _ => break,
        }
        next.push_str("_index");
    }
    index.reverse();
    let table_ref = match data.attr("table").map(crate::file::single) {
        Some(Value::Ref(Some(p))) if p.starts_with('/') => Some(p.clone()),
        _ => None,
    };
    Some(Column {
        name: name.to_string(),
        path: data.path.clone(),
        index,
        table: table_ref,
        neurodata_type: type_of(data).map(str::to_string),
        description: data.attr("description").and_then(first_string),
        shape: info.shape.clone(),
        dtype: info.dtype,
    })
}

fn first_dim(node: &Node) -> u64 {
    node.dataset
        .as_ref()
        .and_then(|d| d.shape.first().copied())
        .unwrap_or(0)
}

/// A Units table: one row per sorted unit, spike times in the ragged
/// `spike_times` column.
pub struct Units<'a> {
    table: DynamicTable<'a>,
}

impl<'a> Units<'a> {
    pub(crate) fn new(table: DynamicTable<'a>) -> Result<Self> {
        Ok(Self { table })
    }

    /// The table, for the other columns.
    pub fn table(&self) -> &DynamicTable<'a> {
        &self.table
    }

    pub fn num_units(&self) -> u64 {
        self.table.num_rows()
    }

    pub fn unit_ids(&self) -> Result<Vec<i64>> {
        self.table.ids()
    }

    /// Spikes per unit (reads only `spike_times_index`).
    pub fn spike_counts(&self) -> Result<Vec<u64>> {
        let column = self.spike_column()?;
        // No index: the table's one unit has every time.
        if column.index.is_empty() && self.table.num_rows() <= 1 {
            return Ok(vec![column.shape.first().copied().unwrap_or(0)]);
        }
        let [index] = column.index.as_slice() else {
            return Err(self
                .table
                .file
                .invalid(&column.path, "is not a singly ragged column".into()));
        };
        let ends = self.table.offsets(index, 0..u64::MAX)?;
        let data_len = column.shape.first().copied().unwrap_or(0);
        if let Some(&last) = ends.last()
            && last > data_len
        {
            return Err(self.table.file.invalid(
                index,
                format!("ends at {last}, past the {data_len} spike times"),
            ));
        }
        let mut prev = 0;
        ends.iter()
            .map(|&end| {
                let n = end.checked_sub(prev);
                prev = end;
                n.ok_or_else(|| self.table.file.invalid(index, "offsets decrease".into()))
            })
            .collect()
    }

    /// The spike times of the unit at row `unit` (not its id), reading only
    /// its slice of `spike_times`.
    pub fn spike_times(&self, unit: u64) -> Result<Vec<f64>> {
        let column = self.spike_column()?;
        if unit >= self.table.column_rows(column) {
            return Err(self.table.file.invalid(
                &column.path,
                format!(
                    "has no unit {unit} (there are {})",
                    self.table.column_rows(column)
                ),
            ));
        }
        let range = self.table.ragged_bounds(column, unit)?;
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let times = self
            .table
            .file
            .read(&column.path, &Selection::rows(range.start, range.end))?
            .to_f64();
        // A read is clipped to the data: an index past its end is an error,
        // not a shorter answer.
        if times.len() as u64 != range.end - range.start {
            let index = column.index.first().unwrap_or(&column.path);
            return Err(self.table.file.invalid(
                index,
                format!(
                    "says unit {unit} has spike times {range:?}, past the {} there are",
                    column.shape.first().copied().unwrap_or(0)
                ),
            ));
        }
        Ok(times)
    }

    /// The spike times of every unit (two reads: the index and the data).
    pub fn all_spike_times(&self) -> Result<Vec<Vec<f64>>> {
        let column = self.spike_column()?;
        let counts = self.spike_counts()?;
        let times = self
            .table
            .file
            .read(&column.path, &Selection::all())?
            .to_f64();
        let mut ends = Vec::with_capacity(counts.len());
        let mut total = 0u64;
        for n in counts {
            total += n;
            ends.push(total);
        }
        split_at_ends(times, &ends).ok_or_else(|| {
            self.table
                .file
                .invalid(&column.path, "is shorter than its index says".into())
        })
    }

    /// The name of the spike column: `spike_times`, else `event_times`.
    pub fn spikes_column(&self) -> &str {
        if self.table.column_info("spike_times").is_none()
            && self.table.column_info("event_times").is_some()
        {
            "event_times"
        } else {
            "spike_times"
        }
    }

    /// Entries `range` of the spike column's data (all units' times, one
    /// unit after another), clipped to it.
    pub fn spike_slice(&self, range: Range<u64>) -> Result<Vec<f64>> {
        let column = self.spike_column()?;
        let len = column.shape.first().copied().unwrap_or(0);
        let end = range.end.min(len);
        let start = range.start.min(end);
        if start == end {
            return Ok(Vec::new());
        }
        Ok(self
            .table
            .file
            .read(&column.path, &Selection::rows(start, end))?
            .to_f64())
    }

    /// The spike times of the units at rows `units`, in one read of their
    /// consecutive slices.
    pub fn spike_times_of(&self, units: Range<u64>) -> Result<Vec<Vec<f64>>> {
        let counts = self.spike_counts()?;
        let at = |r: u64| {
            usize::try_from(r)
                .ok()
                .and_then(|r| counts.get(..r))
                .map(|c| c.iter().sum::<u64>())
        };
        let (Some(first), Some(last)) = (at(units.start), at(units.end)) else {
            return Err(self.table.file.invalid(
                &self.table.path,
                format!("has no units {units:?} (it has {})", counts.len()),
            ));
        };
        let times = self.spike_slice(first..last)?;
        if times.len() as u64 != last - first {
            return Err(self.table.file.invalid(
                &self.spike_column()?.path,
                "is shorter than its index says".into(),
            ));
        }
        let mut ends = Vec::new();
        let mut total = 0;
        for r in units {
            total += usize::try_from(r)
                .ok()
                .and_then(|r| counts.get(r))
                .copied()
                .unwrap_or(0);
            ends.push(total);
        }
        split_at_ends(times, &ends).ok_or_else(|| {
            self.table
                .file
                .invalid(&self.table.path, "spike counts are inconsistent".into())
        })
    }

    /// The spike times of the unit at row `unit` in `t0..t1` (its times
    /// must be ascending): its slice is searched by halving, reading single
    /// values, then only the window is read.
    pub fn spike_times_between(&self, unit: u64, t0: f64, t1: f64) -> Result<Vec<f64>> {
        let column = self.spike_column()?;
        let range = if column.index.is_empty() {
            0..column.shape.first().copied().unwrap_or(0)
        } else {
            self.table.ragged_bounds(column, unit)?
        };
        let value = |i: u64| -> Result<f64> {
            self.spike_slice(i..i + 1)?.first().copied().ok_or_else(|| {
                self.table
                    .file
                    .invalid(&column.path, format!("has no entry {i}"))
            })
        };
        let first_at_or_after = |t: f64| -> Result<u64> {
            let (mut lo, mut hi) = (range.start, range.end);
            while hi - lo > 4096 {
                let mid = lo + (hi - lo) / 2;
                if value(mid)? < t {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let rest = self.spike_slice(lo..hi)?;
            Ok(lo + rest.iter().position(|v| *v >= t).unwrap_or(rest.len()) as u64)
        };
        let a = first_at_or_after(t0)?;
        let b = first_at_or_after(t1)?.max(a);
        self.spike_slice(a..b)
    }

    fn spike_column(&self) -> Result<&Column> {
        self.table.column_or_err(self.spikes_column())
    }
}

/// A TimeIntervals table (trials, epochs, ...): `start_time`, `stop_time`
/// and any other columns.
pub struct TimeIntervals<'a> {
    table: DynamicTable<'a>,
}

impl<'a> TimeIntervals<'a> {
    pub(crate) fn new(table: DynamicTable<'a>) -> Result<Self> {
        for required in ["start_time", "stop_time"] {
            table.column_or_err(required)?;
        }
        Ok(Self { table })
    }

    /// The table, for all columns.
    pub fn table(&self) -> &DynamicTable<'a> {
        &self.table
    }

    pub fn len(&self) -> u64 {
        self.table.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn start_times(&self) -> Result<Vec<f64>> {
        self.table.column_f64("start_time")
    }

    pub fn stop_times(&self) -> Result<Vec<f64>> {
        self.table.column_f64("stop_time")
    }
}
