//! What a person looks at to see *why* the model decided: the conditioned waveform and the
//! log-mel spectrogram the model was given, reduced to screen resolution and quantised to bytes.
//!
//! The reduction exists for the browser's history: a result must be re-openable after a reload
//! without keeping the audio (which never leaves the recording's tab), and a clinic's history
//! holds thousands. At [`COLUMNS`] columns a 30 s recording costs about 22 KB of JSON, and the
//! picture is as sharp as the canvas it is drawn on.

use serde::{Deserialize, Serialize};

use crate::pipeline::Prepared;

/// Columns a visual keeps at most; longer recordings are averaged down to this many.
pub const COLUMNS: usize = 480;

/// Spectrogram values below and above these quantiles are clipped, so one loud click does not
/// wash out the whole picture.
const CLIP_QUANTILES: (f32, f32) = (0.005, 0.995);

/// The waveform and spectrogram of one analysed recording, ready to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visual {
    /// Seconds the columns span (the recording's duration).
    pub duration_s: f32,
    /// The conditioned signal's envelope.
    pub waveform: Envelope,
    /// The log-mel spectrogram the model saw (after the card's normalisation).
    pub spectrogram: Image,
}

impl Visual {
    /// Reduces a prepared recording to at most [`COLUMNS`] columns.
    pub fn new(prepared: &Prepared) -> Self {
        Self {
            duration_s: prepared.duration_s,
            waveform: Envelope::new(&prepared.signal, COLUMNS),
            spectrogram: Image::new(&prepared.features.data, prepared.features.n_mels, COLUMNS),
        }
    }
}

/// Per column, the lowest and highest sample, in units of `peak / 127`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The largest absolute sample (the scale of the quantised values).
    pub peak: f32,
    /// Lowest sample per column, `-127..=127`.
    #[serde(with = "base64_i8")]
    pub low: Vec<i8>,
    /// Highest sample per column, `-127..=127`.
    #[serde(with = "base64_i8")]
    pub high: Vec<i8>,
}

impl Envelope {
    /// The envelope of `signal` over at most `columns` columns.
    pub fn new(signal: &[f32], columns: usize) -> Self {
        let peak = signal
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f32, |m, v| m.max(v.abs()));
        let scale = if peak > 0.0 { 127.0 / peak } else { 0.0 };
        let q = |v: f32| (v * scale).round().clamp(-127.0, 127.0) as i8;
        let (low, high) = spans(signal.len(), columns)
            .map(|r| {
                let chunk = &signal[r];
                let lo = chunk.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = chunk.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                (q(lo), q(hi))
            })
            .unzip();
        Self { peak, low, high }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.low.len()
    }

    /// True when there are no columns.
    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    /// Column `i`'s lowest and highest sample in signal units.
    pub fn column(&self, i: usize) -> (f32, f32) {
        let unit = self.peak / 127.0;
        (
            f32::from(self.low[i]) * unit,
            f32::from(self.high[i]) * unit,
        )
    }
}

/// A time × band matrix quantised to `0..=255` between `low` and `high`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Rows (mel bands, lowest frequency first).
    pub rows: usize,
    /// Columns (time, earliest first).
    pub columns: usize,
    /// The value that 0 stands for.
    pub low: f32,
    /// The value that 255 stands for.
    pub high: f32,
    /// Column-major: column `c`, row `r` is `data[c * rows + r]`.
    #[serde(with = "base64_u8")]
    pub data: Vec<u8>,
}

impl Image {
    /// Averages time-major `values` (`frames × rows`) down to at most `columns` columns.
    pub fn new(values: &[f32], rows: usize, columns: usize) -> Self {
        let frames = values.len().checked_div(rows).unwrap_or(0);
        let mut pooled = Vec::with_capacity(columns.min(frames) * rows);
        for span in spans(frames, columns) {
            let n = span.len() as f32;
            for r in 0..rows {
                pooled.push(span.clone().map(|t| values[t * rows + r]).sum::<f32>() / n);
            }
        }
        let mut sorted: Vec<f32> = pooled.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f32::total_cmp);
        let at = |q: f32| {
            sorted
                .get(((sorted.len().saturating_sub(1)) as f32 * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        let (low, high) = (at(CLIP_QUANTILES.0), at(CLIP_QUANTILES.1));
        let scale = if high > low {
            255.0 / (high - low)
        } else {
            0.0
        };
        let data = pooled
            .iter()
            .map(|&v| ((v - low) * scale).round().clamp(0.0, 255.0) as u8)
            .collect();
        Self {
            rows,
            columns: frames.min(columns),
            low,
            high,
            data,
        }
    }

    /// The value at column `c`, row `r`, as a fraction of the way from `low` to `high`.
    pub fn level(&self, c: usize, r: usize) -> f32 {
        f32::from(self.data[c * self.rows + r]) / 255.0
    }
}

/// `n` items split into at most `columns` contiguous, non-empty, nearly equal spans.
fn spans(n: usize, columns: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let cols = n.min(columns);
    (0..cols).map(move |c| c * n / cols..(c + 1) * n / cols)
}

/// Byte vectors as base64 strings: a third of the size of a JSON array of numbers, which
/// matters for a history of thousands of results.
mod base64_u8 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// Signed bytes as base64 of their two's-complement bit patterns.
mod base64_i8 {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[i8], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
        super::base64_u8::serialize(&bytes, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i8>, D::Error> {
        Ok(super::base64_u8::deserialize(d)?
            .into_iter()
            .map(|b| b as i8)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_everything_once() {
        for (n, cols) in [(0, 4), (3, 10), (10, 3), (1000, 480), (481, 480)] {
            let spans: Vec<_> = spans(n, cols).collect();
            assert_eq!(spans.len(), n.min(cols));
            assert!(spans.iter().all(|s| !s.is_empty()));
            let covered: Vec<usize> = spans.into_iter().flatten().collect();
            assert_eq!(covered, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn the_envelope_keeps_extremes() {
        let mut signal = vec![0.0f32; 1000];
        signal[10] = 2.0;
        signal[990] = -1.0;
        let env = Envelope::new(&signal, 10);
        assert_eq!(env.len(), 10);
        assert_eq!(env.peak, 2.0);
        assert_eq!(env.column(0), (0.0, 2.0));
        let (lo, hi) = env.column(9);
        assert!((lo + 1.0).abs() < 0.01 && hi == 0.0, "{lo} {hi}");
    }

    #[test]
    fn silence_has_a_flat_envelope() {
        let env = Envelope::new(&[0.0; 100], 480);
        assert_eq!(env.len(), 100);
        assert!((0..100).all(|i| env.column(i) == (0.0, 0.0)));
    }

    #[test]
    fn the_image_averages_time_and_keeps_bands() {
        // 4 frames × 2 bands: band 0 rises, band 1 is constant.
        let values = [0.0, 5.0, 1.0, 5.0, 2.0, 5.0, 3.0, 5.0];
        let img = Image::new(&values, 2, 2);
        assert_eq!((img.rows, img.columns), (2, 2));
        assert_eq!((img.low, img.high), (0.5, 5.0));
        assert_eq!(img.level(0, 0), 0.0);
        assert_eq!(img.level(0, 1), 1.0);
        assert!(img.level(1, 0) > img.level(0, 0));
    }

    #[test]
    fn serde_round_trips_exactly() {
        let signal: Vec<f32> = (0..5000).map(|i| (i as f32 * 0.01).sin()).collect();
        let values: Vec<f32> = (0..3200).map(|i| (i % 97) as f32 - 40.0).collect();
        let visual = Visual {
            duration_s: 2.5,
            waveform: Envelope::new(&signal, COLUMNS),
            spectrogram: Image::new(&values, 32, COLUMNS),
        };
        let json = serde_json::to_string(&visual).expect("serialises");
        let back: Visual = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, visual);
        assert!(json.len() < 8000, "{} bytes", json.len());
    }
}
