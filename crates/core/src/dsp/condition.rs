//! From raw decoded audio to the clean, model-rate signal the features are computed on, and the
//! checks that turn unusable recordings into clear errors instead of confident guesses.

use super::{filter, resample};
use crate::audio::Audio;
use crate::config::{FeatureConfig, Limits};
use crate::error::{Error, Result};

/// Level at or above which a sample counts as clipped (full scale = 1).
const CLIP_LEVEL: f32 = 0.999;
/// Percentile of |x| that becomes ±1 after normalisation: robust to a few loud knocks.
const NORM_PERCENTILE: f64 = 0.99;

/// Rejects recordings no model should judge: too short or long, silent, or badly clipped.
pub fn check(audio: &Audio, cfg: &FeatureConfig, limits: &Limits) -> Result<()> {
    let duration_s = audio.duration_s();
    let min_s = cfg.window_seconds();
    if duration_s < min_s {
        return Err(Error::TooShort { duration_s, min_s });
    }
    if duration_s > limits.max_seconds {
        return Err(Error::TooLong {
            duration_s,
            max_s: limits.max_seconds,
        });
    }
    let x = audio.samples();
    // Level of the usable samples only: `condition` zeroes the corrupt ones (see `usable`), so a
    // single NaN in a float WAV must not make the whole recording count as silent.
    let n = x.iter().filter(|v| usable(**v)).count().max(1) as f64;
    let mean = x
        .iter()
        .filter(|v| usable(**v))
        .map(|&v| f64::from(v))
        .sum::<f64>()
        / n;
    let rms = (x
        .iter()
        .filter(|v| usable(**v))
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    if !rms.is_finite() || rms < f64::from(limits.silence_rms) {
        return Err(Error::Silent);
    }
    let clipped = x.iter().filter(|v| v.abs() >= CLIP_LEVEL).count() as f32 / x.len() as f32;
    if clipped > limits.max_clipped_fraction {
        return Err(Error::Clipped {
            percent: clipped * 100.0,
        });
    }
    Ok(())
}

/// The recording at `rate` with corrupt samples zeroed and DC removed: the part of conditioning
/// that does not depend on the band, done once for all of a model's views ([`band_limit`] does
/// the rest, per view).
pub fn at_rate(audio: &Audio, rate: u32) -> Result<Vec<f32>> {
    // Corrupt samples (NaN, ±inf or absurdly large values, possible in float WAV) are zeroed
    // before anything else: the resampler's FFTs and the filter would spread them as inf/NaN over
    // the whole signal. Copy only when there are any.
    let raw = audio.samples();
    let cleaned: Vec<f32>;
    let samples = if raw.iter().all(|v| usable(*v)) {
        raw
    } else {
        cleaned = raw
            .iter()
            .map(|&v| if usable(v) { v } else { 0.0 })
            .collect();
        &cleaned
    };
    let mut x = resample::resample(samples, audio.sample_rate(), rate)?;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len().max(1) as f64;
    x.iter_mut().for_each(|v| *v -= mean as f32);
    Ok(x)
}

/// Band-passes a signal from [`at_rate`] to `cfg`'s band and scales it to a robust unit level.
pub fn band_limit(mut x: Vec<f32>, cfg: &FeatureConfig) -> Vec<f32> {
    filter::band_pass(
        &mut x,
        cfg.sample_rate as f32,
        cfg.band_low_hz,
        cfg.band_high_hz,
    );
    let scale = percentile_abs(&x, NORM_PERCENTILE);
    if scale > f32::EPSILON {
        x.iter_mut().for_each(|v| *v /= scale);
    }
    x
}

/// Largest |sample| taken as audio (full scale = 1). Float WAV may legitimately go a little
/// over full scale; a thousand times over is a damaged file, and values near `f32::MAX` would
/// overflow the filter and the FFT power to inf and then NaN.
const MAX_ABS_SAMPLE: f32 = 1e3;

/// Whether a decoded sample is audio rather than corruption.
fn usable(v: f32) -> bool {
    v.abs() <= MAX_ABS_SAMPLE
}

/// The `q`-quantile of |x| (0 for an empty slice), by selection rather than a full sort.
fn percentile_abs(x: &[f32], q: f64) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    let mut a: Vec<f32> = x.iter().map(|v| v.abs()).collect();
    let k = ((a.len() - 1) as f64 * q).round() as usize;
    let (_, v, _) = a.select_nth_unstable_by(k, f32::total_cmp);
    *v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(x: Vec<f32>) -> Audio {
        Audio::new(x, 2000).expect("valid rate")
    }

    fn noise(n: usize, amp: f32) -> Vec<f32> {
        let mut s = 12345u32;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                amp * ((s >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
            })
            .collect()
    }

    #[test]
    fn short_recording_states_the_minimum() {
        let err = check(
            &audio(noise(2000, 0.1)),
            &FeatureConfig::default(),
            &Limits::default(),
        );
        assert_eq!(
            err,
            Err(Error::TooShort {
                duration_s: 1.0,
                min_s: 4.0
            })
        );
        let msg = err.expect_err("short").to_string();
        assert!(msg.contains("1.0 s") && msg.contains("4.0 s"), "{msg}");
    }

    #[test]
    fn long_recording_states_the_maximum() {
        let limits = Limits {
            max_seconds: 10.0,
            ..Default::default()
        };
        let err = check(
            &audio(noise(40_000, 0.1)),
            &FeatureConfig::default(),
            &limits,
        )
        .expect_err("long");
        assert!(err.to_string().contains("maximum is 10 s"), "{err}");
    }

    #[test]
    fn silence_and_dc_are_silent() {
        for x in [vec![0.0; 20_000], vec![0.3; 20_000]] {
            assert_eq!(
                check(&audio(x), &FeatureConfig::default(), &Limits::default()),
                Err(Error::Silent)
            );
        }
    }

    #[test]
    fn square_wave_at_full_scale_is_clipped() {
        let x: Vec<f32> = (0..20_000)
            .map(|i| if (i / 10) % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let err =
            check(&audio(x), &FeatureConfig::default(), &Limits::default()).expect_err("clipped");
        assert!(matches!(err, Error::Clipped { percent } if percent > 99.0));
        assert!(err.to_string().contains("Lower the input gain"));
    }

    #[test]
    fn a_loud_spike_does_not_crush_the_signal() {
        let mut x = noise(20_000, 0.01);
        x[10_000] = 1.0;
        let cfg = FeatureConfig::default();
        let y = band_limit(at_rate(&audio(x), cfg.sample_rate).expect("resample"), &cfg);
        let typical = percentile_abs(&y[1000..9000], 0.5);
        assert!(typical > 0.2, "median level after normalisation {typical}");
    }
}
