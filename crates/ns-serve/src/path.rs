//! URL paths to file paths: only plain names below a root, nothing that escapes it.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use percent_encoding::percent_decode_str;

/// A relative URL path checked for serving below a directory: percent-decoded segments, each a
/// plain file name (no `.`, `..`, `/`, `\`, NUL, drive prefix or empty segment).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelPath {
    segments: Vec<String>,
    directory: bool,
}

impl RelPath {
    /// Parses the still percent-encoded path below a mount point, without its leading `/`
    /// (`sub/a%20b.h5`). `None` for anything that could name a file outside the root:
    /// `..` or `.` (also as `%2e%2e`), an encoded `/` (`%2f`) or `\` inside a segment, a
    /// leading `/` (an absolute path), an empty segment (`a//b`), NUL, invalid UTF-8.
    /// An empty path or a trailing `/` names a directory.
    #[must_use]
    pub fn parse(raw: &str) -> Option<RelPath> {
        if raw.is_empty() {
            return Some(RelPath {
                segments: Vec::new(),
                directory: true,
            });
        }
        let (raw, directory) = match raw.strip_suffix('/') {
            Some(rest) => (rest, true),
            None => (raw, false),
        };
        let segments = raw
            .split('/')
            .map(|segment| {
                let decoded = percent_decode_str(segment).decode_utf8().ok()?;
                is_plain_name(&decoded).then(|| decoded.into_owned())
            })
            .collect::<Option<Vec<String>>>()?;
        Some(RelPath {
            segments,
            directory,
        })
    }

    /// Checks an already decoded name (`sub/a b.h5`): segments as [`RelPath::parse`] accepts
    /// them, taken literally (`%` is an ordinary character here). `None` for a directory
    /// (empty or trailing `/`) or anything `parse` refuses.
    #[must_use]
    pub fn from_decoded(name: &str) -> Option<RelPath> {
        let segments = name
            .split('/')
            .map(|segment| is_plain_name(segment).then(|| segment.to_string()))
            .collect::<Option<Vec<String>>>()?;
        Some(RelPath {
            segments,
            directory: false,
        })
    }

    /// The decoded segments.
    #[must_use]
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Whether the URL path was empty or ended in `/`.
    #[must_use]
    pub fn is_directory(&self) -> bool {
        self.directory
    }

    /// The path below `root` (lexically; symbolic links are checked by [`resolve`]).
    #[must_use]
    pub fn join(&self, root: &Path) -> PathBuf {
        let mut path = root.to_path_buf();
        path.extend(&self.segments);
        path
    }
}

/// The decoded segments joined by `/` (`sub/a b.h5`), without a trailing `/`.
impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("/"))
    }
}

/// Whether `name` is one normal path component on every platform we build for.
fn is_plain_name(name: &str) -> bool {
    if name.is_empty() || name.contains(['/', '\\', '\0']) {
        return false;
    }
    let mut components = Path::new(name).components();
    matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(c)), None) if c == name
    )
}

/// Why a URL path names no file to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unresolved {
    /// Nothing is there (a single-page app falls back to its `index.html`).
    NotFound,
    /// It is there but outside the root (a symbolic link pointing out); answered 404 as well.
    Outside,
}

/// The canonical path of `rel` below `root` (which must be canonical), following symbolic
/// links, if it stays inside `root`. A directory resolves to its `index.html` when it has one.
pub async fn resolve(root: &Path, rel: &RelPath) -> Result<PathBuf, Unresolved> {
    let path = canonical_inside(root, &rel.join(root)).await?;
    match tokio::fs::metadata(&path).await {
        Ok(meta) if meta.is_dir() => canonical_inside(root, &path.join("index.html")).await,
        Ok(_) => Ok(path),
        Err(_) => Err(Unresolved::NotFound),
    }
}

async fn canonical_inside(root: &Path, path: &Path) -> Result<PathBuf, Unresolved> {
    // Missing, a file used as a directory, a dangling link, a loop: nothing to serve.
    let Ok(canonical) = tokio::fs::canonicalize(path).await else {
        return Err(Unresolved::NotFound);
    };
    if canonical.starts_with(root) {
        Ok(canonical)
    } else {
        Err(Unresolved::Outside)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str) -> Option<String> {
        RelPath::parse(raw).map(|p| p.to_string())
    }

    #[test]
    fn plain_paths() {
        assert_eq!(name("a.h5").as_deref(), Some("a.h5"));
        assert_eq!(name("sub/b.h5").as_deref(), Some("sub/b.h5"));
        assert_eq!(name("a%20b.h5").as_deref(), Some("a b.h5"));
        assert_eq!(name("%25.h5").as_deref(), Some("%.h5"));
        assert_eq!(name("..a").as_deref(), Some("..a"));
        assert_eq!(name("a..").as_deref(), Some("a.."));
        assert_eq!(name("%C3%A9").as_deref(), Some("é"));
        let dir = RelPath::parse("sub/").unwrap_or_default();
        assert!(dir.is_directory());
        assert_eq!(dir.segments(), ["sub"]);
        let root = RelPath::parse("").unwrap_or_default();
        assert!(root.is_directory() && root.segments().is_empty());
        assert!(!RelPath::parse("a").is_some_and(|p| p.is_directory()));
    }

    #[test]
    fn escapes_refused() {
        for raw in [
            "..",
            "../x",
            "a/../../x",
            "a/..",
            ".",
            "./a",
            "%2e%2e/x",
            "%2E%2E/x",
            ".%2e/x",
            "a%2f..%2f..%2fx",
            "a%2F..%2Fx",
            "..%5cx",
            "a\\..\\x",
            "/etc/passwd",
            "%2fetc/passwd",
            "a//b",
            "//",
            "a%00b",
            "%ff",
            "a/./b",
        ] {
            assert_eq!(name(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn decoded_names() {
        let name = |n: &str| RelPath::from_decoded(n).map(|p| p.to_string());
        assert_eq!(name("sub/a b%20.h5").as_deref(), Some("sub/a b%20.h5"));
        assert_eq!(name("100%.h5").as_deref(), Some("100%.h5"));
        for bad in ["", "a/", "/a", "a//b", "..", "a/../b", ".", "a\\b", "a\0b"] {
            assert_eq!(name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn join_stays_below() {
        let rel = RelPath::parse("sub/a.h5").unwrap_or_default();
        assert_eq!(rel.join(Path::new("/d")), PathBuf::from("/d/sub/a.h5"));
    }
}
