//! Values as people read them: units always shown, no false precision.

use heartbeat_core::quality::Verdict;
use heartbeat_core::segmentation::Rhythm;
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

/// How much the beat-to-beat intervals vary: their spread as a percentage of the interval, and
/// the short-term measure (RMSSD) clinicians may know better.
pub fn variability(rhythm: &Rhythm) -> String {
    format!(
        "{} (RMSSD {})",
        percent(rhythm.variability_percent / 100.0),
        millis(f64::from(rhythm.rmssd_ms))
    )
}

/// A median phase of the heart cycle (systole, diastole), given in seconds, in milliseconds.
pub fn phase(seconds: f32) -> String {
    millis(f64::from(seconds) * 1000.0)
}

/// The sentence that names an irregular rhythm, for recordings whose intervals vary more than
/// breathing explains; `None` for a regular one. It describes the recording and says so, since
/// a screening aid must not read as a diagnosis of arrhythmia.
pub fn irregular(rhythm: &Rhythm) -> Option<String> {
    rhythm.irregular.then(|| {
        format!(
            "Irregular rhythm: beat-to-beat intervals vary by {:.0} % (a description of the \
             recording, not a diagnosis).",
            rhythm.variability_percent
        )
    })
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

    fn rhythm(variability_percent: f32, irregular: bool) -> Rhythm {
        Rhythm {
            beats: 30,
            interval_s: 0.8,
            variability_percent,
            rmssd_ms: 41.6,
            systole_s: 0.312,
            diastole_s: 0.3876,
            irregular,
        }
    }

    #[test]
    fn the_rhythm_is_described_in_words_and_milliseconds() {
        assert_eq!(variability(&rhythm(4.26, false)), "4.3 % (RMSSD 42 ms)");
        assert_eq!(phase(0.312), "312 ms");
        assert_eq!(phase(0.0084), "8.4 ms");
        assert_eq!(irregular(&rhythm(4.26, false)), None);
        let named = irregular(&rhythm(21.7, true)).expect("irregular");
        assert_eq!(
            named,
            "Irregular rhythm: beat-to-beat intervals vary by 22 % (a description of the \
             recording, not a diagnosis)."
        );
    }
}
