//! The browser's one wasm (built by trunk): on a page it mounts the app
//! (`ns-app`); in a web worker, started by `www/index.html` or the app from
//! the same bindings, it runs the file reader (`ns-worker`). One module for
//! both: the code they share (the protocol, std, serde_json, url, js-sys) is
//! downloaded once.

#[cfg(target_arch = "wasm32")]
fn main() {
    use wasm_bindgen::JsCast as _;
    if js_sys::global().dyn_into::<web_sys::Window>().is_err() {
        ns_worker::start();
        return;
    }
    console_error_panic_hook_free();
    leptos::mount::mount_to_body(ns_app::App);
}

/// Panics go to the console through Leptos's logging.
#[cfg(target_arch = "wasm32")]
fn console_error_panic_hook_free() {
    std::panic::set_hook(Box::new(|info| {
        leptos::logging::error!("panic: {info}");
    }));
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("ns-web runs in a browser: build it with trunk (see README.md)");
}
