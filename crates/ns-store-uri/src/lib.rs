//! Content addresses of the sha1 store, shared by the store (native) and its browser client
//! (wasm): nothing here does I/O.
//!
//! - [`Sha1Hash`]: 40 lowercase hex digits; [`Sha1Hash::object_key`] is where the object lives
//!   in a store (`sha1/ab/cd/ef/<hash>`, the layout kachery uses).
//! - [`StoreUri`]: the two URI forms in use, parsed and printed here only:
//!   `sha1://<hash>[/<name>][?label=<label>]` (classic figurl/kachery) and
//!   `kachery:<zone>:sha1:<hash>:<label>` (kachery-cloud). Anything else is an error that says
//!   what is wrong.
//! - [`Hasher`] and [`Verifier`]: the sha1 of bytes as they stream by, and the check that it is
//!   the expected one (every read of the store is verified with it).
//!
//! ```
//! use ns_store_uri::StoreUri;
//! let uri: StoreUri = "sha1://0369af9f1d5b6eb4e63fc4a8b2e9d1d9f8c0f0a1?label=stocks%20chart"
//!     .parse()
//!     .unwrap();
//! assert_eq!(uri.label(), Some("stocks chart"));
//! assert_eq!(
//!     uri.hash().object_key(),
//!     "sha1/03/69/af/0369af9f1d5b6eb4e63fc4a8b2e9d1d9f8c0f0a1"
//! );
//! ```

use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha1::Digest as _;

/// The zone of a store server that its root URL names (`http://host` is `http://host/default`).
pub const DEFAULT_ZONE: &str = "default";

/// What a printed name or label escapes: everything but RFC 3986 unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Errors of this crate: text that is not a hash or a URI, and content that does not match
/// its hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Text that is not 40 lowercase hex digits.
    #[error("{input:?} is not a sha1 hash: {reason}")]
    BadHash {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Text that is not a store URI of either form.
    #[error("{input:?} is not a store URI: {reason}")]
    BadUri {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A zone name with characters other than `A-Z a-z 0-9 . _ -`, or empty.
    #[error("{0:?} is not a zone name (letters, digits, '.', '_', '-')")]
    BadZone(String),
    /// Content whose sha1 is not the one it was asked for or stored under.
    #[error("object {expected} is corrupt: its {bytes} bytes hash to {actual}")]
    Mismatch {
        /// The hash the content should have.
        expected: Sha1Hash,
        /// The hash it has.
        actual: Sha1Hash,
        /// How many bytes were hashed.
        bytes: u64,
    },
}

// ---------------------------------------------------------------------------------------------

/// A sha1 hash, written as 40 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha1Hash([u8; 20]);

impl Sha1Hash {
    /// The hash of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Sha1Hash {
        let mut hasher = Hasher::new();
        hasher.update(bytes);
        hasher.finish()
    }

    /// The 20 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The 40 lowercase hex digits.
    #[must_use]
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// Parses exactly 40 lowercase hex digits (the only way kachery writes them; uppercase is
    /// refused so that one object has one name).
    pub fn from_hex(input: &str) -> Result<Sha1Hash, Error> {
        let bad = |reason| Error::BadHash {
            input: input.to_string(),
            reason,
        };
        if input.len() != 40 {
            return Err(bad("not 40 hex digits"));
        }
        let mut out = [0u8; 20];
        for (byte, pair) in out.iter_mut().zip(input.as_bytes().chunks_exact(2)) {
            let digit = |c: u8| match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                b'A'..=b'F' => Err(bad("uppercase hex digits (write it in lowercase)")),
                _ => Err(bad("not 40 hex digits")),
            };
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Ok(Sha1Hash(out))
    }

    /// Where the object lives in a store: `sha1/ab/cd/ef/<hash>` (the first three byte pairs
    /// as folders).
    #[must_use]
    pub fn object_key(&self) -> String {
        let hex = self.to_hex();
        format!("sha1/{}/{}/{}/{hex}", &hex[0..2], &hex[2..4], &hex[4..6])
    }
}

impl fmt::Display for Sha1Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sha1Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha1Hash({self})")
    }
}

impl FromStr for Sha1Hash {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Sha1Hash::from_hex(s)
    }
}

// ---------------------------------------------------------------------------------------------

/// The sha1 of bytes fed in pieces, and how many there were.
#[derive(Clone, Default)]
pub struct Hasher {
    inner: sha1::Sha1,
    bytes: u64,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// Nothing hashed yet.
    #[must_use]
    pub fn new() -> Hasher {
        Hasher::default()
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
        self.bytes = self.bytes.saturating_add(bytes.len() as u64);
    }

    /// How many bytes were fed.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The hash of everything fed.
    #[must_use]
    pub fn finish(self) -> Sha1Hash {
        Sha1Hash(self.inner.finalize().into())
    }
}

/// Hashes bytes as they stream by and checks, at the end, that they are the object expected.
#[derive(Debug, Clone)]
pub struct Verifier {
    expected: Sha1Hash,
    hasher: Hasher,
}

impl Verifier {
    /// Expects content hashing to `expected`.
    #[must_use]
    pub fn new(expected: Sha1Hash) -> Verifier {
        Verifier {
            expected,
            hasher: Hasher::new(),
        }
    }

    /// The hash expected.
    #[must_use]
    pub fn expected(&self) -> Sha1Hash {
        self.expected
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    /// How many bytes were fed.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.hasher.bytes()
    }

    /// The number of bytes if they hash to the expected hash, else [`Error::Mismatch`].
    pub fn finish(self) -> Result<u64, Error> {
        let bytes = self.hasher.bytes();
        let actual = self.hasher.finish();
        if actual == self.expected {
            Ok(bytes)
        } else {
            Err(Error::Mismatch {
                expected: self.expected,
                actual,
                bytes,
            })
        }
    }

    /// Checks a whole object at once.
    pub fn check(expected: Sha1Hash, bytes: &[u8]) -> Result<(), Error> {
        let mut verifier = Verifier::new(expected);
        verifier.update(bytes);
        verifier.finish().map(drop)
    }
}

// ---------------------------------------------------------------------------------------------

/// A zone of a store server: letters, digits, `.`, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Zone(String);

impl Zone {
    /// Checks a zone name.
    pub fn new(name: &str) -> Result<Zone, Error> {
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && name != "."
            && name != "..";
        if ok {
            Ok(Zone(name.to_string()))
        } else {
            Err(Error::BadZone(name.to_string()))
        }
    }

    /// The zone a store server's root URL serves.
    #[must_use]
    pub fn default_zone() -> Zone {
        Zone(DEFAULT_ZONE.to_string())
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A URI naming an object of the store, in either form in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUri {
    /// `sha1://<hash>[/<name>][?label=<label>]`, the classic figurl/kachery form.
    Sha1 {
        /// The object.
        hash: Sha1Hash,
        /// A file name after the hash (one path segment; percent-decoded).
        name: Option<String>,
        /// The `label` query parameter (percent-decoded).
        label: Option<String>,
    },
    /// `kachery:<zone>:sha1:<hash>:<label>`, the kachery-cloud form.
    Kachery {
        /// The zone the object was stored in.
        zone: Zone,
        /// The object.
        hash: Sha1Hash,
        /// The label (possibly empty; may contain `:`).
        label: String,
    },
}

impl StoreUri {
    /// `sha1://<hash>[?label=<label>]`.
    #[must_use]
    pub fn sha1(hash: Sha1Hash, label: Option<&str>) -> StoreUri {
        StoreUri::Sha1 {
            hash,
            name: None,
            label: label.map(str::to_string),
        }
    }

    /// The object it names.
    #[must_use]
    pub fn hash(&self) -> Sha1Hash {
        match self {
            StoreUri::Sha1 { hash, .. } | StoreUri::Kachery { hash, .. } => *hash,
        }
    }

    /// The zone named (kachery form only).
    #[must_use]
    pub fn zone(&self) -> Option<&Zone> {
        match self {
            StoreUri::Sha1 { .. } => None,
            StoreUri::Kachery { zone, .. } => Some(zone),
        }
    }

    /// A human name for the object: the label, else the name after the hash.
    #[must_use]
    pub fn label(&self) -> Option<&str> {
        match self {
            StoreUri::Sha1 { name, label, .. } => label.as_deref().or(name.as_deref()),
            StoreUri::Kachery { label, .. } => (!label.is_empty()).then_some(label.as_str()),
        }
    }

    /// Whether `text` is written in one of the URI schemes (`sha1://`, `kachery:`), i.e.
    /// whether it means to be a store URI (it may still fail to parse).
    #[must_use]
    pub fn has_scheme(text: &str) -> bool {
        text.starts_with("sha1://") || text.starts_with("kachery:")
    }

    /// Parses either form (see the variants).
    pub fn parse(input: &str) -> Result<StoreUri, Error> {
        let bad = |reason: &str| Error::BadUri {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        if let Some(rest) = input.strip_prefix("sha1://") {
            parse_sha1(input, rest)
        } else if let Some(rest) = input.strip_prefix("kachery:") {
            parse_kachery(input, rest)
        } else {
            Err(bad(
                "expected sha1://<hash>[/<name>][?label=<label>] or kachery:<zone>:sha1:<hash>:<label>",
            ))
        }
    }
}

fn parse_sha1(input: &str, rest: &str) -> Result<StoreUri, Error> {
    let bad = |reason: String| Error::BadUri {
        input: input.to_string(),
        reason,
    };
    if rest.contains('#') {
        return Err(bad("a '#' must be written %23".into()));
    }
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let (hash, name) = match path.split_once('/') {
        Some((hash, name)) => (hash, Some(name)),
        None => (path, None),
    };
    let hash = Sha1Hash::from_hex(hash).map_err(|e| bad(e.to_string()))?;
    let name = match name {
        None => None,
        Some("") => return Err(bad("empty name after the hash".into())),
        Some(name) if name.contains('/') => {
            return Err(bad(format!(
                "the name after the hash must be one path segment, not {name:?}"
            )));
        }
        Some(name) => Some(decode(name).ok_or_else(|| bad(format!("bad escape in {name:?}")))?),
    };
    let mut label = None;
    if let Some(query) = query {
        if query.is_empty() {
            return Err(bad("empty query after '?'".into()));
        }
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key != "label" {
                return Err(bad(format!(
                    "unknown query parameter {key:?} (only label=)"
                )));
            }
            if label.is_some() {
                return Err(bad("label= given twice".into()));
            }
            let value = decode(&value.replace('+', " "))
                .ok_or_else(|| bad(format!("bad escape in label {value:?}")))?;
            label = Some(value);
        }
    }
    Ok(StoreUri::Sha1 { hash, name, label })
}

fn parse_kachery(input: &str, rest: &str) -> Result<StoreUri, Error> {
    let bad = |reason: String| Error::BadUri {
        input: input.to_string(),
        reason,
    };
    let mut parts = rest.splitn(4, ':');
    let zone = parts.next().unwrap_or_default();
    let algorithm = parts.next();
    let hash = parts.next();
    let label = parts.next();
    let zone = Zone::new(zone).map_err(|e| bad(e.to_string()))?;
    match algorithm {
        Some("sha1") => {}
        Some(other) => return Err(bad(format!("only sha1 objects exist, not {other:?}"))),
        None => return Err(bad("missing ':sha1:<hash>:<label>' after the zone".into())),
    }
    let hash = hash.ok_or_else(|| bad("missing the hash after 'sha1:'".into()))?;
    let hash = Sha1Hash::from_hex(hash).map_err(|e| bad(e.to_string()))?;
    let label = label.ok_or_else(|| bad("missing ':<label>' after the hash".into()))?;
    if label.chars().any(char::is_control) {
        return Err(bad("control characters in the label".into()));
    }
    Ok(StoreUri::Kachery {
        zone,
        hash,
        label: label.to_string(),
    })
}

/// Percent-decodes to UTF-8; `None` for a malformed escape or invalid UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
        }
    }
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

impl fmt::Display for StoreUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUri::Sha1 { hash, name, label } => {
                write!(f, "sha1://{hash}")?;
                if let Some(name) = name {
                    write!(f, "/{}", utf8_percent_encode(name, COMPONENT))?;
                }
                if let Some(label) = label {
                    write!(f, "?label={}", utf8_percent_encode(label, COMPONENT))?;
                }
                Ok(())
            }
            StoreUri::Kachery { zone, hash, label } => {
                write!(f, "kachery:{zone}:sha1:{hash}:{label}")
            }
        }
    }
}

impl FromStr for StoreUri {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        StoreUri::parse(s)
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    const HASH: &str = "0369af9f1d5b6eb4e63fc4a8b2e9d1d9f8c0f0a1";

    fn h() -> Sha1Hash {
        HASH.parse().unwrap()
    }

    #[test]
    fn hashes() {
        assert_eq!(h().to_hex(), HASH);
        assert_eq!(
            h().object_key(),
            format!("sha1/03/69/af/{HASH}"),
            "first three byte pairs as folders"
        );
        // sha1("abc"), FIPS 180 test vector.
        assert_eq!(
            Sha1Hash::of(b"abc").to_hex(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            Sha1Hash::of(b"").to_hex(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        for bad in [
            "",
            "0369",
            &HASH[..39],
            &format!("{HASH}0"),
            &HASH.to_uppercase(),
            &HASH.replace('a', "g"),
            "../../../../etc/passwd/../../../../../../x",
            &format!("{}é", &HASH[..38]),
        ] {
            let err = Sha1Hash::from_hex(bad).unwrap_err();
            assert!(
                err.to_string().contains("is not a sha1 hash"),
                "{bad:?}: {err}"
            );
        }
        assert!(
            Sha1Hash::from_hex(&HASH.to_uppercase())
                .unwrap_err()
                .to_string()
                .contains("lowercase")
        );
    }

    #[test]
    fn streaming_hash_and_verify() {
        let mut hasher = Hasher::new();
        hasher.update(b"ab");
        hasher.update(b"c");
        assert_eq!(hasher.bytes(), 3);
        assert_eq!(hasher.finish(), Sha1Hash::of(b"abc"));
        let mut v = Verifier::new(Sha1Hash::of(b"abc"));
        v.update(b"a");
        v.update(b"bc");
        assert_eq!(v.finish(), Ok(3));
        let err = Verifier::check(Sha1Hash::of(b"abc"), b"abd").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "object a9993e364706816aba3e25717850c26c9cd0d89d is corrupt: its 3 bytes hash to {}",
                Sha1Hash::of(b"abd")
            )
        );
    }

    #[test]
    fn classic_uris_both_ways() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            ("", None, None),
            ("?label=stocks%20chart", None, Some("stocks chart")),
            ("/data.json", Some("data.json"), None),
            (
                "/a%20b.json?label=x%2Fy%3Fz",
                Some("a b.json"),
                Some("x/y?z"),
            ),
            ("?label=", None, Some("")),
            ("?label=caf%C3%A9", None, Some("café")),
        ];
        for (tail, name, label) in cases {
            let text = format!("sha1://{HASH}{tail}");
            let uri: StoreUri = text.parse().unwrap();
            assert_eq!(
                uri,
                StoreUri::Sha1 {
                    hash: h(),
                    name: name.map(str::to_string),
                    label: label.map(str::to_string),
                }
            );
            assert_eq!(uri.to_string(), text, "prints as parsed");
            assert_eq!(uri.hash(), h());
            assert_eq!(uri.zone(), None);
        }
        // `+` is a space in a query; printed as %20.
        let uri: StoreUri = format!("sha1://{HASH}?label=a+b").parse().unwrap();
        assert_eq!(uri.label(), Some("a b"));
        assert_eq!(uri.to_string(), format!("sha1://{HASH}?label=a%20b"));
        let printed = StoreUri::sha1(h(), Some("ünïcode & more/..")).to_string();
        assert_eq!(
            StoreUri::parse(&printed).unwrap().label(),
            Some("ünïcode & more/..")
        );
    }

    #[test]
    fn kachery_uris_both_ways() {
        for (text, zone, label) in [
            (
                format!("kachery:default:sha1:{HASH}:data.json"),
                "default",
                "data.json",
            ),
            (format!("kachery:scratch:sha1:{HASH}:"), "scratch", ""),
            (
                format!("kachery:lab-1.x_y:sha1:{HASH}:a:b c"),
                "lab-1.x_y",
                "a:b c",
            ),
        ] {
            let uri = StoreUri::parse(&text).unwrap();
            assert_eq!(uri.hash(), h());
            assert_eq!(uri.zone().map(Zone::as_str), Some(zone));
            assert_eq!(uri.label(), (!label.is_empty()).then_some(label));
            assert_eq!(uri.to_string(), text);
        }
    }

    #[test]
    fn bad_uris_say_what_is_wrong() {
        let cases = [
            (String::new(), "expected sha1://"),
            ("http://example.org/x".into(), "expected sha1://"),
            ("SHA1://abc".into(), "expected sha1://"),
            ("sha1://".into(), "not 40 hex digits"),
            ("sha1://abc".into(), "not 40 hex digits"),
            (format!("sha1://{}", HASH.to_uppercase()), "lowercase"),
            (format!("sha1://{HASH}/"), "empty name"),
            (format!("sha1://{HASH}/a/b"), "one path segment"),
            (format!("sha1://{HASH}/%zz"), "bad escape"),
            (format!("sha1://{HASH}/%ff"), "bad escape"),
            (format!("sha1://{HASH}?"), "empty query"),
            (
                format!("sha1://{HASH}?lable=x"),
                "unknown query parameter \"lable\"",
            ),
            (format!("sha1://{HASH}?label=a&label=b"), "twice"),
            (format!("sha1://{HASH}?label=a#b"), "%23"),
            ("kachery:".into(), "not a zone name"),
            (format!("kachery:a/b:sha1:{HASH}:x"), "not a zone name"),
            (format!("kachery:..:sha1:{HASH}:x"), "not a zone name"),
            ("kachery:default".into(), "missing ':sha1:"),
            (format!("kachery:default:md5:{HASH}:x"), "only sha1"),
            ("kachery:default:sha1".into(), "missing the hash"),
            (format!("kachery:default:sha1:{HASH}"), "missing ':<label>'"),
            ("kachery:default:sha1:xyz:x".into(), "not 40 hex digits"),
            (
                format!("kachery:default:sha1:{HASH}:a\nb"),
                "control characters",
            ),
        ];
        for (text, want) in cases {
            let err = StoreUri::parse(&text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err:?} lacks {want:?}");
            assert!(err.contains("is not a store URI"), "{err}");
        }
    }

    #[test]
    fn schemes_and_zones() {
        assert!(StoreUri::has_scheme("sha1://x"));
        assert!(StoreUri::has_scheme("kachery:x"));
        assert!(!StoreUri::has_scheme("/data/sha1://x"));
        assert!(!StoreUri::has_scheme("file.nwb"));
        assert_eq!(Zone::default_zone().as_str(), DEFAULT_ZONE);
        assert!(Zone::new("a.b-c_9").is_ok());
        for bad in ["", ".", "..", "a b", "a/b", "é"] {
            assert!(Zone::new(bad).is_err(), "{bad:?}");
        }
    }
}
