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
use crate::segmentation::frames::Frames;
use crate::segmentation::{Segmentation, Segmenter, SegmenterParams};

/// A recording after conditioning and feature extraction: everything but the model.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Length of the original recording (s).
    pub duration_s: f32,
    /// Conditioned signal at the model rate.
    pub signal: Vec<f32>,
    /// The first view's frames: what the page draws, and the top rows of the model's input.
    pub features: LogMel,
    /// The extra views' frames ([`FeatureConfig::extra_views`]), in order: the model's input
    /// stacks them under `features`.
    pub extra_features: Vec<LogMel>,
    /// Heart rate and periodicity.
    pub rhythm: rhythm::Rhythm,
    /// Signal-quality verdict.
    pub quality: Quality,
    /// S1, systole, S2 and diastole over time, and the heart rate and rhythm they give.
    pub segmentation: Segmentation,
}

impl Prepared {
    /// Every view's frames, in the order the model's input stacks their bands.
    pub fn views(&self) -> Vec<&LogMel> {
        std::iter::once(&self.features)
            .chain(&self.extra_features)
            .collect()
    }
}

/// Decoding, checks, conditioning and features for one feature configuration.
#[derive(Debug)]
pub struct FrontEnd {
    cfg: FeatureConfig,
    limits: Limits,
    /// One planned spectrogram per view (each holds its view's configuration), the first first.
    views: Vec<Spectrogram>,
    segmenter: Segmenter,
}

impl FrontEnd {
    /// Plans the spectrogram for `cfg`, with the bundled segmenter.
    pub fn new(cfg: FeatureConfig, limits: Limits) -> Result<Self> {
        cfg.validate()?;
        let views = cfg.views().iter().map(Spectrogram::new).collect();
        let segmenter = Segmenter::bundled(cfg.sample_rate)?;
        Ok(Self {
            cfg,
            limits,
            views,
            segmenter,
        })
    }

    /// The same front end with another segmenter (one trained on a cross-validation fold, say).
    pub fn with_segmenter(self, params: SegmenterParams) -> Self {
        Self {
            segmenter: Segmenter::new(params, self.cfg.sample_rate),
            ..self
        }
    }

    /// The segmenter.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// Segments decoded audio on its own, without the model's checks: recordings of any
    /// length, for scoring the segmenter against annotations.
    pub fn segment(&self, audio: &Audio) -> Result<Segmentation> {
        Ok(self.segmenter.segment(&self.segmenter_signal(audio)?))
    }

    /// The segmenter's features, for training it: what [`FrontEnd::segment`] reads.
    pub fn segmenter_frames(&self, audio: &Audio) -> Result<Frames> {
        Ok(self.segmenter.frames(&self.segmenter_signal(audio)?))
    }

    /// The signal the segmenter reads: the recording at the model's rate, in its own band.
    fn segmenter_signal(&self, audio: &Audio) -> Result<Vec<f32>> {
        let at_rate = condition::at_rate(audio, self.cfg.sample_rate)?;
        Ok(condition::band_limit(at_rate, &self.segmenter_band()))
    }

    /// The conditioning the segmenter was trained on: its own band, whatever the model's.
    fn segmenter_band(&self) -> FeatureConfig {
        let (low, high) = self.segmenter.params().band_hz;
        FeatureConfig {
            band_low_hz: low,
            band_high_hz: high,
            ..self.cfg.clone()
        }
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
        // Resampling is the costly, band-independent part: once for all views.
        let at_rate = condition::at_rate(audio, self.cfg.sample_rate)?;
        let (first, extra) = self
            .views
            .split_first()
            .expect("a configuration's views start with its own");
        let extra_features = extra
            .iter()
            .map(|s| s.features(&condition::band_limit(at_rate.clone(), s.config())))
            .collect();
        // The segmenter reads its own band; a model whose first view has that band shares it.
        let band = self.segmenter_band();
        let own_band = (band.band_low_hz, band.band_high_hz)
            != (first.config().band_low_hz, first.config().band_high_hz);
        let segmenter_signal = own_band.then(|| condition::band_limit(at_rate.clone(), &band));
        let signal = condition::band_limit(at_rate, first.config());
        let features = first.features(&signal);
        let rhythm = rhythm::estimate(&signal, self.cfg.sample_rate);
        let quality = quality::assess(audio.samples(), &signal, &rhythm);
        let segmentation = self
            .segmenter
            .segment(segmenter_signal.as_deref().unwrap_or(&signal));
        Ok(Prepared {
            duration_s: audio.duration_s(),
            signal,
            features,
            extra_features,
            rhythm,
            quality,
            segmentation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::View;
    use crate::synth;

    #[test]
    fn each_extra_view_is_what_its_own_front_end_computes() {
        let cfg = FeatureConfig {
            extra_views: vec![View::wide_bins()],
            ..Default::default()
        };
        // 8 kHz, so the shared resampling is exercised.
        let audio = Audio::new(synth::heartbeat(72.0, 8.0, 8000), 8000).expect("audio");
        let both = FrontEnd::new(cfg.clone(), Limits::default())
            .expect("front end")
            .prepare(&audio)
            .expect("prepared");
        let [first, second] = &cfg.views()[..] else {
            panic!("two views")
        };
        let alone = |c: &FeatureConfig| {
            FrontEnd::new(c.clone(), Limits::default())
                .expect("front end")
                .prepare(&audio)
                .expect("prepared")
        };
        let (a, b) = (alone(first), alone(second));
        assert_eq!(both.features, a.features);
        assert_eq!(both.signal, a.signal);
        assert_eq!(both.extra_features, vec![b.features]);
        assert_eq!(both.features.n_frames(), both.extra_features[0].n_frames());
        assert_eq!(both.views().len(), 2);
    }
}
