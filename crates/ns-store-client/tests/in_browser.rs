//! The client in headless Chromium with the browser's `fetch`, against a real
//! `neurosift store-server` on 127.0.0.1 (another origin than the test page, so
//! CORS is exercised too). `cargo xtask test` starts the server and passes its
//! URL and token at build time (`NS_STORE_TEST_URL`, `NS_STORE_TEST_TOKEN`);
//! without them the test only checks what needs no server.
#![cfg(target_arch = "wasm32")]
#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use ns_store_client::{BrowserFetch, Error, Sha1Hash, StoreClient};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn put_and_get_through_the_browser_fetch() {
    let hash = Sha1Hash::of(b"abc");
    assert_eq!(hash.to_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
    let (Some(url), Some(token)) = (
        option_env!("NS_STORE_TEST_URL"),
        option_env!("NS_STORE_TEST_TOKEN"),
    ) else {
        return;
    };
    let content = format!("{{\"figure\": \"{}\"}}", js_sys::Date::now()).into_bytes();
    let writer = StoreClient::new(url, BrowserFetch).with_token(token);
    let stored = writer.put(&content, Some("figure.json")).await.unwrap();
    assert_eq!(stored.uri.hash(), Sha1Hash::of(&content));
    assert!(writer.put(&content, None).await.unwrap().already_stored);
    let reader = StoreClient::new(url, BrowserFetch);
    assert_eq!(reader.get_uri(&stored.uri).await.unwrap(), content);
    assert_eq!(
        reader.size_of(stored.uri.hash()).await.unwrap(),
        Some(content.len() as u64)
    );
    match reader.get(Sha1Hash::of(b"never stored")).await {
        Err(Error::NotFound { .. }) => {}
        other => panic!("{other:?}"),
    }
    let wrong = StoreClient::new(url, BrowserFetch).with_token("wrong");
    match wrong.put(b"x", None).await {
        Err(Error::Server { status: 403, .. }) => {}
        other => panic!("{other:?}"),
    }
}
