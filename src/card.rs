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

/// One epoch of training.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Epoch {
    /// The fold (a number), or "all" for the shipped model's final run.
    pub fold: serde_json::Value,
    /// 1-based epoch.
    pub epoch: u32,
    /// Mean training loss.
    pub train_loss: f32,
    /// Which of the model's CNNs, when it averages several (absent for a single CNN).
    #[serde(default)]
    pub member: Option<u32>,
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
    /// Training loss per fold and epoch.
    pub history: Vec<Epoch>,
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

    /// The loss curves, one series per fold (in fold order, "all" last). A model that averages
    /// several CNNs logs each one's epochs; their losses are averaged per epoch, so each fold
    /// stays one curve.
    pub fn loss_curves(&self) -> Vec<(String, Vec<(f32, f32)>)> {
        let mut series: Vec<(String, Vec<SummedLoss>)> = Vec::new();
        for e in &self.history {
            let name = match &e.fold {
                serde_json::Value::String(s) if s == "all" => "final model".to_owned(),
                other => format!(
                    "fold {}",
                    other.as_str().map_or(other.to_string(), str::to_owned)
                ),
            };
            let points = match series.iter_mut().find(|(n, _)| *n == name) {
                Some((_, points)) => points,
                None => {
                    series.push((name, Vec::new()));
                    &mut series.last_mut().expect("just pushed").1
                }
            };
            match points.iter_mut().find(|p| p.epoch == e.epoch) {
                Some(p) => {
                    p.sum += e.train_loss;
                    p.cnns += 1;
                }
                None => points.push(SummedLoss {
                    epoch: e.epoch,
                    sum: e.train_loss,
                    cnns: 1,
                }),
            }
        }
        series
            .into_iter()
            .map(|(name, points)| {
                let curve = points
                    .into_iter()
                    .map(|p| (p.epoch as f32, p.sum / p.cnns as f32))
                    .collect();
                (name, curve)
            })
            .collect()
    }
}

/// One epoch's training loss summed over the CNNs that logged it.
struct SummedLoss {
    epoch: u32,
    sum: f32,
    cnns: u32,
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
        let curves = view.loss_curves();
        assert!(curves.len() >= 2, "{curves:?}");
        assert!(curves.iter().all(|(_, points)| !points.is_empty()));
        let total: usize = view
            .training
            .records
            .values()
            .map(|r| r.normal + r.abnormal)
            .sum();
        assert_eq!(total, view.metrics.pooled.n);
    }

    #[test]
    fn an_ensemble_s_cnns_share_one_curve_per_fold() {
        let epoch = |fold: serde_json::Value, epoch, train_loss, member| Epoch {
            fold,
            epoch,
            train_loss,
            member,
        };
        let view = CardView {
            history: vec![
                epoch(0.into(), 1, 0.6, Some(0)),
                epoch(0.into(), 2, 0.4, Some(0)),
                epoch(0.into(), 1, 0.8, Some(1)),
                epoch(0.into(), 2, 0.2, Some(1)),
                epoch("all".into(), 1, 0.5, Some(0)),
                epoch("all".into(), 1, 0.7, Some(1)),
            ],
            ..bundled().expect("bundled card").1
        };
        let curves = view.loss_curves();
        let names: Vec<&str> = curves.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["fold 0", "final model"]);
        let close = |got: &[(f32, f32)], want: &[(f32, f32)]| {
            got.len() == want.len()
                && got
                    .iter()
                    .zip(want)
                    .all(|(g, w)| g.0 == w.0 && (g.1 - w.1).abs() < 1e-6)
        };
        assert!(close(&curves[0].1, &[(1.0, 0.7), (2.0, 0.3)]), "{curves:?}");
        assert!(close(&curves[1].1, &[(1.0, 0.6)]), "{curves:?}");
    }

    #[test]
    fn an_incomplete_card_says_what_is_missing() {
        let err = CardView::from_json(r#"{"metrics": {}}"#).expect_err("incomplete");
        assert!(err.contains("model card is incomplete"), "{err}");
    }
}
