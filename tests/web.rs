//! DOM tests: the real components mounted in headless Chromium by wasm-bindgen-test
//! (`CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p heartbeat-web`).
//! The end-to-end tests in tests/e2e drive the built app; these check the components directly.
#![cfg(target_arch = "wasm32")]

use heartbeat_web::{analysis, App};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the app into a fresh element and returns it; the mount stays for the test's life.
fn mount_app() -> HtmlElement {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let host: HtmlElement = document
        .create_element("div")
        .expect("a div")
        .unchecked_into();
    document
        .body()
        .expect("a body")
        .append_child(&host)
        .expect("append");
    leptos::mount::mount_to(host.clone(), App).forget();
    host
}

#[wasm_bindgen_test]
fn the_page_says_what_it_is_and_is_not() {
    let host = mount_app();
    let text = host.text_content().unwrap_or_default();
    assert!(text.contains("HeartBeat"), "{text}");
    assert!(text.contains("screening aid, not a diagnosis"), "{text}");
}

#[wasm_bindgen_test]
fn the_model_is_named_and_an_untrained_one_is_flagged() {
    let host = mount_app();
    let card = analysis::bundled_card().expect("bundled card");
    let model = host
        .query_selector("[data-testid=model]")
        .expect("query")
        .expect("model line");
    let line = model.text_content().unwrap_or_default();
    assert!(
        line.contains(&card.name) && line.contains(&card.version),
        "{line}"
    );
    let warning = host
        .query_selector("[data-testid=untrained-warning]")
        .expect("query");
    assert_eq!(
        warning.is_some(),
        !card.trained,
        "warning shown exactly when trained = false"
    );
}

#[wasm_bindgen_test]
fn the_file_input_has_a_label() {
    let host = mount_app();
    let input = host
        .query_selector("input[type=file]")
        .expect("query")
        .expect("file input");
    let id = input.id();
    let label = host
        .query_selector(&format!("label[for='{id}']"))
        .expect("query");
    assert!(label.is_some(), "no <label for={id}>");
}

#[wasm_bindgen_test]
fn nothing_is_reported_before_a_file_is_picked() {
    let host = mount_app();
    assert!(host
        .query_selector("[data-testid=report]")
        .expect("query")
        .is_none());
    assert!(host
        .query_selector("[data-testid=error]")
        .expect("query")
        .is_none());
}
