//! Sample-rate conversion with `rubato`'s FFT resampler: band-limited, so content above the
//! new Nyquist frequency is removed rather than folded back onto the heart sounds.

use rubato::{FftFixedIn, Resampler};

use crate::error::{Error, Result};

/// Frames per call to the resampler; the value only trades memory for call overhead.
const CHUNK: usize = 1024;

/// Resamples mono `samples` from `from` Hz to `to` Hz. The output has `round(len · to / from)`
/// samples and is aligned in time with the input (the filter delay is removed).
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    if from == to {
        return Ok(samples.to_vec());
    }
    let model_err =
        |e: &dyn std::fmt::Display| Error::Config(format!("resampling {from} Hz → {to} Hz: {e}"));
    let mut rs = FftFixedIn::<f32>::new(from as usize, to as usize, CHUNK, 2, 1)
        .map_err(|e| model_err(&e))?;
    let expected = (samples.len() as f64 * f64::from(to) / f64::from(from)).round() as usize;
    let delay = rs.output_delay();
    let mut out = Vec::with_capacity(expected + delay + CHUNK);
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
        // 44.1 kHz → 2 kHz takes 1024-frame chunks; an MP3 decoded to a multiple of that failed.
        for len in [CHUNK, 4 * CHUNK] {
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
