//! The embed API in the page: listen to the portals on the allow-list, validate what they send,
//! queue their recordings with the page's own, and answer each request exactly once, to the
//! origin that asked. The rules are plain data in [`crate::embed`]; the messages are
//! [`HostRequest`] and [`HostReply`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use heartbeat_core::Report;
use heartbeat_worker::envelope::{self, EnvelopeError, Form};
use heartbeat_worker::protocol::{
    EmbedStatus, EngineStatus, HostId, HostReply, HostRequest, MAX_HOST_ID_CHARS, MESSAGE_FIELD,
};
use js_sys::{ArrayBuffer, Float32Array, Reflect, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, MessageEvent, Response, Url, Window};

use super::analyse::{self, Source};
use super::{AppState, Notice};
use crate::browser::describe;
use crate::embed::{check_pcm, AllowList, ALLOW_LIST_FILE};
use crate::engine::{EngineState, Recording};
use crate::error::{check_size, AppError};

/// Messages kept while embed.json loads (a few status polls); more are dropped as rejected.
const MAX_EARLY_MESSAGES: usize = 64;
/// Longest name a portal may give a recording for the results list.
const MAX_NAME_CHARS: usize = 200;

/// What the listener keeps between messages.
struct Bridge {
    /// This page load's id, so a portal can tell that the app reloaded.
    instance: String,
    /// `None` until embed.json has been read; messages wait in `early` until then.
    allowed: RefCell<Option<AllowList>>,
    early: RefCell<Vec<MessageEvent>>,
    rejected: Cell<u64>,
    answered: Cell<u64>,
    pending: Cell<usize>,
    announced: Cell<bool>,
}

/// Starts listening for portals: reads embed.json, then answers allowed origins' messages and
/// announces `ready` to the parent window once the model is loaded.
pub fn start(state: AppState) {
    let bridge = Rc::new(Bridge {
        instance: crate::browser::new_id(),
        allowed: RefCell::new(None),
        early: RefCell::new(Vec::new()),
        rejected: Cell::new(0),
        answered: Cell::new(0),
        pending: Cell::new(0),
        announced: Cell::new(false),
    });
    let listening = bridge.clone();
    let handle = window_event_listener(leptos::ev::message, move |event: MessageEvent| {
        if listening.allowed.borrow().is_none() {
            let mut early = listening.early.borrow_mut();
            if early.len() < MAX_EARLY_MESSAGES {
                early.push(event);
            } else {
                listening.rejected.set(listening.rejected.get() + 1);
            }
        } else {
            receive(state, &listening, &event);
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);

    let loading = bridge.clone();
    spawn_local(async move {
        let list = match allow_list().await {
            Ok(list) => list,
            Err(e) => {
                state.tell(Notice::Error(e));
                AllowList::default()
            }
        };
        *loading.allowed.borrow_mut() = Some(list);
        announce(state, &loading);
        let early = std::mem::take(&mut *loading.early.borrow_mut());
        for event in early {
            receive(state, &loading, &event);
        }
    });

    Effect::new(move |_| {
        if matches!(state.engine_state.get(), EngineState::Ready { .. }) {
            announce(state, &bridge);
        }
    });
}

/// The deployer's allow-list; none (a 404) means no portal may talk to the app.
async fn allow_list() -> Result<AllowList, AppError> {
    let window = web_sys::window().ok_or_else(|| AppError::EmbedConfig("no window".into()))?;
    let fetched = JsFuture::from(window.fetch_with_str(ALLOW_LIST_FILE))
        .await
        .map_err(|e| AppError::EmbedConfig(format!("it could not be fetched: {}", describe(&e))))?;
    let response: Response = fetched.unchecked_into();
    if response.status() == 404 {
        return Ok(AllowList::default());
    }
    if !response.ok() {
        return Err(AppError::EmbedConfig(format!(
            "the server answered {} {}",
            response.status(),
            response.status_text()
        )));
    }
    let text = response
        .text()
        .map_err(|e| AppError::EmbedConfig(describe(&e)))?;
    let text = JsFuture::from(text)
        .await
        .map_err(|e| AppError::EmbedConfig(describe(&e)))?;
    AllowList::from_json(&text.as_string().unwrap_or_default())
}

/// Tells the parent window, if it is an allowed portal, that recordings can be sent. Posted to
/// each allowed origin: the browser delivers it only where the parent's origin matches.
fn announce(state: AppState, bridge: &Bridge) {
    let EngineState::Ready { model, .. } = state.engine_state.get_untracked() else {
        return;
    };
    let allowed = bridge.allowed.borrow();
    let (Some(list), Some(window)) = (allowed.as_ref(), web_sys::window()) else {
        return;
    };
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    if bridge.announced.replace(true) || parent == window {
        return;
    }
    for origin in list.origins() {
        let ready = HostReply::Ready {
            instance: bridge.instance.clone(),
            model: model.clone(),
        };
        post(&parent, origin, &ready);
    }
}

fn receive(state: AppState, bridge: &Rc<Bridge>, event: &MessageEvent) {
    let origin = event.origin();
    let allowed = bridge
        .allowed
        .borrow()
        .as_ref()
        .is_some_and(|list| list.allows(&origin));
    if !allowed {
        bridge.rejected.set(bridge.rejected.get() + 1);
        return;
    }
    let Some(reply_to) = event.source().map(JsCast::unchecked_into::<Window>) else {
        return;
    };
    // Everything but a status request goes through the page's queue, refusals too, so a
    // portal's requests are answered in the order it sent them.
    let queue = |id: Option<HostId>, name: Option<String>, audio: PortalAudio| {
        let name = name
            .map(|n| n.chars().take(MAX_NAME_CHARS).collect())
            .unwrap_or_else(|| match &id {
                Some(id) => format!("portal request {}", id_text(id)),
                None => "portal request".to_owned(),
            });
        bridge.pending.set(bridge.pending.get() + 1);
        let call = Call {
            id,
            origin: origin.clone(),
            reply_to: reply_to.clone(),
            audio,
            bridge: bridge.clone(),
            answered: Cell::new(false),
        };
        analyse::enqueue(state, vec![(name, Source::Portal(call))]);
    };
    let data = event.data();
    let opened = match envelope::open::<HostRequest>(&data) {
        Ok(opened) => opened,
        Err(EnvelopeError::NotOurs) => return,
        Err(e) => {
            let why = format!("{e}: see the README's “Embedding HeartBeat in a portal”");
            let refused = PortalAudio::Refused(AppError::EmbedRequest(why));
            return queue(readable_id(&data), None, refused);
        }
    };
    if matches!(opened.message.id(), HostId::Text(text) if text.chars().count() > MAX_HOST_ID_CHARS)
    {
        let why = format!("the request's id is longer than {MAX_HOST_ID_CHARS} characters");
        return queue(
            None,
            None,
            PortalAudio::Refused(AppError::EmbedRequest(why)),
        );
    }
    match opened.message {
        HostRequest::Status { id } => {
            let status = status(state, bridge);
            post(&reply_to, &origin, &HostReply::Status { id, status });
        }
        HostRequest::Analyze {
            id,
            sample_rate,
            name,
        } => {
            let audio =
                portal_audio(opened.audio, sample_rate).unwrap_or_else(PortalAudio::Refused);
            queue(Some(id), name, audio);
        }
    }
}

/// The id of a message too malformed to open, when it has one worth echoing.
fn readable_id(data: &JsValue) -> Option<HostId> {
    let message = Reflect::get(data, &MESSAGE_FIELD.into()).ok()?;
    let id = Reflect::get(&message, &"id".into()).ok()?;
    if let Some(text) = id.as_string() {
        return (text.chars().count() <= MAX_HOST_ID_CHARS).then_some(HostId::Text(text));
    }
    id.as_f64()
        .filter(|n| n.fract() == 0.0 && n.abs() < 9e15)
        .map(|n| HostId::Number(n as i64))
}

fn id_text(id: &HostId) -> String {
    match id {
        HostId::Number(n) => n.to_string(),
        HostId::Text(text) => text.clone(),
    }
}

fn status(state: AppState, bridge: &Bridge) -> EmbedStatus {
    let (engine, model, error) = match state.engine_state.get_untracked() {
        EngineState::Starting => (EngineStatus::Starting, None, None),
        EngineState::Ready { model, .. } => (EngineStatus::Ready, Some(model), None),
        EngineState::Failed(e) => (EngineStatus::Failed, None, Some(e.to_string())),
    };
    EmbedStatus {
        instance: bridge.instance.clone(),
        engine,
        model,
        error,
        pending: bridge.pending.get(),
        answered: bridge.answered.get(),
        rejected_messages: bridge.rejected.get(),
    }
}

/// A portal's recording as it arrived, or why it was refused.
enum PortalAudio {
    /// An audio file's bytes, with a copy the result's player can play.
    Encoded {
        bytes: Uint8Array,
        blob: Option<Blob>,
    },
    /// Mono samples.
    Pcm {
        samples: Float32Array,
        sample_rate: u32,
    },
    /// Nothing to analyse: the request was refused, and why.
    Refused(AppError),
}

/// Checks a request's audio against its message and the page's limits, before queuing it.
fn portal_audio(audio: Option<JsValue>, sample_rate: Option<u32>) -> Result<PortalAudio, AppError> {
    let audio = audio.ok_or_else(|| {
        AppError::EmbedRequest(
            "the request holds no recording: put the file's ArrayBuffer (or a Float32Array of \
             samples with `sample_rate`) in the message's `audio` field"
                .into(),
        )
    })?;
    match sample_rate {
        Some(sample_rate) => {
            let samples = audio.dyn_into::<Float32Array>().map_err(|_| {
                AppError::EmbedRequest(
                    "with `sample_rate`, `audio` must be a Float32Array of mono samples".into(),
                )
            })?;
            check_pcm(samples.length(), sample_rate)?;
            Ok(PortalAudio::Pcm {
                samples,
                sample_rate,
            })
        }
        None => {
            let bytes =
                if audio.is_instance_of::<ArrayBuffer>() || audio.is_instance_of::<Uint8Array>() {
                    Uint8Array::new(&audio)
                } else {
                    return Err(AppError::EmbedRequest(
                        "`audio` must be the file's bytes as an ArrayBuffer or Uint8Array (or a \
                     Float32Array with `sample_rate`)"
                            .into(),
                    ));
                };
            check_size(u64::from(bytes.byte_length()))?;
            let blob = Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&bytes)).ok();
            Ok(PortalAudio::Encoded { bytes, blob })
        }
    }
}

/// A portal's analysis request, waiting in the page's queue. Answered exactly once: by
/// [`Call::answer`], or, should it be dropped unanswered, with an error.
pub struct Call {
    id: Option<HostId>,
    origin: String,
    reply_to: Window,
    audio: PortalAudio,
    bridge: Rc<Bridge>,
    answered: Cell<bool>,
}

impl Call {
    /// The recording, decoded by the browser when the core does not read its format.
    pub async fn recording(&self) -> Result<Recording, AppError> {
        match &self.audio {
            PortalAudio::Encoded { bytes, .. } => crate::browser::decode(bytes.clone()).await,
            PortalAudio::Pcm {
                samples,
                sample_rate,
            } => Ok(Recording::Pcm {
                samples: samples.clone(),
                sample_rate: *sample_rate,
            }),
            PortalAudio::Refused(why) => Err(why.clone()),
        }
    }

    /// Where the page can play the recording from.
    pub fn playback_url(&self) -> Option<String> {
        match &self.audio {
            PortalAudio::Encoded {
                blob: Some(blob), ..
            } => Url::create_object_url_with_blob(blob).ok(),
            _ => None,
        }
    }

    /// Sends the portal its report, or why there is none.
    pub fn answer(&self, outcome: Result<&Report, &AppError>) {
        let reply = match outcome {
            Ok(report) => match &self.id {
                Some(id) => HostReply::Result {
                    id: id.clone(),
                    report: Box::new(report.clone()),
                },
                // Refused requests are the only ones without an id, and they have no report.
                None => return,
            },
            Err(e) => HostReply::Error {
                id: self.id.clone(),
                message: e.to_string(),
            },
        };
        self.send(&reply);
    }

    fn send(&self, reply: &HostReply) {
        if self.answered.replace(true) {
            return;
        }
        post(&self.reply_to, &self.origin, reply);
        self.bridge.answered.set(self.bridge.answered.get() + 1);
        self.bridge
            .pending
            .set(self.bridge.pending.get().saturating_sub(1));
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.send(&HostReply::Error {
            id: self.id.clone(),
            message: "the app dropped this request before analysing it: send it again".into(),
        });
    }
}

/// Posts a reply to one origin only, never `"*"`.
fn post(to: &Window, origin: &str, reply: &HostReply) {
    match envelope::seal(reply, None, Form::Object) {
        Ok((message, _)) => {
            if let Err(e) = to.post_message(&message, origin) {
                web_sys::console::warn_1(&format!("embed reply not sent: {}", describe(&e)).into());
            }
        }
        Err(e) => web_sys::console::error_1(&e.to_string().into()),
    }
}
