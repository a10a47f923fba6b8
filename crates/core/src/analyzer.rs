//! The front end plus the model: what the app's worker and the CLI run. Behind the `runtime`
//! feature because tract registers its kernels at start-up (`inventory`), which keeps all of
//! tract in any binary that links it: the page's UI uses the core's types without it.

use crate::audio::Audio;
use crate::card::ModelCard;
use crate::config::Limits;
use crate::error::Result;
use crate::model::Model;
use crate::pipeline::{FrontEnd, Prepared};
use crate::report::{Label, Report, WindowScore};
use crate::windows;

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
        let model = Model::from_onnx(
            onnx,
            card.features.input_bands(),
            card.features.window_frames,
        )?;
        Ok(Self { front, model, card })
    }

    /// The model that ships with HeartBeat (compiled into the binary).
    pub fn bundled() -> Result<Self> {
        Self::new(
            crate::bundled::ONNX,
            ModelCard::from_json(crate::bundled::RUNTIME_CARD)?,
            Limits::default(),
        )
    }

    /// The same analyzer with another heart-cycle segmenter.
    pub fn with_segmenter(self, params: crate::segmentation::SegmenterParams) -> Self {
        Self {
            front: self.front.with_segmenter(params),
            ..self
        }
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
        let batch = windows::batch(&prepared.views(), &starts, cfg.window_frames);
        let probabilities = self.model.predict(&batch)?;
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
            heart_rate_bpm: prepared.segmentation.heart_rate_bpm,
            rhythm: prepared.segmentation.rhythm,
            segments: prepared.segmentation.segments.clone(),
            quality: prepared.quality.clone(),
            model: self.card.info(),
        })
    }
}
