//! Channel subsetting by electrodes-table columns (`location=CA1`,
//! `group~shank0`, `id>=8`), kept in the URL (`channels=`).

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

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Contains,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One condition: `column op value`.
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    column: String,
    op: Op,
    value: String,
}

fn parse(filter: &str) -> Result<Vec<Condition>, String> {
    filter
        .split([',', '&'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            // Two-character operators first.
            for (text, op) in [
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("=", Op::Eq),
                ("~", Op::Contains),
                ("<", Op::Lt),
                (">", Op::Gt),
            ] {
                if let Some((column, value)) = c.split_once(text) {
                    let column = column.trim();
                    if column.is_empty() {
                        return Err(format!("{c:?}: no column before {text}"));
                    }
                    return Ok(Condition {
                        column: column.to_string(),
                        op,
                        value: value.trim().to_string(),
                    });
                }
            }
            Err(format!(
                "{c:?}: write column=value (or !=, ~, <, <=, >, >=)"
            ))
        })
        .collect()
}

fn holds(cond: &Condition, text: &str) -> bool {
    let number = |s: &str| s.parse::<f64>().ok();
    match cond.op {
        Op::Eq => text == cond.value,
        Op::Ne => text != cond.value,
        Op::Contains => text.contains(&cond.value),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => match (number(text), number(&cond.value)) {
            (Some(a), Some(b)) => match cond.op {
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                _ => a >= b,
            },
            _ => false,
        },
    }
}

/// The channels (indices) that pass `filter`; an error names the bad
/// condition or the unknown column.
pub fn apply(info: &SeriesInfo, filter: &str) -> Result<Vec<u64>, String> {
    let conditions = parse(filter)?;
    let n = info.num_channels;
    let index_texts: Vec<String>;
    let mut columns: Vec<(&str, &[String])> = info
        .channel_columns
        .iter()
        .map(|(name, values)| (name.as_str(), values.as_slice()))
        .collect();
    if !columns.iter().any(|(c, _)| *c == "index") {
        index_texts = (0..n.min(SeriesInfo::MAX_CHANNELS))
            .map(|i| i.to_string())
            .collect();
        columns.push(("index", &index_texts));
    }
    let mut resolved = Vec::new();
    for cond in &conditions {
        let Some((_, values)) = columns.iter().find(|(c, _)| *c == cond.column) else {
            let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
            return Err(format!(
                "no column {:?}; columns: {}",
                cond.column,
                names.join(", ")
            ));
        };
        resolved.push((cond, *values));
    }
    if resolved.is_empty() {
        return Ok((0..n).collect());
    }
    Ok((0..n)
        .filter(|i| {
            let Ok(i) = usize::try_from(*i) else {
                return false;
            };
            resolved
                .iter()
                .all(|(cond, values)| values.get(i).is_some_and(|v| holds(cond, v)))
        })
        .collect())
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
                .unwrap_err()
                .contains("no column \"depth\"")
        );
        assert!(apply(&i, "location").is_err());
    }
}
