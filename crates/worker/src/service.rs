//! The worker side of the [`protocol`](crate::protocol): load the model once, then answer each
//! request with a reply. Only JavaScript plumbing lives here; the analysis is
//! [`analysis::analyze`].

use heartbeat_core::Analyzer;
use js_sys::{ArrayBuffer, Float32Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::analysis;
use crate::envelope::{self, Form};
use crate::protocol::{AudioFormat, Input, Reply, Request};

/// Loads the model and starts answering messages. Runs once, when the worker starts.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let started = now();
    let analyzer = match Analyzer::bundled() {
        Ok(analyzer) => analyzer,
        Err(e) => {
            let message = format!("the screening model could not be loaded ({e}): reload the page");
            post(&scope, &Reply::Fatal { message }, None);
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
            post(&reply_to, &reply, playback.map(JsValue::from).as_ref());
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&scope, &ready, None);
}

/// The reply to one message with its playable copy of the recording, if any; `None` for a
/// message that is not a request (nobody to answer).
fn answer(analyzer: &Analyzer, data: &JsValue) -> Option<(Reply, Option<Uint8Array>)> {
    // The page only sends requests built from the same types: anything else has no id to
    // answer to, and the page's engine turns the silence into a timeout for its request.
    let Ok(opened) = envelope::open::<Request>(data) else {
        return None;
    };
    let Request::Analyze { id, audio } = opened.message;
    let error = |message| (Reply::Error { id, message }, None);
    Some(match input(audio, opened.audio) {
        Ok(input) => match analysis::analyze(analyzer, input, now) {
            Ok(analysed) => (
                Reply::Result {
                    id,
                    analysis: Box::new(analysed.analysis),
                },
                analysed
                    .playback
                    .map(|wav| Uint8Array::from(wav.as_slice())),
            ),
            Err(e) => error(e.to_string()),
        },
        Err(message) => error(message),
    })
}

/// The recording of a request: its buffer, read as the message says it is.
fn input(format: AudioFormat, audio: Option<JsValue>) -> Result<Input, String> {
    let audio = audio.unwrap_or(JsValue::UNDEFINED);
    match format {
        AudioFormat::Encoded
            if audio.is_instance_of::<ArrayBuffer>() || audio.is_instance_of::<Uint8Array>() =>
        {
            Ok(Input::Encoded(Uint8Array::new(&audio).to_vec()))
        }
        AudioFormat::Pcm { sample_rate } => match audio.dyn_ref::<Float32Array>() {
            Some(samples) => Ok(Input::Samples {
                samples: samples.to_vec(),
                sample_rate,
            }),
            None => Err("the request's samples are not a Float32Array".to_owned()),
        },
        AudioFormat::Encoded => {
            Err("the request's file is not an ArrayBuffer or Uint8Array".to_owned())
        }
    }
}

/// Posts a reply (its JSON as text: the page reads it with serde directly), with `audio`
/// transferred beside it.
fn post(scope: &DedicatedWorkerGlobalScope, reply: &Reply, audio: Option<&JsValue>) {
    match envelope::seal(reply, audio, Form::Text) {
        // Posting a plain object and its own buffers cannot fail.
        Ok((message, transfer)) => {
            let _ = scope.post_message_with_transfer(&message, &transfer);
        }
        // Unreachable in practice (every reply serialises); the page then times the request out.
        Err(e) => web_sys::console::error_1(&e.to_string().into()),
    }
}

fn now() -> f64 {
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .map(|p| p.now())
        .unwrap_or(0.0)
}
