//! The page's side of the worker [`protocol`](heartbeat_worker::protocol): start the analysis
//! worker, send it recordings, and match its replies to the requests that are waiting for them.
//!
//! If the worker dies (a crash on one hostile file, say), the request in flight fails with a
//! message and a fresh worker is started for the rest of the batch: one bad file never stops it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use futures_channel::oneshot;
use heartbeat_core::report::ModelInfo;
use heartbeat_worker::protocol::{Analysis, Input, Reply};
use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array, JSON};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::browser::describe;
use crate::error::AppError;

/// The worker's loader, written by Trunk next to index.html (`data-loader-shim`). Relative, so
/// the app works under any sub-path.
const WORKER_URL: &str = "./heartbeat-worker_loader.js";
/// Crashes tolerated before the engine gives up (a crash on every file means a broken build).
const MAX_RESTARTS: u32 = 3;

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

/// A finished analysis as the page receives it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The analysis.
    pub analysis: Analysis,
    /// A WAV the browser can play, when it cannot play the original (rate below 8 kHz).
    pub playback: Option<Uint8Array>,
}

type Waiting = oneshot::Sender<Result<Outcome, AppError>>;
type Handler = Closure<dyn Fn(JsValue)>;

/// A running analysis worker (a cheap handle: clones share it).
#[derive(Clone)]
pub struct Engine {
    inner: Rc<Inner>,
}

struct Inner {
    worker: RefCell<Option<Worker>>,
    ready: Cell<bool>,
    failed: RefCell<Option<AppError>>,
    restarts: Cell<u32>,
    next_id: Cell<u32>,
    /// Requests made before the worker was ready, sent when it is.
    backlog: RefCell<Vec<(Object, Array)>>,
    waiting: RefCell<HashMap<u32, Waiting>>,
    on_state: Box<dyn Fn(EngineState)>,
    /// Event handlers of this and earlier workers. Never dropped: a crashed worker's handler
    /// may be the one running when its replacement is spawned (at most a few per page).
    handlers: RefCell<Vec<Handler>>,
}

impl Engine {
    /// Starts the worker; `on_state` hears when it is ready or has failed.
    pub fn start(on_state: impl Fn(EngineState) + 'static) -> Self {
        let inner = Rc::new(Inner {
            worker: RefCell::new(None),
            ready: Cell::new(false),
            failed: RefCell::new(None),
            restarts: Cell::new(0),
            next_id: Cell::new(1),
            backlog: RefCell::new(Vec::new()),
            waiting: RefCell::new(HashMap::new()),
            on_state: Box::new(on_state),
            handlers: RefCell::new(Vec::new()),
        });
        spawn(&inner);
        Self { inner }
    }

    /// Analyses one recording in the worker.
    pub async fn analyze(&self, input: Input) -> Result<Outcome, AppError> {
        if let Some(e) = self.inner.failed.borrow().clone() {
            return Err(e);
        }
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id.wrapping_add(1));
        let (tx, rx) = oneshot::channel();
        self.inner.waiting.borrow_mut().insert(id, tx);
        let (message, transfer) = request(id, input);
        if self.inner.ready.get() {
            post(&self.inner, &message, &transfer);
        } else {
            self.inner.backlog.borrow_mut().push((message, transfer));
        }
        rx.await
            .unwrap_or_else(|_| Err(AppError::Engine("the request was dropped".into())))
    }
}

/// Builds an `analyze` message; the audio's buffer is transferred, not copied.
fn request(id: u32, input: Input) -> (Object, Array) {
    let message = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&message, &JsValue::from_str(k), v);
    };
    set("type", &"analyze".into());
    set("id", &JsValue::from(id));
    let buffer = match input {
        Input::Encoded(bytes) => {
            let array = Uint8Array::from(bytes.as_slice());
            set("bytes", &array);
            array.buffer()
        }
        Input::Samples {
            samples,
            sample_rate,
        } => {
            let array = Float32Array::from(samples.as_slice());
            set("samples", &array);
            set("sampleRate", &JsValue::from(sample_rate));
            array.buffer()
        }
    };
    (message, Array::of1(&buffer))
}

fn post(inner: &Inner, message: &Object, transfer: &Array) {
    let result = match inner.worker.borrow().as_ref() {
        Some(worker) => worker.post_message_with_transfer(message, transfer),
        None => Err(JsValue::from_str("no worker")),
    };
    if let Err(e) = result {
        let id = Reflect::get(message, &"id".into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(-1.0) as u32;
        settle(inner, id, Err(AppError::Engine(describe(&e))));
    }
}

fn settle(inner: &Inner, id: u32, result: Result<Outcome, AppError>) {
    if let Some(tx) = inner.waiting.borrow_mut().remove(&id) {
        let _ = tx.send(result);
    }
}

fn spawn(inner: &Rc<Inner>) {
    let worker = match Worker::new(WORKER_URL) {
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
            crashed(&inner, message);
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    inner.handlers.borrow_mut().extend([on_message, on_error]);
    *inner.worker.borrow_mut() = Some(worker);
    (inner.on_state)(EngineState::Starting);
}

fn receive(inner: &Rc<Inner>, data: &JsValue) {
    // The playable copy is bytes, not JSON: take it off before reading the rest.
    let playback = Reflect::get(data, &"playback".into())
        .ok()
        .and_then(|v| v.dyn_into::<Uint8Array>().ok());
    if playback.is_some() {
        let _ = Reflect::delete_property(data.unchecked_ref::<Object>(), &"playback".into());
    }
    let reply = JSON::stringify(data)
        .ok()
        .and_then(|json| json.as_string())
        .and_then(|json| serde_json::from_str::<Reply>(&json).ok());
    match reply {
        Some(Reply::Ready {
            model,
            model_load_ms,
        }) => {
            inner.ready.set(true);
            (inner.on_state)(EngineState::Ready {
                model,
                model_load_ms,
            });
            let backlog = std::mem::take(&mut *inner.backlog.borrow_mut());
            for (message, transfer) in backlog {
                post(inner, &message, &transfer);
            }
        }
        Some(Reply::Result { id, analysis }) => settle(
            inner,
            id,
            Ok(Outcome {
                analysis: *analysis,
                playback,
            }),
        ),
        Some(Reply::Error { id, message }) => settle(inner, id, Err(AppError::Analysis(message))),
        Some(Reply::Fatal { message }) => fail(inner, AppError::Engine(message)),
        None => {} // Not a reply of ours; nothing is waiting for it.
    }
}

/// The worker died: fail what it held, start a new one for whatever comes next.
fn crashed(inner: &Rc<Inner>, message: String) {
    if let Some(worker) = inner.worker.borrow_mut().take() {
        worker.terminate();
    }
    inner.ready.set(false);
    let held: Vec<Waiting> = {
        let backlog_ids: Vec<u32> = inner
            .backlog
            .borrow()
            .iter()
            .filter_map(|(m, _)| Reflect::get(m, &"id".into()).ok()?.as_f64())
            .map(|id| id as u32)
            .collect();
        let mut waiting = inner.waiting.borrow_mut();
        let in_flight: Vec<u32> = waiting
            .keys()
            .copied()
            .filter(|id| !backlog_ids.contains(id))
            .collect();
        in_flight
            .iter()
            .filter_map(|id| waiting.remove(id))
            .collect()
    };
    for tx in held {
        let _ = tx.send(Err(AppError::Analysis(format!(
            "the analysis crashed on this recording ({message}); the next files go on"
        ))));
    }
    let restarts = inner.restarts.get() + 1;
    inner.restarts.set(restarts);
    if restarts > MAX_RESTARTS {
        fail(inner, AppError::Engine(message));
    } else {
        spawn(inner);
    }
}

/// Nothing can be analysed any more: say so to everyone waiting and to the page.
fn fail(inner: &Inner, error: AppError) {
    *inner.failed.borrow_mut() = Some(error.clone());
    inner.backlog.borrow_mut().clear();
    let waiting: Vec<Waiting> = inner
        .waiting
        .borrow_mut()
        .drain()
        .map(|(_, tx)| tx)
        .collect();
    for tx in waiting {
        let _ = tx.send(Err(error.clone()));
    }
    (inner.on_state)(EngineState::Failed(error));
}
