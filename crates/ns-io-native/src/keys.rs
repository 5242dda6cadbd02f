//! Native key-value sources ([`ns_io::ReadKey`]): a local directory, and an
//! http(s) base URL whose keys are fetched as `<base>/<key>` (a Zarr store
//! served as files).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ns_io::{Bytes, Counters, Error, ReadKey, Result, is_safe_key, too_large};

use crate::HttpOptions;

/// The files of a local directory, by their path relative to it.
pub struct DirKeys {
    root: PathBuf,
    counters: Arc<Counters>,
}

impl DirKeys {
    /// `root` must be a directory.
    pub fn open(root: impl AsRef<Path>, counters: Arc<Counters>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(Error::Io {
                location: root.display().to_string(),
                message: "not a directory".into(),
            });
        }
        Ok(Self { root, counters })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf> {
        if !is_safe_key(key) {
            return Err(Error::Invalid {
                location: self.describe(),
                message: format!("key {key:?} is not a relative path inside the store"),
            });
        }
        Ok(self.root.join(key))
    }
}

impl ReadKey for DirKeys {
    fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Bytes>> {
        let path = self.path_of(key)?;
        let io = |e: std::io::Error| Error::Io {
            location: path.display().to_string(),
            message: e.to_string(),
        };
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        if meta.is_dir() {
            return Ok(None);
        }
        if meta.len() > max_bytes {
            return Err(too_large(
                &path.display().to_string(),
                meta.len(),
                max_bytes,
            ));
        }
        let bytes = std::fs::read(&path).map_err(io)?;
        self.counters.record(bytes.len() as u64);
        Ok(Some(Bytes::from(bytes)))
    }

    fn list(&self) -> Option<Result<Vec<String>>> {
        let mut keys = Vec::new();
        let mut dirs = vec![(self.root.clone(), String::new())];
        while let Some((dir, prefix)) = dirs.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    return Some(Err(Error::Io {
                        location: dir.display().to_string(),
                        message: e.to_string(),
                    }));
                }
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let key = format!("{prefix}{name}");
                // Symbolic links are not followed (nothing outside the root).
                match entry.file_type() {
                    Ok(t) if t.is_dir() => dirs.push((entry.path(), format!("{key}/"))),
                    Ok(t) if t.is_file() => keys.push(key),
                    _ => {}
                }
            }
        }
        keys.sort();
        Some(Ok(keys))
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// Values fetched with plain GETs of `<base>/<key>` (no Range): 404 is a
/// missing key, other failures are errors. Redirects are followed here,
/// deciding credentials per hop with [`ns_links::credentials_allowed`], as
/// [`crate::HttpSource`] does.
pub struct HttpKeys {
    agent: ureq::Agent,
    /// The base URL, without a trailing `/` (nor query).
    base: String,
    /// The query of the given URL (a presigned URL's signature), appended
    /// to every key's URL.
    query: String,
    counters: Arc<Counters>,
    options: HttpOptions,
}

impl HttpKeys {
    pub fn new(url: &str, options: HttpOptions, counters: Arc<Counters>) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(options.timeout))
            .user_agent("neurosift")
            .build()
            .into();
        let (base, query) = match url.find('?') {
            Some(i) => (&url[..i], url[i..].to_string()),
            None => (url, String::new()),
        };
        Self {
            agent,
            base: base.trim_end_matches('/').to_string(),
            query,
            counters,
            options,
        }
    }

    fn url_of(&self, key: &str) -> Result<String> {
        if !is_safe_key(key) {
            return Err(Error::Invalid {
                location: self.base.clone(),
                message: format!("key {key:?} is not a relative path inside the store"),
            });
        }
        // Names may hold spaces, `#`, `?`, `%`: escaped, `/` kept.
        let url = format!(
            "{}/{}{}",
            self.base,
            ns_links::encode_component(key),
            self.query
        );
        crate::http::check_url(&url)?;
        Ok(url)
    }

    fn get_once(&self, url: &str, max_bytes: u64) -> Result<Option<Bytes>> {
        let http_err = |message: String| Error::Http {
            url: url.to_string(),
            message,
        };
        let (mut resp, _) = crate::http::get_following(&self.agent, &self.options, url, None)
            .map_err(|message| {
                self.counters.record(0);
                http_err(message)
            })?;
        let status = resp.status().as_u16();
        if status == 404 {
            self.counters.record(0);
            return Ok(None);
        }
        if status != 200 {
            self.counters.record(0);
            return Err(Error::HttpStatus {
                url: url.to_string(),
                status,
            });
        }
        if let Some(len) = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            && len > max_bytes
        {
            self.counters.record(0);
            return Err(too_large(url, len, max_bytes));
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(max_bytes.saturating_add(1))
            .read_to_vec()
            .map_err(|e| {
                self.counters.record(0);
                match e {
                    ureq::Error::BodyExceedsLimit(_) => {
                        too_large(url, max_bytes.saturating_add(1), max_bytes)
                    }
                    other => http_err(format!("reading body: {other}")),
                }
            })?;
        self.counters.record(body.len() as u64);
        Ok(Some(Bytes::from(body)))
    }
}

impl ReadKey for HttpKeys {
    fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Bytes>> {
        let url = self.url_of(key)?;
        let mut attempt = 0;
        loop {
            match self.get_once(&url, max_bytes) {
                Err(err) if err.is_transient() && attempt < self.options.retries => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100 * (1 << attempt)));
                }
                other => return other,
            }
        }
    }

    fn get_many(&self, keys: &[String], max_bytes: u64) -> Result<Vec<Option<Bytes>>> {
        if keys.len() <= 1 {
            return keys.iter().map(|k| self.get(k, max_bytes)).collect();
        }
        let slots: Vec<std::sync::Mutex<Option<Result<Option<Bytes>>>>> =
            keys.iter().map(|_| std::sync::Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = self.options.max_concurrency.clamp(1, keys.len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(key) = keys.get(i) else { break };
                        let result = self.get(key, max_bytes);
                        let failed = result.is_err();
                        if let Ok(mut slot) = slots[i].lock() {
                            *slot = Some(result);
                        }
                        if failed {
                            next.store(keys.len(), Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        let results: Vec<Option<Result<Option<Bytes>>>> = slots
            .into_iter()
            .map(|slot| slot.into_inner().ok().flatten())
            .collect();
        let mut out = Vec::with_capacity(keys.len());
        let mut missing = false;
        for result in results {
            match result {
                Some(result) => out.push(result?),
                None => missing = true,
            }
        }
        if missing {
            return Err(Error::Http {
                url: self.base.clone(),
                message: "a request was not made".into(),
            });
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        self.base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_urls_are_escaped_and_keep_the_query() {
        let keys = HttpKeys::new(
            "https://h/d/x.nwb.zarr/?sig=a%2Fb",
            HttpOptions::default(),
            Arc::default(),
        );
        assert_eq!(
            keys.url_of("acq/my series #1/0.0").expect("a key"),
            "https://h/d/x.nwb.zarr/acq/my%20series%20%231/0.0?sig=a%2Fb"
        );
        assert!(keys.url_of("../x").is_err());
        assert!(keys.url_of("/x").is_err());
    }

    #[test]
    fn a_directory_reads_inside_itself_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("a")).expect("mkdir");
        std::fs::write(dir.path().join("a/.zarray"), b"{}").expect("write");
        std::fs::write(dir.path().join("secret"), b"x").expect("write");
        let keys = DirKeys::open(dir.path().join("a"), Arc::default()).expect("opens");
        assert_eq!(
            keys.get(".zarray", 10).expect("reads"),
            Some(Bytes::from_static(b"{}"))
        );
        assert_eq!(keys.get("0", 10).expect("reads"), None);
        assert!(keys.get("../secret", 10).is_err());
        assert!(keys.get(".zarray", 1).is_err(), "bounded");
        let listed = keys.list().expect("lists").expect("reads");
        assert_eq!(listed, [".zarray"]);
    }
}
