//! DOM tests: the real components mounted in headless Chromium by wasm-bindgen-test
//! (`CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p heartbeat-web`).
//! The analysis worker is not served here (the end-to-end tests in tests/e2e drive the built app
//! with it); these check what the pages show and how they behave without it.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use heartbeat_core::segmentation::Rhythm;
use heartbeat_core::synth;
use heartbeat_core::Analyzer;
use heartbeat_web::history::{Entry, History};
use heartbeat_web::App;
use heartbeat_worker::analysis::analyze;
use heartbeat_worker::protocol::Input;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{HtmlCanvasElement, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

/// Opens `hash`, mounts the app into a fresh element and returns it (the mount stays).
fn mount_app(hash: &str) -> HtmlElement {
    window().location().set_hash(hash).expect("set hash");
    let document = window().document().expect("a document");
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

/// Lets effects and the browser run (the charts draw in effects, the worker fails to load).
async fn settle() {
    sleep(Duration::from_millis(300)).await;
}

async fn sleep(d: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, d.as_millis() as i32);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn text(host: &HtmlElement) -> String {
    host.text_content().unwrap_or_default()
}

fn seeded_history() -> History {
    let analyzer = Analyzer::bundled().expect("bundled model");
    let mut history = History::default();
    for (i, bpm) in [60.0, 90.0].into_iter().enumerate() {
        let wav = heartbeat_core::audio::encode_wav(&synth::heartbeat(bpm, 8.0, 2000), 2000);
        let analysis = analyze(&analyzer, Input::Encoded(wav), || 0.0)
            .expect("analysis")
            .analysis;
        history.add(Entry {
            id: format!("seed-{i}"),
            file: format!("seed-{i}.wav"),
            analysed_at_ms: 1.7e12 + i as f64 * 86_400_000.0,
            total_ms: Some(40.0),
            analysis,
        });
    }
    history
}

/// Stores `history` where earlier builds kept it (localStorage): the app moves it to IndexedDB
/// when it starts.
fn store_old(history: &History) {
    window()
        .local_storage()
        .expect("storage")
        .expect("localStorage")
        .set_item("heartbeat.history", &history.to_json())
        .expect("store");
}

/// Canvases under `host` with at least `min` pixels that are not the background.
fn drawn_canvases(host: &HtmlElement, min: usize) -> usize {
    let canvases = host.query_selector_all("canvas").expect("query");
    (0..canvases.length())
        .filter_map(|i| canvases.get(i))
        .map(|n| n.unchecked_into::<HtmlCanvasElement>())
        .filter(|c| {
            let ctx: web_sys::CanvasRenderingContext2d = c
                .get_context("2d")
                .ok()
                .flatten()
                .expect("2d")
                .unchecked_into();
            let data = ctx
                .get_image_data(0.0, 0.0, f64::from(c.width()), f64::from(c.height()))
                .expect("pixels")
                .data();
            data.chunks_exact(4)
                .filter(|p| p[3] > 0 && (p[0] < 240 || p[1] < 240 || p[2] < 240))
                .count()
                >= min
        })
        .count()
}

#[wasm_bindgen_test]
fn the_page_says_what_it_is_and_is_not() {
    let host = mount_app("#/");
    let text = text(&host);
    assert!(text.contains("HeartBeat"), "{text}");
    assert!(text.contains("screening aid, not a diagnosis"), "{text}");
    assert!(text.contains("never leave this device"), "{text}");
}

#[wasm_bindgen_test]
fn the_file_input_is_labelled_and_takes_many_files() {
    let host = mount_app("#/");
    let input: web_sys::HtmlInputElement = host
        .query_selector("input#file-input")
        .expect("query")
        .expect("file input")
        .unchecked_into();
    assert!(input.multiple());
    assert!(host
        .query_selector("label[for='file-input']")
        .expect("query")
        .is_some());
}

#[wasm_bindgen_test]
async fn every_page_is_reachable_from_the_navigation() {
    let host = mount_app("#/");
    for (href, heading) in [
        ("#/history", "History"),
        ("#/analytics", "Analytics"),
        ("#/model", "Model: "),
        ("#/", "Analyse recordings"),
    ] {
        let link: HtmlElement = host
            .query_selector(&format!("nav a[href='{href}']"))
            .expect("query")
            .expect("nav link")
            .unchecked_into();
        link.click();
        settle().await;
        let h2 = host
            .query_selector("main h2")
            .expect("query")
            .expect("a heading")
            .text_content()
            .unwrap_or_default();
        assert!(h2.starts_with(heading), "{href}: {h2}");
        assert_eq!(link.get_attribute("aria-current").as_deref(), Some("page"));
    }
}

#[wasm_bindgen_test]
async fn without_its_worker_the_app_says_so_and_stays_usable() {
    let host = mount_app("#/");
    // The worker script is not served by the test runner: the engine retries, then gives up.
    for _ in 0..50 {
        if host
            .query_selector("[data-testid=engine-failed]")
            .expect("query")
            .is_some()
        {
            break;
        }
        settle().await;
    }
    let failed = host
        .query_selector("[data-testid=engine-failed]")
        .expect("query")
        .expect("an engine failure message");
    let msg = failed.text_content().unwrap_or_default();
    assert!(msg.contains("reload the page"), "{msg}");
    assert!(host.query_selector("nav").expect("query").is_some());
}

#[wasm_bindgen_test]
async fn the_model_page_shows_the_cards_numbers_and_charts() {
    let host = mount_app("#/model");
    settle().await;
    let metrics = host
        .query_selector("[data-testid=metrics]")
        .expect("query")
        .expect("metrics table");
    let rows = metrics
        .query_selector_all("tbody tr")
        .expect("rows")
        .length();
    assert_eq!(rows, 7, "pooled + six subsets");
    let confusion = host
        .query_selector("[data-testid=confusion]")
        .expect("query")
        .expect("confusion matrix")
        .text_content()
        .unwrap_or_default();
    assert!(confusion.contains("Called abnormal"), "{confusion}");
    assert_eq!(
        drawn_canvases(&host, 500),
        2,
        "ROC and training curves drawn"
    );
}

#[wasm_bindgen_test]
async fn stored_history_is_listed_reopened_and_charted() {
    let mut history = seeded_history();
    let mut timed = history.get("seed-1").expect("seeded").clone();
    // A rhythm of our own, irregular: this test reads the page, not the segmenter.
    timed.analysis.report.heart_rate_bpm = Some(75.0);
    timed.analysis.report.rhythm = Some(Rhythm {
        beats: 9,
        interval_s: 0.8,
        variability_percent: 21.7,
        rmssd_ms: 180.4,
        systole_s: 0.312,
        diastole_s: 0.41,
        irregular: true,
    });
    history.add(timed);
    store_old(&history);
    let host = mount_app("#/history");
    settle().await;
    let entries = host
        .query_selector_all("[data-testid=history-entry]")
        .expect("query");
    assert_eq!(entries.length(), 2);
    let left = window()
        .local_storage()
        .expect("storage")
        .expect("localStorage")
        .get_item("heartbeat.history")
        .expect("read");
    assert_eq!(left, None, "moved to IndexedDB");

    window()
        .location()
        .set_hash("#/history/seed-1")
        .expect("hash");
    settle().await;
    let result = host
        .query_selector("[data-testid=result]")
        .expect("query")
        .expect("the reopened result");
    assert_eq!(
        result.get_attribute("data-name").as_deref(),
        Some("seed-1.wav")
    );
    assert_eq!(
        drawn_canvases(&host, 500),
        3,
        "waveform, spectrogram, windows"
    );
    // The rhythm set below, as the page words it.
    let fact = |id: &str| {
        result
            .query_selector(&format!("[data-testid={id}]"))
            .expect("query")
            .and_then(|e| e.text_content())
            .unwrap_or_else(|| panic!("no {id}"))
    };
    assert_eq!(fact("heart-rate"), "75 bpm");
    assert_eq!(fact("beats"), "9");
    assert_eq!(fact("variability"), "21.7 % (RMSSD 180 ms)");
    assert_eq!(fact("systole"), "312 ms");
    assert_eq!(fact("diastole"), "410 ms");
    let irregular = fact("irregular");
    assert!(
        irregular.contains("vary by 22 %") && irregular.contains("not a diagnosis"),
        "{irregular}"
    );

    window().location().set_hash("#/analytics").expect("hash");
    settle().await;
    let total = host
        .query_selector("[data-testid=total]")
        .expect("query")
        .expect("total")
        .text_content();
    assert_eq!(total.as_deref(), Some("2"));
    assert_eq!(drawn_canvases(&host, 200), 3, "classes, histogram, per day");
}

#[wasm_bindgen_test]
async fn a_damaged_stored_history_is_reported_not_lost_silently() {
    window()
        .local_storage()
        .expect("storage")
        .expect("localStorage")
        .set_item("heartbeat.history", "{not json")
        .expect("store");
    let host = mount_app("#/history");
    settle().await;
    let notice = host
        .query_selector("[data-testid=notice]")
        .expect("query")
        .expect("a notice")
        .text_content()
        .unwrap_or_default();
    assert!(notice.contains("set aside"), "{notice}");
    let kept = window()
        .local_storage()
        .expect("storage")
        .expect("localStorage")
        .get_item("heartbeat.history.unreadable")
        .expect("read");
    assert_eq!(
        kept.as_deref(),
        Some("{not json"),
        "the damaged text is kept"
    );
}
