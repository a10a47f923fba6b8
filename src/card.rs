//! The parts of the model card the Model page shows, read with types so a card written by a
//! different training run fails here (and in a test) rather than as a blank table on screen.
//! The card itself is `training/export.py`'s output, bundled in the core; nothing is hand-edited.

use std::collections::BTreeMap;

use heartbeat_core::ModelCard;
use serde::Deserialize;

/// A metric over the cross-validation folds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Spread {
    /// Mean over folds.
    pub mean: f32,
    /// Standard deviation over folds.
    pub std: f32,
}

/// The metrics of one group of recordings (all, or one subset).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetricSet {
    /// Sensitivity on abnormal recordings.
    pub sensitivity: Spread,
    /// Specificity on normal recordings.
    pub specificity: Spread,
    /// (Se + Sp) / 2, the PhysioNet 2016 score.
    pub macc: Spread,
    /// Area under the ROC curve.
    pub auc: Spread,
    /// Accuracy.
    pub accuracy: Spread,
    /// Recordings.
    pub n: usize,
}

/// Cross-validation metrics.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Metrics {
    /// How they were measured.
    pub description: String,
    /// All recordings together.
    pub pooled: MetricSet,
    /// Each recording site (training-a … f).
    pub per_subset: BTreeMap<String, MetricSet>,
    /// Mean of per-subset MAcc over the subsets the targets name.
    pub mean_subset_macc: f32,
    /// Those subsets.
    pub mean_subset_macc_subsets: Vec<String>,
}

/// One point of the out-of-fold ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct RocPoint {
    /// False-positive rate.
    pub fpr: f32,
    /// True-positive rate.
    pub tpr: f32,
}

/// Out-of-fold confusion matrix at the shipped threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Confusion {
    /// Abnormal called abnormal.
    pub tp: usize,
    /// Abnormal called normal.
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Normal called abnormal.
    pub fp: usize,
    /// Normal called normal.
    pub tn: usize,
}

/// One training-loss curve, as training pre-aggregated it (its CNNs averaged per epoch).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LossCurve {
    /// "fold 0" … or "final model".
    pub name: String,
    /// (epoch, mean training loss), epochs in order.
    pub points: Vec<(f32, f32)>,
}

/// Pooled cross-validation scores of one run.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct RunScores {
    /// Pooled MAcc.
    pub pooled_macc: f64,
    /// Pooled AUC.
    pub pooled_auc: f64,
}

/// One lever that was tried, and what it did.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Lever {
    /// What changed, in words.
    pub lever: String,
    /// The run without it.
    pub before: RunScores,
    /// The run with it.
    pub after: RunScores,
}

/// Training data per subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Records {
    /// Normal recordings.
    pub normal: usize,
    /// Abnormal recordings.
    pub abnormal: usize,
}

/// How the model was trained.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Training {
    /// Recordings per subset.
    pub records: BTreeMap<String, Records>,
    /// How training and validation data were split.
    pub split: String,
    /// How the shipped model relates to the CV folds.
    pub shipped: String,
    /// The rule that chose the threshold.
    pub threshold_rule: String,
    /// What mattered among what was tried (every run is in training/experiments/).
    pub levers: Vec<Lever>,
}

/// The card as the Model page reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CardView {
    /// Cross-validation metrics.
    pub metrics: Metrics,
    /// ROC curve points.
    pub roc: Vec<RocPoint>,
    /// Confusion matrix.
    pub confusion: Confusion,
    /// Training loss per fold and epoch, one curve per fold and the final model's.
    pub loss_curves: Vec<LossCurve>,
    /// Known weaknesses, in words.
    pub weaknesses: Vec<String>,
    /// Trainable parameters.
    pub parameters: usize,
    /// Multiply-accumulates per window (`features.window_frames` frames).
    pub macs_per_window: u64,
    /// Size of the ONNX file.
    pub onnx_bytes: usize,
    /// How it was trained.
    pub training: Training,
    /// The network in words.
    pub architecture: String,
}

impl CardView {
    /// Reads the view from a card's JSON.
    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("the model card is incomplete: {e}"))
    }
}

/// The bundled card, typed and viewed.
pub fn bundled() -> Result<(ModelCard, CardView), String> {
    let json = heartbeat_core::bundled::CARD;
    let card = ModelCard::from_json(json).map_err(|e| e.to_string())?;
    Ok((card, CardView::from_json(json)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_bundled_card_has_everything_the_model_page_shows() {
        let (card, view) = bundled().expect("bundled card");
        assert!(!card.name.is_empty());
        assert!(view.metrics.per_subset.contains_key("training-a"));
        assert!(view.roc.len() > 10);
        let c = view.confusion;
        assert_eq!(c.tp + c.fn_ + c.fp + c.tn, view.metrics.pooled.n);
        let curves = &view.loss_curves;
        assert!(curves.len() >= 2, "{curves:?}");
        assert!(curves.iter().all(|c| !c.points.is_empty()));
        assert!(!view.training.levers.is_empty());
        let total: usize = view
            .training
            .records
            .values()
            .map(|r| r.normal + r.abnormal)
            .sum();
        assert_eq!(total, view.metrics.pooled.n);
    }

    #[test]
    fn an_incomplete_card_says_what_is_missing() {
        let err = CardView::from_json(r#"{"metrics": {}}"#).expect_err("incomplete");
        assert!(err.contains("model card is incomplete"), "{err}");
    }
}
