//! The whole path from audio to report, split where callers need to stop: feature export
//! (training) needs the front end only; the app and CLI run the model too; benchmarks time each
//! stage. Every face of HeartBeat calls these, so none can compute a feature differently.

use crate::audio::{self, Audio};
use crate::card::ModelCard;
use crate::config::{FeatureConfig, Limits};
use crate::dsp::condition;
use crate::dsp::spectrogram::{LogMel, Spectrogram};
use crate::error::Result;
use crate::model::Model;
use crate::quality::{self, Quality};
use crate::report::{Label, Report, WindowScore};
use crate::rhythm;
use crate::windows;

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

/// The front end plus a model and its card: bytes or samples in, [`Report`] out.
#[derive(Debug)]
pub struct Analyzer {
    front: FrontEnd,
    model: Model,
    card: ModelCard,
}

impl Analyzer {
    /// Loads a model with the card that describes it.
    pub fn new(onnx: &[u8], card: ModelCard, limits: Limits) -> Result<Self> {
        let front = FrontEnd::new(card.features.clone(), limits)?;
        let model = Model::from_onnx(onnx, card.features.n_mels, card.features.window_frames)?;
        Ok(Self { front, model, card })
    }

    /// The model that ships with HeartBeat (compiled into the binary).
    pub fn bundled() -> Result<Self> {
        Self::new(
            crate::bundled::ONNX,
            ModelCard::from_json(crate::bundled::CARD)?,
            Limits::default(),
        )
    }

    /// The front end, for callers that need features only.
    pub fn front_end(&self) -> &FrontEnd {
        &self.front
    }

    /// The model card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// Decodes and analyses a file's bytes.
    pub fn analyze_bytes(&self, bytes: &[u8]) -> Result<Report> {
        self.analyze(&self.front.decode(bytes)?)
    }

    /// Analyses decoded audio.
    pub fn analyze(&self, audio: &Audio) -> Result<Report> {
        self.score(&self.front.prepare(audio)?)
    }

    /// Runs the model on prepared features and writes the report.
    pub fn score(&self, prepared: &Prepared) -> Result<Report> {
        let cfg = self.front.config();
        let starts = windows::starts(
            prepared.features.n_frames(),
            cfg.window_frames,
            cfg.window_hop_frames,
        );
        let batch = windows::batch(&prepared.features, &starts, cfg.window_frames);
        let probabilities = self.model.predict(batch)?;
        let probability_abnormal = self.card.aggregation.combine(&probabilities);
        let frame_s = 1.0 / cfg.frame_rate();
        let windows = starts
            .iter()
            .zip(&probabilities)
            .map(|(&s, &probability)| WindowScore {
                start_s: s as f32 * frame_s,
                end_s: ((s + cfg.window_frames) as f32 * frame_s).min(prepared.duration_s),
                probability,
            })
            .collect();
        let threshold = self.card.threshold;
        Ok(Report {
            label: if probability_abnormal >= threshold {
                Label::Abnormal
            } else {
                Label::Normal
            },
            probability_abnormal,
            threshold,
            windows,
            duration_s: prepared.duration_s,
            heart_rate_bpm: prepared.rhythm.bpm,
            quality: prepared.quality.clone(),
            model: self.card.info(),
        })
    }
}
