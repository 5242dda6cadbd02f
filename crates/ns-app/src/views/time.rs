//! The time context a tab's views share: the data's extent, the visible
//! window and the current time. Pan, zoom and the cursor change it; every
//! view of the tab redraws from it; the active tab writes it to the URL
//! (`tab-time=<start>,<end>,<current>`).

use std::sync::Arc;

use leptos::prelude::*;

/// Shortest window, in seconds (below it, zooming in stops).
const MIN_WIDTH: f64 = 1e-5;

#[derive(Clone, Copy)]
pub struct TimeContext {
    /// Union of the extents of the views' data (start, end seconds).
    pub extent: RwSignal<Option<(f64, f64)>>,
    /// The visible window (start, end seconds).
    pub window: RwSignal<Option<(f64, f64)>>,
    pub current: RwSignal<Option<f64>>,
    /// ROIs (row ids) selected in a segmentation view of the tab; the
    /// traces of a RoiResponseSeries follow it.
    pub rois: RwSignal<Option<Arc<Vec<i64>>>>,
    /// A frozen figure's window does not move (its data is only that).
    pub frozen: RwSignal<bool>,
}

impl TimeContext {
    /// A context, starting at `initial` (from the URL) if given.
    pub fn new(initial: Option<(f64, f64, Option<f64>)>) -> Self {
        Self {
            extent: RwSignal::new(None),
            window: RwSignal::new(initial.map(|(a, b, _)| (a, b))),
            current: RwSignal::new(initial.and_then(|(_, _, c)| c)),
            rois: RwSignal::new(None),
            frozen: RwSignal::new(false),
        }
    }

    /// A view's data spans `start..end`; `first` is the window it would
    /// show first (used when no window is set yet).
    pub fn add_extent(&self, start: f64, end: f64, first: (f64, f64)) {
        if !(start.is_finite() && end.is_finite()) {
            return;
        }
        let end = if end > start { end } else { start + 1.0 };
        self.extent.update(|e| {
            *e = Some(match *e {
                Some((a, b)) => (a.min(start), b.max(end)),
                None => (start, end),
            });
        });
        // (A view's extent can arrive after its tab closed: nothing to set.)
        if self.window.try_get_untracked().is_some_and(|w| w.is_none()) {
            let (a, b) = first;
            let b = if b > a { b } else { end };
            self.window.set(Some((a, b)));
        }
    }

    /// Sets the window, kept within reach of the data: at most the whole
    /// extent (plus a margin) wide, overlapping it, at least `MIN_WIDTH`.
    pub fn set_window(&self, start: f64, end: f64) {
        if !(start.is_finite() && end.is_finite()) || self.frozen.get_untracked() {
            return;
        }
        let (mut a, mut b) = (start.min(end), start.max(end));
        if b - a < MIN_WIDTH {
            let mid = (a + b) / 2.0;
            a = mid - MIN_WIDTH / 2.0;
            b = mid + MIN_WIDTH / 2.0;
        }
        if let Some((lo, hi)) = self.extent.get_untracked() {
            let span = (hi - lo).max(MIN_WIDTH);
            let max_width = span * 1.1;
            if b - a > max_width {
                let mid = (a + b) / 2.0;
                a = mid - max_width / 2.0;
                b = mid + max_width / 2.0;
            }
            let w = b - a;
            // Keep at least a tenth of the window over the data.
            let min_start = lo - w * 0.9;
            let max_start = hi - w * 0.1;
            if a < min_start {
                a = min_start;
            } else if a > max_start {
                a = max_start;
            }
            b = a + w;
        }
        self.window.set(Some((a, b)));
    }

    /// Moves the window by `fraction` of its width.
    pub fn pan(&self, fraction: f64) {
        if let Some((a, b)) = self.window.get_untracked() {
            let d = (b - a) * fraction;
            self.set_window(a + d, b + d);
        }
    }

    /// Zooms by `factor` (< 1 in, > 1 out) keeping `anchor` (seconds) in
    /// place; the window's middle when `None`.
    pub fn zoom(&self, factor: f64, anchor: Option<f64>) {
        if let Some((a, b)) = self.window.get_untracked() {
            let t = anchor.unwrap_or((a + b) / 2.0);
            self.set_window(t - (t - a) * factor, t + (b - t) * factor);
        }
    }

    /// Shows the whole extent.
    pub fn show_all(&self) {
        if let Some((a, b)) = self.extent.get_untracked() {
            self.set_window(a, b);
        }
    }
}
