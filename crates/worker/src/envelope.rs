//! Carries a [`protocol`](crate::protocol) message across `postMessage`: the message as JSON in
//! the envelope's `heartbeat` field, the recording's buffer beside it, transferred rather than
//! copied. The page, the worker and the embed API all go through here.

use js_sys::{Array, ArrayBuffer, Float32Array, Object, Reflect, Uint8Array, JSON};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use crate::protocol::{AUDIO_FIELD, MESSAGE_FIELD};

/// Why a posted value is not a message of ours.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvelopeError {
    /// No `heartbeat` field: somebody else's message, to be ignored.
    #[error("not a HeartBeat message (no `heartbeat` field)")]
    NotOurs,
    /// A `heartbeat` field that does not hold a valid message.
    #[error("the message is malformed: {0}")]
    Malformed(String),
    /// The message could not be encoded (a bug: every message type serialises).
    #[error("the message could not be encoded: {0}")]
    Encoding(String),
}

/// How the message travels inside the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A JSON string: between page and worker, where serde reads it directly.
    Text,
    /// A plain object: for portals, which read ordinary fields.
    Object,
}

/// A message opened: what it says, and the buffer that came with it.
pub struct Opened<T> {
    /// The message.
    pub message: T,
    /// The `audio` field, if any (any JavaScript value: the receiver checks its type).
    pub audio: Option<JsValue>,
}

/// Reads a posted value as a message of type `T`.
pub fn open<T: DeserializeOwned>(data: &JsValue) -> Result<Opened<T>, EnvelopeError> {
    if !data.is_object() {
        return Err(EnvelopeError::NotOurs);
    }
    let message = field(data, MESSAGE_FIELD);
    if message.is_undefined() {
        return Err(EnvelopeError::NotOurs);
    }
    let json =
        match message.as_string() {
            Some(json) => json,
            None if message.is_object() => JSON::stringify(&message)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| EnvelopeError::Malformed("it cannot be read as JSON".into()))?,
            None => {
                return Err(EnvelopeError::Malformed(
                    "`heartbeat` must be an object".into(),
                ))
            }
        };
    let message =
        serde_json::from_str(&json).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    let audio = Some(field(data, AUDIO_FIELD)).filter(|a| !a.is_undefined() && !a.is_null());
    Ok(Opened { message, audio })
}

/// Builds the envelope for `message`, with `audio` beside it; returns it with the list of
/// buffers to transfer (the audio's, when the audio owns its whole buffer: a view into a larger
/// buffer is copied instead, so nothing else the sender holds is taken from it).
pub fn seal<T: Serialize>(
    message: &T,
    audio: Option<&JsValue>,
    form: Form,
) -> Result<(JsValue, Array), EnvelopeError> {
    let json =
        serde_json::to_string(message).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    let body = match form {
        Form::Text => JsValue::from_str(&json),
        Form::Object => {
            JSON::parse(&json).map_err(|e| EnvelopeError::Encoding(format!("{e:?}")))?
        }
    };
    let envelope = Object::new();
    let transfer = Array::new();
    set(&envelope, MESSAGE_FIELD, &body);
    if let Some(audio) = audio {
        let (value, buffer) = transferable(audio);
        set(&envelope, AUDIO_FIELD, &value);
        if let Some(buffer) = buffer {
            transfer.push(&buffer);
        }
    }
    Ok((envelope.into(), transfer))
}

/// The audio as it will travel, and the buffer to transfer with it, if any.
fn transferable(audio: &JsValue) -> (JsValue, Option<ArrayBuffer>) {
    if let Some(buffer) = audio.dyn_ref::<ArrayBuffer>() {
        return (audio.clone(), Some(buffer.clone()));
    }
    let whole = |buffer: ArrayBuffer, offset: u32, length: u32| {
        offset == 0 && length == buffer.byte_length()
    };
    if let Some(bytes) = audio.dyn_ref::<Uint8Array>() {
        return if whole(bytes.buffer(), bytes.byte_offset(), bytes.byte_length()) {
            (audio.clone(), Some(bytes.buffer()))
        } else {
            let copy = bytes.slice(0, bytes.length());
            let buffer = copy.buffer();
            (copy.into(), Some(buffer))
        };
    }
    if let Some(samples) = audio.dyn_ref::<Float32Array>() {
        return if whole(
            samples.buffer(),
            samples.byte_offset(),
            samples.byte_length(),
        ) {
            (audio.clone(), Some(samples.buffer()))
        } else {
            let copy = samples.slice(0, samples.length());
            let buffer = copy.buffer();
            (copy.into(), Some(buffer))
        };
    }
    (audio.clone(), None)
}

fn field(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn set(object: &Object, name: &str, value: &JsValue) {
    // Setting a field of a fresh plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{AudioFormat, HostId, HostRequest, Request};
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_request_and_its_audio_survive_the_envelope() {
        let request = Request::Analyze {
            id: 5,
            audio: AudioFormat::Pcm { sample_rate: 8000 },
        };
        let samples = Float32Array::from([0.5f32, -0.25].as_slice());
        let (envelope, transfer) =
            seal(&request, Some(&samples.clone().into()), Form::Text).expect("seals");
        assert_eq!(transfer.length(), 1, "the samples' buffer is transferred");
        let opened: Opened<Request> = open(&envelope).expect("opens");
        assert_eq!(opened.message, request);
        let audio = opened
            .audio
            .expect("audio")
            .dyn_into::<Float32Array>()
            .expect("samples");
        assert_eq!(audio.to_vec(), vec![0.5, -0.25]);
    }

    #[test]
    fn a_view_into_a_larger_buffer_is_copied_not_taken() {
        let all = Uint8Array::from([1u8, 2, 3, 4].as_slice());
        let view = all.subarray(1, 3);
        let (envelope, transfer) = seal(
            &Request::Analyze {
                id: 1,
                audio: AudioFormat::Encoded,
            },
            Some(&view.into()),
            Form::Text,
        )
        .expect("seals");
        let sent: ArrayBuffer = transfer.get(0).unchecked_into();
        assert_ne!(sent, all.buffer());
        let opened: Opened<Request> = open(&envelope).expect("opens");
        let audio: Uint8Array = opened.audio.expect("audio").unchecked_into();
        assert_eq!(audio.to_vec(), vec![2, 3]);
    }

    #[test]
    fn portal_objects_open_and_strangers_are_told_apart_from_mistakes() {
        let message =
            JSON::parse(r#"{"heartbeat": {"type": "status", "id": "s1"}}"#).expect("JSON");
        let opened: Opened<HostRequest> = open(&message).expect("opens");
        assert_eq!(
            opened.message,
            HostRequest::Status {
                id: HostId::Text("s1".into())
            }
        );
        for stranger in [r#"{"type": "status"}"#, "42", r#""heartbeat""#] {
            let value = JSON::parse(stranger).expect("JSON");
            assert_eq!(
                open::<HostRequest>(&value).err(),
                Some(EnvelopeError::NotOurs),
                "{stranger}"
            );
        }
        for bad in [
            r#"{"heartbeat": 7}"#,
            r#"{"heartbeat": {"type": "dance", "id": 1}}"#,
        ] {
            let value = JSON::parse(bad).expect("JSON");
            assert!(
                matches!(
                    open::<HostRequest>(&value),
                    Err(EnvelopeError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }
}
