//! The messages between a page and the analysis worker, and the analysis the worker runs.
//!
//! The page's UI uses exactly these messages, and so can a telemedicine portal that embeds the
//! app (the iframe API forwards them), so they are kept small, explicit and versionless-stable:
//!
//! Page → worker (a plain object; the audio travels as a transferable buffer, never as JSON):
//! ```text
//! { type: "analyze", id: <u32>, bytes: ArrayBuffer | Uint8Array }            // a WAV file, decoded by the core
//! { type: "analyze", id: <u32>, samples: Float32Array, sampleRate: <Hz> }    // PCM the page decoded (Web Audio)
//! ```
//! Worker → page: a [`Reply`] as a plain object, fields named as in its JSON:
//! ```text
//! { type: "ready",  model: { name, version, trained }, model_load_ms }      // once, when the model is loaded
//! { type: "result", id, analysis: { report, visual, worker_ms }, playback?: Uint8Array }
//! { type: "error",  id, message }                                           // this recording only
//! { type: "fatal",  message }                                               // nothing can be analysed
//! ```
//! Requests are answered one at a time, in the order they arrive. `playback`, present only for
//! recordings below [`PLAYBACK_RATE`](crate::analysis::PLAYBACK_RATE) (the data set's 2 kHz files), is a WAV the browser can play:
//! browsers refuse to play audio that slow.

use heartbeat_core::report::ModelInfo;
use heartbeat_core::{Report, Visual};
use serde::{Deserialize, Serialize};

/// A recording as the page hands it over.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A file's bytes, for the core to decode (WAV: decoded exactly as the CLI does).
    Encoded(Vec<u8>),
    /// Mono PCM the browser decoded (MP3, FLAC, OGG… through Web Audio).
    Samples {
        /// Samples, full scale = ±1.
        samples: Vec<f32>,
        /// Their rate in Hz.
        sample_rate: u32,
    },
}

/// Everything the page shows about one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The verdict and the measurements behind it.
    pub report: Report,
    /// The waveform and spectrogram, at screen resolution.
    pub visual: Visual,
    /// Milliseconds the worker spent: decoding (for WAV), features, model.
    pub worker_ms: f64,
}

/// What the worker says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The model is loaded: requests will now be answered.
    Ready {
        /// Which model answers.
        model: ModelInfo,
        /// How long parsing and optimising the model took, in this browser.
        model_load_ms: f64,
    },
    /// A recording's analysis.
    Result {
        /// The request's id.
        id: u32,
        /// The analysis.
        analysis: Box<Analysis>,
    },
    /// Why a recording could not be analysed, in words for the user.
    Error {
        /// The request's id.
        id: u32,
        /// What went wrong and what to do.
        message: String,
    },
    /// The worker cannot analyse anything (the model failed to load).
    Fatal {
        /// What went wrong.
        message: String,
    },
}
