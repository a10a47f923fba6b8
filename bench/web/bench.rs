//! Times the core pipeline in headless Chromium, built as the app ships (release profile:
//! opt-level z, LTO, simd128). Prints one JSON object; `bench/web/run.sh` adds the dist sizes.
//! Timings are printed, never asserted: this is a benchmark, not a test.
#![cfg(target_arch = "wasm32")]

use heartbeat_core::{Analyzer, FrontEnd};
use heartbeat_web::analysis::synth;
use serde_json::{json, Value};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Repeats per measurement; the median is reported, plus the fastest run.
const REPEATS: usize = 7;
/// Recording length: a typical auscultation take.
const SECONDS: f32 = 30.0;

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(f64::NAN)
}

/// Runs `f` REPEATS times; returns {median_ms, min_ms} and the last result.
fn time<T>(mut f: impl FnMut() -> T) -> (Value, T) {
    let mut times = Vec::with_capacity(REPEATS);
    let mut last = None;
    for _ in 0..REPEATS {
        let start = now_ms();
        last = Some(f());
        times.push(now_ms() - start);
    }
    times.sort_by(f64::total_cmp);
    let round = |ms: f64| (ms * 100.0).round() / 100.0;
    let stats = json!({ "median_ms": round(times[REPEATS / 2]), "min_ms": round(times[0]) });
    (stats, last.expect("REPEATS > 0"))
}

/// One recording through each stage: WAV decode, front end (resample, filter, log-mel, rhythm,
/// quality), model, and the whole `decode → analyze` path the app runs.
fn case(analyzer: &Analyzer, sample_rate: u32) -> Value {
    let wav = synth::wav(&synth::heartbeat(72.0, SECONDS, sample_rate), sample_rate);
    let front: &FrontEnd = analyzer.front_end();
    let (decode, audio) = time(|| front.decode(&wav).expect("synthetic WAV decodes"));
    let (prepare, prepared) = time(|| front.prepare(&audio).expect("synthetic audio prepares"));
    let (score, _) = time(|| analyzer.score(&prepared).expect("model runs"));
    let (total, report) = time(|| heartbeat_web::analysis::analyze_bytes(&wav).expect("analysis"));
    json!({
        "recording": format!("{SECONDS:.0} s synthetic heartbeat, {sample_rate} Hz mono 16-bit WAV"),
        "wav_bytes": wav.len(),
        "windows": report.windows.len(),
        "decode": decode,
        "prepare": prepare,
        "score": score,
        "decode_and_analyze": total,
    })
}

#[wasm_bindgen_test]
fn bench_core_pipeline() {
    let (load, analyzer) = time(|| Analyzer::bundled().expect("bundled model loads"));
    let cases: Vec<Value> = [2000, 44_100]
        .into_iter()
        .map(|rate| case(&analyzer, rate))
        .collect();
    let user_agent = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default();
    let result = json!({
        "bench": "web-core-pipeline",
        "build": "cargo --release, wasm32-unknown-unknown, +simd128",
        "browser": user_agent,
        "repeats": REPEATS,
        "model_load": load,
        "cases": cases,
    });
    console_log!("BENCH_JSON {result}");
}
