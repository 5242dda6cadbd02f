//! The reader worker. Built by trunk (`data-type="worker"`); on other
//! targets it is an empty program so that `cargo build --workspace` works.

#[cfg(target_arch = "wasm32")]
mod sources;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
fn main() {
    worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("ns-worker runs in a browser web worker (build it with trunk)");
}
