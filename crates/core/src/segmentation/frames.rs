//! What the segmenter listens to: per 20 ms frame, the loudness of the conditioned signal and
//! its power in four bands, standardised per recording and stacked with neighbouring frames.
//!
//! Springer et al. (2016) fed their HSMM four envelopes at 50 Hz (homomorphic, Hilbert, wavelet,
//! power spectral density). Frame loudness plays the envelopes' part, and the bands separate S1
//! (lower, longer) from S2 (higher, shorter) and murmurs from both. Standardising each feature
//! over the recording removes the stethoscope's gain and colour; the emission model sees a sound
//! in its context (its neighbours), as a listener does.

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};

/// Frames per second: fine enough for a ±60 ms onset tolerance, coarse enough for a cheap HSMM.
pub const FRAME_RATE: f32 = 50.0;
/// Band edges (Hz) of the band-power features.
const BANDS: [(f32, f32); 4] = [(25.0, 50.0), (50.0, 100.0), (100.0, 200.0), (200.0, 400.0)];
/// Features per frame before stacking: loudness, then one per band.
pub const PER_FRAME: usize = 1 + BANDS.len();
/// Length of each band-power analysis window: two frames, Hann-weighted around the frame.
const WINDOW_FRAMES: usize = 2;
/// Floor under powers before the log, relative to the recording's scale (the signal's 99th
/// percentile is 1 after conditioning), so digital silence stays finite.
const FLOOR: f32 = 1e-8;

/// Which neighbouring frames each frame's emission input stacks, as offsets in frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameConfig {
    /// Offsets of the stacked frames (0 is the frame itself); frames beyond the recording's
    /// edges repeat the edge frame.
    pub context: Vec<i32>,
}

impl FrameConfig {
    /// Length of one frame's stacked input.
    pub fn input_len(&self) -> usize {
        self.context.len() * PER_FRAME
    }
}

/// Per-frame features of one recording, before stacking.
#[derive(Debug, Clone, PartialEq)]
pub struct Frames {
    /// Standardised features, frame-major: frame `t` is `data[t * PER_FRAME..][..PER_FRAME]`.
    pub data: Vec<f32>,
    /// Each frame's RMS in the conditioned signal's units: the envelope whose autocorrelation
    /// gives the heart cycle.
    pub envelope: Vec<f32>,
}

impl Frames {
    /// Number of frames.
    pub fn len(&self) -> usize {
        self.envelope.len()
    }

    /// True for a recording shorter than one frame.
    pub fn is_empty(&self) -> bool {
        self.envelope.is_empty()
    }

    /// Every frame's stacked emission input, frame-major (`len() × cfg.input_len()`).
    pub fn stacked(&self, cfg: &FrameConfig) -> Vec<f32> {
        let n = self.len() as i64;
        let mut out = Vec::with_capacity(self.len() * cfg.input_len());
        for t in 0..n {
            for &o in &cfg.context {
                let u = (t + i64::from(o)).clamp(0, n - 1) as usize;
                out.extend_from_slice(&self.data[u * PER_FRAME..][..PER_FRAME]);
            }
        }
        out
    }
}

/// The planned band-power transform for one sample rate.
pub struct FrameAnalyzer {
    hop: usize,
    window: Vec<f32>,
    fft: Arc<dyn Fft<f32>>,
    /// FFT bin ranges of [`BANDS`].
    bins: Vec<std::ops::Range<usize>>,
}

impl std::fmt::Debug for FrameAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameAnalyzer")
            .field("hop", &self.hop)
            .finish_non_exhaustive()
    }
}

impl FrameAnalyzer {
    /// Plans the transform for signals at `sample_rate`.
    pub fn new(sample_rate: u32) -> Self {
        let hop = ((sample_rate as f32 / FRAME_RATE).round() as usize).max(1);
        let len = hop * WINDOW_FRAMES;
        let n_fft = len.next_power_of_two();
        let window = (0..len)
            .map(|i| {
                let x = std::f32::consts::PI * (i as f32 + 0.5) / len as f32;
                x.sin().powi(2)
            })
            .collect();
        let bin_hz = sample_rate as f32 / n_fft as f32;
        let bins = BANDS
            .iter()
            .map(|&(lo, hi)| {
                let a = (lo / bin_hz).ceil() as usize;
                let b = ((hi / bin_hz).ceil() as usize).max(a + 1);
                a..b.min(n_fft / 2)
            })
            .collect();
        let fft = FftPlanner::new().plan_fft_forward(n_fft);
        Self {
            hop,
            window,
            fft,
            bins,
        }
    }

    /// The features of a conditioned signal.
    pub fn frames(&self, x: &[f32]) -> Frames {
        let n = x.len() / self.hop;
        let mut raw = Vec::with_capacity(n * PER_FRAME);
        let mut envelope = Vec::with_capacity(n);
        let mut buf = vec![Complex32::default(); self.fft.len()];
        let mut scratch = vec![Complex32::default(); self.fft.get_inplace_scratch_len()];
        let half = self.window.len() / 2;
        for t in 0..n {
            let frame = &x[t * self.hop..][..self.hop];
            let power = frame.iter().map(|v| v * v).sum::<f32>() / self.hop as f32;
            envelope.push(power.sqrt());
            raw.push((power + FLOOR).ln());
            // The window is centred on the frame's centre; outside the signal counts as silence.
            let centre = t * self.hop + self.hop / 2;
            buf.fill(Complex32::default());
            for (i, (b, w)) in buf.iter_mut().zip(&self.window).enumerate() {
                if let Some(&v) = (centre + i).checked_sub(half).and_then(|j| x.get(j)) {
                    b.re = v * w;
                }
            }
            self.fft.process_with_scratch(&mut buf, &mut scratch);
            for r in &self.bins {
                let p = buf[r.clone()].iter().map(|c| c.norm_sqr()).sum::<f32>();
                raw.push((p / self.window.len() as f32 + FLOOR).ln());
            }
        }
        standardize(&mut raw, n);
        Frames {
            data: raw,
            envelope,
        }
    }
}

/// Zero mean and unit variance per feature over the recording.
fn standardize(data: &mut [f32], n: usize) {
    if n == 0 {
        return;
    }
    for k in 0..PER_FRAME {
        let col = || data.iter().skip(k).step_by(PER_FRAME);
        let mean = col().sum::<f32>() / n as f32;
        let var = col().map(|v| (v - mean).powi(2)).sum::<f32>() / n as f32;
        let scale = 1.0 / var.sqrt().max(1e-3);
        data.iter_mut()
            .skip(k)
            .step_by(PER_FRAME)
            .for_each(|v| *v = (*v - mean) * scale);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    #[test]
    fn a_heartbeat_is_loud_in_its_sounds_and_quiet_between() {
        let x = synth::heartbeat(60.0, 10.0, 2000);
        let f = FrameAnalyzer::new(2000).frames(&x);
        assert_eq!(f.len(), 500);
        // S1 starts each second: its frame is louder than mid-diastole's (0.7 s later).
        for beat in 1..9 {
            let s1 = f.data[(beat * 50) * PER_FRAME];
            let quiet = f.data[(beat * 50 + 35) * PER_FRAME];
            assert!(s1 > quiet + 1.0, "beat {beat}: {s1} vs {quiet}");
        }
        for k in 0..PER_FRAME {
            let mean: f32 = f.data.iter().skip(k).step_by(PER_FRAME).sum::<f32>() / 500.0;
            assert!(mean.abs() < 1e-4, "feature {k} mean {mean}");
        }
    }

    #[test]
    fn stacking_repeats_edge_frames() {
        let f = Frames {
            data: (0..3 * PER_FRAME).map(|v| v as f32).collect(),
            envelope: vec![0.0; 3],
        };
        let cfg = FrameConfig {
            context: vec![-1, 0, 1],
        };
        let s = f.stacked(&cfg);
        assert_eq!(s.len(), 3 * cfg.input_len());
        // Frame 0's left neighbour is frame 0 itself; frame 2's right neighbour is frame 2.
        assert_eq!(&s[..PER_FRAME], &f.data[..PER_FRAME]);
        assert_eq!(&s[s.len() - PER_FRAME..], &f.data[2 * PER_FRAME..]);
    }
}
