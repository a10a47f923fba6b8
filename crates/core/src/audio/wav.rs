//! WAV through `hound`: 8/16/24/32-bit PCM and 32-bit float, any rate, any channel count.

use std::io::Cursor;

use super::{check_length, Audio};
use crate::config::Limits;
use crate::error::{Error, Result};

/// RIFF/WAVE magic at the start of the file.
pub fn looks_like_wav(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}

/// A mono 16-bit PCM WAV file holding `samples` (full scale = ±1): what tests feed the decoder,
/// and what the browser plays when it cannot play the original (its rate is too low).
pub fn encode(samples: &[f32], sample_rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for &s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    out
}

pub(super) fn decode(bytes: &[u8], limits: &Limits) -> Result<Audio> {
    let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(map_err)?;
    let spec = reader.spec();
    if !super::SAMPLE_RATES.contains(&spec.sample_rate) {
        return Err(Error::InvalidSampleRate(spec.sample_rate));
    }
    let channels = usize::from(spec.channels.max(1));
    // The header's claimed length is checked before reading, but never trusted for allocation:
    // the Vec grows with what the file really contains.
    check_length(reader.duration() as usize, spec.sample_rate, limits)?;
    let claimed = reader.len() as usize;
    let mut interleaved = Vec::with_capacity(claimed.min(bytes.len()));
    match spec.sample_format {
        hound::SampleFormat::Float => {
            if spec.bits_per_sample != 32 {
                return Err(Error::UnsupportedEncoding(format!(
                    "{}-bit float WAV",
                    spec.bits_per_sample
                )));
            }
            for s in reader.into_samples::<f32>() {
                interleaved.push(s.map_err(map_err)?);
            }
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            for s in reader.into_samples::<i32>() {
                interleaved.push(s.map_err(map_err)? as f32 * scale);
            }
        }
    }
    if interleaved.len() < claimed {
        return Err(Error::Truncated {
            detail: format!(
                "the header promises {claimed} samples but only {} are present",
                interleaved.len()
            ),
        });
    }
    Audio::from_interleaved(&interleaved, channels, spec.sample_rate)
}

fn map_err(e: hound::Error) -> Error {
    match e {
        // The input is an in-memory buffer, so the only read failure is running out of bytes
        // (hound reports it as `Other`, "Failed to read enough bytes.", not `UnexpectedEof`).
        hound::Error::IoError(_) => Error::Truncated {
            detail: "the file ends in the middle of the audio data".into(),
        },
        hound::Error::Unsupported => {
            Error::UnsupportedEncoding("compressed or unusual WAV encoding".into())
        }
        hound::Error::TooWide | hound::Error::InvalidSampleFormat => {
            Error::UnsupportedEncoding("WAV sample width over 32 bits".into())
        }
        hound::Error::UnfinishedSample => Error::Truncated {
            detail: "the last sample is cut off".into(),
        },
        hound::Error::FormatError(what) => {
            Error::UnsupportedEncoding(format!("malformed WAV ({what})"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(
        spec: hound::WavSpec,
        write: impl FnOnce(&mut hound::WavWriter<&mut Cursor<Vec<u8>>>),
    ) -> Vec<u8> {
        let mut cur = Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut cur, spec).expect("writer");
            write(&mut w);
            w.finalize().expect("finalize");
        }
        cur.into_inner()
    }

    fn spec(bits: u16, format: hound::SampleFormat, channels: u16) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: 4000,
            bits_per_sample: bits,
            sample_format: format,
        }
    }

    #[test]
    fn every_pcm_width_decodes_to_the_same_scale() {
        for bits in [8u16, 16, 24, 32] {
            let full = (1i64 << (bits - 1)) - 1;
            let bytes = wav_bytes(spec(bits, hound::SampleFormat::Int, 1), |w| {
                for v in [full / 2, -(full / 2), 0] {
                    if bits == 8 {
                        w.write_sample(v as i8).expect("write");
                    } else {
                        w.write_sample(v as i32).expect("write");
                    }
                }
            });
            let a = decode(&bytes, &Limits::default()).expect("decodes");
            assert_eq!(a.sample_rate(), 4000);
            let s = a.samples();
            assert!(
                (s[0] - 0.5).abs() < 0.01 && (s[1] + 0.5).abs() < 0.01 && s[2].abs() < 0.01,
                "{bits}: {s:?}"
            );
        }
    }

    #[test]
    fn float_stereo_is_mixed_down() {
        let bytes = wav_bytes(spec(32, hound::SampleFormat::Float, 2), |w| {
            for v in [0.25f32, 0.75, -1.0, 0.0] {
                w.write_sample(v).expect("write");
            }
        });
        let a = decode(&bytes, &Limits::default()).expect("decodes");
        assert_eq!(a.samples(), &[0.5, -0.5]);
    }

    #[test]
    fn cut_file_is_truncated() {
        let bytes = wav_bytes(spec(16, hound::SampleFormat::Int, 1), |w| {
            for i in 0..4000 {
                w.write_sample((i % 100) as i16).expect("write");
            }
        });
        let cut = &bytes[..bytes.len() / 2];
        assert!(matches!(
            decode(cut, &Limits::default()),
            Err(Error::Truncated { .. })
        ));
    }

    #[test]
    fn hostile_length_in_header_fails_without_allocating_it() {
        let mut bytes = wav_bytes(spec(16, hound::SampleFormat::Int, 1), |w| {
            w.write_sample(1i16).expect("write");
        });
        // Claim a 4 GB data chunk: ~150 hours at 4 kHz, far over the limit.
        let n = bytes.len();
        bytes[n - 6..n - 2].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
        let got = decode(&bytes, &Limits::default());
        assert!(matches!(got, Err(Error::TooLong { .. })), "{got:?}");
    }
}
