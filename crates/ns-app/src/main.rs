//! Entry point of the browser app (built by trunk).

#[cfg(target_arch = "wasm32")]
fn main() {
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
    eprintln!("ns-app runs in a browser: build it with trunk (see README.md)");
}
