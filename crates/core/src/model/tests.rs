//! The core's own operator register (`ops.rs`) against tract-onnx's full one: a model must
//! compute the same numbers, bit for bit, whichever parsed it. Fixtures and their generator are
//! in `crates/core/tests/fixtures/operators/`.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tract_onnx::prelude::*;

use super::{ops, Model};

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture_path(name)).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn floats(v: &Value) -> Vec<f32> {
    let values = v.as_array().expect("array of numbers");
    values
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn dims(v: &Value) -> Vec<usize> {
    let values = v.as_array().expect("array of dims");
    values
        .iter()
        .map(|d| d.as_u64().expect("dim") as usize)
        .collect()
}

/// Runs a parsed model on `input`, its input shape fixed to `input`'s.
fn run(mut model: InferenceModel, input: &Tensor) -> TVec<Tensor> {
    let fact = InferenceFact::dt_shape(f32::datum_type(), input.shape());
    model.set_input_fact(0, fact).expect("input fact");
    let plan = model
        .into_optimized()
        .expect("optimises")
        .into_runnable()
        .expect("plans");
    let outputs = plan.run(tvec!(input.clone().into())).expect("runs");
    outputs.into_iter().map(|v| v.into_tensor()).collect()
}

fn values(t: &Tensor) -> Vec<f32> {
    let view = t.to_plain_array_view::<f32>().expect("f32 output");
    view.iter().copied().collect()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn every_operator_computes_what_the_full_register_and_onnxruntime_compute() {
    let expected = json("tests/fixtures/operators/expected.json");
    let cases = expected.as_object().expect("cases by file name");
    assert!(cases.len() >= 2, "fixtures missing: run generate.py");
    for (file, case) in cases {
        let bytes = std::fs::read(fixture_path(&format!("tests/fixtures/operators/{file}")))
            .expect("model readable");
        let input = Tensor::from_shape(
            &dims(&case["input"]["shape"]),
            &floats(&case["input"]["data"]),
        )
        .expect("input tensor");
        let ours = run(ops::read(&bytes).expect("our register parses it"), &input);
        let full = tract_onnx::onnx()
            .model_for_read(&mut bytes.as_slice())
            .expect("tract-onnx parses it");
        let full = run(full, &input);
        let wanted = case["outputs"].as_array().expect("outputs");
        assert_eq!(ours.len(), wanted.len(), "{file}: number of outputs");
        for ((got, reference), want) in ours.iter().zip(&full).zip(wanted) {
            let name = format!("{file}: {}", want["name"]);
            assert_eq!(got.shape(), reference.shape(), "{name}: shape");
            assert_eq!(got.shape(), dims(&want["shape"]), "{name}: shape");
            let (got, reference) = (values(got), values(reference));
            assert_eq!(
                bits(&got),
                bits(&reference),
                "{name}: differs from the full register"
            );
            for (i, (g, w)) in got.iter().zip(floats(&want["data"])).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                    "{name}[{i}]: tract {g}, onnxruntime {w}"
                );
            }
        }
    }
}

#[test]
fn the_shipped_model_scores_bit_for_bit_as_with_the_full_register() {
    let input = json("../../tests/fixtures/parity/input.json");
    let shape = dims(&input["shape"]);
    let (n_mels, frames) = (shape[2], shape[3]);
    let batch = floats(&input["data"]);
    let ours = Model::from_onnx(crate::bundled::ONNX, n_mels, frames).expect("our register");
    let full = tract_onnx::onnx()
        .model_for_read(&mut &crate::bundled::ONNX[..])
        .expect("tract-onnx parses it");
    let full = Model::plan(full, n_mels, frames).expect("full register");
    let got = ours.predict(&batch).expect("our plan runs");
    let want = full.predict(&batch).expect("full plan runs");
    assert_eq!(bits(&got), bits(&want), "ours {got:?}, full {want:?}");
}
