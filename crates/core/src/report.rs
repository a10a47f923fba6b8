//! What a recording's analysis tells the user, serialisable as-is for the CLI's JSON Lines, the
//! web app and the portal API.

use serde::{Deserialize, Serialize};

use crate::quality::Quality;
use crate::segmentation::{Rhythm, Segment};

/// The screening result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Below the threshold.
    Normal,
    /// At or above the threshold: refer for a clinical examination.
    Abnormal,
}

impl Label {
    /// The label as JSON spells it (`"normal"`, `"abnormal"`), for tables and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Normal => "normal",
            Label::Abnormal => "abnormal",
        }
    }
}

/// One CNN window's verdict, placed in time so the UI can shade the waveform.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowScore {
    /// Window start (s).
    pub start_s: f32,
    /// Window end (s).
    pub end_s: f32,
    /// P(abnormal) for this window.
    pub probability: f32,
}

/// Which model produced a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// False while the untrained placeholder is in use.
    pub trained: bool,
}

/// Everything the analysis of one recording concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Normal or abnormal.
    pub label: Label,
    /// The recording's P(abnormal), aggregated over its windows.
    pub probability_abnormal: f32,
    /// The threshold the label was decided with.
    pub threshold: f32,
    /// Per-window probabilities with their times.
    pub windows: Vec<WindowScore>,
    /// Recording length (s).
    pub duration_s: f32,
    /// Heart rate (beats per minute) from the median S1-to-S1 interval, when at least three
    /// S1 were found; `null` says that no rate could be found rather than guessing one.
    pub heart_rate_bpm: Option<f32>,
    /// Beat-to-beat intervals, their variability and systole and diastole durations, when the
    /// heart rate was found. Reports saved before segmentation shipped have none.
    #[serde(default)]
    pub rhythm: Option<Rhythm>,
    /// The heart cycle's states over the recording, in time order (empty in reports saved
    /// before segmentation shipped).
    #[serde(default)]
    pub segments: Vec<Segment>,
    /// Whether the recording is good enough to judge.
    pub quality: Quality,
    /// The model used.
    pub model: ModelInfo,
}
