//! The committed model, run through the real CLI on the fixed slice recorded in its card
//! (`training/record_regression.py`), must reproduce the card's numbers: a drift between the
//! features the model was trained on and the ones the core computes fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data_dir() -> PathBuf {
    std::env::var_os("HEARTBEAT_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data/physionet2016"))
}

fn metric(v: &Value, name: &str) -> f64 {
    v[name]
        .as_f64()
        .unwrap_or_else(|| panic!("metric {name} missing in {v}"))
}

#[test]
fn committed_model_reproduces_its_card_on_the_regression_slice() {
    let card: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("models/heartbeat.card.json"))
            .expect("model card readable"),
    )
    .expect("model card is JSON");
    let Some(regression) = card.get("regression") else {
        assert_eq!(
            card["trained"], false,
            "a trained model's card must carry its regression slice"
        );
        return;
    };
    let data = data_dir();
    assert!(
        data.is_dir(),
        "development data not found at {} (set HEARTBEAT_DATA)",
        data.display()
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    for rec in regression["records"].as_array().expect("records list") {
        let (subset, record) = rec
            .as_str()
            .and_then(|r| r.split_once('/'))
            .expect("subset/record");
        let reference = std::fs::read_to_string(data.join(subset).join("REFERENCE.csv"))
            .expect("REFERENCE.csv");
        let line = reference
            .lines()
            .find(|l| l.split(',').next() == Some(record))
            .unwrap_or_else(|| panic!("{rec} not in REFERENCE.csv"));
        let dir = tmp.path().join(subset);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::copy(
            data.join(subset).join(format!("{record}.flac")),
            dir.join(format!("{record}.flac")),
        )
        .expect("copy recording");
        let refs = dir.join("REFERENCE.csv");
        let mut text = std::fs::read_to_string(&refs).unwrap_or_default();
        text.push_str(line);
        text.push('\n');
        std::fs::write(refs, text).expect("write REFERENCE.csv");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_heartbeat"))
        .arg("evaluate")
        .arg(tmp.path())
        .output()
        .expect("run CLI");
    assert!(
        out.status.success(),
        "evaluate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("evaluate prints JSON");
    let (want, got) = (&regression["overall"], &got["overall"]);
    let tolerance = metric(regression, "tolerance");
    assert_eq!(got["n"], want["n"], "every slice recording must be scored");
    for name in ["macc", "sensitivity", "specificity", "auc"] {
        let (g, w) = (metric(got, name), metric(want, name));
        assert!(
            (g - w).abs() <= tolerance,
            "{name}: card says {w:.4}, the core now gives {g:.4} (tolerance {tolerance})"
        );
    }
}
