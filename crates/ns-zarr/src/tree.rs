//! A tree of nodes by path, with soft links followed (also through parent
//! groups), as every Zarr-shaped format lists it.

use std::collections::{BTreeSet, HashMap};

use ns_model::path::{absolute, normalize, parent_of};
use ns_model::{Node, NodeKind};

use crate::{Error, Result};

/// Soft links followed in a row before giving up.
const MAX_LINK_HOPS: usize = 32;

/// Every node, sorted by path, and an index by path.
#[derive(Debug, Default)]
pub struct Tree {
    nodes: Vec<Node>,
    index: HashMap<String, usize>,
}

impl Tree {
    /// The tree of `nodes`; folders that hold listed nodes but are not
    /// listed themselves (Zarr needs no `.zgroup` for them) become groups
    /// without attributes, and so does a missing root.
    pub fn new(mut nodes: Vec<Node>) -> Self {
        let listed: BTreeSet<String> = nodes.iter().map(|n| n.path.clone()).collect();
        let mut implicit = BTreeSet::new();
        if !listed.contains("/") {
            implicit.insert("/".to_string());
        }
        for path in &listed {
            let mut p = path.as_str();
            while let Some((parent, _)) = p.rsplit_once('/') {
                if parent.is_empty() {
                    break;
                }
                if !listed.contains(parent) {
                    implicit.insert(parent.to_string());
                }
                p = parent;
            }
        }
        nodes.extend(implicit.into_iter().map(|path| Node {
            path,
            kind: NodeKind::Group,
            address: None,
            attrs: Vec::new(),
            dataset: None,
            error: None,
        }));
        ns_sort::sort_by(&mut nodes, |a, b| a.path.cmp(&b.path));
        let index = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.path.clone(), i))
            .collect();
        Self { nodes, index }
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// One object by path, soft links to it (and in its parents) followed;
    /// the node keeps the path asked for.
    pub fn node(&self, path: &str, location: &str) -> Result<Node> {
        let asked = normalize(path);
        let resolved = self.resolve(&asked, location)?;
        let mut node = self.nodes[self.index[&resolved]].clone();
        node.path = asked;
        Ok(node)
    }

    /// `path` with soft links (of it and of its parents) followed, to a
    /// listed node that is not a soft link.
    pub fn resolve(&self, path: &str, location: &str) -> Result<String> {
        let mut path = normalize(path);
        'hops: for _ in 0..MAX_LINK_HOPS {
            if let Some(&i) = self.index.get(&path) {
                match &self.nodes[i].kind {
                    NodeKind::SoftLink { target } => {
                        path = absolute(parent_of(&path), target);
                        continue 'hops;
                    }
                    _ => return Ok(path),
                }
            }
            // Not listed: a parent may be a soft link.
            let mut end = path.len();
            while let Some(cut) = path[..end].rfind('/') {
                if cut == 0 {
                    break;
                }
                let head = &path[..cut];
                if let Some(&i) = self.index.get(head)
                    && let NodeKind::SoftLink { target } = &self.nodes[i].kind
                {
                    path = normalize(&format!(
                        "{}{}",
                        absolute(parent_of(head), target),
                        &path[cut..]
                    ));
                    continue 'hops;
                }
                end = cut;
            }
            return Err(Error::NotFound {
                location: location.to_string(),
                path,
            });
        }
        Err(Error::Format {
            location: location.to_string(),
            path,
            message: "soft links nested too deep (or in a cycle)".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(path: &str, kind: NodeKind) -> Node {
        Node {
            path: path.into(),
            kind,
            address: None,
            attrs: Vec::new(),
            dataset: None,
            error: None,
        }
    }

    #[test]
    fn implicit_groups_and_links() {
        let tree = Tree::new(vec![
            node("/a/b/x", NodeKind::Dataset),
            node(
                "/l",
                NodeKind::SoftLink {
                    target: "/a/b".into(),
                },
            ),
            node(
                "/loop",
                NodeKind::SoftLink {
                    target: "/loop".into(),
                },
            ),
        ]);
        let paths: Vec<&str> = tree.nodes().iter().map(|n| n.path.as_str()).collect();
        assert_eq!(paths, ["/", "/a", "/a/b", "/a/b/x", "/l", "/loop"]);
        assert_eq!(tree.resolve("/l/x", "t").expect("resolves"), "/a/b/x");
        assert_eq!(tree.node("/l/x", "t").expect("found").path, "/l/x");
        assert!(matches!(
            tree.resolve("/nope", "t"),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            tree.resolve("/loop", "t"),
            Err(Error::Format { .. })
        ));
    }
}
