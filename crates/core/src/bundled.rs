//! The shipped model, compiled in so the CLI needs no paths and the app no extra requests.
//!
//! `models/heartbeat.card.json` is compiled in as two trimmed copies (`build.rs`), so each binary
//! carries only what it reads: the model card is part of the browser's first download.

/// `models/heartbeat.onnx`.
pub const ONNX: &[u8] = include_bytes!("../../../models/heartbeat.onnx");
/// `models/heartbeat.card.json` without its regression slice (CI reads it from the file): what
/// the Model page shows.
pub const CARD: &str = include_str!(concat!(env!("OUT_DIR"), "/page-card.json"));
/// The card's fields that running the model needs (a [`crate::ModelCard`]'s): what the worker
/// and the CLI parse.
pub const RUNTIME_CARD: &str = include_str!(concat!(env!("OUT_DIR"), "/runtime-card.json"));
/// `models/segmenter.json`: the heart-cycle segmenter's parameters (`training/segmenter.py`).
pub const SEGMENTER: &str = include_str!("../../../models/segmenter.json");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelCard;
    use serde_json::Value;

    #[test]
    fn the_compiled_in_cards_are_the_committed_card_trimmed() {
        let file = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/heartbeat.card.json"
        ))
        .expect("committed card");
        let mut expected: Value = serde_json::from_str(&file).expect("JSON");
        let page: Value = serde_json::from_str(CARD).expect("JSON");
        expected
            .as_object_mut()
            .expect("object")
            .remove("regression");
        assert_eq!(page, expected);

        let (whole, runtime) = (
            ModelCard::from_json(&file).expect("committed card"),
            ModelCard::from_json(RUNTIME_CARD).expect("runtime card"),
        );
        assert_eq!(runtime.info(), whole.info());
        assert_eq!(runtime.features, whole.features);
        assert_eq!(runtime.threshold, whole.threshold);
        assert_eq!(runtime.aggregation, whole.aggregation);
        assert!(runtime.extra.is_empty(), "{:?}", runtime.extra.keys());
    }
}
