//! The numbers `training/` must compute exactly as the core does, written by the core into
//! `tests/fixtures/python/core.json`: where a recording's windows start, how window
//! probabilities become a recording's, and the screening metrics. Python's versions
//! (`training/heartbeat_training`) are checked against that file by
//! `training/tests/test_core_parity.py`, without PyTorch; this test checks the file is what the
//! core computes today, so neither side can drift. `HEARTBEAT_BLESS=1` rewrites the file.

use std::path::PathBuf;

use heartbeat_core::metrics::{auc, evaluate, Scored};
use heartbeat_core::windows::{starts, Aggregation};
use serde_json::{json, Value};

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/python/core.json")
}

/// A small deterministic generator (no dependency, same numbers everywhere).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32) / (1u64 << 24) as f32
    }
}

fn windows() -> Value {
    let mut cases = Vec::new();
    // The shipped model's windows (300 frames, hop 150) and others, around every edge case.
    for (window, hop) in [(300, 150), (47, 23), (188, 94), (5, 5)] {
        for n_frames in [
            0,
            1,
            window - 1,
            window,
            window + 1,
            2 * window,
            1000,
            1501,
            3761,
        ] {
            cases.push(json!({
                "n_frames": n_frames, "window": window, "hop": hop,
                "starts": starts(n_frames, window, hop),
            }));
        }
    }
    Value::Array(cases)
}

fn aggregations() -> Value {
    let mut rng = Lcg(2016);
    let mut cases = Vec::new();
    let kinds = [
        Aggregation::Mean,
        Aggregation::TopKMean { fraction: 0.25 },
        Aggregation::TopKMean { fraction: 0.1 },
        Aggregation::TopKMean { fraction: 1.0 },
    ];
    for n in [1, 2, 3, 7, 20, 61] {
        let p: Vec<f32> = (0..n).map(|_| rng.next()).collect();
        for kind in kinds {
            cases.push(json!({"p": p, "aggregation": kind, "probability": kind.combine(&p)}));
        }
    }
    Value::Array(cases)
}

fn metrics() -> Value {
    let mut rng = Lcg(2022);
    // Probabilities rounded to 0.02, so many tie: ties are where AUCs differ between methods.
    let scored: Vec<Scored> = (0..240)
        .map(|_| {
            let abnormal = rng.next() < 0.3;
            let shift = if abnormal { 0.25 } else { 0.0 };
            let probability = ((rng.next() * 0.75 + shift) * 50.0).round() / 50.0;
            Scored {
                abnormal,
                probability,
            }
        })
        .collect();
    let at: Vec<Value> = [0.3f32, 0.5, 0.53844, 0.9]
        .into_iter()
        .map(|threshold| json!({"threshold": threshold, "metrics": evaluate(&scored, threshold)}))
        .collect();
    json!({
        "labels": scored.iter().map(|s| u8::from(s.abnormal)).collect::<Vec<_>>(),
        "probabilities": scored.iter().map(|s| s.probability).collect::<Vec<_>>(),
        "auc": auc(&scored),
        "at": at,
    })
}

#[test]
fn the_python_fixture_is_what_the_core_computes() {
    let fixture = json!({
        "about": "Written by crates/core/tests/python_parity.rs (HEARTBEAT_BLESS=1); read by training/tests/test_core_parity.py.",
        "windows": windows(),
        "aggregations": aggregations(),
        "metrics": metrics(),
    });
    let text = serde_json::to_string_pretty(&fixture).expect("serialises") + "\n";
    let path = fixture_path();
    if std::env::var_os("HEARTBEAT_BLESS").is_some() {
        std::fs::write(&path, &text).expect("write the fixture");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} differs from what the core computes: if the core's change is intended, run \
         `HEARTBEAT_BLESS=1 cargo test -p heartbeat-core --test python_parity` and check \
         training/ still passes `python3 -m pytest training/tests`",
        path.display()
    );
}
