//! Heart rate from the autocorrelation of the signal's energy envelope, the approach of
//! Schmidt et al. (2010) and Springer et al. (2016): one cardiac cycle is the lag at which the
//! envelope best matches itself. The height of that peak doubles as a periodicity score.

use serde::{Deserialize, Serialize};

/// Envelope rate (Hz): fine enough for heart rate, cheap to autocorrelate.
const ENVELOPE_HZ: u32 = 50;
/// Shortest cycle considered (s): 171 bpm. Shorter lags catch the S1–S2 interval instead.
const MIN_CYCLE_S: f32 = 0.35;
/// Longest cycle considered (s): 30 bpm.
const MAX_CYCLE_S: f32 = 2.0;

/// What the envelope says about the heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rhythm {
    /// Beats per minute, when a cycle was found.
    pub bpm: Option<f32>,
    /// Normalised autocorrelation at the chosen cycle: near 1 for a steady heartbeat, near 0
    /// for noise.
    pub periodicity: f32,
}

/// Estimates the heart rate of a band-passed signal sampled at `fs`.
pub fn estimate(x: &[f32], fs: u32) -> Rhythm {
    let none = Rhythm {
        bpm: None,
        periodicity: 0.0,
    };
    let block = (fs / ENVELOPE_HZ).max(1) as usize;
    let env: Vec<f32> = x
        .chunks(block)
        .map(|c| c.iter().map(|v| v * v).sum::<f32>() / c.len() as f32)
        // Square root tames the loudest beats so every beat counts, not just the biggest.
        .map(f32::sqrt)
        .collect();
    let rate = fs as f32 / block as f32;
    let (lo, hi) = (
        (MIN_CYCLE_S * rate).round() as usize,
        (MAX_CYCLE_S * rate).round() as usize,
    );
    let acf = autocorrelation(&env, hi + 1);
    if acf.len() <= hi + 1 {
        return none;
    }
    let peak = (lo.max(1)..=hi)
        .filter(|&l| acf[l] >= acf[l - 1] && acf[l] >= acf[l + 1])
        .max_by(|&a, &b| acf[a].total_cmp(&acf[b]));
    match peak {
        Some(l) if acf[l] > 0.0 => {
            // Parabolic interpolation around the peak for sub-sample lag precision.
            let (y0, y1, y2) = (acf[l - 1], acf[l], acf[l + 1]);
            let denom = y0 - 2.0 * y1 + y2;
            let shift = if denom.abs() > f32::EPSILON {
                0.5 * (y0 - y2) / denom
            } else {
                0.0
            };
            let cycle_s = (l as f32 + shift.clamp(-0.5, 0.5)) / rate;
            Rhythm {
                bpm: Some(60.0 / cycle_s),
                periodicity: y1,
            }
        }
        _ => none,
    }
}

/// The normalised autocorrelation of an envelope (its mean removed) at lags `0..=max_lag`, or
/// fewer lags when the envelope is shorter; empty for a flat envelope.
pub fn autocorrelation(envelope: &[f32], max_lag: usize) -> Vec<f32> {
    let mean = envelope.iter().sum::<f32>() / envelope.len().max(1) as f32;
    let env: Vec<f32> = envelope.iter().map(|v| v - mean).collect();
    let energy: f32 = env.iter().map(|v| v * v).sum();
    if energy <= f32::EPSILON {
        return Vec::new();
    }
    (0..=max_lag.min(env.len().saturating_sub(1)))
        .map(|lag| env.iter().zip(&env[lag..]).map(|(a, b)| a * b).sum::<f32>() / energy)
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Synthetic phonocardiogram: S1 and S2 as short 60/40 Hz bursts, systole `0.3 s`.
    pub(crate) fn heartbeat(bpm: f32, seconds: f32, fs: u32) -> Vec<f32> {
        let cycle = 60.0 / bpm;
        (0..(seconds * fs as f32) as usize)
            .map(|i| {
                let t = i as f32 / fs as f32;
                let phase = t % cycle;
                let burst = |at: f32, f: f32, amp: f32| {
                    let d = phase - at;
                    if (0.0..0.08).contains(&d) {
                        amp * (2.0 * std::f32::consts::PI * f * d).sin()
                            * (std::f32::consts::PI * d / 0.08).sin()
                    } else {
                        0.0
                    }
                };
                burst(0.0, 60.0, 1.0) + burst(0.3 * cycle.min(1.0), 40.0, 0.6)
            })
            .collect()
    }

    #[test]
    fn finds_the_rate_of_a_synthetic_heartbeat() {
        for bpm in [48.0, 72.0, 110.0, 150.0] {
            let r = estimate(&heartbeat(bpm, 20.0, 2000), 2000);
            let got = r.bpm.expect("a rate");
            assert!((got - bpm).abs() < 3.0, "{bpm}: got {got}");
            assert!(r.periodicity > 0.5, "{bpm}: periodicity {}", r.periodicity);
        }
    }

    #[test]
    fn noise_has_low_periodicity() {
        let mut s = 7u32;
        let x: Vec<f32> = (0..40_000)
            .map(|_| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (s >> 16) as f32 / 65_536.0 - 0.5
            })
            .collect();
        assert!(estimate(&x, 2000).periodicity < 0.2);
    }
}
