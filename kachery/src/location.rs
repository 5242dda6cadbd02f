//! Where a store is: `--store` / `NEUROSIFT_STORE`, or the per-user default.

use std::fmt;
use std::path::PathBuf;

use ns_store_uri::Zone;

use crate::Error;

/// Where a store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local directory (created when first written).
    Dir(PathBuf),
    /// S3-compatible object storage: `s3://bucket[/prefix]`. Endpoint, keys, region and
    /// `AWS_ALLOW_HTTP` come from `object_store`'s standard AWS environment variables
    /// (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, …).
    S3 {
        /// The bucket.
        bucket: String,
        /// Key prefix inside the bucket (no leading or trailing `/`; may be empty).
        prefix: String,
    },
    /// A store server: `http(s)://host[:port][/zone]`.
    Server {
        /// The URL of the zone, without a trailing `/`.
        url: String,
    },
}

impl Location {
    /// Parses `s3://bucket/prefix`, `http(s)://host[/zone]`, or a directory path.
    pub fn parse(text: &str) -> Result<Location, Error> {
        let bad = |reason: &str| Error::BadLocation {
            location: text.to_string(),
            reason: reason.to_string(),
        };
        if text.is_empty() {
            return Err(bad("empty"));
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad("no bucket after s3://"));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|s| s == "." || s == "..")
                || (!prefix.is_empty() && prefix.split('/').any(str::is_empty))
            {
                return Err(bad("the prefix has an empty, `.` or `..` segment"));
            }
            return Ok(Location::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            let url = reqwest::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
            if url.query().is_some() || url.fragment().is_some() {
                return Err(bad("a store server URL has no query or fragment"));
            }
            let path = url.path().trim_matches('/');
            if path.contains('/') {
                return Err(bad("expected http(s)://host[:port][/zone]"));
            }
            if !path.is_empty() {
                Zone::new(path).map_err(|e| bad(&e.to_string()))?;
            }
            return Ok(Location::Server {
                url: text.trim_end_matches('/').to_string(),
            });
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(bad(&format!(
                "unknown scheme {scheme}:// (a directory, s3://bucket/prefix or http(s)://host[/zone])"
            )));
        }
        Ok(Location::Dir(PathBuf::from(text)))
    }

    /// The per-user default: `<data dir>/neurosift/store` (`~/.local/share/neurosift/store` on
    /// Linux).
    pub fn default_dir() -> Result<Location, Error> {
        let data = dirs::data_dir().ok_or_else(|| Error::BadLocation {
            location: String::new(),
            reason: "no per-user data directory (is HOME set?); give --store DIR".into(),
        })?;
        Ok(Location::Dir(data.join("neurosift").join("store")))
    }

    /// The location that holds objects of `zone` (from a `kachery:<zone>:…` URI): a store
    /// server's root URL becomes the zone's URL (`http://host` → `http://host/<zone>`); a
    /// server URL that names a zone, a directory and S3 stay as they are.
    #[must_use]
    pub fn for_zone(&self, zone: &Zone) -> Location {
        match self {
            Location::Server { url } if zone.as_str() != ns_store_uri::DEFAULT_ZONE => {
                let names_zone =
                    reqwest::Url::parse(url).is_ok_and(|u| !u.path().trim_matches('/').is_empty());
                if names_zone {
                    self.clone()
                } else {
                    Location::Server {
                        url: format!("{url}/{zone}"),
                    }
                }
            }
            _ => self.clone(),
        }
    }

    /// `text` parsed, or the per-user default when it is `None`.
    pub fn from_option(text: Option<&str>) -> Result<Location, Error> {
        match text {
            Some(text) => Location::parse(text),
            None => Location::default_dir(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(dir) => write!(f, "{}", dir.display()),
            Location::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            Location::Server { url } => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("/data/store").unwrap(),
            Location::Dir("/data/store".into())
        );
        assert_eq!(
            Location::parse("s3://bucket/a/b/").unwrap(),
            Location::S3 {
                bucket: "bucket".into(),
                prefix: "a/b".into()
            }
        );
        assert_eq!(
            Location::parse("s3://bucket").unwrap().to_string(),
            "s3://bucket"
        );
        assert_eq!(
            Location::parse("http://127.0.0.1:9000/lab/").unwrap(),
            Location::Server {
                url: "http://127.0.0.1:9000/lab".into()
            }
        );
        assert!(Location::parse("https://store.example.org").is_ok());
        let lab = Zone::new("lab").unwrap();
        let root = Location::parse("http://h:1").unwrap();
        assert_eq!(root.for_zone(&lab).to_string(), "http://h:1/lab");
        assert_eq!(root.for_zone(&Zone::default_zone()), root);
        let zoned = Location::parse("http://h:1/other").unwrap();
        assert_eq!(zoned.for_zone(&lab), zoned);
        let dir = Location::parse("/d").unwrap();
        assert_eq!(dir.for_zone(&lab), dir);
        for (bad, why) in [
            ("", "empty"),
            ("s3://", "no bucket"),
            ("s3://b/a//c", "empty"),
            ("s3://b/../c", "`..`"),
            ("http://host/a/b", "host[:port][/zone]"),
            ("http://host/a%20b", "zone"),
            ("http://host/?x=1", "no query"),
            ("gs://bucket", "unknown scheme gs://"),
        ] {
            let err = Location::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }
}
