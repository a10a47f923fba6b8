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
use crate::history::History;
use crate::route::Route;

/// A message at the top of the page: what just happened, or what went wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Something worked (an import, say).
    Info(String),
    /// Something failed; the page stays usable.
    Error(AppError),
}

/// Everything the pages share. Copyable handles, provided as context.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The files picked in this session, in pick order.
    pub jobs: RwSignal<Vec<Job>>,
    /// The job whose result is shown on the Analyse page.
    pub selected: RwSignal<Option<u32>>,
    /// Past analyses, as stored in this browser.
    pub history: RwSignal<History>,
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

    /// Saves the history, telling the user if the browser refuses; the on-screen state is kept.
    pub fn save_history(&self) {
        if let Err(e) = self.history.with_untracked(browser::save_history) {
            self.tell(Notice::Error(e));
        }
    }
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let engine_state = RwSignal::new(EngineState::Starting);
    let load_times = RwSignal::new(browser::model_load_times());
    let notice = RwSignal::new(None);
    let history = match browser::load_history() {
        Ok(history) => history,
        Err(e) => {
            notice.set(Some(Notice::Error(e)));
            History::default()
        }
    };
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
        history: RwSignal::new(history),
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
