//! Screening metrics as the PhysioNet/CinC 2016 challenge defines them. Shared by the CLI's
//! `evaluate` and anything else that scores predictions, so every number is computed one way.

use serde::{Deserialize, Serialize};

/// Counts of a binary decision; "positive" means abnormal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Abnormal called abnormal.
    pub tp: usize,
    /// Abnormal called normal.
    pub fn_: usize,
    /// Normal called abnormal.
    pub fp: usize,
    /// Normal called normal.
    pub tn: usize,
}

/// Metrics of one set of recordings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Recordings scored.
    pub n: usize,
    /// Sensitivity on abnormal recordings (None without any).
    pub sensitivity: Option<f64>,
    /// Specificity on normal recordings (None without any).
    pub specificity: Option<f64>,
    /// Challenge score: mean of sensitivity and specificity.
    pub macc: Option<f64>,
    /// Area under the ROC curve (None unless both classes are present).
    pub auc: Option<f64>,
    /// Share of correct decisions.
    pub accuracy: Option<f64>,
    /// The confusion matrix.
    pub confusion: Confusion,
}

/// One scored recording: its true label and the model's probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// True when the recording is abnormal.
    pub abnormal: bool,
    /// P(abnormal) from the model.
    pub probability: f32,
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Scores recordings at `threshold` (abnormal iff probability ≥ threshold).
pub fn evaluate(scored: &[Scored], threshold: f32) -> Metrics {
    let mut c = Confusion::default();
    for s in scored {
        match (s.abnormal, s.probability >= threshold) {
            (true, true) => c.tp += 1,
            (true, false) => c.fn_ += 1,
            (false, true) => c.fp += 1,
            (false, false) => c.tn += 1,
        }
    }
    let sensitivity = ratio(c.tp, c.tp + c.fn_);
    let specificity = ratio(c.tn, c.tn + c.fp);
    Metrics {
        n: scored.len(),
        sensitivity,
        specificity,
        macc: sensitivity.zip(specificity).map(|(a, b)| (a + b) / 2.0),
        auc: auc(scored),
        accuracy: ratio(c.tp + c.tn, scored.len()),
        confusion: c,
    }
}

/// ROC AUC as the Mann–Whitney statistic: the chance that a random abnormal recording scores
/// above a random normal one, ties counting half.
pub fn auc(scored: &[Scored]) -> Option<f64> {
    let mut v: Vec<&Scored> = scored.iter().collect();
    v.sort_by(|a, b| a.probability.total_cmp(&b.probability));
    let (mut rank_sum, mut i) = (0.0f64, 0);
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].probability.total_cmp(&v[i].probability).is_eq() {
            j += 1;
        }
        let mid_rank = (i + j + 1) as f64 / 2.0;
        rank_sum += mid_rank * v[i..j].iter().filter(|s| s.abnormal).count() as f64;
        i = j;
    }
    let pos = scored.iter().filter(|s| s.abnormal).count() as f64;
    let neg = scored.len() as f64 - pos;
    (pos > 0.0 && neg > 0.0).then(|| (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(abnormal: bool, probability: f32) -> Scored {
        Scored {
            abnormal,
            probability,
        }
    }

    #[test]
    fn challenge_metrics_by_hand() {
        let v = [
            s(true, 0.9),
            s(true, 0.4),
            s(false, 0.6),
            s(false, 0.1),
            s(false, 0.2),
        ];
        let m = evaluate(&v, 0.5);
        assert_eq!(
            m.confusion,
            Confusion {
                tp: 1,
                fn_: 1,
                fp: 1,
                tn: 2
            }
        );
        assert_eq!(m.sensitivity, Some(0.5));
        assert!((m.specificity.expect("spec") - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.macc.expect("macc") - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        // Pairs (abnormal > normal): 0.9 beats all 3, 0.4 beats 0.1 and 0.2 → 5 of 6.
        assert!((m.auc.expect("auc") - 5.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn ties_count_half_and_one_class_has_no_auc() {
        assert_eq!(auc(&[s(true, 0.5), s(false, 0.5)]), Some(0.5));
        assert_eq!(auc(&[s(true, 0.5), s(true, 0.7)]), None);
        let m = evaluate(&[s(false, 0.1)], 0.5);
        assert_eq!((m.sensitivity, m.macc), (None, None));
    }
}
