//! The layering of ARCHITECTURE.md, checked: each crate depends only on
//! the crates it may use (data flows one way), read from `cargo metadata`.

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::process::Command;

    use serde_json::Value as Json;

    /// Each workspace crate's normal (non-dev) dependencies among the
    /// workspace crates.
    fn workspace_deps() -> BTreeMap<String, BTreeSet<String>> {
        let out = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(crate::root())
            .output()
            .expect("cargo metadata");
        assert!(out.status.success());
        let meta: Json = serde_json::from_slice(&out.stdout).expect("metadata JSON");
        let packages = meta["packages"].as_array().expect("packages");
        let names: BTreeSet<String> = packages
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        packages
            .iter()
            .map(|p| {
                let deps = p["dependencies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|d| d["kind"].is_null())
                    .filter_map(|d| d["name"].as_str())
                    .filter(|d| names.contains(*d) || *d == "hdf5-reader")
                    .map(str::to_string)
                    .collect();
                (p["name"].as_str().unwrap_or_default().to_string(), deps)
            })
            .collect()
    }

    #[test]
    fn crates_depend_only_on_the_layers_they_may_use() {
        let deps = workspace_deps();
        // crate → what it may depend on (among workspace crates and the HDF5 parser).
        let allowed: &[(&str, &[&str])] = &[
            // Compact stable sorting (the browser wasm).
            ("ns-sort", &[]),
            ("ns-links", &[]),
            ("ns-io", &["ns-sort"]),
            // Decompressors: pure functions over bytes.
            ("ns-codecs", &[]),
            ("ns-io-native", &["ns-io", "ns-links"]),
            ("ns-model", &["ns-io"]),
            (
                "ns-hdf5",
                &["ns-sort", "ns-io", "ns-model", "ns-codecs", "hdf5-reader"],
            ),
            // Zarr arrays and NWB-Zarr stores (key-value sources from ns-io).
            ("ns-zarr", &["ns-sort", "ns-io", "ns-model", "ns-codecs"]),
            // LINDI: its references over ns-zarr's arrays; HDF5 for external array links.
            (
                "ns-lindi",
                &["ns-sort", "ns-io", "ns-model", "ns-zarr", "ns-hdf5"],
            ),
            // NWB semantics know no file format.
            ("ns-nwb", &["ns-sort", "ns-io", "ns-model"]),
            // Types only: the app must not compile the readers.
            ("ns-protocol", &["ns-model"]),
            (
                "ns-service",
                &[
                    "ns-sort",
                    "ns-io",
                    "ns-model",
                    "ns-hdf5",
                    "ns-zarr",
                    "ns-lindi",
                    "ns-nwb",
                    "ns-protocol",
                ],
            ),
            (
                "ns-worker",
                &["ns-io", "ns-links", "ns-protocol", "ns-service"],
            ),
            // The app's pixel loops: plain slices, nothing else.
            ("ns-draw", &[]),
            (
                "ns-app",
                &[
                    "ns-sort",
                    "ns-draw",
                    "ns-protocol",
                    "ns-links",
                    "ns-io",
                    "ns-figures",
                    "ns-store-client",
                ],
            ),
            // The browser's one wasm: the app on a page, the reader in a worker.
            ("ns-web", &["ns-app", "ns-worker"]),
            // HTTP serving of files (and the Range/ETag answer the store server reuses).
            ("ns-serve", &[]),
            // Content addresses: no I/O, shared by the store and the browser client.
            ("ns-store-uri", &[]),
            // The store: its storage, server and client side of a server.
            ("kachery", &["ns-store-uri", "ns-serve"]),
            // The browser's client of a store server: URIs only, never the store itself.
            ("ns-store-client", &["ns-store-uri"]),
            // Figure types: the protocol's answers, links, content addresses, codecs.
            (
                "ns-figures",
                &[
                    "ns-sort",
                    "ns-protocol",
                    "ns-links",
                    "ns-store-uri",
                    "ns-codecs",
                ],
            ),
        ];
        let mut wrong = Vec::new();
        for (name, may) in allowed {
            let Some(have) = deps.get(*name) else {
                wrong.push(format!("{name}: not in the workspace"));
                continue;
            };
            for d in have {
                if !may.contains(&d.as_str()) {
                    wrong.push(format!("{name} depends on {d}"));
                }
            }
        }
        assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
    }
}
