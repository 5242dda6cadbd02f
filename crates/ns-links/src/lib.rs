//! Links that exist in the wild, as pure functions (tested natively).
//!
//! - DANDI's "Open with Neurosift": `/nwb?url=<asset URL>&dandisetId=…&dandisetVersion=…`
//!   (`&st=lindi` for LINDI assets, `&tab=…`, `&embedded=1`).
//! - Older links: `/?p=/nwb&url=…&dandisetId=…&dandisetVersion=…&tab=neurodata-item:/path|Type`
//!   (`url` may repeat; the first is used).
//! - Dandiset pages: `/dandiset/<id>?dandisetVersion=<v>`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use url::{Host, Url};

mod figure;
pub use figure::{FigureLink, plugin_url};

/// The default DANDI API root.
pub const DANDI_API: &str = "https://api.dandiarchive.org/api";

/// The DANDI APIs that get the user's API key by default: the public
/// archive and its sandbox.
pub const DANDI_API_ROOTS: [&str; 2] = [
    "https://api.dandiarchive.org/api",
    "https://api.sandbox.dandiarchive.org/api",
];

/// What [`encode_component`] escapes: everything but RFC 3986 unreserved
/// characters, and `/` and `:` (kept for readable links).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/')
    .remove(b':');

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX`
/// a byte; a malformed escape stays as it is, and invalid UTF-8 becomes
/// U+FFFD.
pub fn decode_component(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Encodes a query value (RFC 3986 unreserved characters stay; also `/` and `:`
/// for readable links).
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Parses a query string (with or without the leading `?`) into pairs, in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn build_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The API roots whose hosts may get the user's DANDI API key: the public
/// and sandbox DANDI APIs, and the one the user configured (if any).
pub fn dandi_credential_roots(configured_api: Option<&str>) -> Vec<String> {
    DANDI_API_ROOTS
        .iter()
        .map(ToString::to_string)
        .chain(configured_api.map(str::to_string))
        .collect()
}

/// Whether credentials (an `Authorization` header, a `--header`) may be sent
/// with a request to `url`: only when `url` has the same origin (scheme,
/// host, port) as one of `roots`, and only over https, except to the
/// loopback interface (`localhost`, `127.0.0.1`, `[::1]`: local servers and
/// tests). Everything else gets no credentials: another host named in a
/// link, a redirect's target, a LINDI reference, a plain-http URL.
///
/// Callers decide per request (and per redirect hop), with the roots that
/// the credentials belong to: [`dandi_credential_roots`] in the app, the
/// URL given on the command line in the CLI.
pub fn credentials_allowed(url: &str, roots: &[impl AsRef<str>]) -> bool {
    let Ok(target) = Url::parse(url) else {
        return false;
    };
    let secure = match target.scheme() {
        "https" => true,
        "http" => is_loopback(&target),
        _ => false,
    };
    secure
        && roots
            .iter()
            .any(|root| Url::parse(root.as_ref()).is_ok_and(|r| r.origin() == target.origin()))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
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

/// One view of a tab: a view by name (or the object's default view when
/// `None`) of the object at `path`, with secondary objects (`^…`, such as
/// the units of a PSTH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabItem {
    pub view: Option<String>,
    pub path: String,
    pub secondary: Vec<String>,
}

impl TabItem {
    /// An item showing an object's default view.
    pub fn object(path: impl Into<String>) -> Self {
        Self {
            view: None,
            path: path.into(),
            secondary: Vec::new(),
        }
    }

    /// Reads `Name|/path^/secondary…` (a view by name), `/path`, or the
    /// legacy `neurodata-item:/path|Type`.
    fn parse(item: &str) -> Self {
        let item = item.trim();
        let item = item.strip_prefix("view:").unwrap_or(item);
        if item.starts_with('/') || item.starts_with("neurodata-item:") || !item.contains('|') {
            return Self::object(legacy_tab(item));
        }
        let (view, target) = item.split_once('|').unwrap_or((item, ""));
        let mut parts = target.split('^');
        Self {
            view: Some(view.to_string()),
            path: parts.next().unwrap_or_default().to_string(),
            secondary: parts
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    /// `Name|/path^/secondary` or `/path`.
    fn format(&self) -> String {
        match &self.view {
            None => self.path.clone(),
            Some(view) => {
                let mut out = format!("{view}|{}", self.path);
                for s in &self.secondary {
                    out.push('^');
                    out.push_str(s);
                }
                out
            }
        }
    }
}

/// What the `tab` parameter asks to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tab {
    /// An object path: its default view (others offered).
    Object(String),
    /// `view:<Name>|<path>^<secondary path>…`.
    View(TabItem),
    /// A JSON array of items (`"/path"` or `"Name|/path^/s"`): one tab
    /// whose views share a time axis.
    Many(Vec<TabItem>),
}

impl Tab {
    /// The items it shows, in order.
    pub fn items(&self) -> Vec<TabItem> {
        match self {
            Tab::Object(p) => vec![TabItem::object(p.clone())],
            Tab::View(item) => vec![item.clone()],
            Tab::Many(items) => items.clone(),
        }
    }

    /// The `tab=` value that reads back as this tab.
    pub fn format(&self) -> String {
        match self {
            Tab::Object(p) => p.clone(),
            Tab::View(item) => format!("view:{}", item.format()),
            Tab::Many(items) => {
                serde_json::to_string(&items.iter().map(TabItem::format).collect::<Vec<_>>())
                    .unwrap_or_default()
            }
        }
    }
}

/// Reads a `tab=` value; `None` for an empty one or a malformed JSON array.
pub fn parse_tab(tab: &str) -> Option<Tab> {
    let tab = tab.trim();
    if tab.is_empty() {
        return None;
    }
    if tab.starts_with("view:") {
        let item = TabItem::parse(tab);
        return Some(match item.view {
            Some(_) => Tab::View(item),
            None => Tab::Object(item.path),
        });
    }
    if tab.starts_with('[') {
        // A JSON array of items; anything else that starts with `[` is no tab.
        let items: Vec<String> = serde_json::from_str(tab).ok()?;
        return Some(Tab::Many(
            items
                .iter()
                .map(|s| TabItem::parse(s))
                .filter(|i| !i.path.is_empty())
                .collect(),
        ));
    }
    Some(Tab::Object(legacy_tab(tab)))
}

/// Reads `tab-time=<start>,<end>[,<current>]` (seconds): the visible window
/// and the current time. `None` unless start < end, all finite.
pub fn parse_tab_time(value: &str) -> Option<(f64, f64, Option<f64>)> {
    let mut parts = value.split(',').map(|p| p.trim().parse::<f64>());
    let start = parts.next()?.ok()?;
    let end = parts.next()?.ok()?;
    let current = parts.next().and_then(Result::ok).filter(|c| c.is_finite());
    (start.is_finite() && end.is_finite() && start < end).then_some((start, end, current))
}

/// Writes a `tab-time` value (times rounded to microseconds).
pub fn format_tab_time(start: f64, end: f64, current: Option<f64>) -> String {
    let t = |v: f64| {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-" {
            "0".to_string()
        } else {
            s.to_string()
        }
    };
    match current {
        Some(c) => format!("{},{},{}", t(start), t(end), t(c)),
        None => format!("{},{}", t(start), t(end)),
    }
}

/// The path segments of `url` up to the asset id and the asset id, when
/// `url` is a DANDI download URL `…/assets/<id>/download/`.
fn asset_segments(url: &Url) -> Option<(usize, String)> {
    let segments: Vec<&str> = url.path_segments()?.collect();
    segments
        .windows(3)
        .position(|w| w[0] == "assets" && !w[1].is_empty() && w[2] == "download")
        .and_then(|i| {
            let id = percent_decode_str(segments.get(i + 1)?)
                .decode_utf8()
                .ok()?
                .into_owned();
            Some((i + 2, id))
        })
}

/// The asset id of a DANDI download URL `…/api/assets/<id>/download/`.
pub fn dandi_asset_id(url: &str) -> Option<String> {
    asset_segments(&Url::parse(url).ok()?).map(|(_, id)| id)
}

/// The API URL of the asset that a DANDI download URL names
/// (`…/api/assets/<id>/download/` → `…/api/assets/<id>/`), whose answer holds
/// the asset's `path` in its dandiset.
pub fn dandi_asset_info_url(download_url: &str) -> Option<String> {
    let mut url = Url::parse(download_url).ok()?;
    let (keep, _) = asset_segments(&url)?;
    let path: Vec<String> = url
        .path_segments()?
        .take(keep)
        .map(str::to_string)
        .collect();
    url.set_path(&format!("/{}/", path.join("/")));
    url.set_query(None);
    url.set_fragment(None);
    Some(url.into())
}

/// The name to show for a path or URL: its last non-empty path segment
/// (percent-decoded for a URL, whose query and fragment are not part of it).
pub fn file_name(location: &str) -> String {
    let url = Url::parse(location)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https" | "file"));
    let from_url = url.as_ref().and_then(|u| {
        let last = u.path_segments()?.rev().find(|s| !s.is_empty())?;
        Some(percent_decode_str(last).decode_utf8_lossy().into_owned())
    });
    from_url
        .or_else(|| {
            location
                .rsplit(['/', '\\'])
                .find(|s| !s.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| location.to_string())
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
/// Whether a location names a Zarr store rather than a file: a URL or path
/// ending in `.zarr` (or `.zarr/`), or a URL of a folder inside a `zarr/`
/// folder (DANDI's Zarr assets are `…/zarr/<id>/`). A query or fragment is
/// not part of it. Local directories are told apart by the file system instead.
pub fn looks_like_zarr(location: &str) -> bool {
    let end = location.find(['?', '#']).unwrap_or(location.len());
    let path = &location[..end];
    if path
        .trim_end_matches('/')
        .to_ascii_lowercase()
        .ends_with(".zarr")
    {
        return true;
    }
    // A folder of a `zarr/` folder on a server (DANDI's bucket keeps its
    // Zarr assets as `…/zarr/<id>/`). Not any folder URL: DANDI's download
    // URLs of files end in `/download/`.
    path.split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .is_some_and(|(_, path)| {
            path.ends_with('/') && (path.starts_with("zarr/") || path.contains("/zarr/"))
        })
}

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
        let psth = TabItem {
            view: Some("PSTH".into()),
            path: "/intervals/trials".into(),
            secondary: vec!["/units".into()],
        };
        assert_eq!(
            parse_tab("view:PSTH|/intervals/trials^/units"),
            Some(Tab::View(psth.clone()))
        );
        assert_eq!(
            parse_tab(r#"["/a","/b"]"#),
            Some(Tab::Many(vec![
                TabItem::object("/a"),
                TabItem::object("/b")
            ]))
        );
        assert_eq!(
            parse_tab(r#"["/a","PSTH|/intervals/trials^/units"]"#),
            Some(Tab::Many(vec![TabItem::object("/a"), psth.clone()]))
        );
        assert_eq!(parse_tab(""), None);
        // Each form reads back as itself.
        for tab in [
            "/acquisition/ts",
            "view:PSTH|/intervals/trials^/units",
            "view:X/Y|/processing/behavior/Position/xy",
            r#"["/a","Raster|/units"]"#,
        ] {
            assert_eq!(parse_tab(tab).map(|t| t.format()).as_deref(), Some(tab));
        }
        // Old view names with a slash stay names.
        assert_eq!(
            parse_tab("view:X/Y|/p").map(|t| t.items()[0].view.clone()),
            Some(Some("X/Y".into()))
        );
    }

    #[test]
    fn tab_times() {
        assert_eq!(parse_tab_time("1.5,3,2"), Some((1.5, 3.0, Some(2.0))));
        assert_eq!(parse_tab_time("1.5,3"), Some((1.5, 3.0, None)));
        assert_eq!(parse_tab_time("3,1"), None);
        assert_eq!(parse_tab_time("a,1"), None);
        assert_eq!(parse_tab_time("0,inf"), None);
        assert_eq!(format_tab_time(1.25, 3.0, Some(2.000_000_4)), "1.25,3,2");
        assert_eq!(format_tab_time(-0.5, 0.0, None), "-0.5,0");
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

    #[test]
    fn query_escapes() {
        // Unicode, `+` as space, `%2B` as a plus, and malformed escapes kept.
        assert_eq!(decode_component("caf%C3%A9+%E2%9C%93"), "café ✓");
        assert_eq!(decode_component("a+b"), "a b");
        assert_eq!(decode_component("a%2Bb"), "a+b");
        assert_eq!(decode_component("%zz%4"), "%zz%4");
        assert_eq!(decode_component("%"), "%");
        assert_eq!(decode_component("%FF"), "\u{FFFD}");
        assert_eq!(encode_component("café ✓"), "caf%C3%A9%20%E2%9C%93");
        assert_eq!(encode_component("a+b=c?d#e%"), "a%2Bb%3Dc%3Fd%23e%25");
        assert_eq!(
            encode_component("https://h/a b/x.nwb"),
            "https://h/a%20b/x.nwb"
        );
        for s in ["a+b", "100%", "ü/ö:ß", "x&y=z", " leading"] {
            assert_eq!(decode_component(&encode_component(s)), s);
        }
        let pairs = parse_query("?url=http%3A%2F%2Fh%2Fa%2Bb.nwb&tab=%2Fa+b&&x=%E2%9C%93");
        assert_eq!(
            pairs,
            vec![
                ("url".to_string(), "http://h/a+b.nwb".to_string()),
                ("tab".to_string(), "/a b".to_string()),
                ("x".to_string(), "✓".to_string()),
            ]
        );
        // A value with `=` in it is kept whole.
        assert_eq!(
            parse_query("url=http://h/x?sig=a=b")[0].1,
            "http://h/x?sig=a=b"
        );
    }

    #[test]
    fn legacy_links_keep_escaped_urls_intact() {
        // A pre-signed URL whose own query must survive the rewrite.
        let q = "p=/nwb&url=https%3A%2F%2Fs3%2Fk.nwb%3Fa%3D1%26b%3D2%2B3";
        let rewritten = rewrite_legacy(q).unwrap_or_default();
        let query = rewritten.strip_prefix("/nwb?").unwrap_or_default();
        assert_eq!(
            parse_query(query),
            vec![("url".to_string(), "https://s3/k.nwb?a=1&b=2+3".to_string())]
        );
    }

    #[test]
    fn json_array_tabs() {
        assert_eq!(
            parse_tab(r#"["/a b", "neurodata-item:/units|Units", "/\u00e9"]"#),
            Some(Tab::Many(vec![
                TabItem::object("/a b"),
                TabItem::object("/units"),
                TabItem::object("/é")
            ]))
        );
        assert_eq!(parse_tab(r#"["/a", "#), None);
        assert_eq!(parse_tab("[1, 2]"), None);
        assert_eq!(parse_tab("[]"), Some(Tab::Many(vec![])));
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name("https://h/d/x%20y.nwb?sig=a/b#c"), "x y.nwb");
        assert_eq!(
            file_name("https://api.dandiarchive.org/api/assets/a1/download/"),
            "download"
        );
        assert_eq!(file_name("/data/sub-1/x.nwb"), "x.nwb");
        assert_eq!(file_name("C:\\data\\x.nwb"), "x.nwb");
        assert_eq!(file_name("x.nwb"), "x.nwb");
        assert_eq!(file_name("http://h"), "h");
    }

    #[test]
    fn asset_info_urls() {
        assert_eq!(
            dandi_asset_info_url("https://api.dandiarchive.org/api/assets/0a1b-22/download/")
                .as_deref(),
            Some("https://api.dandiarchive.org/api/assets/0a1b-22/")
        );
        assert_eq!(
            dandi_asset_info_url("http://127.0.0.1:8000/api/assets/a1/download/?x=1").as_deref(),
            Some("http://127.0.0.1:8000/api/assets/a1/")
        );
        assert_eq!(dandi_asset_info_url("https://h/assets/x.nwb"), None);
        assert_eq!(dandi_asset_info_url("not a url"), None);
        assert_eq!(dandi_asset_id("https://h/api/assets//download/"), None);
    }

    #[test]
    fn credentials_go_only_to_the_dandi_apis() {
        let roots = dandi_credential_roots(None);
        for url in [
            "https://api.dandiarchive.org/api/assets/x/download/",
            "https://API.dandiarchive.org:443/api/dandisets/",
            "https://api.sandbox.dandiarchive.org/api/assets/x/download/",
        ] {
            assert!(credentials_allowed(url, &roots), "{url}");
        }
        for url in [
            // Another host: a crafted link, S3 after a redirect, a LINDI reference.
            "https://evil.example/api/assets/x/download/",
            "https://dandiarchive-embargo.s3.amazonaws.com/blobs/x",
            "https://api.dandiarchive.org.evil.example/api/",
            "https://api.dandiarchive.org@evil.example/api/",
            // Not https, another port, not a URL.
            "http://api.dandiarchive.org/api/assets/x/download/",
            "https://api.dandiarchive.org:8443/api/",
            "file:///etc/passwd",
            "/etc/passwd",
            "api.dandiarchive.org/api/",
            "",
        ] {
            assert!(!credentials_allowed(url, &roots), "{url}");
        }
    }

    #[test]
    fn hosts_outside_ascii_are_refused_their_ascii_form_works() {
        // No Unicode tables are built in (idna_adapter 1.0, see Cargo.toml):
        // such a host is not a URL here, so it gets no credentials.
        let roots = dandi_credential_roots(Some("https://xn--bcher-kva.example/api"));
        assert!(url::Url::parse("https://bücher.example/a.nwb").is_err());
        assert!(!credentials_allowed("https://bücher.example/api/x", &roots));
        assert!(credentials_allowed(
            "https://xn--bcher-kva.example/api/x",
            &roots
        ));
    }

    #[test]
    fn a_configured_api_gets_credentials_over_https_or_loopback_only() {
        let local = dandi_credential_roots(Some("http://127.0.0.1:8000/api"));
        assert!(credentials_allowed("http://127.0.0.1:8000/api/x/", &local));
        // Same host, another port: another origin (the tests' second server).
        assert!(!credentials_allowed(
            "http://127.0.0.1:8001/files/x.nwb",
            &local
        ));
        assert!(credentials_allowed(
            "http://localhost:9/x",
            &["http://localhost:9/"]
        ));
        assert!(credentials_allowed("http://[::1]:9/x", &["http://[::1]:9"]));
        // A configured plain-http API elsewhere never gets the key.
        let plain = dandi_credential_roots(Some("http://dandi.example.org/api"));
        assert!(!credentials_allowed(
            "http://dandi.example.org/api/x/",
            &plain
        ));
        let own = dandi_credential_roots(Some("https://dandi.example.org/api"));
        assert!(credentials_allowed(
            "https://dandi.example.org/other/",
            &own
        ));
        // The CLI: the host of the URL on the command line only.
        let cli = ["https://data.example.org/d/f.nwb.lindi.json"];
        assert!(credentials_allowed(
            "https://data.example.org/d/f.nwb",
            &cli
        ));
        assert!(!credentials_allowed("https://s3.example.org/d/f.nwb", &cli));
        assert!(!credentials_allowed(
            "http://data.example.org/d/f.nwb",
            &cli
        ));
        assert!(!credentials_allowed("https://x/", &[] as &[&str]));
    }

    #[test]
    fn zarr_locations() {
        for yes in [
            "x.nwb.zarr",
            "/data/x.nwb.zarr/",
            "https://h/a/x.nwb.zarr",
            "https://h/a/x.ZARR/?sig=1",
            "https://dandiarchive.s3.amazonaws.com/zarr/0a1b/",
        ] {
            assert!(looks_like_zarr(yes), "{yes}");
        }
        for no in [
            "x.nwb",
            "https://h/a/x.nwb",
            "https://h/",
            "https://h",
            "https://h/x.nwb?u=a.zarr",
            "https://api.dandiarchive.org/api/assets/1/download/",
            "https://h/zarr/x.nwb",
            "dir/",
        ] {
            assert!(!looks_like_zarr(no), "{no}");
        }
    }
}
