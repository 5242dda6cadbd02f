//! Channel subsetting by electrodes-table columns (`location=CA1`,
//! `group~shank0`, `id>=8`, `id=3|5|8`), kept in the URL (`channels=`).

use leptos::prelude::*;
use ns_protocol::SeriesInfo;

/// The URL parameter holding the filter.
const PARAM: &str = "channels";

pub fn from_url() -> String {
    crate::url::param(PARAM).unwrap_or_default()
}

pub fn to_url(filter: &str) {
    let value = Some(filter.trim().to_string()).filter(|f| !f.is_empty());
    crate::url::set_params(&[(PARAM, value)]);
}

/// The channels (indices) that pass `filter`; an error names the bad
/// condition or the unknown column.
pub fn apply(info: &SeriesInfo, filter: &str) -> Result<Vec<u64>, String> {
    let conditions = ns_protocol::filter::parse(filter)?;
    let n = info.num_channels;
    if conditions.is_empty() {
        return Ok((0..n).collect());
    }
    let index_texts: Vec<String> = (0..n.min(SeriesInfo::MAX_CHANNELS))
        .map(|i| i.to_string())
        .collect();
    let mut columns: Vec<(&str, &[String])> = info
        .channel_columns
        .iter()
        .map(|(name, values)| (name.as_str(), values.as_slice()))
        .collect();
    if !columns.iter().any(|(c, _)| *c == "index") {
        columns.push(("index", &index_texts));
    }
    let described = usize::try_from(n.min(SeriesInfo::MAX_CHANNELS)).unwrap_or(0);
    Ok(
        ns_protocol::filter::select(&conditions, &columns, described)?
            .into_iter()
            .map(|i| i as u64)
            .collect(),
    )
}

#[component]
pub fn FilterBox(
    filter: RwSignal<String>,
    columns: Vec<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let text = RwSignal::new(filter.get_untracked());
    let hint = if columns.is_empty() {
        "index<8".to_string()
    } else {
        format!("{}=…  (columns: {})", columns[0], columns.join(", "))
    };
    view! {
        <form class="filter" on:submit=move |ev| { ev.prevent_default(); filter.set(text.get_untracked()); }>
            <label>"Channels where "
                <input type="text" data-testid="channel-filter" placeholder=hint prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))/>
            </label>
            <button type="submit">"filter"</button>
            {move || (!filter.get().is_empty()).then(|| view! {
                <button type="button" on:click=move |_| { text.set(String::new()); filter.set(String::new()); }>"clear"</button>
            })}
            {move || error.get().map(|e| view! { <span class="filter-error" data-testid="filter-error">{e}</span> })}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> SeriesInfo {
        SeriesInfo {
            num_channels: 4,
            channel_columns: vec![
                (
                    "id".into(),
                    vec!["10".into(), "11".into(), "12".into(), "13".into()],
                ),
                (
                    "location".into(),
                    vec!["CA1".into(), "CA3".into(), "CA1".into(), "DG".into()],
                ),
            ],
            ..SeriesInfo::default()
        }
    }

    #[test]
    fn filters_by_columns() {
        let i = info();
        assert_eq!(apply(&i, ""), Ok(vec![0, 1, 2, 3]));
        assert_eq!(apply(&i, "location=CA1"), Ok(vec![0, 2]));
        assert_eq!(apply(&i, "location!=CA1, id>=12"), Ok(vec![3]));
        assert_eq!(apply(&i, "location~CA"), Ok(vec![0, 1, 2]));
        assert_eq!(apply(&i, "index<2"), Ok(vec![0, 1]));
        assert!(
            apply(&i, "depth=3")
                .expect_err("no such column")
                .contains("no column \"depth\"")
        );
        assert!(apply(&i, "location").is_err());
    }
}
