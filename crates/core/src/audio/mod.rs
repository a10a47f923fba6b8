//! Turning bytes into mono samples. WAV goes through `hound` on every target; with the `codecs`
//! feature (native builds) FLAC, MP3 and OGG/Vorbis go through `symphonia`. The browser decodes
//! those formats itself with the Web Audio API and hands us samples via [`Audio::new`].

#[cfg(feature = "flac")]
mod codecs;
mod wav;

pub use wav::{encode as encode_wav, looks_like_wav};

/// FLAC's magic at the start of the file: formats the core decodes in the browser as well.
pub fn looks_like_flac(bytes: &[u8]) -> bool {
    bytes.starts_with(b"fLaC")
}

use crate::config::Limits;
use crate::error::{Error, Result};

/// Mono audio at its original sample rate, full scale = ±1.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    samples: Vec<f32>,
    sample_rate: u32,
}

/// Sample rates outside this range come from damaged headers, not real recorders.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 100..=768_000;

impl Audio {
    /// Wraps already-decoded mono samples (what the browser's `decodeAudioData` gives us).
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Result<Self> {
        if !SAMPLE_RATES.contains(&sample_rate) {
            return Err(Error::InvalidSampleRate(sample_rate));
        }
        Ok(Self {
            samples,
            sample_rate,
        })
    }

    /// Mixes interleaved multi-channel samples down to mono by averaging the channels.
    pub fn from_interleaved(
        interleaved: &[f32],
        channels: usize,
        sample_rate: u32,
    ) -> Result<Self> {
        let channels = channels.max(1);
        let mono = interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect();
        Self::new(mono, sample_rate)
    }

    /// The samples, full scale = ±1.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Length in seconds.
    pub fn duration_s(&self) -> f32 {
        self.samples.len() as f32 / self.sample_rate as f32
    }
}

/// Decodes a whole file, recognising its format from the content (never the file name).
///
/// `limits.max_seconds` is enforced while decoding, so a hostile header cannot make us allocate
/// more than the file itself could hold, nor a huge file fill memory before we say no.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Audio> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    if wav::looks_like_wav(bytes) {
        match wav::decode(bytes, limits) {
            // hound reads PCM and float only; symphonia also knows μ-law and A-law, and reads
            // valid files hound calls truncated (an odd-sized chunk before the audio, whose pad
            // byte hound does not skip). When both fail, hound's error describes the file.
            #[cfg(feature = "codecs")]
            Err(e @ (Error::UnsupportedEncoding(_) | Error::Truncated { .. })) => {
                codecs::decode(bytes, limits).map_err(|_| e)
            }
            other => other,
        }
    } else {
        #[cfg(feature = "flac")]
        return codecs::decode(bytes, limits);
        #[cfg(not(feature = "flac"))]
        Err(Error::NotAudio)
    }
}

/// Fails with [`Error::TooLong`] once `frames` at `rate` exceed the limit.
fn check_length(frames: usize, rate: u32, limits: &Limits) -> Result<()> {
    let duration_s = frames as f32 / rate as f32;
    if duration_s > limits.max_seconds {
        return Err(Error::TooLong {
            duration_s,
            max_s: limits.max_seconds,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_says_empty() {
        assert_eq!(decode(&[], &Limits::default()), Err(Error::Empty));
    }

    #[test]
    fn random_bytes_are_not_audio() {
        let junk: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(decode(&junk, &Limits::default()), Err(Error::NotAudio));
    }

    #[test]
    fn text_is_not_audio() {
        let text = b"record,label\na0001,1\n".repeat(50);
        assert_eq!(decode(&text, &Limits::default()), Err(Error::NotAudio));
    }

    #[test]
    fn interleaved_stereo_is_averaged() {
        let a = Audio::from_interleaved(&[1.0, 0.0, 0.5, 0.5], 2, 8000).expect("valid");
        assert_eq!(a.samples(), &[0.5, 0.5]);
    }

    #[test]
    fn absurd_sample_rates_are_rejected() {
        assert_eq!(Audio::new(vec![0.0], 0), Err(Error::InvalidSampleRate(0)));
        assert_eq!(
            Audio::new(vec![0.0], 10_000_000),
            Err(Error::InvalidSampleRate(10_000_000))
        );
    }
}
