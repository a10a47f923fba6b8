//! Times the core pipeline and the model alone in headless Chromium, built with cargo's release
//! profile and simd128 (the shipped app uses the wasm-release profile: opt-level z). Each test
//! prints one JSON line (`BENCH_JSON`, `BENCH_MODEL_JSON`); `bench/web/run.sh` merges them with the
//! onnxruntime-web run and the app timings. Timings are printed, never asserted: this is a
//! benchmark, not a test.
#![cfg(target_arch = "wasm32")]

use heartbeat_core::model::Model;
use heartbeat_core::{bundled, Analyzer, FrontEnd, ModelCard};
use heartbeat_core::{synth, windows};
use heartbeat_worker::analysis::analyze;
use heartbeat_worker::protocol::Input;
use serde::Deserialize;
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

/// Runs `f` REPEATS times; returns {median_ms, min_ms, runs} and the last result.
fn time<T>(mut f: impl FnMut() -> T) -> (Value, T) {
    let mut times = Vec::with_capacity(REPEATS);
    let mut last = None;
    for _ in 0..REPEATS {
        let start = now_ms();
        last = Some(f());
        times.push(now_ms() - start);
    }
    (stats(times), last.expect("REPEATS > 0"))
}

/// {median_ms, min_ms, runs} of unsorted timings.
fn stats(mut times: Vec<f64>) -> Value {
    times.sort_by(f64::total_cmp);
    let round = |ms: f64| (ms * 1000.0).round() / 1000.0;
    json!({
        "median_ms": round(times[times.len() / 2]),
        "min_ms": round(times[0]),
        "runs": times.len(),
    })
}

/// One recording through each stage: WAV decode, front end (resample, filter, log-mel, rhythm,
/// quality, heart-cycle segmentation), the segmentation alone on the conditioned signal (its
/// share of the front end), model, and the whole path the app's worker runs (including the
/// chart data).
fn case(analyzer: &Analyzer, sample_rate: u32) -> Value {
    let wav = heartbeat_core::audio::encode_wav(
        &synth::heartbeat(72.0, SECONDS, sample_rate),
        sample_rate,
    );
    let front: &FrontEnd = analyzer.front_end();
    let (decode, audio) = time(|| front.decode(&wav).expect("synthetic WAV decodes"));
    let (prepare, prepared) = time(|| front.prepare(&audio).expect("synthetic audio prepares"));
    let (segmentation, _) = time(|| front.segmenter().segment(&prepared.signal));
    let (score, _) = time(|| analyzer.score(&prepared).expect("model runs"));
    let (total, analysis) =
        time(|| analyze(analyzer, Input::Encoded(wav.clone()), now_ms).expect("analysis"));
    let report = analysis.analysis.report;
    json!({
        "recording": format!("{SECONDS:.0} s synthetic heartbeat, {sample_rate} Hz mono 16-bit WAV"),
        "wav_bytes": wav.len(),
        "windows": report.windows.len(),
        "decode": decode,
        "prepare": prepare,
        "segmentation": segmentation,
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

/// Unmeasured runs before the model timings: the first calls grow the wasm heap.
const MODEL_WARMUP: usize = 5;
/// Measured runs of the model; `ort.mjs` uses the same count for onnxruntime-web.
const MODEL_RUNS: usize = 21;
/// The windows the core cuts from 30 s of frames at the card's window length and stride (9 for
/// 6 s windows every 3 s), so the model is timed on the batch a typical recording gives it.
/// `core_pipeline` reports the count a decoded 30 s file gets.
fn model_windows(card: &ModelCard) -> usize {
    let f = &card.features;
    let frames = (30.0 * f.frame_rate()).round() as usize;
    windows::starts(frames, f.window_frames, f.window_hop_frames).len()
}

/// `tests/fixtures/parity/input.json`: real feature windows, shared with the parity test.
#[derive(Deserialize)]
struct Parity {
    shape: Vec<usize>,
    windows: Vec<String>,
    data: Vec<f32>,
}

/// FNV-1a over the tensor's f32 bit patterns: `ort.mjs` computes the same, so the JSON shows
/// both engines were given the identical tensor.
fn fnv1a(values: &[f32]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in values.iter().flat_map(|v| v.to_bits().to_le_bytes()) {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

/// The model alone (tract) on the stored parity windows tiled to a 30 s recording's batch; the
/// onnxruntime-web side (`ort.mjs`) runs the same tensor, and `run.sh` compares the outputs.
#[wasm_bindgen_test]
fn bench_model_tract() {
    let parity: Parity =
        serde_json::from_str(include_str!("../../tests/fixtures/parity/input.json"))
            .expect("parity fixture parses");
    let card = ModelCard::from_json(bundled::CARD).expect("bundled card parses");
    let (n_mels, frames) = (card.features.input_bands(), card.features.window_frames);
    let n_windows = model_windows(&card);
    assert_eq!(
        parity.shape[1..],
        [1, n_mels, frames],
        "fixture and model card disagree"
    );
    let stored: Vec<&[f32]> = parity.data.chunks_exact(n_mels * frames).collect();
    // Window i is stored window i mod 3: the tiling ort.mjs repeats.
    let batch: Vec<f32> = (0..n_windows)
        .flat_map(|i| stored[i % stored.len()])
        .copied()
        .collect();

    let (load, model) =
        time(|| Model::from_onnx(bundled::ONNX, n_mels, frames).expect("model loads"));
    let mut outputs = Vec::new();
    for _ in 0..MODEL_WARMUP {
        outputs = model.predict(&batch).expect("model runs");
    }
    let mut times = Vec::with_capacity(MODEL_RUNS);
    for _ in 0..MODEL_RUNS {
        let start = now_ms();
        outputs = model.predict(&batch).expect("model runs");
        times.push(now_ms() - start);
    }
    let result = json!({
        "engine": "tract-onnx",
        "build": "cargo --release (opt-level 3, thin LTO), wasm32-unknown-unknown, +simd128",
        "input": {
            "shape": [n_windows, 1, n_mels, frames],
            "source": "tests/fixtures/parity/input.json, window i = stored window i mod 3",
            "stored_windows": parity.windows,
            "fnv1a_f32": fnv1a(&batch),
        },
        "model_load": load,
        "warmup_runs": MODEL_WARMUP,
        "run": stats(times),
        "outputs": outputs,
    });
    console_log!("BENCH_MODEL_JSON {result}");
}

/// Where the model's time goes. The same [`model_windows`] windows through three plans: the
/// batch left symbolic (one plan for every recording length), fixed at that count, and
/// fixed at 1 with the windows run one by one (tract lowers convolutions differently once every
/// shape is known, and some lowerings take one image only). Then the time of each operator of
/// the batch-1 plan, summed over the windows (median over the runs, in plan order).
#[wasm_bindgen_test]
fn bench_model_profile() {
    use tract_onnx::prelude::*;

    type Plan = std::sync::Arc<TypedRunnableModel>;
    let card = ModelCard::from_json(bundled::CARD).expect("bundled card parses");
    let (n_mels, frames) = (card.features.input_bands(), card.features.window_frames);
    let n_windows = model_windows(&card);
    let per = n_mels * frames;
    // `None`: the batch stays the symbol N, as in the core.
    let plan = |batch: Option<usize>| -> Plan {
        let mut model = Model::parse(bundled::ONNX).expect("bundled model parses");
        let batch: TDim = match batch {
            Some(n) => n.into(),
            None => model.symbols.sym("N").into(),
        };
        let shape: TVec<TDim> = tvec![batch, 1.into(), n_mels.into(), frames.into()];
        model
            .set_input_fact(0, f32::fact(shape).into())
            .expect("input fact");
        model
            .into_optimized()
            .expect("optimises")
            .into_runnable()
            .expect("plans")
    };
    let windows = synth_windows(n_windows * per);
    let tensor = |values: &[f32]| -> TValue {
        tract_ndarray::Array4::from_shape_vec(
            (values.len() / per, 1, n_mels, frames),
            values.to_vec(),
        )
        .expect("shape")
        .into_tensor()
        .into()
    };
    // Runs the windows through `p` in batches of `batch`; the inputs are built before timing.
    let timed = |p: &Plan, batch: usize| -> f64 {
        let inputs: Vec<TValue> = windows.chunks(batch * per).map(tensor).collect();
        let start = now_ms();
        for input in inputs {
            p.run(tvec![input]).expect("runs");
        }
        now_ms() - start
    };
    let measure = |p: &Plan, batch: usize| {
        for _ in 0..MODEL_WARMUP {
            timed(p, batch);
        }
        stats((0..MODEL_RUNS).map(|_| timed(p, batch)).collect())
    };
    let symbolic = measure(&plan(None), n_windows);
    let fixed = measure(&plan(Some(n_windows)), n_windows);
    let single = plan(Some(1));
    let one_by_one = measure(&single, 1);

    let nodes = single.model().nodes().len();
    let mut per_node: Vec<Vec<f64>> = vec![Vec::new(); nodes];
    for _ in 0..MODEL_RUNS {
        let mut run_total = vec![0.0; nodes];
        for window in windows.chunks(per) {
            let mut state = tract_core::plan::SimpleState::new(&single).expect("state");
            state
                .run_plan_with_eval(tvec![tensor(window)], |ctx, op_state, node, inputs| {
                    let start = now_ms();
                    let out = tract_core::plan::eval(ctx, op_state, node, inputs);
                    run_total[node.id] += now_ms() - start;
                    out
                })
                .expect("runs");
        }
        for (times, total) in per_node.iter_mut().zip(run_total) {
            times.push(total);
        }
    }
    let ops: Vec<Value> = single
        .order_without_consts()
        .iter()
        .map(|&id| {
            let node = single.model().node(id);
            let mut t = per_node[id].clone();
            t.sort_by(f64::total_cmp);
            json!({
                "node": node.name,
                "op": node.op().name(),
                "median_ms": t.get(t.len() / 2).copied().unwrap_or(0.0),
            })
        })
        .collect();
    let result = json!({
        "windows": n_windows,
        "symbolic_batch": symbolic,
        "fixed_batch": fixed,
        "batch_of_1_looped": one_by_one,
        "ops_batch_of_1": ops,
    });
    console_log!("BENCH_PROFILE_JSON {result}");
}

/// Deterministic values in the range of normalised log-mel features.
fn synth_windows(n: usize) -> Vec<f32> {
    let mut seed: u32 = 2016;
    (0..n)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
        })
        .collect()
}
