//! Is the recording good enough to judge? A poor recording should say "re-record", not be
//! silently classified. Each check states a reason a nurse can act on.

use serde::{Deserialize, Serialize};

use crate::rhythm::Rhythm;

/// Periodicity below which no steady heartbeat is audible through the noise.
const MIN_PERIODICITY: f32 = 0.25;
/// Share of samples at full scale above which clipping distorts the heart sounds.
const MAX_CLIPPED: f32 = 0.01;
/// Level (in units of the normalised signal's 99th percentile) that heart sounds rarely reach
/// but knocks, rubbing and speech do.
const IMPULSE_LEVEL: f32 = 4.0;
/// Share of samples above `IMPULSE_LEVEL` tolerated.
const MAX_IMPULSIVE: f32 = 0.002;

/// Good enough to judge, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The result can be trusted as far as the model can be.
    Good,
    /// Re-record before relying on the result.
    Poor,
}

impl Verdict {
    /// The verdict as JSON spells it (`"good"`, `"poor"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Good => "good",
            Verdict::Poor => "poor",
        }
    }
}

/// The quality verdict with its reasons and the measurements behind them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Good or poor.
    pub verdict: Verdict,
    /// Why it is poor, in words a user can act on (empty when good).
    pub reasons: Vec<String>,
    /// Periodicity of the heartbeat envelope (0–1).
    pub periodicity: f32,
    /// Share of raw samples at full scale, in percent.
    pub clipped_percent: f32,
    /// Share of conditioned samples that are loud impulses, in percent.
    pub impulsive_percent: f32,
}

/// Judges a recording from its raw samples, its conditioned signal and its rhythm.
pub fn assess(raw: &[f32], conditioned: &[f32], rhythm: &Rhythm) -> Quality {
    let share = |n: usize, of: usize| n as f32 / of.max(1) as f32;
    let clipped = share(raw.iter().filter(|v| v.abs() >= 0.999).count(), raw.len());
    let impulsive = share(
        conditioned
            .iter()
            .filter(|v| v.abs() > IMPULSE_LEVEL)
            .count(),
        conditioned.len(),
    );
    let mut reasons = Vec::new();
    if rhythm.bpm.is_none() || rhythm.periodicity < MIN_PERIODICITY {
        reasons.push(
            "no steady heartbeat could be heard: place the stethoscope firmly on the chest and keep still".to_owned(),
        );
    }
    if clipped > MAX_CLIPPED {
        reasons.push(format!(
            "{:.1}% of the recording is clipped: lower the input gain",
            clipped * 100.0
        ));
    }
    if impulsive > MAX_IMPULSIVE {
        reasons.push("loud knocks or rubbing cover the heart sounds: keep the stethoscope still and the room quiet".to_owned());
    }
    Quality {
        verdict: if reasons.is_empty() {
            Verdict::Good
        } else {
            Verdict::Poor
        },
        reasons,
        periodicity: rhythm.periodicity,
        clipped_percent: clipped * 100.0,
        impulsive_percent: impulsive * 100.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rhythm::{estimate, tests::heartbeat};

    #[test]
    fn steady_heartbeat_is_good() {
        let x = heartbeat(70.0, 20.0, 2000);
        let q = assess(&x, &x, &estimate(&x, 2000));
        assert_eq!(q.verdict, Verdict::Good, "{q:?}");
    }

    #[test]
    fn knocks_make_it_poor_with_a_reason() {
        let mut x = heartbeat(70.0, 20.0, 2000);
        for i in (0..x.len()).step_by(50) {
            x[i] = 8.0;
        }
        let q = assess(&x, &x, &estimate(&x, 2000));
        assert_eq!(q.verdict, Verdict::Poor);
        assert!(q.reasons.iter().any(|r| r.contains("knocks")), "{q:?}");
    }

    #[test]
    fn clipping_is_reported_in_percent() {
        let x = heartbeat(70.0, 20.0, 2000);
        let raw: Vec<f32> = x.iter().map(|v| (v * 3.0).clamp(-1.0, 1.0)).collect();
        let q = assess(&raw, &x, &estimate(&x, 2000));
        assert!(q.reasons.iter().any(|r| r.contains("clipped")), "{q:?}");
    }
}
