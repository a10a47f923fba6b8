//! HeartBeat's target-independent core: decode → resample → filter → log-mel → windows → CNN →
//! report. The web app, the CLI, the training pipeline's feature export and the tests all call
//! this crate, so a feature is computed one way only.

#[cfg(feature = "runtime")]
pub mod analyzer;
pub mod audio;
pub mod bundled;
pub mod card;
pub mod config;
pub mod dsp;
pub mod error;
pub mod metrics;
#[cfg(feature = "runtime")]
pub mod model;
pub mod pipeline;
pub mod quality;
pub mod report;
pub mod rhythm;
pub mod segmentation;
pub mod synth;
pub mod table;
pub mod visual;
pub mod windows;

#[cfg(feature = "runtime")]
pub use analyzer::Analyzer;
pub use audio::Audio;
pub use card::ModelCard;
pub use config::{FeatureConfig, FilterBank, Limits, Normalization, View};
pub use error::{Error, Result};
pub use pipeline::{FrontEnd, Prepared};
pub use report::{Label, Report};
pub use visual::Visual;
