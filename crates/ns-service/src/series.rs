//! What a view needs to know about a TimeSeries: extent, scaling, channel
//! labels (electrodes), and what is odd about it.

use ns_nwb::{NwbFile, TimeSeries, Timing};
use ns_protocol::{Channel, SeriesInfo, WorkerError};

use crate::error::nwb_error;
use crate::values::value_text;

/// Timestamps checked whole for order and NaN up to this count; beyond
/// it, the first and last of them.
const CHECKED_TIMESTAMPS: u64 = 1 << 20;
/// Timestamps read from each end of a long series to check and to find
/// its first and last finite times.
const END_TIMESTAMPS: u64 = 4096;

pub(crate) fn series(nwb: &NwbFile, path: &str) -> Result<SeriesInfo, WorkerError> {
    let err = |e: ns_nwb::Error| nwb_error(&e);
    let series = nwb.time_series(path).map_err(err)?;
    let data = series.data();
    let num_samples = series.num_samples();
    let num_channels = match data.shape.as_slice() {
        [_, c, ..] if data.has_data => *c,
        _ => 1,
    };
    let mut warnings = series.warnings().to_vec();
    if data.has_data && data.shape.len() > 2 {
        warnings.push(format!(
            "data has {} dimensions; traces show the first element of the dimensions after the second",
            data.shape.len()
        ));
    }
    let (start_secs, end_secs, rate) = extent(&series, &mut warnings).map_err(err)?;
    let shown = num_channels.min(SeriesInfo::MAX_CHANNELS);
    let mut channels: Vec<Channel> = (0..shown)
        .map(|i| Channel {
            index: i,
            label: i.to_string(),
        })
        .collect();
    let mut channel_columns = Vec::new();
    if nwb.is_a(path, "ElectricalSeries") {
        match electrode_labels(nwb, path, num_channels) {
            Ok((labels, columns)) => {
                for (c, label) in channels.iter_mut().zip(labels) {
                    c.label = label;
                }
                channel_columns = columns;
            }
            Err(message) => warnings.push(message),
        }
    }
    Ok(SeriesInfo {
        path: series.path().to_string(),
        neurodata_type: series.neurodata_type().map(str::to_string),
        description: series.description().map(str::to_string),
        shape: data.shape.clone(),
        num_samples,
        num_channels,
        start_secs,
        end_secs,
        rate,
        unit: data.unit.clone(),
        conversion: data.conversion,
        offset: data.offset,
        channels,
        channel_columns,
        has_data: data.has_data,
        warnings,
    })
}

/// First time, time just after the last sample, and the rate.
fn extent(
    series: &TimeSeries<'_>,
    warnings: &mut Vec<String>,
) -> ns_nwb::Result<(f64, f64, Option<f64>)> {
    let n = series.num_samples();
    match series.timing() {
        Timing::Rate {
            rate,
            starting_time,
        } => {
            #[expect(clippy::cast_precision_loss, reason = "sample counts below 2^53")]
            let end = starting_time + n as f64 / rate;
            Ok((*starting_time, end, Some(*rate)))
        }
        Timing::Timestamps { count, .. } => {
            let count = *count;
            if count != n && series.data().has_data {
                warnings.push(format!(
                    "{count} timestamps for {n} samples of data; the shorter is used"
                ));
            }
            let n = n.min(count);
            if n == 0 {
                return Ok((0.0, 0.0, None));
            }
            let (head, tail) = if n <= CHECKED_TIMESTAMPS {
                (series.timestamps(0..n)?, Vec::new())
            } else {
                (
                    series.timestamps(0..END_TIMESTAMPS)?,
                    series.timestamps(n - END_TIMESTAMPS..n)?,
                )
            };
            let all = head.iter().chain(&tail);
            let nan = all.clone().filter(|t| t.is_nan()).count();
            if nan > 0 {
                warnings.push(format!(
                    "{nan} timestamps{} are NaN; their samples are not drawn",
                    if tail.is_empty() {
                        ""
                    } else {
                        " of those checked"
                    }
                ));
            }
            let finite: Vec<f64> = all.copied().filter(|t| t.is_finite()).collect();
            if finite.windows(2).any(|w| w[1] < w[0]) {
                warnings.push(
                    "timestamps are not in ascending order (NWB requires it); windows may miss samples"
                        .into(),
                );
            }
            let first = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let last = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if !first.is_finite() {
                return Ok((0.0, 0.0, None));
            }
            // Just after the last sample: one mean sample period later.
            #[expect(clippy::cast_precision_loss, reason = "sample counts below 2^53")]
            let period = if n > 1 {
                (last - first) / (n - 1) as f64
            } else {
                0.0
            };
            let end = if period > 0.0 {
                last + period
            } else {
                last + 1e-9_f64.max(last.abs() * 1e-12)
            };
            Ok((first, end, None))
        }
    }
}

/// Columns of the electrodes table, as text per channel.
type ChannelColumns = Vec<(String, Vec<String>)>;

/// Each channel's label (the electrode id) and the electrodes table's
/// columns as text per channel; `Err` says why channels are labeled by
/// index instead.
fn electrode_labels(
    nwb: &NwbFile,
    path: &str,
    num_channels: u64,
) -> Result<(Vec<String>, ChannelColumns), String> {
    let es = nwb
        .electrical_series(path)
        .map_err(|e| format!("electrodes: {e}"))?;
    let rows = es
        .electrode_rows()
        .map_err(|e| format!("electrodes: {e}"))?;
    if rows.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    if rows.len() as u64 != num_channels {
        return Err(format!(
            "the electrodes region has {} rows but the data has {num_channels} channels; channels are labeled by index",
            rows.len()
        ));
    }
    if num_channels > SeriesInfo::MAX_CHANNELS {
        return Ok((Vec::new(), Vec::new()));
    }
    let Some(table_path) = es.electrodes_table() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let table = nwb
        .dynamic_table(table_path)
        .map_err(|e| format!("electrodes: {e}"))?;
    if table.num_rows() > SeriesInfo::MAX_CHANNELS * 10 {
        return Err(format!(
            "{table_path} has {} rows; channels are labeled by index",
            table.num_rows()
        ));
    }
    let ids = table.ids().map_err(|e| format!("electrodes: {e}"))?;
    let pick = |values: &[String]| -> Vec<String> {
        rows.iter()
            .map(|r| {
                usize::try_from(*r)
                    .ok()
                    .and_then(|r| values.get(r))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    };
    let id_text: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let labels = pick(&id_text);
    let mut columns = vec![("id".to_string(), labels.clone())];
    for column in table.columns() {
        if column.is_ragged() || column.shape.len() != 1 {
            continue;
        }
        let Ok(values) = table.column(&column.name) else {
            continue;
        };
        let text: Vec<String> = values
            .iter()
            .map(|v| match v {
                // A reference (the electrode group) by its name.
                ns_model::Value::Ref(Some(p)) => p.rsplit('/').next().unwrap_or(p).to_string(),
                other => value_text(other),
            })
            .collect();
        columns.push((column.name.clone(), pick(&text)));
    }
    Ok((labels, columns))
}
