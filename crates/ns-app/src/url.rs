//! The page's view state, read and updated in place (`replaceState`): the
//! tab, its time window, filters. On `/nwb` it is the query string itself,
//! so the open file is not reopened. On a figure page (`/f`) the figure's
//! saved state is the base and changes go to the `s=` parameter (a JSON
//! object), as figurl keeps view state.

use std::cell::RefCell;
use std::collections::BTreeMap;

thread_local! {
    /// A figure page's saved state; `None` elsewhere.
    static FIGURE_BASE: RefCell<Option<BTreeMap<String, String>>> = const { RefCell::new(None) };
}

fn search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// On a figure page: its saved state is the base of every parameter.
pub fn use_figure_state(base: BTreeMap<String, String>) {
    FIGURE_BASE.with(|b| *b.borrow_mut() = Some(base));
}

fn figure_state() -> Option<BTreeMap<String, String>> {
    let base = FIGURE_BASE.with(|b| b.borrow().clone())?;
    let mut out = base;
    let s = ns_links::parse_query(&search())
        .into_iter()
        .find(|(k, _)| k == "s")
        .map(|(_, v)| v);
    if let Some(over) =
        s.and_then(|s| serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&s).ok())
    {
        for (k, v) in over {
            match v {
                serde_json::Value::String(s) => {
                    out.insert(k, s);
                }
                serde_json::Value::Null => {
                    out.remove(&k);
                }
                other => {
                    out.insert(k, other.to_string());
                }
            }
        }
    }
    Some(out)
}

/// Every view parameter, in order.
pub fn params() -> Vec<(String, String)> {
    match figure_state() {
        Some(state) => state.into_iter().collect(),
        None => ns_links::parse_query(&search()),
    }
}

/// The value of `name`.
pub fn param(name: &str) -> Option<String> {
    params()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Sets (`Some`) or removes (`None`) parameters, keeping the others and
/// their order; the page is not reloaded.
pub fn set_params(updates: &[(&str, Option<String>)]) {
    let mut pairs = ns_links::parse_query(&search());
    if let Some(current) = figure_state() {
        let updates: Vec<_> = updates
            .iter()
            .filter(|(name, value)| current.get(*name) != value.as_ref())
            .collect();
        if updates.is_empty() {
            return;
        }
        // Changes from the figure's saved state, in `s`.
        let mut s: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .find(|(k, _)| k == "s")
            .and_then(|(_, v)| serde_json::from_str(v).ok())
            .unwrap_or_default();
        for (name, value) in updates {
            s.insert(
                (*name).to_string(),
                value
                    .clone()
                    .map_or(serde_json::Value::Null, serde_json::Value::String),
            );
        }
        let text = serde_json::Value::Object(s).to_string();
        set_pairs(&mut pairs, &[("s", Some(text))]);
    } else {
        set_pairs(&mut pairs, updates);
    }
    replace_query(&pairs);
}

fn set_pairs(pairs: &mut Vec<(String, String)>, updates: &[(&str, Option<String>)]) {
    for (name, value) in updates {
        match (pairs.iter_mut().find(|(k, _)| k == name), value) {
            (Some(pair), Some(v)) => pair.1.clone_from(v),
            (Some(_), None) => pairs.retain(|(k, _)| k != name),
            (None, Some(v)) => pairs.push(((*name).to_string(), v.clone())),
            (None, None) => {}
        }
    }
}

/// Sets a query parameter itself (not view state): a plugin's `s=`.
pub fn set_raw_param(name: &str, value: Option<String>) {
    let mut pairs = ns_links::parse_query(&search());
    set_pairs(&mut pairs, &[(name, value)]);
    replace_query(&pairs);
}

fn replace_query(pairs: &[(String, String)]) {
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                ns_links::encode_component(k),
                ns_links::encode_component(v)
            )
        })
        .collect();
    let Some(window) = web_sys::window() else {
        return;
    };
    let path = window.location().pathname().unwrap_or_default();
    let hash = window.location().hash().unwrap_or_default();
    let url = if query.is_empty() {
        format!("{path}{hash}")
    } else {
        format!("{path}?{}{hash}", query.join("&"))
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}
