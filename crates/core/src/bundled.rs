//! The shipped model, compiled in so the CLI needs no paths and the app no extra requests.

/// `models/heartbeat.onnx`.
pub const ONNX: &[u8] = include_bytes!("../../../models/heartbeat.onnx");
/// `models/heartbeat.card.json`.
pub const CARD: &str = include_str!("../../../models/heartbeat.card.json");
