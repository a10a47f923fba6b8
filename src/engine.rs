//! The page's side of the worker [`protocol`](heartbeat_worker::protocol): start the analysis
//! worker, hand it recordings one at a time, and give each request exactly one answer.
//!
//! One request is in the worker at a time; the rest wait here, their audio not yet transferred.
//! So when the worker dies (a crash on one hostile file, say) or stops answering, only that
//! request fails, a fresh worker is started, and the others go to it in order. A worker that
//! keeps crashing without answering anything in between is a broken build: after
//! [`MAX_CRASHES`] in a row the engine gives up and says so.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use futures_channel::oneshot;
use heartbeat_core::report::ModelInfo;
use heartbeat_worker::envelope::{self, EnvelopeError, Form};
use heartbeat_worker::protocol::{Analysis, AudioFormat, Reply, Request};
use js_sys::{Float32Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::browser::describe;
use crate::error::AppError;

/// The worker's loader, written by Trunk next to index.html (`data-loader-shim`). Relative, so
/// the app works under any sub-path.
const WORKER_URL: &str = "./heartbeat-worker_loader.js";
/// Crashes in a row, with no answer between them, before the engine gives up.
const MAX_CRASHES: u32 = 3;
/// How long the worker may spend on one recording. A 10-minute recording takes a few seconds
/// on a phone; a minute means the worker is stuck.
const TIMEOUT_MS: i32 = 60_000;

/// What the engine can do right now.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineState {
    /// The worker is loading the model.
    Starting,
    /// Ready: the model is loaded.
    Ready {
        /// The model that answers.
        model: ModelInfo,
        /// How long loading it took in this browser.
        model_load_ms: f64,
    },
    /// Nothing can be analysed, and why.
    Failed(AppError),
}

/// A recording for the worker, still in JavaScript memory: its buffer is transferred to the
/// worker, never copied through the page's wasm memory.
#[derive(Debug, Clone)]
pub enum Recording {
    /// An audio file's bytes, for the core to decode (WAV, FLAC).
    Encoded(Uint8Array),
    /// Mono samples, full scale ±1.
    Pcm {
        /// The samples.
        samples: Float32Array,
        /// Their rate in Hz.
        sample_rate: u32,
    },
}

impl Recording {
    fn parts(&self) -> (AudioFormat, JsValue) {
        match self {
            Recording::Encoded(bytes) => (AudioFormat::Encoded, bytes.into()),
            Recording::Pcm {
                samples,
                sample_rate,
            } => (
                AudioFormat::Pcm {
                    sample_rate: *sample_rate,
                },
                samples.into(),
            ),
        }
    }
}

/// A finished analysis as the page receives it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The analysis.
    pub analysis: Analysis,
    /// A WAV the browser can play, when it cannot play the original (rate below 8 kHz).
    pub playback: Option<Uint8Array>,
}

type Answer = oneshot::Sender<Result<Outcome, AppError>>;
type Handler = Closure<dyn Fn(JsValue)>;

/// A running analysis worker (a cheap handle: clones share it).
#[derive(Clone)]
pub struct Engine {
    inner: Rc<Inner>,
}

struct Waiting {
    id: u32,
    recording: Recording,
    answer: Answer,
}

struct InFlight {
    id: u32,
    answer: Answer,
    timer: i32,
    /// The timeout's callback, dropped once the timer is cleared or has fired.
    _on_timeout: Closure<dyn FnMut()>,
}

struct Inner {
    /// The worker's script, and how long it may take per recording.
    url: String,
    timeout_ms: i32,
    worker: RefCell<Option<Worker>>,
    ready: Cell<bool>,
    failed: RefCell<Option<AppError>>,
    crashes: Cell<u32>,
    next_id: Cell<u32>,
    waiting: RefCell<VecDeque<Waiting>>,
    in_flight: RefCell<Option<InFlight>>,
    on_state: Box<dyn Fn(EngineState)>,
    /// Event handlers of this and earlier workers. Never dropped: a crashed worker's handler
    /// may be the one running when its replacement is spawned (at most a few per page).
    handlers: RefCell<Vec<Handler>>,
}

impl Engine {
    /// Starts the worker; `on_state` hears when it is ready or has failed.
    pub fn start(on_state: impl Fn(EngineState) + 'static) -> Self {
        Self::with_worker(WORKER_URL, TIMEOUT_MS, on_state)
    }

    /// Starts the worker at `url`, allowing it `timeout_ms` per recording.
    fn with_worker(url: &str, timeout_ms: i32, on_state: impl Fn(EngineState) + 'static) -> Self {
        let inner = Rc::new(Inner {
            url: url.to_owned(),
            timeout_ms,
            worker: RefCell::new(None),
            ready: Cell::new(false),
            failed: RefCell::new(None),
            crashes: Cell::new(0),
            next_id: Cell::new(1),
            waiting: RefCell::new(VecDeque::new()),
            in_flight: RefCell::new(None),
            on_state: Box::new(on_state),
            handlers: RefCell::new(Vec::new()),
        });
        spawn(&inner);
        Self { inner }
    }

    /// Analyses one recording in the worker, after those handed over before it.
    pub async fn analyze(&self, recording: Recording) -> Result<Outcome, AppError> {
        if let Some(e) = self.inner.failed.borrow().clone() {
            return Err(e);
        }
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id.wrapping_add(1));
        let (answer, answered) = oneshot::channel();
        self.inner.waiting.borrow_mut().push_back(Waiting {
            id,
            recording,
            answer,
        });
        pump(&self.inner);
        answered
            .await
            .unwrap_or_else(|_| Err(AppError::Engine("the request was dropped".into())))
    }
}

/// Sends the next waiting request when the worker is ready and idle.
fn pump(inner: &Rc<Inner>) {
    while inner.ready.get() && inner.in_flight.borrow().is_none() {
        let Some(next) = inner.waiting.borrow_mut().pop_front() else {
            return;
        };
        let (format, audio) = next.recording.parts();
        let request = Request::Analyze {
            id: next.id,
            audio: format,
        };
        let sent = envelope::seal(&request, Some(&audio), Form::Text)
            .map_err(|e| e.to_string())
            .and_then(|(message, transfer)| match inner.worker.borrow().as_ref() {
                Some(worker) => worker
                    .post_message_with_transfer(&message, &transfer)
                    .map_err(|e| describe(&e)),
                None => Err("no worker".to_owned()),
            });
        match sent {
            Ok(()) => {
                let weak = Rc::downgrade(inner);
                let id = next.id;
                let on_timeout = Closure::<dyn FnMut()>::new(move || {
                    if let Some(inner) = weak.upgrade() {
                        timed_out(&inner, id);
                    }
                });
                let timer = web_sys::window()
                    .and_then(|w| {
                        w.set_timeout_with_callback_and_timeout_and_arguments_0(
                            on_timeout.as_ref().unchecked_ref(),
                            inner.timeout_ms,
                        )
                        .ok()
                    })
                    .unwrap_or(0);
                *inner.in_flight.borrow_mut() = Some(InFlight {
                    id,
                    answer: next.answer,
                    timer,
                    _on_timeout: on_timeout,
                });
            }
            Err(reason) => {
                let _ = next.answer.send(Err(AppError::Engine(reason)));
            }
        }
    }
}

/// Answers the request in the worker (if it is `id`, or any when `id` is `None`) and sends the
/// next one.
fn settle(inner: &Rc<Inner>, id: Option<u32>, result: Result<Outcome, AppError>) {
    let done = {
        let mut in_flight = inner.in_flight.borrow_mut();
        match in_flight.as_ref() {
            Some(current) if id.is_none_or(|id| id == current.id) => in_flight.take(),
            _ => None,
        }
    };
    if let Some(done) = done {
        if let Some(window) = web_sys::window() {
            window.clear_timeout_with_handle(done.timer);
        }
        let _ = done.answer.send(result);
    }
    pump(inner);
}

fn spawn(inner: &Rc<Inner>) {
    let worker = match Worker::new(&inner.url) {
        Ok(worker) => worker,
        Err(e) => return fail(inner, AppError::Engine(describe(&e))),
    };
    let weak = Rc::downgrade(inner);
    let on_message = Handler::new(move |event: JsValue| {
        if let (Some(inner), Ok(event)) = (weak.upgrade(), event.dyn_into::<MessageEvent>()) {
            receive(&inner, &event.data());
        }
    });
    let weak: Weak<Inner> = Rc::downgrade(inner);
    let on_error = Handler::new(move |event: JsValue| {
        let message = event
            .dyn_ref::<ErrorEvent>()
            .map(|e| e.message())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "the worker script could not be loaded".to_owned());
        if let Some(inner) = weak.upgrade() {
            crashed(&inner, &message);
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    inner.handlers.borrow_mut().extend([on_message, on_error]);
    *inner.worker.borrow_mut() = Some(worker);
    (inner.on_state)(EngineState::Starting);
}

fn receive(inner: &Rc<Inner>, data: &JsValue) {
    let opened = match envelope::open::<Reply>(data) {
        Ok(opened) => opened,
        Err(EnvelopeError::NotOurs) => return,
        // The worker answers in order, so an unreadable reply is the one in flight's.
        Err(e) => {
            let message = format!("the analysis engine's answer could not be read ({e})");
            return settle(inner, None, Err(AppError::Analysis(message)));
        }
    };
    match opened.message {
        Reply::Ready {
            model,
            model_load_ms,
        } => {
            inner.ready.set(true);
            (inner.on_state)(EngineState::Ready {
                model,
                model_load_ms,
            });
            pump(inner);
        }
        Reply::Result { id, analysis } => {
            inner.crashes.set(0);
            let playback = opened.audio.and_then(|a| a.dyn_into::<Uint8Array>().ok());
            let outcome = Outcome {
                analysis: *analysis,
                playback,
            };
            settle(inner, Some(id), Ok(outcome));
        }
        Reply::Error { id, message } => {
            inner.crashes.set(0);
            settle(inner, Some(id), Err(AppError::Analysis(message)));
        }
        Reply::Fatal { message } => fail(inner, AppError::Engine(message)),
    }
}

/// The worker spent too long on a recording: stop it, as if it had crashed on it.
fn timed_out(inner: &Rc<Inner>, id: u32) {
    if inner.in_flight.borrow().as_ref().map(|f| f.id) == Some(id) {
        let seconds = f64::from(inner.timeout_ms) / 1000.0;
        crashed(
            inner,
            &format!("it took longer than {seconds} s and was stopped"),
        );
    }
}

/// The worker died: fail the request it held, start a new one for the others.
fn crashed(inner: &Rc<Inner>, reason: &str) {
    if let Some(worker) = inner.worker.borrow_mut().take() {
        worker.terminate();
    }
    inner.ready.set(false);
    let crashes = inner.crashes.get() + 1;
    inner.crashes.set(crashes);
    let message =
        format!("the analysis failed on this recording ({reason}); the next recordings go on");
    settle(inner, None, Err(AppError::Analysis(message)));
    if crashes > MAX_CRASHES {
        fail(inner, AppError::Engine(reason.to_owned()));
    } else {
        spawn(inner);
    }
}

/// Nothing can be analysed any more: say so to everyone waiting and to the page.
fn fail(inner: &Rc<Inner>, error: AppError) {
    *inner.failed.borrow_mut() = Some(error.clone());
    inner.ready.set(false);
    settle(inner, None, Err(error.clone()));
    let waiting: Vec<Waiting> = inner.waiting.borrow_mut().drain(..).collect();
    for request in waiting {
        let _ = request.answer.send(Err(error.clone()));
    }
    (inner.on_state)(EngineState::Failed(error));
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::future::join_all;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A stand-in worker that speaks the protocol and misbehaves on cue: the first byte of each
    /// recording says what to do (0: answer, 1: crash, 2: garble the reply, 3: never answer).
    const FAKE_WORKER: &str = r#"
        const send = (message) => postMessage({ heartbeat: JSON.stringify(message) });
        send({ type: 'ready', model: { name: 'fake', version: '0', trained: true }, model_load_ms: 1 });
        onmessage = (event) => {
            const request = JSON.parse(event.data.heartbeat);
            const cue = new Uint8Array(event.data.audio)[0];
            if (cue === 1) throw new Error('boom');
            if (cue === 2) return postMessage({ heartbeat: '{"type": "resu' });
            if (cue === 3) return;
            send({ type: 'error', id: request.id, message: `answered ${request.id}` });
        };
    "#;

    fn fake_worker_url() -> String {
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/javascript");
        let parts = js_sys::Array::of1(&JsValue::from_str(FAKE_WORKER));
        let blob =
            web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).expect("blob");
        web_sys::Url::create_object_url_with_blob(&blob).expect("url")
    }

    fn cue(byte: u8) -> Recording {
        Recording::Encoded(Uint8Array::from([byte].as_slice()))
    }

    /// Each request's answer in words: what the fake worker said, or the engine's error.
    async fn answers(engine: &Engine, cues: &[u8]) -> Vec<String> {
        let requests = cues.iter().map(|&c| engine.analyze(cue(c)));
        join_all(requests)
            .await
            .into_iter()
            .map(|answer| match answer {
                Ok(_) => "a result".to_owned(),
                Err(e) => e.to_string(),
            })
            .collect()
    }

    #[test]
    async fn every_request_is_answered_once_in_order_through_crashes_garbles_and_hangs() {
        let engine = Engine::with_worker(&fake_worker_url(), 300, |_| {});
        let said = answers(&engine, &[0, 1, 0, 2, 0, 3, 0]).await;
        assert_eq!(said[0], "answered 1");
        assert!(
            said[1].contains("boom") && said[1].contains("next recordings go on"),
            "{}",
            said[1]
        );
        // A fresh worker took the rest, in order.
        assert_eq!(said[2], "answered 3");
        assert!(said[3].contains("could not be read"), "{}", said[3]);
        assert_eq!(said[4], "answered 5");
        assert!(said[5].contains("longer than 0.3 s"), "{}", said[5]);
        assert_eq!(said[6], "answered 7");
    }

    #[test]
    async fn answers_restore_the_crash_budget_and_crashes_in_a_row_exhaust_it() {
        let states = Rc::new(RefCell::new(Vec::new()));
        let seen = states.clone();
        let engine = Engine::with_worker(&fake_worker_url(), 5_000, move |state| {
            seen.borrow_mut().push(state)
        });
        // Twice the budget in crashes, each followed by an answer: the engine carries on.
        let cues: Vec<u8> = (0..2 * MAX_CRASHES).flat_map(|_| [1, 0]).collect();
        let said = answers(&engine, &cues).await;
        assert!(
            said.iter()
                .skip(1)
                .step_by(2)
                .all(|s| s.starts_with("answered")),
            "{said:?}"
        );
        // Crashes with nothing answered between them: a broken build, said once and for all.
        let crashes = vec![1; MAX_CRASHES as usize + 1];
        let said = answers(&engine, &crashes).await;
        assert!(said.iter().all(|s| s.contains("boom")), "{said:?}");
        assert!(matches!(
            states.borrow().last(),
            Some(EngineState::Failed(_))
        ));
        let after = engine
            .analyze(cue(0))
            .await
            .expect_err("the engine gave up");
        assert!(after.to_string().contains("reload the page"), "{after}");
    }
}
