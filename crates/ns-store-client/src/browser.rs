//! [`BrowserFetch`]: the page's or the worker's `fetch`.

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response, Window, WorkerGlobalScope};

use crate::{Fetch, HttpRequest, HttpResponse};

/// Headers read from an answer (the store server exposes them to other origins).
const READ_HEADERS: [&str; 3] = ["content-length", "content-type", "etag"];

/// The browser's `fetch`, in a page or a worker.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserFetch;

fn message(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

impl Fetch for BrowserFetch {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        let init = RequestInit::new();
        init.set_method(request.method);
        let headers = Headers::new().map_err(|e| message(&e))?;
        for (name, value) in &request.headers {
            headers.set(name, value).map_err(|e| message(&e))?;
        }
        init.set_headers(&headers);
        if let Some(body) = &request.body {
            init.set_body(&Uint8Array::from(body.as_slice()));
        }
        let js_request =
            Request::new_with_str_and_init(&request.url, &init).map_err(|e| message(&e))?;
        let global = js_sys::global();
        let promise = if let Some(window) = global.dyn_ref::<Window>() {
            window.fetch_with_request(&js_request)
        } else if let Some(worker) = global.dyn_ref::<WorkerGlobalScope>() {
            worker.fetch_with_request(&js_request)
        } else {
            return Err("no fetch in this global scope".into());
        };
        let response: Response = JsFuture::from(promise)
            .await
            .map_err(|e| message(&e))?
            .dyn_into()
            .map_err(|e| message(&e))?;
        let headers = READ_HEADERS
            .iter()
            .filter_map(|name| {
                let value = response.headers().get(name).ok().flatten()?;
                Some(((*name).to_string(), value))
            })
            .collect();
        let body = if request.method == "HEAD" {
            Vec::new()
        } else {
            let buffer = JsFuture::from(response.array_buffer().map_err(|e| message(&e))?)
                .await
                .map_err(|e| message(&e))?;
            Uint8Array::new(&buffer).to_vec()
        };
        Ok(HttpResponse {
            status: response.status(),
            headers,
            body,
        })
    }
}
