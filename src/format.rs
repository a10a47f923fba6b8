//! Values as people read them: units always shown, no false precision.

use heartbeat_core::quality::Verdict;
use heartbeat_core::Label;

/// "Normal" or "Abnormal".
pub fn label(label: Label) -> &'static str {
    match label {
        Label::Normal => "Normal",
        Label::Abnormal => "Abnormal",
    }
}

/// What the label asks the user to do.
pub fn advice(label: Label) -> &'static str {
    match label {
        Label::Normal => "No abnormal heart sounds detected by the model.",
        Label::Abnormal => "Possible abnormal heart sounds: refer for a clinical examination.",
    }
}

/// A probability as a percentage with one decimal.
pub fn percent(p: f32) -> String {
    if p.is_finite() {
        format!("{:.1} %", p * 100.0)
    } else {
        "not available".to_owned()
    }
}

/// A heart rate, or why there is none.
pub fn heart_rate(bpm: Option<f32>) -> String {
    match bpm {
        Some(b) if b.is_finite() => format!("{b:.0} bpm"),
        _ => "not found (no steady rhythm)".to_owned(),
    }
}

/// A duration in seconds with one decimal.
pub fn seconds(s: f32) -> String {
    format!("{s:.1} s")
}

/// Milliseconds: whole numbers from 10 ms up, one decimal below.
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() {
        "–".to_owned()
    } else if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The quality verdict in words.
pub fn quality(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Good => "Good",
        Verdict::Poor => "Poor: please re-record before relying on this result",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn values_are_formatted_with_units() {
        assert_eq!(percent(0.1234), "12.3 %");
        assert_eq!(percent(f32::NAN), "not available");
        assert_eq!(heart_rate(Some(71.6)), "72 bpm");
        assert_eq!(heart_rate(None), "not found (no steady rhythm)");
        assert_eq!(seconds(29.96), "30.0 s");
        assert_eq!(millis(3.04), "3.0 ms");
        assert_eq!(millis(42.6), "43 ms");
        assert_eq!(millis(f64::NAN), "–");
        assert_eq!(label(Label::Abnormal), "Abnormal");
        assert!(quality(Verdict::Poor).contains("re-record"));
    }
}
