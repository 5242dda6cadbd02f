//! A plugin visualization: the page at `v` runs in an `<iframe
//! sandbox="allow-scripts">` (never same-origin: it cannot read this app's
//! storage, tokens or API key) and talks figurl's postMessage protocol.
//! The app sends `initializeFigure {parentOrigin, figureId, s}` until the
//! plugin's first request, then answers `figurlRequest`s:
//! `getFigureData` (the figure data, sha1-checked), `getFileData` (a store
//! object, sha1-checked, optionally a byte range), `setUrlState` (kept in
//! `s=`), `storeFile` (only if the user agrees). Messages from any other
//! window, or with another figure id, are ignored.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use ns_links::FigureLink;
use ns_store_client::StoreUri;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Largest file a plugin may ask for in one answer.
const MAX_FILE_BYTES: usize = 256 << 20;

fn random_id() -> String {
    let mut bytes = [0u8; 8];
    for b in &mut bytes {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a random byte"
        )]
        let v = (js_sys::Math::random() * 256.0) as u8;
        *b = v;
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn post(frame: &web_sys::HtmlIFrameElement, message: &Value) {
    let Some(win) = frame.content_window() else {
        return;
    };
    let Ok(js) = js_sys::JSON::parse(&message.to_string()) else {
        return;
    };
    // A sandboxed frame has an opaque origin: "*" is the only target that
    // reaches it; what is sent is only this figure's data.
    let _ = win.post_message(&js, "*");
}

async fn fetch_uri(uri: &str) -> Result<Vec<u8>, String> {
    let uri: StoreUri = uri
        .parse()
        .map_err(|e| format!("{uri}: not a sha1:// or kachery: URI ({e})"))?;
    crate::share::store::get(&uri).await
}

fn as_response(bytes: &[u8], response_type: &str) -> Result<Value, String> {
    match response_type {
        "text" => Ok(Value::String(String::from_utf8_lossy(bytes).into_owned())),
        "binary" => Ok(Value::Array(bytes.iter().map(|b| json!(b)).collect())),
        // "json" and unspecified.
        _ => std::str::from_utf8(bytes)
            .map_err(|e| format!("not JSON: not UTF-8 text ({e})"))
            .and_then(|text| serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))),
    }
}

async fn answer(request: Value, link: &FigureLink) -> Value {
    let kind = request["type"].as_str().unwrap_or_default().to_string();
    let result: Result<Value, String> = match kind.as_str() {
        "getFigureData" => fetch_uri(&link.data)
            .await
            .and_then(|b| as_response(&b, "json"))
            .map(|d| json!({ "figureData": d })),
        "getFileData" => {
            let uri = request["uri"].as_str().unwrap_or_default().to_string();
            let response_type = request["responseType"].as_str().unwrap_or("json");
            match fetch_uri(&uri).await {
                Ok(bytes) => {
                    let start = request["startByte"]
                        .as_u64()
                        .and_then(|s| usize::try_from(s).ok());
                    let end = request["endByte"]
                        .as_u64()
                        .and_then(|s| usize::try_from(s).ok());
                    let slice = match (start, end) {
                        (None, None) => Some(&bytes[..]),
                        (s, e) => bytes.get(s.unwrap_or(0)..e.unwrap_or(bytes.len())),
                    };
                    match slice {
                        None => Err(format!(
                            "{uri}: bytes {start:?}..{end:?} are outside its {} bytes",
                            bytes.len()
                        )),
                        Some(s) if s.len() > MAX_FILE_BYTES => {
                            Err(format!("{uri}: more than {MAX_FILE_BYTES} bytes at once"))
                        }
                        Some(s) => as_response(s, response_type).map(|d| json!({ "fileData": d })),
                    }
                }
                Err(e) => Err(e),
            }
        }
        "setUrlState" => {
            let state = request["state"].clone();
            crate::url::set_raw_param("s", Some(state.to_string()));
            Ok(json!({}))
        }
        "storeFile" => store_file(&request).await,
        other => Err(format!("unknown request {other:?}")),
    };
    let mut response = match result {
        Ok(v) => v,
        Err(e) => json!({ "error": e }),
    };
    response["type"] = Value::String(kind);
    response
}

async fn store_file(request: &Value) -> Result<Value, String> {
    let data = match &request["fileData"] {
        Value::String(s) => s.clone().into_bytes(),
        Value::Null => return Err("storeFile: no fileData".into()),
        other => other.to_string().into_bytes(),
    };
    let config = crate::share::store::config()
        .await
        .filter(|c| c.token.is_some())
        .ok_or("storeFile: this app has no store it may write to")?;
    let question = format!(
        "This figure asks to store a file of {} bytes in the store {}. Allow?",
        data.len(),
        config.url
    );
    let agreed = web_sys::window()
        .and_then(|w| w.confirm_with_message(&question).ok())
        .unwrap_or(false);
    if !agreed {
        return Err("storeFile: the user did not allow it".into());
    }
    let stored = crate::share::store::client(&config)
        .put(&data, None)
        .await
        .map_err(|e| format!("storeFile: {e}"))?;
    Ok(json!({ "uri": format!("sha1://{}", stored.uri.hash().to_hex()) }))
}

#[component]
pub fn PluginHost(url: String, link: FigureLink) -> impl IntoView {
    let frame = NodeRef::<leptos::html::Iframe>::new();
    let figure_id = random_id();
    let answered = Rc::new(Cell::new(false));
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let state: Value = link
        .state
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    // initializeFigure, resent with back-off until the plugin asks for something.
    {
        let answered = Rc::clone(&answered);
        let init = json!({
            "type": "initializeFigure",
            "parentOrigin": origin,
            "figureId": figure_id,
            "s": state,
        });
        let delay = Rc::new(Cell::new(100i32));
        fn tick(
            frame: NodeRef<leptos::html::Iframe>,
            answered: Rc<Cell<bool>>,
            init: Value,
            delay: Rc<Cell<i32>>,
        ) {
            if answered.get() {
                return;
            }
            if let Some(f) = frame.get_untracked() {
                post(&f, &init);
            }
            let d = delay.get();
            delay.set((d * 2).min(2000));
            let cb = Closure::once_into_js(move || tick(frame, answered, init, delay));
            if let Some(w) = web_sys::window() {
                let _ =
                    w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), d);
            }
        }
        tick(frame, answered, init, delay);
    }
    let id = figure_id.clone();
    let handle = window_event_listener(leptos::ev::message, move |ev: web_sys::MessageEvent| {
        let Some(f) = frame.get_untracked() else {
            return;
        };
        // Only the plugin's own window.
        let from_frame = match (ev.source(), f.content_window()) {
            (Some(src), Some(win)) => {
                let win: &JsValue = win.as_ref();
                js_sys::Object::is(src.as_ref(), win)
            }
            _ => false,
        };
        if !from_frame {
            return;
        }
        let Some(text) = js_sys::JSON::stringify(&ev.data())
            .ok()
            .and_then(|s| s.as_string())
        else {
            return;
        };
        let Ok(msg) = serde_json::from_str::<Value>(&text) else {
            return;
        };
        if msg["type"] == "reportUrlStateChange" {
            crate::url::set_raw_param("s", Some(msg["state"].to_string()));
            return;
        }
        if msg["type"] != "figurlRequest" || msg["figureId"].as_str() != Some(id.as_str()) {
            return;
        }
        answered.set(true);
        let request_id = msg["requestId"].clone();
        let request = msg["request"].clone();
        let link = link.clone();
        leptos::task::spawn_local(async move {
            let response = answer(request, &link).await;
            post(
                &f,
                &json!({ "type": "figurlResponse", "requestId": request_id, "response": response }),
            );
        });
    });
    on_cleanup(move || handle.remove());
    view! {
        <div class="plugin-frame" data-testid="plugin-frame">
            <iframe node_ref=frame src=url sandbox="allow-scripts" referrerpolicy="no-referrer"
                title="figure" data-testid="plugin-iframe"></iframe>
        </div>
    }
}
