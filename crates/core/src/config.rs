//! Every number that shapes what the model sees, in one serialisable struct. The model card
//! carries a copy, and training reads features produced from it by this crate, so the browser,
//! the CLI and the training pipeline cannot drift apart.

use serde::{Deserialize, Serialize};

use crate::dsp::mel;
use crate::error::{Error, Result};

/// How a recording's log-mel frames are normalised before windowing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// Leave the log-mel values as they are (dB).
    None,
    /// Subtract each band's mean over the recording, then divide by the recording's overall
    /// standard deviation: removes a stethoscope's fixed spectral colour and the recording gain.
    #[default]
    BandMean,
    /// Per-channel energy normalisation (Wang et al. 2017, librosa's `pcen` defaults): each
    /// band's power divided by its own running mean over about `time_constant_s`, then a root.
    /// Unlike the band mean, it follows a colour that drifts within the recording (pressure on
    /// the chest piece, a hand moving). In cross-validation it lost to plain dB on every
    /// subset (the card's rows): the level of each band is evidence, not only device colour.
    Pcen {
        /// Time constant of the running mean (seconds).
        time_constant_s: f32,
    },
}

/// Which filter bank turns a frame of the conditioned signal into band powers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FilterBank {
    /// librosa's triangular mel filters (Slaney scale and area) over the FFT's power bins.
    #[default]
    Mel,
    /// The Hann-windowed spectrum evaluated exactly at `n_mels` frequencies spaced evenly on the
    /// HTK mel scale from `fmin` to `fmax`, both included: one narrow band (two FFT bins wide)
    /// per centre. Unlike the triangles, whose width grows with frequency, each band keeps the
    /// window's resolution, and the top of the band-pass costs no more bands than its bottom.
    MelBins,
}

impl FilterBank {
    fn is_mel(&self) -> bool {
        *self == Self::Mel
    }

    /// What the bank's bands are, in words for people ("32 log-mel bands").
    pub fn band_noun(self) -> &'static str {
        match self {
            Self::Mel => "log-mel bands",
            Self::MelBins => "log-power bins at mel-spaced frequencies",
        }
    }

    /// Hertz to the scale the bank's bands are evenly spaced on (Slaney or HTK mels), so a
    /// chart can place each band's row at its frequency.
    pub fn hz_to_scale(self, hz: f64) -> f64 {
        match self {
            Self::Mel => mel::hz_to_mel(hz),
            Self::MelBins => mel::hz_to_mel_htk(hz),
        }
    }

    /// The inverse of `hz_to_scale`.
    pub fn scale_to_hz(self, m: f64) -> f64 {
        match self {
            Self::Mel => mel::mel_to_hz(m),
            Self::MelBins => mel::mel_to_hz_htk(m),
        }
    }
}

/// Signal conditioning and log-mel spectrogram parameters, plus how frames become CNN windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// Rate everything is resampled to before analysis (Hz).
    pub sample_rate: u32,
    /// Lower edge of the band-pass filter (Hz).
    pub band_low_hz: f32,
    /// Upper edge of the band-pass filter (Hz).
    pub band_high_hz: f32,
    /// FFT length (samples).
    pub n_fft: usize,
    /// Analysis window length (samples, ≤ `n_fft`; the Hann window is centred in the FFT frame).
    pub win_length: usize,
    /// Hop between spectrogram frames (samples).
    pub hop_length: usize,
    /// Number of mel bands.
    pub n_mels: usize,
    /// Lowest mel filter edge (Hz).
    pub fmin: f32,
    /// Highest mel filter edge (Hz).
    pub fmax: f32,
    /// The bank over each frame; absent in cards from before it was a choice, which used `mel`.
    #[serde(default, skip_serializing_if = "FilterBank::is_mel")]
    pub filter_bank: FilterBank,
    /// Per-recording normalisation of the log-mel frames.
    pub normalization: Normalization,
    /// CNN window length (frames).
    pub window_frames: usize,
    /// Step between CNN windows (frames).
    pub window_hop_frames: usize,
    /// Further looks at the same recording (another band-pass, another bank) on the same frame
    /// grid, their bands stacked below this view's in the model's input: a model that averages
    /// CNNs trained on different bands gets each its own features. Absent in single-view cards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_views: Vec<View>,
}

/// What one extra view changes from the first: the band it hears and the bank over it. The
/// sample rate, STFT, normalisation and windowing are shared, so every view has the same frames
/// and one window covers the same seconds in all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    /// Lower edge of the band-pass filter (Hz).
    pub band_low_hz: f32,
    /// Upper edge of the band-pass filter (Hz).
    pub band_high_hz: f32,
    /// Number of bands.
    pub n_mels: usize,
    /// Lowest band edge (Hz).
    pub fmin: f32,
    /// Highest band edge (Hz).
    pub fmax: f32,
    /// The bank over each frame.
    #[serde(default, skip_serializing_if = "FilterBank::is_mel")]
    pub filter_bank: FilterBank,
}

impl Default for FeatureConfig {
    /// A fixed reference configuration for tests (model 2.0.0's features). The app, the CLI and
    /// training always take the model card's `features`, never this. Heart sounds sit at
    /// ~25–400 Hz, so a 2 kHz rate loses nothing and keeps the spectrogram small.
    fn default() -> Self {
        Self {
            sample_rate: 2000,
            band_low_hz: 25.0,
            band_high_hz: 400.0,
            n_fft: 256,
            win_length: 128,
            hop_length: 40,
            n_mels: 32,
            fmin: 25.0,
            fmax: 400.0,
            filter_bank: FilterBank::Mel,
            normalization: Normalization::BandMean,
            window_frames: 200,
            window_hop_frames: 100,
            extra_views: Vec::new(),
        }
    }
}

impl FeatureConfig {
    /// Spectrogram frames per second.
    pub fn frame_rate(&self) -> f32 {
        self.sample_rate as f32 / self.hop_length as f32
    }

    /// Length of one CNN window in seconds: also the shortest recording we accept.
    pub fn window_seconds(&self) -> f32 {
        self.window_frames as f32 / self.frame_rate()
    }

    /// Rows of one model input window: every view's bands, stacked.
    pub fn input_bands(&self) -> usize {
        self.n_mels + self.extra_views.iter().map(|v| v.n_mels).sum::<usize>()
    }

    /// Each view as a configuration of its own (without extra views), the first view first: what
    /// a spectrogram is planned from.
    pub fn views(&self) -> Vec<FeatureConfig> {
        let first = FeatureConfig {
            extra_views: Vec::new(),
            ..self.clone()
        };
        let mut views = vec![first.clone()];
        views.extend(self.extra_views.iter().map(|v| FeatureConfig {
            band_low_hz: v.band_low_hz,
            band_high_hz: v.band_high_hz,
            n_mels: v.n_mels,
            fmin: v.fmin,
            fmax: v.fmax,
            filter_bank: v.filter_bank,
            ..first.clone()
        }));
        views
    }

    /// What the model hears, in words for people: each view's band and bands.
    pub fn views_text(&self) -> String {
        let views: Vec<String> = self
            .views()
            .iter()
            .map(|v| {
                format!(
                    "band-pass {:.0}–{:.0} Hz, {} {}",
                    v.band_low_hz,
                    v.band_high_hz,
                    v.n_mels,
                    v.filter_bank.band_noun()
                )
            })
            .collect();
        match views.len() {
            1 => views.concat(),
            n => format!("{n} views: {}", views.join("; ")),
        }
    }

    /// Rejects configurations that would panic or silently produce nonsense downstream.
    pub fn validate(&self) -> Result<()> {
        for (i, view) in self.views().iter().enumerate().skip(1) {
            view.validate().map_err(|e| match e {
                Error::Config(m) => Error::Config(format!("extra view {i}: {m}")),
                other => other,
            })?;
        }
        let fail = |m: &str| Err(Error::Config(m.to_owned()));
        let nyquist = self.sample_rate as f32 / 2.0;
        if self.sample_rate < 500 {
            return fail("sample_rate must be at least 500 Hz");
        }
        if self.n_fft < 16 || !self.n_fft.is_power_of_two() {
            return fail("n_fft must be a power of two ≥ 16");
        }
        if self.win_length == 0 || self.win_length > self.n_fft {
            return fail("win_length must be in 1..=n_fft");
        }
        if self.hop_length == 0 {
            return fail("hop_length must be positive");
        }
        if self.n_mels == 0 || self.n_mels > self.n_fft / 2 + 1 {
            return fail("n_mels must be in 1..=n_fft/2+1");
        }
        if !(0.0 <= self.fmin && self.fmin < self.fmax && self.fmax <= nyquist) {
            return fail("need 0 ≤ fmin < fmax ≤ sample_rate/2");
        }
        if !(0.0 < self.band_low_hz
            && self.band_low_hz < self.band_high_hz
            && self.band_high_hz < nyquist)
        {
            return fail("need 0 < band_low_hz < band_high_hz < sample_rate/2");
        }
        if self.window_frames == 0 || self.window_hop_frames == 0 {
            return fail("window_frames and window_hop_frames must be positive");
        }
        if let Normalization::Pcen { time_constant_s } = self.normalization {
            if !(time_constant_s.is_finite() && time_constant_s > 0.0) {
                return fail("normalization pcen needs a positive, finite time_constant_s");
            }
        }
        Ok(())
    }
}

/// Bounds on what we accept, so hostile or mistaken input fails fast with a clear message.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Longest recording accepted (seconds). Ten minutes of 48 kHz stereo float is ~230 MB:
    /// about what a phone's browser tab can afford.
    pub max_seconds: f32,
    /// Share of full-scale samples above which a recording is rejected as clipped.
    pub max_clipped_fraction: f32,
    /// RMS (full scale = 1) below which a recording counts as silent.
    pub silence_rms: f32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_seconds: 600.0,
            max_clipped_fraction: 0.2,
            silence_rms: 1e-5,
        }
    }
}

#[cfg(test)]
impl View {
    /// A second view for tests: the spectrum at 24 mel-spaced frequencies up to 950 Hz.
    pub(crate) fn wide_bins() -> Self {
        Self {
            band_low_hz: 25.0,
            band_high_hz: 950.0,
            n_mels: 24,
            fmin: 25.0,
            fmax: 950.0,
            filter_bank: FilterBank::MelBins,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_round_trips() {
        let c = FeatureConfig::default();
        c.validate().expect("default config valid");
        let json = serde_json::to_string(&c).expect("serialise");
        let back: FeatureConfig = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, c);
        assert!((c.window_seconds() - 4.0).abs() < 1e-6);
    }

    #[test]
    fn the_filter_bank_is_written_only_when_it_is_not_the_mel_default() {
        let mel = serde_json::to_value(FeatureConfig::default()).expect("serialise");
        assert!(mel.get("filter_bank").is_none(), "{mel}");
        let bins = FeatureConfig {
            filter_bank: FilterBank::MelBins,
            ..Default::default()
        };
        let json = serde_json::to_value(&bins).expect("serialise");
        assert_eq!(json["filter_bank"], "mel_bins");
        assert_eq!(
            serde_json::from_value::<FeatureConfig>(json).expect("parse"),
            bins
        );
        // Cards from before the choice name no bank: they were computed with the triangles.
        let back: FeatureConfig = serde_json::from_value(mel).expect("parse");
        assert_eq!(back.filter_bank, FilterBank::Mel);
    }

    #[test]
    fn extra_views_share_the_frames_and_stack_their_bands() {
        let c = FeatureConfig {
            extra_views: vec![View::wide_bins()],
            ..Default::default()
        };
        c.validate().expect("valid");
        assert_eq!(c.input_bands(), 32 + 24);
        let views = c.views();
        assert_eq!(views.len(), 2);
        assert_eq!(views[0], FeatureConfig::default());
        let second = &views[1];
        assert_eq!(
            (second.band_high_hz, second.n_mels, second.filter_bank),
            (950.0, 24, FilterBank::MelBins)
        );
        assert!(second.extra_views.is_empty());
        assert_eq!(
            (second.hop_length, second.window_frames, second.n_fft),
            (c.hop_length, c.window_frames, c.n_fft)
        );
        let json = serde_json::to_value(&c).expect("serialise");
        assert_eq!(json["extra_views"][0]["filter_bank"], "mel_bins");
        assert_eq!(
            serde_json::from_value::<FeatureConfig>(json).expect("parse"),
            c
        );
        assert_eq!(
            c.views_text(),
            "2 views: band-pass 25–400 Hz, 32 log-mel bands; band-pass 25–950 Hz, 24 log-power \
             bins at mel-spaced frequencies"
        );
        assert_eq!(
            FeatureConfig::default().views_text(),
            "band-pass 25–400 Hz, 32 log-mel bands"
        );
        // Single-view cards do not mention extra views at all.
        let single = serde_json::to_value(FeatureConfig::default()).expect("serialise");
        assert!(single.get("extra_views").is_none(), "{single}");
    }

    #[test]
    fn a_broken_extra_view_is_named() {
        let c = FeatureConfig {
            extra_views: vec![View {
                fmax: 5000.0,
                ..View::wide_bins()
            }],
            ..Default::default()
        };
        let err = c.validate().expect_err("fmax above Nyquist");
        assert!(
            matches!(&err, Error::Config(m) if m.starts_with("extra view 1: need 0 ≤ fmin")),
            "{err}"
        );
    }

    #[test]
    fn pcen_is_written_with_its_time_constant() {
        let c = FeatureConfig {
            normalization: Normalization::Pcen {
                time_constant_s: 0.5,
            },
            ..Default::default()
        };
        let json = serde_json::to_value(&c).expect("serialise");
        assert_eq!(
            json["normalization"],
            serde_json::json!({"pcen": {"time_constant_s": 0.5}})
        );
        let back: FeatureConfig = serde_json::from_value(json).expect("parse");
        assert_eq!(back, c);
    }

    #[test]
    fn nonsense_configs_are_rejected() {
        let bad = [
            FeatureConfig {
                n_fft: 100,
                ..Default::default()
            },
            FeatureConfig {
                win_length: 512,
                ..Default::default()
            },
            FeatureConfig {
                fmax: 5000.0,
                ..Default::default()
            },
            FeatureConfig {
                hop_length: 0,
                ..Default::default()
            },
            FeatureConfig {
                band_high_hz: 1000.0,
                ..Default::default()
            },
            FeatureConfig {
                normalization: Normalization::Pcen {
                    time_constant_s: 0.0,
                },
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(matches!(c.validate(), Err(Error::Config(_))), "{c:?}");
        }
    }
}
