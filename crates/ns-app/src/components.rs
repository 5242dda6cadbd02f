//! Pieces shared by the pages.

use leptos::prelude::*;
use ns_protocol::{ErrorKind, WorkerError};

use crate::client::Activity;

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Requests and bytes used so far, and whether something is loading.
#[component]
pub fn StatusLine(activity: Activity) -> impl IntoView {
    view! {
        <footer class="status" data-testid="status">
            <span class={move || if activity.busy.get() > 0 { "spinner on" } else { "spinner" }}></span>
            {move || {
                let s = activity.stats.get();
                format!(
                    "{} request{} · {} loaded{}",
                    s.requests,
                    if s.requests == 1 { "" } else { "s" },
                    human_bytes(s.bytes),
                    if s.memory_bytes > 0 {
                        format!(" · readers' memory {}", human_bytes(s.memory_bytes))
                    } else {
                        String::new()
                    }
                )
            }}
            {move || activity.notice.get().map(|n| view! {
                <span class="notice" role="alert" data-testid="notice">{n}</span>
            })}
        </footer>
    }
}

/// What failed, said so that a person knows what to do.
#[component]
pub fn ErrorPanel(error: WorkerError) -> impl IntoView {
    let title = match error.kind {
        ErrorKind::NotFound => "Not found",
        ErrorKind::Network => "Network error (the server may not allow this site: CORS)",
        ErrorKind::NoRangeSupport => "The server does not support Range requests",
        ErrorKind::NotHdf5 => "Not an HDF5/NWB file",
        ErrorKind::Http => "The server answered with an error",
        ErrorKind::Format => "The file could not be read",
        ErrorKind::BadRequest => "Bad request",
        ErrorKind::NoFileOpen => "No file is open",
        ErrorKind::TooLarge => "Too much at once (select less)",
        ErrorKind::Crashed => "The file reader crashed (a bug; it was restarted, try again)",
        ErrorKind::Protocol => "The app and its reader disagree (a bug; reload the page)",
    };
    view! {
        <div class="error-panel" role="alert" data-testid="error">
            <strong>{title}</strong>
            <p class="message">{error.message}</p>
        </div>
    }
}
