//! Figure URLs: `/f?v=<view>&d=<data URI>&label=<label>&s=<state>` (figurl's
//! form), and the view URIs of plugins.

use crate::{encode_component, parse_query};

/// A parsed figure URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FigureLink {
    /// A built-in view's name, or a plugin's `http(s)://`, `gs://` or
    /// `npm://` URI.
    pub view: String,
    /// The figure data: `sha1://<hash>` or `kachery:<zone>:sha1:<hash>:<label>`.
    pub data: String,
    pub label: Option<String>,
    /// The view state (JSON), as the view last set it.
    pub state: Option<String>,
    pub embedded: bool,
}

impl FigureLink {
    /// Reads a figure URL's query string (`?v=…&d=…`). `None` when `v` or
    /// `d` is missing.
    pub fn parse_query(query: &str) -> Option<FigureLink> {
        let pairs = parse_query(query);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        Some(FigureLink {
            view: get("v").filter(|v| !v.is_empty())?,
            data: get("d").filter(|d| !d.is_empty())?,
            label: get("label").filter(|l| !l.is_empty()),
            state: get("s").filter(|s| !s.is_empty()),
            embedded: get("embedded").as_deref() == Some("1"),
        })
    }

    /// Reads a whole URL (or a path with a query) whose path ends in `/f`.
    pub fn parse_url(url: &str) -> Option<FigureLink> {
        let (path, query) = url.split_once('?')?;
        let path = path.split('#').next().unwrap_or(path);
        path.trim_end_matches('/')
            .ends_with("/f")
            .then(|| FigureLink::parse_query(query.split('#').next().unwrap_or(query)))
            .flatten()
    }

    /// The URL's path and query (`/f?v=…`), to put after an origin.
    pub fn to_path(&self) -> String {
        let mut out = format!(
            "/f?v={}&d={}",
            encode_component(&self.view),
            encode_component(&self.data)
        );
        if let Some(label) = &self.label {
            out.push_str(&format!("&label={}", encode_component(label)));
        }
        if let Some(state) = &self.state {
            out.push_str(&format!("&s={}", encode_component(state)));
        }
        if self.embedded {
            out.push_str("&embedded=1");
        }
        out
    }
}

/// Where a plugin view's page is: `http(s)://…` as given; `gs://bucket/path`
/// → `https://storage.googleapis.com/bucket/path/index.html`;
/// `npm://package@version/dir` → `https://unpkg.com/package@version/dir/index.html`.
/// `None` for a built-in view's name or anything else.
pub fn plugin_url(view: &str) -> Option<String> {
    let join = |base: &str, rest: &str| {
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains("..") || rest.contains(['?', '#', '\\']) {
            None
        } else {
            Some(format!("{base}/{rest}/index.html"))
        }
    };
    if let Some(rest) = view.strip_prefix("gs://") {
        return join("https://storage.googleapis.com", rest);
    }
    if let Some(rest) = view.strip_prefix("npm://") {
        return join("https://unpkg.com", rest);
    }
    let parsed = url::Url::parse(view).ok()?;
    matches!(parsed.scheme(), "http" | "https")
        .then(|| parsed.host_str().is_some())
        .filter(|h| *h)
        .map(|_| view.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_urls_round_trip() {
        let link = FigureLink {
            view: "Raster".into(),
            data: "sha1://0369af9f0369af9f0369af9f0369af9f0369af9f".into(),
            label: Some("units & spikes".into()),
            state: Some(r#"{"tab-time":"1,2"}"#.into()),
            embedded: false,
        };
        let path = link.to_path();
        assert!(path.starts_with("/f?v=Raster&d=sha1://0369"), "{path}");
        assert_eq!(
            FigureLink::parse_url(&format!("https://x.org{path}")),
            Some(link.clone())
        );
        let figurl = "https://figurl.org/f?v=gs://figurl/vegalite-2&d=sha1://0369af9f0369af9f0369af9f0369af9f0369af9f&label=stocks%20chart";
        let f = FigureLink::parse_url(figurl).expect("figurl link");
        assert_eq!(f.view, "gs://figurl/vegalite-2");
        assert_eq!(f.label.as_deref(), Some("stocks chart"));
        assert_eq!(FigureLink::parse_url("https://x.org/nwb?v=a&d=b"), None);
        assert_eq!(FigureLink::parse_query("?v=a"), None);
    }

    #[test]
    fn plugin_uris_resolve() {
        assert_eq!(
            plugin_url("gs://figurl/vegalite-2").as_deref(),
            Some("https://storage.googleapis.com/figurl/vegalite-2/index.html")
        );
        assert_eq!(
            plugin_url("npm://@fi-sci/figurl-sortingview@12/dist").as_deref(),
            Some("https://unpkg.com/@fi-sci/figurl-sortingview@12/dist/index.html")
        );
        assert_eq!(
            plugin_url("http://127.0.0.1:9/p/index.html").as_deref(),
            Some("http://127.0.0.1:9/p/index.html")
        );
        assert_eq!(plugin_url("Raster"), None);
        assert_eq!(plugin_url("javascript:alert(1)"), None);
        assert_eq!(plugin_url("gs://b/../x"), None);
    }
}
