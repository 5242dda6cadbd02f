//! JSON as Python writes it: `json.dumps` emits bare `NaN`, `Infinity` and
//! `-Infinity` for non-finite floats (numcodecs' JSON codec does, with
//! `allow_nan=True`), which strict parsers refuse.

use serde_json::Value as Json;

/// Parses `bytes`; bare `NaN`, `Infinity` and `-Infinity` tokens become the
/// strings `"NaN"`, `"Infinity"` and `"-Infinity"` (the spelling LINDI uses
/// for non-finite floats in attributes), to be read back as floats where a
/// float is expected.
pub fn parse(bytes: &[u8]) -> Result<Json, serde_json::Error> {
    match from_utf8(bytes) {
        Ok(v) => Ok(v),
        Err(first) => match quote_non_finite(bytes) {
            Some(fixed) => from_utf8(&fixed),
            None => Err(first),
        },
    }
}

/// JSON text from bytes, parsed as `&str` (as all JSON in the browser's
/// wasm is: one copy of the parser there).
fn from_utf8(bytes: &[u8]) -> Result<Json, serde_json::Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        <serde_json::Error as serde::de::Error>::custom(format!("not UTF-8 text: {e}"))
    })?;
    serde_json::from_str(text)
}

/// `bytes` with the bare non-finite tokens quoted, or `None` if there are
/// none (so the first error stands).
fn quote_non_finite(bytes: &[u8]) -> Option<Vec<u8>> {
    const TOKENS: [&[u8]; 3] = [b"-Infinity", b"Infinity", b"NaN"];
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut changed = false;
    let mut i = 0;
    'scan: while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else {
            for token in TOKENS {
                if bytes[i..].starts_with(token) {
                    out.push(b'"');
                    out.extend_from_slice(token);
                    out.push(b'"');
                    i += token.len();
                    changed = true;
                    continue 'scan;
                }
            }
        }
        out.push(b);
        i += 1;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_tokens_become_strings() {
        let v = parse(br#"[NaN, -Infinity, Infinity, "NaN in a \" string", 1.5]"#).expect("parses");
        assert_eq!(
            v,
            serde_json::json!(["NaN", "-Infinity", "Infinity", "NaN in a \" string", 1.5])
        );
        assert!(parse(b"[nope]").is_err());
        assert_eq!(parse(b"{\"a\": 1}").expect("parses")["a"], 1);
    }
}
