//! The app's charts, drawn with plotters on `<canvas>` elements.
//!
//! Each function draws one whole chart on the canvas it is given. It sizes the canvas's bitmap
//! to the canvas's CSS size × `devicePixelRatio` first, so the canvas needs a CSS width and
//! height (a stylesheet rule such as `width: 100%; height: 220px`) and should be laid out when
//! drawn; call the function again when that size changes. Bad input (empty slices, NaN, a zero
//! duration) draws axes and "No data" rather than failing: only the browser refusing to draw
//! is an error.
//!
//! The charts of one recording share a time axis and return where it lies ([`PlotArea`]), so
//! a playback cursor can be placed over any of them.

mod axis;
mod canvas;
mod history;
mod model;
mod palette;
mod recording;

pub use canvas::{set_printing, ChartError};
pub use history::{bars, histogram};
pub use model::{roc, training_curves};
pub use recording::{spectrogram, waveform, window_probabilities};

/// Where the plot's time axis lies, as fractions of the canvas's CSS width, so the app can
/// position a playback cursor overlay (an absolutely positioned element over the canvas)
/// exactly on it: time `t` is at `left + (right - left) * t / duration` of the width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotArea {
    /// The x of t = 0, as a fraction 0..1 of the CSS width.
    pub left: f32,
    /// The x of t = duration, as a fraction 0..1 of the CSS width.
    pub right: f32,
}

/// One point of a ROC curve: the rates at one decision threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RocPoint {
    /// False positive rate (1 − specificity), 0..=1.
    pub fpr: f32,
    /// True positive rate (sensitivity), 0..=1.
    pub tpr: f32,
}

/// A named line on a chart of training progress, such as one cross-validation fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Name in the legend ("fold 0", "all").
    pub name: String,
    /// (epoch, value) pairs in drawing order; a non-finite value breaks the line.
    pub points: Vec<(f32, f32)>,
}

/// What a bar counts, which sets its colour: the two classes use the same colours everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// Recordings or windows judged normal.
    Normal,
    /// Recordings or windows judged abnormal.
    Abnormal,
    /// Anything not tied to a class (analyses per day).
    Neutral,
}

/// One category of a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The category's label under its bar.
    pub label: String,
    /// The bar's height; a non-finite value leaves the slot empty.
    pub value: f32,
    /// Its colour.
    pub kind: BarKind,
}
