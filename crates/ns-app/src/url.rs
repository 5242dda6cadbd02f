//! The page's query string, read and updated in place (`replaceState`):
//! view state (the tab, its time window, filters) is kept in the URL
//! without navigating, so the open file is not reopened.

fn search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The value of `name` in the page's query string.
pub fn param(name: &str) -> Option<String> {
    ns_links::parse_query(&search())
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Sets (`Some`) or removes (`None`) parameters, keeping the others and
/// their order; the page is not reloaded.
pub fn set_params(updates: &[(&str, Option<String>)]) {
    let mut pairs = ns_links::parse_query(&search());
    for (name, value) in updates {
        match (pairs.iter_mut().find(|(k, _)| k == name), value) {
            (Some(pair), Some(v)) => pair.1.clone_from(v),
            (Some(_), None) => pairs.retain(|(k, _)| k != name),
            (None, Some(v)) => pairs.push(((*name).to_string(), v.clone())),
            (None, None) => {}
        }
    }
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
