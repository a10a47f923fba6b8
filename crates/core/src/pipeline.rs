//! The whole path from audio to report, split where callers need to stop: feature export
//! (training) needs the front end only; the app and CLI run the model too; benchmarks time each
//! stage. Every face of HeartBeat calls these, so none can compute a feature differently.

use crate::audio::{self, Audio};
use crate::config::{FeatureConfig, Limits};
use crate::dsp::condition;
use crate::dsp::spectrogram::{LogMel, Spectrogram};
use crate::error::Result;
use crate::quality::{self, Quality};
use crate::rhythm;

/// A recording after conditioning and feature extraction: everything but the model.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Length of the original recording (s).
    pub duration_s: f32,
    /// Conditioned signal at the model rate.
    pub signal: Vec<f32>,
    /// The frames the model sees.
    pub features: LogMel,
    /// Heart rate and periodicity.
    pub rhythm: rhythm::Rhythm,
    /// Signal-quality verdict.
    pub quality: Quality,
}

/// Decoding, checks, conditioning and features for one feature configuration.
#[derive(Debug)]
pub struct FrontEnd {
    cfg: FeatureConfig,
    limits: Limits,
    spectrogram: Spectrogram,
}

impl FrontEnd {
    /// Plans the spectrogram for `cfg`.
    pub fn new(cfg: FeatureConfig, limits: Limits) -> Result<Self> {
        cfg.validate()?;
        let spectrogram = Spectrogram::new(&cfg);
        Ok(Self {
            cfg,
            limits,
            spectrogram,
        })
    }

    /// The feature configuration.
    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// The input limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Decodes a file's bytes (format sniffed from content).
    pub fn decode(&self, bytes: &[u8]) -> Result<Audio> {
        audio::decode(bytes, &self.limits)
    }

    /// Checks, conditions and extracts features from decoded audio.
    pub fn prepare(&self, audio: &Audio) -> Result<Prepared> {
        condition::check(audio, &self.cfg, &self.limits)?;
        let signal = condition::condition(audio, &self.cfg)?;
        let features = self.spectrogram.features(&signal);
        let rhythm = rhythm::estimate(&signal, self.cfg.sample_rate);
        let quality = quality::assess(audio.samples(), &signal, &rhythm);
        Ok(Prepared {
            duration_s: audio.duration_s(),
            signal,
            features,
            rhythm,
            quality,
        })
    }
}
