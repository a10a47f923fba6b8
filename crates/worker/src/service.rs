//! The worker side of the [`protocol`](crate::protocol): load the model once, then answer each
//! message with a reply. Only JavaScript plumbing lives here; the analysis is `protocol::analyze`.

use heartbeat_core::Analyzer;
use js_sys::{Float32Array, Reflect, Uint8Array, JSON};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::analysis;
use crate::protocol::{Input, Reply};

/// Loads the model and starts answering messages. Runs once, when the worker starts.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let started = now();
    let analyzer = match Analyzer::bundled() {
        Ok(analyzer) => analyzer,
        Err(e) => {
            post(
                &scope,
                &Reply::Fatal {
                    message: format!(
                        "the screening model could not be loaded ({e}): reload the page"
                    ),
                },
            );
            return;
        }
    };
    let ready = Reply::Ready {
        model: analyzer.card().info(),
        model_load_ms: now() - started,
    };
    let reply_to = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some((reply, playback)) = answer(&analyzer, &event.data()) {
            post_with(&reply_to, &reply, playback);
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&scope, &ready);
}

/// The reply to one message with its playable copy of the recording, if any; `None` for a
/// message without a numeric id (nobody to answer).
fn answer(analyzer: &Analyzer, message: &JsValue) -> Option<(Reply, Option<Vec<u8>>)> {
    let id = field(message, "id")
        .as_f64()
        .filter(|id| id.fract() == 0.0 && *id >= 0.0)? as u32;
    let error = |message| (Reply::Error { id, message }, None);
    Some(match input(message) {
        Ok(input) => match analysis::analyze(analyzer, input, now) {
            Ok(analysed) => (
                Reply::Result {
                    id,
                    analysis: Box::new(analysed.analysis),
                },
                analysed.playback,
            ),
            Err(e) => error(e.to_string()),
        },
        Err(message) => error(message),
    })
}

/// Reads the recording out of an `analyze` message, or says what is wrong with the message.
fn input(message: &JsValue) -> Result<Input, String> {
    if field(message, "type").as_string().as_deref() != Some("analyze") {
        return Err("unknown request: expected {type: \"analyze\", …}".to_owned());
    }
    let bytes = field(message, "bytes");
    if bytes.is_instance_of::<js_sys::ArrayBuffer>() || bytes.is_instance_of::<Uint8Array>() {
        return Ok(Input::Encoded(Uint8Array::new(&bytes).to_vec()));
    }
    let samples = field(message, "samples");
    let rate = field(message, "sampleRate").as_f64();
    match (samples.dyn_ref::<Float32Array>(), rate) {
        (Some(samples), Some(rate))
            if rate.fract() == 0.0 && rate > 0.0 && rate < f64::from(u32::MAX) =>
        {
            Ok(Input::Samples {
                samples: samples.to_vec(),
                sample_rate: rate as u32,
            })
        }
        _ => Err(
            "the request holds no recording: send `bytes` (an ArrayBuffer) or `samples` \
             (a Float32Array) with an integer `sampleRate`"
                .to_owned(),
        ),
    }
}

fn field(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Posts a reply as a plain object (serde's JSON, parsed by the browser): the page and a portal
/// read ordinary fields, with no Rust-specific encoding.
fn post(scope: &DedicatedWorkerGlobalScope, reply: &Reply) {
    post_with(scope, reply, None);
}

/// Posts a reply, with `playback` as a `Uint8Array` field whose buffer is transferred.
fn post_with(scope: &DedicatedWorkerGlobalScope, reply: &Reply, playback: Option<Vec<u8>>) {
    let value = serde_json::to_string(reply)
        .map_err(|e| JsValue::from_str(&e.to_string()))
        .and_then(|json| JSON::parse(&json));
    let value = value.unwrap_or_else(|e| {
        let fatal = js_sys::Object::new();
        let _ = Reflect::set(&fatal, &"type".into(), &"fatal".into());
        let reason = e.as_string().unwrap_or_default();
        let message = format!("the worker could not encode its reply ({reason}): reload the page");
        let _ = Reflect::set(&fatal, &"message".into(), &message.into());
        fatal.into()
    });
    let transfer = js_sys::Array::new();
    if let Some(wav) = playback {
        let bytes = Uint8Array::from(wav.as_slice());
        transfer.push(&bytes.buffer());
        let _ = Reflect::set(&value, &"playback".into(), &bytes);
    }
    // Posting a plain object and its own buffers cannot fail.
    let _ = scope.post_message_with_transfer(&value, &transfer);
}

fn now() -> f64 {
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .map(|p| p.now())
        .unwrap_or(0.0)
}
