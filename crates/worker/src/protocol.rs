//! Every message HeartBeat exchanges: page ↔ analysis worker, and telemedicine portal ↔ app
//! (the embed API). Defined once here, plain Rust and tested natively; the wasm32-only
//! `envelope` module carries them across `postMessage` on every side, so nobody writes a
//! message's fields by hand.
//!
//! A message travels as an *envelope*, a plain object with two fields:
//! ```text
//! { heartbeat: <the message>, audio?: ArrayBuffer | Uint8Array | Float32Array }
//! ```
//! `heartbeat` is the message's JSON (a string between page and worker, an object for portals,
//! which read it as ordinary fields); `audio` is the recording, a transferable buffer that is
//! never turned into JSON. The `heartbeat` key also tells HeartBeat's messages apart from
//! anything else a portal's window receives.
//!
//! Page → worker ([`Request`]) and worker → page ([`Reply`]):
//! ```text
//! { type: "analyze", id, audio: { format: "encoded" } }                        + audio: the file's bytes
//! { type: "analyze", id, audio: { format: "pcm", sample_rate } }              + audio: Float32Array
//! { type: "ready",  model: { name, version, trained }, model_load_ms }         // once, model loaded
//! { type: "result", id, analysis: { report, visual, worker_ms } }              + audio?: a playable WAV
//! { type: "error",  id, message }                                              // this recording only
//! { type: "fatal",  message }                                                  // nothing can be analysed
//! ```
//! The worker answers one request at a time, in order. The playable WAV comes only for
//! recordings below [`PLAYBACK_RATE`](crate::analysis::PLAYBACK_RATE) (the data set's 2 kHz
//! files): browsers refuse to play audio that slow.
//!
//! Portal → app ([`HostRequest`]) and app → portal ([`HostReply`]): see the README's
//! "Embedding HeartBeat in a portal", which documents them for portal developers.

use heartbeat_core::report::ModelInfo;
use heartbeat_core::{Report, Visual};
use serde::{Deserialize, Serialize};

/// The envelope's field holding the message.
pub const MESSAGE_FIELD: &str = "heartbeat";
/// The envelope's field holding the recording's buffer.
pub const AUDIO_FIELD: &str = "audio";

/// A recording as the analysis takes it.
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

/// What the buffer beside a message holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum AudioFormat {
    /// An audio file's bytes (`ArrayBuffer` or `Uint8Array`).
    Encoded,
    /// Mono samples, full scale ±1 (`Float32Array`).
    Pcm {
        /// Their rate in Hz.
        sample_rate: u32,
    },
}

/// What the page asks of the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Analyse the recording beside this message.
    Analyze {
        /// The page's id for the request, echoed in the reply.
        id: u32,
        /// What the buffer holds.
        audio: AudioFormat,
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

/// A portal's id for its request: a number or a string of its choosing, echoed as it came.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HostId {
    /// A whole number.
    Number(i64),
    /// A string (at most [`MAX_HOST_ID_CHARS`] characters).
    Text(String),
}

/// The longest string id a portal may use: ids are echoed, never stored.
pub const MAX_HOST_ID_CHARS: usize = 128;

/// What a portal asks of the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum HostRequest {
    /// Analyse the recording beside this message: an audio file's bytes (WAV, MP3, FLAC, OGG…),
    /// or mono PCM samples when `sample_rate` is given.
    Analyze {
        /// The portal's id, echoed in the answer.
        id: HostId,
        /// The PCM samples' rate in Hz; absent for an encoded file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sample_rate: Option<u32>,
        /// A name to show in the app's results list (a file name, say).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Say how the app stands.
    Status {
        /// The portal's id, echoed in the answer.
        id: HostId,
    },
}

impl HostRequest {
    /// The portal's id.
    pub fn id(&self) -> &HostId {
        match self {
            HostRequest::Analyze { id, .. } | HostRequest::Status { id } => id,
        }
    }
}

/// Where the app's engine stands, as a portal sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineStatus {
    /// Loading the model.
    Starting,
    /// Analysing requests.
    Ready,
    /// Nothing can be analysed (see the status's `error`).
    Failed,
}

/// The answer to a [`HostRequest::Status`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedStatus {
    /// This page load's id: a new one means the app reloaded and forgot earlier requests.
    pub instance: String,
    /// Whether the engine is ready, starting or failed.
    pub engine: EngineStatus,
    /// The model that answers, once loaded.
    pub model: Option<ModelInfo>,
    /// Why nothing can be analysed, when the engine failed.
    pub error: Option<String>,
    /// Recordings received from portals and not yet answered.
    pub pending: usize,
    /// Requests answered so far (results and errors).
    pub answered: u64,
    /// Messages ignored because their origin is not on the allow-list.
    pub rejected_messages: u64,
}

/// What the app tells a portal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostReply {
    /// The model is loaded: recordings will now be analysed.
    Ready {
        /// This page load's id (as in [`EmbedStatus::instance`]).
        instance: String,
        /// Which model answers.
        model: ModelInfo,
    },
    /// A recording's report: the same fields `heartbeat classify` prints as JSON.
    Result {
        /// The portal's id.
        id: HostId,
        /// The report.
        report: Box<Report>,
    },
    /// Why a request could not be answered, in plain words. `id` is absent only when the
    /// message was too malformed to carry one.
    Error {
        /// The portal's id.
        id: Option<HostId>,
        /// What went wrong and what to do.
        message: String,
    },
    /// The answer to a status request.
    Status {
        /// The portal's id.
        id: HostId,
        /// How the app stands.
        status: EmbedStatus,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn requests_have_their_documented_shape() {
        let pcm = Request::Analyze {
            id: 3,
            audio: AudioFormat::Pcm { sample_rate: 8000 },
        };
        let value = serde_json::to_value(&pcm).expect("serialises");
        assert_eq!(
            value,
            json!({"type": "analyze", "id": 3, "audio": {"format": "pcm", "sample_rate": 8000}})
        );
        assert_eq!(
            serde_json::from_value::<Request>(value).expect("parses"),
            pcm
        );
        let encoded = json!({"type": "analyze", "id": 4, "audio": {"format": "encoded"}});
        assert_eq!(
            serde_json::from_value::<Request>(encoded).expect("parses"),
            Request::Analyze {
                id: 4,
                audio: AudioFormat::Encoded
            }
        );
    }

    #[test]
    fn portal_requests_take_number_or_string_ids_and_refuse_unknown_fields() {
        let analyze: HostRequest = serde_json::from_value(
            json!({"type": "analyze", "id": "visit-17", "name": "apex.wav"}),
        )
        .expect("parses");
        assert_eq!(analyze.id(), &HostId::Text("visit-17".into()));
        let pcm: HostRequest =
            serde_json::from_value(json!({"type": "analyze", "id": 9, "sample_rate": 4000}))
                .expect("parses");
        assert_eq!(
            pcm,
            HostRequest::Analyze {
                id: HostId::Number(9),
                sample_rate: Some(4000),
                name: None
            }
        );
        let status: HostRequest =
            serde_json::from_value(json!({"type": "status", "id": 1})).expect("parses");
        assert_eq!(
            status,
            HostRequest::Status {
                id: HostId::Number(1)
            }
        );
        for bad in [
            json!({"type": "analyse", "id": 1}),
            json!({"type": "analyze"}),
            json!({"type": "analyze", "id": 1, "sampleRate": 4000}),
            json!({"type": "analyze", "id": [1]}),
            json!({"type": "status", "id": 1, "extra": true}),
        ] {
            assert!(
                serde_json::from_value::<HostRequest>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn portal_replies_echo_the_id_as_it_came() {
        let error = HostReply::Error {
            id: Some(HostId::Text("a".into())),
            message: "too short".into(),
        };
        assert_eq!(
            serde_json::to_value(&error).expect("serialises"),
            json!({"type": "error", "id": "a", "message": "too short"})
        );
        let status = HostReply::Status {
            id: HostId::Number(2),
            status: EmbedStatus {
                instance: "18c-1".into(),
                engine: EngineStatus::Starting,
                model: None,
                error: None,
                pending: 0,
                answered: 0,
                rejected_messages: 5,
            },
        };
        let value = serde_json::to_value(&status).expect("serialises");
        assert_eq!(value["id"], 2);
        assert_eq!(value["status"]["engine"], "starting");
        assert_eq!(value["status"]["rejected_messages"], 5);
    }
}
