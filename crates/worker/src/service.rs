//! The worker side of the [`protocol`](crate::protocol): load the model once, then answer each
//! message with a reply. Only JavaScript plumbing lives here; the analysis is `protocol::analyze`.

use heartbeat_core::Analyzer;
use js_sys::{Float32Array, Reflect, Uint8Array, JSON};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{self, Input, Reply};

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
        if let Some(reply) = answer(&analyzer, &event.data()) {
            post(&reply_to, &reply);
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&scope, &ready);
}

/// The reply to one message, or `None` for a message without a numeric id (nobody to answer).
fn answer(analyzer: &Analyzer, message: &JsValue) -> Option<Reply> {
    let id = field(message, "id")
        .as_f64()
        .filter(|id| id.fract() == 0.0 && *id >= 0.0)? as u32;
    let reply = match input(message) {
        Ok(input) => match protocol::analyze(analyzer, input, now) {
            Ok(analysis) => Reply::Result {
                id,
                analysis: Box::new(analysis),
            },
            Err(e) => Reply::Error {
                id,
                message: e.to_string(),
            },
        },
        Err(message) => Reply::Error { id, message },
    };
    Some(reply)
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
    // Posting a plain object cannot fail: it holds no transferables or functions.
    let _ = scope.post_message(&value);
}

fn now() -> f64 {
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .map(|p| p.now())
        .unwrap_or(0.0)
}
