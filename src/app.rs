//! The page: what HeartBeat is, which model it runs, and the recording picker with its result.

use heartbeat_core::quality::Verdict;
use heartbeat_core::{Label, ModelCard, Report};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::HtmlInputElement;

use crate::analysis::{self, format, FileError};
use crate::browser;

/// Where the analysis of the most recently picked file stands.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    /// Nothing picked yet.
    Idle,
    /// Reading or analysing this file.
    Working(String),
    /// Finished, with a report or the reason there is none.
    Done(Result<(String, Report), FileError>),
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    // Parsing the card is cheap; the model itself loads on the first analysis.
    let card = analysis::bundled_card();
    let min_seconds = card
        .as_ref()
        .map(|c| c.features.window_seconds())
        .unwrap_or(4.0);
    view! {
        <header class="masthead">
            <h1>"HeartBeat"</h1>
            <p class="tagline">"Heart-sound screening that runs entirely in your browser."</p>
        </header>
        <main>
            <Disclaimer/>
            <ModelInfo card/>
            <Analyse min_seconds/>
        </main>
    }
}

/// What the app is and is not.
#[component]
fn Disclaimer() -> impl IntoView {
    view! {
        <section class="disclaimer" aria-label="About this tool">
            <p>
                <strong>"HeartBeat is a screening aid, not a diagnosis."</strong>
                " It flags recordings that may contain abnormal heart sounds so that a clinician can "
                "examine the patient. A “normal” result does not rule out heart disease."
            </p>
            <p>"Your recording never leaves this device: it is analysed inside this page."</p>
        </section>
    }
}

/// The bundled model's identity, and a loud warning when it is the untrained placeholder.
#[component]
fn ModelInfo(card: Result<ModelCard, heartbeat_core::Error>) -> impl IntoView {
    match card {
        Ok(card) => view! { <ModelCardView card/> }.into_any(),
        Err(e) => view! {
            <div class="banner banner-error" role="alert">
                "The bundled model cannot be used, so no recording can be analysed: " {e.to_string()}
            </div>
        }
        .into_any(),
    }
}

#[component]
fn ModelCardView(card: ModelCard) -> impl IntoView {
    let untrained = (!card.trained).then(|| {
        view! {
            <div class="banner banner-warning" role="alert" data-testid="untrained-warning">
                <strong>"Untrained model."</strong>
                " This build ships a randomly initialised placeholder model: its results are "
                "meaningless. Do not use them for any decision about a patient."
            </div>
        }
    });
    view! {
        {untrained}
        <p class="model" data-testid="model">
            "Model: " <span class="model-name">{card.name}</span> " " <span class="model-version">{card.version}</span>
            {format!(" (decision threshold {})", format::percent(card.threshold))}
        </p>
    }
}

/// The file picker and what became of the last picked file.
#[component]
fn Analyse(
    /// The shortest recording the model can judge (s).
    min_seconds: f32,
) -> impl IntoView {
    let status = RwSignal::new(Status::Idle);
    // Counts picks, so a slow read of an earlier file cannot overwrite a later file's result.
    let picks = StoredValue::new(0u64);

    let on_change = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        // Clearing the input lets the same file be picked again (after re-exporting it, say).
        input.set_value("");
        let name = file.name();
        let pick = picks.with_value(|n| n + 1);
        picks.set_value(pick);
        status.set(Status::Working(name.clone()));
        spawn_local(async move {
            let result = match browser::read_file(&file).await {
                Ok(bytes) => {
                    browser::after_next_paint().await;
                    analysis::analyze_bytes(&bytes)
                }
                Err(e) => Err(e),
            };
            if picks.get_value() == pick {
                status.set(Status::Done(
                    result
                        .map(|report| (name.clone(), report))
                        .map_err(|error| FileError { file: name, error }),
                ));
            }
        });
    };

    let working = move || match status.get() {
        Status::Working(name) => Some(view! {
            <p class="working" data-testid="working">"Analysing “" {name} "”…"</p>
        }),
        _ => None,
    };
    let outcome = move || match status.get() {
        Status::Done(result) => {
            Some(result.map(|(name, report)| view! { <ReportView name report/> }))
        }
        _ => None,
    };

    view! {
        <section class="analyse">
            <h2>"Analyse a recording"</h2>
            <label class="picker" for="recording">"Choose a heart-sound recording (WAV)"</label>
            <input id="recording" type="file" accept=".wav,audio/wav,audio/x-wav,audio/wave" on:change=on_change/>
            <p class="hint">
                {format!(
                    "A recording of at least {min_seconds:.0} seconds from a digital stethoscope or a \
                     phone held against the chest. FLAC, MP3 and OGG support in the browser is \
                     coming; convert those to WAV for now.",
                )}
            </p>
            <div class="outcome" aria-live="polite">
                {working}
                <ErrorBoundary fallback=|errors| {
                    view! {
                        <div class="banner banner-error" role="alert" data-testid="error">
                            <ul>
                                {move || {
                                    errors
                                        .get()
                                        .into_iter()
                                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                        .collect_view()
                                }}
                            </ul>
                            <p>"Choose another file to try again."</p>
                        </div>
                    }
                }>{outcome}</ErrorBoundary>
            </div>
        </section>
    }
}

/// One recording's report.
#[component]
fn ReportView(name: String, report: Report) -> impl IntoView {
    let label_class = match report.label {
        Label::Normal => "label label-normal",
        Label::Abnormal => "label label-abnormal",
    };
    let (quality_class, reasons) = match report.quality.verdict {
        Verdict::Good => ("quality-good", Vec::new()),
        Verdict::Poor => ("quality-poor", report.quality.reasons.clone()),
    };
    let untrained = (!report.model.trained).then(|| {
        view! {
            <p class="banner banner-warning">
                "Produced by the untrained placeholder model: this label is meaningless."
            </p>
        }
    });
    view! {
        <article class="report" data-testid="report" data-label=format::label(report.label).to_lowercase()>
            <h3>"Result for “" {name} "”"</h3>
            {untrained}
            <p class=label_class data-testid="label">{format::label(report.label)}</p>
            <p class="advice">{format::advice(report.label)}</p>
            <dl>
                <dt>"Probability of abnormal"</dt>
                <dd data-testid="probability">{format::percent(report.probability_abnormal)}</dd>
                <dt>"Decision threshold"</dt>
                <dd>{format::percent(report.threshold)}</dd>
                <dt>"Heart rate"</dt>
                <dd data-testid="heart-rate">{format::heart_rate(report.heart_rate_bpm)}</dd>
                <dt>"Recording quality"</dt>
                <dd class=quality_class data-testid="quality">{format::quality(report.quality.verdict)}</dd>
                <dt>"Duration"</dt>
                <dd data-testid="duration">{format::seconds(report.duration_s)}</dd>
            </dl>
            <ul class="reasons">{reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
            <p class="model-used">{format!("Model {} {}", report.model.name, report.model.version)}</p>
        </article>
    }
}
