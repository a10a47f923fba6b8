//! The bundled heart-cycle segmenter, run through the real CLI on a fixed slice of annotated
//! CirCor recordings that it was not trained on (`tests/fixtures/segmentation/slice.txt`, 40
//! patients held out by `training/segmenter.py ship`), must reproduce the numbers recorded in
//! `models/segmenter.json` and stay within a stated tolerance of issue 31's targets.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// S1 and S2 onset F1 within ±60 ms: the target.
const F1_TARGET: f64 = 0.95;
/// Share of recordings whose rate over the annotated stretch is within 5 % of the annotated
/// rate: the target.
const RATE_TARGET: f64 = 0.95;
/// Share with a halved or doubled rate: the goal.
const OCTAVE_GOAL: f64 = 0.01;
/// How far a 139-recording slice may fall short of a target. Across the cross-validation's
/// five folds of ~320 recordings F1 spread by ±0.01 and the rate share by ±0.015; a slice of 40
/// patients spreads about twice as much, and this one scores below the CV (see the README).
const TOLERANCE: f64 = 0.03;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data_dir() -> PathBuf {
    std::env::var_os("HEARTBEAT_CIRCOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data/circor2022"))
}

fn number(v: &Value, name: &str) -> f64 {
    v[name]
        .as_f64()
        .unwrap_or_else(|| panic!("{name} missing in {v}"))
}

#[test]
fn bundled_segmenter_meets_its_targets_on_the_held_out_slice() {
    let data = data_dir();
    assert!(
        data.is_dir(),
        "annotated data not found at {} (set HEARTBEAT_CIRCOR)",
        data.display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_heartbeat"))
        .arg("segment-eval")
        .arg(&data)
        .arg("--records")
        .arg(repo().join("tests/fixtures/segmentation/slice.txt"))
        .output()
        .expect("run CLI");
    assert!(
        out.status.success(),
        "segment-eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("segment-eval prints JSON");
    let params: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("models/segmenter.json")).expect("segmenter file"),
    )
    .expect("segmenter JSON");
    let (summary, recorded) = (&got["summary"], &params["evaluation"]["test_slice"]);
    assert_eq!(
        summary["recordings"], 139,
        "every slice recording is scored"
    );
    // Counts are exact: a drift between what training scored and what the core computes fails.
    for sound in ["s1", "s2"] {
        assert_eq!(summary[sound], recorded[sound], "{sound} onsets");
    }
    let f1 = number(summary, "f1");
    assert!(f1 >= F1_TARGET - TOLERANCE, "S1/S2 F1 {f1:.3}");
    let rate = number(summary, "stretch_rate_within_5_percent");
    assert!(
        rate >= RATE_TARGET - TOLERANCE,
        "rate within 5 %: {rate:.3}"
    );
    let octave = number(summary, "rate_halved_or_doubled");
    assert!(
        octave <= OCTAVE_GOAL + TOLERANCE,
        "halved or doubled: {octave:.3}"
    );
}
