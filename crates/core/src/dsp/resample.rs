//! Sample-rate conversion with `rubato`'s FFT resampler: band-limited, so content above the
//! new Nyquist frequency is removed rather than folded back onto the heart sounds.

use rubato::{FftFixedIn, Resampler};

use crate::error::{Error, Result};

/// Points of the smaller of the resampler's two FFTs. rubato's FFT resampler designs its
/// anti-aliasing filter at that length, so it sets how close to the lower Nyquist frequency the
/// passband stays flat. With a fixed 512-frame input chunk, 44.1 kHz → 2 kHz got 40-point output
/// FFTs and rolled off from ~500 Hz (−7 dB at 670 Hz): a model view reaching 950 Hz saw a
/// phone's recording darker than the 2 kHz training files. 1024 points keep it within 0.5 dB to
/// 900 Hz from every common rate, without the large FFTs a fixed long chunk would give
/// upsampling (2 kHz → 8 kHz for playback).
const MIN_FFT: usize = 1024;

/// The input chunk that gives the smaller FFT [`MIN_FFT`] points: rubato's FFT lengths are
/// whole multiples of the rates' ratio in lowest terms.
fn chunk_frames(from: u32, to: u32) -> usize {
    let (mut a, mut b) = (from, to);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let (num, den) = ((from / a) as usize, (to / a) as usize);
    MIN_FFT.div_ceil(num.min(den)) * num
}

/// Resamples mono `samples` from `from` Hz to `to` Hz. The output has `round(len · to / from)`
/// samples and is aligned in time with the input (the filter delay is removed).
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    if from == to {
        return Ok(samples.to_vec());
    }
    let model_err =
        |e: &dyn std::fmt::Display| Error::Config(format!("resampling {from} Hz → {to} Hz: {e}"));
    let chunk = chunk_frames(from, to);
    let mut rs = FftFixedIn::<f32>::new(from as usize, to as usize, chunk, 1, 1)
        .map_err(|e| model_err(&e))?;
    let expected = (samples.len() as f64 * f64::from(to) / f64::from(from)).round() as usize;
    let delay = rs.output_delay();
    let mut out = Vec::with_capacity(expected + delay + chunk);
    let mut pos = 0;
    while samples.len() - pos >= rs.input_frames_next() {
        let n = rs.input_frames_next();
        let chunk = rs
            .process(&[&samples[pos..pos + n]], None)
            .map_err(|e| model_err(&e))?;
        out.extend_from_slice(&chunk[0]);
        pos += n;
    }
    // The tail (rubato rejects an empty one: the input may fill its last chunk exactly), then
    // zeros until the delayed output has caught up with the input's end.
    if pos < samples.len() {
        let tail = rs
            .process_partial(Some(&[&samples[pos..]]), None)
            .map_err(|e| model_err(&e))?;
        out.extend_from_slice(&tail[0]);
    }
    while out.len() < expected + delay {
        let flushed = rs
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| model_err(&e))?;
        if flushed[0].is_empty() {
            break;
        }
        out.extend_from_slice(&flushed[0]);
    }
    out.drain(..delay.min(out.len()));
    out.resize(expected, 0.0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::PI;

    fn tone(freq: f32, rate: u32, seconds: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| (2.0 * PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn inputs_that_fill_their_last_chunk_exactly_are_resampled() {
        // An MP3 decoded to a whole number of the resampler's chunks failed once (rubato rejects
        // an empty tail).
        let chunk = chunk_frames(44_100, 2000);
        for len in [chunk, 4 * chunk] {
            let x = tone(100.0, 44_100, len as f32 / 44_100.0);
            assert_eq!(x.len(), len);
            let out = resample(&x, 44_100, 2000).expect("resample");
            assert_eq!(out.len(), (len as f64 * 2000.0 / 44_100.0).round() as usize);
        }
    }

    #[test]
    fn in_band_tone_keeps_its_phase_and_level() {
        let out = resample(&tone(100.0, 44_100, 2.0), 44_100, 2000).expect("resample");
        assert_eq!(out.len(), 4000);
        let want = tone(100.0, 2000, 2.0);
        // Ignore the edges, where the filter sees zeros.
        let err: f32 = out[200..3800]
            .iter()
            .zip(&want[200..3800])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.02, "max error {err}");
    }

    #[test]
    fn the_passband_reaches_900_hz_from_every_common_rate() {
        for rate in [8000, 11_025, 16_000, 22_050, 44_100, 48_000] {
            for freq in [100.0, 500.0, 800.0, 900.0] {
                let out = resample(&tone(freq, rate, 3.0), rate, 2000).expect("resample");
                let db = 20.0 * (rms(&out[500..5500]) / rms(&tone(freq, 2000, 3.0))).log10();
                assert!(db.abs() < 0.5, "{freq} Hz from {rate} Hz: {db:.2} dB");
            }
        }
    }

    #[test]
    fn content_above_new_nyquist_is_removed_not_aliased() {
        // 1.5 kHz would alias to 500 Hz at 2 kHz without an anti-aliasing filter.
        let out = resample(&tone(1500.0, 8000, 2.0), 8000, 2000).expect("resample");
        assert!(rms(&out[200..3800]) < 0.01, "rms {}", rms(&out[200..3800]));
    }

    #[test]
    fn same_rate_is_identity() {
        let x = tone(50.0, 2000, 0.5);
        assert_eq!(resample(&x, 2000, 2000).expect("identity"), x);
    }
}
