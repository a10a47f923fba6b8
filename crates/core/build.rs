//! Writes the copies of `models/heartbeat.card.json` that get compiled in (see `src/bundled.rs`).
//!
//! The model is part of the browser's first download, and so is every card copy compiled into
//! the page and the worker. The committed card also holds what only CI reads: the regression
//! slice it checks (read from the file). The page gets the card without it; the worker and the
//! CLI, which only run the model, get the few fields a `ModelCard` needs.

use std::path::Path;

use serde_json::{Map, Value};

const CARD: &str = "../../models/heartbeat.card.json";
/// The fields of `ModelCard` (src/card.rs): all the model runtime reads.
const RUNTIME_FIELDS: [&str; 6] = [
    "name",
    "version",
    "trained",
    "features",
    "threshold",
    "aggregation",
];

fn main() {
    println!("cargo::rerun-if-changed={CARD}");
    let text = std::fs::read_to_string(CARD).expect("models/heartbeat.card.json is readable");
    let mut card: Value = serde_json::from_str(&text).expect("models/heartbeat.card.json is JSON");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out);

    let fields = card.as_object_mut().expect("the card is a JSON object");
    let runtime: Map<String, Value> = RUNTIME_FIELDS
        .iter()
        .filter_map(|&k| fields.get(k).map(|v| (k.to_owned(), v.clone())))
        .collect();
    write(out, "runtime-card.json", &Value::Object(runtime));

    fields.remove("regression");
    write(out, "page-card.json", &card);
}

fn write(dir: &Path, name: &str, value: &Value) {
    let json = serde_json::to_string(value).expect("a JSON value serialises");
    std::fs::write(dir.join(name), json).expect("OUT_DIR is writable");
}
