//! The file reader in a web worker: `start` runs its message loop. It is
//! part of the browser's one wasm (`ns-web`), whose `main` calls it when it
//! runs in a worker; on other targets this crate is empty so that
//! `cargo build --workspace` works.

#[cfg(target_arch = "wasm32")]
mod sources;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
pub use worker::start;
