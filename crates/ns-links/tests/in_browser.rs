//! Link handling in a real browser page (wasm-bindgen-test, Chromium).
#![cfg(target_arch = "wasm32")]

use ns_links::{Tab, nwb_link, parse_tab, rewrite_legacy};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn legacy_links_rewrite_in_the_browser() {
    let q = "?p=/nwb&url=https%3A%2F%2Fapi.dandiarchive.org%2Fapi%2Fassets%2Fx%2Fdownload%2F&dandisetId=000409&dandisetVersion=0.230629.1955&tab=neurodata-item:/intervals/trials|TimeIntervals";
    assert_eq!(
        rewrite_legacy(q).as_deref(),
        Some(
            "/nwb?url=https://api.dandiarchive.org/api/assets/x/download/&dandisetId=000409&dandisetVersion=0.230629.1955&tab=/intervals/trials"
        )
    );
    assert_eq!(
        parse_tab("view:PSTH|/intervals/trials^/units").map(|t| matches!(t, Tab::View(_))),
        Some(true)
    );
    assert!(nwb_link("https://x/y.nwb.lindi.json", None, None).ends_with("&st=lindi"));
}
