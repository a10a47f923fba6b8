//! Log-mel spectrogram, computed exactly as librosa's
//! `power_to_db(melspectrogram(y, center=True, pad_mode="constant", window="hann"))`
//! so reference values can be checked, then normalised per recording for the model.

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use super::mel::{MelBank, MelBins};
use crate::config::{FeatureConfig, FilterBank, Normalization};

/// Floor for power before taking the log (librosa's `amin`), so silence is finite.
const AMIN: f32 = 1e-10;
/// Smallest standard deviation we divide by: a flat spectrogram stays flat, not amplified noise.
const MIN_STD: f32 = 1e-3;

/// Frames of mel band values, time-major: frame `t` is `data[t * n_mels..][..n_mels]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMel {
    /// Bands per frame.
    pub n_mels: usize,
    /// Values, `n_frames × n_mels`.
    pub data: Vec<f32>,
}

impl LogMel {
    /// Number of frames.
    pub fn n_frames(&self) -> usize {
        self.data.len().checked_div(self.n_mels).unwrap_or(0)
    }

    /// One frame's bands.
    pub fn frame(&self, t: usize) -> &[f32] {
        &self.data[t * self.n_mels..][..self.n_mels]
    }
}

/// The configured bank, with what it needs per frame.
enum Bank {
    /// FFT power spectrum, then the triangles.
    Mel(MelBank),
    /// Dot products of the raw frame with each band's windowed cosine and sine: no FFT.
    Bins(MelBins),
}

/// A planned STFT + mel bank: build once per configuration, run on many recordings.
pub struct Spectrogram {
    cfg: FeatureConfig,
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    bank: Bank,
}

impl std::fmt::Debug for Spectrogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spectrogram")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Spectrogram {
    /// Plans the FFT and builds the window and mel bank for `cfg` (assumed validated).
    pub fn new(cfg: &FeatureConfig) -> Self {
        let fft = FftPlanner::new().plan_fft_forward(cfg.n_fft);
        // Periodic Hann of win_length, centred in an n_fft frame (librosa's pad_center).
        let mut window = vec![0.0f32; cfg.n_fft];
        let offset = (cfg.n_fft - cfg.win_length) / 2;
        for (i, w) in window[offset..offset + cfg.win_length]
            .iter_mut()
            .enumerate()
        {
            *w = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / cfg.win_length as f32).cos();
        }
        let bank = match cfg.filter_bank {
            FilterBank::Mel => Bank::Mel(MelBank::new(
                cfg.sample_rate,
                cfg.n_fft,
                cfg.n_mels,
                cfg.fmin,
                cfg.fmax,
            )),
            FilterBank::MelBins => Bank::Bins(MelBins::new(
                cfg.sample_rate,
                &window[offset..offset + cfg.win_length],
                cfg.n_mels,
                cfg.fmin,
                cfg.fmax,
            )),
        };
        Self {
            cfg: cfg.clone(),
            fft,
            window,
            bank,
        }
    }

    /// The configuration it was planned for.
    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// Log-mel power in dB (10·log10, floor 1e-10), before any normalisation.
    pub fn log_mel(&self, x: &[f32]) -> LogMel {
        let (n_fft, hop, n_mels) = (self.cfg.n_fft, self.cfg.hop_length, self.cfg.n_mels);
        let n_frames = 1 + x.len() / hop;
        let half = n_fft / 2;
        let mut data = vec![0.0f32; n_frames * n_mels];
        let mut buf = vec![Complex32::default(); n_fft];
        let mut scratch = vec![Complex32::default(); self.fft.get_inplace_scratch_len()];
        let mut power = vec![0.0f32; half + 1];
        // The window sits centred in the n_fft frame: the bins read only its samples.
        let offset = (n_fft - self.cfg.win_length) / 2;
        let mut frame = vec![0.0f32; self.cfg.win_length];
        let mut im = vec![0.0f32; n_mels];
        for (t, out) in data.chunks_exact_mut(n_mels).enumerate() {
            // Frame t is centred on sample t·hop; outside the signal counts as zero.
            let start = (t * hop) as isize - half as isize;
            let sample = |i: usize| {
                let j = start + i as isize;
                if j >= 0 && (j as usize) < x.len() {
                    x[j as usize]
                } else {
                    0.0
                }
            };
            match &self.bank {
                Bank::Mel(bank) => {
                    for (i, c) in buf.iter_mut().enumerate() {
                        *c = Complex32::new(sample(i) * self.window[i], 0.0);
                    }
                    self.fft.process_with_scratch(&mut buf, &mut scratch);
                    for (p, c) in power.iter_mut().zip(&buf) {
                        *p = c.norm_sqr();
                    }
                    bank.apply(&power, out);
                }
                // The bins carry the window in their kernels.
                Bank::Bins(bins) => {
                    for (i, f) in frame.iter_mut().enumerate() {
                        *f = sample(offset + i);
                    }
                    bins.apply(&frame, out, &mut im);
                }
            }
            for v in out.iter_mut() {
                *v = 10.0 * v.max(AMIN).log10();
            }
        }
        LogMel { n_mels, data }
    }

    /// The frames the model sees: log-mel, then the configured per-recording normalisation.
    pub fn features(&self, x: &[f32]) -> LogMel {
        let mut m = self.log_mel(x);
        normalize(&mut m, self.cfg.normalization, self.cfg.frame_rate());
        m
    }
}

/// Applies a per-recording normalisation in place; `frame_rate` (frames per second) turns
/// time constants into frames.
pub fn normalize(m: &mut LogMel, how: Normalization, frame_rate: f32) {
    match how {
        Normalization::None => {}
        Normalization::Pcen { time_constant_s } => pcen(m, time_constant_s * frame_rate),
        Normalization::BandMean => {
            let n = m.n_frames().max(1) as f32;
            let mut means = vec![0.0f32; m.n_mels];
            for frame in m.data.chunks_exact(m.n_mels) {
                means.iter_mut().zip(frame).for_each(|(s, v)| *s += v);
            }
            means.iter_mut().for_each(|s| *s /= n);
            for frame in m.data.chunks_exact_mut(m.n_mels) {
                frame.iter_mut().zip(&means).for_each(|(v, mu)| *v -= mu);
            }
            let var = m.data.iter().map(|v| v * v).sum::<f32>() / m.data.len().max(1) as f32;
            let std = var.sqrt().max(MIN_STD);
            m.data.iter_mut().for_each(|v| *v /= std);
        }
    }
}

/// librosa's `pcen` defaults. Its gain, bias and power are tuned for powers in the range of
/// 16-bit integer audio, a scale the recording's own running mean divides away up to
/// `PCEN_GAIN`'s 2 % remainder.
const PCEN_GAIN: f32 = 0.98;
const PCEN_BIAS: f32 = 2.0;
const PCEN_POWER: f32 = 0.5;
const PCEN_EPS: f32 = 1e-6;
/// Full scale of 16-bit audio, squared: brings our [-1, 1] powers to the scale PCEN expects.
const PCEN_SCALE: f32 = 32768.0 * 32768.0;

/// Per-channel energy normalisation of dB frames in place, with librosa's one-pole smoother
/// over `t_frames` frames, started at the first frame's power (librosa's steady-state `zi`).
fn pcen(m: &mut LogMel, t_frames: f32) {
    let b = ((1.0 + 4.0 * t_frames * t_frames).sqrt() - 1.0) / (2.0 * t_frames * t_frames);
    let offset = PCEN_BIAS.powf(PCEN_POWER);
    let power = |db: f32| 10f32.powf(db / 10.0) * PCEN_SCALE;
    let mut smooth: Vec<f32> = match m.data.get(..m.n_mels) {
        Some(first) => first.iter().map(|&v| power(v)).collect(),
        None => return,
    };
    for frame in m.data.chunks_exact_mut(m.n_mels) {
        for (v, s) in frame.iter_mut().zip(smooth.iter_mut()) {
            let e = power(*v);
            *s = (1.0 - b) * *s + b * e;
            *v = (e / (PCEN_EPS + *s).powf(PCEN_GAIN) + PCEN_BIAS).powf(PCEN_POWER) - offset;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_on_fft_bin_frequencies_read_the_fft_power() {
        // Two bins, at fmin and fmax, placed on FFT bins 8 and 64 (7.8125 Hz apart): each band
        // must equal that bin's power in an independent FFT of the same windowed frame.
        let cfg = FeatureConfig {
            filter_bank: FilterBank::MelBins,
            n_mels: 2,
            fmin: 62.5,
            fmax: 500.0,
            ..Default::default()
        };
        let s = Spectrogram::new(&cfg);
        let x: Vec<f32> = (0..4000u32)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) + (i as f32 * 0.37).sin())
            .collect();
        let m = s.log_mel(&x);
        let fft = FftPlanner::new().plan_fft_forward(cfg.n_fft);
        for t in [0, 10, 50] {
            let start = (t * cfg.hop_length) as isize - (cfg.n_fft / 2) as isize;
            let mut buf: Vec<Complex32> = (0..cfg.n_fft)
                .map(|i| {
                    let j = start + i as isize;
                    let v = if j >= 0 { x[j as usize] } else { 0.0 };
                    Complex32::new(v * s.window[i], 0.0)
                })
                .collect();
            fft.process(&mut buf);
            for (band, bin) in [(0, 8), (1, 64)] {
                let want = 10.0 * buf[bin].norm_sqr().max(AMIN).log10();
                let got = m.frame(t)[band];
                assert!(
                    (got - want).abs() < 1e-3,
                    "frame {t} band {band}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn frame_count_matches_librosa_centering() {
        let cfg = FeatureConfig::default();
        let s = Spectrogram::new(&cfg);
        assert_eq!(
            s.log_mel(&vec![0.0; 8000]).n_frames(),
            1 + 8000 / cfg.hop_length
        );
    }

    #[test]
    fn tone_energy_lands_in_the_right_band() {
        let cfg = FeatureConfig::default();
        let s = Spectrogram::new(&cfg);
        let x: Vec<f32> = (0..8000)
            .map(|i| (2.0 * std::f32::consts::PI * 200.0 * i as f32 / 2000.0).sin())
            .collect();
        let m = s.log_mel(&x);
        let frame = m.frame(100);
        let loudest = frame
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0);
        let centre = |b: usize| {
            let bank = MelBank::new(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax);
            let f = &bank.filters()[b];
            let peak = f
                .weights
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .unwrap_or(0);
            (f.start + peak) as f32 * cfg.sample_rate as f32 / cfg.n_fft as f32
        };
        assert!(
            (centre(loudest) - 200.0).abs() < 20.0,
            "band {loudest} centred at {}",
            centre(loudest)
        );
    }

    #[test]
    fn pcen_forgets_a_gain_change_within_its_time_constant() {
        // Noise that steps up by 40 dB halfway: PCEN sees the step as an onset, then, a few
        // time constants later, reads the louder half as it read the quieter one.
        let cfg = FeatureConfig {
            normalization: Normalization::Pcen {
                time_constant_s: 0.2,
            },
            ..Default::default()
        };
        let s = Spectrogram::new(&cfg);
        let noise = |i: usize| ((i * 7919) % 113) as f32 / 113.0 - 0.5;
        let x: Vec<f32> = (0..20_000)
            .map(|i| noise(i) * if i < 10_000 { 0.01 } else { 1.0 })
            .collect();
        let m = s.features(&x);
        let mean =
            |t0: usize, n: usize| (t0..t0 + n).flat_map(|t| m.frame(t)).sum::<f32>() / n as f32;
        let step = 10_000 / cfg.hop_length;
        let (before, onset, after) = (mean(step - 40, 20), mean(step, 2), mean(step + 200, 20));
        assert!(onset > 3.0 * before, "onset {onset} vs before {before}");
        assert!(
            (after - before).abs() < 0.25 * before,
            "after {after} vs before {before}"
        );
    }

    #[test]
    fn band_mean_removes_a_fixed_colour_and_gain() {
        let cfg = FeatureConfig::default();
        let s = Spectrogram::new(&cfg);
        let x: Vec<f32> = (0..8000)
            .map(|i| ((i * 7919) % 113) as f32 / 113.0 - 0.5)
            .collect();
        let louder: Vec<f32> = x.iter().map(|v| v * 10.0).collect();
        let (a, b) = (s.features(&x), s.features(&louder));
        let diff = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f32::max);
        assert!(diff < 1e-3, "gain changed normalised features by {diff}");
    }
}
