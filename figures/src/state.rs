//! The state of views that a figure made outside the app must reproduce
//! exactly as the app does: the PSTH's hash state, the units' filter and
//! order, and the requests these views make. Shared by the app's views and
//! `neurosift figure make`.

use ns_protocol::{GetPsth, GetRaster, UnitsInfo};

/// The view's state, as the URL hash holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct PsthState {
    /// Unit ids; `None` is `all`.
    pub units: Option<Vec<i64>>,
    pub align_to: Vec<String>,
    pub group_by: Option<String>,
    pub categories: Vec<String>,
    pub window_start: f64,
    pub window_end: f64,
    pub num_bins: u32,
    pub smoothed: bool,
    pub sort_by: Option<String>,
    pub sort_desc: bool,
    pub show_raster: bool,
    pub show_hist: bool,
    pub plot_height: String,
    pub error_bars: bool,
    pub trials: String,
}

impl Default for PsthState {
    fn default() -> Self {
        Self {
            units: Some(Vec::new()),
            align_to: vec!["start_time".into()],
            group_by: None,
            categories: Vec::new(),
            window_start: -0.5,
            window_end: 1.0,
            num_bins: 50,
            smoothed: false,
            sort_by: None,
            sort_desc: false,
            show_raster: true,
            show_hist: true,
            plot_height: "medium".into(),
            error_bars: false,
            trials: String::new(),
        }
    }
}

impl PsthState {
    /// Reads a hash (`#a=1&b=2` or without `#`); unknown keys are ignored,
    /// bad values keep the default.
    pub fn from_hash(hash: &str) -> Self {
        let mut s = Self::default();
        for (k, v) in ns_links::parse_query(hash.trim_start_matches('#')) {
            let list = || {
                v.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            match k.as_str() {
                "units" if v == "all" => s.units = None,
                "units" => s.units = Some(list().iter().filter_map(|x| x.parse().ok()).collect()),
                "alignTo" if !v.is_empty() => s.align_to = list(),
                "groupBy" if !v.is_empty() => s.group_by = Some(v),
                "categories" => s.categories = list(),
                "windowStart" => s.window_start = v.parse().unwrap_or(s.window_start),
                "windowEnd" => s.window_end = v.parse().unwrap_or(s.window_end),
                "numBins" => {
                    s.num_bins = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .unwrap_or(s.num_bins)
                }
                "smoothed" => s.smoothed = v == "1",
                "sortBy" if !v.is_empty() => s.sort_by = Some(v),
                "sortDir" => s.sort_desc = v == "desc",
                "showRaster" => s.show_raster = v != "0",
                "showHist" => s.show_hist = v != "0",
                "plotHeight" if ["small", "medium", "large"].contains(&v.as_str()) => {
                    s.plot_height = v
                }
                "errorBars" => s.error_bars = v == "1",
                "trials" => s.trials = v,
                _ => {}
            }
        }
        s
    }

    /// The hash, with only the values that differ from the defaults.
    pub fn to_hash(&self) -> String {
        let d = Self::default();
        let mut out: Vec<(String, String)> = Vec::new();
        let join = |v: &[String]| v.join(",");
        match &self.units {
            None => out.push(("units".into(), "all".into())),
            Some(ids) if !ids.is_empty() => out.push((
                "units".into(),
                ids.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            Some(_) => {}
        }
        if self.align_to != d.align_to {
            out.push(("alignTo".into(), join(&self.align_to)));
        }
        if let Some(g) = &self.group_by {
            out.push(("groupBy".into(), g.clone()));
        }
        if !self.categories.is_empty() {
            out.push(("categories".into(), join(&self.categories)));
        }
        if self.window_start != d.window_start {
            out.push(("windowStart".into(), self.window_start.to_string()));
        }
        if self.window_end != d.window_end {
            out.push(("windowEnd".into(), self.window_end.to_string()));
        }
        if self.num_bins != d.num_bins {
            out.push(("numBins".into(), self.num_bins.to_string()));
        }
        if self.smoothed {
            out.push(("smoothed".into(), "1".into()));
        }
        if let Some(s) = &self.sort_by {
            out.push(("sortBy".into(), s.clone()));
        }
        if self.sort_desc {
            out.push(("sortDir".into(), "desc".into()));
        }
        if !self.show_raster {
            out.push(("showRaster".into(), "0".into()));
        }
        if !self.show_hist {
            out.push(("showHist".into(), "0".into()));
        }
        if self.plot_height != d.plot_height {
            out.push(("plotHeight".into(), self.plot_height.clone()));
        }
        if self.error_bars {
            out.push(("errorBars".into(), "1".into()));
        }
        if !self.trials.is_empty() {
            out.push(("trials".into(), self.trials.clone()));
        }
        out.iter()
            .map(|(k, v)| format!("{k}={}", ns_links::encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// The units' order: by id, or by a column (numbers as numbers).
pub fn sorted_rows(info: &UnitsInfo, rows: &[usize], by: &str, descending: bool) -> Vec<usize> {
    let mut out = rows.to_vec();
    match info.columns.iter().find(|c| c.name == by) {
        Some(col) if col.numeric => ns_sort::sort_by(&mut out, |a, b| {
            let v = |i: &usize| {
                col.values
                    .get(*i)
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(f64::NAN)
            };
            v(a).total_cmp(&v(b))
        }),
        Some(col) => ns_sort::sort_by(&mut out, |a, b| col.values.get(*a).cmp(&col.values.get(*b))),
        None => ns_sort::sort_by_key(&mut out, |i| info.ids.get(*i).copied().unwrap_or(0)),
    }
    if descending {
        out.reverse();
    }
    out
}

/// The unit rows passing `filter` (conditions on the columns, `id` too).
pub fn filtered_rows(info: &UnitsInfo, filter: &str) -> Result<Vec<usize>, String> {
    let conditions = ns_protocol::filter::parse(filter)?;
    let ids: Vec<String> = info.ids.iter().map(ToString::to_string).collect();
    let counts: Vec<String> = info.spike_counts.iter().map(ToString::to_string).collect();
    let mut cols: Vec<(&str, &[String])> =
        vec![("id", ids.as_slice()), ("spike_count", counts.as_slice())];
    cols.extend(
        info.columns
            .iter()
            .map(|c| (c.name.as_str(), c.values.as_slice())),
    );
    ns_protocol::filter::select(&conditions, &cols, info.ids.len())
}

/// The unit rows a PSTH shows: those of the `units=` selection (shared
/// with the raster and the units table), ordered as the state says, kept
/// to the state's units (all when `None`), at most 100.
pub fn psth_rows(info: &UnitsInfo, state: &PsthState, selection: &str) -> Vec<usize> {
    let allowed: Vec<usize> =
        filtered_rows(info, selection).unwrap_or_else(|_| (0..info.ids.len()).collect());
    let order = sorted_rows(
        info,
        &allowed,
        state.sort_by.as_deref().unwrap_or("id"),
        state.sort_desc,
    );
    order
        .into_iter()
        .filter(|r| match &state.units {
            None => true,
            Some(ids) => info.ids.get(*r).is_some_and(|id| ids.contains(id)),
        })
        .take(100)
        .collect()
}

/// The state a PSTH opens with: the hash's, with the first unit when it
/// names none.
pub fn psth_initial_state(info: &UnitsInfo, hash: &str) -> PsthState {
    let mut s = PsthState::from_hash(hash);
    if s.units.as_ref().is_some_and(Vec::is_empty) {
        s.units = info.ids.first().map(|id| vec![*id]);
    }
    s
}

/// The PSTH view's requests: one per alignment column, for these rows.
///
/// # Errors
/// When the state's trial filter does not parse.
pub fn psth_requests(
    units_path: &str,
    trials_path: &str,
    rows: &[usize],
    state: &PsthState,
) -> Result<Vec<GetPsth>, String> {
    let trial_filter = ns_protocol::filter::parse(&state.trials)?;
    let units: Vec<u64> = rows.iter().map(|r| *r as u64).collect();
    Ok(state
        .align_to
        .iter()
        .map(|align| GetPsth {
            units_path: units_path.to_string(),
            units: units.clone(),
            trials_path: trials_path.to_string(),
            align_to: align.clone(),
            window_start: state.window_start,
            window_end: state.window_end,
            num_bins: state.num_bins,
            smoothed: state.smoothed,
            group_by: state.group_by.clone(),
            categories: state.categories.clone(),
            trial_filter: trial_filter.clone(),
        })
        .collect())
}

/// Left margin of the time plots (row labels), CSS pixels.
pub const PLOT_LEFT_PX: f64 = 84.0;

/// Spike times come back up to this many; beyond, per-pixel counts.
pub const RASTER_MAX_SPIKES: u32 = 200_000;

/// The raster view's request for these rows, window and plot width (CSS
/// pixels of its canvas, labels included): a quarter of the window more on
/// each side (so a small pan needs nothing new), 1.5 bins per plotted pixel.
pub fn raster_request(
    path: &str,
    rows: &[usize],
    window: (f64, f64),
    canvas_width: f64,
    label_width: f64,
) -> GetRaster {
    let (a, b) = window;
    let m = (b - a) * 0.25;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a pixel count"
    )]
    let bins = ((canvas_width - label_width).max(100.0) * 1.5) as u32;
    GetRaster {
        path: path.to_string(),
        units: rows.iter().map(|r| *r as u64).collect(),
        start_secs: a - m,
        end_secs: b + m,
        max_spikes: RASTER_MAX_SPIKES,
        bins,
    }
}
