//! Mel filterbank identical to librosa's default (Slaney mel scale, Slaney area normalisation),
//! so features match what the reference Python tools compute for the same signal.

/// Slaney's scale: linear below 1 kHz, logarithmic above.
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hertz to mels on the Slaney scale (librosa `hz_to_mel(htk=False)`).
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

/// Mels to hertz on the Slaney scale (librosa `mel_to_hz(htk=False)`).
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// One triangular filter, stored sparsely: weights for FFT bins `start..start + weights.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilter {
    /// First FFT bin with a non-zero weight.
    pub start: usize,
    /// Weights from `start` on.
    pub weights: Vec<f32>,
}

/// A bank of `n_mels` triangular filters over the `n_fft / 2 + 1` bins of a power spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct MelBank {
    filters: Vec<MelFilter>,
    n_bins: usize,
}

impl MelBank {
    /// Builds the bank as librosa's `filters.mel(sr, n_fft, n_mels, fmin, fmax)` does.
    pub fn new(sample_rate: u32, n_fft: usize, n_mels: usize, fmin: f32, fmax: f32) -> Self {
        let n_bins = n_fft / 2 + 1;
        let bin_hz = |k: usize| k as f64 * f64::from(sample_rate) / n_fft as f64;
        let (lo, hi) = (hz_to_mel(f64::from(fmin)), hz_to_mel(f64::from(fmax)));
        let edges: Vec<f64> = (0..n_mels + 2)
            .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
            .collect();
        let filters = (0..n_mels)
            .map(|m| {
                let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
                let norm = 2.0 / (right - left);
                let dense: Vec<f64> = (0..n_bins)
                    .map(|k| {
                        let f = bin_hz(k);
                        let rising = (f - left) / (centre - left);
                        let falling = (right - f) / (right - centre);
                        rising.min(falling).max(0.0) * norm
                    })
                    .collect();
                let start = dense.iter().position(|&w| w > 0.0).unwrap_or(0);
                let end = dense
                    .iter()
                    .rposition(|&w| w > 0.0)
                    .map_or(start, |e| e + 1);
                MelFilter {
                    start,
                    weights: dense[start..end].iter().map(|&w| w as f32).collect(),
                }
            })
            .collect();
        Self { filters, n_bins }
    }

    /// Number of mel bands.
    pub fn n_mels(&self) -> usize {
        self.filters.len()
    }

    /// The filters, lowest band first.
    pub fn filters(&self) -> &[MelFilter] {
        &self.filters
    }

    /// Dense `n_mels × n_bins` matrix, row-major: for comparison with reference implementations.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut m = vec![0.0; self.filters.len() * self.n_bins];
        for (row, f) in self.filters.iter().enumerate() {
            m[row * self.n_bins + f.start..][..f.weights.len()].copy_from_slice(&f.weights);
        }
        m
    }

    /// Applies the bank to one power spectrum, writing `n_mels` band energies.
    pub fn apply(&self, power: &[f32], out: &mut [f32]) {
        for (o, f) in out.iter_mut().zip(&self.filters) {
            *o = f
                .weights
                .iter()
                .zip(&power[f.start..])
                .map(|(w, p)| w * p)
                .sum();
        }
    }
}

/// Hertz to mels on the HTK scale, the spacing of `MelBins` (and of training's filter bank).
pub fn hz_to_mel_htk(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Mels to hertz on the HTK scale.
pub fn mel_to_hz_htk(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

/// The Hann-windowed spectrum at `n_mels` exact frequencies (`FilterBank::MelBins`): per band a
/// cosine and a sine weighted by the window, whose squared dot products with a frame sum to the
/// power |X(f)|², the same quantity (and dB scale) as an FFT bin of the log-mel's spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct MelBins {
    /// Centre frequencies (Hz), lowest first.
    centres: Vec<f64>,
    /// window · cos per sample of a frame, then per band: sample-major, so one sample's
    /// products with every band are contiguous.
    cos: Vec<f32>,
    /// window · sin, laid out as `cos`.
    sin: Vec<f32>,
}

impl MelBins {
    /// Centres spaced evenly on the HTK mel scale from `fmin` to `fmax`, both included, under
    /// `window` (the spectrogram's Hann window, one weight per sample of a frame).
    pub fn new(sample_rate: u32, window: &[f32], n_mels: usize, fmin: f32, fmax: f32) -> Self {
        let (lo, hi) = (
            hz_to_mel_htk(f64::from(fmin)),
            hz_to_mel_htk(f64::from(fmax)),
        );
        let step = if n_mels > 1 {
            (hi - lo) / (n_mels - 1) as f64
        } else {
            0.0
        };
        let centres: Vec<f64> = (0..n_mels)
            .map(|i| mel_to_hz_htk(lo + step * i as f64))
            .collect();
        let (mut cos, mut sin) = (Vec::new(), Vec::new());
        for (i, &w) in window.iter().enumerate() {
            for &f in &centres {
                let phase = 2.0 * std::f64::consts::PI * f / f64::from(sample_rate) * i as f64;
                cos.push((f64::from(w) * phase.cos()) as f32);
                sin.push((f64::from(w) * phase.sin()) as f32);
            }
        }
        Self { centres, cos, sin }
    }

    /// Centre frequencies (Hz), lowest first.
    pub fn centres(&self) -> &[f64] {
        &self.centres
    }

    /// Writes each band's power for one frame of unwindowed samples (the window's length);
    /// `im` is scratch, as long as `out`.
    pub fn apply(&self, frame: &[f32], out: &mut [f32], im: &mut [f32]) {
        let n = self.centres.len();
        out.fill(0.0);
        im.fill(0.0);
        // Sample by sample, every band at once: each band still sums its products in sample
        // order (the same floats as one dot product per band), and the loop over the bands
        // vectorises, which a dot product's ordered sum cannot.
        for ((x, cos), sin) in frame
            .iter()
            .zip(self.cos.chunks_exact(n))
            .zip(self.sin.chunks_exact(n))
        {
            for (((re, im), c), s) in out.iter_mut().zip(im.iter_mut()).zip(cos).zip(sin) {
                *re += c * x;
                *im += s * x;
            }
        }
        for (re, im) in out.iter_mut().zip(im.iter()) {
            *re = *re * *re + *im * *im;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_round_trips_on_both_sides_of_1khz() {
        for hz in [0.0, 25.0, 400.0, 999.0, 1000.0, 4000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6, "{hz}");
        }
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn bins_span_fmin_to_fmax_evenly_in_htk_mels() {
        let bins = MelBins::new(2000, &[1.0; 128], 32, 25.0, 950.0);
        let c = bins.centres();
        assert_eq!(c.len(), 32);
        assert!(
            (c[0] - 25.0).abs() < 1e-9 && (c[31] - 950.0).abs() < 1e-9,
            "{c:?}"
        );
        let steps: Vec<f64> = c
            .windows(2)
            .map(|w| hz_to_mel_htk(w[1]) - hz_to_mel_htk(w[0]))
            .collect();
        assert!(
            steps.iter().all(|s| (s - steps[0]).abs() < 1e-9),
            "{steps:?}"
        );
        // HTK mels widen in hertz as they climb: 950 Hz is not linear spacing.
        assert!(c[31] - c[30] > 1.5 * (c[1] - c[0]));
    }

    #[test]
    fn filters_have_unit_area_in_hz() {
        // Slaney normalisation: each triangle integrates to ~1 over frequency when it spans many bins.
        let bank = MelBank::new(16_000, 4096, 20, 0.0, 8000.0);
        let bin_hz = 16_000.0 / 4096.0;
        for f in bank.filters() {
            let area: f32 = f.weights.iter().sum::<f32>() * bin_hz;
            assert!((area - 1.0).abs() < 0.05, "area {area}");
        }
    }
}
