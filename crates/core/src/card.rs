//! The model card: what the core needs to run a model the way it was trained (features,
//! threshold, aggregation), plus everything else training measured, kept verbatim for the app.

use serde::{Deserialize, Serialize};

use crate::config::FeatureConfig;
use crate::error::{Error, Result};
use crate::report::ModelInfo;
use crate::windows::Aggregation;

/// A model card as written by `training/export.py`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// False for the randomly initialised placeholder: its outputs mean nothing.
    pub trained: bool,
    /// The feature configuration the model was trained on.
    pub features: FeatureConfig,
    /// Recording-level probability at or above which we say "abnormal".
    pub threshold: f32,
    /// How window probabilities combine into the recording's.
    pub aggregation: Aggregation,
    /// Metrics, curves and training history: shown by the app, not used by the core.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ModelCard {
    /// Which model this is, as every report names it.
    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.name.clone(),
            version: self.version.clone(),
            trained: self.trained,
        }
    }

    /// Parses and checks a card.
    pub fn from_json(json: &str) -> Result<Self> {
        let card: Self =
            serde_json::from_str(json).map_err(|e| Error::Model(format!("model card: {e}")))?;
        card.features.validate()?;
        if !(0.0..=1.0).contains(&card.threshold) {
            return Err(Error::Model(format!(
                "model card: threshold {} is not a probability",
                card.threshold
            )));
        }
        Ok(card)
    }
}
