//! The single-page app: shared state, navigation between the pages, and what every page shows
//! (the masthead, notices, the "screening aid, not a diagnosis" statement).

mod analyse;
mod analytics;
mod chart;
mod embed;
mod history;
mod model;
mod offline;
mod record;
mod report;
mod result;

use std::collections::{HashMap, VecDeque};

use leptos::prelude::*;

use heartbeat_core::ModelCard;

use crate::batch::Job;
use crate::browser;
use crate::card::{self, CardView};
use crate::embed::EmbedOptions;
use crate::engine::{Engine, EngineState};
use crate::error::AppError;
use crate::format;
use crate::history::{Entry, Index, Saved};
use crate::route::Route;
use crate::store::{self, Store};

/// A message at the top of the page: what just happened, or what went wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Something worked (an import, say).
    Info(String),
    /// Something failed; the page stays usable.
    Error(AppError),
}

/// Where this browser's history stands.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryState {
    /// Being opened (and, on the first start, moved from localStorage).
    Opening,
    /// Open: [`AppState::history`] lists it.
    Open,
    /// The browser refuses to keep it: results are shown, not saved.
    Unavailable(AppError),
    /// Embedded in a portal that did not ask for a history: none is kept.
    Off,
}

impl HistoryState {
    /// The state as the page's `data-history` attribute spells it.
    fn as_str(&self) -> &'static str {
        match self {
            HistoryState::Opening => "opening",
            HistoryState::Open => "open",
            HistoryState::Unavailable(_) => "unavailable",
            HistoryState::Off => "off",
        }
    }
}

/// Everything the pages share. Copyable handles, provided as context.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The files picked in this session, in pick order.
    pub jobs: RwSignal<Vec<Job>>,
    /// The job whose result is shown on the Analyse page.
    pub selected: RwSignal<Option<u32>>,
    /// Past analyses kept in this browser: their summaries (the entries with their charts' data
    /// stay in storage until opened).
    pub history: RwSignal<Index>,
    /// Whether the history is open.
    pub history_state: RwSignal<HistoryState>,
    /// Whether each finished job's result went into the history, by job id.
    pub saved: RwSignal<HashMap<u32, Saved>>,
    /// Where the history is stored; `None` when none is kept.
    store: StoredValue<Option<Store>, LocalStorage>,
    /// Whether the worker can analyse.
    pub engine_state: RwSignal<EngineState>,
    /// Model load times measured in this browser (ms, oldest first).
    pub load_times: RwSignal<Vec<f64>>,
    /// The message at the top of the page.
    pub notice: RwSignal<Option<Notice>>,
    /// Playable URLs of this session's files, by job id (audio is never stored).
    pub audio: StoredValue<HashMap<u32, String>>,
    /// Files waiting for the worker.
    queue: StoredValue<VecDeque<analyse::Pick>, LocalStorage>,
    /// True while the queue is being worked through.
    busy: StoredValue<bool>,
    engine: StoredValue<Engine, LocalStorage>,
    /// The bundled model card, or why it cannot be read.
    pub card: StoredValue<Result<(ModelCard, CardView), String>>,
    /// How the app runs inside a portal's iframe (`?embed=1`); `None` when it is not embedded.
    pub embed: Option<EmbedOptions>,
}

impl AppState {
    /// Shows a notice, replacing the previous one.
    pub fn tell(&self, notice: Notice) {
        self.notice.set(Some(notice));
    }

    /// Whether results go into this browser's history: always, except embedded in a portal
    /// that did not ask for it (`?embed=1&history=1`).
    pub fn keeps_history(&self) -> bool {
        self.embed.is_none_or(|options| options.history)
    }

    /// Where the history is stored, when one is kept.
    pub fn store(&self) -> Option<Store> {
        self.store.get_value()
    }

    /// Adds a result to the history: one small write, however long the history. Returns
    /// whether it was saved; when not, the user has been told why and how to make room, and
    /// nothing stored before is lost.
    pub async fn keep(&self, entry: Entry) -> bool {
        let Some(store) = self.store() else {
            return false;
        };
        match store.add(std::slice::from_ref(&entry)).await {
            Ok(()) => {
                self.history.update(|h| h.add(entry.summary()));
                store::ask_to_persist();
                true
            }
            Err(e) => {
                self.tell(Notice::Error(e));
                false
            }
        }
    }
}

/// Opens the history: moves an earlier build's localStorage history in, then lists it. Marks
/// `hb:history-open` and measures `hb:history-load` (and `hb:history-migrate` when there was
/// one to move) for the benchmark; `<html data-history>` says where it stands.
async fn open_history(state: AppState, store: Store) {
    let performance = web_sys::window().and_then(|w| w.performance());
    if let Some(p) = &performance {
        let _ = p.mark("hb:history-open");
    }
    match store.migrate().await {
        Ok(0) => {}
        Ok(_) => {
            if let Some(p) = &performance {
                let _ = p.measure_with_start_mark("hb:history-migrate", "hb:history-open");
            }
        }
        Err(e) => state.tell(Notice::Error(e)),
    }
    let opened = match store.index().await {
        Ok(stored) => {
            // Results saved while it opened are in `stored` too, or about to be: keep both.
            state.history.update(|h| {
                let added = std::mem::replace(h, stored);
                h.extend(added.summaries().iter().cloned());
            });
            HistoryState::Open
        }
        Err(e) => {
            state.tell(Notice::Error(e.clone()));
            HistoryState::Unavailable(e)
        }
    };
    if let Some(p) = &performance {
        let _ = p.measure_with_start_mark("hb:history-load", "hb:history-open");
    }
    mark_history(&opened);
    state.history_state.set(opened);
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let engine_state = RwSignal::new(EngineState::Starting);
    let load_times = RwSignal::new(browser::model_load_times());
    let notice = RwSignal::new(None);
    let engine = Engine::start(move |state| {
        if let EngineState::Ready { model_load_ms, .. } = &state {
            load_times.set(browser::record_model_load(*model_load_ms));
            mark_ready();
        }
        engine_state.set(state);
    });
    let state = AppState {
        jobs: RwSignal::new(Vec::new()),
        selected: RwSignal::new(None),
        history: RwSignal::new(Index::default()),
        history_state: RwSignal::new(HistoryState::Opening),
        saved: RwSignal::new(HashMap::new()),
        store: StoredValue::new_local(None),
        engine_state,
        load_times,
        notice,
        audio: StoredValue::new(HashMap::new()),
        queue: StoredValue::new_local(VecDeque::new()),
        busy: StoredValue::new(false),
        engine: StoredValue::new_local(engine),
        card: StoredValue::new(card::bundled()),
        embed: web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|query| EmbedOptions::from_query(&query)),
    };
    provide_context(state);
    if state.keeps_history() {
        let store = Store::open();
        state.store.set_value(Some(store.clone()));
        mark_history(&HistoryState::Opening);
        leptos::task::spawn_local(open_history(state, store));
    } else {
        mark_history(&HistoryState::Off);
        state.history_state.set(HistoryState::Off);
    }
    if let Some(options) = state.embed {
        mark_embedded(options);
        embed::start(state);
    }
    let show_nav = state.embed.is_none_or(|options| options.nav);

    let route = RwSignal::new(current_route());
    let listener = window_event_listener(leptos::ev::hashchange, move |_| {
        route.set(current_route());
    });
    on_cleanup(move || listener.remove());

    let page = move || match route.get() {
        Route::Analyse => view! { <analyse::AnalysePage/> }.into_any(),
        Route::History(id) => view! { <history::HistoryPage id/> }.into_any(),
        Route::Analytics => view! { <analytics::AnalyticsPage/> }.into_any(),
        Route::Model => view! { <model::ModelPage/> }.into_any(),
    };

    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="masthead">
            <div class="brand">
                <h1>"HeartBeat"</h1>
                <p class="tagline">"Heart-sound screening that runs entirely in your browser"</p>
            </div>
            <Show when=move || show_nav><Nav route/></Show>
        </header>
        <EngineStatus/>
        <offline::OfflineStatus/>
        <NoticeBanner/>
        <main id="main" tabindex="-1">{page}</main>
        <footer class="footer">
            <p>
                <strong>"A screening aid, not a diagnosis."</strong>
                " HeartBeat flags recordings that may contain abnormal heart sounds so that a "
                "clinician examines the patient; a “normal” result does not rule out heart disease."
            </p>
            <p>"Recordings never leave this device: they are analysed inside this page."</p>
        </footer>
    }
}

fn current_route() -> Route {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    Route::from_hash(&hash)
}

/// Tells scripts (tests, benchmarks, an embedding portal) that recordings can be analysed now.
fn mark_ready() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(root) = window.document().and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-ready", "true");
    }
    if let Some(performance) = window.performance() {
        let _ = performance.mark("hb:ready");
    }
}

/// Tells scripts (tests, benchmarks) where the history stands.
fn mark_history(history: &HistoryState) {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element());
    if let Some(root) = root {
        let _ = root.set_attribute("data-history", history.as_str());
    }
}

/// Lets the stylesheet lay the page out compactly inside a portal.
fn mark_embedded(options: EmbedOptions) {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element());
    if let Some(root) = root {
        let _ = root.set_attribute("data-embedded", if options.nav { "nav" } else { "compact" });
    }
}

#[component]
fn Nav(route: RwSignal<Route>) -> impl IntoView {
    let link = move |target: Route, text: &'static str| {
        let href = target.hash();
        let current = move || {
            let now = route.get();
            let same = std::mem::discriminant(&now) == std::mem::discriminant(&target);
            same.then_some("page")
        };
        view! { <a href=href aria-current=current>{text}</a> }
    };
    view! {
        <nav aria-label="Pages">
            {link(Route::Analyse, "Analyse")}
            {link(Route::History(None), "History")}
            {link(Route::Analytics, "Analytics")}
            {link(Route::Model, "Model")}
        </nav>
    }
}

/// Whether the model is loaded, in one line; loud when nothing can be analysed.
#[component]
fn EngineStatus() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        match state.engine_state.get() {
        EngineState::Starting => view! {
            <p class="engine" role="status">"Loading the screening model…"</p>
        }
        .into_any(),
        EngineState::Ready {
            model,
            model_load_ms,
        } => {
            let untrained = (!model.trained).then(|| {
                view! {
                    <strong class="untrained">
                        " Untrained placeholder model: its results are meaningless."
                    </strong>
                }
            });
            view! {
                <p class="engine" role="status" data-testid="engine">
                    {format!(
                        "Model {} {} ready (loaded in {}).",
                        model.name,
                        model.version,
                        format::millis(model_load_ms),
                    )}
                    {untrained}
                </p>
            }
            .into_any()
        }
        EngineState::Failed(e) => view! {
            <p class="banner banner-error" role="alert" data-testid="engine-failed">{e.to_string()}</p>
        }
        .into_any(),
    }
    }
}

#[component]
fn NoticeBanner() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        state.notice.get().map(|notice| {
            let (class, role, text) = match notice {
                Notice::Info(text) => ("banner banner-info", "status", text),
                Notice::Error(e) => ("banner banner-error", "alert", e.to_string()),
            };
            view! {
                <div class=class role=role data-testid="notice">
                    <span>{text}</span>
                    <button type="button" class="dismiss" aria-label="Dismiss message"
                        on:click=move |_| state.notice.set(None)>"×"</button>
                </div>
            }
        })
    }
}
