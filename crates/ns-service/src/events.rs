//! Events (the times of a timestamps-only series in a window) and strided
//! samples (a trajectory needs samples, not min/max envelopes).

use ns_model::Value;
use ns_nwb::{NwbFile, TimeSeries};
use ns_protocol::{ErrorKind, Events, GetEvents, GetSamples, Samples, TypedBuffer, WorkerError};

use crate::Limits;
use crate::error::nwb_error;

fn bad(nwb: &NwbFile, path: &str, kind: ErrorKind, message: String) -> WorkerError {
    WorkerError::new(kind, format!("{}: {path}: {message}", nwb.location()))
}

/// The samples of `t0..t1` and the stride that keeps at most `max` of them.
fn strided(
    nwb: &NwbFile,
    series: &TimeSeries<'_>,
    t0: f64,
    t1: f64,
    max: u32,
) -> Result<(std::ops::Range<u64>, u64), WorkerError> {
    if !(t0.is_finite() && t1.is_finite()) {
        return Err(bad(
            nwb,
            series.path(),
            ErrorKind::BadRequest,
            "the window's times must be finite".into(),
        ));
    }
    if max == 0 {
        return Err(bad(
            nwb,
            series.path(),
            ErrorKind::BadRequest,
            "at least one point must be asked for".into(),
        ));
    }
    let samples = series
        .sample_range_for_times(t0, t1)
        .map_err(|e| nwb_error(&e))?;
    let total = samples.end - samples.start;
    Ok((samples, total.div_ceil(u64::from(max)).max(1)))
}

pub(crate) fn events(
    nwb: &NwbFile,
    req: &GetEvents,
    limits: &Limits,
) -> Result<Events, WorkerError> {
    let series = nwb.time_series(&req.path).map_err(|e| nwb_error(&e))?;
    let max = u32::try_from(limits.max_values)
        .unwrap_or(u32::MAX)
        .min(req.max_events);
    let (samples, stride) = strided(nwb, &series, req.start_secs, req.end_secs, max)?;
    let times = series
        .timestamps_step(samples.clone(), stride)
        .map_err(|e| nwb_error(&e))?;
    let data = series.data();
    // Values only for 1-D data (IntervalSeries' ±1, LabeledEvents' labels).
    let values = if data.has_data && data.shape.len() == 1 && data.dtype.is_numeric() {
        Some(
            series
                .read_data_step(samples.clone(), stride, None)
                .map_err(|e| nwb_error(&e))?
                .to_f64(),
        )
    } else {
        None
    };
    let label_names = nwb
        .node(&data.path)
        .and_then(|n| n.attr("labels"))
        .or_else(|| nwb.node(&req.path).and_then(|n| n.attr("labels")))
        .map(|v| match v {
            Value::List(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .unwrap_or_default();
    Ok(Events {
        path: req.path.clone(),
        times: TypedBuffer::from_f64(&times),
        values: values.map(|v| TypedBuffer::from_f64(&v)),
        label_names,
        total: samples.end - samples.start,
        stride,
    })
}

pub(crate) fn samples(
    nwb: &NwbFile,
    req: &GetSamples,
    limits: &Limits,
) -> Result<Samples, WorkerError> {
    let series = nwb.time_series(&req.path).map_err(|e| nwb_error(&e))?;
    let data = series.data();
    let total_channels = match data.shape.as_slice() {
        [_] => 1,
        [_, c] => *c,
        _ => {
            return Err(bad(
                nwb,
                &req.path,
                ErrorKind::BadRequest,
                format!(
                    "data has {} dimensions; samples are read from 1-D or 2-D data",
                    data.shape.len()
                ),
            ));
        }
    };
    let columns = match req.channels {
        Some((a, b)) if data.shape.len() == 2 => {
            let b = b.min(total_channels);
            Some(a.min(b)..b)
        }
        _ => None,
    };
    let channels = columns.as_ref().map_or(total_channels, |c| c.end - c.start);
    let max_points = u64::from(req.max_points);
    if max_points.saturating_mul(channels) > limits.max_values {
        return Err(bad(
            nwb,
            &req.path,
            ErrorKind::TooLarge,
            format!(
                "{max_points} points × {channels} channels; at most {} values at once",
                limits.max_values
            ),
        ));
    }
    let (samples, stride) = strided(nwb, &series, req.start_secs, req.end_secs, req.max_points)?;
    let times = series
        .timestamps_step(samples.clone(), stride)
        .map_err(|e| nwb_error(&e))?;
    let values: Vec<f64> = series
        .read_data_step(samples, stride, columns)
        .map_err(|e| nwb_error(&e))?
        .to_f64()
        .into_iter()
        .map(|v| v * data.conversion + data.offset)
        .collect();
    if values.len() as u64 != (times.len() as u64).saturating_mul(channels) {
        return Err(bad(
            nwb,
            &req.path,
            ErrorKind::Format,
            format!(
                "read {} values for {} times × {channels} channels",
                values.len(),
                times.len()
            ),
        ));
    }
    Ok(Samples {
        path: req.path.clone(),
        times: TypedBuffer::from_f64(&times),
        values: TypedBuffer::from_f64(&values),
        channels,
        stride,
        unit: data.unit.clone(),
    })
}
