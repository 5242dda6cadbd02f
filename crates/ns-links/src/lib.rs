//! Links that exist in the wild, as pure functions (tested natively).
//!
//! - DANDI's "Open with Neurosift": `/nwb?url=<asset URL>&dandisetId=…&dandisetVersion=…`
//!   (`&st=lindi` for LINDI assets, `&tab=…`, `&embedded=1`).
//! - Older links: `/?p=/nwb&url=…&dandisetId=…&dandisetVersion=…&tab=neurodata-item:/path|Type`
//!   (`url` may repeat; the first is used).
//! - Dandiset pages: `/dandiset/<id>?dandisetVersion=<v>`.

/// The default DANDI API root.
pub const DANDI_API: &str = "https://api.dandiarchive.org/api";

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a query value (RFC 3986 unreserved characters stay; also `/` and `:`
/// for readable links).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b':' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Parses a query string (with or without the leading `?`) into pairs, in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode_component(k), decode_component(v)),
            None => (decode_component(p), String::new()),
        })
        .collect()
}

fn build_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// If `query` (of the page `/`) is an old `?p=/nwb&…` link, the path and
/// query of its new form (`/nwb?url=…`); for `p=/dandiset&dandisetId=…`,
/// the dandiset page. `None` when there is nothing to rewrite.
pub fn rewrite_legacy(query: &str) -> Option<String> {
    let pairs = parse_query(query);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let page = get("p")?;
    match page.as_str() {
        "/nwb" => {
            let mut out: Vec<(String, String)> = Vec::new();
            let mut seen_url = false;
            for (k, v) in &pairs {
                match k.as_str() {
                    "p" => {}
                    "url" if seen_url => {}
                    "url" => {
                        seen_url = true;
                        out.push((k.clone(), v.clone()));
                    }
                    "tab" => out.push((k.clone(), legacy_tab(v))),
                    _ => out.push((k.clone(), v.clone())),
                }
            }
            Some(format!("/nwb?{}", build_query(&out)))
        }
        "/dandiset" => {
            let id = get("dandisetId")?;
            let rest: Vec<(String, String)> = pairs
                .iter()
                .filter(|(k, _)| k != "p" && k != "dandisetId")
                .cloned()
                .collect();
            Some(if rest.is_empty() {
                format!("/dandiset/{id}")
            } else {
                format!("/dandiset/{id}?{}", build_query(&rest))
            })
        }
        _ => None,
    }
}

/// `neurodata-item:/acquisition/ts|TimeSeries` → `/acquisition/ts`; other
/// values unchanged.
fn legacy_tab(tab: &str) -> String {
    match tab.strip_prefix("neurodata-item:") {
        Some(rest) => rest.split('|').next().unwrap_or(rest).to_string(),
        None => tab.to_string(),
    }
}

/// What the `tab` parameter asks to show first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tab {
    /// An object path.
    Object(String),
    /// `view:<Plugin>|<path>^<secondary path>`.
    View {
        plugin: String,
        path: String,
        secondary: Option<String>,
    },
    /// A JSON array of paths (several views).
    Many(Vec<String>),
}

pub fn parse_tab(tab: &str) -> Option<Tab> {
    let tab = tab.trim();
    if tab.is_empty() {
        return None;
    }
    if let Some(rest) = tab.strip_prefix("view:") {
        let (plugin, target) = rest.split_once('|').unwrap_or((rest, ""));
        let (path, secondary) = match target.split_once('^') {
            Some((p, s)) => (p.to_string(), Some(s.to_string())),
            None => (target.to_string(), None),
        };
        return Some(Tab::View {
            plugin: plugin.to_string(),
            path,
            secondary,
        });
    }
    if tab.starts_with('[') {
        let inner = tab.trim_start_matches('[').trim_end_matches(']');
        let items: Vec<String> = inner
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        return Some(Tab::Many(items));
    }
    Some(Tab::Object(legacy_tab(tab)))
}

/// The asset id of a DANDI download URL `…/api/assets/<id>/download/`.
pub fn dandi_asset_id(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("/assets/")?;
    let (id, tail) = rest.split_once('/')?;
    (tail.starts_with("download") && !id.is_empty()).then(|| id.to_string())
}

/// `…/assets/<id>/download/` for an asset.
pub fn dandi_download_url(api: &str, asset_id: &str) -> String {
    format!("{}/assets/{asset_id}/download/", api.trim_end_matches('/'))
}

/// The viewer link for a DANDI asset, as DANDI's "Open with" button makes it.
pub fn nwb_link(url: &str, dandiset_id: Option<&str>, version: Option<&str>) -> String {
    let mut pairs = vec![("url".to_string(), url.to_string())];
    if let Some(id) = dandiset_id {
        pairs.push(("dandisetId".into(), id.into()));
    }
    if let Some(v) = version {
        pairs.push(("dandisetVersion".into(), v.into()));
    }
    if url.ends_with(".lindi.json") || url.ends_with(".lindi.tar") {
        pairs.push(("st".into(), "lindi".into()));
    }
    format!("/nwb?{}", build_query(&pairs))
}

/// DANDI API URLs the viewer uses.
pub mod api {
    use super::encode_component;

    pub fn dandiset(api: &str, id: &str) -> String {
        format!("{}/dandisets/{id}/", api.trim_end_matches('/'))
    }

    pub fn version_info(api: &str, id: &str, version: &str) -> String {
        format!(
            "{}/dandisets/{id}/versions/{version}/info/",
            api.trim_end_matches('/')
        )
    }

    pub fn asset_paths(api: &str, id: &str, version: &str, prefix: &str, page: u32) -> String {
        format!(
            "{}/dandisets/{id}/versions/{version}/assets/paths/?path_prefix={}&page={page}&page_size=1000",
            api.trim_end_matches('/'),
            encode_component(prefix)
        )
    }

    pub fn assets_by_glob(api: &str, id: &str, version: &str, path: &str) -> String {
        format!(
            "{}/dandisets/{id}/versions/{version}/assets/?glob={}&metadata=false&zarr=false",
            api.trim_end_matches('/'),
            encode_component(path)
        )
    }

    pub fn search(api: &str, text: &str) -> String {
        format!(
            "{}/dandisets/?page=1&page_size=50&ordering=-modified&search={}&draft=true&empty=false&embargoed=false",
            api.trim_end_matches('/'),
            encode_component(text)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_nwb_links_rewrite() {
        let q = "?p=/nwb&url=https://api.dandiarchive.org/api/assets/abc/download/&dandisetId=000409&dandisetVersion=draft&tab=neurodata-item:/units|Units";
        assert_eq!(
            rewrite_legacy(q).as_deref(),
            Some(
                "/nwb?url=https://api.dandiarchive.org/api/assets/abc/download/&dandisetId=000409&dandisetVersion=draft&tab=/units"
            )
        );
        let q = "p=/nwb&url=http%3A%2F%2Fa%2Fx.nwb&url=http://b/y.nwb&st=lindi";
        assert_eq!(
            rewrite_legacy(q).as_deref(),
            Some("/nwb?url=http://a/x.nwb&st=lindi")
        );
        assert_eq!(
            rewrite_legacy("p=/dandiset&dandisetId=000001").as_deref(),
            Some("/dandiset/000001")
        );
        assert_eq!(rewrite_legacy("url=x"), None);
        assert_eq!(rewrite_legacy("p=/other"), None);
    }

    #[test]
    fn tabs() {
        assert_eq!(
            parse_tab("/acquisition/ts"),
            Some(Tab::Object("/acquisition/ts".into()))
        );
        assert_eq!(
            parse_tab("view:PSTH|/intervals/trials^/units"),
            Some(Tab::View {
                plugin: "PSTH".into(),
                path: "/intervals/trials".into(),
                secondary: Some("/units".into())
            })
        );
        assert_eq!(
            parse_tab(r#"["/a","/b"]"#),
            Some(Tab::Many(vec!["/a".into(), "/b".into()]))
        );
        assert_eq!(parse_tab(""), None);
    }

    #[test]
    fn dandi_urls() {
        let u = "https://api.dandiarchive.org/api/assets/0a1b-22/download/";
        assert_eq!(dandi_asset_id(u).as_deref(), Some("0a1b-22"));
        assert_eq!(dandi_download_url(DANDI_API, "0a1b-22"), u);
        assert_eq!(dandi_asset_id("https://x/y.nwb"), None);
        assert_eq!(
            nwb_link(u, Some("000409"), Some("draft")),
            "/nwb?url=https://api.dandiarchive.org/api/assets/0a1b-22/download/&dandisetId=000409&dandisetVersion=draft"
        );
        assert!(
            api::asset_paths(DANDI_API, "000409", "draft", "sub-1/", 1)
                .contains("path_prefix=sub-1/&page=1")
        );
    }

    #[test]
    fn query_round_trip() {
        let pairs = parse_query("a=1+2&b=%C3%A4&c");
        assert_eq!(pairs[0], ("a".into(), "1 2".into()));
        assert_eq!(pairs[1], ("b".into(), "ä".into()));
        assert_eq!(pairs[2], ("c".into(), String::new()));
        assert_eq!(encode_component("a b&c"), "a%20b%26c");
        assert_eq!(decode_component("100%"), "100%");
    }
}
