//! Cutting a recording's frames into the fixed-size windows the CNN takes, and combining the
//! windows' probabilities into one for the recording.

use serde::{Deserialize, Serialize};

use crate::dsp::spectrogram::LogMel;

/// Start frames of the windows covering `n_frames`: a regular stride, plus one window aligned
/// to the end so the last seconds are always heard. Empty when shorter than one window.
pub fn starts(n_frames: usize, window: usize, hop: usize) -> Vec<usize> {
    if n_frames < window || window == 0 || hop == 0 {
        return Vec::new();
    }
    let mut s: Vec<usize> = (0..=n_frames - window).step_by(hop).collect();
    if s.last().is_some_and(|&last| last + window < n_frames) {
        s.push(n_frames - window);
    }
    s
}

/// The model's input batch, `[N, 1, bands, window]` row-major: each window transposed so bands
/// run down axis 2 and time along axis 3, the views' bands stacked in order (all views have
/// the same frames).
pub fn batch(views: &[&LogMel], starts: &[usize], window: usize) -> Vec<f32> {
    let m: usize = views.iter().map(|v| v.n_mels).sum();
    let mut out = vec![0.0f32; starts.len() * m * window];
    for (w, &s) in starts.iter().enumerate() {
        let dst = &mut out[w * m * window..][..m * window];
        let mut first_band = 0;
        for view in views {
            for t in 0..window {
                for (band, v) in view.frame(s + t).iter().enumerate() {
                    dst[(first_band + band) * window + t] = *v;
                }
            }
            first_band += view.n_mels;
        }
    }
    out
}

/// How a recording's window probabilities become its probability of being abnormal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Aggregation {
    /// Mean of all windows.
    Mean,
    /// Mean of the `ceil(fraction · n)` most abnormal windows: a murmur heard in part of a
    /// recording is not averaged away by the quiet rest.
    TopKMean {
        /// Share of windows kept, in (0, 1].
        fraction: f32,
    },
}

impl Aggregation {
    /// Combines window probabilities (NaN-safe: NaN sorts as most abnormal, never panics).
    pub fn combine(&self, p: &[f32]) -> f32 {
        if p.is_empty() {
            return f32::NAN;
        }
        match *self {
            Self::Mean => p.iter().sum::<f32>() / p.len() as f32,
            Self::TopKMean { fraction } => {
                let k =
                    ((fraction.clamp(0.0, 1.0) * p.len() as f32).ceil() as usize).clamp(1, p.len());
                let mut sorted = p.to_vec();
                sorted.sort_unstable_by(|a, b| b.total_cmp(a));
                sorted[..k].iter().sum::<f32>() / k as f32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_end() {
        assert_eq!(starts(200, 200, 100), vec![0]);
        assert_eq!(starts(301, 200, 100), vec![0, 100, 101]);
        assert_eq!(starts(400, 200, 100), vec![0, 100, 200]);
        assert!(starts(199, 200, 100).is_empty());
    }

    #[test]
    fn batch_is_band_major_within_a_window() {
        // 3 frames × 2 bands; value = 10·t + band.
        let f = LogMel {
            n_mels: 2,
            data: vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0],
        };
        assert_eq!(
            batch(&[&f], &[0, 1], 2),
            vec![0.0, 10.0, 1.0, 11.0, 10.0, 20.0, 11.0, 21.0]
        );
    }

    #[test]
    fn batch_stacks_views_below_each_other() {
        // Two views of 3 frames, 2 and 1 bands: value = 10·t + band (+ 100 in the second view).
        let a = LogMel {
            n_mels: 2,
            data: vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0],
        };
        let b = LogMel {
            n_mels: 1,
            data: vec![100.0, 110.0, 120.0],
        };
        assert_eq!(
            batch(&[&a, &b], &[1], 2),
            vec![10.0, 20.0, 11.0, 21.0, 110.0, 120.0]
        );
    }

    #[test]
    fn aggregations() {
        let p = [0.1, 0.9, 0.2, 0.8];
        assert!((Aggregation::Mean.combine(&p) - 0.5).abs() < 1e-6);
        assert!((Aggregation::TopKMean { fraction: 0.5 }.combine(&p) - 0.85).abs() < 1e-6);
        assert!((Aggregation::TopKMean { fraction: 0.01 }.combine(&p) - 0.9).abs() < 1e-6);
        let json = serde_json::to_string(&Aggregation::TopKMean { fraction: 0.5 }).expect("json");
        assert_eq!(json, r#"{"kind":"top_k_mean","fraction":0.5}"#);
    }
}
