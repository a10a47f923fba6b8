//! FLAC, MP3, OGG/Vorbis (and WAV encodings hound lacks) through `symphonia`, format sniffed
//! from the content. The browser build has FLAC only (feature `flac`); Web Audio decodes the
//! rest there.

use std::io::Cursor;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymErr;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{check_length, Audio};
use crate::config::Limits;
use crate::error::{Error, Result};

/// Share of the declared length that must decode before we call a file whole; encoders'
/// declared lengths can be off by a frame or so.
const COMPLETE_FRACTION: f64 = 0.98;

/// symphonia 0.5 panics on some malformed input (our fuzzer found a shift overflow on a
/// WAVE_FORMAT_EXTENSIBLE header claiming 65535 channels; upstream fixes for others, such as
/// pdeljanov/Symphonia#510, are in 0.6 only). The CLI decodes untrusted files in batches, so a
/// decoder panic becomes this file's error, not the end of the run. (No help where panics abort, as
/// in the wasm build; the worker is then restarted for the next file.)
pub(super) fn decode(bytes: &[u8], limits: &Limits) -> Result<Audio> {
    std::panic::catch_unwind(|| decode_unguarded(bytes, limits)).unwrap_or_else(|_| {
        Err(Error::UnsupportedEncoding(
            "the decoder could not make sense of this file".into(),
        ))
    })
}

fn decode_unguarded(bytes: &[u8], limits: &Limits) -> Result<Audio> {
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let probed = symphonia::default::get_probe()
        .format(
            &Hint::new(),
            source,
            // Gapless: trim the encoder's padding (LAME/Xing headers) so an MP3 lasts as long as
            // its source and the analysis windows fall where they did in the original.
            &FormatOptions {
                enable_gapless: true,
                ..Default::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|_| Error::NotAudio)?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or(Error::NotAudio)?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let declared_frames = params.n_frames;
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| Error::UnsupportedEncoding(e.to_string()))?;

    let mut mono: Vec<f32> = Vec::new();
    let mut rate = params.sample_rate.unwrap_or(0);
    let mut buf: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymErr::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymErr::ResetRequired) => break,
            Err(e) => {
                return Err(Error::Truncated {
                    detail: e.to_string(),
                })
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A corrupt packet in a long stream is skipped, as players do.
            Err(SymErr::DecodeError(_)) => continue,
            Err(e) => return Err(Error::UnsupportedEncoding(e.to_string())),
        };
        let spec = *decoded.spec();
        rate = spec.rate;
        if !super::SAMPLE_RATES.contains(&rate) {
            return Err(Error::InvalidSampleRate(rate));
        }
        let channels = spec.channels.count().max(1);
        let sb = buf.get_or_insert_with(|| SampleBuffer::new(decoded.capacity() as u64, spec));
        if sb.capacity() < decoded.capacity() * channels {
            *sb = SampleBuffer::new(decoded.capacity() as u64, spec);
        }
        sb.copy_interleaved_ref(decoded);
        mono.extend(
            sb.samples()
                .chunks_exact(channels)
                .map(|f| f.iter().sum::<f32>() / channels as f32),
        );
        check_length(mono.len(), rate, limits)?;
    }
    if mono.is_empty() {
        return Err(Error::Truncated {
            detail: "no audio could be decoded from the file".into(),
        });
    }
    if let Some(n) = declared_frames {
        if (mono.len() as f64) < n as f64 * COMPLETE_FRACTION {
            return Err(Error::Truncated {
                detail: format!(
                    "the header promises {n} samples but only {} could be decoded",
                    mono.len()
                ),
            });
        }
    }
    Audio::new(mono, rate)
}
