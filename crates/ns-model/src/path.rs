//! Object paths inside a file (`/acquisition/ts/data`), shared by every
//! backend and by the NWB layer.

/// `parent` + `/` + `name`.
pub fn join(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// `/a//b/` → `/a/b`; `a` → `/a`.
pub fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// The group holding `path` (`/` for top-level objects).
pub fn parent_of(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((head, _)) => head,
    }
}

/// A link target made absolute relative to the group holding the link.
pub fn absolute(parent: &str, target: &str) -> String {
    if target.starts_with('/') {
        normalize(target)
    } else {
        normalize(&format!("{parent}/{target}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(normalize("a//b/./"), "/a/b");
        assert_eq!(parent_of("/a"), "/");
        assert_eq!(parent_of("/a/b"), "/a");
        assert_eq!(absolute("/g", "../x"), "/g/../x");
        assert_eq!(absolute("/g", "/x//y"), "/x/y");
    }
}
