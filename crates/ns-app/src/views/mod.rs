//! The view registry and the tabs that show views.
//!
//! Each view is one module declaring a [`ViewDef`]: its Neurosift name
//! (and older names, so existing `tab=view:<Name>|<path>` links resolve),
//! the neurodata types it handles (matched through inheritance: an
//! extension type that inherits TimeSeries gets the TimeSeries views) and
//! how to render it. [`VIEWS`] lists them in one place, in order of
//! preference: an object's default view is the first built one that
//! matches. Names whose view is not built yet resolve to a panel saying
//! so. The views of one tab share a [`TimeContext`].

pub mod canvas;
pub mod channel_filter;
mod events;
pub mod image;
mod imaging;
mod intervals;
mod psth;
mod raster;
pub mod raw;
mod rois;
mod table;
pub mod time;
mod timeseries;
mod units_table;
mod xy;

use std::sync::Arc;

use leptos::prelude::*;
use ns_links::TabItem;
use ns_protocol::Overview;

pub use time::TimeContext;

/// What a view is given.
#[derive(Clone)]
pub struct ViewProps {
    pub path: String,
    /// Secondary objects (`^…` in a tab link), such as a PSTH's units.
    pub secondary: Vec<String>,
    pub time: TimeContext,
    pub overview: Arc<Overview>,
}

/// A view: its names, the types it handles, how it renders.
pub struct ViewDef {
    /// The current Neurosift name (`tab=view:<name>|…`).
    pub name: &'static str,
    /// Shown on its button.
    pub title: &'static str,
    /// Older Neurosift names that open it.
    pub aliases: &'static [&'static str],
    /// Neurodata types it handles (and their subtypes).
    pub types: &'static [&'static str],
    /// `None`: named and matched, not built yet.
    pub render: Option<fn(ViewProps) -> AnyView>,
}

const fn not_yet(
    name: &'static str,
    title: &'static str,
    aliases: &'static [&'static str],
    types: &'static [&'static str],
) -> ViewDef {
    ViewDef {
        name,
        title,
        aliases,
        types,
        render: None,
    }
}

/// Every view, in order of preference.
pub const VIEWS: &[&ViewDef] = &[
    &xy::DEF,
    &events::INTERVAL_SERIES,
    &events::BEHAVIORAL_EVENTS,
    &events::DEF,
    &imaging::DEF,
    &timeseries::DEF,
    &events::AS_EVENTS,
    &intervals::DEF,
    &raster::DEF,
    &units_table::DEF,
    &psth::DEF,
    &not_yet("TrialAlignedSeries", "Trial-aligned series", &[], &[]),
    &image::DEF,
    &rois::SEGMENTATION,
    &rois::PLANE,
    &not_yet(
        "PoseEstimation",
        "Pose estimation",
        &[],
        &["PoseEstimation"],
    ),
    &table::DEF,
];

/// The view a name (current or older) opens.
pub fn by_name(name: &str) -> Option<&'static ViewDef> {
    VIEWS
        .iter()
        .copied()
        .find(|v| v.name == name)
        .or_else(|| VIEWS.iter().copied().find(|v| v.aliases.contains(&name)))
}

/// The views for an object of these types (the type and its ancestors),
/// in order of preference, each once.
pub fn matching(chain: &[String]) -> Vec<&'static ViewDef> {
    VIEWS
        .iter()
        .copied()
        .filter(|v| v.types.iter().any(|t| chain.iter().any(|c| c == t)))
        .collect()
}

/// One item of a tab: the chosen view (by name, else the object's
/// default), buttons for the others and the raw view.
#[component]
pub fn ItemView(
    item: TabItem,
    time: TimeContext,
    overview: Arc<Overview>,
    single: bool,
) -> impl IntoView {
    let chain = overview.type_chain(&item.path);
    let options = matching(&chain);
    let known = overview.objects.iter().any(|o| o.path == item.path);
    // The named view; else the first built one; else raw.
    let initial: Choice = match &item.view {
        Some(name) => match by_name(name) {
            Some(def) => Choice::View(def),
            None => Choice::Unknown(name.clone()),
        },
        None => options
            .iter()
            .find(|v| v.render.is_some())
            .map_or(Choice::Raw, |v| Choice::View(v)),
    };
    let choice = RwSignal::new(initial);
    let path = item.path.clone();
    let secondary = item.secondary.clone();
    let props = ViewProps {
        path: path.clone(),
        secondary,
        time,
        overview: Arc::clone(&overview),
    };
    let buttons = options.clone();
    let set = move |c: Choice| {
        if single {
            let tab = match &c {
                Choice::View(def) => ns_links::Tab::View(TabItem {
                    view: Some(def.name.to_string()),
                    path: path.clone(),
                    secondary: Vec::new(),
                }),
                _ => ns_links::Tab::Object(path.clone()),
            };
            crate::url::set_params(&[("tab", Some(tab.format()))]);
        }
        choice.set(c);
    };
    let set2 = set.clone();
    view! {
        <section class="item" data-path=item.path.clone()>
            <div class="item-head">
                <span class="item-path">{item.path.clone()}</span>
                {chain.first().cloned().map(|t| view! { <span class="type">{t}</span> })}
                <span class="view-buttons" data-testid="view-buttons">
                    {buttons.into_iter().map(|def| {
                        let set = set.clone();
                        view! {
                            <button class=move || if choice.get() == Choice::View(def) { "view-button on" } else { "view-button" }
                                data-view=def.name
                                on:click=move |_| set(Choice::View(def))>{def.title}</button>
                        }
                    }).collect_view()}
                    <button class=move || if choice.get() == Choice::Raw { "view-button on" } else { "view-button" }
                        data-view="raw" on:click=move |_| set2(Choice::Raw)>"Raw"</button>
                </span>
            </div>
            {(!known).then(|| view! { <p class="warning">"⚠ The file has no object at " {item.path.clone()}</p> })}
            {move || match choice.get() {
                Choice::View(def) => match def.render {
                    Some(render) => render(props.clone()),
                    None => view! { <NotYet def=def/> }.into_any(),
                },
                Choice::Unknown(name) => view! {
                    <div class="not-yet" data-testid="not-available">
                        <strong>{format!("No view is named \"{name}\".")}</strong>
                        <p>"Pick one of the views above, or the raw view."</p>
                    </div>
                }.into_any(),
                Choice::Raw => view! { <div data-testid="raw"><raw::RawView path=props.path.clone()/></div> }.into_any(),
            }}
        </section>
    }
}

#[derive(Clone, PartialEq)]
enum Choice {
    View(&'static ViewDef),
    Unknown(String),
    Raw,
}

impl PartialEq for ViewDef {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

#[component]
fn NotYet(def: &'static ViewDef) -> impl IntoView {
    view! {
        <div class="not-yet" data-testid="not-available">
            <strong>{format!("The {} view (\"{}\") is not available yet.", def.title, def.name)}</strong>
            <p>"It is planned; the raw view and the other views above show this object meanwhile."</p>
        </div>
    }
}

/// A tab: its items stacked, sharing one time context, which the URL
/// keeps (`tab-time`).
#[component]
pub fn TabView(
    tab: ns_links::Tab,
    time: TimeContext,
    overview: Arc<Overview>,
    /// A figure page's tab: no Share button (its URL is the share).
    #[prop(optional)]
    figure: bool,
) -> impl IntoView {
    let items = tab.items();
    let share = (!figure).then(|| {
        view! { <div class="tab-actions"><crate::share::ShareButton tab=tab.clone() overview=Arc::clone(&overview)/></div> }
    });
    let single = items.len() == 1;
    crate::reactive::effect(move || {
        if let Some((a, b)) = time.window.get() {
            let value = ns_links::format_tab_time(a, b, time.current.get());
            crate::url::set_params(&[("tab-time", Some(value))]);
        }
    });
    view! {
        <div class="tab-content" data-testid="tab-content">
            {share}
            {items.into_iter().map(|item| view! {
                <ItemView item=item time=time overview=Arc::clone(&overview) single=single/>
            }).collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_neurosift_name_resolves() {
        for name in [
            "SimpleTimeseries",
            "TimeIntervals",
            "SpatialSeriesXY",
            "Events",
            "BehavioralEvents",
            "IntervalSeries",
            "dynamic-table",
            "Raster",
            "PSTH",
            "Image",
            "TwoPhotonSeries",
            "ImageSegmentation",
            "PlaneSegmentation",
            "TimeSeries",
            "ElectricalSeries",
            "SpatialSeries",
            "X/Y",
            "DynamicTable",
            "Units",
            "RasterPlot",
            "DirectRasterPlot",
            "Images",
            "LabeledEvents",
        ] {
            assert!(by_name(name).is_some(), "{name}");
        }
        assert!(by_name("Nope").is_none());
    }

    #[test]
    fn views_match_through_inheritance() {
        let chain: Vec<String> = [
            "MyExtensionSeries",
            "ElectricalSeries",
            "TimeSeries",
            "NWBDataInterface",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        let names: Vec<&str> = matching(&chain).iter().map(|v| v.name).collect();
        assert_eq!(names.first(), Some(&"SimpleTimeseries"));
        let spatial: Vec<String> = ["SpatialSeries", "TimeSeries"]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            matching(&spatial).first().map(|v| v.name),
            Some("SpatialSeriesXY")
        );
        let table: Vec<String> = ["TimeIntervals", "DynamicTable"]
            .iter()
            .map(ToString::to_string)
            .collect();
        let names: Vec<&str> = matching(&table).iter().map(|v| v.name).collect();
        assert_eq!(names, ["TimeIntervals", "PSTH", "dynamic-table"]);
    }
}
