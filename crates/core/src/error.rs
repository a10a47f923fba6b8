//! The core's one error type. Every variant is something a user can act on, so messages name the
//! problem in the recording's terms (seconds, formats) rather than the library's.

use thiserror::Error;

/// Everything that can go wrong between a file's bytes and a report.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The input had no bytes at all.
    #[error("the file is empty (0 bytes): choose the recording again or re-export it")]
    Empty,
    /// The bytes are not in any audio format we recognise.
    #[error("this is not an audio file HeartBeat can read: expected WAV, FLAC, MP3 or OGG")]
    NotAudio,
    /// The header promises more audio than the file holds (an interrupted copy or download).
    #[error("the audio file is truncated: {detail}. Copy or export the recording again")]
    Truncated {
        /// What was found missing.
        detail: String,
    },
    /// A real audio container whose sample encoding we do not decode.
    #[error("unsupported audio encoding: {0}. Convert the recording to 16-bit PCM WAV")]
    UnsupportedEncoding(String),
    /// Shorter than one analysis window: there is not enough signal to judge.
    #[error(
        "the recording is too short: {duration_s:.1} s, but at least {min_s:.1} s is needed \
         to hear several heartbeats. Record for longer"
    )]
    TooShort {
        /// Length of the recording.
        duration_s: f32,
        /// The shortest length accepted.
        min_s: f32,
    },
    /// Longer than we will hold in memory in a browser tab.
    #[error(
        "the recording is too long: {duration_s:.0} s, the maximum is {max_s:.0} s so that \
         analysis fits in a phone's memory. Trim it to the part with the heart sounds"
    )]
    TooLong {
        /// Length of the recording.
        duration_s: f32,
        /// The longest length accepted.
        max_s: f32,
    },
    /// No signal at all (or far below any stethoscope's noise floor).
    #[error(
        "the recording is silent: check that the stethoscope was on and the microphone not muted"
    )]
    Silent,
    /// So much of the signal sits at full scale that the waveform's shape is lost.
    #[error(
        "the recording is clipped: {percent:.0}% of samples are at full scale. \
         Lower the input gain and record again"
    )]
    Clipped {
        /// Share of clipped samples, in percent.
        percent: f32,
    },
    /// The sample rate in the header is zero or absurd.
    #[error("invalid sample rate {0} Hz: the file's header is damaged")]
    InvalidSampleRate(u32),
    /// The model file or its card could not be used.
    #[error("the model could not be used: {0}")]
    Model(String),
    /// The model needs ONNX operators the runtime leaves out (to keep the browser build small).
    #[error(
        "the model could not be used: it needs ONNX operators HeartBeat's runtime does not \
         include: {}. HeartBeat runs CNNs made of {}: export the model with \
         training/export.py, which keeps to these, or add the missing operators to \
         crates/core/src/model/ops.rs",
        .missing.join(", "),
        .supported.join(", ")
    )]
    UnsupportedOperators {
        /// The operators the model uses that the runtime lacks, sorted.
        missing: Vec<String>,
        /// The operators the runtime has, sorted.
        supported: Vec<&'static str>,
    },
    /// A feature configuration that cannot work (for example a window longer than the FFT).
    #[error("invalid feature configuration: {0}")]
    Config(String),
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
